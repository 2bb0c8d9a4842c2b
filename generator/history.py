"""Revision history of each record, read from the repository's git history in one pass.

What a record page shows under 修改记录: on which days the record changed and
how, field by field, with the schema's Chinese titles.

One pass, three git processes whatever the size of the history:

1. ``git rev-parse --show-toplevel --is-shallow-repository HEAD`` — is this a
   full clone with at least one commit, and where is its top?
2. ``git log --first-parent -m --reverse --no-renames --raw -z --no-abbrev
   --format=%x01%ct %H -- <record paths>`` — every commit on the main line that
   touched a record file, oldest first: its committer time and the new blob
   of each file it changed. Only hashes and timestamps are asked for: no
   author, e-mail or message is ever read.
3. ``git cat-file --batch`` — every blob needed, written to it in one go (by a
   writer thread) and read back in the order the commits need them. A blob
   used again later (a revert) is parsed once and kept only until its last use.

Cost: 1,000 commits over 200 records (150 YAML files, a 50-row ledger) take
about 1.1 s, most of it parsing YAML; 4,000 records about 7 s
(tests/test_history.py builds such a repository with git fast-import).

Rules (the tests hold each of them):

- Records are the four kinds with pages: commitments and findings (one YAML
  file each), tasks (items of tasks.yaml) and arrears (rows of the ledger,
  with the plan and repayment rows of the same arrears_id as children). Blobs
  are parsed with the loader's own reader and flattener, so a field means
  here what it means on the site.
- Records are keyed by the id *inside* the record, not by the file name: a
  file moved with ``git mv`` keeps its history. When one commit removes an id
  and adds a new id of the same kind whose fields are at least half identical
  (`RENAME_SIMILARITY`), the new id continues the old one's history (the
  change of id is listed as a change of the id field). git's own rename
  detection is not used: it compares files, we compare records — which also
  covers a renumbered ledger row.
- Each commit on the main line (first parent) is a publication: the site was
  rebuilt from it. A merged pull request is one publication, dated when it was
  merged (committer time); the commits inside it were never published and are
  not revisions.
- Every publication that changed a record's shown values is one revision, even
  when several fall on one day (a value readers saw in the morning and that was
  changed in the afternoon stays in the history). Dates are committer times in
  the site's time zone; each revision names its commit. A record's first
  publication gives ``Revision(day, (), created=True, commit=…)``.
- A version that cannot be read (not UTF-8, broken YAML, a CSV without its
  header) is skipped: the next readable version is compared with the last
  readable one. A version whose shown values are unchanged (comments,
  whitespace, order of a keyed list) is no revision.
- Only ids present at HEAD (in their last readable version) are returned: a
  deleted record is not published, nor is its history. A record deleted and
  restored later continues its history.
- Values are the texts the site shows: department codes become names (from
  departments.csv at HEAD), true/false become 是/否, money has two decimals,
  and a counterparty shown masked at HEAD (or in that version) is masked in
  every version.
- Privacy: every value shown passes ``privacy.HistoryFilter`` — a past value that
  fails the checks current data must pass (an identifier in any form, an unmasked
  name) or that the reviewed list ``data/redactions.yaml`` names is shown as
  ``（已删除）``; the value itself is never returned.
- Without a usable history (no git, not a repository, shallow clone, no
  commit, data folder outside the repository) the result is
  ``History(available=False, reason=…)``; nothing here ever raises.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import os
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from generator.derive import mask_name
from generator.privacy import REDACTED, HistoryFilter, Redaction
from generator.load import MAX_CSV_BYTES, MAX_YAML_BYTES, Table, _flatten, parse_yaml
from generator.schema import Field, Package, Resource, load_package


@dataclass(frozen=True)
class FieldChange:
    field: str  # the Chinese title of the field, e.g. 状态
    old: str  # "" when the field was empty
    new: str


@dataclass(frozen=True)
class Revision:
    date: date  # commit date in the site's time zone
    changes: tuple[FieldChange, ...]  # empty for the record's first version
    created: bool = False
    #: the publication (commit on the main line) that made this revision; not part of equality,
    #: so that two histories with the same dates and values compare equal
    commit: str = field(default="", compare=False)


@dataclass(frozen=True)
class History:
    """Per record id, its revisions oldest first. `available` is False without git history."""

    available: bool
    reason: str = ""  # why not available, in Chinese (shallow clone, no git …)
    records: dict[str, tuple[Revision, ...]] = field(default_factory=dict)

    def of(self, record_id: str) -> tuple[Revision, ...]:
        return self.records.get(record_id, ())

    def until(self, day: date) -> "History":
        """The history as known on `day`: a build for a past as-of date shows no later revisions."""
        kept = {rid: tuple(r for r in revs if r.date <= day) for rid, revs in self.records.items()}
        return History(self.available, self.reason, {rid: revs for rid, revs in kept.items() if revs})


#: The resources whose records have pages, hence a history.
RECORD_RESOURCES = ("commitments", "findings", "arrears", "tasks")
#: A commit that removes one id and adds another of the same kind with at least
#: this share of identical fields renames the record.
RENAME_SIMILARITY = 0.5
#: Change logs (commitment_changes …) are shown beside the history as their own section, not in it.
_CHANGE_LOG_SUFFIX = "_changes"

_AFTERWARDS = "发布流程会检出完整历史。"
REASON_NO_GIT = "没有找到 git 程序，修改记录无法生成。" + _AFTERWARDS
REASON_NOT_A_REPO = "当前文件夹不是 git 仓库（或仓库无法读取），修改记录无法生成。" + _AFTERWARDS
REASON_SHALLOW = "当前检出没有完整的 git 历史（浅克隆），修改记录无法生成。" + _AFTERWARDS
REASON_NO_COMMITS = "git 仓库中还没有任何提交，修改记录无法生成。"
REASON_OUTSIDE = "数据文件夹不在这个 git 仓库内，修改记录无法生成。"
REASON_TIMEZONE = "时区“{}”无效，修改记录无法生成。"
REASON_FAILED = "读取 git 历史时出错（{}），修改记录未生成。"

# Stripped from a child table's title when it names a change of the record:
# 承诺履行进展 → 履行进展, 任务推进情况 → 推进情况, 失信记录关联事项 → 关联事项.
_CHILD_TITLE_PREFIXES = ("失信记录", "承诺", "任务")
_TRUE = {"true", "True", "TRUE", "1"}
_FALSE = {"false", "False", "FALSE", "0"}
_REGULAR_FILE_MODES = {"100644", "100755"}
# Variables by which a calling git (a hook, a worktree script) would point us at another repository.
_GIT_LOCATION_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
)
# log.follow would turn a single pathspec into --follow; a signature would print the signer's name.
_GIT = ("git", "--no-pager", "--literal-pathspecs", "-c", "log.follow=false", "-c", "log.showSignature=false")


class _GitError(Exception):
    """A git command failed; the message is safe to show (no paths, no output)."""


# --- versions of a record ----------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    """One readable version of a record: normalised texts, comparable with ==.

    `fields` follows the resource's fields; `children` has one tuple of rows per
    child resource, each row the values of the child's fields except the parent id.
    """

    fields: tuple[str | None, ...]
    children: tuple[tuple[tuple[str | None, ...], ...], ...]


def _normalise(f: Field, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if f.type == "boolean":
        return "true" if text in _TRUE else "false" if text in _FALSE else text
    if f.type == "number" and _is_money(f):
        try:  # 120000 and 120000.00 are the same amount: shown as 120000.00
            amount = Decimal(text)
            if amount.is_finite() and amount.as_tuple().exponent >= -2:  # type: ignore[operator]
                return str(amount.quantize(Decimal("0.01")))
        except InvalidOperation:
            pass
    return text


def _is_money(f: Field) -> bool:
    return f.type == "number" and f.title.endswith("（元）")


class _Kind:
    """One kind of record: its resource, its children and where the parent id sits in each child."""

    def __init__(self, package: Package, resource: Resource, children: list[tuple[Resource, str]]):
        self.package = package
        self.resource = resource
        self.children = tuple(children)  # (child resource, name of its parent-id field)
        self.key_index = resource.field_names.index(resource.primary_key[0])

    def tables(self) -> dict[str, Table]:
        """Empty tables for the record and every child the schema gives it (those the history
        leaves out, the change log, included: the record is read as the loader reads it)."""
        resource = self.resource
        return {r.name: Table(r) for r in (resource, *self.package.children_of(resource.name))}

    def fields(self, row: dict) -> tuple[str | None, ...]:
        return tuple(_normalise(f, row.get(f.name)) for f in self.resource.fields)

    def child_rows(self, index: int, rows: list[dict], sort: bool) -> tuple[tuple[str | None, ...], ...]:
        child, parent_field = self.children[index]
        values = [tuple(_normalise(f, r.get(f.name)) for f in child.fields if f.name != parent_field) for r in rows]
        if sort:  # ledger rows: the site orders them by date, not by line
            values.sort(key=lambda t: tuple((v is not None, v or "") for v in t))
        return tuple(values)

    def version(self, row: dict, child_rows: list[list[dict]]) -> _Version:
        return _Version(self.fields(row), tuple(self.child_rows(i, rows, False) for i, rows in enumerate(child_rows)))

    def id_of(self, version: _Version) -> str | None:
        return version.fields[self.key_index]


# --- reading blobs -------------------------------------------------------------------------


def _decode(data: bytes, limit: int) -> str | None:
    """The text as the loader would read it, or None where the loader refuses the file."""
    if len(data) > limit or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


#: Columns added to a CSV after records were kept in it: (resource, field) -> the value old versions mean.
_ADDED_COLUMNS = {("arrears_repayments", "seq"): "1"}
#: Key columns that only tell rows apart: shown in history only when not the first (seq 2, 3 …).
_COUNTERS = {"seq": "1"}


def _csv_rows(resource: Resource, text: str) -> list[dict] | None:
    """Rows as the loader's CSV reader gives them; None when the file as a whole is unreadable."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
        if not header:
            return None
        header = [h.strip() for h in header]
        added = {name: value for (res, name), value in _ADDED_COLUMNS.items()
                 if res == resource.name and name not in header}  # versions older than the column
        if len(set(header)) != len(header) or set(header) | set(added) != set(resource.field_names):
            return None
        rows = []
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) == len(header):  # the loader skips (and reports) a row of the wrong width
                rows.append({**added, **{h: (v.strip() or None) for h, v in zip(header, values)}})
        return rows
    except csv.Error:
        return None


class _Group:
    """The files one kind of record comes from, and their last readable contents."""

    def __init__(self, kind: _Kind):
        self.kind = kind

    def owns(self, rel: str) -> bool:
        raise NotImplementedError

    def pathspecs(self) -> list[str]:
        raise NotImplementedError

    def parse(self, rel: str, data: bytes) -> Any:
        """The parsed blob, or None when it cannot be read (that version is skipped)."""
        raise NotImplementedError

    def apply(self, rel: str, parsed: Any) -> None:
        """Take a parsed blob (or None: the file was deleted) as the file's current content."""
        raise NotImplementedError

    def touched(self, rels: list[str]) -> set[str]:
        """Ids whose record may depend on the files `rels`, in the current state."""
        raise NotImplementedError

    def get(self, record_id: str) -> _Version | None:
        raise NotImplementedError


class _FolderGroup(_Group):
    """yaml-records: one file per record in a folder (commitments/, findings/)."""

    def __init__(self, kind: _Kind):
        super().__init__(kind)
        self.folder = kind.resource.source.path.strip("/")
        self.files: dict[str, tuple[str, _Version]] = {}  # path → (id, version)
        self.paths_of: dict[str, set[str]] = {}  # id → paths holding it (more than one is a data error)

    def owns(self, rel: str) -> bool:
        folder, _, name = rel.rpartition("/")
        return folder == self.folder and name.endswith(".yaml") and not name.startswith(".")

    def pathspecs(self) -> list[str]:
        return [self.folder]

    def parse(self, rel: str, data: bytes) -> Any:
        text = _decode(data, MAX_YAML_BYTES)
        if text is None:
            return None
        doc = parse_yaml(text)
        if not isinstance(doc.value, dict):
            return None
        resource = self.kind.resource
        tables = self.kind.tables()  # every child, the change log too: the loader's reading of the record
        _flatten(doc, (), doc.value, resource, self.kind.package, tables, rel, [])
        child_rows = [tables[child.name].rows for child, _ in self.kind.children]
        return self.kind.version(tables[resource.name].rows[0], child_rows)

    def apply(self, rel: str, parsed: Any) -> None:
        old = self.files.pop(rel, None)
        if old is not None:
            self.paths_of[old[0]].discard(rel)
            if not self.paths_of[old[0]]:
                del self.paths_of[old[0]]
        if parsed is not None:
            record_id = self.kind.id_of(parsed) or rel.rpartition("/")[2][: -len(".yaml")]
            self.files[rel] = (record_id, parsed)
            self.paths_of.setdefault(record_id, set()).add(rel)

    def touched(self, rels: list[str]) -> set[str]:
        return {self.files[rel][0] for rel in rels if rel in self.files}

    def get(self, record_id: str) -> _Version | None:
        paths = self.paths_of.get(record_id)
        return self.files[min(paths)][1] if paths else None


class _ListGroup(_Group):
    """yaml-list: records as items of one YAML file (tasks.yaml)."""

    def __init__(self, kind: _Kind):
        super().__init__(kind)
        self.path = kind.resource.source.path
        self.records: dict[str, _Version] = {}

    def owns(self, rel: str) -> bool:
        return rel == self.path

    def pathspecs(self) -> list[str]:
        return [self.path]

    def parse(self, rel: str, data: bytes) -> Any:
        text = _decode(data, MAX_YAML_BYTES)
        if text is None:
            return None
        doc = parse_yaml(text)
        key = self.kind.resource.source.key
        items = doc.value.get(key) if isinstance(doc.value, dict) else None
        if not isinstance(items, list):
            return None
        resource = self.kind.resource
        records: dict[str, _Version] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            tables = self.kind.tables()  # every child, the change log too: the loader's reading of the record
            _flatten(doc, (key, i), item, resource, self.kind.package, tables, rel, [])
            child_rows = [tables[child.name].rows for child, _ in self.kind.children]
            version = self.kind.version(tables[resource.name].rows[0], child_rows)
            record_id = self.kind.id_of(version)
            if record_id is not None:
                records.setdefault(record_id, version)
        return records

    def apply(self, rel: str, parsed: Any) -> None:
        self.records = parsed or {}

    def touched(self, rels: list[str]) -> set[str]:
        return set(self.records)

    def get(self, record_id: str) -> _Version | None:
        return self.records.get(record_id)


class _LedgerGroup(_Group):
    """csv: rows of a ledger keyed by id, with the rows of child ledgers grouped by parent id."""

    def __init__(self, kind: _Kind):
        super().__init__(kind)
        self.path = kind.resource.source.path
        self.child_paths = [child.source.path for child, _ in kind.children]
        self.rows: dict[str, tuple[str | None, ...]] = {}  # id → normalised fields
        self.child_rows: list[dict[str, tuple]] = [{} for _ in kind.children]  # per child: parent id → rows

    def owns(self, rel: str) -> bool:
        return rel == self.path or rel in self.child_paths

    def pathspecs(self) -> list[str]:
        return [self.path, *self.child_paths]

    def parse(self, rel: str, data: bytes) -> Any:
        """The ledger → {id: normalised fields}; a child ledger → {parent id: normalised rows, sorted}."""
        text = _decode(data, MAX_CSV_BYTES)
        if text is None:
            return None
        if rel == self.path:
            rows = _csv_rows(self.kind.resource, text)
            if rows is None:
                return None
            key = self.kind.resource.primary_key[0]
            by_id: dict[str, tuple[str | None, ...]] = {}
            for row in rows:
                if row.get(key) and row[key] not in by_id:
                    by_id[row[key]] = self.kind.fields(row)
            return by_id
        index = self.child_paths.index(rel)
        child, parent_field = self.kind.children[index]
        rows = _csv_rows(child, text)
        if rows is None:
            return None
        grouped: dict[str, list[dict]] = {}
        for row in rows:
            if row.get(parent_field):
                grouped.setdefault(row[parent_field], []).append(row)
        return {parent: self.kind.child_rows(index, group, sort=True) for parent, group in grouped.items()}

    def apply(self, rel: str, parsed: Any) -> None:
        if rel == self.path:
            self.rows = parsed or {}
        else:
            self.child_rows[self.child_paths.index(rel)] = parsed or {}

    def touched(self, rels: list[str]) -> set[str]:
        return set(self.rows)

    def get(self, record_id: str) -> _Version | None:
        fields = self.rows.get(record_id)
        if fields is None:
            return None
        return _Version(fields, tuple(rows.get(record_id, ()) for rows in self.child_rows))


def _groups(package: Package) -> list[_Group]:
    groups: list[_Group] = []
    for name in RECORD_RESOURCES:
        resource = package.resource(name)
        kind = resource.source.kind
        if kind in ("yaml-records", "yaml-list"):
            children = [(child, child.fields[0].name) for child in package.children_of(name)
                        if not child.name.endswith(_CHANGE_LOG_SUFFIX)]
            k = _Kind(package, resource, children)
            groups.append(_FolderGroup(k) if kind == "yaml-records" else _ListGroup(k))
        elif kind == "csv":
            children = []
            for child in package.resources:
                if child.source.kind != "csv" or child is resource or child.name.endswith(_CHANGE_LOG_SUFFIX):
                    continue
                for fk in child.foreign_keys:
                    if fk.resource == name and len(fk.fields) == 1:
                        children.append((child, fk.fields[0]))
                        break
            groups.append(_LedgerGroup(_Kind(package, resource, children)))
    return groups


# --- git -------------------------------------------------------------------------------------


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARIABLES}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_NO_REPLACE_OBJECTS="1")
    return env


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_GIT, *args], cwd=cwd, env=_git_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@dataclass(frozen=True)
class _Commit:
    time: int  # committer time, seconds since the epoch
    commit: str  # its id (full hash)
    changes: tuple[tuple[str, str | None], ...]  # (path under the top, new blob or None when gone)


def _parse_log(output: bytes) -> list[_Commit]:
    """`git log --raw -z --format=%x01%ct %H` → commits. Paths are taken verbatim after their meta token."""
    commits: list[_Commit] = []
    time: int | None = None
    commit = ""
    changes: list[tuple[str, str | None]] = []
    tokens = output.split(b"\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if token.startswith(b"\x01"):
            if time is not None:
                commits.append(_Commit(time, commit, tuple(changes)))
            head = token[1:].split()
            time, changes = int(head[0]), []
            commit = head[1].decode("ascii", "replace") if len(head) > 1 else ""
        elif token.startswith(b":") and i < len(tokens):
            meta = token[1:].split()
            path = tokens[i].decode("utf-8", "surrogateescape")
            i += 1
            if len(meta) < 5:
                continue
            new_mode, new_blob, status = meta[1].decode(), meta[3].decode(), meta[4][:1]
            gone = status == b"D" or new_mode not in _REGULAR_FILE_MODES
            changes.append((path, None if gone else new_blob))
    if time is not None:
        commits.append(_Commit(time, commit, tuple(changes)))
    return commits


class _BlobStream:
    """One `git cat-file --batch`: all ids written up front by a thread, answers read in order."""

    def __init__(self, top: Path, blobs: list[str]):
        self.proc = subprocess.Popen([*_GIT, "cat-file", "--batch"], cwd=top, env=_git_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        request = "".join(f"{blob}\n" for blob in blobs).encode("ascii")
        self.writer = threading.Thread(target=self._write, args=(request,), daemon=True)
        self.writer.start()

    def _write(self, request: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(request)
        except (BrokenPipeError, OSError):
            pass
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def next(self, blob: str) -> bytes | None:
        stdout = self.proc.stdout
        assert stdout is not None
        header = stdout.readline().split()
        if not header:
            raise _GitError("git cat-file 提前结束")
        if header[0].decode("ascii", "replace") != blob:
            raise _GitError("git cat-file 的输出顺序不符")
        if len(header) < 3 or header[1] == b"missing":
            return None
        size = int(header[2])
        data = stdout.read(size + 1)
        if len(data) != size + 1:
            raise _GitError("git cat-file 提前结束")
        return data[:size]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.writer.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stdin):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


# --- the pass ---------------------------------------------------------------------------------


@dataclass
class _Lineage:
    """The steps of one record: (day, commit, version before or None when created, version after)."""

    last: _Version
    steps: list[tuple[date, str, _Version | None, _Version]]


def _similarity(kind: _Kind, a: _Version, b: _Version) -> float:
    same = total = 0
    for i, (x, y) in enumerate(zip(a.fields, b.fields)):
        if i == kind.key_index or (x is None and y is None):
            continue
        total += 1
        same += x == y
    for x, y in zip(a.children, b.children):
        if x or y:
            total += 1
            same += x == y
    return same / total if total else 0.0


def _pair_renames(kind: _Kind, gone: dict[str, _Version], new: dict[str, _Version]) -> list[tuple[str, str]]:
    scored = sorted(
        ((-_similarity(kind, gone[g], new[n]), g, n) for g in gone for n in new),
    )
    pairs, used_gone, used_new = [], set(), set()
    for score, g, n in scored:
        if -score < RENAME_SIMILARITY:
            break
        if g in used_gone or n in used_new:
            continue
        used_gone.add(g)
        used_new.add(n)
        pairs.append((g, n))
    return pairs


def _record_step(kind: _Kind, lineages: dict[str, _Lineage], day: date, commit: str,
                 before: dict[str, _Version | None], after: dict[str, _Version | None]) -> None:
    gone = {i: v for i, v in before.items() if v is not None and after.get(i) is None}
    fresh = {i: v for i, v in after.items() if v is not None and before.get(i) is None and i not in lineages}
    if gone and fresh:
        for old_id, new_id in _pair_renames(kind, gone, fresh):
            lineages[new_id] = lineages.pop(old_id)
    for record_id in sorted(after):
        version = after[record_id]
        if version is None:
            continue  # deleted (or gone for now): its lineage waits, dropped unless it comes back
        lineage = lineages.get(record_id)
        if lineage is None:
            lineages[record_id] = _Lineage(version, [(day, commit, None, version)])
        elif lineage.last != version:
            lineage.steps.append((day, commit, lineage.last, version))
            lineage.last = version


def _run_pass(top: Path, prefix: str, tz: ZoneInfo, package: Package) -> tuple[list[_Group], list[dict[str, _Lineage]], dict[str, str]]:
    groups = _groups(package)
    departments_rel = package.resource("departments").source.path
    specs = [prefix + spec for group in groups for spec in group.pathspecs()] + [prefix + departments_rel]
    log = _git(top, "log", "--first-parent", "-m", "--reverse", "--no-renames", "--raw", "-z", "--no-abbrev",
               "--no-color", "--no-notes", "--no-show-signature", "--format=%x01%ct %H", "HEAD", "--", *specs)
    if log.returncode != 0:
        raise _GitError(f"git log 返回 {log.returncode}")
    commits = _parse_log(log.stdout)

    # Route each change to its group; plan the blob requests (one per first use of a blob by a group).
    plan: list[tuple[date, str, list[tuple[int, str, str | None]]]] = []
    requests: list[str] = []
    uses: dict[tuple[str, int], int] = {}
    departments_blob: str | None = None
    for commit in commits:
        day = datetime.fromtimestamp(commit.time, tz).date()
        routed = []
        for path, blob in commit.changes:
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix):]
            if rel == departments_rel:
                departments_blob = blob
                continue
            for gi, group in enumerate(groups):
                if group.owns(rel):
                    routed.append((gi, rel, blob))
                    if blob is not None:
                        key = (blob, gi)
                        if key not in uses:
                            requests.append(blob)
                        uses[key] = uses.get(key, 0) + 1
                    break
        if routed:
            plan.append((day, commit.commit, routed))

    lineages: list[dict[str, _Lineage]] = [{} for _ in groups]
    names: dict[str, str] = {}
    if not requests and departments_blob is None:
        return groups, lineages, names
    stream = _BlobStream(top, requests + ([departments_blob] if departments_blob else []))
    try:
        parsed_cache: dict[tuple[str, int], Any] = {}
        for day, commit_id, routed in plan:
            by_group: dict[int, list[tuple[str, Any]]] = {}
            for gi, rel, blob in routed:
                parsed = None
                if blob is not None:
                    key = (blob, gi)
                    if key in parsed_cache:
                        parsed = parsed_cache[key]
                    else:
                        data = stream.next(blob)
                        parsed = _safe_parse(groups[gi], rel, data)
                        parsed_cache[key] = parsed
                    uses[key] -= 1
                    if not uses[key]:
                        parsed_cache.pop(key, None)
                    if parsed is None:
                        continue  # unreadable version: keep comparing with the last readable one
                by_group.setdefault(gi, []).append((rel, parsed))
            for gi, changes in sorted(by_group.items()):
                group = groups[gi]
                rels = [rel for rel, _ in changes]
                ids = group.touched(rels)
                before = {i: group.get(i) for i in ids}
                for rel, parsed in changes:
                    group.apply(rel, parsed)
                ids |= group.touched(rels)
                after = {i: group.get(i) for i in ids}
                before = {i: before.get(i) for i in ids}
                _record_step(group.kind, lineages[gi], day, commit_id, before, after)
        if departments_blob:
            names = _department_names(package, stream.next(departments_blob))
    finally:
        stream.close()
    return groups, lineages, names


def _safe_parse(group: _Group, rel: str, data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return group.parse(rel, data)
    except Exception:  # noqa: BLE001 - any unreadable version is skipped, never fatal
        return None


def _department_names(package: Package, data: bytes | None) -> dict[str, str]:
    text = _decode(data, MAX_CSV_BYTES) if data is not None else None
    rows = _csv_rows(package.resource("departments"), text) if text is not None else None
    return {row["id"]: row["name"] for row in rows or () if row.get("id") and row.get("name")}


# --- rendering the steps as revisions ---------------------------------------------------------


class _Shown:
    """Turns versions of one kind of record into the texts the site shows."""

    def __init__(self, kind: _Kind, names: dict[str, str], head: _Version, record_id: str = "",
                 value_filter: HistoryFilter | None = None):
        self.kind = kind
        self.names = names
        self.record_id = record_id
        self.value_filter = value_filter  # privacy: every value shown passes it (privacy.HistoryFilter)
        resource = kind.resource
        self.units = {f for fk in resource.foreign_keys if fk.resource == "departments" for f in fk.fields}
        self.masks = {f.name: resource.field_names.index(f.name + "_masked")
                      for f in resource.fields if f.name + "_masked" in resource.field_names}
        self.head_masked = {name for name, i in self.masks.items() if head.fields[i] == "true"}

    def value(self, f: Field, value: str | None) -> str:
        if value is None:
            return ""
        if self.value_filter is not None:
            value = self.value_filter(self.record_id, f, value)
            if value == REDACTED or value is None:
                return value or ""
        if f.type == "boolean":
            return {"true": "是", "false": "否"}.get(value, value)
        if f.name in self.units or f.name == "unit":
            return self.names.get(value, value)
        return value

    def fields(self, version: _Version) -> list[str]:
        out = []
        for f, value in zip(self.kind.resource.fields, version.fields):
            text = self.value(f, value)
            if text and text != REDACTED and f.name in self.masks and (f.name in self.head_masked or version.fields[self.masks[f.name]] == "true"):
                text = mask_name(text)
            out.append(text)
        return out

    def row(self, child: Resource, parent_field: str, row: tuple[str | None, ...]) -> str:
        """A child row as one line: "2024-05-01 完成签约", "2024-05-10 120000.00 元，备注：…", "区发改局（牵头）"."""
        constants = {name for fixed in child.source.keys.values() for name in fixed}
        shown = [f for f in child.fields if f.name != parent_field]
        free = [(f, v) for f, v in zip(shown, row) if f.name not in constants and f.name not in _COUNTERS]
        free += [(f, v) for f, v in zip(shown, row) if f.name in _COUNTERS and v not in (None, _COUNTERS[f.name])]
        unlabeled: list[str] = []
        labeled: list[str] = []
        for position, (f, value) in enumerate(free):
            if value is None:
                continue
            text = self.value(f, value) + (" 元" if _is_money(f) else "")
            # the first value, and the second after a date ("date note"), speak for themselves
            if position == 0 or (position == 1 and free[0][0].type == "date"):
                unlabeled.append(text)
            else:
                labeled.append(f"{f.title}：{text}")
        text = _join([" ".join(unlabeled), *labeled])
        return text + "".join(f"（{v}）" for f, v in zip(shown, row) if f.name in constants and v)

    def diff(self, old: _Version, new: _Version) -> tuple[FieldChange, ...]:
        changes = []
        for f, a, b in zip(self.kind.resource.fields, self.fields(old), self.fields(new)):
            if a != b:
                changes.append(FieldChange(f.title, a, b))
        for (child, parent_field), old_rows, new_rows in zip(self.kind.children, old.children, new.children):
            if old_rows == new_rows:
                continue
            label = _child_label(child)
            key_fields = [f for f in child.primary_key if f != parent_field]
            shown = [f.name for f in child.fields if f.name != parent_field]
            old_texts = [self.row(child, parent_field, r) for r in old_rows]
            new_texts = [self.row(child, parent_field, r) for r in new_rows]
            if key_fields:
                positions = [shown.index(f) for f in key_fields]
                old_keys = [tuple(r[p] for p in positions) for r in old_rows]
                new_keys = [tuple(r[p] for p in positions) for r in new_rows]
                if len(set(old_keys)) == len(old_keys) and len(set(new_keys)) == len(new_keys):
                    changes += _keyed_diff(label, dict(zip(old_keys, old_texts)), dict(zip(new_keys, new_texts)))
                    continue
            changes += _sequence_diff(label, old_texts, new_texts)
        return tuple(changes)


def _join(parts: list[str]) -> str:
    """Parts joined by "，", except after a sentence that already ends in punctuation."""
    text = ""
    for part in filter(None, parts):
        text += ("" if not text or text.endswith(("。", "！", "？", "；", "，")) else "，") + part
    return text


def _child_label(child: Resource) -> str:
    for prefix in _CHILD_TITLE_PREFIXES:
        if child.title.startswith(prefix) and len(child.title) > len(prefix):
            return child.title[len(prefix):]
    return child.title


def _keyed_diff(label: str, old: dict[tuple, str], new: dict[tuple, str]) -> list[FieldChange]:
    out = [FieldChange(label, text, "") for key, text in old.items() if key not in new]
    out += [FieldChange(label, text, new[key]) for key, text in old.items() if key in new and new[key] != text]
    out += [FieldChange(label, "", text) for key, text in new.items() if key not in old]
    return out


def _sequence_diff(label: str, old: list[str], new: list[str]) -> list[FieldChange]:
    out: list[FieldChange] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        for a, b in itertools.zip_longest(removed, added, fillvalue=""):
            out.append(FieldChange(label, a, b))
    return out


def _revisions(shown: _Shown, lineage: _Lineage) -> tuple[Revision, ...]:
    """One revision per publication that changed what the record shows."""
    out = []
    for day, commit, start, end in lineage.steps:
        if start is None:
            out.append(Revision(day, (), created=True, commit=commit))
            continue
        changes = shown.diff(start, end)
        if changes:
            out.append(Revision(day, changes, commit=commit))
    return tuple(out)


# --- entry point ------------------------------------------------------------------------------


def _locate(repo_root: Path) -> tuple[Path | None, str]:
    """The top of the work tree, or None and why not."""
    if not repo_root.is_dir():
        return None, REASON_NOT_A_REPO
    try:
        result = _git(repo_root, "rev-parse", "--show-toplevel", "--is-shallow-repository", "HEAD")
    except FileNotFoundError:
        return None, REASON_NO_GIT
    except OSError:
        return None, REASON_NOT_A_REPO
    lines = result.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 2 or not lines[0] or lines[1] not in ("true", "false"):
        return None, REASON_NOT_A_REPO
    if lines[1] == "true":
        return None, REASON_SHALLOW
    if result.returncode != 0 or len(lines) < 3 or lines[2] == "HEAD":
        return None, REASON_NO_COMMITS
    return Path(lines[0]), ""


def collect(repo_root: Path, data_dir: Path, timezone: str = "Asia/Shanghai",
            package: Package | None = None, redactions: tuple[Redaction, ...] | list[Redaction] = ()) -> History:
    """Every record's revisions, from the history of `data_dir` in the git work tree at `repo_root`.

    Every value shown passes privacy.HistoryFilter: a past value that current data could
    not hold (an identifier, an unmasked name) or that `redactions` names is shown as
    privacy.REDACTED, and never reaches a page."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return History(False, REASON_TIMEZONE.format(timezone))
    top, reason = _locate(Path(repo_root))
    if top is None:
        return History(False, reason)
    try:
        rel = Path(os.path.realpath(data_dir)).relative_to(Path(os.path.realpath(top)))
    except ValueError:
        return History(False, REASON_OUTSIDE)
    prefix = "" if rel == Path(".") else rel.as_posix().strip("/") + "/"
    value_filter = HistoryFilter(redactions)
    try:
        package = package or load_package()
        groups, lineages, names = _run_pass(top, prefix, tz, package)
        records: dict[str, tuple[Revision, ...]] = {}
        for group, group_lineages in zip(groups, lineages):
            for record_id, lineage in group_lineages.items():
                head = group.get(record_id)
                if head is None or record_id in records:
                    continue  # not at HEAD: not published, nor its history
                records[record_id] = _revisions(_Shown(group.kind, names, head, record_id, value_filter), lineage)
    except _GitError as exc:
        return History(False, REASON_FAILED.format(exc))
    except Exception as exc:  # noqa: BLE001 - the history is an extra: a failure never stops a build
        return History(False, REASON_FAILED.format(type(exc).__name__))
    return History(True, "", dict(sorted(records.items())))
