"""Open data and the change feed: everything a reader can download or subscribe to.

`write_open_data` writes into the MkDocs docs folder (served at /data/ and /feed.xml):

    data/datapackage.json       Data Package descriptor: the project's Table Schemas, extensions removed
    data/csv/<resource>.csv     one table per resource: UTF-8 with BOM, CRLF (RFC 4180), header = field names
    data/json/<resource>.json   the same rows as JSON (numbers written from the exact decimal text)
    data/<package>.xlsx         every table in one workbook, one sheet per resource, Chinese headers
    data/<package>.zip          datapackage.json and the CSV files in one download
    data/api/*.json             the static JSON interface: dashboard figures and compact lists
    data/index.md               the 开放数据 page (downloads, how to use them, the interface)
    data/dictionary.md          the 数据字典 page, generated from the schemas
    feed.xml                    Atom feed (RFC 4287) of the latest changes

Rules kept here:
- The rows are what the site shows on the as-of date. `Facts` no longer holds
  findings that are off display, so no file can carry them; child rows follow
  their parents. History rows dated after the as-of date are left out and
  completion dates after it left empty (a build for a past date shows the past).
- Same facts, same bytes: no wall clock anywhere (dates derive from the as-of
  date, zip members get fixed timestamps), and files whose bytes did not change
  are not rewritten, so their mtimes stay.
- Free-text cells of the CSV and XLSX files that start with = + - @ tab or CR get
  a leading single quote (OWASP CSV injection). JSON keeps the text as typed.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo


from generator import urls
from generator.figures import IN_SLUG, Figures, usable as figures_usable
from generator.pack import PackWriter
from generator.files import sweep_stale, write_if_changed
from generator.rules import lpr_json, rules_json, rules_markdown
from generator.derive import CENT, Facts
from generator.schema import TYPE_LABELS, Field, Package, Resource, load_package
from generator.xlsx import (ColumnSheet, DeflateCache, LazySheet, Properties, Sheet, SheetCache, clean_text,
                            column_widths_of, fixed_zip, source_digest, workbook_bytes, xml_text)

__all__ = [
    "DataFile",
    "atom_feed",
    "data_page_markdown",
    "dictionary_markdown",
    "neutralise",
    "public_tables",
    "iter_open_data_files",
    "write_open_data",
]

DATA = "data"  # the package's folder under docs/, served at /data/
FEED = "feed.xml"
FEED_LIMIT = 100
#: Text starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 forbids; a pasted control character must not break the XLSX or the feed.
ATOM_NS = "http://www.w3.org/2005/Atom"
RECORD_KINDS = {"commitments": "政府承诺", "arrears": "拖欠账款", "findings": "失信记录"}


@dataclass(frozen=True)
class DataFile:
    """One file of the package, as the data page lists it."""

    path: str  # relative to docs/data/, with forward slashes
    size: int  # bytes
    rows: int | None = None  # table files: number of data rows


def neutralise(text: str) -> str:
    """'=1+1' → "'=1+1": a spreadsheet shows the text instead of running it."""
    return "'" + text if text.startswith(FORMULA_START) else text


# --- the public tables -------------------------------------------------------------------


def _row(resource: Resource, record: Any, **shown: Any) -> dict[str, Any]:
    """A record's fields by the schema's names; `shown` replaces what the site shows differently."""
    return {f.name: shown[f.name] if f.name in shown else getattr(record, f.name) for f in resource.fields}


def _until(day: date | None, as_of: date) -> date | None:
    return day if day is not None and day <= as_of else None


def _departments(facts: Facts, res: Resource) -> Iterator[dict]:
    for d in facts.departments:
        yield _row(res, d.department)


def _tasks(facts: Facts, res: Resource) -> Iterator[dict]:
    for t in facts.tasks:
        yield _row(res, t.record)


def _task_units(facts: Facts, res: Resource) -> Iterator[dict]:
    for t in facts.tasks:
        for u in t.record.units:
            yield {"task_id": t.record.id, "role": u.role, "unit": u.unit}


def _task_progress(facts: Facts, res: Resource) -> Iterator[dict]:
    for t in facts.tasks:
        for n in t.record.progress:
            if n.date <= facts.as_of:
                yield {"task_id": t.record.id, "date": n.date, "note": n.note}


def _commitments(facts: Facts, res: Resource) -> Iterator[dict]:
    for c in facts.commitments:
        yield _row(res, c.record, counterparty=c.counterparty_shown)


def _commitment_partners(facts: Facts, res: Resource) -> Iterator[dict]:
    for c in facts.commitments:
        for unit in c.record.partners:
            yield {"commitment_id": c.record.id, "unit": unit}


def _commitment_progress(facts: Facts, res: Resource) -> Iterator[dict]:
    for c in facts.commitments:
        for n in c.record.progress:
            if n.date <= facts.as_of:
                yield {"commitment_id": c.record.id, "date": n.date, "note": n.note}


def _commitment_rectification(facts: Facts, res: Resource) -> Iterator[dict]:
    for c in facts.commitments:
        for s in c.record.rectification:
            yield {"commitment_id": c.record.id, "step": s.step, "due": s.due, "done_on": _until(s.done_on, facts.as_of)}


def _arrears(facts: Facts, res: Resource) -> Iterator[dict]:
    for a in facts.arrears:
        yield _row(res, a.record)


def _arrears_plan(facts: Facts, res: Resource) -> Iterator[dict]:
    for a in facts.arrears:
        for i in a.record.plan:
            yield {"arrears_id": a.record.id, "due_on": i.due_on, "amount": i.amount}


def _arrears_repayments(facts: Facts, res: Resource) -> Iterator[dict]:
    for a in facts.arrears:
        for r in a.repayments:  # those made by the as-of date
            yield {"arrears_id": a.record.id, "paid_on": r.paid_on, "seq": r.seq, "amount": r.amount, "note": r.note}


def _findings(facts: Facts, res: Resource) -> Iterator[dict]:
    as_of = facts.as_of
    for f in facts.findings:  # on display only
        r = f.record
        decided = _until(r.repair_decided_on, as_of)
        yield _row(res, r, rectification_done_on=_until(r.rectification_done_on, as_of),
                   repair_applied_on=_until(r.repair_applied_on, as_of), repair_decided_on=decided,
                   repair_outcome=r.repair_outcome if decided else None)


def _finding_related(facts: Facts, res: Resource) -> Iterator[dict]:
    for f in facts.findings:
        for related in f.record.related:
            yield {"finding_id": f.record.id, "related_id": related}


def _finding_objections(facts: Facts, res: Resource) -> Iterator[dict]:
    for f in facts.findings:
        for o in f.record.objections:
            if o.filed_on <= facts.as_of:
                decided = _until(o.decided_on, facts.as_of)
                yield {"finding_id": f.record.id, "filed_on": o.filed_on, "summary": o.summary,
                       "decided_on": decided, "outcome": o.outcome if decided else None}


def _change_rows(parent: str, records) -> Iterator[dict]:
    """Change-log rows as the pages show them: cut at the as-of date by derive, text privacy-filtered."""
    for record_id, changes in records:
        for e in changes:
            yield {parent: record_id, "date": e.date, "fields": "、".join(e.fields), "what": e.what,
                   "reason": e.reason, "basis": e.basis, "document": e.document}


def _commitment_changes(facts: Facts, res: Resource) -> Iterator[dict]:
    yield from _change_rows("commitment_id", ((c.record.id, c.changes) for c in facts.commitments))


def _arrears_changes(facts: Facts, res: Resource) -> Iterator[dict]:
    yield from _change_rows("arrears_id", ((a.record.id, a.changes) for a in facts.arrears))


def _arrears_withdrawals(facts: Facts, res: Resource) -> Iterator[dict]:
    for a in facts.arrears:
        w = a.withdrawal  # withdrawn by the as-of date
        if w is not None:
            yield {"arrears_id": a.record.id, "withdrawn_on": w.date, "reason": w.reason, "document": w.document}


def _finding_changes(facts: Facts, res: Resource) -> Iterator[dict]:
    # findings on display only, and derive gives a finding the law takes down no notes:
    # its correction notes disappear with it
    yield from _change_rows("finding_id", ((f.record.id, f.changes) for f in facts.findings))


def _evaluations(facts: Facts, res: Resource) -> Iterator[dict]:
    for e in sorted(facts.evaluations, key=lambda e: (e.record.year, e.record.department, e.record.method)):
        yield _row(res, e.record)


#: Where each resource's public rows come from; parents in their own order, children after their parent.
#: A table of KIND_TABLES must be made from its record kind's facts and the as-of date alone.
_ROWS: dict[str, Callable[[Facts, Resource], Iterator[dict]]] = {
    "departments": _departments,
    "tasks": _tasks,
    "task_units": _task_units,
    "task_progress": _task_progress,
    "commitments": _commitments,
    "commitment_partners": _commitment_partners,
    "commitment_progress": _commitment_progress,
    "commitment_rectification": _commitment_rectification,
    "commitment_changes": _commitment_changes,
    "arrears": _arrears,
    "arrears_plan": _arrears_plan,
    "arrears_repayments": _arrears_repayments,
    "arrears_changes": _arrears_changes,
    "arrears_withdrawals": _arrears_withdrawals,
    "findings": _findings,
    "finding_related": _finding_related,
    "finding_objections": _finding_objections,
    "finding_changes": _finding_changes,
    "evaluations": _evaluations,
}


def published_resources(package: Package) -> list[Resource]:
    """The schema's resources in its order, without those marked `x-public: false`."""
    hidden = {r["name"] for r in package.descriptor["resources"] if r.get("x-public", True) is False}
    return [r for r in package.resources if r.name not in hidden]


def public_tables(facts: Facts) -> dict[str, list[dict]]:
    """Resource name → rows as the site shows them on the as-of date, typed (date, Decimal, bool, None).

    Keys are the schema's field names in the schema's order. A resource added to
    the schema without a row source here, or a row that does not match its
    schema's fields, is an error rather than a silently wrong download.
    """
    return {res.name: table_rows(facts, res) for res in published_resources(load_package())}


def table_rows(facts: Facts, res: Resource) -> list[dict]:
    """One resource's rows of public_tables."""
    source = _ROWS.get(res.name)
    if source is None:
        raise KeyError(f"开放数据：数据结构中的表 {res.name} 没有对应的行来源（generator/opendata.py 的 _ROWS）")
    names = res.field_names
    rows = []
    for row in source(facts, res):
        if list(row) == names:  # the schema's fields in its order already (the row sources build them so)
            rows.append(row)
            continue
        if len(row) != len(names) or any(n not in row for n in names):
            raise ValueError(f"开放数据：表 {res.name} 的行字段 {sorted(row)} 与数据结构的字段 {names} 不一致")
        rows.append({n: row[n] for n in names})
    return rows


#: The record kinds whose render page keys stand for their facts (render.RenderResult.record_keys),
#: and the public tables made from each kind's facts alone (with the as-of date): a rebuild after
#: one commitment changed takes the arrears and findings tables' digests and row counts from the
#: last build without getting their rows (KindMemo).
KIND_TABLES: dict[str, tuple[str, ...]] = {
    "commitments": ("commitments", "commitment_partners", "commitment_progress", "commitment_rectification",
                    "commitment_changes"),
    "arrears": ("arrears", "arrears_plan", "arrears_repayments", "arrears_changes", "arrears_withdrawals"),
    "findings": ("findings", "finding_related", "finding_objections", "finding_changes"),
}


class KindMemo:
    """What the open data got from each record kind's facts in the last build (its tables' and
    reader tables' digests, their row counts), kept under a key per kind: a digest of the page
    keys of its records in their order (render.RenderResult.record_keys: each stands for its
    record's facts, and holds the whole package's code, the as-of date, the site settings, the
    calendar and the departments, see render._PageCache.key), the as-of date and the site
    settings. A kind whose key is the last build's gives the values kept for it; any record
    changed, added, removed or moved changes the key, and every value of the kind is made
    again. A kind with a record without a key is never kept. The file carries the SHA-256 of
    its content: a damaged or hand-edited file is not used."""

    _FORMAT = 1

    def __init__(self, path: Path, facts: Facts, record_keys: dict[tuple[str, str], str]):
        self.path = Path(path)
        self.keys: dict[str, str] = {}
        for kind in KIND_TABLES:
            keys = [record_keys.get((kind, item.record.id)) for item in getattr(facts, kind)]
            if None not in keys:
                self.keys[kind] = hashlib.sha256(repr((self._FORMAT, kind, facts.as_of, facts.site, keys)).encode(
                    "utf-8", "surrogatepass")).hexdigest()
        self.old: dict[str, dict] = {}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            kinds = saved["kinds"]
            if saved["sha256"] == hashlib.sha256(json.dumps(kinds, sort_keys=True).encode("utf-8")).hexdigest():
                self.old = {kind: entry["values"] for kind, entry in kinds.items()
                            if self.keys.get(kind) is not None and entry["key"] == self.keys[kind]
                            and isinstance(entry["values"], dict)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        self.new: dict[str, dict] = {kind: {"key": key, "values": {}} for kind, key in self.keys.items()}

    def count(self, kind: str | None, name: str, make: Callable[[], int]) -> int:
        """The row count of a table of `kind` (None: a table of no kind), kept or make()."""
        found = self.old.get(kind, {}).get(f"count:{name}") if kind is not None else None
        value = found if found.__class__ is int and found >= 0 else make()
        if kind in self.new:
            self.new[kind]["values"][f"count:{name}"] = value
        return value

    def digest(self, kind: str | None, name: str, make: Callable[[], bytes | None]) -> bytes | None:
        """A digest of a table of `kind` (table_digest, workbook.reader_digests), kept or make()."""
        found = self.old.get(kind, {}).get(f"digest:{name}") if kind is not None else None
        value = None
        if found.__class__ is str and len(found) == 64:
            try:
                value = bytes.fromhex(found)
            except ValueError:
                pass
        if value is None:
            value = make()
        if kind in self.new and value is not None:
            self.new[kind]["values"][f"digest:{name}"] = value.hex()
        return value

    def save(self) -> None:
        kinds = self.new
        data = {"kinds": kinds, "sha256": hashlib.sha256(json.dumps(kinds, sort_keys=True).encode("utf-8")).hexdigest()}
        try:
            write_if_changed(self.path, json.dumps(data, sort_keys=True).encode("utf-8"))
        except OSError:
            pass


class LazyTables(dict):
    """name → value made on first use (make(name)): a table's rows or columns are got from the
    facts only when a file made from them is not taken from a cache."""

    def __init__(self, make: Callable[[str], Any]):
        super().__init__()
        self._make = make

    def __missing__(self, name: str) -> Any:
        value = self[name] = self._make(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:  # every name is one of the tables: made on use
        return self[name]


# --- cells -------------------------------------------------------------------------------


def _decimal_text(value: Decimal, decimals: int | None) -> str:
    """Exact fixed-point text; padded to the field's decimals (money: 2) where that changes nothing."""
    if decimals is not None:
        padded = value.quantize(Decimal(1).scaleb(-decimals))
        if padded == value:
            value = padded
    return format(value, "f")


def _cell_text(value: Any, f: Field) -> str:
    """One CSV cell, per the field's Table Schema type."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal_text(value, f.decimals)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value) if f.is_free_text else value
    return str(value)


def _json_value(value: Any, f: Field) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal_text(value, f.decimals)  # a JSON number, from the exact decimal text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return f'"{value.isoformat()}"'
    return json.dumps(value, ensure_ascii=False)


class ColumnValues(NamedTuple):
    """One column of a table: its values (rows in order), their classes (None left out) and
    whether any value is None. Made once per table and shared by the CSV, the JSON, the
    workbook and the database: each pass over a column's values costs a memory access per
    value (a cache miss at 10^5 rows), so the classes are looked at once."""
    values: Sequence[Any]
    classes: frozenset[type]
    empty: bool


_NONE = type(None)


def column_values(values: Sequence[Any]) -> ColumnValues:
    classes = set(map(type, values))
    empty = _NONE in classes
    classes.discard(_NONE)
    return ColumnValues(values, frozenset(classes), empty)


def table_columns(resource: Resource, rows: list[dict]) -> list[ColumnValues]:
    """The rows' values column by column, in the schema's field order (transposed in C)."""
    names = resource.field_names
    if not rows:
        return [column_values(()) for _ in names]
    if len(names) == 1:
        return [column_values(list(map(itemgetter(names[0]), rows)))]
    return list(map(column_values, zip(*map(itemgetter(*names), rows))))


#: A text starting with one of FORMULA_START, in texts joined by NUL with a NUL in front.
_FORMULA_AT = re.compile("\x00[" + re.escape("".join(FORMULA_START)) + "]")


def _texts(column: ColumnValues) -> Sequence[str]:
    """A column of texts and None as texts ("" for None)."""
    return [v or "" for v in column.values] if column.empty else column.values


def _neutralised(texts: Sequence[str]) -> Sequence[str]:
    """neutralise() of every text of a column of texts: one scan of the column when, as nearly
    always, no text starts like a formula."""
    joined = "\x00" + "\x00".join(texts)
    if joined.count("\x00") != len(texts) or _FORMULA_AT.search(joined):
        return list(map(neutralise, texts))
    return texts


@lru_cache(maxsize=None)
def _decimal_pattern(decimals: int, empty: str) -> re.Pattern:
    """Lines of format(value, "f") that _decimal_text leaves as they are (or `empty`)."""
    number = "-?[0-9]+" + (f"\\.[0-9]{{{decimals}}}" if decimals else "")
    return re.compile(f"(?:(?:{number}|{re.escape(empty)})\n)*")


def _decimal_texts(column: ColumnValues, decimals: int | None, empty: str) -> list[str]:
    """_decimal_text of each value of a column of Decimals (`empty` for None): format() in C,
    and the exact padding rule only when some text has not exactly `decimals` digits after
    its point (checked in one scan of the texts)."""
    fmt = "{:f}".format
    values = column.values
    texts = [empty if v is None else fmt(v) for v in values] if column.empty else list(map(fmt, values))
    if decimals is None or _decimal_pattern(decimals, empty).fullmatch("\n".join(texts) + "\n"):
        return texts
    return [empty if v is None else _decimal_text(v, decimals) for v in values]


def _csv_column(column: ColumnValues, f: Field) -> Sequence[str]:
    """_cell_text of every value of a column; a column of one class (and None) a column at a time."""
    if len(column.classes) == 1:
        kind = next(iter(column.classes))
        values = column.values
        if kind is str:
            texts = _texts(column)
            return _neutralised(texts) if f.is_free_text else texts
        if kind is Decimal:
            return _decimal_texts(column, f.decimals, "")
        if kind is date:
            return ["" if v is None else v.isoformat() for v in values]
    return [_cell_text(v, f) for v in column.values]


def csv_bytes(resource: Resource, rows: list[dict], columns: list[ColumnValues] | None = None) -> bytes:
    """The table as CSV: header = field names, one line a row (the csv module writes the lines).
    `columns`: table_columns(resource, rows), when the caller has them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(resource.field_names)
    columns = table_columns(resource, rows) if columns is None else columns
    writer.writerows(zip(*[_csv_column(column, f) for column, f in zip(columns, resource.fields)]))
    return buf.getvalue().encode("utf-8-sig")


#: A str as json.dumps(text, ensure_ascii=False) writes it.
_JSON_STR = json.encoder.encode_basestring


def _json_column(column: ColumnValues, f: Field) -> Sequence[str]:
    """_json_value of every value of a column; a column of one class (and None) a column at a time."""
    if len(column.classes) == 1:
        kind = next(iter(column.classes))
        values = column.values
        if kind is str:
            return ["null" if v is None else _JSON_STR(v) for v in values] if column.empty else list(map(_JSON_STR, values))
        if kind is Decimal:
            return _decimal_texts(column, f.decimals, "null")  # a JSON number, from the exact decimal text
        if kind is date:
            return ["null" if v is None else f'"{v.isoformat()}"' for v in values]
        if kind is int:
            return ["null" if v is None else int.__repr__(v) for v in values]
        if kind is bool:
            return ["null" if v is None else "true" if v else "false" for v in values]
    return [_json_value(v, f) for v in column.values]


def json_bytes(resource: Resource, rows: list[dict], columns: list[ColumnValues] | None = None) -> bytes:
    """A JSON array of row objects, one row a line, keys in the schema's order.
    `columns`: table_columns(resource, rows), when the caller has them."""
    if not rows:
        return b"[\n]\n"
    # Each line is one %-template of the row's encoded values (a key cannot hold a %: escaped).
    line = "{" + ",".join(json.dumps(f.name).replace("%", "%%") + ":%s" for f in resource.fields) + "}"
    columns = table_columns(resource, rows) if columns is None else columns
    lines = map(line.__mod__, zip(*[_json_column(column, f) for column, f in zip(columns, resource.fields)]))
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")


def _dump(obj: Any) -> bytes:
    """json.dumps(obj, ensure_ascii=False, indent=1) and a line break, as bytes.

    With an indent the json module encodes in pure Python, a generator per container and a
    yield per token (the API lists are megabytes); _indented writes the same text with
    joins. Anything it does not know (another type, a key that is not a str) goes to
    json.dumps, so the text is always json.dumps's (tests/test_opendata.py compares them)."""
    try:
        text = _indented(obj, "\n")
    except _NotPlain:
        text = json.dumps(obj, ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


class _NotPlain(Exception):
    """A value _indented leaves to json.dumps."""


def _indented(value: Any, newline: str) -> str:
    """json.dumps(value, ensure_ascii=False, indent=1) for dicts with str keys, lists, tuples,
    str, int, bool and None (exact classes; floats and the rest raise _NotPlain)."""
    kind = value.__class__
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + " "
        items = []
        for key, item in value.items():
            if key.__class__ is not str:
                raise _NotPlain
            k = item.__class__  # the scalars inline: most values of the API lists
            if k is str:
                items.append(f"{_json_text(key)}: {_json_text(item)}")
            elif item is None:
                items.append(f"{_json_text(key)}: null")
            elif k is int:
                items.append(f"{_json_text(key)}: {int.__repr__(item)}")
            elif k is bool:
                items.append(f"{_json_text(key)}: {'true' if item else 'false'}")
            else:
                items.append(f"{_json_text(key)}: {_indented(item, inner)}")
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + " "
        return "[" + inner + ("," + inner).join([_indented(item, inner) for item in value]) + newline + "]"
    if kind is str:
        return _json_text(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    raise _NotPlain


#: A str as json.dumps writes it with ensure_ascii=False (the json module's own function).
_json_text = json.encoder.encode_basestring


# --- datapackage.json --------------------------------------------------------------------


def _strip_extensions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_extensions(v) for k, v in value.items() if not k.startswith("x-")}
    if isinstance(value, list):
        return [_strip_extensions(v) for v in value]
    return value


@lru_cache(maxsize=1 << 12)  # pure; every feed asks for the same few hundred days
def _midnight(day: date, timezone: str) -> str:
    """Midnight of `day` in the site's zone: 2026-11-13T00:00:00+08:00 (no wall clock)."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone)).isoformat()


def _base_url(facts: Facts) -> str:
    return urls.base(facts.site.base_url)


def package_descriptor(facts: Facts, package: Package, csv_files: dict[str, bytes]) -> dict:
    """The published descriptor: the project's schemas as they are, minus the `x-` extensions.

    One deliberate difference: free-text fields allow one character more than the
    schema, because a neutralised cell carries a leading quote.
    """
    site, raw = facts.site, package.descriptor
    title = ("【演示数据】" if site.sample else "") + raw["title"]
    description = raw.get("description", "")
    if site.sample:
        description = "【演示数据】本数据包中的记录为演示数据，不是真实记录。" + description
    description += ("数据截至 " + facts.as_of.isoformat() + "，与网站显示一致：不在公示期内的失信记录不在其中。"
                    "CSV 为带 BOM 的 UTF-8 编码；以 =、+、-、@、制表符或回车符开头的文本前加了单引号（防公式注入），"
                    "因此自由文本字段的最大长度比原始数据结构多 1。")
    resources = []
    for res in published_resources(package):
        source = next(r for r in raw["resources"] if r["name"] == res.name)
        out = _strip_extensions(source)  # new dicts: the cached schema stays as it is
        data = csv_files[res.name]
        out.update(path=f"csv/{res.name}.csv", profile="tabular-data-resource", format="csv",
                   mediatype="text/csv", encoding="utf-8-sig", bytes=len(data),
                   hash="sha256:" + hashlib.sha256(data).hexdigest())
        for field in out["schema"]["fields"]:
            constraints = field.get("constraints", {})
            if res.field(field["name"]).is_free_text and "maxLength" in constraints:
                constraints["maxLength"] += 1
        resources.append(out)
    keywords = ["诚信政府", "政务诚信", "政府承诺", "拖欠中小企业账款", "政务失信", "信用修复", "评价结果"]
    return {
        "profile": "tabular-data-package",
        "name": raw["name"],
        "title": title,
        "description": description,
        "version": f"{facts.as_of.year}.{facts.as_of.month}.{facts.as_of.day}",
        # The as-of date at midnight in the site's zone: the profile wants an RFC 3339 date-time.
        "created": _midnight(facts.as_of, site.timezone),
        "sample": site.sample,
        "keywords": (["演示数据"] if site.sample else []) + keywords,
        "homepage": _base_url(facts) + DATA + "/",
        "contributors": [{"title": site.publisher, "role": "publisher"}],
        "licenses": [{"title": site.licence.get("name", ""), "path": site.licence.get("url", "")}],
        "resources": resources,
    }


# --- XLSX --------------------------------------------------------------------------------


def xlsx_value(value: Any, f: Field | None) -> tuple[Any, str | None]:
    """A typed Excel value and its number format; free text neutralised against formulas."""
    if isinstance(value, str):
        text = clean_text(value)
        return (neutralise(text) if f is None or f.is_free_text else text), None
    if isinstance(value, Decimal):
        decimals = f.decimals if f else None
        return value, ("0." + "0" * decimals) if decimals else None  # money: 0.00
    if isinstance(value, date):
        return value, "yyyy-mm-dd"
    return value, None


#: A character clean_text drops, but NUL (which joins texts here).
_XML_INVALID_NOT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xlsx_texts(column: ColumnValues, neutral: bool) -> Sequence[Any]:
    """A column of texts and None for a workbook: clean_text of each text, neutralised when
    `neutral` (None stays None); the common column (nothing to drop, nothing like a formula)
    in one scan of the column joined."""
    values = column.values
    texts = _texts(column)
    joined = "\x00" + "\x00".join(texts)
    if joined.count("\x00") != len(texts) or _XML_INVALID_NOT_NUL.search(joined):
        values = [None if v is None else clean_text(v) for v in values]
        texts = [v or "" for v in values]
        joined = "\x00" + "\x00".join(texts)
    if neutral and _FORMULA_AT.search(joined):
        values = [None if v is None else neutralise(v) for v in values]
    return values


#: The number format of a date cell.
DATE_FORMAT = "yyyy-mm-dd"


def xlsx_columns(res: Resource, rows: list[dict], columns: list[ColumnValues] | None = None
                 ) -> tuple[list[Sequence[Any]], list[dict[type, str]]]:
    """xlsx_value of every cell, a column at a time: each column's values (text cleaned and
    neutralised) and the number format of each class of value in it (a ColumnSheet's).
    `columns`: table_columns(res, rows), when the caller has them."""
    values_out, formats = [], []
    for column, f in zip(table_columns(res, rows) if columns is None else columns, res.fields):
        classes, values = column.classes, column.values
        if classes == {str}:
            values = _xlsx_texts(column, f.is_free_text)
        elif any(issubclass(k, str) for k in classes):  # text mixed with other values: cell by cell
            values = [xlsx_value(v, f)[0] if isinstance(v, str) else v for v in values]
        money = ("0." + "0" * f.decimals) if f.decimals else None
        formats.append({k: money if issubclass(k, Decimal) else DATE_FORMAT for k in classes
                        if (issubclass(k, Decimal) and money) or issubclass(k, date)})
        values_out.append(values)
    return values_out, formats


def _sheet_title(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", title).strip("'")[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in used:
        suffix = f"（{n}）"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def table_digest(res: Resource, rows: list[dict], columns: list[ColumnValues] | None = None) -> bytes | None:
    """source_digest of a table: its fields (each field's every attribute, as its dataclass
    repr shows them) and its values column by column (`columns`: table_columns(res, rows))."""
    columns = table_columns(res, rows) if columns is None else columns
    return source_digest(res.name, [repr(f) for f in res.fields], [c.values for c in columns])


def xlsx_bytes(facts: Facts, package: Package, tables: dict[str, list[dict]], cache: SheetCache | None = None,
               digests: dict[str, bytes | None] | None = None,
               columns: dict[str, list[ColumnValues]] | None = None, deflated: DeflateCache | None = None,
               counts: dict[str, int] | None = None) -> bytes:
    """Every table in one workbook: a 说明 sheet, then one sheet per resource with Chinese headers.
    A table's sheet is taken from `cache` when its rows did not change (digests: table_digest
    of each table, and columns: table_columns of each table, when the caller has them); the
    zip members' deflated bytes from `deflated` when they did not change; `counts`: each
    table's row count (a table's rows are then got only when its sheet is made)."""
    site, as_of = facts.site, facts.as_of
    props = Properties(title=("【演示数据】" if site.sample else "") + package.descriptor["title"],
                       creator=site.publisher, created=datetime.combine(as_of, time()),
                       keywords="演示数据" if site.sample else None)
    used: set[str] = {"说明"}
    resources = published_resources(package)
    sheet_names = {res.name: _sheet_title(res.title, used) for res in resources}

    about = [("数据名称", props.title), ("发布机构", site.publisher), ("数据截至", as_of),
             ("是否演示数据", "是（演示数据，不是真实记录）" if site.sample else "否"),
             ("使用许可", f"{site.licence.get('name', '')} {site.licence.get('url', '')}".strip()),
             ("数据字典", _base_url(facts) + DATA + "/dictionary/"),
             ("公式注入防护", "以 =、+、-、@、制表符或回车符开头的文本前加了一个单引号（'），以免被当作公式执行。")]
    about += [(f"工作表：{sheet_names[r.name]}", f"{r.name}（{counts[r.name] if counts else len(tables[r.name])} 行）")
              for r in resources]
    sheets = [Sheet("说明", ["项目", "内容"], [[xlsx_value(k, None), xlsx_value(v, None)] for k, v in about], [16, 60])]
    for res in resources:
        header = [f.title for f in res.fields]

        def make(res=res, header=header) -> ColumnSheet:
            values, formats = xlsx_columns(res, tables[res.name], (columns or {}).get(res.name))
            return ColumnSheet(sheet_names[res.name], header, values, formats, column_widths_of(header, values))

        # Everything make() reads: the sheet's name, the fields' rules, the rows' values.
        if cache is None:
            source = None
        else:
            digest = (digests or {}).get(res.name) or table_digest(res, tables[res.name], (columns or {}).get(res.name))
            source = source_digest(sheet_names[res.name], digest) if digest else None
        sheets.append(LazySheet(sheet_names[res.name], source, make))
    return workbook_bytes(sheets, props, as_of, cache, deflated)


# --- static JSON interface ---------------------------------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(CENT), "f")


@lru_cache(maxsize=None)  # pure; the API lists and every feed ask for the same pages (no bound: see urls.page_url)
def _page(kind: str, record_id: str) -> str:
    """A record's page, relative to the site root."""
    return urls.record_page(kind, record_id)


@dataclass(frozen=True)
class ApiField:
    key: str
    label: str
    get: Callable[[Any], Any]


@dataclass(frozen=True)
class ApiList:
    name: str
    title: str
    items: Callable[[Facts], Iterable[Any]]
    fields: tuple[ApiField, ...]


def _units(t: Any, role: str) -> list[str]:
    return [u.unit for u in t.record.units if u.role == role]


API_LISTS: tuple[ApiList, ...] = (
    ApiList("commitments", "政府承诺", lambda f: f.commitments, (
        ApiField("id", "承诺编号", lambda c: c.record.id),
        ApiField("title", "承诺事项", lambda c: c.record.title),
        ApiField("category", "承诺类别", lambda c: c.record.category),
        ApiField("department", "责任单位代码", lambda c: c.record.department),
        ApiField("department_name", "责任单位名称", lambda c: c.department_name),
        ApiField("status", "履行状态", lambda c: c.record.status),
        ApiField("promised_on", "承诺日期", lambda c: _day(c.record.promised_on)),
        ApiField("deadline", "兑现期限", lambda c: _day(c.record.deadline)),
        ApiField("fulfilled_on", "兑现日期（未兑现为 null）", lambda c: _day(c.record.fulfilled_on)),
        ApiField("overdue", "是否逾期未兑现", lambda c: c.overdue),
        ApiField("days_overdue", "逾期天数", lambda c: c.days_overdue),
        ApiField("fulfilment", "按期兑现、逾期兑现或 null", lambda c: c.fulfilment),
        ApiField("second_default", "整改步骤逾期（二次失信）", lambda c: c.second_default),
        ApiField("url", "记录页面（相对网站根目录）", lambda c: _page("commitments", c.record.id)),
    )),
    ApiList("arrears", "拖欠中小企业账款", lambda f: f.arrears, (
        ApiField("id", "账款编号", lambda a: a.record.id),
        ApiField("project", "项目名称", lambda a: a.record.project),
        ApiField("debtor", "债务单位代码", lambda a: a.record.debtor),
        ApiField("debtor_name", "债务单位名称", lambda a: a.debtor_name),
        ApiField("creditor", "债权企业", lambda a: a.record.creditor),
        ApiField("creditor_size", "企业规模", lambda a: a.record.creditor_size),
        ApiField("amount", "欠款金额（元，字符串）", lambda a: _money(a.record.amount)),
        ApiField("repaid", "已清偿金额（元，字符串）", lambda a: _money(a.repaid)),
        ApiField("outstanding", "未清偿金额（元，字符串）", lambda a: _money(a.outstanding)),
        ApiField("share_cleared", "清偿比例（0 至 1，字符串）", lambda a: format(a.share_cleared, "f")),
        ApiField("interest", "按日利率计算的逾期利息（元，字符串）", lambda a: _money(a.interest)),
        ApiField("status", "清偿状态", lambda a: a.status),
        ApiField("due_on", "约定付款日期", lambda a: _day(a.record.due_on)),
        ApiField("found_on", "认定日期", lambda a: _day(a.record.found_on)),
        ApiField("cleared_on", "全部清偿日期（未清偿为 null）", lambda a: _day(a.cleared_on)),
        ApiField("days_past_due", "逾期天数", lambda a: a.days_past_due),
        ApiField("disputed", "是否有争议", lambda a: a.record.disputed),
        ApiField("disputed_amount", "争议金额（元，字符串；无争议为 0.00，未登记金额的按全部争议）", lambda a: _money(a.disputed_amount)),
        ApiField("wholly_disputed", "是否全部有争议（全部争议不计逾期）", lambda a: a.wholly_disputed),
        ApiField("legal_due", "法定最长付款期限（交付后 60 日）", lambda a: _day(a.legal_due)),
        ApiField("due_used", "计算逾期所用的付款期限（超过法定最长期限的按法定期限；期间届满日为法定休假日的顺延）",
                 lambda a: _day(a.due_used)),
        ApiField("due_moved", "付款期限是否因法定休假日顺延", lambda a: a.due_moved),
        ApiField("due_estimated", "顺延判断是否为估算（该年节假日安排尚未公布）", lambda a: a.due_estimated),
        ApiField("interest_state", "逾期利息处理情况：已支付、已免除、未支付；无逾期利息为 null", lambda a: a.interest_state),
        ApiField("status_note", "清偿状态的限定说明（如本金已清偿、逾期利息未支付）", lambda a: a.status_note),
        ApiField("second_default", "分期清偿计划有未按期清偿的期次（二次失信）", lambda a: a.second_default),
        ApiField("regulation", "适用的条例版本（按合同订立日期，未登记的按交付日期）", lambda a: a.regulation),
        ApiField("url", "记录页面（相对网站根目录）", lambda a: _page("arrears", a.record.id)),
    )),
    ApiList("findings", "政务失信记录（公示中）", lambda f: f.findings, (
        ApiField("id", "记录编号", lambda d: d.record.id),
        ApiField("subject", "失信主体单位代码", lambda d: d.record.subject),
        ApiField("subject_name", "失信主体单位名称", lambda d: d.subject_name),
        ApiField("subject_kind", "主体类型", lambda d: d.record.subject_kind),
        ApiField("severity", "失信程度", lambda d: d.record.severity),
        ApiField("category", "失信类别", lambda d: d.record.category),
        ApiField("decided_on", "认定日期", lambda d: _day(d.record.decision_decided_on)),
        ApiField("published_on", "公示日期", lambda d: _day(d.record.published_on)),
        ApiField("disclosure_end", "公示截止日期（含当日）", lambda d: _day(d.disclosure_end)),
        ApiField("repair_from", "可申请信用修复之日", lambda d: _day(d.repair_from)),
        ApiField("objection_state", "异议状态", lambda d: d.objection_state),
        ApiField("objections", "异议：提出日期 filed_on、答复期限 reply_due、答复期限是否为估算 reply_due_estimated"
                 "（该年节假日安排尚未公布，按周一至周五推算）、是否逾期 overdue",
                 lambda d: [{"filed_on": _day(o.objection.filed_on), "reply_due": _day(o.reply_due),
                             "reply_due_estimated": o.reply_due_estimated, "overdue": o.overdue} for o in d.objections]),
        ApiField("estimated", "是否含有按周一至周五估算的工作日期限", lambda d: d.estimated),
        ApiField("uploaded_on", "上传信用信息平台日期（未登记为 null）", lambda d: _day(d.record.uploaded_on)),
        ApiField("upload_due", "上传期限（认定后第 N 个工作日）", lambda d: _day(d.upload_due)),
        ApiField("upload_due_estimated", "上传期限是否为估算（该年节假日安排尚未公布）", lambda d: d.upload_due_estimated),
        ApiField("upload_state", "上传情况：按期上传、逾期上传、上传日期未登记；非严重失信为 null", lambda d: d.upload_state),
        ApiField("upload_late", "认定机关是否逾期上传", lambda d: d.upload_late),
        ApiField("period_rule", "公示期限所依据的规则", lambda d: d.regime),
        ApiField("rectification_overdue", "严重失信行为是否逾期未整改（或逾期完成整改）", lambda d: d.rectification_overdue),
        ApiField("url", "记录页面（相对网站根目录）", lambda d: _page("findings", d.record.id)),
    )),
    ApiList("evaluations", "评价结果", lambda f: f.evaluations, (
        ApiField("year", "评价年度", lambda e: e.record.year),
        ApiField("department", "被评价单位代码", lambda e: e.record.department),
        ApiField("department_name", "被评价单位名称", lambda e: e.department_name),
        ApiField("method", "评价方式", lambda e: e.record.method),
        ApiField("evaluator", "评价机构", lambda e: e.record.evaluator),
        ApiField("score", "得分（字符串）", lambda e: format(e.record.score, "f")),
        ApiField("grade", "等次", lambda e: e.record.grade),
        ApiField("rank", "同年度、同评价方式中的名次", lambda e: e.rank),
        ApiField("of", "参评单位数", lambda e: e.of),
        ApiField("change", "较上年得分变化（字符串，无上年为 null）",
                 lambda e: None if e.change is None else format(e.change, "f")),
        ApiField("published_on", "公布日期", lambda e: _day(e.record.published_on)),
        ApiField("report", "评价报告链接", lambda e: e.record.report),
        ApiField("url", "被评价单位页面（相对网站根目录）", lambda e: _page("departments", e.record.department)),
    )),
    ApiList("tasks", "实施意见任务分工", lambda f: f.tasks, (
        ApiField("id", "任务编号", lambda t: t.record.id),
        ApiField("section", "所属部分", lambda t: t.record.section),
        ApiField("title", "任务名称", lambda t: t.record.title),
        ApiField("status", "推进状态", lambda t: t.record.status),
        ApiField("lead", "牵头单位代码（或统称）", lambda t: _units(t, "牵头")),
        ApiField("lead_names", "牵头单位名称", lambda t: list(t.lead_names)),
        ApiField("partners", "配合单位代码（或统称）", lambda t: _units(t, "配合")),
        ApiField("partner_names", "配合单位名称", lambda t: list(t.partner_names)),
        ApiField("responsible", "责任单位代码（或统称）", lambda t: _units(t, "责任")),
        ApiField("responsible_names", "责任单位名称", lambda t: list(t.responsible_names)),
        ApiField("url", "任务分工页面（相对网站根目录）", lambda t: "tasks/"),
    )),
    ApiList("departments", "部门与单位", lambda f: f.departments, (
        ApiField("id", "单位代码", lambda d: d.department.id),
        ApiField("name", "单位名称", lambda d: d.department.name),
        ApiField("kind", "单位类别", lambda d: d.department.kind),
        ApiField("active", "是否在用", lambda d: d.department.active),
        ApiField("commitments", "承诺数", lambda d: len(d.commitments)),
        ApiField("commitments_overdue", "逾期未兑现的承诺数", lambda d: d.overdue_commitments),
        ApiField("arrears", "拖欠账款笔数", lambda d: d.arrears_totals.count),
        ApiField("arrears_outstanding", "未清偿金额（元，字符串）", lambda d: _money(d.arrears_totals.outstanding)),
        ApiField("findings", "公示中的失信记录数", lambda d: len(d.findings)),
        ApiField("url", "单位页面（相对网站根目录）", lambda d: _page("departments", d.department.id)),
    )),
)

#: summary.json, documented on the data page.
SUMMARY_DOC = (
    ("as_of", "数据截至日期"),
    ("sample", "是否演示数据"),
    ("site_name", "网站名称"),
    ("publisher", "发布机构"),
    ("commitments", "承诺总数、按状态计数、已兑现数、逾期未兑现数、二次失信数（承诺整改步骤逾期与账款分期未按计划清偿之和；"
                    "second_defaults_arrears 为其中的账款笔数）"),
    ("arrears", "账款笔数，欠款、已清偿、未清偿金额和逾期利息（元，字符串），清偿比例，按状态计数"),
    ("arrears_curve", "按月累计的欠款、清偿和未清偿金额（清偿曲线）"),
    ("findings", "公示中的失信记录数、按失信程度计数、认定机关逾期上传信用平台数（late_uploads）、严重失信整改逾期数（rectifications_overdue）；hidden 为不再公示的记录数（期满、撤销、修复、未公示），只有数量"),
    ("evaluations", "最近评价年度和各等次的单位数"),
    ("tasks", "实施意见任务按推进状态计数"),
)


def _envelope(facts: Facts) -> dict:
    return {"as_of": facts.as_of.isoformat(), "sample": facts.site.sample}


def api_summary(facts: Facts) -> dict:
    s, hidden, totals = facts.summary, facts.hidden_findings, facts.summary.arrears
    return {
        **_envelope(facts),
        "site_name": facts.site.site_name,
        "publisher": facts.site.publisher,
        "commitments": {"total": s.commitments, "by_status": dict(s.commitments_by_status), "kept": s.commitments_kept,
                        "overdue": s.commitments_overdue, "second_defaults": s.second_defaults,
                        "second_defaults_arrears": s.second_defaults_arrears},
        "arrears": {"count": totals.count, "owed": _money(totals.owed), "repaid": _money(totals.repaid),
                    "outstanding": _money(totals.outstanding), "interest": _money(totals.interest),
                    "share_cleared": format(totals.share_cleared, "f"), "by_status": dict(s.arrears_by_status)},
        "arrears_curve": [{"month": p.month, "owed": _money(p.owed), "repaid": _money(p.repaid),
                           "outstanding": _money(p.outstanding)} for p in facts.curve],
        "findings": {"on_display": s.findings_on_display, "by_severity": dict(s.findings_by_severity),
                     "late_uploads": s.late_uploads, "rectifications_overdue": s.rectifications_overdue,
                     "hidden": {"expired": hidden.expired, "revoked": hidden.revoked, "repaired": hidden.repaired,
                                "unpublished": hidden.unpublished}},
        "evaluations": {"latest_year": s.latest_evaluation_year, "latest_grades": dict(s.latest_grades)},
        "tasks": {"by_status": dict(s.tasks_by_status)},
    }


def api_list(facts: Facts, spec: ApiList) -> dict:
    items = [{f.key: f.get(item) for f in spec.fields} for item in spec.items(facts)]
    return {**_envelope(facts), "count": len(items), "items": items}


def api_list_bytes(facts: Facts, spec: ApiList, cache: SheetCache | None = None, records: str | None = None) -> bytes:
    """_dump(api_list(facts, spec)), written a field at a time: each field's values encoded in
    one pass (texts by the json module's C encoder) and each item one %-template of them.
    A value _indented does not write (a float …) sends the whole list to _dump, as before.
    With `cache` (a SheetCache keyed with this module's code), the last build's bytes when
    the list's values are the same: encoding the 5,500 arrears of 10,000 records costs twice
    as much as getting their values. `records` (KindMemo.keys of the list's record kind, when
    its items are that kind's records): the last build's bytes without getting the values
    when the records' facts, the as-of date and the settings are the same."""
    if cache is not None and records is not None:
        return cache.data(source_digest("api list of records", spec.name, _envelope(facts), records),
                          lambda: api_list_bytes(facts, spec))
    keys = [f.key for f in spec.fields]
    if not keys or len(set(keys)) != len(keys) or any(k.__class__ is not str for k in keys):
        return _dump(api_list(facts, spec))  # (a dict would merge two fields of one key)
    gets = [f.get for f in spec.fields]
    rows = [[get(item) for get in gets] for item in spec.items(facts)]
    if cache is None:
        return _api_list_text(facts, spec, rows)
    # Everything the text is made of: the envelope, the fields' keys in order, every value.
    source = source_digest("api list", spec.name, _envelope(facts), keys, rows)
    return cache.data(source, lambda: _api_list_text(facts, spec, rows))


def _api_list_text(facts: Facts, spec: ApiList, rows: list[list[Any]]) -> bytes:
    """api_list_bytes of the list's values (rows: each item's values in the fields' order)."""
    inner = "\n   "  # an item's keys: the items list is at depth 2
    columns = []
    for values in zip(*rows):
        classes = set(map(type, values))
        if classes <= {str}:
            columns.append(list(map(_json_text, values)))
        elif classes <= {str, int, bool, _NONE}:
            columns.append(["null" if v is None else _json_text(v) if v.__class__ is str else
                            ("true" if v else "false") if v.__class__ is bool else int.__repr__(v) for v in values])
        else:
            try:
                columns.append([_indented(v, inner) for v in values])
            except _NotPlain:
                return _dump(api_list(facts, spec))
    head = "{\n " + ",\n ".join(f"{_json_text(k)}: {_indented(v, chr(10) + ' ')}"
                                 for k, v in {**_envelope(facts), "count": len(rows)}.items())
    if not rows:
        return (head + ',\n "items": []\n}\n').encode("utf-8")
    item = "{" + inner + ("," + inner).join(_json_text(f.key).replace("%", "%%") + ": %s" for f in spec.fields) + "\n  }"
    items = ",\n  ".join(map(item.__mod__, zip(*columns)))
    return (head + ',\n "items": [\n  ' + items + "\n ]\n}\n").encode("utf-8")


# --- Markdown pages ----------------------------------------------------------------------

#: Characters Markdown (with tables) or HTML could read as syntax: written as character references.
_MD_SPECIAL = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~<>\"'$=:^"})


def md(text: Any) -> str:
    """Text from data or settings, safe anywhere in a Markdown line, a table cell or a raw HTML block."""
    flat = " ".join(str(text).split())
    return html.escape(flat, quote=False).translate(_MD_SPECIAL)


def _code(text: Any) -> str:
    return f"<code>{md(text)}</code>"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} 字节"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def _source_text(res: Resource, package: Package) -> str:
    s = res.source
    if s.kind == "csv":
        return f"CSV 文件 {_code('data/' + s.path)}"
    if s.kind == "yaml-records":
        return f"{_code('data/' + s.path + '/')} 下的 YAML 记录，每条记录一个文件"
    if s.kind == "yaml-list":
        return f"YAML 文件 {_code('data/' + s.path)} 中的 {_code(s.key)} 列表"
    parent = package.resource(s.parent)
    lists = "、".join(_code(k) for k in s.keys)
    return f"{md(parent.title)}记录中的 {lists} 列表（见 <a href=\"#{parent.name}\">{md(parent.title)}</a>）"


def _constraints(f: Field) -> str:
    parts = []
    if f.enum:
        parts.append("取值：" + "、".join(md(v) for v in f.enum))
    if f.pattern:
        parts.append("格式（正则表达式）：" + _code(f.pattern))
    if f.minimum is not None:
        parts.append(f"最小值 {md(f.minimum)}")
    if f.maximum is not None:
        parts.append(f"最大值 {md(f.maximum)}")
    if f.max_length is not None:
        parts.append(f"最多 {f.max_length} 个字符")
    if f.decimals is not None:
        parts.append(f"最多 {f.decimals} 位小数")
    if f.markdown:
        parts.append("可使用 Markdown")
    return "；".join(parts)


def dictionary_markdown(package: Package) -> str:
    """The 数据字典 page, generated from the schemas: never a hand-written copy."""
    out = [
        "# 数据字典",
        "",
        "本页根据数据结构定义（Table Schema，文件 <code>generator/schemas/datapackage.yaml</code>）自动生成，"
        "与[开放数据](index.md)中的 <code>datapackage.json</code> 描述同一批字段。"
        "字段名即 CSV 文件的表头；Excel 工作簿的表头为中文名称。",
        "",
        "日期格式为 YYYY-MM-DD；金额单位为元；布尔值写作 true 或 false；空单元格表示未填写。",
        "",
    ]
    for res in published_resources(package):
        out += [f"## {md(res.title)} {{#{res.name}}}", ""]
        out.append(f"- 表名：{_code(res.name)}（下载：[CSV](csv/{res.name}.csv)、[JSON](json/{res.name}.json)）")
        out.append(f"- 数据来源：{_source_text(res, package)}")
        if res.primary_key:
            out.append("- 主键：" + " + ".join(_code(k) for k in res.primary_key))
        for fk in res.foreign_keys:
            target = package.resource(fk.resource)
            out.append(f"- 外键：{'、'.join(_code(k) for k in fk.fields)} 引用 "
                       f"<a href=\"#{target.name}\">{md(target.title)}</a> 的 "
                       f"{'、'.join(_code(k) for k in fk.reference)}")
        out += ["", "| 字段名 | 中文名称 | 类型 | 必填 | 约束 | 说明 |", "|---|---|---|---|---|---|"]
        for f in res.fields:
            out.append(f"| {_code(f.name)} | {md(f.title)} | {md(TYPE_LABELS.get(f.type, f.type))} | "
                       f"{'是' if f.required else ''} | {_constraints(f)} | {md(f.description)} |")
        out.append("")
    return "\n".join(out)


def data_page_markdown(facts: Facts, files: list[DataFile], figures: Figures | None = None) -> str:
    """The 开放数据 page: what the package is, the downloads, how to use them, the JSON interface.

    figures: when given, the download sizes and row counts outside headings are placeholders
    and their text is collected there (generator/figures.py): the page's Markdown then stays
    the same when an edit of the data only changes them."""
    site, package = facts.site, load_package()
    sizes = {f.path: f for f in files}
    name = package.descriptor["name"]
    base = _base_url(facts)
    figure = figures.mark if figures is not None else str
    marked = len(figures.values) if figures is not None else 0

    def link(path: str, label: str, heading: bool = False) -> str:
        size = sizes.get(path)
        return f"[{label}]({path})" + (f"（{(str if heading else figure)(_size(size.size))}）" if size else "")

    out = ["# 开放数据", ""]
    if site.sample:
        out += ['!!! warning "演示数据"', "", "    本站和全部下载文件中的记录均为演示数据，不是真实记录。", ""]
    out += [
        f"本站公开的全部记录以开放格式提供下载，数据截至 **{facts.as_of.isoformat()}**，由{md(site.publisher)}发布。"
        "下载文件与网站显示的内容一致：不在公示期内的失信记录（公示期届满、已撤销、已修复或尚未公示）"
        "不包含在任何文件中，只在汇总数字中计数；截至日期之后的事项不计入。",
        "",
        f"这些文件的网址固定不变（{_code(base + DATA + '/')}），每次更新网站时随之更新，可以直接引用。",
        "",
        "## 下载",
        "",
        f"- 数据包说明：{link('datapackage.json', 'datapackage.json')}，"
        "符合 Frictionless Data Package 标准，列明每张表的字段、类型、约束和说明",
        f"- 全部数据表（CSV 与 datapackage.json 打包）：{link(name + '.zip', name + '.zip')}",
        f"- 读者版 Excel 工作簿：{link(name + '-reader.xlsx', name + '-reader.xlsx')}，按网站显示的内容整理："
        "单位写名称，附已清偿、未清偿、逾期天数、逾期利息、状态等计算结果，是否类写“是/否”；"
        "每类记录一个工作表，“说明”工作表列出数据截至日期和各项定义",
        f"- Excel 工作簿（原始数据表）：{link(name + '.xlsx', name + '.xlsx')}，每张表一个工作表，表头为中文字段名",
        f"- SQLite 数据库：{link(name + '.sqlite', name + '.sqlite')}，供 Datasette、DB Browser for SQLite "
        "或 sqlite3 命令行查询：含全部原始数据表（表名、字段与 CSV 相同），按网站显示整理的 "
        "<code>commitments&#95;shown</code>、<code>arrears&#95;shown</code> 等表，"
        "以及列出每个字段中文名称和定义的 <code>columns</code> 表；金额单位为元",
        "- 字段说明：[数据字典](dictionary.md)",
        f"- 更新订阅：[Atom 订阅源](../{FEED})（最近 {FEED_LIMIT} 条变化），按部门的订阅源和截止日期日历见"
        "[订阅更新](../feeds/index.md)",
        "",
        "## 数据表",
        "",
        "| 中文名称 | 表名 | 行数 | CSV | JSON | 字段说明 |",
        "|---|---|---:|---|---|---|",
    ]
    for res in published_resources(package):
        csv_path, json_path = f"csv/{res.name}.csv", f"json/{res.name}.json"
        rows = sizes[csv_path].rows if csv_path in sizes else None
        out.append(f"| {md(res.title)} | {_code(res.name)} | {'' if rows is None else figure(rows)} | "
                   f"{link(csv_path, 'CSV')} | {link(json_path, 'JSON')} | [数据字典](dictionary.md#{res.name}) |")
    out += [
        "",
        "## 使用说明",
        "",
        "### 用 Excel 打开 CSV 文件",
        "",
        "CSV 文件采用带 BOM（字节顺序标记）的 UTF-8 编码，行尾为 CRLF，符合 RFC 4180。"
        "中文版 Windows 上的 Excel 和 WPS 表格双击即可正确显示中文，无需导入向导。"
        "表头为字段名（英文），中文名称和含义见[数据字典](dictionary.md)；Excel 工作簿的表头已是中文名称。",
        "",
        "日期写作 YYYY-MM-DD；金额单位为元，按两位小数写出，不加千位分隔符；是否类字段写作 true 或 false；"
        "空单元格表示未填写。各表之间通过编号关联（例如 <code>commitment&#95;progress</code> 的 "
        "<code>commitment&#95;id</code> 对应 <code>commitments</code> 的 <code>id</code>）。",
        "",
        "### 公式注入防护",
        "",
        "CSV 文件和 Excel 工作簿中，以等号（=）、加号（+）、减号（-）、at 符号（@）、制表符或回车符开头的文本单元格，"
        "前面加了一个单引号（'），以免电子表格软件把它当作公式执行。需要原文时去掉开头的这个单引号即可。"
        "数值和日期单元格不受影响；JSON 文件和 JSON 接口中的文本是原文，没有加单引号。"
        "因此 datapackage.json 中文本字段的最大长度比数据字典所列多 1 个字符。",
        "",
        "### 校验与程序读取",
        "",
        "任何 Frictionless 工具都可以按 datapackage.json 校验数据，例如 "
        "<code>frictionless validate datapackage.json</code>。"
        "用 pandas 读取时请指定编码：<code>pandas.read&#95;csv(\"commitments.csv\", encoding=\"utf-8-sig\")</code>。",
        "",
        "JSON 文件（<code>json/</code>）与 CSV 的行和字段相同，每张表是一个对象数组，一行一个对象；"
        "数值是按原始十进制文本写出的 JSON 数值（金额两位小数），日期是 YYYY-MM-DD 字符串，未填写为 null，文本是原文。",
        "",
        "## 静态 JSON 接口",
        "",
        "为便于在本站数据之上开发应用，以下 JSON 文件随网站一同生成，无需抓取网页。"
        f"网址为 {_code(base + DATA + '/api/')} 加文件名。"
        "列表文件的结构为 <code>{\"as&#95;of\": 数据截至日期, \"sample\": 是否演示数据, \"count\": 条数, \"items\": [...]}</code>；"
        "金额、得分和比例是字符串（避免浮点误差），日期为 YYYY-MM-DD，url 是相对网站根目录的页面地址。",
        "",
        f"### 汇总：{link('api/summary.json', 'api/summary.json', heading=True)}",
        "",
        "首页各项汇总数字。",
        "",
        "| 字段 | 说明 |",
        "|---|---|",
    ]
    out += [f"| {_code(key)} | {md(label)} |" for key, label in SUMMARY_DOC]
    for spec in API_LISTS:
        path = f"api/{spec.name}.json"
        out += ["", f"### {md(spec.title)}：{link(path, path, heading=True)}", "", "| 字段 | 说明 |", "|---|---|"]
        out += [f"| {_code(f.key)} | {md(f.label)} |" for f in spec.fields]
    licence, url = site.licence.get("name", ""), site.licence.get("url", "")
    out += ["", "## 使用许可", ""]
    if url.startswith(("https://", "http://")):
        out.append(f'{md(licence)}（<a href="{html.escape(url, quote=True)}">{md(url)}</a>）。')
    else:
        out.append(f"{md(licence)} {md(url)}".strip() + "。")
    out += ["", f"数据由{md(site.publisher)}发布。引用时请注明来源和数据截至日期。", ""]
    text = "\n".join(out)
    if figures is not None and text.lower().count(IN_SLUG) > len(figures.values) - marked:
        # The data holds placeholder text itself (a resource's title, say): the figures stay here.
        del figures.values[marked:]
        return data_page_markdown(facts, files)
    return text


# --- Atom feed ---------------------------------------------------------------------------


def _xml(text: Any) -> str:
    return clean_text(str(text))


def _tag_authority(facts: Facts) -> str:
    """tag URI authority: the site's host and the year the policy was issued (stable across builds)."""
    host = urlsplit(facts.site.base_url).hostname or "localhost"
    year = str(facts.site.policy.get("date", ""))[:4]
    return f"{host},{year if year.isdigit() else '2024'}"


#: The XSLT stylesheet that makes a feed readable in a browser (docs-relative; see generator/feed.py).
FEED_STYLESHEET = "feeds/feed.xsl"


def _text_escaped(text: str) -> str:
    """Character data as ElementTree writes it."""
    return xml_text(text)


def _clean_escaped(text: str) -> str:
    """_text_escaped(clean_text(text)); most text is printable and holds nothing to clean."""
    return xml_text(text if text.isprintable() else clean_text(text))


def _attr_escaped(text: str) -> str:
    """An attribute value as ElementTree writes it."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;"))


def _el(indent: str, tag: str, text: Any = None, **attrs: str) -> str:
    """One element without children, as ElementTree writes it (empty: <tag … />)."""
    head = tag + "".join(f' {k}="{_attr_escaped(v)}"' for k, v in attrs.items())
    body = None if text is None else _xml(text)
    if not body:
        return f"{indent}<{head} />"
    return f"{indent}<{head}>{_text_escaped(body)}</{tag}>"


def atom_feed(facts: Facts, changes: tuple | None = None, path: str = FEED, title: str | None = None,
              feed_key: str = "feed") -> bytes:
    """The latest changes (newest first, at most FEED_LIMIT) as an Atom 1.0 feed.

    `changes`, `path`, `title` and `feed_key` make a feed of a subset (one department's
    records, generator/feed.py); by default the whole site's feed at /feed.xml. The
    feed names an XSLT stylesheet, so a browser that still runs XSLT shows a page.

    Written as strings, element by element as ElementTree writes them (indented by two
    spaces, empty elements as <tag … />): one feed per department, ~10^4 entries a build.
    """
    site, base = facts.site, _base_url(facts)
    tag = _tag_authority(facts)
    changes = (facts.changes if changes is None else changes)[:FEED_LIMIT]
    midnight: dict[date, str] = {}

    def when(day: date) -> str:
        found = midnight.get(day)
        if found is None:
            found = midnight[day] = _midnight(day, site.timezone)
        return found

    i1, i2 = "\n  ", "\n    "
    out = [f'<feed xmlns="{ATOM_NS}" xml:lang="zh-CN">',
           _el(i1, "title", title or f"{site.site_name} 更新", type="text")]
    if site.sample:
        out.append(_el(i1, "subtitle", "【演示数据】本订阅源中的记录为演示数据，不是真实记录。", type="text"))
    out.append(_el(i1, "link", rel="alternate", type="text/html", href=base))
    out.append(_el(i1, "link", rel="self", type="application/atom+xml", href=base + path))
    out.append(_el(i1, "id", f"tag:{tag}:{feed_key}"))
    out.append(_el(i1, "updated", when(changes[0].date if changes else facts.as_of)))
    out += [i1 + "<author>", _el(i2, "name", site.publisher), _el(i2, "uri", base), i1 + "</author>"]
    if site.licence.get("name"):
        out.append(_el(i1, "rights", site.licence["name"], type="text"))
    seen: dict[str, int] = {}
    by_kind: dict[str, tuple[str, str]] = {}  # record kind → (its label, its <category> element)
    updated_on: dict[date, str] = {}  # day → its <updated> element
    for c in changes:
        digest = hashlib.sha256(c.text.encode("utf-8")).hexdigest()[:8]
        entry_id = f"tag:{tag}:{c.record_kind}/{c.record_id}/{c.kind}/{c.date.isoformat()}/{digest}"
        seen[entry_id] = seen.get(entry_id, 0) + 1
        if seen[entry_id] > 1:  # the same change twice on one day (two equal repayments)
            entry_id += f"-{seen[entry_id]}"
        kind = c.record_kind
        found = by_kind.get(kind)
        if found is None:
            label = RECORD_KINDS.get(kind, kind)
            found = by_kind[kind] = (label, _el(i2, "category", term=kind, label=label))
        label, category = found
        updated = updated_on.get(c.date)
        if updated is None:
            updated = updated_on[c.date] = _el(i2, "updated", when(c.date))
        # The entry as _el writes each element (~10^4 entries a build): title, id and summary
        # are never empty (each holds fixed characters), so never written as <tag … />.
        out.append(
            f'{i1}<entry>{i2}<title type="text">{_clean_escaped(f"{label}｜{c.title}：{c.text}")}</title>'
            f'{i2}<link rel="alternate" type="text/html" href="{_attr_escaped(base + _page(kind, c.record_id))}" />'
            f"{i2}<id>{_clean_escaped(entry_id)}</id>{updated}{category}"
            f'{i2}<summary type="text">{_clean_escaped(f"{c.date.isoformat()} {c.record_id} {c.text}")}</summary>'
            f"{i1}</entry>")
    out.append("\n</feed>")
    stylesheet = "../" * path.count("/") + FEED_STYLESHEET
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<?xml-stylesheet type="text/xsl" href="{stylesheet}"?>\n'
            + "".join(out) + "\n").encode("utf-8")


# --- writing -----------------------------------------------------------------------------


def open_data_files(facts: Facts) -> dict[str, bytes]:
    """Every file of the package and the feed, by path relative to the docs folder."""
    return dict(iter_open_data_files(facts))


def iter_open_data_files(facts: Facts, cache_dir: Path | None = None,
                         record_keys: dict[tuple[str, str], str] | None = None,
                         figures: Figures | None = None) -> Iterator[tuple[str, bytes]]:
    """open_data_files() one file at a time, each as soon as it is made: at 100,000 records
    the files together are several hundred MB, and the build writes each and lets it go.
    With cache_dir (the build folder's cache), the workbooks' sheets and the CSV and JSON of
    unchanged tables, the API lists whose values did not change (xlsx.SheetCache), the zip
    members whose bytes did not change (xlsx.DeflateCache) and the SQLite file's unchanged
    tables (workbook.TableCache) are taken from the last build. With record_keys too
    (render.RenderResult.record_keys), a record kind whose records' facts are the last build's
    (KindMemo) gives its tables' digests and row counts without its rows being got: its files
    all come from those caches. figures: see data_page_markdown."""
    package = load_package()
    resources = published_resources(package)
    by_name = {r.name: r for r in resources}
    tables = LazyTables(lambda name: table_rows(facts, by_name[name]))
    columns = LazyTables(lambda name: table_columns(by_name[name], tables[name]))  # shared by every file of a table
    kind_of = {table: kind for kind, names in KIND_TABLES.items() for table in names}
    memo = (KindMemo(Path(cache_dir) / "open-data-kinds.json", facts, record_keys)
            if cache_dir is not None and record_keys is not None else None)
    if memo is None:
        counts = {r.name: len(tables[r.name]) for r in resources}
    else:
        counts = {r.name: memo.count(kind_of.get(r.name), r.name, lambda r=r: len(tables[r.name])) for r in resources}
    name = package.descriptor["name"]
    sizes: dict[str, int] = {}
    rows: dict[str, int] = {}

    def counted(path: str, data: bytes) -> tuple[str, bytes]:
        sizes[path] = len(data)
        return f"{DATA}/{path}", data

    from generator import workbook  # the reader's workbook and the SQLite file

    sheets = reader_sheets = table_files = deflated = None  # SheetCache of each, with a cache folder
    digests: dict[str, bytes | None] = {}
    if cache_dir is not None:
        deflated = DeflateCache(Path(cache_dir) / "zip-members")  # the three zips' members
        code = [Path(__file__), Path(workbook.__file__)]  # the cells are made here and there
        sheets, reader_sheets, table_files = (SheetCache(Path(cache_dir) / folder, code)
                                              for folder in ("xlsx-sheets", "reader-xlsx-sheets", "open-data-tables"))
        for r in resources:
            def digest(r=r) -> bytes | None:
                return table_digest(r, tables[r.name], columns[r.name])

            digests[r.name] = memo.digest(kind_of.get(r.name), r.name, digest) if memo is not None else digest()

    def table_file(kind: str, r: Resource, make: Callable[..., bytes]) -> bytes:
        """A table's CSV or JSON: from the last build when the table did not change."""
        if table_files is None or digests.get(r.name) is None:
            return make(r, tables[r.name], columns[r.name])
        return table_files.data(source_digest(kind, digests[r.name]), lambda: make(r, tables[r.name], columns[r.name]))

    csvs = {r.name: table_file("csv", r, csv_bytes) for r in resources}
    descriptor = _dump(package_descriptor(facts, package, csvs))
    yield counted("datapackage.json", descriptor)
    yield counted(f"{name}.zip", fixed_zip([("datapackage.json", descriptor)] +
                                           [(f"csv/{r.name}.csv", csvs[r.name]) for r in resources], facts.as_of,
                                           deflated))
    for r in resources:
        yield counted(f"csv/{r.name}.csv", csvs.pop(r.name))
        yield counted(f"json/{r.name}.json", table_file("json", r, json_bytes))
        rows[f"csv/{r.name}.csv"] = rows[f"json/{r.name}.json"] = counts[r.name]
    yield counted(f"{name}.xlsx", xlsx_bytes(facts, package, tables, sheets, digests, columns, deflated, counts))
    table_cache = workbook.TableCache(Path(cache_dir) / "sqlite-tables") if cache_dir is not None else None
    for path, data in workbook.reader_files(facts, name, tables, reader_sheets, columns, deflated, table_cache,
                                            digests, memo).items():
        yield counted(path, data)
    columns.clear()  # every file made from them is made: let them go before the API lists and feed
    for cache in (sheets, reader_sheets, deflated):
        if cache is not None:
            cache.finish()
    yield counted("api/summary.json", _dump(api_summary(facts)))
    yield counted("api/rules.json", _dump({**_envelope(facts), "items": rules_json(facts.site),
                                           "lpr_one_year": lpr_json(facts.site)}))
    for spec in API_LISTS:
        records = memo.keys.get(spec.name) if memo is not None and spec.name in KIND_TABLES else None
        yield counted(f"api/{spec.name}.json", api_list_bytes(facts, spec, table_files, records))
    if table_files is not None:
        table_files.finish()
    if memo is not None:
        memo.save()
    files = [DataFile(path, size, rows.get(path)) for path, size in sorted(sizes.items())]
    yield f"{DATA}/index.md", data_page_markdown(facts, files, figures).encode("utf-8")
    yield f"{DATA}/rules.md", rules_markdown(facts.site).encode("utf-8")
    yield f"{DATA}/dictionary.md", dictionary_markdown(package).encode("utf-8")
    yield FEED, atom_feed(facts)


def write_open_data(facts: Facts, docs_dir: Path, cache_dir: Path | None = None,
                    record_keys: dict[tuple[str, str], str] | None = None,
                    figures_pack: Path | None = None) -> list[Path]:
    """Write docs/data/** and docs/feed.xml; return every file of the package (sorted).

    A file whose bytes did not change is left alone (its mtime stays); files
    under docs/data/ that this run did not produce are removed. cache_dir, record_keys: see
    iter_open_data_files. figures_pack: the 开放数据 page's figures go there, placeholders in
    its Markdown (generator/figures.py; the engine's pack of them, engine.DATA_FIGURES_PACK);
    without it they are in the Markdown.
    """
    docs_dir = Path(docs_dir)
    files = []
    figures = Figures() if figures_pack is not None and figures_usable(facts.site) else None
    for rel, data in iter_open_data_files(facts, cache_dir, record_keys, figures):
        files.append(docs_dir / rel)
        write_if_changed(files[-1], data)
        del data  # before the next file is made
    sweep_stale(docs_dir / DATA, set(files))
    if figures_pack is not None:
        with PackWriter(figures_pack) as pack:
            if figures.values:
                pack.add(f"{DATA}/index.md", {"sizes": [], "figures": figures.values}, b"")
    return sorted(files)
