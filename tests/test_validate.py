"""The validator: schema checks and the cross-record rules, each with a passing and a failing case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cli import main
from generator.load import load
from generator.privacy import id_card_check_char
from generator.validate import validate
from tests.conftest import DEMO_DATA, edit, problems_of

CM = "commitments/CM-2024-001.yaml"
LEDGER = "arrears/ledger.csv"


def test_demo_data_validates_clean():
    report = validate(load(DEMO_DATA))
    assert report.errors == []
    assert report.dataset is not None
    assert len(report.dataset.commitments) >= 12 and len(report.dataset.arrears) >= 25
    assert len(report.dataset.findings) >= 8


def test_message_format_names_file_line_field_and_fix(data_dir: Path):
    edit(data_dir / CM, "category: ", "category: 招商引zi  # ", 1)
    [p] = problems_of(data_dir)
    assert p.text().startswith(f"{CM}:{p.line}: category: ")
    assert " — " in p.text() and "可选值" in p.hint


def ledger_cell(data_dir: Path, row_id: str, field: str, value: str) -> int:
    """Set one cell of the arrears ledger; returns its line number."""
    path = data_dir / LEDGER
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for n, line in enumerate(lines):
        if line.startswith(row_id + ","):
            import csv, io

            cells = next(csv.reader(io.StringIO(line)))
            cells[header.index(field)] = value
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(cells)
            lines[n] = out.getvalue()
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return n + 1
    raise AssertionError(row_id)


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("found_on", "2024年3月1日", "2024-03-01"),
        ("found_on", "2024/3/1", "2024-03-01"),
        ("found_on", "2024-02-30", "不是存在的日期"),
        ("amount", "1,234.5", "不要加千位分隔符，应写作 1234.5"),
        ("amount", "壹万元", "阿拉伯数字"),
        ("amount", "-5", "金额须为正数"),
        ("amount", "12.345", "最多保留 2 位小数"),
        ("disputed", "是", "true"),
        ("creditor_size", "小微", "可选值"),
        ("debtor", "zjjj", "是不是 zjj"),
    ],
)
def test_bad_cells_are_explained(data_dir: Path, field: str, value: str, words: str):
    line = ledger_cell(data_dir, "AR-2024-002", field, value)
    problems = [p for p in problems_of(data_dir) if p.file == LEDGER and p.line == line]
    assert problems, "expected a problem on the edited line"
    assert any(p.field == field and words in p.message + p.hint for p in problems), problems


def test_all_problems_in_one_run(data_dir: Path):
    ledger_cell(data_dir, "AR-2024-002", "amount", "壹万元")
    ledger_cell(data_dir, "AR-2024-003", "found_on", "2024/3/1")
    edit(data_dir / CM, "category: ", "category: 不存在  # ", 1)
    assert len(problems_of(data_dir)) == 3


def test_fulfilled_needs_a_date(data_dir: Path):
    path = data_dir / "commitments" / "CM-2024-001.yaml"
    text = path.read_text(encoding="utf-8")
    assert "status: 已兑现" in text
    path.write_text("\n".join(l for l in text.splitlines() if not l.startswith("fulfilled_on")) + "\n", encoding="utf-8")
    [p] = problems_of(data_dir)
    assert p.field == "fulfilled_on" and "已兑现" in p.message


def test_lawful_change_needs_its_basis(data_dir: Path):
    path = data_dir / "commitments" / "CM-2024-004.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("change:")
    end = text.index("\n", text.index("compensation:"))
    path.write_text(text[:start] + "change: {}\n" + text[end + 1:], encoding="utf-8")
    fields = {p.field for p in problems_of(data_dir)}
    assert {"change_decided_on", "change_basis"} <= fields


def test_fulfilled_date_with_an_open_status_is_an_error(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-001.yaml", "status: 已兑现", "status: 履行中")
    [p] = problems_of(data_dir)
    assert p.field == "fulfilled_on" and "履行中" in p.message


def test_deadline_before_promise(data_dir: Path):
    edit(data_dir / CM, "deadline: ", "deadline: 2001-01-01  # ", 1)
    [p] = problems_of(data_dir)
    assert p.field == "deadline" and "早于承诺日期" in p.message


def test_repayments_may_not_exceed_the_debt(data_dir: Path):
    with (data_dir / "arrears" / "repayments.csv").open("a", encoding="utf-8") as f:
        f.write("AR-2023-003,2026-01-05,1,99999999.00,多付\n")
    [p] = problems_of(data_dir)
    assert p.file == "arrears/repayments.csv" and p.field == "amount" and "超过欠款金额" in p.message


def test_repayment_before_delivery_is_an_error(data_dir: Path):
    with (data_dir / "arrears" / "repayments.csv").open("a", encoding="utf-8") as f:
        f.write("AR-2026-001,2000-01-05,1,1.00,\n")
    [p] = problems_of(data_dir)
    assert p.field == "paid_on" and "早于交付日期" in p.message


def test_repayment_for_an_unknown_debt(data_dir: Path):
    with (data_dir / "arrears" / "repayments.csv").open("a", encoding="utf-8") as f:
        f.write("AR-2099-001,2024-01-05,1,1.00,\n")
    [p] = problems_of(data_dir)
    assert p.field == "arrears_id" and "AR-2099-001" in p.message


def test_dispute_needs_a_resolution(data_dir: Path):
    line = ledger_cell(data_dir, "AR-2024-002", "disputed", "true")
    [p] = problems_of(data_dir)
    assert (p.line, p.field) == (line, "resolution")


def test_credit_code_check_character(data_dir: Path):
    ledger = (data_dir / LEDGER).read_text(encoding="utf-8")
    code = ledger.splitlines()[1].split(",")[3]
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    edit(data_dir / LEDGER, code, wrong)
    [p] = problems_of(data_dir)
    assert p.field == "creditor_code" and f"应为 {code[17]}" in p.hint


def test_long_payment_term_is_only_a_warning():
    report = validate(load(DEMO_DATA))
    assert any(p.field == "due_on" and "超过法定最长 60 天" in p.message and not p.is_error for p in report.problems)


def test_civil_servant_needs_a_masked_name(data_dir: Path):
    edit(data_dir / "findings" / "DF-2025-003.yaml", "person: 张某", "person: 张三丰")
    [p] = problems_of(data_dir)
    assert p.field == "person" and "格式不对" in p.message


def test_override_must_lie_within_the_regime(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-003.yaml", "disclosure_until: 2027-03-15", "disclosure_until: 2030-01-01")
    [p] = problems_of(data_dir)
    assert p.field == "disclosure_until" and "2026-09-14 至 2027-06-14" in p.hint


def test_related_record_must_exist(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-003.yaml", "related: []", "related: [AR-2099-001]")
    [p] = problems_of(data_dir)
    assert p.field == "related_id" and "AR-2099-001" in p.message


def test_unknown_department(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-003.yaml", "subject: wjj", "subject: wjjj")
    [p] = problems_of(data_dir)
    assert p.field == "subject" and "wjj" in p.hint


def test_repair_before_the_minimum_period(data_dir: Path):
    path = data_dir / "findings" / "DF-2026-003.yaml"
    edit(path, "objections: []", "objections: []\nrepair:\n  applied_on: 2026-07-01\n  decided_on: 2026-07-10\n  outcome: 准予修复")
    [p] = problems_of(data_dir)
    assert p.field == "repair_applied_on" and "2026-09-15" in p.hint


def test_missing_calendar_year_is_an_error_naming_the_year(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-002.yaml", "published_on: ", "published_on: 2027-01-08  # ", 1)
    problems = problems_of(data_dir)
    assert any("缺少 2027 年的节假日安排" in p.message for p in problems)


def test_calendar_year_supplied_as_data_is_used(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-002.yaml", "published_on: ", "published_on: 2027-01-08  # ", 1)
    (data_dir / "calendar.yaml").write_text(
        "years:\n  2027:\n    notice: 测试用通知\n    holidays: [2027-01-01]\n    workdays: []\n", encoding="utf-8")
    assert problems_of(data_dir) == []


@pytest.mark.parametrize("kind", ["id_card", "mobile", "bank_card"])
def test_personal_identifiers_are_caught_in_free_text(data_dir: Path, kind: str):
    first17 = "21080219800101123"
    value = {"id_card": first17 + id_card_check_char(first17), "mobile": "13812345678",
             "bank_card": "6222021234567890128"}[kind]
    edit(data_dir / "findings" / "DF-2026-003.yaml", "measures: 责令限期履行", f"measures: 联系人{value}，责令限期履行")
    [p] = problems_of(data_dir)
    assert p.code == "personal-data" and p.field == "measures" and p.line == 14


def test_masked_phone_number_is_fine(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-003.yaml", "measures: 责令限期履行", "measures: 联系电话 138****5678，责令限期履行")
    assert problems_of(data_dir) == []


def test_cli_exit_codes_and_formats(data_dir: Path, capsys):
    assert main(["validate", "--data", str(data_dir)]) == 0
    ledger_cell(data_dir, "AR-2024-002", "amount", "壹万元")
    assert main(["validate", "--data", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert "arrears/ledger.csv:" in out and "共 1 个错误" in out
    assert main(["validate", "--data", str(data_dir), "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=data/arrears/ledger.csv,line=") and "title=amount" in out
    assert main(["validate", "--data", str(data_dir), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["valid"] is False and payload["errors"] == 1


def test_cli_never_shows_a_traceback(monkeypatch, capsys):
    import generator.validate as v

    monkeypatch.setattr(v, "validate", lambda raw: 1 / 0)
    monkeypatch.delenv("GENERATOR_DEBUG", raising=False)
    assert main(["validate", "--data", str(DEMO_DATA)]) == 3
    err = capsys.readouterr().err
    assert "内部错误" in err and "Traceback" not in err


def test_department_id_index_is_reserved(data_dir: Path):
    with (data_dir / "departments.csv").open("a", encoding="utf-8") as f:
        f.write("index,索引办,区直部门,999,true\n")
    [p] = problems_of(data_dir)
    assert p.field == "id" and "index" in p.hint
