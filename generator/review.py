"""Review against what was published: no silent edits of published records.

`generator validate --against REF` compares every record with its version at
REF (the published branch: in a pull request the base branch, locally
``origin/main``). REF's data folder is read from git (``git archive``) into a
scratch folder and loaded by the same loader, so a field means the same on
both sides. Each rule yields errors with file, line and field like every other
problem; their codes start with ``review-`` so that reports list them apart.

The rules (records.md, "不得随意改变约定；依法变更须有依据"):

- a published commitment, arrears item or finding may not be deleted: a
  commitment is withdrawn with status 已撤回 and a ``withdrawal`` block, an
  arrears item with a row in ``arrears/withdrawals.csv``; a finding stays in
  the data (its display ends by the rules: objection 撤销, repair, period);
- a commitment's deadline, content or counterparty, an arrears item's amount,
  due date or creditor, or a finding's decision may change only with a new
  dated entry in the record's change log (``changes:`` in the YAML record,
  ``arrears/changes.csv`` for the ledger) naming that field; for a finding's
  decision a new objection outcome 更正 counts as the correction note;
- a published repayment may not disappear without such an entry (fields:
  repayments);
- a status may not move backwards (已兑现 → 履行中, 已清偿 → 部分清偿, a
  withdrawal undone) without such an entry (fields: status).

A change-log entry counts when it is new (not in the published version).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from generator.load import RawData, Table, load
from generator.problems import GeneratorError, Problem, sort_problems
from generator.schema import Package, load_package

#: The published branch when `--against` is given without a value.
DEFAULT_REF = "origin/main"
CODE_PREFIX = "review-"

#: Fields that may change only with a change-log entry, per kind of record.
GUARDED = {
    "commitments": ("deadline", "content", "counterparty"),
    "arrears": ("amount", "due_on", "creditor"),
    "findings": ("decision_authority", "decision_doc_no", "decision_decided_on", "decision_basis"),
}
#: The change log of each kind: (resource, its parent-id field).
CHANGE_LOGS = {
    "commitments": ("commitment_changes", "commitment_id"),
    "arrears": ("arrears_changes", "arrears_id"),
    "findings": ("finding_changes", "finding_id"),
}
#: Progress of a status: moving to a lower rank is moving backwards.
COMMITMENT_STATUS_RANK = {"履行中": 0, "部分兑现": 1, "已兑现": 2, "未兑现": 2, "依法变更": 2, "已终止": 2, "已撤回": 3}
ARREARS_STATUS_RANK = {"未清偿": 0, "部分清偿": 1, "已清偿": 2, "已撤回": 3}
_SPLIT = re.compile(r"[\s,，、;；/]+")
_KIND_TITLES = {"commitments": "承诺", "arrears": "账款", "findings": "失信记录"}


class ReviewError(GeneratorError):
    """The published version cannot be read (unknown ref, no git)."""

    exit_code = 2


# --- reading the published version -----------------------------------------------------


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--no-pager", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                          env={**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})


def ref_exists(data_dir: Path, ref: str) -> bool:
    try:
        return _git(Path(data_dir).resolve(), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0
    except OSError:
        return False


def published_data(data_dir: Path, ref: str, scratch: Path) -> Path | None:
    """Extract the data folder as it is at `ref` into `scratch`; None when it did not exist there."""
    data_dir = Path(data_dir).resolve()
    try:
        top = _git(data_dir, "rev-parse", "--show-toplevel")
    except OSError:
        raise ReviewError("没有找到 git 程序，无法与已发布的版本比对。") from None
    if top.returncode != 0:
        raise ReviewError(f"{data_dir} 不在 git 仓库中，无法与已发布的版本比对。")
    root = Path(top.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    if not ref_exists(data_dir, ref):
        hint = "（本地没有远程分支时，可用 --against main 指定已发布的分支）" if ref == DEFAULT_REF else ""
        raise ReviewError(f"找不到要比对的已发布版本“{ref}”{hint}。")
    try:
        prefix = data_dir.relative_to(root).as_posix()
    except ValueError:
        raise ReviewError("数据文件夹不在 git 仓库内，无法与已发布的版本比对。") from None
    prefix = "" if prefix == "." else prefix
    listing = _git(root, "ls-tree", "--name-only", f"{ref}^{{commit}}", "--", prefix or ".")
    if listing.returncode != 0 or not listing.stdout.strip():
        return None
    archive = _git(root, "archive", "--format=tar", f"{ref}^{{commit}}", "--", prefix or ".")
    if archive.returncode != 0:
        raise ReviewError(f"无法读取“{ref}”中的数据：{archive.stderr.decode('utf-8', 'replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        members = [m for m in tar.getmembers() if (m.isfile() or m.isdir()) and ".." not in Path(m.name).parts
                   and not m.name.startswith("/")]
        tar.extractall(scratch, members=members)  # noqa: S202 - regular files and folders of our own repository
    return scratch / prefix if prefix else scratch


# --- records as comparable texts ------------------------------------------------------------


@dataclass
class _Record:
    table: Table
    index: int

    def value(self, name: str) -> str | None:
        return _norm(self.table.resource.field(name).type, self.table.rows[self.index].get(name))

    def raw(self, name: str) -> str | None:
        value = self.table.rows[self.index].get(name)
        return value.strip() if isinstance(value, str) else None

    def where(self, name: str | None = None) -> tuple[str, int]:
        return self.table.where(self.index, name)


def _norm(kind: str, value) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if kind == "number":
        try:
            return format(Decimal(text).normalize(), "f")  # 120000 and 120000.00 are one amount
        except InvalidOperation:
            return text
    return text


def _records(raw: RawData, resource: str) -> dict[str, _Record]:
    table = raw.tables.get(resource)
    out: dict[str, _Record] = {}
    if table is None:
        return out
    for i, row in enumerate(table.rows):
        rid = row.get("id")
        if isinstance(rid, str) and rid.strip() and rid.strip() not in out:
            out[rid.strip()] = _Record(table, i)
    return out


def _children(raw: RawData, resource: str, parent_field: str) -> dict[str, list[_Record]]:
    table = raw.tables.get(resource)
    out: dict[str, list[_Record]] = {}
    if table is None:
        return out
    for i, row in enumerate(table.rows):
        parent = row.get(parent_field)
        if isinstance(parent, str) and parent.strip():
            out.setdefault(parent.strip(), []).append(_Record(table, i))
    return out


def _columns(table: Table | None) -> set[str]:
    """The fields a table's file had: a ledger read by column name may lack newer ones."""
    if table is None:
        return set()
    return set(table.columns) if table.columns is not None else set(table.resource.field_names)


def _shared(old: RawData, new: RawData, resource: str) -> set[str]:
    """The fields both versions of a table have: only those are compared."""
    return _columns(old.tables.get(resource)) & _columns(new.tables.get(resource))


def _row_key(record: _Record, skip: str, shared: set[str] | None = None) -> tuple:
    return tuple(record.value(f.name) for f in record.table.resource.fields
                 if f.name != skip and (shared is None or f.name in shared))


def field_tokens(package: Package, kind: str) -> dict[str, str]:
    """What staff may write in a change-log entry's `fields`: field names and Chinese titles → field name.

    Besides the record's own fields: `status` for every kind, and for a ledger its child
    tables by short name (repayments, plan) and title."""
    resource = package.resource(kind)
    tokens = {}
    for f in resource.fields:
        tokens[f.name] = f.name
        tokens[f.title] = f.name
        if len(f.yaml_path) > 1:
            tokens[".".join(f.yaml_path)] = f.name
    tokens.setdefault("status", "status")
    tokens.setdefault("状态", "status")
    for child in package.resources:
        parent_fk = [fk for fk in child.foreign_keys if fk.resource == kind]
        if child.name == CHANGE_LOGS[kind][0] or not parent_fk:
            continue
        short = child.name.removeprefix(kind.rstrip("s") + "_").removeprefix(kind + "_")
        for token in (short, child.name, child.title, *child.source.keys):
            tokens[token] = short
    return tokens


def parse_fields(text: str | None, tokens: dict[str, str]) -> tuple[set[str], list[str]]:
    """The field names an entry's `fields` cell covers, and the tokens that name no field."""
    covered, unknown = set(), []
    for token in _SPLIT.split(text or ""):
        if not token:
            continue
        if token in tokens:
            covered.add(tokens[token])
        else:
            unknown.append(token)
    return covered, unknown


def _new_entries(old: list[_Record], new: list[_Record], parent_field: str, shared: set[str] | None = None) -> list[_Record]:
    published = Counter(_row_key(r, parent_field, shared) for r in old)
    out = []
    for r in new:
        key = _row_key(r, parent_field, shared)
        if published[key]:
            published[key] -= 1
        else:
            out.append(r)
    return out


def _arrears_status(amount: str | None, repayments: list[_Record], withdrawn: bool) -> str | None:
    if withdrawn:
        return "已撤回"
    try:
        owed = Decimal(amount) if amount else None
        paid = sum((Decimal(r.value("amount") or "0") for r in repayments), Decimal(0))
    except InvalidOperation:
        return None
    if owed is None:
        return None
    return "已清偿" if paid >= owed else ("未清偿" if paid == 0 else "部分清偿")


# --- the rules ------------------------------------------------------------------------------------


def _shown(value: str | None, limit: int = 40) -> str:
    if value is None:
        return "（空）"
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit] + "……"


def _shown_pair(a: str | None, b: str | None, limit: int = 40) -> tuple[str, str]:
    """Both values as staff read them in a message: a long text from a little before where they differ."""
    if a is None or b is None:
        return _shown(a, limit), _shown(b, limit)
    a, b = " ".join(a.split()), " ".join(b.split())
    same = 0
    while same < min(len(a), len(b)) and a[same] == b[same]:
        same += 1
    start = max(0, same - 10) if max(len(a), len(b)) > limit else 0

    def cut(text: str) -> str:
        part = text[start:start + limit]
        return ("……" if start else "") + part + ("……" if start + limit < len(text) else "")

    return cut(a), cut(b)


def _log_hint(kind: str, names: str) -> str:
    if kind == "arrears":
        return (f"依法变更的，请在 arrears/changes.csv 中新增一行：arrears_id、date、fields（{names}）、"
                "what（改了什么）、reason（原因）、basis（法定依据）、document（批准文件）")
    return (f"依法变更的，请在本记录的 changes: 下新增一项：date、fields（{names}）、what（改了什么）、"
            "reason（原因）、basis（法定依据）、document（批准文件）；录入错误的更正同样须写明")


def review_raw(old: RawData, new: RawData, package: Package | None = None) -> list[Problem]:
    """Every review problem of `new` against the published `old` (both loaded by the loader)."""
    package = package or load_package()
    problems: list[Problem] = []
    for kind in ("commitments", "arrears", "findings"):
        problems.extend(_review_kind(kind, old, new, package))
    return sort_problems(problems)


def _review_kind(kind: str, old: RawData, new: RawData, package: Package) -> Iterator[Problem]:
    resource = package.resource(kind)
    log_resource, log_parent = CHANGE_LOGS[kind]
    tokens = field_tokens(package, kind)
    old_records, new_records = _records(old, kind), _records(new, kind)
    old_logs, new_logs = _children(old, log_resource, log_parent), _children(new, log_resource, log_parent)
    noun = _KIND_TITLES[kind]
    shared = _shared(old, new, kind)  # a published ledger written under an older schema: its columns only
    log_shared = _shared(old, new, log_resource)

    # withdrawal of arrears, repayments (ledgers only)
    old_pay = _children(old, "arrears_repayments", "arrears_id") if kind == "arrears" else {}
    new_pay = _children(new, "arrears_repayments", "arrears_id") if kind == "arrears" else {}
    old_wd = _children(old, "arrears_withdrawals", "arrears_id") if kind == "arrears" else {}
    new_wd = _children(new, "arrears_withdrawals", "arrears_id") if kind == "arrears" else {}
    new_objections = _children(new, "finding_objections", "finding_id") if kind == "findings" else {}
    old_objections = _children(old, "finding_objections", "finding_id") if kind == "findings" else {}

    for rid, before in sorted(old_records.items()):
        after = new_records.get(rid)
        if after is None:
            file, line = before.where("id")
            if kind == "commitments":
                hint = "已发布的承诺不能删除：请恢复文件，把状态改为“已撤回”，并在 withdrawal: 下填写 date、reason（及 document）"
            elif kind == "arrears":
                hint = "已发布的账款不能删除：请恢复台账中的这一行，并在 arrears/withdrawals.csv 中登记撤回日期和原因"
            else:
                hint = ("失信记录不能删除：撤销请登记异议处理结果“撤销”，修复请登记信用修复结果；"
                        "到期、撤销或修复的记录由网站自动停止公示")
            yield Problem(file, line, "id", f"已发布的{noun} {rid} 被删除（已发布版本 {file}:{line}）", hint,
                          code=CODE_PREFIX + "deleted")
            continue
        entries = _new_entries(old_logs.get(rid, []), new_logs.get(rid, []), log_parent, log_shared)
        covered: set[str] = set()
        for entry in entries:
            covered |= parse_fields(entry.value("fields"), tokens)[0]

        for name in GUARDED[kind]:
            if name not in shared:
                continue
            a, b = before.value(name), after.value(name)
            if a == b or name in covered:
                continue
            if kind == "findings" and _corrected(old_objections.get(rid, []), new_objections.get(rid, [])):
                continue
            title = resource.field(name).title
            file, line = after.where(name)
            hint = _log_hint(kind, name)
            if kind == "findings":
                hint = ("认定内容发布后只能依更正程序修改：请登记异议处理结果“更正”，或在 changes: 下新增一项更正说明"
                        f"（date、fields: {name}、what、reason、basis、document）")
            shown_a, shown_b = _shown_pair(a, b)
            yield Problem(file, line, name, f"已发布的{title}由“{shown_a}”改为“{shown_b}”，变更记录中没有说明", hint,
                          code=CODE_PREFIX + "changed")

        if kind == "arrears":
            pay_shared = _shared(old, new, "arrears_repayments")
            key_fields = [f.name for f in package.resource("arrears_repayments").fields
                          if f.name not in ("arrears_id", "note") and f.name in pay_shared]
            published = Counter(tuple(r.value(f) for f in key_fields) for r in new_pay.get(rid, []))
            for r in old_pay.get(rid, []):
                key = tuple(r.value(f) for f in key_fields)
                if published[key]:
                    published[key] -= 1
                    continue
                if "repayments" in covered:
                    continue
                file, line = r.where("paid_on")
                yield Problem(file, line, "paid_on",
                              f"已发布的清偿记录（{rid}，{_shown(r.value('paid_on'))}，{_shown(r.raw('amount'))} 元）被删除"
                              f"（已发布版本第 {line} 行）", _log_hint(kind, "repayments"), code=CODE_PREFIX + "repayment-removed")

        # status backwards
        if kind == "commitments":
            a, b = before.value("status"), after.value("status")
            rank = COMMITMENT_STATUS_RANK
        elif kind == "arrears":
            a = _arrears_status(before.value("amount"), old_pay.get(rid, []), rid in old_wd)
            b = _arrears_status(after.value("amount"), new_pay.get(rid, []), rid in new_wd)
            rank = ARREARS_STATUS_RANK
        else:
            continue
        explains = {"status", "repayments", "amount"} if kind == "arrears" else {"status"}
        if a in rank and b in rank and rank[b] < rank[a] and not covered & explains:
            file, line = after.where("status" if kind == "commitments" else "amount")
            yield Problem(file, line, "status", f"{noun} {rid} 的状态由“{a}”退回“{b}”，变更记录中没有说明",
                          _log_hint(kind, "status"), code=CODE_PREFIX + "status-backwards")


def _corrected(old: list[_Record], new: list[_Record]) -> bool:
    """A new objection outcome 更正 is the correction note of a finding's decision."""
    before = Counter(_row_key(r, "finding_id") for r in old if r.value("outcome") == "更正")
    for r in new:
        if r.value("outcome") != "更正":
            continue
        key = _row_key(r, "finding_id")
        if before[key]:
            before[key] -= 1
        else:
            return True
    return False


def review(data_dir: Path, ref: str, current: RawData | None = None) -> list[Problem]:
    """Review the data folder against its published version at `ref`."""
    current = current or load(Path(data_dir))
    with tempfile.TemporaryDirectory(prefix="generator-review-") as tmp:
        published = published_data(Path(data_dir), ref, Path(tmp))
        if published is None:
            return []  # nothing was published yet
        # by column name: a ledger published under an older schema (fewer or other columns) is still read
        old = load(published, current.package, by_column_name=True)
        return review_raw(old, current, current.package)


def is_review(problem: Problem) -> bool:
    return problem.code.startswith(CODE_PREFIX)
