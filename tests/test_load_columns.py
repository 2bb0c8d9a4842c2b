"""The loader's column reading of a CSV ledger gives exactly what its row-by-row reading gives.

_csv_columns reads a well-formed file in one call and hands the table its columns; anything
unusual (a blank line, a row of the wrong width, a cell across lines, a csv error) goes to
_data_rows, row by row, which reports it. On random files, whatever the column reading
accepts is, cell for cell and line for line, what the row reading makes of it, with no
problem; and a Table kept as columns shows the same rows, cells and places as one built
row by row."""

from __future__ import annotations

import csv
import io
import random

from generator.load import Table, _csv_columns, _data_rows
from generator.schema import load_package

HEADER = ["arrears_id", "paid_on", "seq", "amount", "note"]


def _by_rows(text: str, header: list[str]):
    """What _load_csv made of a file before the column reading: rows, their lines, problems."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader)
    problems: list = []
    rows, lines = [], []
    for start, values in _data_rows(reader, "arrears/repayments.csv", len(header), problems):
        rows.append({h: (v.strip() or None) for h, v in zip(header, values)})
        lines.append(start)
    return rows, lines, problems


def _random_cell(rng: random.Random) -> str:
    pieces = ["AR-2024-001", "2024-03-01", "1", "12.50", "", " ", "  备注 ", "专项债资金", "a,b", '引"号',
              "两\n行", "x\ry", "\t", "0"]
    cell = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 2)))
    if any(c in cell for c in ',"\n\r') or rng.random() < 0.05:
        cell = '"' + cell.replace('"', '""') + '"'  # written as a spreadsheet writes it
    return cell


def _random_file(rng: random.Random) -> str:
    odd = rng.random() < 0.5
    lines = [",".join(HEADER)]
    for _ in range(rng.randint(0, 12)):
        width = len(HEADER) + (rng.choice([-1, 1, -4]) if odd and rng.random() < 0.1 else 0)
        line = ",".join(_random_cell(rng) if odd else rng.choice(["AR-1", " 2024-01-02", "3 ", "", "12.5"])
                        for _ in range(width))
        if odd and rng.random() < 0.08:
            line = rng.choice(["", "   ", '"未闭合', ",,,,"])
        lines.append(line)
    ending = rng.choice(["\n", "\r\n"]) if odd else "\n"
    return ending.join(lines) + (ending if rng.random() < 0.8 else "")


def test_the_column_reading_accepts_only_what_the_row_reading_reads_the_same():
    rng = random.Random(6)
    accepted = refused = 0
    for _ in range(4000):
        text = _random_file(rng)
        rows, lines, problems = _by_rows(text, HEADER)
        columns = _csv_columns(text, HEADER)
        if columns is None:
            refused += 1
            continue
        accepted += 1
        cells, count = columns
        assert problems == [], text
        assert count == len(rows) and list(range(2, count + 2)) == lines, text
        assert list(cells) == HEADER
        assert [dict(zip(HEADER, values)) for values in zip(*cells.values())] == rows, text
    assert accepted > 1000 and refused > 500  # both paths are exercised


def test_a_table_of_columns_is_the_table_of_its_rows():
    resource = load_package().resource("arrears_repayments")
    rows = [{"arrears_id": f"AR-2024-{k:03d}", "paid_on": "2024-03-01", "seq": str(k % 3 + 1),
             "amount": None if k % 4 == 0 else "12.50", "note": "备注" if k % 2 else None} for k in range(9)]
    by_rows = Table(resource)
    for k, row in enumerate(rows):
        by_rows.add(dict(row), "arrears/repayments.csv", k + 2)
    by_columns = Table(resource)
    by_columns.set_columns({name: [row[name] for row in rows] for name in HEADER}, "arrears/repayments.csv",
                           list(range(2, len(rows) + 2)))
    names = [f.name for f in resource.fields]
    assert by_columns.column_cells(names) == by_rows.column_cells(names)
    assert [by_columns.cell(i, "amount") for i in range(len(rows))] == [r["amount"] for r in rows]
    assert [by_columns.where(i, "note") for i in range(len(rows))] == [by_rows.where(i, "note") for i in range(len(rows))]
    assert len(by_columns) == len(by_rows) == len(rows)
    assert by_columns.rows == by_rows.rows == rows  # built on demand, in the file's column order
    assert [list(r) for r in by_columns.rows] == [HEADER] * len(rows)
    by_columns.add(dict(rows[0]), "arrears/repayments.csv", 20)  # rows, once built, are the table
    assert len(by_columns) == len(rows) + 1 and by_columns.column_cells(["seq"])[0][-1] == rows[0]["seq"]
