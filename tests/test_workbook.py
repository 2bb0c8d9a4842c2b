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
