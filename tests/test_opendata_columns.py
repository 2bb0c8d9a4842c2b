"""The open-data tables written a column at a time give exactly what the cell-by-cell writers gave.

The CSV, JSON, workbook and SQLite writers of generator/opendata.py and generator/workbook.py
encode each column in one pass (generator/xlsx.py's ColumnSheet), with per-column checks that
send a column with anything unusual (a control character, a formula-like text, white space at
an edge, a Decimal that needs padding, values of several classes) to the cell-by-cell rule.
Each test here compares them with that rule (the code the column writers replaced, kept below or
in the modules as the per-cell functions) over random columns of tricky values.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
from datetime import date, datetime
from decimal import Decimal

import pytest

from generator import opendata, workbook, xlsx
from generator.schema import Field, Resource, Source

TEXTS = [
    "", " ", "普通文本", "承诺事项：为企业办理", "a & <b> \"q\" 'x'", "=1+1", "+86 138", "-5", "@SUM(A1)", "\tTab",
    "\rCR", "line\nbreak", "trailing ", " leading", "\u3000全角空格", "全角空格\u3000", "bell\x07char", "nul\x00char",
    "\x1fsep", "surrogate\ud800x", "non\ufffechar", "汉" * 45, "mixed 汉字 and ascii " * 5, "é" * 50, "x" * 60,
    "𠀀𠀁 astral", "&amp;", "]]>", "%s %d %%", "\\back\\slash", "emoji 🎉",
]
DECIMALS = [Decimal("53800.00"), Decimal("53800"), Decimal("0.5"), Decimal("1.234"), Decimal("1.230"), Decimal("-0.00"),
            Decimal("-12.5"), Decimal("1E+3"), Decimal("0E-7"), Decimal("123456789012.34"), Decimal("-0"),
            Decimal("0.10"), Decimal("99999999999999999.99"), Decimal("NaN")]
DATES = [date(2026, 1, 2), date(1900, 3, 1), date(2099, 12, 31)]
OTHERS = [0, 7, -3, 2**60, True, False, 1.5, datetime(2026, 1, 2, 13, 30)]


def _field(name: str, kind: str, decimals: int | None = None, enum=None, pattern=None) -> Field:
    return Field(name, name + "（标题）", kind, "说明", decimals=decimals, enum=enum, pattern=pattern)


FIELDS = (_field("text", "string"), _field("code", "string", pattern="^[A-Z]+$"), _field("state", "string", enum=("甲",)),
          _field("money", "number", decimals=2), _field("score", "number", decimals=0), _field("rate", "number"),
          _field("day", "date"), _field("count", "integer"), _field("flag", "boolean"), _field("any", "any"))
RESOURCE = Resource("tricky", "刁钻的表", Source("csv", "tricky.csv"), FIELDS, (), ())


def _pool(f: Field, rng: random.Random, mixed: bool) -> list:
    """Values for a column of field f: mostly its own type and None; with `mixed`, anything."""
    own = {"string": TEXTS, "number": DECIMALS[:-1] if f.decimals is not None else DECIMALS, "date": DATES,
           "integer": [0, 7, -3, 2**60], "boolean": [True, False]}.get(f.type, TEXTS + DECIMALS[:-1] + DATES + OTHERS)
    if mixed:
        # one class more (Decimal padding needs a Decimal: no ints in a decimals column, as before)
        extra = {"number": DATES + TEXTS} if f.decimals is not None else {}
        return own + extra.get(f.type, OTHERS + TEXTS + DATES) + [None]
    return own + [None]


def _tables(seed: int):
    rng = random.Random(seed)
    for n in (0, 1, 2, 7, 40):
        mixed = rng.random() < 0.5
        pools = {f.name: _pool(f, rng, mixed and rng.random() < 0.5) for f in FIELDS}
        clean = rng.random() < 0.4  # columns without any odd value: the one-scan paths
        rows = []
        for _ in range(n):
            row = {}
            for f in FIELDS:
                pool = pools[f.name]
                if clean and f.type == "string":
                    pool = [t for t in pool if not isinstance(t, str) or (t.isprintable() and t.strip() == t and t[:1] not in "=+-@")]
                row[f.name] = rng.choice(pool)
            rows.append(row)
        yield rows


# --- the cell-by-cell rules (the writers before round 8) ---------------------------------


def _csv_by_cells(resource: Resource, rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(resource.field_names)
    for row in rows:
        writer.writerow([opendata._cell_text(row[f.name], f) for f in resource.fields])
    return buf.getvalue().encode("utf-8-sig")


def _json_by_cells(resource: Resource, rows: list[dict]) -> bytes:
    lines = ["{" + ",".join(json.dumps(f.name) + ":" + opendata._json_value(row[f.name], f) for f in resource.fields) + "}"
             for row in rows]
    return ("[\n" + ",\n".join(lines) + ("\n" if lines else "") + "]\n").encode("utf-8")


def _xlsx_by_cells(resource: Resource, rows: list[dict]) -> list[list]:
    return [[opendata.xlsx_value(row[f.name], f) for f in resource.fields] for row in rows]


def _same(new, old):
    """new() gives old()'s bytes, or fails as old() does (a lone surrogate cannot be UTF-8)."""
    try:
        expected = old()
    except Exception as exc:
        with pytest.raises(type(exc)):
            new()
    else:
        assert new() == expected


@pytest.mark.parametrize("seed", range(40))
def test_csv_and_json_columns_are_the_cell_by_cell_files(seed):
    for rows in _tables(seed):
        _same(lambda: opendata.csv_bytes(RESOURCE, rows), lambda: _csv_by_cells(RESOURCE, rows))
        _same(lambda: opendata.json_bytes(RESOURCE, rows), lambda: _json_by_cells(RESOURCE, rows))


@pytest.mark.parametrize("seed", range(40))
def test_workbook_columns_are_the_cell_by_cell_sheet(seed):
    for rows in _tables(seed):
        header = [f.title for f in FIELDS]
        values, formats = opendata.xlsx_columns(RESOURCE, rows)
        by_cells = _xlsx_by_cells(RESOURCE, rows)
        sheet = xlsx.ColumnSheet("表", header, values, formats, xlsx.column_widths_of(header, values))
        assert sheet.rows() == by_cells
        assert sheet.widths == xlsx.column_widths(header, by_cells)
        # the same XML and the same styles, also after a sheet that used some formats already
        for before in ([], ["0.00"], ["yyyy-mm-dd", "#,##0.00"]):
            styles_a, styles_b = xlsx._Styles(), xlsx._Styles()
            for fmt in before:
                styles_a.index(fmt), styles_b.index(fmt)
            by_rows = xlsx.Sheet("表", header, by_cells, sheet.widths)
            assert xlsx._sheet_xml(sheet, styles_a) == xlsx._sheet_xml(by_rows, styles_b)
            assert styles_a.formats == styles_b.formats


def test_a_formula_in_any_row_is_neutralised_and_text_cleaned_in_every_writer():
    rows = [{f.name: None for f in FIELDS} for _ in range(5)]
    for i, row in enumerate(rows):
        row["text"] = ["安全", "=HYPERLINK(\"x\")", "ok", "@cmd", "bad\x01char"][i]
    csv_text = opendata.csv_bytes(RESOURCE, rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "'@cmd" in csv_text
    values, _ = opendata.xlsx_columns(RESOURCE, rows)
    assert values[0] == ["安全", "'=HYPERLINK(\"x\")", "ok", "'@cmd", "badchar"]
    assert json.loads(opendata.json_bytes(RESOURCE, rows))[1]["text"] == "=HYPERLINK(\"x\")"  # JSON keeps the text


@pytest.mark.parametrize("seed", range(20))
def test_sqlite_columns_are_the_cell_by_cell_values(seed):
    for rows in _tables(seed):
        for column, f in zip(opendata.table_columns(RESOURCE, rows), FIELDS):
            typed = [(type(v), repr(v)) for v in workbook._sql_column(column)]  # repr: NaN is not NaN
            assert typed == [(type(v), repr(v)) for v in (workbook._sql_value(row[f.name]) for row in rows)]


class _Item:
    def __init__(self, values):
        self.values = values


@pytest.mark.parametrize("seed", range(30))
def test_reader_sheet_columns_are_the_cell_by_cell_cells(seed):
    rng = random.Random(seed)
    kinds = ["text", "int", "money", "share", "date", "yesno", "rate"]
    columns = tuple(workbook.Column(f"c{i}", f"列{i}", kind, (lambda item, i=i: item.values[i]))
                    for i, kind in enumerate(kinds))
    pools = {"text": TEXTS, "int": [0, 5, True, 2**60], "money": DECIMALS[:-1], "share": [Decimal("0.5"), 0.25],
             "date": DATES + [datetime(2026, 5, 6, 7, 8)], "yesno": [True, False], "rate": [Decimal("0.05")]}
    for n in (0, 1, 9, 30):
        mixed = rng.random() < 0.5
        items = [_Item([rng.choice(pools[k] + [None] + (TEXTS + DECIMALS[:-1] + DATES if mixed else []))
                        for k in kinds]) for _ in range(n)]
        table = workbook.ReaderTable("t_shown", "表", columns, lambda facts: items)
        got = workbook._columns(None, table)
        values, formats = workbook._sheet_columns(table, got)
        sheet = xlsx.ColumnSheet("表", [c.title for c in columns], values, formats, [8] * len(kinds))
        assert sheet.rows() == [[workbook._cell(v, c) for v, c in zip(item.values, columns)] for item in items]
        assert [list(c.values) for c in got] == [[item.values[i] for item in items] for i in range(len(kinds))]


def test_white_space_is_what_the_xml_preserve_check_treats_as_such():
    """The column writer finds texts with white space at an edge with a regular expression
    (\\s); the cell writer with str.isspace: they must agree on every character."""
    import re
    import sys

    space = re.compile(r"\s")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if bool(space.match(c)) != c.isspace()] == []
