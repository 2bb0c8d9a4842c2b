"""Staff command `generator new KIND`: start a record with the next free id.

A new commitment or finding is a YAML file written from the schema: every field
is present, each with a Chinese comment (title, description, allowed values)
taken from `schemas/datapackage.yaml`, so nothing about fields is typed twice.
Required fields that staff must fill are left EMPTY (`title:  # 必填`): an empty
required field fails validation, so `generator validate` lists exactly what is
left to do and no placeholder text can ever be published.

A new arrears item is a row of the CSV ledger; a half-empty row would break the
ledger, so every required value comes from options and the row is checked
(schema and cross-record rules, in a scratch copy of the data folder) before
the ledger is rewritten atomically.

The module also holds the small helpers that every command writing into the
data folder shares (the importer uses them too): the site's "today", the
department directory, atomic writes, a line-preserving CSV document and the
trial validation in a scratch copy.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable

import yaml

from generator import ids as id_rule
from generator.datadir import read_bytes
from generator.problems import GeneratorError, Problem
from generator.schema import GROUP_TOKENS, Field, Package, Resource, load_package

DEFAULT_TIMEZONE = "Asia/Shanghai"
REQUIRED_MARK = "必填"
_NULLS = {"", "~", "null", "Null", "NULL"}

KINDS = {"commitment": "commitments", "finding": "findings", "arrears": "arrears"}
KIND_LABELS = {"commitment": "政府承诺", "finding": "政务失信记录", "arrears": "拖欠中小企业账款"}


class UsageError(GeneratorError):
    """A value given on the command line is not acceptable (exit 2)."""


# --- the data folder ------------------------------------------------------------------


def inside(data_dir: Path, path: Path) -> Path:
    """`path`, after checking that it resolves inside the data folder (symlinks included)."""
    root = data_dir.resolve()
    target = path.resolve()
    if target != root and root not in target.parents:
        raise GeneratorError(f"拒绝写入数据文件夹以外的位置：{path}")
    return path


def site_timezone(data_dir: Path) -> str:
    """The `timezone` of data/site.yaml (Asia/Shanghai when it cannot be read)."""
    path = data_dir / "site.yaml"
    try:
        raw = yaml.load(read_bytes(path, data_dir, 1 << 20, "site.yaml").decode("utf-8"), Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
    except (OSError, UnicodeDecodeError, yaml.YAMLError, GeneratorError):
        return DEFAULT_TIMEZONE
    value = raw.get("timezone") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else DEFAULT_TIMEZONE


def site_today(data_dir: Path, fixed: str | None = None) -> date:
    """Today in the site's time zone, or the `--date` given (YYYY-MM-DD)."""
    if fixed:
        from generator.dates import check_as_of

        try:
            day = date.fromisoformat(fixed)
        except ValueError:
            raise UsageError(f"--date“{fixed}”不是 YYYY-MM-DD 格式的日期，例如 2026-11-26") from None
        return check_as_of(day, "--date")
    from generator.derive import today

    try:
        return today(site_timezone(data_dir))
    except Exception:  # an unknown zone name: validate reports it; here Beijing time is right
        return today(DEFAULT_TIMEZONE)


def _norm_name(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class Departments:
    """data/departments.csv: ids, and names mapped to ids (for cells that hold a name)."""

    ids: dict[str, str]  # id -> name
    by_name: dict[str, str]  # normalised name -> id

    @classmethod
    def read(cls, data_dir: Path) -> "Departments":
        ids: dict[str, str] = {}
        try:
            text = read_bytes(data_dir / "departments.csv", data_dir, rel="departments.csv").decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return cls({}, {})
        for row in csv.DictReader(io.StringIO(text, newline="")):
            dept_id, name = (row.get("id") or "").strip(), (row.get("name") or "").strip()
            if dept_id:
                ids[dept_id] = name
        return cls(ids, {_norm_name(name): dept_id for dept_id, name in ids.items() if name})

    def resolve(self, value: str) -> str:
        """An id for `value` (an id or a name); the value unchanged when neither is known."""
        value = value.strip()
        if value in self.ids or value in GROUP_TOKENS:
            return value
        return self.by_name.get(_norm_name(value), value)

    def describe(self, limit: int = 6) -> str:
        shown = [f"{i}（{n}）" for i, n in list(self.ids.items())[:limit]]
        return "、".join(shown) + ("等" if len(self.ids) > limit else "")


def references_departments(resource: Resource, name: str) -> bool:
    return any(fk.resource == "departments" and fk.fields[0] == name for fk in resource.foreign_keys)


# --- checking single values against the schema ---------------------------------------


def check_value(f: Field, value: str | None) -> list[str]:
    """Messages (Chinese) for one value against its field's schema: type, enum, pattern, bounds."""
    from generator.validate import cast_values

    messages: list[str] = []

    def report(_index: int, message: str, hint: str) -> None:
        messages.append(message + (f" — {hint}" if hint else ""))

    cast_values([value], f, report)
    return messages


def format_number(f: Field, value: Decimal) -> str:
    """Money and scores keep their fixed places (1234.50, 94.0); other numbers as written."""
    if f.decimals in (1, 2) and value.is_finite():
        exponent = Decimal(1).scaleb(-f.decimals)
        try:
            if value == value.quantize(exponent):
                return str(value.quantize(exponent))
        except InvalidOperation:  # more digits than Decimal carries (1e400): left as written, validation refuses it
            pass
    return str(value)


def normalise_number_text(f: Field, text: str) -> str:
    """A valid number in the ledger's convention (money with two places); other text unchanged."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return format_number(f, value)


# --- ids ------------------------------------------------------------------------------


def id_prefix(resource: Resource) -> str:
    """`CM` for commitments (the one id rule: generator/ids.py)."""
    prefix = id_rule.RECORD_PREFIXES.get(resource.name)
    if prefix is None:  # pragma: no cover - every record resource has a prefix
        raise GeneratorError(f"{resource.title}没有编号规则")
    return prefix


def next_id(prefix: str, year: int, existing: Iterable[str]) -> str:
    kind = next(k for k, p in id_rule.RECORD_PREFIXES.items() if p == prefix)
    return id_rule.next_record_id(kind, year, existing)


def natural_key(value: str | None) -> tuple:
    """AR-2024-1000 after AR-2024-999: digits compare as numbers."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", value or ""))


# --- writing --------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to a temp file beside `path`, then move it into place in one step.

    The file is never half-written: a failure leaves the old bytes (or no file).
    `exclusive` refuses to replace an existing file, also against a concurrent writer.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists() and not exclusive:
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o644)
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise GeneratorError(f"文件 {path} 已存在，不会覆盖") from None
            except OSError:  # a file system without hard links
                if path.exists():
                    raise GeneratorError(f"文件 {path} 已存在，不会覆盖") from None
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
    except OSError as exc:
        raise GeneratorError(f"无法写入 {path}：{exc.strerror or exc}。原文件没有改动。") from None
    finally:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass


@dataclass
class CsvRecord:
    """One record of a CSV file: its original text (kept byte for byte) or new values."""

    values: dict[str, str | None] | None  # None: a blank or unparseable line, kept as it is
    raw: str | None  # original text with its line ending; None once changed
    line: int = 0  # original first line; 0 for a new record

    @property
    def changed(self) -> bool:
        return self.raw is None


@dataclass
class CsvDoc:
    """A CSV ledger read so that rewriting it changes only the rows that changed.

    Column order, line endings (CRLF/LF), a missing final newline, the quoting of
    untouched rows and the sort order all survive.
    """

    path: Path
    rel: str
    resource: Resource
    header: list[str]
    header_raw: str
    eol: str
    records: list[CsvRecord] = field(default_factory=list)
    prefix: str = ""  # a BOM, kept (validate reports it)

    @classmethod
    def read(cls, data_dir: Path, resource: Resource) -> "CsvDoc":
        rel = resource.source.path
        path = inside(data_dir, data_dir / rel)
        if not os.path.lexists(path):
            header = resource.field_names
            return cls(path, rel, resource, header, ",".join(header) + "\n", "\n")
        try:
            text = read_bytes(path, data_dir, rel=rel).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raise GeneratorError(f"无法读取 {rel}（不是 UTF-8 文本），请先运行 generator validate 并修正") from None
        prefix = ""
        if text.startswith("\ufeff"):
            prefix, text = "\ufeff", text[1:]
        lines = io.StringIO(text, newline="").readlines()
        reader = csv.reader(iter(lines), strict=True)
        try:
            header = [h.strip() for h in next(reader, [])]
            consumed = reader.line_num
            if sorted(header) != sorted(resource.field_names) or len(set(header)) != len(header):
                raise GeneratorError(f"{rel} 的表头与数据规范不一致，请先运行 generator validate 并修正")
            first = lines[0] if lines else ""
            eol = "\r\n" if first.endswith("\r\n") else "\n"
            doc = cls(path, rel, resource, header, "".join(lines[:consumed]), eol, prefix=prefix)
            for values in reader:
                raw = "".join(lines[consumed:reader.line_num])
                start, consumed = consumed + 1, reader.line_num
                if not values or (len(values) == 1 and not values[0].strip()) or len(values) != len(header):
                    doc.records.append(CsvRecord(None, raw, start))
                else:
                    doc.records.append(CsvRecord({h: v.strip() or None for h, v in zip(header, values)}, raw, start))
        except csv.Error as exc:
            raise GeneratorError(f"{rel} 无法解析（{exc}），请先运行 generator validate 并修正") from None
        return doc

    # -- queries

    def rows(self) -> list[tuple[int, dict[str, str | None]]]:
        return [(i, r.values) for i, r in enumerate(self.records) if r.values is not None]

    def column(self, name: str) -> list[str]:
        return [v[name] for _, v in self.rows() if v.get(name)]

    def sort_fields(self) -> tuple[str, ...]:
        """The key the file is kept sorted by: the primary key (or a prefix of it), or a date."""
        res = self.resource
        candidates: list[tuple[str, ...]] = [res.primary_key[:n] for n in range(len(res.primary_key), 0, -1)]
        candidates += [(f.name,) for f in res.fields if f.type == "date"]
        if not candidates:
            candidates = [(res.fields[0].name,)]
        keys = [v for _, v in self.rows()]
        for fields in candidates:
            sequence = [self._key(v, fields) for v in keys]
            if all(a <= b for a, b in zip(sequence, sequence[1:])):
                return fields
        return ()

    @staticmethod
    def _key(values: dict, fields: tuple[str, ...]) -> tuple:
        return tuple(natural_key(values.get(f)) for f in fields)

    # -- changes

    def insert(self, values: dict[str, str | None], sort_fields: tuple[str, ...] | None = None) -> CsvRecord:
        """Add a row where the sort order puts it (at the end when the file is unsorted)."""
        fields = self.sort_fields() if sort_fields is None else sort_fields
        record = CsvRecord(dict(values), None)
        position = len(self.records)
        if fields:
            key = self._key(values, fields)
            position = 0
            for i, existing in self.rows():
                if self._key(existing, fields) <= key:
                    position = i + 1
            # keep trailing blank lines after the data
            if position == 0 and not self.rows():
                position = len(self.records)
        self.records.insert(position, record)
        return record

    def update(self, record: CsvRecord, values: dict[str, str | None]) -> None:
        record.values = {**(record.values or {}), **values}
        record.raw = None

    def serialize(self, values: dict[str, str | None]) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator=self.eol).writerow([values.get(h) or "" for h in self.header])
        return out.getvalue()

    def render(self) -> tuple[str, dict[int, int]]:
        """The file's text, and the first line of each record (by id of the record object)."""
        parts = [self.prefix + self.header_raw]
        lines_of = {}
        line = 1 + _count_lines(self.header_raw)
        for record in self.records:
            if parts[-1] and not parts[-1].endswith(("\n", "\r")):
                parts[-1] += self.eol  # the old last line had no final newline
            text = record.raw if record.raw is not None else self.serialize(record.values or {})
            lines_of[id(record)] = line
            line += max(1, _count_lines(text))
            parts.append(text)
        return "".join(parts), lines_of

    def write(self) -> None:
        text, _ = self.render()
        atomic_write(self.path, text.encode("utf-8"))


def _count_lines(text: str) -> int:
    return len(io.StringIO(text, newline="").readlines())


# --- trial validation -----------------------------------------------------------------


def trial_validate(data_dir: Path, replacements: dict[str, str], scratch: Path | None = None) -> list[Problem]:
    """Problems of the data folder as it would be with `replacements` (rel path -> text).

    Runs load + validate on a scratch copy, so the real folder is never touched.
    Pass the same `scratch` folder to repeat the trial cheaply.
    """
    from generator.load import load
    from generator.validate import validate

    def run(folder: Path) -> list[Problem]:
        target = folder / "data"
        if not target.exists():
            shutil.copytree(data_dir, target, symlinks=True)
        for rel, text in replacements.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        return validate(load(target)).problems

    if scratch is not None:
        return run(scratch)
    with tempfile.TemporaryDirectory(prefix="generator-trial-") as tmp:
        return run(Path(tmp))


# --- YAML record templates ------------------------------------------------------------


def yaml_scalar(value: str) -> str:
    """`value` as a YAML scalar that the loader reads back as exactly this text."""
    if value not in _NULLS and "\n" not in value:
        try:
            back = yaml.load(f"k: {value}", Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
        except yaml.YAMLError:
            back = None
        if back == {"k": value}:
            return value
    import json

    return json.dumps(value, ensure_ascii=False)


def field_notes(f: Field, resource: Resource) -> list[str]:
    """Comment lines explaining a field: title, required, description, allowed values, format."""
    need = REQUIRED_MARK if f.required else "选填"
    notes = [f"{f.title}（{need}）：{f.description}"]
    if f.enum:
        notes.append("可选值：" + "、".join(f.enum))
    if f.type == "date":
        notes.append("格式：日期 YYYY-MM-DD，如 2026-03-01")
    elif f.type == "boolean":
        notes.append("格式：true（是）或 false（否）")
    elif f.type in ("number", "integer"):
        bits = ["整数" if f.type == "integer" else "数字"]
        if f.decimals is not None:
            bits.append(f"最多 {f.decimals} 位小数")
        if f.minimum is not None:
            bits.append(f"不小于 {f.minimum}")
        if f.maximum is not None:
            bits.append(f"不大于 {f.maximum}")
        notes.append("格式：" + "，".join(bits))
    if f.max_length:
        notes.append(f"最多 {f.max_length} 字")
    if references_departments(resource, f.name):
        notes.append("填写 data/departments.csv 中的单位代码（如 zjj），不是单位名称")
    if f.markdown:
        notes.append("多行内容写法：先写“" + f.yaml_path[-1] + ": |”，换行后每行缩进两个空格")
    return notes


def _comment(lines: list[str], notes: list[str], indent: str) -> None:
    lines.extend(f"{indent}# {n}" for n in notes)


def _entry(f: Field, values: dict[str, str], indent: str) -> str:
    key = f.yaml_path[-1]
    value = values.get(f.name)
    if value:
        return f"{indent}{key}: {yaml_scalar(value)}"
    return f"{indent}{key}:  # {REQUIRED_MARK}" if f.required else f"{indent}{key}:"


def record_template(resource: Resource, package: Package, values: dict[str, str], made_on: date) -> str:
    """A YAML record with every field of the schema, commented, required ones empty until filled."""
    record_id = values["id"]
    lines = [
        f"# {resource.title} {record_id}",
        f"# 由 generator new 于 {made_on.isoformat()} 生成。请填写标注“{REQUIRED_MARK}”的字段，然后运行 generator validate 检查。",
        "# 以“#”开头的行是填写说明，可以保留，也可以删除；选填的字段不需要时留空即可。",
        "",
    ]
    done_groups: set[str] = set()
    for f in resource.fields:
        if len(f.yaml_path) == 1:
            _comment(lines, field_notes(f, resource), "")
            lines.append(_entry(f, values, ""))
            continue
        head = f.yaml_path[0]
        if head in done_groups:
            continue
        done_groups.add(head)
        group = [g for g in resource.fields if len(g.yaml_path) > 1 and g.yaml_path[0] == head]
        required = any(g.required for g in group)
        titles = "、".join(g.title for g in group)
        lines.append(f"# {head}：{titles}（{'含必填项' if required else '选填，不适用时留空'}）")
        lines.append(f"{head}:")
        for g in group:
            _comment(lines, field_notes(g, resource), "  ")
            lines.append(_entry(g, values, "  "))
    for child in package.children_of(resource.name):
        for key, constants in child.source.keys.items():
            parent_field = child.fields[0].name
            free = [c for c in child.fields if c.name != parent_field and c.name not in constants]
            lines.append(f"# {child.title}（选填，列表）：")
            if len(free) == 1:
                notes = field_notes(free[0], child)
                lines.append(f"#   每项是一个值：{notes[0]}")
                lines.extend(f"#   {n}" for n in notes[1:])
                example = "zjj" if "单位" in free[0].title else "……"
                lines.append(f"#   写法：{key}: [{example}]")
            else:
                lines.append("#   每项包含：")
                for c in free:
                    head, *rest = field_notes(c, child)
                    desc = head.split("：", 1)[1].rstrip("。")
                    need = REQUIRED_MARK if c.required else "选填"
                    lines.append(f"#     {c.name}（{c.title}，{need}）：{'；'.join([desc, *rest])}")
                lines.append("#   写法：")
                lines.append(f"#   {key}:")
                for n, c in enumerate(free):
                    sample = made_on.isoformat() if c.type == "date" else "……"
                    lines.append(f"#     {'- ' if n == 0 else '  '}{c.name}: {sample}")
            lines.append(f"{key}: []")
    return "\n".join(lines) + "\n"


# --- the command ----------------------------------------------------------------------

# option dest -> (kinds it applies to, schema field it fills)
_OPTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "title": (("commitment",), "title"),
    "department": (("commitment",), "department"),
    "category": (("commitment", "finding"), "category"),
    "deadline": (("commitment",), "deadline"),
    "status": (("commitment",), "status"),
    "subject": (("finding",), "subject"),
    "subject_kind": (("finding",), "subject_kind"),
    "severity": (("finding",), "severity"),
    "debtor": (("arrears",), "debtor"),
    "creditor": (("arrears",), "creditor"),
    "creditor_code": (("arrears",), "creditor_code"),
    "creditor_size": (("arrears",), "creditor_size"),
    "project": (("arrears",), "project"),
    "contract_no": (("arrears",), "contract_no"),
    "amount": (("arrears",), "amount"),
    "delivered_on": (("arrears",), "delivered_on"),
    "due_on": (("arrears",), "due_on"),
    "agreed_daily_rate": (("arrears",), "agreed_daily_rate"),
    "resolution": (("arrears",), "resolution"),
    "note": (("arrears",), "note"),
}
_ARREARS_REQUIRED = ("debtor", "creditor", "creditor_size", "project", "contract_no", "amount", "delivered_on", "due_on")
# fields filled with today's date
_TODAY_FIELDS = {"commitment": ("promised_on",), "finding": ("decision_decided_on",), "arrears": ("found_on",)}
_DEFAULTS = {"commitment": {"status": "履行中", "counterparty_masked": "false"}, "finding": {"subject_kind": "政府机构"}}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _collect(args: argparse.Namespace, kind: str, resource: Resource, depts: Departments) -> dict[str, str]:
    """Values from the options, checked against the schema; all problems reported at once."""
    wrong = [_flag(d) for d, (kinds, _) in _OPTIONS.items() if getattr(args, d, None) is not None and kind not in kinds]
    if getattr(args, "disputed", False) and kind != "arrears":
        wrong.append("--disputed")
    if wrong:
        raise UsageError(f"选项 {'、'.join(wrong)} 不适用于 new {kind}")
    if kind == "arrears":
        missing = [f"{_flag(d)}（{resource.field(d).title}）" for d in _ARREARS_REQUIRED if not getattr(args, d, None)]
        if missing:
            raise UsageError("新增拖欠账款须用选项给出全部必填项，缺少：" + "、".join(missing)
                             + "。例：generator new arrears --debtor zjj --creditor 营口某某有限公司 --creditor-size 小型 "
                             "--project 项目名称 --contract-no 合同编号 --amount 120000.00 --delivered-on 2026-09-01 --due-on 2026-10-01")
    values: dict[str, str] = dict(_DEFAULTS.get(kind, {}))
    errors: list[str] = []
    for dest, (kinds, name) in _OPTIONS.items():
        raw = getattr(args, dest, None)
        if raw is None or kind not in kinds:
            continue
        value = raw.strip()
        f = resource.field(name)
        if references_departments(resource, name):
            value = depts.resolve(value)
            if depts.ids and value not in depts.ids:
                errors.append(f"{_flag(dest)}：“{raw}”不是已登记的单位代码或单位名称 — 可用的单位：{depts.describe()}")
                continue
        for message in check_value(f, value or None):
            errors.append(f"{_flag(dest)}：{message}")
        if f.type == "number":
            value = normalise_number_text(f, value)
        values[name] = value
    if kind == "arrears":
        values["disputed"] = "true" if (args.disputed or values.get("resolution")) else "false"
    if errors:
        raise UsageError("选项的值不符合数据规范：\n  " + "\n  ".join(errors))
    return values


def _choose_id(args: argparse.Namespace, resource: Resource, prefix: str, year: int, existing: set[str]) -> str:
    if args.id:
        pattern = resource.field("id").pattern or ""
        if not re.fullmatch(pattern, args.id):
            raise UsageError(f"--id“{args.id}”的格式不对 — {resource.field('id').description}")
        if args.id in existing:
            raise UsageError(f"编号 {args.id} 已被使用（该记录已存在），不会覆盖。下一个可用编号是 {next_id(prefix, year, existing)}")
        return args.id
    return next_id(prefix, year, existing)


def _next_step(args: argparse.Namespace) -> str:
    data = "" if args.data == "data" else f" --data {args.data}"
    return f"generator validate{data}"


def new_record(args: argparse.Namespace, kind: str) -> Path:
    """Write a YAML record template (commitment or finding); returns the path written."""
    package = load_package()
    resource = package.resource(KINDS[kind])
    data_dir = Path(args.data)
    if not data_dir.is_dir():
        raise UsageError(f"找不到数据文件夹 {data_dir}，请用 --data 指定")
    made_on = site_today(data_dir, args.date)
    depts = Departments.read(data_dir)
    values = _collect(args, kind, resource, depts)
    folder = inside(data_dir, data_dir / resource.source.path)
    existing = {p.stem for p in folder.glob("*.yaml")} if folder.is_dir() else set()
    prefix = id_prefix(resource)
    values["id"] = _choose_id(args, resource, prefix, made_on.year, existing)
    for name in _TODAY_FIELDS[kind]:
        values.setdefault(name, made_on.isoformat())
    path = inside(data_dir, folder / f"{values['id']}.yaml")
    if path.exists():
        raise UsageError(f"文件 {path} 已存在，不会覆盖。下一个可用编号是 {next_id(prefix, made_on.year, existing)}")
    atomic_write(path, record_template(resource, package, values, made_on).encode("utf-8"), exclusive=True)
    return path


def new_arrears(args: argparse.Namespace) -> tuple[Path, str]:
    """Add a checked row to the arrears ledger; returns the ledger path and the new id."""
    package = load_package()
    resource = package.resource("arrears")
    data_dir = Path(args.data)
    if not data_dir.is_dir():
        raise UsageError(f"找不到数据文件夹 {data_dir}，请用 --data 指定")
    made_on = site_today(data_dir, args.date)
    values = _collect(args, "arrears", resource, Departments.read(data_dir))
    doc = CsvDoc.read(data_dir, resource)
    existing = set(doc.column("id"))
    values["id"] = _choose_id(args, resource, id_prefix(resource), made_on.year, existing)
    values.setdefault("found_on", made_on.isoformat())
    record = doc.insert(values)
    text, lines_of = doc.render()
    line = lines_of[id(record)]
    problems = trial_validate(data_dir, {doc.rel: text})
    mine = [p for p in problems if p.is_error and p.file == doc.rel and p.line == line]
    if mine:
        details = "\n  ".join(f"{resource.field(p.field).title if p.field in resource.field_names else ''}：{p.message}"
                              + (f" — {p.hint}" if p.hint else "") for p in mine)
        raise UsageError(f"新的账款记录不符合数据规范，台账没有改动：\n  {details}")
    atomic_write(doc.path, text.encode("utf-8"))
    warnings = [p for p in problems if not p.is_error and p.file == doc.rel and p.line == line]
    for p in warnings:
        print(f"提示：{p.message}" + (f" — {p.hint}" if p.hint else ""))
    return doc.path, values["id"]


def cmd_new(args: argparse.Namespace) -> int:
    from generator.datadir import locked

    if not Path(args.data).is_dir():
        raise UsageError(f"找不到数据文件夹 {args.data}，请用 --data 指定")
    with locked(Path(args.data), f"generator new {args.kind}"):  # the next id is taken under the lock
        return _cmd_new(args)


def _cmd_new(args: argparse.Namespace) -> int:
    kind = args.kind
    if kind == "arrears":
        path, record_id = new_arrears(args)
        print(f"已在 {path} 中新增 {KIND_LABELS[kind]} {record_id}（第 {_line_of(path, record_id)} 行）。")
        print(f"下一步：运行 {_next_step(args)} 检查，然后提交修改。")
        return 0
    path = new_record(args, kind)
    print(f"已生成 {KIND_LABELS[kind]} 记录：{path}")
    print(f"下一步：请填写标注“{REQUIRED_MARK}”的字段，然后运行 {_next_step(args)}")
    return 0


def _line_of(path: Path, record_id: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(record_id + ","):
            return n
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `generator new` to the command line (see generator.cli._EXTRA_COMMANDS)."""
    p = command("new", "新建记录：按下一个可用编号生成承诺/失信记录模板，或在账款台账中新增一行", cmd_new)
    p.add_argument("kind", choices=sorted(KINDS), metavar="KIND",
                   help="commitment（政府承诺）、finding（政务失信记录）或 arrears（拖欠中小企业账款）")
    p.add_argument("--id", default=None, help="指定编号（须符合格式且未被使用），默认取下一个可用编号")
    p.add_argument("--date", default=None, help="把“今天”固定为该日期（YYYY-MM-DD），默认为北京时间今天")
    g = p.add_argument_group("政府承诺（commitment）")
    g.add_argument("--title", help="承诺事项")
    g.add_argument("--department", help="责任单位（单位代码或单位名称）")
    g.add_argument("--deadline", help="兑现期限（YYYY-MM-DD）")
    g.add_argument("--status", help="履行状态（默认 履行中）")
    g.add_argument("--category", help="承诺类别或失信类别")
    g = p.add_argument_group("政务失信记录（finding）")
    g.add_argument("--subject", help="失信主体单位（单位代码或单位名称）")
    g.add_argument("--subject-kind", help="主体类型（默认 政府机构）")
    g.add_argument("--severity", help="失信程度：严重、一般、轻微")
    g = p.add_argument_group("拖欠中小企业账款（arrears，前八项必填）")
    g.add_argument("--debtor", help="债务单位（单位代码或单位名称）")
    g.add_argument("--creditor", help="债权企业名称")
    g.add_argument("--creditor-size", help="企业规模：中型、小型、微型")
    g.add_argument("--project", help="项目名称")
    g.add_argument("--contract-no", help="合同编号")
    g.add_argument("--amount", help="欠款金额（元），如 120000.00")
    g.add_argument("--delivered-on", help="交付（验收）日期（YYYY-MM-DD）")
    g.add_argument("--due-on", help="约定付款日期（YYYY-MM-DD）")
    g.add_argument("--creditor-code", help="统一社会信用代码（可选）")
    g.add_argument("--agreed-daily-rate", help="约定逾期利率（%%/日，可选）")
    g.add_argument("--disputed", action="store_true", help="账款有争议（须同时给出 --resolution）")
    g.add_argument("--resolution", help="争议解决方式：协商、调解、诉讼、仲裁")
    g.add_argument("--note", help="备注（可选）")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("请使用 generator new")
