"""Import semantics (issue 12 item 9): repayments have a key, hidden rows are reported, blank means unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

from generator import cli
from generator.importer import CLEAR_MARKER
from generator.schema import load_package
from tests.conftest import problems_of

LEDGER = "arrears/ledger.csv"
REPAYMENTS = "arrears/repayments.csv"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(data_dir: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((data_dir / name).read_text(encoding="utf-8"))))


def test_repayments_have_a_key_with_a_chinese_title():
    resource = load_package().resource("arrears_repayments")
    assert resource.primary_key == ("arrears_id", "paid_on", "seq")
    seq = resource.field("seq")
    assert seq.title and seq.description and seq.type == "integer"
    assert all("\u4e00" <= ch <= "\u9fff" for ch in seq.title)


def _repayment_book(path: Path, rows_: list[list], header=("账款编号", "支付日期", "支付金额（元）", "备注")) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "清偿记录"
    ws.append(list(header))
    for r in rows_:
        ws.append(r)
    wb.save(path)
    return path


def test_a_corrected_repayment_replaces_its_row(data_dir: Path, tmp_path: Path, capsys):
    before = rows(data_dir, REPAYMENTS)
    assert before[0]["arrears_id"] == "AR-2023-003" and before[0]["amount"] == "318600.00"
    book = _repayment_book(tmp_path / "更正.xlsx", [["AR-2023-003", "2023-08-25", 318000, "部门预算资金"]])
    code, out, _ = run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert code == 0, out
    assert "新增 0、更新 1" in out
    assert "支付金额 318600.00 → 318000.00" in out and "替换 arrears/repayments.csv 第 2 行" in out
    code, out, _ = run(capsys, "import", book, "--data", data_dir)
    after = rows(data_dir, REPAYMENTS)
    assert len(after) == len(before)  # not a second payment
    assert after[0] == {**before[0], "amount": "318000.00"}
    assert problems_of(data_dir) == []


def test_a_second_payment_on_the_same_day_is_numbered(data_dir: Path, tmp_path: Path, capsys):
    book = _repayment_book(tmp_path / "两笔.xlsx", [["AR-2024-001", "2024-06-27", 2, 100, "第二笔"]],
                           header=("账款编号", "支付日期", "当日笔次", "支付金额（元）", "备注"))
    code, out, _ = run(capsys, "import", book, "--data", data_dir)
    assert "新增 1、更新 0" in out, out
    mine = [r for r in rows(data_dir, REPAYMENTS) if (r["arrears_id"], r["paid_on"]) == ("AR-2024-001", "2024-06-27")]
    assert [(r["seq"], r["amount"]) for r in mine] == [("1", "700000.00"), ("2", "100.00")]


def test_hidden_rows_are_reported_not_imported(data_dir: Path, tmp_path: Path, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "清偿记录"
    ws.append(["账款编号", "支付日期", "支付金额（元）", "备注"])
    ws.append(["AR-2024-001", "2026-11-20", 100, "可见"])
    ws.append(["AR-2024-001", "2026-11-21", 200, "隐藏"])
    ws.row_dimensions[3].hidden = True
    wb.save(tmp_path / "隐藏.xlsx")
    code, out, _ = run(capsys, "import", tmp_path / "隐藏.xlsx", "--data", data_dir, "--dry-run")
    assert "新增 1" in out
    assert "第 3 行在 Excel 中是隐藏的，未导入" in out


def _ledger_book(path: Path, values: dict[str, str]) -> Path:
    resource = load_package().resource("arrears")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拖欠账款"
    ws.append([f.title for f in resource.fields])
    ws.append([values.get(f.name) for f in resource.fields])
    wb.save(path)
    return path


def test_blank_cells_leave_values_and_the_marker_clears_them(data_dir: Path, tmp_path: Path, capsys):
    original = next(r for r in rows(data_dir, LEDGER) if r["id"] == "AR-2023-001")
    assert original["note"] and original["creditor_code"]
    blank = {**original, "note": None, "creditor_code": None}  # an office that left two columns empty
    code, out, _ = run(capsys, "import", _ledger_book(tmp_path / "空白.xlsx", blank), "--data", data_dir)
    assert "新增 0、更新 0、未变 1" in out, out
    assert next(r for r in rows(data_dir, LEDGER) if r["id"] == "AR-2023-001") == original

    cleared = {**original, "note": CLEAR_MARKER}
    code, out, _ = run(capsys, "import", _ledger_book(tmp_path / "清空.xlsx", cleared), "--data", data_dir)
    assert "更新 1" in out and "备注 经排查纳入台账" in out, out
    assert next(r for r in rows(data_dir, LEDGER) if r["id"] == "AR-2023-001") == {**original, "note": ""}

    required = {**original, "project": "(清空)"}
    code, out, _ = run(capsys, "import", _ledger_book(tmp_path / "必填.xlsx", required), "--data", data_dir)
    assert code == 1 and "必填项不能清空" in out


def test_the_template_explains_blank_and_clear(tmp_path: Path, data_dir: Path, capsys):
    run(capsys, "export-template", "--data", data_dir, "--out", tmp_path / "模板.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "模板.xlsx", read_only=True)
    text = "\n".join(str(c) for row in wb["填写说明"].iter_rows(values_only=True) for c in row if c)
    wb.close()
    assert "空白单元格表示“不修改”" in text and CLEAR_MARKER in text and "当日笔次" in text
