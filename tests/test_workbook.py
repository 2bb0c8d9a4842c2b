"""The reader's workbook and the SQLite file (generator/workbook.py)."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from generator import opendata, workbook
from tests.test_letters import AS_OF, HIDDEN, facts_of


@pytest.fixture(scope="module")
def demo():
    return facts_of()


@pytest.fixture(scope="module")
def book(demo):
    return openpyxl.load_workbook(io.BytesIO(workbook.reader_xlsx(demo)))


@pytest.fixture(scope="module")
def db(demo, tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "data.sqlite"
    path.write_bytes(workbook.sqlite_bytes(demo))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield conn
    conn.close()


def rows_of(sheet) -> list[dict]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


def test_one_sheet_per_kind_after_the_explanation(book):
    assert book.sheetnames == ["说明", "政府承诺", "拖欠账款", "失信记录", "评价结果", "部门"]
    about = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True) if row[0]}
    assert about["数据截至"].date() == AS_OF
    assert about["是否演示数据"].startswith("是")
    assert "逾期利息（元）" in "".join(str(k) for k in about)  # definitions of the derived values
    assert about["拖欠账款：逾期天数"].startswith("未清偿完毕的：数据截至日期距计算逾期所用付款日期的天数")


def test_arrears_have_names_and_the_derived_values_the_site_shows(book, demo):
    api = {item["id"]: item for item in opendata.api_list(demo, next(s for s in opendata.API_LISTS if s.name == "arrears"))["items"]}
    rows = rows_of(book["拖欠账款"])
    assert len(rows) == len(demo.arrears) == len(api)
    for row in rows:
        shown = api[row["账款编号"]]
        assert row["债务单位"] == shown["debtor_name"] and not row["债务单位"].isascii()
        for title, key in (("欠款金额（元）", "amount"), ("已清偿（元）", "repaid"), ("未清偿（元）", "outstanding"),
                           ("逾期利息（元）", "interest")):
            assert Decimal(str(row[title])).quantize(Decimal("0.01")) == Decimal(shown[key]), (row["账款编号"], title)
        assert row["清偿状态"] == shown["status"] and row["逾期天数"] == shown["days_past_due"]
        assert row["是否有争议"] == ("是" if shown["disputed"] else "否")
    facts = {a.record.id: a for a in demo.arrears}
    for row in rows:
        a = facts[row["账款编号"]]
        assert row["网站显示的状态"] == "、".join(b.label for b in a.badges)
        # The legal values of issue 11: interest state, disputed amount, the due date the law makes.
        assert row["逾期利息状态"] == a.interest_state and row["状态说明"] == a.status_note
        assert Decimal(str(row["有争议的金额（元）"])) == a.disputed_amount
        assert row["计算逾期所用付款日期"].date() == a.due_used
        assert row["二次失信"] == ("是" if a.second_default else "否")
    assert any(r["逾期利息状态"] == "未支付" for r in rows)


def test_yes_no_instead_of_true_false_everywhere(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, bool) for v in row), (sheet.title, row)
            assert not any(v in ("TRUE", "FALSE", "true", "false") for v in row), (sheet.title, row)
    commitments = rows_of(book["政府承诺"])
    assert {r["是否逾期"] for r in commitments} == {"是", "否"}


def test_findings_sheet_holds_the_findings_on_display_only(book, demo):
    rows = rows_of(book["失信记录"])
    assert [r["记录编号"] for r in rows] == [f.record.id for f in demo.findings]
    assert all(r["失信主体单位"] == f.subject_name for r, f in zip(rows, demo.findings))
    everything = "".join(str(v) for s in book.worksheets for row in s.iter_rows(values_only=True) for v in row)
    for hidden in HIDDEN:
        assert hidden not in everything


def test_sqlite_answers_like_the_summary_api(db, demo):
    summary = opendata.api_summary(demo)
    count, owed, repaid, outstanding, interest = db.execute(
        "SELECT count(*), printf('%.2f', sum(amount)), printf('%.2f', sum(repaid)), printf('%.2f', sum(outstanding)), "
        "printf('%.2f', sum(interest)) FROM arrears_shown").fetchone()
    a = summary["arrears"]
    assert (count, owed, repaid, outstanding, interest) == (a["count"], a["owed"], a["repaid"], a["outstanding"], a["interest"])
    assert dict(db.execute("SELECT status, count(*) FROM arrears_shown GROUP BY status").fetchall()) == \
        {k: v for k, v in a["by_status"].items() if v}
    # The raw Data Package tables answer too: the same amounts, summed by debt.
    assert db.execute("SELECT printf('%.2f', sum(amount)) FROM arrears").fetchone()[0] == a["owed"]
    assert db.execute("SELECT printf('%.2f', sum(amount)) FROM arrears_repayments").fetchone()[0] == a["repaid"]
    c = summary["commitments"]
    assert db.execute("SELECT count(*) FROM commitments").fetchone()[0] == c["total"]
    assert db.execute("SELECT count(*) FROM commitments_shown WHERE overdue = '是'").fetchone()[0] == c["overdue"]
    assert dict(db.execute("SELECT status, count(*) FROM commitments GROUP BY status").fetchall()) == \
        {k: v for k, v in c["by_status"].items() if v}
    f = summary["findings"]
    assert db.execute("SELECT count(*) FROM findings").fetchone()[0] == f["on_display"]
    assert dict(db.execute("SELECT severity, count(*) FROM findings_shown GROUP BY severity").fetchall()) == \
        {k: v for k, v in f["by_severity"].items() if v}
    assert db.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchone()[0] == "2026-11-26"
    assert db.execute("SELECT title FROM columns WHERE table_name = 'arrears_shown' AND column_name = 'outstanding'"
                      ).fetchone()[0] == "未清偿（元）"


def test_sqlite_tables_match_the_data_package(db, demo):
    tables = opendata.public_tables(demo)
    for name, rows in tables.items():
        assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(rows), name
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
        assert cols == list(rows[0]) if rows else True, name
    dump = "\n".join(db.iterdump())
    for hidden in HIDDEN:
        assert hidden not in dump


def test_same_facts_give_the_same_bytes(demo):
    first_xlsx, first_db = workbook.reader_xlsx(demo), workbook.sqlite_bytes(demo)
    again = facts_of()
    assert workbook.reader_xlsx(again) == first_xlsx
    assert workbook.sqlite_bytes(again) == first_db
    with zipfile.ZipFile(io.BytesIO(first_xlsx)) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 11, 26, 0, 0, 0)}
        assert z.read("docProps/core.xml").decode().count("2026-11-26T00:00:00Z") == 2


def test_the_data_page_lists_both(demo):
    files = opendata.open_data_files(demo)
    assert "data/zhanqian-integrity-reader.xlsx" in files and "data/zhanqian-integrity.sqlite" in files
    page = files["data/index.md"].decode()
    assert "[zhanqian-integrity-reader.xlsx](zhanqian-integrity-reader.xlsx)" in page
    assert "[zhanqian-integrity.sqlite](zhanqian-integrity.sqlite)" in page
    assert json.loads(files["data/api/summary.json"])["as_of"] == "2026-11-26"


def _digests(facts):
    """What iter_open_data_files gives sqlite_bytes: each public table's and reader table's digest."""
    from generator.schema import load_package

    tables = opendata.public_tables(facts)
    digests = {r.name: opendata.table_digest(r, tables[r.name]) for r in opendata.published_resources(load_package())}
    readers = workbook._reader_columns(facts)
    return tables, readers, {**digests, **workbook.reader_digests(readers)}


def test_sqlite_from_the_last_files_tables_is_the_file_made_without_it(demo, tmp_path, monkeypatch):
    """With a TableCache, a table whose digest is the last build's is copied from the last file;
    the file is byte for byte the one made without the cache; a changed arrears record remakes
    the arrears tables only; a damaged or foreign last file is not used."""
    from dataclasses import replace

    inserted: list[str] = []
    connect = sqlite3.connect

    class Counting:
        def __init__(self, conn):
            self.conn = conn

        def __getattr__(self, name):
            return getattr(self.conn, name)

        def executemany(self, sql, rows):
            inserted.append(sql.split()[2])
            return self.conn.executemany(sql, rows)

    monkeypatch.setattr(workbook.sqlite3, "connect", lambda *a: Counting(connect(*a)))
    folder = tmp_path / "tables"
    plain = workbook.sqlite_bytes(demo)
    tables, readers, digests = _digests(demo)
    made = lambda facts, tables, readers, digests: workbook.sqlite_bytes(  # noqa: E731
        facts, tables, readers, None, workbook.TableCache(folder), digests)
    inserted.clear()
    assert made(demo, tables, readers, digests) == plain
    every = {name for name in inserted if name not in ("meta", "columns")}
    assert {f'main."{name}"' for name in digests} == every
    inserted.clear()
    assert made(demo, tables, readers, digests) == plain
    assert set(inserted) == {"meta", "columns"}  # every data table copied from the last file

    first = demo.arrears[0]
    changed = replace(demo, arrears=(replace(first, repaid=first.repaid + 1),) + demo.arrears[1:])
    expected = workbook.sqlite_bytes(changed)
    assert expected != plain
    inserted.clear()
    assert made(changed, *_digests(changed)) == expected
    assert set(inserted) - {"meta", "columns"} == {'main."arrears_shown"'}  # the reader table shows `repaid`

    data = (folder / "tables.sqlite").read_bytes()
    for damaged in (data[:-4096], data[:5000] + bytes([data[5000] ^ 1]) + data[5001:], b"not a database"):
        (folder / "tables.sqlite").write_bytes(damaged)
        inserted.clear()
        assert made(changed, *_digests(changed)) == expected
        assert len(set(inserted)) == len(digests) + 2  # made without the last file
        (folder / "tables.sqlite").write_bytes(data)
    index = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    (folder / "tables.json").write_text(json.dumps({**index, "code": "another version"}), encoding="utf-8")
    inserted.clear()
    assert made(changed, *_digests(changed)) == expected and len(set(inserted)) == len(digests) + 2
    # A last file that matches its index but lacks the tables the index names: made without it.
    other = sqlite3.connect(":memory:")
    other.execute("CREATE TABLE t (a)")
    other.commit()
    foreign = other.serialize()
    other.close()
    import hashlib

    (folder / "tables.sqlite").write_bytes(foreign)
    (folder / "tables.json").write_text(json.dumps({**index, "sha256": hashlib.sha256(foreign).hexdigest()}),
                                        encoding="utf-8")
    assert workbook.TableCache(folder).data == foreign  # (the index is believed)
    assert made(changed, *_digests(changed)) == expected


def test_without_attaching_bytes_the_sqlite_file_is_made_whole(demo, tmp_path, monkeypatch):
    """Where Connection.deserialize is missing (Python 3.10, or SQLite built without it) the
    cache holds nothing and every table is inserted: the same file, never an AttributeError."""
    folder = tmp_path / "tables"
    plain = workbook.sqlite_bytes(demo)
    tables, readers, digests = _digests(demo)
    assert workbook.sqlite_bytes(demo, tables, readers, None, workbook.TableCache(folder), digests) == plain
    assert workbook.TableCache(folder).data is not None  # kept by the build above
    monkeypatch.setattr(workbook, "CAN_ATTACH_BYTES", False)
    cache = workbook.TableCache(folder)
    assert cache.data is None and cache.tables == {}
    assert workbook.sqlite_bytes(demo, tables, readers, None, cache, digests) == plain
