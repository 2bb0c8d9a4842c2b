"""Stage 2 — validate: check the raw tables against the schema and the cross-record rules.

The schema checks keep frictionless' Table Schema semantics (types, required,
enum, pattern, minimum/maximum, maxLength, primary and foreign keys) but run
column by column over plain lists with compiled patterns (cast_values), because a
100,000-row ledger must validate in seconds. The cross-record rules of records.md follow,
one function each. Every problem is collected before the run stops, so staff
see all of them at once.

On success the typed records (`model.Dataset`) go on to the derive stage.
"""

from __future__ import annotations

import difflib
import operator
import re
from bisect import bisect_left
from collections import defaultdict
from itertools import compress, filterfalse, islice, repeat
from operator import attrgetter
from dataclasses import dataclass, field as dataclass_field, replace
from datetime import date, timedelta
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from typing import AbstractSet, Any, Callable, Iterable, Iterator

from generator import collector, model
from generator.load import RawData, Table, YamlDoc
from generator.review import CHANGE_LOGS, field_tokens, parse_fields
from generator.privacy import (
    KIND_LABELS,
    HistoryFilter,
    find_identifiers,
    find_titled_names,
    load_redactions,
    masked_suggestion,
    might_hide_characters,
    strip_invisible,
    texts_with_possible_identifiers,
    texts_with_possible_titled_names,
    uscc_check_char,
    uscc_is_valid,
)
from generator.problems import WARNING, Problem, sort_problems
from generator.schema import GROUP_TOKENS, Field, Package
from generator.workdays import WorkdayCalendar, parse_calendar_data

_TRUE = {"true", "True", "TRUE", "1"}
_FALSE = {"false", "False", "FALSE", "0"}
_INT_RE = r"[+-]?\d+"
_NUM_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_CN_DATE = re.compile(r"^\s*(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?\s*$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


# --- cell types ------------------------------------------------------------------------


def _date_hint(value: str) -> str:
    m = _CN_DATE.match(value) or _COMPACT_DATE.match(value)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        try:
            return f"日期应写作 {date(y, mo, d).isoformat()}（年-月-日，用短横线，月和日补零）"
        except ValueError:
            pass
    return "日期格式为 YYYY-MM-DD，例如 2024-03-01"


_WAN = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(万|亿)\s*元?$")


def _number_problem(value: str, f: Field) -> tuple[str, str]:
    """(message, hint) for a cell that is not a number."""
    money = f.decimals == 2
    unit = "金额单位为元，" if money else ""
    plain = value.replace(",", "").replace("，", "").strip()
    wan = _WAN.match(plain)
    if money and wan:
        factor = Decimal(10000) if wan.group(2) == "万" else Decimal(100000000)
        yuan = Decimal(wan.group(1)) * factor
        yuan_text = format(yuan.quantize(Decimal(1)) if yuan == yuan.to_integral_value() else yuan.normalize(), "f")
        return (f"“{value}”的单位不对：金额以元为单位",
                f"{wan.group(1)} {wan.group(2)}元即 {yuan_text} 元，应写作 {yuan_text}")
    message = f"“{value}”不是有效的数字"
    if plain != value.strip() and re.fullmatch(_NUM_RE, plain):
        return message, f"{unit}不要加千位分隔符，应写作 {plain}"
    if re.search(r"[零〇一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]", value):
        return message, f"{unit}请用阿拉伯数字书写，如 10000"
    if re.search(r"[元¥￥%％]", value):
        return message, f"{unit}只写数字，不要带单位或符号，应写作 {re.sub(r'[元¥￥%％]', '', plain)}"
    return message, f"{unit}请填写数字，如 1234.5"


def _number_hint(value: str, f: Field) -> str:
    return _number_problem(value, f)[1]


_INT_FULL = re.compile(_INT_RE)
_NUM_FULL = re.compile(_NUM_RE)
_DATE_FULL = re.compile(_DATE_RE)
_FRACTION = re.compile(r"\.(\d*)$")
#: The dates pandas could hold when it parsed them here (1677-09-22 … 2262-04-11); a date
#: outside is "not a date" as before, and no record of this site is near either end.
_DATE_MIN, _DATE_MAX = date(1677, 9, 22), date(2262, 4, 11)


def _as_date(text: str) -> date | None:
    try:
        d = date.fromisoformat(text)
    except ValueError:
        return None
    return d if _DATE_MIN <= d <= _DATE_MAX else None


def _places_pattern(places: int) -> re.Pattern[str]:
    """A number with at most `places` decimals once trailing zeros are dropped: the same cells
    as _NUM_FULL.fullmatch with cast_values' decimals check (digits, then ASCII zeros)."""
    return re.compile(rf"[+-]?(?:\d+(?:\.\d{{0,{places}}}0*)?|\.(?=\d)\d{{0,{places}}}0*)")


_PLACES: dict[int, re.Pattern[str]] = {}


_LINES: dict[re.Pattern[str], re.Pattern[str]] = {}


def _all_fullmatch(pattern: re.Pattern[str], texts: list[str]) -> bool:
    """all(map(pattern.fullmatch, texts)) in C, for a pattern without lookaround (or whose
    lookaround never reaches past a line feed: the number patterns' `\\.(?=\\d)`): the texts
    joined by line feeds, and the pattern anchored at a line's start and end counted over them.
    A match takes at least one whole line and no two matches share a line, so as many matches
    as lines means every line matched alone; a match across lines leaves fewer. A text that
    holds a line feed itself: each text alone. A ledger has 130,000 different amounts."""
    lines = _LINES.get(pattern)
    if lines is None:
        lines = _LINES[pattern] = re.compile(f"^(?:{pattern.pattern})$", pattern.flags | re.MULTILINE)
    text = "\n".join(texts)
    if text.count("\n") != len(texts) - 1:
        return all(map(pattern.fullmatch, texts))
    return lines.subn("", text)[1] == len(texts)  # (the count, without a list of the matches)


def _all_match_schema(pattern: str, texts: list[str]) -> bool:
    """Whether every text matches a schema's pattern whole (texts never empty): through
    _all_fullmatch unless the pattern has a group extension such as a lookaround or an inline
    flag ("(?"), which could see or act across the line feeds. Never True when a text fails;
    False also when a match could take a line feed ([^,]+) or \\A, \\Z look at the joined
    text's ends, which only sends the column to the cell-by-cell path (the schema's patterns
    are of the kind ^AR-[0-9]{4}-[0-9]{3,}$, for which it says exactly what each text says)."""
    compiled = re.compile(pattern)
    if "(?" in pattern:
        return all(map(compiled.fullmatch, texts))
    return _all_fullmatch(compiled, texts)


class _Typed(dict):
    """Text → its typed value, each distinct text converted once, when first met (__missing__):
    a column is typed in one look-up per cell, without a set of its distinct texts first. None
    stays None. A conversion that fails raises (the column then goes cell by cell)."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[Any], Any]):
        super().__init__()
        self.convert = convert

    def __missing__(self, text: Any) -> Any:
        value = self[text] = None if text is None else self.convert(text)
        return value


#: how _cast_distinct converts the texts of a column by its type (a string column: not at all);
#: whatever a conversion accepts, the texts are then checked as cast_values checks them
_CONVERT: dict[str, Callable[[Any], Any]] = {"integer": int, "number": Decimal, "date": date.fromisoformat,
                                             "boolean": _TRUE.__contains__}


def _cast_distinct(cells: list[Any], f: Field, keep: dict[str, AbstractSet[str]] | None = None) -> list[Any] | None:
    """The typed column when every cell is good, each distinct text checked and converted
    once (a ledger repeats its dates, amounts, names and codes massively); None as soon as
    one cell is not (empty but required, or any check fails): cast_values then reports
    the column cell by cell, in row order. The checks run as C loops (map) over the
    distinct texts: the same tests as cast_values, which decides whenever one fails."""
    kind = f.type
    convert = _CONVERT.get(kind)
    typed: list[Any] | None = None
    memo: _Typed | None = None
    try:
        if convert is None:
            # the distinct texts in the order first met, as the memo keeps them (the order the
            # loader made them in: later passes over them read memory in order)
            distinct = dict.fromkeys(cells)
        else:
            # typed while the distinct texts are found (one look-up per cell); checked below
            memo = _Typed(convert)
            typed = list(map(memo.__getitem__, cells))
            distinct = memo
    except (TypeError, ValueError, ArithmeticError):  # a YAML list or mapping where a value belongs, a bad text
        return None
    if None in distinct:  # (the dict answers at once what `None in cells` answers cell by cell)
        if f.required:
            return None
        del distinct[None]
    if not distinct:
        return [None] * len(cells)
    texts = list(distinct)
    if set(map(type, texts)) != {str}:
        return None  # NaN, numbers from elsewhere: the cell-by-cell path
    try:
        if kind == "string":
            joined = "\n".join(texts)
            if might_hide_characters(joined) and strip_invisible(joined) != joined:
                return None
        elif kind == "integer":
            if not all(map(str.isdecimal, texts)) and not all(map(_INT_FULL.fullmatch, texts)):
                return None
        elif kind == "number":
            places = f.decimals
            if places is None:
                pattern = _NUM_FULL
            else:
                pattern = _PLACES.get(places) or _PLACES.setdefault(places, _places_pattern(places))
            if not _all_fullmatch(pattern, texts):
                return None
        elif kind == "date":
            if not all(map(_DATE_FULL.fullmatch, texts)):
                return None
            if min(memo.values()) < _DATE_MIN or max(memo.values()) > _DATE_MAX:
                return None
        elif kind == "boolean":
            if not (_TRUE | _FALSE).issuperset(texts):
                return None
    except (ValueError, ArithmeticError):
        return None
    if f.enum is not None and not set(f.enum).issuperset(texts):
        return None
    if f.pattern is not None and ("" in distinct or not _all_match_schema(f.pattern, texts)):
        return None
    if f.max_length is not None and max(map(len, texts)) > f.max_length:
        return None
    if f.minimum is not None or f.maximum is not None:
        lo = Decimal(str(f.minimum)) if f.minimum is not None else None
        hi = Decimal(str(f.maximum)) if f.maximum is not None else None
        values = list(memo.values()) if memo is not None else texts
        if (lo is not None and min(values) < lo) or (hi is not None and max(values) > hi):
            return None
    if memo is None:
        if keep is not None:
            keep[f.name] = distinct.keys()  # a text column's distinct texts (no None): see Context.distinct
        return cells  # the cells are the typed values (a table's columns are never changed)
    return typed


def cast_values(cells: list[Any], f: Field, report: Callable[[int, str, str], None],
                keep: dict[str, AbstractSet[str]] | None = None) -> list[Any]:
    """Check and convert one column (a list of raw cells, None where empty); report(row,
    message, hint) for every bad cell, in row order per kind of check; the typed values,
    None where empty or bad. Plain Python over the cells: no per-cell pandas calls; a
    column whose cells are all good is typed once per distinct text (_cast_distinct)."""
    fast = _cast_distinct(cells, f, keep)
    if fast is not None:
        return fast
    values: list[Any] = [None] * len(cells)
    # present cells; NaN (a YAML .nan) counts as empty, as it did in pandas
    present = [i for i, v in enumerate(cells) if v is not None and not (v.__class__ is float and v != v)]
    if f.required and len(present) < len(cells):
        given = set(present)
        for i in range(len(cells)):
            if i not in given:
                report(i, f"必填项“{f.title}”没有填写", f.description)
    if not present:
        return values
    strings = [cells[i] for i in present]
    strings = [v if v.__class__ is str else str(v) for v in strings]
    text = dict(zip(present, strings))
    bad: set[int] = set()

    if f.type == "string":
        # Zero-width and bidirectional control characters (U+202E …) are never published.
        # One scan of the whole column first: they are rare ("\n" is neither side of a joiner).
        joined = "\n".join(strings)
        if strip_invisible(joined) != joined:
            text = {i: strip_invisible(v) for i, v in text.items()}
    elif f.type == "integer":
        for i, v in text.items():
            if not _INT_FULL.fullmatch(v):
                report(i, f"“{v}”不是整数", "请填写不带小数点的数字")
                bad.add(i)
    elif f.type == "number":
        for i, v in text.items():
            if not _NUM_FULL.fullmatch(v):
                report(i, *_number_problem(v, f))
                bad.add(i)
        if f.decimals is not None:
            for i, v in text.items():
                if i in bad:
                    continue
                m = _FRACTION.search(v)
                if m and len(m.group(1).rstrip("0")) > f.decimals:
                    report(i, f"“{v}”的小数位超过 {f.decimals} 位", f"最多保留 {f.decimals} 位小数")
                    bad.add(i)
    elif f.type == "date":
        dates: dict[int, date] = {}
        for i, v in text.items():
            shaped = _DATE_FULL.fullmatch(v) is not None
            d = _as_date(v) if shaped else None
            if d is None:
                if shaped:
                    report(i, f"{f.title}“{v}”不是存在的日期", "请核对月份和日期")
                else:
                    report(i, f"{f.title}“{v}”的格式不对", _date_hint(v))
                bad.add(i)
            else:
                dates[i] = d
    elif f.type == "boolean":
        for i, v in text.items():
            if v not in _TRUE and v not in _FALSE:
                report(i, f"“{v}”不是是/否值", "请填写 true（是）或 false（否）")
                bad.add(i)

    if f.enum is not None:
        allowed = set(f.enum)
        for i, v in text.items():
            if v not in allowed:
                if i not in bad:
                    guess = difflib.get_close_matches(v, f.enum, n=1, cutoff=0.3)
                    hint = (f"是不是“{guess[0]}”？" if guess else "") + f"可选值：{'、'.join(f.enum)}"
                    report(i, f"“{v}”不是允许的取值", hint)
                bad.add(i)
    if f.pattern is not None:
        pattern = re.compile(f.pattern)
        for i, v in text.items():
            if not pattern.fullmatch(v):
                if i not in bad:
                    report(i, f"“{v}”的格式不对", f.description)
                bad.add(i)
    if f.max_length is not None:
        for i, v in text.items():
            if len(v) > f.max_length:
                if i not in bad:
                    report(i, f"内容过长（{len(v)} 字），上限 {f.max_length} 字", "请精简，详细材料可在附件或链接中提供")
                bad.add(i)

    good = [i for i in present if i not in bad] if bad else present
    if f.type == "integer":
        converted = [int(text[i]) for i in good]
    elif f.type == "number":
        converted = [Decimal(text[i]) for i in good]
    elif f.type == "date":
        converted = [dates[i] for i in good]
    elif f.type == "boolean":
        converted = [text[i] in _TRUE for i in good]
    else:
        converted = [text[i] for i in good]

    if f.minimum is not None or f.maximum is not None:
        lo = Decimal(str(f.minimum)) if f.minimum is not None else None
        hi = Decimal(str(f.maximum)) if f.maximum is not None else None
        for i, v in zip(good, converted):
            if lo is not None and v < lo:
                report(i, f"{f.title}“{v}”小于下限 {f.minimum}", f"应不小于 {f.minimum}" + ("；金额须为正数" if f.decimals == 2 else ""))
            elif hi is not None and v > hi:
                report(i, f"{f.title}“{v}”大于上限 {f.maximum}", f"应不大于 {f.maximum}")
    if len(converted) == len(values):
        return converted  # every cell present and good (the usual case): already in row order
    for i, v in zip(good, converted):
        values[i] = v
    return values


# --- context for the cross-record rules -------------------------------------------------


@dataclass
class Context:
    package: Package
    tables: dict[str, Table]
    rows: dict[str, list[dict[str, Any]]]  # typed rows; None where a cell was bad
    site: model.Site | None
    calendar: WorkdayCalendar
    as_of: date | None = None  # the build's date, for warnings about the calendar ahead
    #: the same cells column by column (table → field → list in row order), typed and as given:
    #: a rule over a 100,000-row ledger screens whole columns in C before looking at rows
    columns: dict[str, dict[str, list[Any]]] | None = None
    raw_columns: dict[str, dict[str, list[Any]]] | None = None
    #: what several rules and the records work out once from the columns (_by_debt)
    cache: dict[Any, Any] = dataclass_field(default_factory=dict)
    #: table → field → the distinct texts of a text column (no None) whose every cell is good, as
    #: typing found them: the keys, the references and the personal-data screen need no set of
    #: their own over 100,000 cells. A set-like view of a dict's keys, in the order first met. Never changed.
    distinct: dict[str, dict[str, AbstractSet[str]]] = dataclass_field(default_factory=dict)

    def distinct_of(self, table: str, field: str) -> AbstractSet[str] | None:
        return self.distinct.get(table, {}).get(field)

    def given(self, table: str, index: int, field: str) -> bool:
        """Whether staff filled the cell at all (a bad value is given, but None once typed)."""
        return self.tables[table].cell(index, field) is not None

    def problem(self, table: str, index: int, field: str | None, message: str, hint: str = "",
                severity: str = "error", code: str = "rule") -> Problem:
        file, line = self.tables[table].where(index, field)
        return Problem(file, line, field, message, hint, severity, code)


def _typed_tables(raw: RawData, problems: list[Problem]) -> tuple[dict[str, list[dict[str, Any]]], dict, dict, dict]:
    """Typed rows of every table, the typed and the raw cells by table and column, and the
    distinct texts of the text columns whose every cell is good (Context.distinct)."""
    typed_columns: dict[str, dict[str, list[Any]]] = {}
    distinct: dict[str, dict[str, AbstractSet[str]]] = {}
    raw_columns: dict[str, dict[str, list[Any]]] = {}
    for name, table in raw.tables.items():
        resource = table.resource
        n = len(table)
        keys = [f.name for f in resource.fields]
        given = table.column_cells(keys)
        raw_columns[name] = dict(zip(keys, given))
        columns: list[list[Any]] = []
        for f, cells in zip(resource.fields, given):
            if not n:
                columns.append([])
                continue

            def report(i: int, message: str, hint: str, _f: Field = f, _t: Table = table) -> None:
                file, line = _t.where(i, _f.name)
                problems.append(Problem(file, line, _f.name, message, hint, code="cell"))

            columns.append(cast_values(cells, f, report, distinct.setdefault(name, {})))
        typed_columns[name] = dict(zip(keys, columns))
    return (_Rows(typed_columns, {name: len(table) for name, table in raw.tables.items()}), typed_columns, raw_columns,
            distinct)


class _Rows(dict):
    """Typed rows by table name, a table's row dicts made from its typed columns when a rule
    first asks for them: the rules that read a big ledger's repayments and instalments
    column by column never build their 270,000 dicts."""

    def __init__(self, columns: dict[str, dict[str, list[Any]]], counts: dict[str, int]):
        super().__init__()
        self._columns, self._counts = columns, counts

    def __missing__(self, name: str) -> list[dict[str, Any]]:
        columns = self._columns[name]
        keys = list(columns)
        rows = list(map(dict, map(zip, repeat(keys), zip(*columns.values())))) if keys else [{} for _ in range(self._counts[name])]
        self[name] = rows
        return rows


def _all_distinct(columns: dict[str, list[Any]], key: tuple[str, ...] | list[str]) -> bool:
    """Whether no two rows share their key (built in C: the usual case of a big ledger)."""
    if len(key) == 1:
        cells = columns[key[0]]
        return len(set(cells)) == len(cells)
    return len(set(zip(*(columns[k] for k in key)))) == len(columns[key[0]])


def _check_keys(ctx: Context) -> Iterator[Problem]:
    referenced: dict[tuple[str, str], set] = {}
    for resource in ctx.package.resources:
        columns = ctx.columns[resource.name] if ctx.columns is not None else None
        table = ctx.tables[resource.name]
        texts = ctx.distinct_of(resource.name, resource.primary_key[0]) if len(resource.primary_key) == 1 else None
        if texts is not None and len(texts) == len(table):
            pass  # as many distinct texts, none empty, as rows: no key repeats
        elif columns is not None and resource.name in _LEDGER_ORDER and ctx.columns.get("arrears") and \
                tuple(resource.primary_key) == ("arrears_id", *_LEDGER_ORDER[resource.name]) and \
                _ledger_keys_distinct(ctx, resource.name):
            pass  # a ledger's repayments or plan: keys as integers
        elif resource.primary_key and (columns is None or not _all_distinct(columns, resource.primary_key)):
            rows = ctx.rows[resource.name]
            seen: dict = {}
            pk = resource.primary_key
            # single-column keys (most tables) without a tuple per row
            keys = ((row[pk[0]],) for row in rows) if len(pk) == 1 else (tuple(row[k] for k in pk) for row in rows)
            for i, key in enumerate(keys):
                if None in key:
                    continue
                if key in seen:
                    file, line = table.where(seen[key], resource.primary_key[0])
                    shown = "、".join(str(v) for v in key)
                    yield ctx.problem(resource.name, i, resource.primary_key[0], f"“{shown}”重复（{file}:{line} 已有）",
                                      "每条记录的编号必须唯一；新记录请用 generator new 取得下一个编号", code="duplicate")
                else:
                    seen[key] = i
        for fk in resource.foreign_keys:
            field = fk.fields[0]
            if len(fk.fields) == 1:
                target_key = (fk.resource, fk.reference[0])
                if target_key not in referenced:  # several tables refer to the same ids
                    referenced[target_key] = ctx.distinct_of(*target_key) or (
                        set(ctx.columns[fk.resource][fk.reference[0]]) if ctx.columns is not None
                        else {r[fk.reference[0]] for r in ctx.rows[fk.resource]})
                single = referenced[target_key]  # (with or without None: a reference's None is never looked up)
                given = ctx.distinct_of(resource.name, field)  # (without None)
                if given is not None and given <= single:
                    continue  # every reference found (the usual case): no row by row look-up
                if (set(columns[field]) if columns is not None else {row[field] for row in ctx.rows[resource.name]}) \
                        - single <= {None}:
                    continue
                rows = ctx.rows[resource.name]
                missing = ((i, (row[field],)) for i, row in enumerate(rows)
                           if row[field] is not None and row[field] not in single)
                targets_of = lambda: {(t,) for t in single}  # noqa: E731 - only for the hint
            else:
                rows = ctx.rows[resource.name]
                targets = {tuple(r[k] for k in fk.reference) for r in ctx.rows[fk.resource]}
                missing = ((i, key) for i, key in ((i, tuple(row[k] for k in fk.fields)) for i, row in enumerate(rows))
                           if None not in key and key not in targets)
                targets_of = lambda targets=targets: targets  # noqa: E731
            for i, key in missing:
                value = key[0]
                if fk.resource == "departments":
                    ids = sorted(t[0] for t in targets_of() if t[0])
                    message, hint = _unknown_unit(ctx, str(value), ids, "单位代码见 data/departments.csv")
                    yield ctx.problem(resource.name, i, field, message, hint, code="foreign-key")
                else:
                    target = ctx.package.resource(fk.resource)
                    yield ctx.problem(resource.name, i, field, f"{target.title}中没有编号“{value}”",
                                      f"请先在 {target.source.path or target.name} 中登记", code="foreign-key")


def _unknown_unit(ctx: Context, value: str, ids: list[str], fallback: str) -> tuple[str, str]:
    """(message, hint) for a department reference that is not a registered id.

    Records refer to departments by code, never by name (a name changes with a
    reorganisation, the code in every URL does not): a name, or something close
    to one, gets its code suggested. `generator import` converts names itself.
    """
    by_name = {r["name"]: r["id"] for r in ctx.rows["departments"] if r["id"] and r["name"]}
    if value in by_name:
        return (f"“{value}”是单位名称，这里要填单位代码",
                f"应写作 {by_name[value]}（{value}的单位代码，见 data/departments.csv）")
    guess = difflib.get_close_matches(value, ids, n=1)
    if guess:
        return f"“{value}”不是已登记的单位代码", f"是不是 {guess[0]}？"
    close = difflib.get_close_matches(value, sorted(by_name), n=1, cutoff=0.7)
    if close:
        return (f"“{value}”不是已登记的单位代码",
                f"是不是{close[0]}？其单位代码为 {by_name[close[0]]}（见 data/departments.csv）")
    return f"“{value}”不是已登记的单位代码", fallback


# --- cross-record rules (records.md) ---------------------------------------------------

Rule = Callable[[Context], Iterable[Problem]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


@rule
def record_id_matches_file(ctx: Context) -> Iterator[Problem]:
    """A YAML record's id is its file name, so an id can never point outside its folder."""
    for resource in ctx.package.resources:
        if resource.source.kind != "yaml-records":
            continue
        table = ctx.tables[resource.name]
        for i, row in enumerate(table.rows):
            stem = table.files[i].rsplit("/", 1)[-1].removesuffix(".yaml")
            if row["id"] is not None and row["id"] != stem:
                yield ctx.problem(resource.name, i, "id", f"编号“{row['id']}”与文件名“{stem}.yaml”不一致",
                                  "编号即文件名：请改正编号，或把文件改名为与编号一致")


@rule
def units_are_known(ctx: Context) -> Iterator[Problem]:
    """Partners and task units are department ids or the two group tokens of the policy."""
    ids = {r["id"] for r in ctx.rows["departments"] if r["id"]}
    for table in ("task_units", "commitment_partners"):
        for i, row in enumerate(ctx.rows[table]):
            unit = row["unit"]
            if unit is None or unit in ids or unit in GROUP_TOKENS:
                continue
            message, hint = _unknown_unit(ctx, unit, sorted(ids), f"请填写 data/departments.csv 中的单位代码，或“{GROUP_TOKENS[0]}”“{GROUP_TOKENS[1]}”")
            yield ctx.problem(table, i, "unit", message, hint, code="foreign-key")


def _before(a: date | None, b: date | None) -> bool:
    return a is not None and b is not None and a < b


@rule
def commitment_status_fields(ctx: Context) -> Iterator[Problem]:
    for i, c in enumerate(ctx.rows["commitments"]):
        status = c["status"]
        if status == "已兑现" and not ctx.given("commitments", i, "fulfilled_on"):
            yield ctx.problem("commitments", i, "fulfilled_on", "状态为“已兑现”时必须填写兑现日期", "填写承诺全部兑现的日期")
        if c["fulfilled_on"] is not None and status not in ("已兑现",):
            yield ctx.problem("commitments", i, "fulfilled_on", f"填写了兑现日期，但状态是“{status}”",
                              "全部兑现的请把状态改为“已兑现”；尚未全部兑现的请删除兑现日期")
        if status in ("依法变更", "已终止"):
            if not ctx.given("commitments", i, "change_decided_on"):
                yield ctx.problem("commitments", i, "change_decided_on", f"状态为“{status}”时必须填写决定日期", "在 change: 下填写 decided_on")
            if not ctx.given("commitments", i, "change_basis"):
                yield ctx.problem("commitments", i, "change_basis", f"状态为“{status}”时必须写明法定依据",
                                  "在 change: 下填写 basis（实施意见四（四）：改变政府承诺应当严格依照法定权限和程序进行）")
            if status == "依法变更" and not ctx.given("commitments", i, "change_compensation"):
                yield ctx.problem("commitments", i, "change_compensation", "依法变更承诺时必须写明对企业和投资人财产损失的补偿情况",
                                  "在 change: 下填写 compensation（实施意见四（四）：对相关企业和投资人的财产损失依法予以补偿）；未造成损失的请写明")
            words = ctx.site.rules.forbidden_reasons if ctx.site else ()
            said = [w for w in words if w in (c["change_basis"] or "")]
            if said:
                yield ctx.problem("commitments", i, "change_basis", f"变更或终止的理由提到“{said[0]}”",
                                  "实施意见四（四）规定不得以政府换届、相关责任人更替、当地政策调整等理由不履行承诺；请核实变更依据",
                                  severity=WARNING)
        elif c["change_decided_on"] or c["change_basis"]:
            yield ctx.problem("commitments", i, "change_decided_on", f"填写了变更情况，但状态是“{status}”",
                              "依法变更的承诺请把状态改为“依法变更”，依法终止的改为“已终止”", severity=WARNING)
        if _before(c["deadline"], c["promised_on"]):
            yield ctx.problem("commitments", i, "deadline", "兑现期限早于承诺日期", "请核对两个日期")
        if _before(c["fulfilled_on"], c["promised_on"]):
            yield ctx.problem("commitments", i, "fulfilled_on", "兑现日期早于承诺日期", "请核对两个日期")
        if c["counterparty_masked"] and not c["counterparty"]:
            yield ctx.problem("commitments", i, "counterparty_masked", "设置了遮蔽显示，但没有填写承诺对象", "填写承诺对象，或删除此项", severity=WARNING)


@rule
def withdrawals_and_change_logs(ctx: Context) -> Iterator[Problem]:
    """A withdrawal has its date and reason; a change-log entry names fields that exist and is not in the future."""
    for i, c in enumerate(ctx.rows["commitments"]):
        if c["status"] == "已撤回":
            for name, key in (("withdrawn_on", "date"), ("withdrawal_reason", "reason")):
                if not ctx.given("commitments", i, name):
                    # the missing value has no line: point at the status that asks for it
                    file, line = ctx.tables["commitments"].where(i, "status")
                    yield Problem(file, line, name, f"状态为“已撤回”时必须填写撤回的{ctx.package.resource('commitments').field(name).title[2:]}",
                                  f"在 withdrawal: 下填写 {key}", code="rule")
            if _before(c["withdrawn_on"], c["promised_on"]):
                yield ctx.problem("commitments", i, "withdrawn_on", "撤回日期早于承诺日期", "请核对日期")
        elif c["withdrawn_on"] or c["withdrawal_reason"]:
            yield ctx.problem("commitments", i, "withdrawn_on", f"填写了撤回情况，但状态是“{c['status']}”",
                              "撤回的承诺请把状态改为“已撤回”；未撤回的请删除 withdrawal")
    found = dict(zip(ctx.columns["arrears"]["id"], ctx.columns["arrears"]["found_on"])) if ctx.columns is not None \
        else {a["id"]: a["found_on"] for a in ctx.rows["arrears"]}
    for i, w in enumerate(ctx.rows["arrears_withdrawals"]):
        if _before(w["withdrawn_on"], found.get(w["arrears_id"])):
            yield ctx.problem("arrears_withdrawals", i, "withdrawn_on", "撤回日期早于认定日期", "请核对日期")
    for kind, (log, parent) in CHANGE_LOGS.items():
        tokens = field_tokens(ctx.package, kind)
        for i, e in enumerate(ctx.rows[log]):
            covered, unknown = parse_fields(e["fields"], tokens)
            if unknown:
                known = "、".join(sorted(n for t, n in tokens.items() if t == n))
                yield ctx.problem(log, i, "fields", f"变更字段中的“{'、'.join(unknown)}”不是本类记录的字段",
                                  f"请写字段名或中文标题，如：{known}", code="change-log")
            elif not covered and ctx.given(log, i, "fields"):
                yield ctx.problem(log, i, "fields", "变更字段为空", "请写明变更了哪个字段", code="change-log")


@rule
def histories_in_order(ctx: Context) -> Iterator[Problem]:
    """Progress notes are oldest first and never predate the record they belong to."""
    starts = {c["id"]: c["promised_on"] for c in ctx.rows["commitments"]}
    last: dict[tuple[str, Any], date] = {}
    for table, parent in (("commitment_progress", "commitment_id"), ("task_progress", "task_id")):
        for i, note in enumerate(ctx.rows[table]):
            key = (table, note[parent])
            if note["date"] is None:
                continue
            if key in last and note["date"] < last[key]:
                yield ctx.problem(table, i, "date", "进展记录没有按时间先后排列", "请按日期从早到晚排列", severity=WARNING)
            last[key] = note["date"]
            start = starts.get(note[parent]) if table == "commitment_progress" else None
            if _before(note["date"], start):
                yield ctx.problem(table, i, "date", "进展日期早于承诺日期", "请核对日期")


def _columns_of(ctx: Context, table: str, names: tuple[str, ...]) -> list[list[Any]]:
    """Typed cells of `names` in `table`, column by column."""
    if ctx.columns is not None:
        return [ctx.columns[table][n] for n in names]
    rows = ctx.rows[table]
    return [[r[n] for r in rows] for n in names]


@rule
def arrears_dates_and_dispute(ctx: Context) -> Iterator[Problem]:
    max_term = ctx.site.rules.payment.max_term_days if ctx.site else 60
    # a creditor recurs: each distinct code checked once, before the rows
    codes = ctx.distinct_of("arrears", "creditor_code") or set(_columns_of(ctx, "arrears", ("creditor_code",))[0])
    bad_codes = {code for code in codes if code and not uscc_is_valid(code)}
    lpr = ctx.site is not None and bool(ctx.site.rules.lpr)
    columns = _columns_of(ctx, "arrears", ("due_on", "delivered_on", "found_on", "disputed", "amount", "disputed_amount",
                                           "agreed_daily_rate", "signed_on", "resolution", "creditor_code"))
    yield from _arrears_rows(ctx, columns, _arrears_rows_to_check(columns, max_term, lpr, bad_codes), max_term, lpr, bad_codes)


def _arrears_rows_to_check(columns: list[list[Any]], max_term: int, lpr: bool, bad_codes: set[str]) -> Iterable[int]:
    """The rows of the arrears columns (as arrears_dates_and_dispute reads them) in which one of its
    checks could fire, found column by column in C: a date before its delivery or a term over
    max_term, a dispute, a disputed amount, a resolution, an agreed rate (with an LPR table), a
    code in bad_codes. All rows where a date is empty. Most rows of a ledger have none of them."""
    due, delivered, found, disputed, _, disputed_amount, rate, _, resolution, codes = columns
    rows = range(len(due))
    try:
        terms = list(map(operator.sub, due, delivered))  # (an empty date: TypeError)
        maybe = set(compress(rows, map(operator.gt, terms, repeat(timedelta(days=max_term)))))
        maybe.update(compress(rows, map(operator.lt, terms, repeat(timedelta(0)))))
        maybe.update(compress(rows, map(operator.lt, found, delivered)))
    except TypeError:
        return rows
    maybe.update(compress(rows, disputed))
    maybe.update(compress(rows, map(operator.is_not, disputed_amount, repeat(None))))
    maybe.update(compress(rows, resolution))
    if lpr:
        maybe.update(compress(rows, map(operator.is_not, rate, repeat(None))))
    if bad_codes:
        maybe.update(compress(rows, map(bad_codes.__contains__, codes)))
    return sorted(maybe)


def _arrears_rows(ctx: Context, columns: list[list[Any]], rows: Iterable[int], max_term: int, lpr: bool,
                  bad_codes: set[str]) -> Iterator[Problem]:
    """arrears_dates_and_dispute's checks of each of `rows`."""
    floors: dict[date, Decimal | None] = {}  # contracts signed on the same day: one look-up
    rows = list(rows)
    # over the columns (no row dicts): the checks of a row are the same, in the same order
    for i, (due_on, delivered_on, found_on, disputed, amount, disputed_amount, rate, signed_on, resolution, code) in \
            zip(rows, zip(*(map(column.__getitem__, rows) for column in columns))):
        if _before(due_on, delivered_on):
            yield ctx.problem("arrears", i, "due_on", "约定付款日期早于交付日期", "请核对两个日期")
        elif due_on and delivered_on and (due_on - delivered_on).days > max_term:
            days = (due_on - delivered_on).days
            yield ctx.problem("arrears", i, "due_on", f"约定付款期限为交付后 {days} 天，超过法定最长 {max_term} 天",
                              f"保障中小企业款项支付条例规定机关、事业单位付款期限最长不超过 {max_term} 日；本站按法定最长期限计算逾期和利息，"
                              "页面同时列出约定日期；请核实合同条款", severity=WARNING)
        if _before(found_on, delivered_on):
            yield ctx.problem("arrears", i, "found_on", "认定日期早于交付日期", "请核对两个日期")
        if disputed and not ctx.given("arrears", i, "resolution"):
            yield ctx.problem("arrears", i, "resolution", "有争议的账款必须填写争议解决方式", "可选：协商、调解、诉讼、仲裁")
        if disputed and disputed_amount is None and not ctx.given("arrears", i, "disputed_amount"):
            yield ctx.problem("arrears", i, "disputed_amount", "有争议的账款没有填写争议金额",
                              "请填写争议金额：无争议部分应当及时支付，按无争议部分计算逾期；未填写时按全部争议处理", severity=WARNING)
        if disputed_amount and not disputed:
            yield ctx.problem("arrears", i, "disputed_amount", "填写了争议金额，但“是否有争议”为 false", "有争议请把 disputed 改为 true，否则清空争议金额")
        if disputed_amount is not None and amount is not None and disputed_amount > amount:
            yield ctx.problem("arrears", i, "disputed_amount", f"争议金额 {disputed_amount} 元超过欠款金额 {amount} 元", "请核对金额")
        signed = signed_on or delivered_on
        if rate is not None and signed is not None and lpr:
            floor = floors[signed] if signed in floors else floors.setdefault(signed, ctx.site.rules.lpr_floor(signed))
            annual = rate * 365
            month = f"{signed.year}-{signed.month:02d}"
            if floor is None:
                yield ctx.problem("arrears", i, "agreed_daily_rate", f"LPR 表尚未收录 {month}，无法核对约定逾期利率",
                                  "请在 data/site.yaml 的 rules.lpr.one_year 中补充该月公布的1年期LPR", severity=WARNING)
            elif annual < floor:
                yield ctx.problem("arrears", i, "agreed_daily_rate",
                                  f"约定逾期利率每日 {rate}%（折合年利率 {annual.normalize()}%）低于合同订立时的1年期LPR {floor}%",
                                  "保障中小企业款项支付条例规定约定利率不得低于合同订立时1年期贷款市场报价利率；请核实合同条款",
                                  severity=WARNING)
        if disputed is False and resolution:
            yield ctx.problem("arrears", i, "resolution", "填写了争议解决方式，但“是否有争议”为 false", "有争议请把 disputed 改为 true，否则清空解决方式")
        if code in bad_codes:
            right = uscc_check_char(code[:17])
            yield ctx.problem("arrears", i, "creditor_code", f"统一社会信用代码“{code}”的校验码不对",
                              f"按 GB 32100 计算，第 18 位应为 {right}；请与营业执照核对")


def _yuan(value: Decimal) -> str:
    return format(value.quantize(Decimal(1)) if value == value.to_integral_value() else value, "f")


@rule
def amounts_are_plausible(ctx: Context) -> Iterator[Problem]:
    """An amount far outside what its kind of debt usually costs is most likely a unit slip (万元 for 元)."""
    if ctx.site is None or not ctx.site.rules.plausible_amounts:
        return
    ranges = ctx.site.rules.plausible_amounts
    amounts, projects = _columns_of(ctx, "arrears", ("amount", "project"))
    # project name → its range, once per name (a ledger repeats its projects)
    kinds = {project: next((r for r in ranges if r.matches(project)), None)
             for project in (ctx.distinct_of("arrears", "project") or set(projects)) | {None}}
    # the rows whose amount is outside its range, found column by column in C (no range: the
    # infinities); all rows when an amount is empty
    rows: Iterable[int] = range(len(amounts))
    low, high = Decimal("-Infinity"), Decimal("Infinity")
    lows = {p: low if r is None or r.minimum is None else r.minimum for p, r in kinds.items()}
    highs = {p: high if r is None or r.maximum is None else r.maximum for p, r in kinds.items()}
    try:
        rows = sorted({*compress(rows, map(operator.lt, amounts, map(lows.__getitem__, projects))),
                       *compress(rows, map(operator.gt, amounts, map(highs.__getitem__, projects)))})
    except TypeError:
        pass
    for i, amount, project in zip(rows, map(amounts.__getitem__, rows), map(projects.__getitem__, rows)):
        if amount is None:
            continue
        found = kinds[project]
        if found is None:
            continue
        check = "请核对金额是否以元为单位、有无多写或漏写位数；金额无误可忽略本提示"
        if found.minimum is not None and amount < found.minimum:
            yield ctx.problem("arrears", i, "amount",
                              f"欠款金额 {_yuan(amount)} 元对{found.kind}而言过小（通常不少于 {_yuan(found.minimum)} 元）",
                              check, severity=WARNING, code="plausibility")
        elif found.maximum is not None and amount > found.maximum:
            yield ctx.problem("arrears", i, "amount",
                              f"欠款金额 {_yuan(amount)} 元对{found.kind}而言过大（通常不超过 {_yuan(found.maximum)} 元）",
                              check, severity=WARNING, code="plausibility")


#: each child table of the ledger: the fields that order a debt's rows (its key after arrears_id)
_LEDGER_ORDER = {"arrears_repayments": ("paid_on", "seq"), "arrears_plan": ("due_on",)}


def _debt_rows(ctx: Context, table: str) -> list[int] | None:
    """Each row's debt in a ledger's child table (repayments, plan) as the debt's row in the
    arrears table; None when a row's debt is empty or unknown, or two debts share an id. Kept on
    the context: the one look-up of the debt ids (text) per row; the payment screen and the
    records then work with row numbers."""
    key = ("debt_rows", table)
    if key in ctx.cache:
        return ctx.cache[key]
    ids = ctx.columns["arrears"]["id"]
    index = ctx.cache.get("debt_index")
    if index is None:
        index = ctx.cache["debt_index"] = dict(zip(ids, range(len(ids))))
    rows = None
    if len(index) == len(ids) and None not in index:
        try:
            rows = list(map(index.__getitem__, ctx.columns[table]["arrears_id"]))
        except KeyError:
            pass
    ctx.cache[key] = rows
    return rows


def _ledger_when(ctx: Context, table: str) -> list[int] | None:
    """Each row's place in its debt's own order (_LEDGER_ORDER: paid_on and seq, due_on) as one
    integer, day number * 100 + seq (seq 0 to 99; the schema allows 1 to 99), kept on the context;
    None when a day or a seq is empty or a seq is out of that range."""
    key = ("when", table)
    if key in ctx.cache:
        return ctx.cache[key]
    columns = ctx.columns[table]
    day, *rest = _LEDGER_ORDER[table]
    when = None
    try:
        when = list(map(date.toordinal, columns[day]))  # (an empty day: TypeError)
        if rest and when:
            seq = columns[rest[0]]
            if min(seq) < 0 or max(seq) > 99:  # (an empty seq: TypeError)
                raise ValueError
            when = list(map(operator.add, map(operator.mul, when, repeat(100)), seq))
    except (TypeError, ValueError):
        when = None
    ctx.cache[key] = when
    return when


def _ledger_sorted(ctx: Context, table: str) -> tuple[list[int], list[int]] | None:
    """A ledger's child table (repayments, plan) in its primary key's order, kept on the context:
    the row numbers sorted by each row's key as one integer (the debt's row, _debt_rows, * 2**30 +
    _ledger_when) and where each debt's rows begin in that order (bounds[d] to bounds[d + 1] are
    debt row d's; one more bound than debts). None when a row's debt or order is unknown (see
    _debt_rows and _ledger_when), and when two rows share their key (the rows are then compared).
    One sort serves the key check, the payment screen and the records; each debt's rows are a
    slice of it, so no Python step runs per row."""
    key = ("sorted", table)
    if key in ctx.cache:
        return ctx.cache[key]
    debts, when = _debt_rows(ctx, table), _ledger_when(ctx, table)
    found = None
    if debts is not None and when is not None:
        keys = list(map(operator.add, map(operator.mul, debts, repeat(1 << 30)), when))
        order = sorted(range(len(keys)), key=keys.__getitem__)
        keys = list(map(keys.__getitem__, order))
        if not any(map(operator.eq, keys, islice(keys, 1, None))):
            # debt d's rows begin at the first key >= d * 2**30
            starts = map(operator.lshift, range(len(ctx.columns["arrears"]["id"]) + 1), repeat(30))
            found = order, list(map(bisect_left, repeat(keys), starts))
    ctx.cache[key] = found
    return found


def _ledger_keys_distinct(ctx: Context, table: str) -> bool:
    """Whether no two rows of a ledger's child table share their primary key (arrears_id and
    its _LEDGER_ORDER fields), with each key as one integer (_ledger_sorted): no tuple per row.
    False decides nothing (the rows are then compared)."""
    return _ledger_sorted(ctx, table) is not None


def _debt_slices(bounds: list[int]) -> Iterator[slice]:
    """Each debt's slice of its child table's sorted rows (_ledger_sorted's bounds)."""
    return map(slice, bounds, islice(bounds, 1, None))


def _payments_fit(ctx: Context) -> bool:
    """Whether repayments_within_debt certainly finds nothing (the usual case of a ledger of
    100,000 debts and their 270,000 repayments and instalments): over the columns, with each
    row's debt as a row number (_debt_rows), one pass per table adding up each debt's amounts,
    the comparisons in C.

    With every amount given and not negative, a running total never exceeds the final total
    of its debt, so comparing each debt's final totals with the amount owed is the same
    check; a payment dated before its debt's delivery fails a comparison of two columns.
    Totals are exact (any rounding would raise Inexact and leave the decision to the rule).
    Anything unusual (an empty or negative cell, an unknown debt, an empty amount owed or
    delivery date) is left to the rule."""
    if ctx.columns is None:
        return False
    arrears = ctx.columns["arrears"]
    delivered, owed = arrears["delivered_on"], arrears["amount"]
    zero = Decimal()
    try:
        with localcontext() as exact:
            exact.traps[Inexact] = True
            for table, day_field in (("arrears_repayments", "paid_on"), ("arrears_plan", "due_on")):
                columns = ctx.columns[table]
                amounts, days = columns["amount"], columns[day_field]
                if not amounts:
                    continue
                debts, ordered = _debt_rows(ctx, table), _ledger_sorted(ctx, table)
                if debts is None or ordered is None or min(amounts) < zero:  # (an empty amount: TypeError)
                    return False
                if any(map(operator.lt, days, map(delivered.__getitem__, debts))):  # (an empty date: TypeError)
                    return False
                # each debt's total: the sum of its slice of the sorted amounts (zero for none)
                order, bounds = ordered
                # each debt's amounts read as they are added (its rows: a slice of the order)
                totals = map(sum, map(map, repeat(amounts.__getitem__), map(order.__getitem__, _debt_slices(bounds))),
                             repeat(zero))
                if any(map(operator.gt, totals, owed)):  # (an amount owed that is empty: TypeError)
                    return False
    except (TypeError, Inexact):
        return False
    return True


@rule
def repayments_within_debt(ctx: Context) -> Iterator[Problem]:
    """Repayments never exceed the amount owed nor predate the debt; nor does the plan."""
    if _payments_fit(ctx):
        return
    debts = {a["id"]: a for a in ctx.rows["arrears"] if a["id"]}
    zero = Decimal()
    paid: dict[str, Decimal] = {}
    for i, r in enumerate(ctx.rows["arrears_repayments"]):
        key, amount = r["arrears_id"], r["amount"]
        debt = debts.get(key)
        if debt is None or amount is None:
            continue
        paid_on, delivered_on = r["paid_on"], debt["delivered_on"]
        if paid_on is not None and delivered_on is not None and paid_on < delivered_on:
            yield ctx.problem("arrears_repayments", i, "paid_on", f"支付日期早于交付日期（{debt['delivered_on']}）",
                              "清偿不能早于欠款发生；预付款不属于拖欠账款")
        total = paid[key] = paid.get(key, zero) + amount
        owed = debt["amount"]
        if owed is not None and total > owed:
            yield ctx.problem("arrears_repayments", i, "amount",
                              f"累计清偿 {total} 元，超过欠款金额 {owed} 元",
                              "请核对支付金额；多付的款项不属于清偿")
    planned: dict[str, Decimal] = defaultdict(Decimal)
    for i, p in enumerate(ctx.rows["arrears_plan"]):
        debt = debts.get(p["arrears_id"])
        if debt is None or p["amount"] is None:
            continue
        planned[p["arrears_id"]] += p["amount"]
        if debt["amount"] is not None and planned[p["arrears_id"]] > debt["amount"]:
            yield ctx.problem("arrears_plan", i, "amount", f"分期计划合计 {planned[p['arrears_id']]} 元，超过欠款金额 {debt['amount']} 元",
                              "各期金额之和不能超过欠款金额")
        if _before(p["due_on"], debt["delivered_on"]):
            yield ctx.problem("arrears_plan", i, "due_on", "计划清偿日期早于交付日期", "请核对日期")


@rule
def finding_fields(ctx: Context) -> Iterator[Problem]:
    for i, f in enumerate(ctx.rows["findings"]):
        decided = f["decision_decided_on"]
        if f["subject_kind"] == "公务员" and not ctx.given("findings", i, "person"):
            yield ctx.problem("findings", i, "person", "主体类型为公务员时须填写遮蔽后的姓名", "只写姓加“某”，如“张某”")
        if f["subject_kind"] == "政府机构" and ctx.given("findings", i, "person"):
            yield ctx.problem("findings", i, "person", "主体类型为政府机构时不填写个人姓名", "请删除 person")
        if f["subject_kind"] == "公务员" and not ctx.given("findings", i, "sanction"):
            yield ctx.problem("findings", i, "sanction", "主体类型为公务员时须填写政务处分种类",
                              "可选：警告、记过、记大过、降级、撤职、开除；公示期限按《公职人员政务处分法》第八条的处分期间计算")
        if f["subject_kind"] == "政府机构" and ctx.given("findings", i, "sanction"):
            yield ctx.problem("findings", i, "sanction", "政务处分只适用于公务员", "主体类型为政府机构时请删除 sanction")
        if _before(f.get("uploaded_on"), decided):
            yield ctx.problem("findings", i, "uploaded_on", "上传信用信息平台日期早于认定日期", "请核对两个日期")
        if _before(f["published_on"], f["decision_decided_on"]):
            yield ctx.problem("findings", i, "published_on", "公示日期早于认定日期", "请核对两个日期")
        if f["severity"] == "轻微" and f["published_on"] and ctx.site:
            regime = ctx.site.rules.regime_on(decided) if decided else None
            if regime and not regime.periods["轻微"].published:
                yield ctx.problem("findings", i, "published_on", "轻微失信信息原则上不予公示",
                                  f"{regime.name}：轻微失信信息一般不公示，确需公示的最长 3 个月", severity=WARNING)
        if f["repair_outcome"] and not ctx.given("findings", i, "repair_decided_on"):
            yield ctx.problem("findings", i, "repair_decided_on", "填写了修复结果，但没有修复决定日期", "在 repair: 下填写 decided_on")
        if f["repair_decided_on"] and not ctx.given("findings", i, "repair_outcome"):
            yield ctx.problem("findings", i, "repair_outcome", "填写了修复决定日期，但没有修复结果", "可选：准予修复、不予修复")
        if (f["repair_decided_on"] or f["repair_outcome"]) and not ctx.given("findings", i, "repair_applied_on"):
            yield ctx.problem("findings", i, "repair_applied_on", "有修复决定，但没有申请日期", "在 repair: 下填写 applied_on")
        if _before(f["repair_decided_on"], f["repair_applied_on"]):
            yield ctx.problem("findings", i, "repair_decided_on", "修复决定日期早于申请日期", "请核对两个日期")
        if _before(f["rectification_done_on"], decided):
            yield ctx.problem("findings", i, "rectification_done_on", "整改完成日期早于认定日期", "请核对日期")
        if not ctx.site or decided is None or f["severity"] is None:
            continue
        regime = ctx.site.rules.regime_on(decided)
        if regime is None:
            yield ctx.problem("findings", i, "decision_decided_on", "认定日期早于 site.yaml 中最早的公示规则",
                              "请在 rules.disclosure_regimes 中补充适用的规则")
            continue
        if f["disclosure_until"]:
            low, high = regime.last_day(decided, f["severity"], "min"), regime.last_day(decided, f["severity"], "max")
            if not low <= f["disclosure_until"] <= high:
                yield ctx.problem("findings", i, "disclosure_until", f"公示截止日期超出{regime.name}允许的范围",
                                  f"{f['severity']}失信信息的公示截止日期应在 {low} 至 {high} 之间")
        if f["repair_applied_on"] and f["repair_applied_on"] < regime.repair_from(decided, f["severity"]):
            yield ctx.problem("findings", i, "repair_applied_on", "在最短公示期届满前申请了信用修复",
                              f"按{regime.name}，自 {regime.repair_from(decided, f['severity'])} 起方可申请修复")


@rule
def objections_in_order(ctx: Context) -> Iterator[Problem]:
    decided = {f["id"]: f["decision_decided_on"] for f in ctx.rows["findings"]}
    for i, o in enumerate(ctx.rows["finding_objections"]):
        if _before(o["filed_on"], decided.get(o["finding_id"])):
            yield ctx.problem("finding_objections", i, "filed_on", "异议提出日期早于认定日期", "请核对日期")
        if _before(o["decided_on"], o["filed_on"]):
            yield ctx.problem("finding_objections", i, "decided_on", "异议处理日期早于提出日期", "请核对日期")
        if o["outcome"] and not ctx.given("finding_objections", i, "decided_on"):
            yield ctx.problem("finding_objections", i, "decided_on", "填写了处理结果，但没有处理日期", "请填写 decided_on")
        if o["decided_on"] and not ctx.given("finding_objections", i, "outcome"):
            yield ctx.problem("finding_objections", i, "outcome", "填写了处理日期，但没有处理结果", "可选：维持、更正、撤销")


@rule
def related_records_exist(ctx: Context) -> Iterator[Problem]:
    known = {r["id"] for r in ctx.rows["commitments"]} | (
        ctx.distinct_of("arrears", "id") or (set(ctx.columns["arrears"]["id"]) if ctx.columns is not None
                                             else {r["id"] for r in ctx.rows["arrears"]}))
    for i, r in enumerate(ctx.rows["finding_related"]):
        if r["related_id"] and r["related_id"] not in known:
            yield ctx.problem("finding_related", i, "related_id", f"关联事项“{r['related_id']}”不存在",
                              "请填写已登记的承诺（CM-）或账款（AR-）编号")


CALENDAR_HINT = ("国务院办公厅公布该年节假日安排后，请按通知在 data/calendar.yaml 中补充该年的放假和调休上班日期"
                 "（格式见该文件开头的说明；chinese-calendar 程序库收录后可删除）")


def _estimate_warning(ctx: Context, table: str, i: int, field: str, years: tuple[int, ...], what: str) -> Problem:
    listed = "、".join(str(y) for y in years)
    return ctx.problem(table, i, field, f"尚未收录 {listed} 年的节假日安排：{what}按周一至周五推算，页面和开放数据中标注为估算",
                       CALENDAR_HINT, severity=WARNING, code="calendar")


@rule
def working_day_calendar_covers(ctx: Context) -> Iterator[Problem]:
    """A working-day count that touches a year no schedule covers is an estimate: warn, never fail.

    The build goes on (the daily rebuild is what takes expired findings down); the
    dates are computed on weekdays alone and flagged as estimates by derive.
    """
    if ctx.site is None:
        return
    rules = ctx.site.rules
    cal = ctx.calendar
    for i, f in enumerate(ctx.rows["findings"]):
        start = f["decision_decided_on"]
        if start is None or f["severity"] != "严重":
            continue
        event = f.get("uploaded_on") or f["published_on"]
        end = max(event or start, cal.add_workdays(start, rules.serious_publish_workdays))
        years = cal.uncovered_years(start, end)
        if years:
            yield _estimate_warning(ctx, "findings", i, "decision_decided_on", years,
                                    f"“认定后 {rules.serious_publish_workdays} 个工作日内上传”的期限")
    for i, o in enumerate(ctx.rows["finding_objections"]):
        if o["filed_on"] is None:
            continue
        due = cal.add_workdays(o["filed_on"], rules.objection_reply_workdays)
        years = cal.uncovered_years(o["filed_on"], max(due, o["decided_on"] or due))
        if years:
            yield _estimate_warning(ctx, "finding_objections", i, "filed_on", years,
                                    f"异议答复期限（{rules.objection_reply_workdays} 个工作日，{due.isoformat()}）")
    as_of = ctx.as_of
    if as_of is not None:
        missing = [y for y in (as_of.year, as_of.year + 1) if not cal.covers(y) and (y == as_of.year or as_of.month >= 11)]
        if missing:
            listed = "、".join(str(y) for y in missing)
            yield Problem("calendar.yaml", 1, "years", f"尚未收录 {listed} 年的节假日安排：落在该年的工作日期限将按周一至周五估算",
                          CALENDAR_HINT, WARNING, "calendar")


@rule
def evaluation_grade_matches_score(ctx: Context) -> Iterator[Problem]:
    bands = ((Decimal(90), "优秀"), (Decimal(80), "良好"), (Decimal(60), "合格"), (Decimal(0), "不合格"))
    for i, e in enumerate(ctx.rows["evaluations"]):
        if e["score"] is None or e["grade"] is None:
            continue
        expected = next(g for floor, g in bands if e["score"] >= floor)
        if expected != e["grade"]:
            yield ctx.problem("evaluations", i, "grade", f"得分 {e['score']} 与等次“{e['grade']}”不一致",
                              f"按常用标准应为“{expected}”；如评价办法另有规定可忽略此提示", severity=WARNING)


@rule
def no_personal_identifiers(ctx: Context) -> Iterator[Problem]:
    """Free text is published: an ID card, mobile or bank card number must never be in it,
    in whatever form it was typed (privacy.find_identifiers); a full name after a title
    (副主任刘德华) is a warning (privacy.find_titled_names)."""
    seen: set[str] = set()  # the same text recurs (notes, names): look at it once
    found: dict[str, tuple] = {}  # text → (identifiers, names), for the texts with either
    for resource in ctx.package.resources:
        table = ctx.tables[resource.name]
        given = ctx.raw_columns[resource.name] if ctx.raw_columns is not None else None
        for name in (f.name for f in resource.fields if f.is_free_text):
            column = given[name] if given is not None else table.column_cells([name])[0]
            distinct = ctx.distinct_of(resource.name, name)  # (never changed: a new set is made below)
            if distinct is None or "" in distinct:
                distinct = set(column)
                distinct.difference_update((None, ""))
            new = list(filterfalse(seen.__contains__, distinct))  # (in the order met: memory read in order)
            if new:
                seen.update(new)
                # An identifier has 13 digits or a mobile's shape; a name follows a title: most
                # text has neither, and a whole column is screened for both at once.
                for value in texts_with_possible_identifiers(new):
                    ids = tuple((m.kind, value[m.start:m.end]) for m in find_identifiers(value))
                    if ids:
                        found[value] = (ids, ())
                for value in texts_with_possible_titled_names(new):
                    names = tuple(find_titled_names(value))
                    if names:
                        found[value] = (found[value][0] if value in found else (), names)
            flagged = distinct & found.keys()
            if not flagged:
                continue
            for i, value in enumerate(column):
                if value not in flagged:
                    continue
                ids, names = found[value]
                for kind, text in ids:
                    yield ctx.problem(resource.name, i, name, f"疑似包含{KIND_LABELS[kind]}，公开文本中不得出现个人身份信息",
                                      f"请删除，或改为遮蔽形式（如 {masked_suggestion(kind, text)}）", code="personal-data")
                for person in names:
                    yield ctx.problem(resource.name, i, name, f"疑似写有个人全名“{person[0]}{'*' * (len(person) - 1)}”（职务后的姓名）",
                                      f"公开文本中的个人姓名请只写姓加“某”，如“{person[0]}某”；如确属应公开的姓名可忽略此提示",
                                      severity=WARNING, code="personal-name")


#: Files whose text names the site and its offices: printed in page shells (title, header,
#: aria-label, footer) as well as in pages. They are data, never markup.
SHELL_TEXT_FILES = ("site.yaml", "departments.csv", "tasks.yaml")
_MARKUP = re.compile(r"<[A-Za-z!/?]|&#?[A-Za-z0-9]+;")
_PLAIN_URL = re.compile(r"https?://[^\s\"'<>\\`]+")


def _markup_problem(file: str, line: int | None, field: str, value: str) -> Problem | None:
    found = _MARKUP.search(value)
    if found is None:
        return None
    snippet = value[found.start():found.start() + 12]
    return Problem(file, line, field, f"含有 HTML 标记或字符实体（“{snippet}”），网站名称、部门名称和任务文字只能是纯文本",
                   "请删除尖括号 < > 及 &…; 形式的实体，如确需书写请用全角符号（＜ ＞ ＆）", code="markup")


@rule
def no_markup_in_shell_text(ctx: Context) -> Iterator[Problem]:
    """departments.csv and tasks.yaml (site.yaml: _site_markup) carry no HTML: see SHELL_TEXT_FILES."""
    for name, table in ctx.tables.items():
        if not table.files or table.files[0].rsplit("/", 1)[-1] not in SHELL_TEXT_FILES:
            continue  # one resource comes from one file (and a ledger's rows are never built here)
        for i, row in enumerate(table.rows):
            for field, value in row.items():
                if isinstance(value, str) and ("<" in value or "&" in value):
                    file, line = table.where(i, field)
                    problem = _markup_problem(file, line, field, value)
                    if problem is not None:
                        yield problem


def _site_markup(doc: YamlDoc | None) -> Iterator[Problem]:
    """Every string in site.yaml, at any depth, is plain text."""
    if doc is None:
        return

    def walk(value: Any, path: tuple) -> Iterator[Problem]:
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, path + (key,))
        elif isinstance(value, list):
            for k, item in enumerate(value):
                yield from walk(item, path + (k,))
        elif isinstance(value, str):
            field = ".".join(str(p) for p in path)
            problem = _markup_problem("site.yaml", doc.line(path), field, value)
            if problem is None and str(path[-1]).endswith("url") and not _PLAIN_URL.fullmatch(value):
                problem = Problem("site.yaml", doc.line(path), field, f"网址“{value[:60]}”格式不对",
                                  "应以 http:// 或 https:// 开头，且不含空格、引号、尖括号或反斜杠", code="markup")
            if problem is not None:
                yield problem

    yield from walk(doc.value, ())


# --- site settings ---------------------------------------------------------------------


class _SettingsError(Exception):
    def __init__(self, path: tuple, message: str, hint: str = ""):
        self.path, self.message, self.hint = path, message, hint


def _get(doc: dict, path: tuple, kind: str = "text", required: bool = True) -> Any:
    value: Any = doc
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    name = ".".join(path)
    if value is None:
        if required:
            raise _SettingsError(path, f"缺少设置 {name}", "请参照示例数据中的 data/site.yaml 补充")
        return None
    try:
        if kind == "text":
            if not isinstance(value, str):
                raise ValueError
            return strip_invisible(value)
        if kind == "int":
            return int(value)
        if kind == "bool":
            if value not in _TRUE | _FALSE:
                raise ValueError
            return value in _TRUE
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "decimal":
            return Decimal(value)
        if kind == "map":
            if not isinstance(value, dict):
                raise ValueError
            return value
        if kind == "list":
            if not isinstance(value, list):
                raise ValueError
            return value
    except (ValueError, TypeError, InvalidOperation):
        pass
    labels = {"text": "文字", "int": "整数", "bool": "true 或 false", "date": "日期（YYYY-MM-DD）",
              "decimal": "数字", "map": "“键: 值”的映射", "list": "列表"}
    raise _SettingsError(path, f"设置 {name} 的值不对", f"应为{labels[kind]}")


def _site_settings(doc: YamlDoc | None, problems: list[Problem]) -> model.Site | None:
    if doc is None:
        return None
    raw = doc.value if isinstance(doc.value, dict) else {}
    try:
        regimes = []
        for k, item in enumerate(_get(raw, ("rules", "disclosure_regimes"), "list")):
            base = ("rules", "disclosure_regimes", k)
            periods = {}
            for severity in ("严重", "一般", "轻微"):
                p = ("periods", severity)
                periods[severity] = model.Period(
                    _get(item, p + ("min_months",), "int"), _get(item, p + ("max_months",), "int"),
                    _get(item, p + ("published",), "bool"))
                if periods[severity].min_months > periods[severity].max_months:
                    raise _SettingsError(base + p, "最短公示期限大于最长期限", "请核对 min_months 与 max_months")
            regimes.append(model.Regime(_get(item, ("name",)), _get(item, ("effective_from",), "date"), periods,
                                        _get(item, ("source",), required=False) or ""))
        if [r.effective_from for r in regimes] != sorted(r.effective_from for r in regimes):
            raise _SettingsError(("rules", "disclosure_regimes"), "公示规则没有按施行日期先后排列", "请把较早的规则写在前面")
        regimes = [replace(r, effective_until=(regimes[k + 1].effective_from - timedelta(days=1)) if k + 1 < len(regimes) else None)
                   for k, r in enumerate(regimes)]
        payment_regimes = []
        for item in _get(raw, ("rules", "payment_regimes"), "list", required=False) or []:
            articles = {str(a): str(v) for a, v in (_get(item, ("articles",), "map", required=False) or {}).items() if v}
            payment_regimes.append(model.PaymentRegime(_get(item, ("name",)), _get(item, ("source",)),
                                                       _get(item, ("effective_from",), "date"), articles))
        payment_regimes = [replace(r, effective_until=(payment_regimes[k + 1].effective_from - timedelta(days=1))
                                   if k + 1 < len(payment_regimes) else None) for k, r in enumerate(payment_regimes)]
        lpr = lpr_refs = lpr_references = None
        if _get(raw, ("rules", "lpr"), "map", required=False) is not None:
            lpr, lpr_refs = {}, {}
            references = _get(raw, ("rules", "lpr", "references"), "map")
            lpr_references = {str(k): _get(references, (k,)) for k in references}
            rates = _get(raw, ("rules", "lpr", "one_year"), "map")
            for month in rates:
                where = ("rules", "lpr", "one_year", str(month))
                if not re.fullmatch(r"\d{4}-\d{2}", str(month)):
                    raise _SettingsError(where, f"月份“{month}”格式不对", "应写作 YYYY-MM，如 2019-08")
                row = rates[month]
                if not isinstance(row, dict):
                    raise _SettingsError(where, f"{month} 的 LPR 没有注明核对来源",
                                         '应写作 {rate: "3.10", ref: 来源编号}，来源编号见 rules.lpr.references')
                lpr[str(month)] = _get(row, ("rate",), "decimal")
                ref = str(_get(row, ("ref",)))
                if ref not in lpr_references:
                    raise _SettingsError(where + ("ref",), f"来源编号“{ref}”不在 rules.lpr.references 中",
                                         "请先在 references 中登记该来源（标题和网址）")
                lpr_refs[str(month)] = ref
        group_kinds = None
        if _get(raw, ("rules", "group_tokens"), "map", required=False) is not None:
            kinds_map = _get(raw, ("rules", "group_tokens", "kinds"), "map")
            group_kinds = {str(t): tuple(str(k) for k in _get(kinds_map, (t,), "list")) for t in kinds_map}
        sanctions = None
        if _get(raw, ("rules", "sanction_periods"), "map", required=False) is not None:
            base = ("rules", "sanction_periods")
            months = {str(k): int(v) for k, v in _get(raw, base + ("months",), "map").items()}
            sanctions = model.SanctionRules(_get(raw, base + ("source",)), _get(raw, base + ("effective_from",), "date"), months)
        due = _get(raw, ("rules", "payment", "annual_notice_due"))
        if not re.fullmatch(r"\d{2}-\d{2}", due):
            raise _SettingsError(("rules", "payment", "annual_notice_due"), "年度公告截止日格式不对", "应写作 MM-DD，如 03-31")
        payment = model.PaymentRules(
            _get(raw, ("rules", "payment", "regulation")),
            _get(raw, ("rules", "payment", "default_term_days"), "int"),
            _get(raw, ("rules", "payment", "max_term_days"), "int"),
            _get(raw, ("rules", "payment", "default_daily_rate"), "decimal"),
            (int(due[:2]), int(due[3:])),
        )
        ranges = []
        for k, item in enumerate(_get(raw, ("rules", "plausible_amounts"), "list", required=False) or []):
            base = ("rules", "plausible_amounts", k)
            keywords = _get(item, ("keywords",), "list", required=False) or []
            if not all(isinstance(w, str) and w for w in keywords):
                raise _SettingsError(base + ("keywords",), "关键词应为文字列表", "如 [工程, 施工]")
            low = _get(item, ("min",), "decimal", required=False)
            high = _get(item, ("max",), "decimal", required=False)
            if low is not None and high is not None and low > high:
                raise _SettingsError(base, "金额下限大于上限", "请核对 min 与 max")
            ranges.append(model.AmountRange(_get(item, ("kind",)), tuple(keywords), low, high))
        rules = model.Rules(
            _get(raw, ("rules", "serious_publish_workdays"), "int"),
            _get(raw, ("rules", "objection_reply_workdays"), "int"),
            tuple(regimes), payment, sanctions,
            _get(raw, ("rules", "periods_source"), required=False) or "",
            _get(raw, ("rules", "serious_publish_source"), required=False) or "",
            _get(raw, ("rules", "objection_reply_source"), required=False) or "",
            tuple(payment_regimes), _get(raw, ("rules", "deadline_rest_day_source"), required=False) or "",
            _get(raw, ("rules", "lpr", "source"), required=False) or "", lpr,
            group_kinds, _get(raw, ("rules", "group_tokens", "source"), required=False) or "",
            tuple(str(w) for w in (_get(raw, ("rules", "forbidden_reasons", "words"), "list", required=False) or [])),
            _get(raw, ("rules", "forbidden_reasons", "source"), required=False) or "",
            plausible_amounts=tuple(ranges), lpr_refs=lpr_refs, lpr_references=lpr_references,
        )
        timezone = _get(raw, ("timezone",))
        try:
            from zoneinfo import ZoneInfo
            ZoneInfo(timezone)
        except Exception:
            raise _SettingsError(("timezone",), f"无法识别的时区“{timezone}”", "应为 Asia/Shanghai") from None
        strings = lambda key: {k: strip_invisible(str(v)) for k, v in (_get(raw, (key,), "map", required=False) or {}).items() if v is not None}  # noqa: E731
        return model.Site(
            site_name=_get(raw, ("site_name",)), publisher=_get(raw, ("publisher",)), region=_get(raw, ("region",)),
            sample=_get(raw, ("sample",), "bool"), timezone=timezone,
            base_url=(_get(raw, ("base_url",), required=False) or "").rstrip("/") + "/",
            licence=strings("licence"), contact=strings("contact"), identifiers=strings("identifiers"),
            policy=strings("policy"), rules=rules,
        )
    except _SettingsError as exc:
        problems.append(Problem("site.yaml", doc.line(exc.path), ".".join(str(p) for p in exc.path), exc.message, exc.hint, code="settings"))
        return None


def _calendar(doc: YamlDoc | None, problems: list[Problem]) -> WorkdayCalendar:
    if doc is None or doc.value is None:
        return WorkdayCalendar()
    try:
        return WorkdayCalendar(parse_calendar_data(doc.value if isinstance(doc.value, dict) else {"years": None}))
    except ValueError as exc:
        problems.append(Problem("calendar.yaml", 1, "years", str(exc), "格式见文件开头的说明", code="settings"))
        return WorkdayCalendar()


# --- the stage -------------------------------------------------------------------------


def _build(ctx: Context, redactions: list | tuple = ()) -> model.Dataset:
    rows = ctx.rows
    by = lambda table, key: _group(rows[table], key)  # noqa: E731
    partners, c_progress, steps = by("commitment_partners", "commitment_id"), by("commitment_progress", "commitment_id"), by("commitment_rectification", "commitment_id")
    units, t_progress = by("task_units", "task_id"), by("task_progress", "task_id")
    plan_of = lambda make: make(ctx, "arrears_plan", model.Instalment, ("due_on", "amount"))  # noqa: E731
    repaid_of = lambda make: make(ctx, "arrears_repayments", model.Repayment, ("paid_on", "amount", "note", "seq"))  # noqa: E731
    related, objections = by("finding_related", "finding_id"), by("finding_objections", "finding_id")
    c_changes, a_changes, f_changes = (by("commitment_changes", "commitment_id"), by("arrears_changes", "arrears_id"),
                                       by("finding_changes", "finding_id"))
    withdrawals = {w["arrears_id"]: w for w in rows["arrears_withdrawals"]}
    tokens = {kind: field_tokens(ctx.package, kind) for kind in ("commitments", "arrears", "findings")}
    titles = {kind: _field_titles(ctx.package, kind) for kind in tokens}

    # Change logs and withdrawals tell what a published value was: their text passes the filter
    # every history value passes (an identifier, an unmasked name after a title, a value the
    # reviewed redaction list names is shown as REDACTED), wherever it is written in the site.
    shown_filter = HistoryFilter(redactions)

    def shown(resource: str, record_id: str, name: str, value: str | None) -> str | None:
        if not value:
            return value  # what the filter shows of no text, without looking up the field
        return shown_filter(record_id, ctx.package.resource(resource).field(name), value)

    def change_log(kind: str, items: list[dict]) -> tuple[model.ChangeEntry, ...]:
        out = []
        log, parent = CHANGE_LOGS[kind]
        for e in sorted(items, key=lambda e: e["date"]):
            names = tuple(sorted(parse_fields(e["fields"], tokens[kind])[0], key=list(titles[kind]).index))
            text = {k: shown(log, e[parent], k, e[k]) for k in ("what", "reason", "basis", "document")}
            out.append(model.ChangeEntry(e["date"], names, tuple(titles[kind][n] for n in names), **text))
        return tuple(out)

    def arrears_withdrawal(arrears_id: str) -> model.Withdrawal | None:
        w = withdrawals.get(arrears_id)
        if w is None:
            return None
        return model.Withdrawal(w["withdrawn_on"], shown("arrears_withdrawals", arrears_id, "reason", w["reason"]),
                                shown("arrears_withdrawals", arrears_id, "document", w["document"]))
    files = {name: ctx.tables[name].files for name in ("commitments", "findings", "tasks")}

    def notes(items: list[dict]) -> tuple[model.Note, ...]:
        return tuple(model.Note(n["date"], n["note"]) for n in sorted(items, key=lambda n: n["date"]))

    make_commitment = model.maker(model.Commitment)  # (no setattr per field: 23 fields, a commitment per file)
    commitments = [
        make_commitment({
            **{k: c[k] for k in ("id", "title", "category", "department", "counterparty", "promised_on", "source", "content",
                                  "deadline", "status", "fulfilled_on", "change_decided_on", "change_basis", "change_compensation",
                                  "withdrawn_on")},
            "withdrawal_reason": shown("commitments", c["id"], "withdrawal_reason", c["withdrawal_reason"]),
            "withdrawal_document": shown("commitments", c["id"], "withdrawal_document", c["withdrawal_document"]),
            "changes": change_log("commitments", c_changes.get(c["id"], [])),
            "counterparty_masked": bool(c["counterparty_masked"]),
            "partners": tuple(p["unit"] for p in partners.get(c["id"], [])),
            "progress": notes(c_progress.get(c["id"], [])),
            "rectification": tuple(model.RectificationStep(s["step"], s["due"], s["done_on"]) for s in steps.get(c["id"], [])),
            "file": files["commitments"][i],
        })
        for i, c in enumerate(rows["commitments"])
    ]
    # 100,000 debts in a big ledger: built through model.maker, most without a plan, a change or a withdrawal
    make_arrears = model.maker(model.ArrearsItem)
    arrears_fields = ("id", "debtor", "creditor", "creditor_code", "creditor_size", "project", "contract_no", "amount",
                      "delivered_on", "due_on", "found_on", "agreed_daily_rate", "disputed", "resolution", "note",
                      "signed_on", "due_kind", "disputed_amount", "interest_state")

    # a typed row holds exactly the ledger's fields (every row the same keys): copied whole
    whole = set(ctx.package.resource("arrears").field_names) == set(arrears_fields)

    def arrears_item(a: dict) -> model.ArrearsItem:
        key = a["id"]
        # the typed row itself when it holds exactly the ledger's fields (it is not used after this)
        values = a if whole else {k: a[k] for k in arrears_fields}
        values["plan"] = plan.get(key, ())
        values["repayments"] = repaid.get(key, ())
        if key in withdrawals:
            values["withdrawal"] = arrears_withdrawal(key)
        if key in a_changes:
            values["changes"] = change_log("arrears", a_changes[key])
        return make_arrears(values)

    if whole and ctx.columns is not None:
        # column by column: no row dicts, each record's __dict__ made once (model.from_columns)
        columns = ctx.columns["arrears"]
        ids = columns["id"]
        plans, paid = plan_of(_children_by_debt), repaid_of(_children_by_debt)
        withdrawn = [arrears_withdrawal(k) if k in withdrawals else None for k in ids] if withdrawals else [None] * len(ids)
        changed = [change_log("arrears", a_changes[k]) if k in a_changes else () for k in ids] if a_changes else [()] * len(ids)
        arrears = model.from_columns(model.ArrearsItem, {**{k: columns[k] for k in arrears_fields}, "plan": plans,
                                                         "repayments": paid, "withdrawal": withdrawn, "changes": changed})
    else:
        plan, repaid = plan_of(_children), repaid_of(_children)
        arrears = [arrears_item(a) for a in rows["arrears"]]
    findings = [
        model.Finding(
            **{k: f[k] for k in f},
            changes=change_log("findings", f_changes.get(f["id"], [])),
            related=tuple(r["related_id"] for r in related.get(f["id"], [])),
            objections=tuple(model.Objection(o["filed_on"], o["summary"], o["decided_on"], o["outcome"])
                             for o in sorted(objections.get(f["id"], []), key=lambda o: o["filed_on"])),
            file=files["findings"][i],
        )
        for i, f in enumerate(rows["findings"])
    ]
    tasks = [
        model.Task(**{k: t[k] for k in t}, units=tuple(model.TaskUnit(u["role"], u["unit"]) for u in units.get(t["id"], [])),
                   progress=notes(t_progress.get(t["id"], [])), source=files["tasks"][i])
        for i, t in enumerate(rows["tasks"])
    ]
    assert ctx.site is not None
    return model.Dataset(
        site=ctx.site,
        calendar=ctx.calendar,
        departments=tuple(sorted((model.Department(**d) for d in rows["departments"]), key=lambda d: (d.sort, d.id))),
        tasks=tuple(sorted(tasks, key=lambda t: tuple(int(p) for p in t.id.split(".")))),
        commitments=tuple(sorted(commitments, key=attrgetter("id"))),
        arrears=tuple(sorted(arrears, key=attrgetter("id"))),
        findings=tuple(sorted(findings, key=attrgetter("id"))),
        evaluations=tuple(sorted((model.Evaluation(**e) for e in rows["evaluations"]),
                                 key=lambda e: (e.year, e.department, e.method))),
    )


def _field_titles(package: Package, kind: str) -> dict[str, str]:
    """Field name → the title the site shows, in the schema's order (status and child tables included)."""
    out: dict[str, str] = {}
    for token, name in field_tokens(package, kind).items():
        if token == name:
            out.setdefault(name, name)
    resource = package.resource(kind)
    for f in resource.fields:
        out[f.name] = f.title
    for child in package.resources:
        short = child.name.removeprefix(kind.rstrip("s") + "_").removeprefix(kind + "_")
        if short in out:
            out[short] = child.title
    out["status"] = resource.field("status").title if "status" in resource.field_names else "状态"
    return out


def _children(ctx: Context, table: str, cls: type, fields: tuple[str, ...]) -> dict[Any, tuple[Any, ...]]:
    """The rows of a ledger's child table (repayments, plan) as `cls(*fields)`, by arrears_id, each
    debt's in their own order (_LEDGER_ORDER: paid_on and seq, due_on; the table's primary key, so
    no two rows tie). From the typed columns through _children_by_debt when there are any."""
    if ctx.columns is None:
        order_of = attrgetter(*_LEDGER_ORDER[table])
        return {k: tuple(sorted((cls(*(r[f] for f in fields)) for r in items), key=order_of))
                for k, items in _group(ctx.rows[table], "arrears_id").items()}
    return {debt: items for debt, items in zip(ctx.columns["arrears"]["id"], _children_by_debt(ctx, table, cls, fields))
            if items}


def _children_by_debt(ctx: Context, table: str, cls: type, fields: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """For each row of the arrears table, its rows of a ledger's child table as `cls(*fields)` (a
    named tuple), in their own order (as _children). From the typed columns: the rows in key order
    (_ledger_sorted: by debt, then day number * 100 + seq), the tuples made in C, each debt's a
    slice of them: no row dict, no per-debt sort, no Python step per row and no look-up of a
    debt's id for 270,000 repayments and instalments. Only for a ledger without errors (every
    debt known, dates given, seq from 1 to 99, keys distinct)."""
    columns = ctx.columns[table]
    order, bounds = _ledger_sorted(ctx, table)
    # made in file order, reading the columns in order, then put in key order (one read out of
    # order per row rather than one per field)
    items = list(map(tuple.__new__, repeat(cls), zip(*(columns[f] for f in fields))))
    items = tuple(map(items.__getitem__, order))
    return list(map(items.__getitem__, _debt_slices(bounds)))  # (a tuple's slice is a tuple; () when empty)


def _group(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    grouped: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


@dataclass
class Report:
    problems: list[Problem]
    dataset: model.Dataset | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def validate(raw: RawData, as_of: date | None = None) -> Report:
    """Check everything; the dataset is None whenever any error was found.

    as_of: the date the site is built for (default: today in the site's time zone);
    only warnings depend on it (a year ahead the calendar does not cover yet)."""
    # Hundreds of thousands of row dicts and records, none of them in a reference cycle:
    # the cyclic garbage collector would scan them again and again (a fifth of the time).
    with collector.paused():
        return _validate(raw, as_of)


def _validate(raw: RawData, as_of: date | None) -> Report:
    problems = list(raw.problems)
    site = _site_settings(raw.site, problems)
    problems.extend(_site_markup(raw.site))
    redactions, redaction_problems = load_redactions(raw.data_dir, {f.name for r in raw.package.resources for f in r.fields})
    problems.extend(redaction_problems)
    calendar = _calendar(raw.calendar, problems)
    typed, typed_columns, raw_columns, distinct = _typed_tables(raw, problems)
    if as_of is None and site is not None:
        from generator.derive import today
        as_of = today(site.timezone)
    ctx = Context(raw.package, raw.tables, typed, site, calendar, as_of, typed_columns, raw_columns, distinct=distinct)
    problems.extend(_check_keys(ctx))
    for check in RULES:
        problems.extend(check(ctx))
    problems = sort_problems(set(problems))
    dataset = None if any(p.is_error for p in problems) or site is None else _build(ctx, redactions)
    return Report(problems, dataset)
