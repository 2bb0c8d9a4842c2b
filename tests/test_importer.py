"""`generator import` and `generator export-template`: office workbooks in, clean CSV ledgers out.

Every workbook is built here with openpyxl, the way offices' ledgers look:
title rows above the header, merged and two-level header cells, Chinese dates,
thousands separators, formulas, hidden sheets, a totals row.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from generator import cli, importer
from generator.importer import convert_cell, convert_date, convert_number, normalise_header, synonyms
from generator.schema import load_package

LEDGER = "arrears/ledger.csv"
REPAYMENTS = "arrears/repayments.csv"
PLAN = "arrears/plan.csv"

# The demo ledger's rows the workbook refers to.
AR_2024_002 = ["AR-2024-002", "jyj", "营口某某教学设备有限公司", None, "小型", "2023年中小学课桌椅采购", "ZQ-JY-2023-027",
               "412380.00", "2023-12-15", "2024-01-14", "2024-03-15", "否", None, None]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def ledger_rows(data_dir: Path, name: str = LEDGER) -> dict[str, dict[str, str]]:
    text = (data_dir / name).read_text(encoding="utf-8")
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


def set_cached_value(path: Path, cell: str, value: str) -> None:
    """openpyxl cannot compute formulas: write the cached result into the sheet XML, as Excel would."""
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    for name, data in items.items():
        if name.startswith("xl/worksheets/sheet") and f'r="{cell}"'.encode() in data:
            text = data.decode("utf-8")
            text, n = re.subn(rf'(<c r="{cell}"[^>]*>)(<f>[^<]*</f>)<v\s*/>', rf"\1\2<v>{value}</v>", text)
            assert n == 1, text
            items[name] = text.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)


# --- the office workbook ---------------------------------------------------------------------

HEADER_TOP = ["账款编号", "债务单位", "债权企业情况", None, None, "项目名称", "合同编号", "欠款金额（元）",
              "交付（验收）日期", "约定付款日期", "认定日期", "是否有争议", "争议解决方式", "备注", "联系人"]
HEADER_SUB = [None, None, "企业名称", "统一社会信用代码", "企业规模"]


def office_workbook(path: Path) -> Path:
    """The demo district's housing bureau ledger as an office keeps it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws["A1"] = "站前区拖欠中小企业账款台账（2025年）"
    ws.merge_cells("A1:O1")
    # a two-level header: rows 2–3, most cells merged down, 债权企业情况 merged across
    for col, title in enumerate(HEADER_TOP, 1):
        if title:
            ws.cell(2, col, title)
    for col, title in enumerate(HEADER_SUB, 1):
        if title:
            ws.cell(3, col, title)
    ws.merge_cells("C2:E2")
    for col in [1, 2, *range(6, 16)]:
        letter = openpyxl.utils.get_column_letter(col)
        ws.merge_cells(f"{letter}2:{letter}3")
    rows = [
        # 4: an existing row with a new amount (float cell), a text date and an Excel serial date
        ["AR-2024-003", "区卫健局", "营口某某医药有限公司", "91210802MA0W7H1J26", "小型", "基层医疗机构药品配送",
         "ZQ-WJ-2024-001", 160000.0, datetime(2024, 1, 31), "2024年3月1日", 45408, "否", None, None, "李某"],
        # 5: an existing row, unchanged (department given by id, amount as text)
        AR_2024_002 + ["王某"],
        # 6: a new row: department name, thousands separator, text dates in three spellings
        ["AR-2026-007", "区住建局", "营口某某门窗有限公司", None, "微型", "区政务服务中心门窗维修", "ZQ-ZJ-2026-031",
         "1,234.50", "2026/9/1", "2026.9.30", "20261020", "否", None, "导入测试", None],
        # 7: an amount in Chinese numerals
        ["AR-2026-008", "zjj", "营口某某装饰有限公司", None, "小型", "办公楼粉刷", "ZQ-ZJ-2026-032",
         "壹万元", date(2026, 9, 1), date(2026, 9, 30), date(2026, 10, 20), "否", None, None, None],
        # 8: a formula Excel never calculated
        ["AR-2026-009", "zjj", "营口某某电梯有限公司", None, "小型", "电梯维保", "ZQ-ZJ-2026-033",
         "=1000*12", date(2026, 9, 1), date(2026, 9, 30), date(2026, 10, 20), "否", None, None, None],
        # 9: a formula with its cached value (written into the XML below)
        ["AR-2026-010", "zjj", "营口某某消防有限公司", None, "小型", "消防设施检测", "ZQ-ZJ-2026-034",
         "=2000+345.6", date(2026, 9, 1), date(2026, 9, 30), date(2026, 10, 20), "否", None, None, None],
        # 10: empty, then 11: the totals row
        [],
        ["合计", None, None, None, None, None, None, "=SUM(H4:H9)"],
    ]
    for r, values in enumerate(rows, 4):
        for c, value in enumerate(values, 1):
            if value is not None:
                ws.cell(r, c, value)
    ws["I4"].number_format = "yyyy-mm-dd"
    ws["K4"].number_format = "General"  # a bare serial: 45408 is 2024-04-26
    hidden = wb.create_sheet("旧台账")
    hidden.append(["账款编号", "债务单位", "债权企业", "欠款金额"])
    hidden.append(["AR-2024-003", "wjj", "不应导入", 1])
    hidden.sheet_state = "hidden"
    wb.save(path)
    set_cached_value(path, "H9", "2345.6")
    return path


def test_office_workbook_is_merged_into_the_ledger(data_dir: Path, tmp_path: Path, capsys):
    book = office_workbook(tmp_path / "住建局台账.xlsx")
    before = ledger_rows(data_dir)
    code, out, err = run(capsys, "import", book, "--data", data_dir)
    assert code == 1, out + err  # rows were rejected; the good ones are written anyway
    assert "导入结果：新增 2、更新 1、未变 1、拒绝 2" in out
    assert "表头在第 3 行" in out
    assert "AR-2024-003：欠款金额 156920.36 → 160000.00（第 4 行）" in out
    assert "第 7 行（AR-2026-008）：欠款金额“壹万元”不是有效的数字 — 金额单位为元，请用阿拉伯数字书写" in out
    assert "第 8 行（AR-2026-009）：欠款金额（H8 单元格）：公式单元格没有计算结果，请在 Excel 中重新计算并保存" in out
    assert "工作表“旧台账”是隐藏的，已忽略" in out
    assert "第 11 行是合计行，已跳过" in out
    assert "列 O“联系人”无法对应到任何字段，已忽略" in out
    assert f"拖欠中小企业账款：Excel 中未包含的 {len(before) - 2} 条记录保持不变。" in out

    after = ledger_rows(data_dir)
    assert after["AR-2024-003"]["amount"] == "160000.00"
    assert after["AR-2024-003"]["found_on"] == "2024-04-26"  # from the serial 45408
    assert after["AR-2024-002"] == before["AR-2024-002"]
    new = after["AR-2026-007"]
    assert new["debtor"] == "zjj" and new["amount"] == "1234.50"
    assert (new["delivered_on"], new["due_on"], new["found_on"]) == ("2026-09-01", "2026-09-30", "2026-10-20")
    assert new["disputed"] == "false" and new["note"] == "导入测试"
    assert after["AR-2026-010"]["amount"] == "2345.60"  # the formula's cached value
    assert "AR-2026-008" not in after and "AR-2026-009" not in after
    assert set(before) - {"AR-2024-003"} <= set(after)  # nothing deleted

    # order kept: the new ids sit in id order, the untouched lines are byte for byte the same
    lines = (data_dir / LEDGER).read_text(encoding="utf-8").splitlines()
    ids = [line.split(",")[0] for line in lines[1:]]
    assert ids == sorted(ids)
    assert run(capsys, "validate", "--data", data_dir)[0] == 0

    # importing the same workbook again changes nothing
    again = (data_dir / LEDGER).read_bytes()
    code, out, _ = run(capsys, "import", book, "--data", data_dir)
    assert "新增 0、更新 0、未变 4、拒绝 2" in out and (data_dir / LEDGER).read_bytes() == again


def test_dry_run_writes_nothing(data_dir: Path, tmp_path: Path, capsys):
    book = office_workbook(tmp_path / "台账.xlsx")
    before = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    code, out, _ = run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert code == 1
    assert "试运行（未写入任何文件）：新增 2、更新 1、未变 1、拒绝 2" in out
    assert "AR-2024-003：欠款金额 156920.36 → 160000.00" in out
    assert {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()} == before


def test_all_or_nothing_writes_nothing_when_a_row_is_rejected(data_dir: Path, tmp_path: Path, capsys):
    book = office_workbook(tmp_path / "台账.xlsx")
    before = (data_dir / LEDGER).read_bytes()
    code, out, _ = run(capsys, "import", book, "--data", data_dir, "--all-or-nothing")
    assert code == 1 and "没有写入任何文件" in out
    assert (data_dir / LEDGER).read_bytes() == before


def simple_ledger(path: Path, rows: list[list], header: list[str] | None = None, sheet: str = "台账") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header or ["账款编号", "债务单位", "债权企业", "企业规模", "项目名称", "合同编号", "欠款金额（元）",
                         "交付（验收）日期", "约定付款日期", "认定日期", "是否有争议"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


NEW_ROW = ["AR-2026-007", "区住建局", "营口某某门窗有限公司", "微型", "门窗维修", "ZQ-ZJ-2026-031", 1234.5,
           date(2026, 9, 1), date(2026, 9, 30), date(2026, 10, 20), "否"]


def test_clean_import_exits_0_and_keeps_crlf(data_dir: Path, tmp_path: Path, capsys):
    path = data_dir / LEDGER
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    code, out, _ = run(capsys, "import", simple_ledger(tmp_path / "a.xlsx", [NEW_ROW]), "--data", data_dir)
    assert code == 0, out
    assert "导入结果：新增 1、更新 0、未变 0、拒绝 0" in out
    data = path.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")  # every line still CRLF
    assert b"AR-2026-007,zjj,\xe8" in data
    assert run(capsys, "validate", "--data", data_dir)[0] == 0


def test_row_that_breaks_existing_records_is_rejected(data_dir: Path, tmp_path: Path, capsys):
    # AR-2024-003 was repaid 156920.36: lowering the debt below that would make the repayment invalid
    row = ["AR-2024-003", "wjj", "营口某某医药有限公司", "小型", "基层医疗机构药品配送", "ZQ-WJ-2024-001", 150000,
           "2024-01-31", "2024-03-01", "2024-04-26", "否"]
    before = (data_dir / LEDGER).read_bytes()
    code, out, _ = run(capsys, "import", simple_ledger(tmp_path / "a.xlsx", [row]), "--data", data_dir)
    assert code == 1
    assert "第 2 行（AR-2024-003）：会使清偿记录中已有的记录" in out and "超过欠款金额" in out
    assert (data_dir / LEDGER).read_bytes() == before


def test_rule_errors_and_unknown_department_are_rejected_with_the_row_number(data_dir: Path, tmp_path: Path, capsys):
    late = [*NEW_ROW[:7], date(2026, 9, 30), date(2026, 9, 1), date(2026, 10, 20), "否"]
    late[0] = "AR-2026-008"
    unknown = [*NEW_ROW]
    unknown[0], unknown[1] = "AR-2026-009", "区宇宙局"
    code, out, _ = run(capsys, "import", simple_ledger(tmp_path / "a.xlsx", [NEW_ROW, late, unknown]), "--data", data_dir)
    assert code == 1
    assert "新增 1、更新 0、未变 0、拒绝 2" in out
    assert "第 3 行（AR-2026-008）：约定付款日期早于交付日期" in out
    assert ("第 4 行（AR-2026-009）：债务单位“区宇宙局”不是已登记的单位代码 — "
            "请填写 data/departments.csv 中的单位名称或单位代码") in out
    assert "AR-2026-007" in ledger_rows(data_dir)
    assert run(capsys, "validate", "--data", data_dir)[0] == 0


def test_missing_id_gets_a_hint_and_duplicate_rows_are_rejected(data_dir: Path, tmp_path: Path, capsys):
    no_id = [None, *NEW_ROW[1:]]
    code, out, _ = run(capsys, "import", simple_ledger(tmp_path / "a.xlsx", [NEW_ROW, no_id, NEW_ROW]), "--data", data_dir)
    assert code == 1
    assert "第 3 行：缺少账款编号 — 新记录请填写下一个编号，如 AR-" in out
    assert "第 4 行（AR-2026-007）：账款编号与第 2 行重复" in out


def test_plan_and_repayment_sheets_merge_by_their_keys(data_dir: Path, tmp_path: Path, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "还款记录"
    ws.append(["账款编号", "支付日期", "支付金额（元）", "备注"])
    ws.append(["AR-2024-002", "2024-04-19", "412,380.00", "部门预算资金"])  # present: unchanged
    ws.append(["AR-2024-001", "2026年11月20日", 50000, "财政资金"])  # new
    plan = wb.create_sheet("分期清偿计划")
    plan.append(["账款编号", "计划清偿日期", "计划清偿金额"])
    plan.append(["AR-2023-001", date(2023, 9, 30), 1200000])  # present: unchanged
    plan.append(["AR-2023-001", date(2024, 3, 31), 1100000])  # amount changed
    wb.save(tmp_path / "清偿.xlsx")
    before_repayments = ledger_rows_list(data_dir, REPAYMENTS)
    code, out, _ = run(capsys, "import", tmp_path / "清偿.xlsx", "--data", data_dir)
    assert code == 0, out
    assert "新增 1、更新 1、未变 2、拒绝 0" in out
    assert "AR-2023-001 2024-03-31：计划清偿金额 1200000.00 → 1100000.00（工作表“分期清偿计划”第 3 行；替换 arrears/plan.csv 第 3 行）" in out
    after = ledger_rows_list(data_dir, REPAYMENTS)
    assert len(after) == len(before_repayments) + 1
    assert {"arrears_id": "AR-2024-001", "paid_on": "2026-11-20", "seq": "1", "amount": "50000.00", "note": "财政资金"} in after
    dates = [r["paid_on"] for r in after]
    assert dates == sorted(dates)  # the file stays in payment-date order
    assert run(capsys, "validate", "--data", data_dir)[0] == 0


def ledger_rows_list(data_dir: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((data_dir / name).read_text(encoding="utf-8"))))


def test_evaluations_sheet_with_department_names(data_dir: Path, tmp_path: Path, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"  # recognised by its header, not its name
    ws.append(["年度", "被评价单位", "评价机构", "评价方式", "得分", "等次", "公布日期"])
    ws.append([2025, "区发改局", "辽宁某某信用评价研究院", "第三方评价", 95, "优秀", date(2026, 3, 20)])
    wb.save(tmp_path / "评价.xlsx")
    code, out, _ = run(capsys, "import", tmp_path / "评价.xlsx", "--data", data_dir)
    assert code == 0, out
    row = next(r for r in ledger_rows_list(data_dir, "evaluations.csv") if r["year"] == "2025" and r["department"] == "fgj"
               and r["method"] == "第三方评价")
    assert row["score"] == "95.0" and row["published_on"] == "2026-03-20"


# --- unusable files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "请在 Excel 中“另存为”Excel 工作簿（.xlsx）"),
        ("台账.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "文件已加密或是旧版 .xls"),
        ("台账.csv", "账款编号,债务单位\n".encode(), "CSV 文件请直接放入 data/"),
        ("台账.xlsx", b"this is not a workbook", "不是有效的 .xlsx 文件"),
        ("台账.xlsx", b"PK\x03\x04broken", "不是有效的 .xlsx 文件"),
        ("台账.txt", b"text", "不是 Excel 工作簿"),
    ],
)
def test_unusable_files_exit_2_and_write_nothing(data_dir: Path, tmp_path: Path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    before = (data_dir / LEDGER).read_bytes()
    code, out, err = run(capsys, "import", path, "--data", data_dir)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert (data_dir / LEDGER).read_bytes() == before


def test_missing_file(data_dir: Path, tmp_path: Path, capsys):
    code, _, err = run(capsys, "import", tmp_path / "没有.xlsx", "--data", data_dir)
    assert code == 2 and "找不到文件" in err


def test_required_column_missing_is_named(data_dir: Path, tmp_path: Path, capsys):
    header = ["账款编号", "债务单位", "债权企业", "企业规模", "项目名称", "合同编号", "欠款金额（元）",
              "交付（验收）日期", "认定日期", "是否有争议"]
    book = simple_ledger(tmp_path / "a.xlsx", [[*NEW_ROW[:8], *NEW_ROW[9:]]], header=header)
    code, _, err = run(capsys, "import", book, "--data", data_dir)
    assert code == 2
    assert "缺少必填列：约定付款日期" in err


def test_no_recognisable_header(data_dir: Path, tmp_path: Path, capsys):
    book = simple_ledger(tmp_path / "a.xlsx", [["x", "y"]], header=["姓名", "电话", "地址"], sheet="Sheet1")
    code, _, err = run(capsys, "import", book, "--data", data_dir)
    assert code == 2 and "没有找到可识别的表头" in err


def test_header_merged_across_two_columns_is_reported(data_dir: Path, tmp_path: Path, capsys):
    book = simple_ledger(tmp_path / "a.xlsx", [NEW_ROW])
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    ws.insert_cols(8)
    ws["H1"] = "欠款金额（元）"
    ws.merge_cells("G1:H1")
    wb.save(book)
    code, _, err = run(capsys, "import", book, "--data", data_dir)
    assert code == 2
    assert "列 G、H 都对应“欠款金额（元）”" in err


def test_forced_sheet_and_resource(data_dir: Path, tmp_path: Path, capsys):
    wb = openpyxl.Workbook()
    wb.active.title = "说明文字"
    wb.active.append(["这是说明"])
    ws = wb.create_sheet("数据")
    ws.append(["编号", "日期", "金额"])  # ambiguous on its own: force it
    ws.append(["AR-2024-001", "2026-11-20", 100])
    wb.save(tmp_path / "a.xlsx")
    code, out, err = run(capsys, "import", tmp_path / "a.xlsx", "--data", data_dir, "--sheet", "数据", "--resource", "arrears")
    assert code == 2 and "找不到“拖欠中小企业账款”的表头" in err
    code, out, err = run(capsys, "import", tmp_path / "a.xlsx", "--data", data_dir, "--sheet", "没有")
    assert code == 2 and "没有名为“没有”的工作表" in err


# --- atomic writes ------------------------------------------------------------------------------


def test_a_failed_write_leaves_the_ledger_as_it_was(data_dir: Path, tmp_path: Path, capsys, monkeypatch):
    book = simple_ledger(tmp_path / "a.xlsx", [NEW_ROW])
    before = (data_dir / LEDGER).read_bytes()

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the temp file is half-written when this fails
    code, _, err = run(capsys, "import", book, "--data", data_dir)
    assert code == 2 and "原文件没有改动" in err
    assert (data_dir / LEDGER).read_bytes() == before
    assert not [p for p in (data_dir / "arrears").iterdir() if p.name.startswith(".")]  # no temp left behind

    monkeypatch.undo()
    monkeypatch.setattr(os, "replace", disk_full)
    code, _, err = run(capsys, "import", book, "--data", data_dir)
    assert code == 2
    assert (data_dir / LEDGER).read_bytes() == before


# --- the template ---------------------------------------------------------------------------------


def test_template_round_trip(data_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "台账模板.xlsx"
    code, stdout, _ = run(capsys, "export-template", "--data", data_dir, "--out", out)
    assert code == 0 and out.exists()
    wb = openpyxl.load_workbook(out)
    package = load_package()
    arrears = package.resource("arrears")
    ws = wb[arrears.title]
    assert [c.value for c in ws[1]] == [f.title for f in arrears.fields]
    assert ws["A1"].comment is not None and "必填" in ws["A1"].comment.text
    validations = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
    assert validations["E2"].formula1 == '"中型,小型,微型"'
    assert validations["B2"].formula1.startswith("'单位名单'!")  # debtor: department names
    assert wb["单位名单"].sheet_state == "hidden"
    assert "填写说明" in wb.sheetnames
    assert set(wb.sheetnames) >= {package.resource(n).title for n in importer.IMPORTABLE}

    # an office fills one row and sends it back
    values = {"id": "AR-2026-007", "debtor": "区住建局", "creditor": "营口某某门窗有限公司", "creditor_size": "微型",
              "project": "门窗维修", "contract_no": "ZQ-ZJ-2026-031", "amount": 88000.5,
              "delivered_on": datetime(2026, 9, 1), "due_on": datetime(2026, 9, 30), "found_on": datetime(2026, 10, 20),
              "disputed": "否"}
    for col, f in enumerate(arrears.fields, 1):
        if f.name in values:
            ws.cell(2, col, values[f.name])
    wb.save(out)
    code, stdout, _ = run(capsys, "import", out, "--data", data_dir)
    assert code == 0, stdout
    assert "新增 1、更新 0、未变 0、拒绝 0" in stdout
    assert "隐藏" not in stdout  # the template's own helper sheet is not worth a notice
    row = ledger_rows(data_dir)["AR-2026-007"]
    assert row["amount"] == "88000.50" and row["debtor"] == "zjj" and row["disputed"] == "false"
    assert run(capsys, "validate", "--data", data_dir)[0] == 0


def test_template_refuses_to_overwrite(data_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"keep")
    code, _, err = run(capsys, "export-template", "--data", data_dir, "--out", out)
    assert code == 2 and "不会覆盖" in err and out.read_bytes() == b"keep"
    code, _, _ = run(capsys, "export-template", "--data", data_dir, "--out", out, "--force", "--resource", "evaluations")
    assert code == 0 and openpyxl.load_workbook(out).sheetnames[0] == "评价结果"


# --- pieces -------------------------------------------------------------------------------------------


def test_header_names_are_normalised():
    assert normalise_header(" 欠款金额（元） ") == normalise_header("欠款金额(元)") == normalise_header("欠款　金额")
    assert normalise_header("欠款金额（万元）") != normalise_header("欠款金额")  # 万元 is another unit
    assert normalise_header("*账款编号") == normalise_header("账款编号")


def test_synonyms_file_names_real_fields_without_clashes():
    syn = synonyms()  # raises on an unknown field or a name that maps to two fields
    assert syn.mappings["arrears"].names[normalise_header("欠款单位")] == "debtor"
    assert syn.mappings["arrears"].names[normalise_header("合同号")] == "contract_no"
    assert normalise_header("序号") not in syn.mappings["arrears"].names


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024年3月1日", "2024-03-01"), ("2024/3/1", "2024-03-01"), ("2024.3.1", "2024-03-01"), ("20240301", "2024-03-01"),
     (20240301, "2024-03-01"), (45352, "2024-03-01"), (datetime(2024, 3, 1, 9, 30), "2024-03-01"),
     ("２０２４年３月１日", "2024-03-01"), ("2024-03-01 00:00:00", "2024-03-01"), ("2024年2月30日", "2024年2月30日")],
)
def test_dates(value, expected):
    assert convert_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,234.50", "1234.50"), ("１２３４．５", "1234.50"), ("1234.5元", "1234.50"), ("￥1,000", "1000.00"),
     (1234.5, "1234.50"), (0.1 + 0.2, "0.30"), (1200000, "1200000.00"), (1234.567, "1234.567"), ("壹万元", "壹万元"),
     ("1,23", "1,23")],
)
def test_amounts_are_exact(value, expected):
    amount = load_package().resource("arrears").field("amount")
    assert convert_number(amount, value) == expected
    if expected[0].isdigit() and "," not in expected:
        Decimal(expected)  # exact decimal text, never a float's noise


def test_booleans_and_error_cells():
    disputed = load_package().resource("arrears").field("disputed")
    assert [convert_cell(disputed, v) for v in ("是", "否", True, False, "有", "无")] == ["true", "false", "true", "false", "true", "false"]
    with pytest.raises(importer.CellError, match="#N/A"):
        convert_cell(disputed, "#N/A")


def test_a_failure_on_the_second_file_puts_the_first_back(data_dir: Path, tmp_path: Path, capsys, monkeypatch):
    wb = openpyxl.Workbook()
    wb.active.title = "台账"
    for row in ([*["账款编号", "债务单位", "债权企业", "企业规模", "项目名称", "合同编号", "欠款金额（元）",
                   "交付（验收）日期", "约定付款日期", "认定日期", "是否有争议"]], NEW_ROW):
        wb.active.append(row)
    plan = wb.create_sheet("分期清偿计划")
    plan.append(["账款编号", "计划清偿日期", "计划清偿金额"])
    plan.append(["AR-2026-007", date(2026, 12, 31), 1234.5])
    wb.save(tmp_path / "a.xlsx")
    before = {name: (data_dir / name).read_bytes() for name in (LEDGER, PLAN)}
    real_replace = os.replace

    def fail_on_plan(src, dst):
        if str(dst).endswith("plan.csv"):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_plan)
    code, _, err = run(capsys, "import", tmp_path / "a.xlsx", "--data", data_dir)
    assert code == 2 and "plan.csv" in err
    assert {name: (data_dir / name).read_bytes() for name in before} == before
    monkeypatch.setattr(os, "replace", real_replace)
    code, out, _ = run(capsys, "import", tmp_path / "a.xlsx", "--data", data_dir)
    assert code == 0 and "新增 2、更新 0、未变 0、拒绝 0" in out


def test_an_amount_in_wan_yuan_is_never_read_as_yuan(data_dir: Path, tmp_path: Path, capsys):
    header = ["账款编号", "债务单位", "债权企业", "企业规模", "项目名称", "合同编号", "欠款金额（万元）",
              "交付（验收）日期", "约定付款日期", "认定日期", "是否有争议"]
    row = [*NEW_ROW]
    row[6] = 0.12345
    code, _, err = run(capsys, "import", simple_ledger(tmp_path / "a.xlsx", [row], header=header), "--data", data_dir)
    assert code == 2
    assert "缺少必填列：欠款金额（元）" in err
    assert "列 G“欠款金额（万元）”以万元为单位，不能直接导入：请换算为元，并把列名改为“欠款金额（元）”" in err
