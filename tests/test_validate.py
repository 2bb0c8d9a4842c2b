"""The validator: schema checks and the cross-record rules, each with a passing and a failing case."""

from __future__ import annotations

import json
from datetime import date
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
    assert p.field == "disclosure_until" and "2026-09-15 至 2027-06-15" in p.hint


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
    assert p.field == "repair_applied_on" and "2026-09-16" in p.hint


def test_missing_calendar_year_is_a_warning_naming_the_year_and_the_file(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-002.yaml", "uploaded_on: ", "uploaded_on: 2027-01-08  # ", 1)
    assert problems_of(data_dir) == []  # never an error: the build must go on
    report = validate(load(data_dir), date(2027, 1, 15))
    [p] = [p for p in report.problems if p.file.startswith("findings/")]
    assert p.severity == "warning" and "2027 年的节假日安排" in p.message and "data/calendar.yaml" in p.hint
    assert report.dataset is not None


def test_calendar_year_supplied_as_data_is_used(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-002.yaml", "uploaded_on: ", "uploaded_on: 2027-01-08  # ", 1)
    (data_dir / "calendar.yaml").write_text(
        "years:\n  2027:\n    notice: 测试用通知\n    holidays: [2027-01-01]\n    workdays: []\n", encoding="utf-8")
    assert [p for p in validate(load(data_dir), date(2027, 1, 15)).problems if p.code == "calendar"] == []


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
        f.write("index,索引办,区直部门,999,true,,,,\n")
    [p] = problems_of(data_dir)
    assert p.field == "id" and "index" in p.hint


def test_civil_servant_finding_needs_its_sanction(data_dir: Path):
    edit(data_dir / "findings" / "DF-2025-003.yaml", "sanction: 警告\n", "")
    [p] = problems_of(data_dir)
    assert p.field == "sanction" and "政务处分" in p.message


def test_upload_date_before_the_decision_is_refused(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-002.yaml", "uploaded_on: 2026-05-22", "uploaded_on: 2026-05-01")
    [p] = problems_of(data_dir)
    assert p.field == "uploaded_on"


def _ledger_edit(data_dir: Path, record: str, field: str, value: str) -> None:
    import csv
    import io
    path = data_dir / "arrears" / "ledger.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    column = rows[0].index(field)
    for row in rows[1:]:
        if row[0] == record:
            row[column] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.mark.parametrize("signed, rate, warned", [
    ("2024-08-15", "0.0092", False),  # 0.0092 % a day × 365 = 3.358 % ≥ LPR 3.35 % (Jul/Aug 2024)
    ("2024-08-15", "0.0091", True),   # 3.3215 % < 3.35 %
    ("2024-08-15", "0.0100", False),  # 3.65 %
    ("2024-10-25", "0.0091", False),  # 3.3215 % ≥ 3.10 % (Oct 2024), the lower of Sep and Oct quotes
])
def test_agreed_rate_below_the_lpr_at_signing_is_warned(data_dir: Path, signed, rate, warned):
    _ledger_edit(data_dir, "AR-2024-006", "signed_on", signed)
    _ledger_edit(data_dir, "AR-2024-006", "agreed_daily_rate", rate)
    report = validate(load(data_dir), date(2026, 11, 26))
    assert report.errors == []
    lpr = [p for p in report.problems if p.field == "agreed_daily_rate"]
    assert bool(lpr) is warned
    if lpr:
        assert "LPR" in lpr[0].message and lpr[0].severity == "warning"


# The table reaches 2025-12 (quote of 2025-12-22: 3.00 %); 2026-01 is not in it yet.
@pytest.mark.parametrize("signed, rate, message", [
    ("2025-12-15", "0.0082", "低于"),        # 2.993 % < 3.00 % (Nov and Dec 2025)
    ("2025-12-15", "0.0083", None),          # 3.0295 %
    ("2026-01-19", "0.0082", "低于"),        # before the January quote: December's 3.00 % applies
    ("2026-01-20", "0.0082", "尚未收录 2026-01"),  # the January quote may be in force and is not in the table
])
def test_lpr_table_edges_after_2025_06(data_dir: Path, signed, rate, message):
    _ledger_edit(data_dir, "AR-2024-006", "signed_on", signed)
    _ledger_edit(data_dir, "AR-2024-006", "agreed_daily_rate", rate)
    report = validate(load(data_dir), date(2026, 11, 26))
    assert report.errors == []
    lpr = [p for p in report.problems if p.field == "agreed_daily_rate"]
    assert [message in p.message for p in lpr] == ([True] if message else [])


def test_every_lpr_month_names_a_registered_reference(data_dir: Path):
    site = validate(load(data_dir), date(2026, 11, 26)).dataset.site
    assert set(site.rules.lpr) == set(site.rules.lpr_refs)
    assert set(site.rules.lpr_refs.values()) <= set(site.rules.lpr_references)
    assert all("http" in text for text in site.rules.lpr_references.values())


@pytest.mark.parametrize("old, new, message", [
    ('2024-10: {rate: "3.10", ref: L4}', '2024-10: "3.10"', "2024-10 的 LPR 没有注明核对来源"),
    ('2024-10: {rate: "3.10", ref: L4}', '2024-10: {rate: "3.10", ref: L9}', "来源编号“L9”不在 rules.lpr.references 中"),
])
def test_lpr_row_without_a_known_reference_is_refused(data_dir: Path, old, new, message):
    edit(data_dir / "site.yaml", old, new)
    report = validate(load(data_dir), date(2026, 11, 26))
    assert any(message in p.message and p.file == "site.yaml" for p in report.errors), report.errors


def test_disputed_amount_rules(data_dir: Path):
    _ledger_edit(data_dir, "AR-2023-006", "disputed_amount", "")
    _ledger_edit(data_dir, "AR-2023-007", "disputed_amount", "95600.01")
    report = validate(load(data_dir), date(2026, 11, 26))
    by_id = {(p.line, p.severity) for p in report.problems if p.field == "disputed_amount"}
    assert (7, "warning") in by_id and (8, "error") in by_id


def test_lawful_change_needs_its_compensation(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-004.yaml", "  compensation:", "  # compensation:")
    [p] = problems_of(data_dir)
    assert p.field == "change_compensation" and "补偿" in p.message


def test_termination_needs_its_legal_basis(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-005.yaml", "  basis:", "  # basis:")
    [p] = problems_of(data_dir)
    assert p.field == "change_basis" and "已终止" in p.message


@pytest.mark.parametrize("reason, flagged", [("因政府换届，原承诺不再履行。", True), ("因领导人员更替，暂缓兑现。", True),
                                             ("经批准的国土空间规划调整为公共绿地。", False)])
def test_forbidden_excuses_are_flagged(data_dir: Path, reason, flagged):
    path = data_dir / "commitments" / "CM-2024-004.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  basis: ") + len("  basis: ")
    path.write_text(text[:start] + reason + text[text.index("\n", start):], encoding="utf-8")
    report = validate(load(data_dir), date(2026, 11, 26))
    assert report.errors == []
    warned = [p for p in report.problems if p.field == "change_basis"]
    assert bool(warned) is flagged
    if flagged:
        assert "四（四）" in warned[0].hint


# --- messages in the staff's own terms (issue 14, items 4, 5 and 7) ---------------------------


def _texts(data_dir: Path, errors_only: bool = True) -> list[str]:
    return [p.text() for p in problems_of(data_dir, errors_only)]


def test_department_written_by_name_gets_its_code_suggested(data_dir: Path):
    # Decision: records hold department codes, never names (a name changes with a
    # reorganisation, the code in every URL does not); a name gets its code suggested.
    line = ledger_cell(data_dir, "AR-2024-002", "debtor", "区住建局")
    assert _texts(data_dir) == [
        f"{LEDGER}:{line}: debtor: “区住建局”是单位名称，这里要填单位代码 — 应写作 zjj（区住建局的单位代码，见 data/departments.csv）"]


def test_department_name_in_a_yaml_record_and_a_near_name(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-003.yaml", "subject: wjj", "subject: 区卫健局")
    [p] = problems_of(data_dir)
    assert (p.message, p.hint) == ("“区卫健局”是单位名称，这里要填单位代码", "应写作 wjj（区卫健局的单位代码，见 data/departments.csv）")
    edit(data_dir / "findings" / "DF-2026-003.yaml", "subject: 区卫健局", "subject: 卫健局")
    [p] = problems_of(data_dir)
    assert (p.message, p.hint) == ("“卫健局”不是已登记的单位代码", "是不是区卫健局？其单位代码为 wjj（见 data/departments.csv）")


def test_amount_in_wan_yuan_names_the_unit_and_the_yuan_value(data_dir: Path):
    line = ledger_cell(data_dir, "AR-2024-002", "amount", "41.26万元")
    assert _texts(data_dir) == [
        f"{LEDGER}:{line}: amount: “41.26万元”的单位不对：金额以元为单位 — 41.26 万元即 412600 元，应写作 412600"]
    ledger_cell(data_dir, "AR-2024-002", "amount", "1.5亿")
    [p] = problems_of(data_dir)
    assert p.hint == "1.5 亿元即 150000000 元，应写作 150000000"


def test_implausible_amounts_for_the_kind_are_warnings(data_dir: Path):
    line = ledger_cell(data_dir, "AR-2026-006", "amount", "800.00")  # 辖区老旧小区道路修缮工程
    warnings = [p.text() for p in problems_of(data_dir, errors_only=False) if p.code == "plausibility"]
    assert warnings == [f"{LEDGER}:{line}: amount: 提示： 欠款金额 800 元对工程款而言过小（通常不少于 1000 元）"
                        " — 请核对金额是否以元为单位、有无多写或漏写位数；金额无误可忽略本提示"]
    ledger_cell(data_dir, "AR-2026-006", "amount", "412560.00")
    ledger_cell(data_dir, "AR-2025-007", "disputed_amount", "")  # the whole amount disputed: no cap to break
    ledger_cell(data_dir, "AR-2025-007", "amount", "50.00")  # 政府投资项目结算审核服务: no repayments
    [w] = [p for p in problems_of(data_dir, errors_only=False) if p.code == "plausibility"]
    assert w.message == "欠款金额 50 元对货物和服务款而言过小（通常不少于 100 元）"
    assert problems_of(data_dir) == []  # a warning only: the build goes on
    ledger_cell(data_dir, "AR-2025-007", "amount", "900000000.00")
    [w] = [p for p in problems_of(data_dir, errors_only=False) if p.code == "plausibility"]
    assert w.message == "欠款金额 900000000 元对货物和服务款而言过大（通常不超过 100000000 元）"


def test_amount_thresholds_are_data(data_dir: Path):
    edit(data_dir / "site.yaml", 'min: "1000"', 'min: "10"')
    ledger_cell(data_dir, "AR-2026-006", "amount", "800.00")
    assert [p for p in problems_of(data_dir, errors_only=False) if p.code == "plausibility"] == []


def test_every_date_problem_names_its_column(data_dir: Path):
    line = ledger_cell(data_dir, "AR-2024-002", "delivered_on", "2024/13/01")
    [p] = problems_of(data_dir)
    assert p.text() == f"{LEDGER}:{line}: delivered_on: 交付（验收）日期“2024/13/01”的格式不对 — 日期格式为 YYYY-MM-DD，例如 2024-03-01"
    ledger_cell(data_dir, "AR-2024-002", "delivered_on", "2024-02-30")
    [p] = problems_of(data_dir)
    assert p.message == "交付（验收）日期“2024-02-30”不是存在的日期"


def test_full_width_colon_in_yaml_is_named(data_dir: Path):
    edit(data_dir / "findings" / "DF-2026-003.yaml", "severity: ", "severity：")
    [p] = problems_of(data_dir)
    line = (data_dir / "findings" / "DF-2026-003.yaml").read_text(encoding="utf-8").splitlines().index(
        next(x for x in (data_dir / "findings" / "DF-2026-003.yaml").read_text(encoding="utf-8").splitlines() if x.startswith("severity："))) + 1
    assert p.text() == (f"findings/DF-2026-003.yaml:{line}: “severity：”用了全角冒号（：） — "
                        "YAML 的键后面要用半角冒号加空格，应写作“severity: ”")


def test_help_is_chinese_throughout(capsys):
    from generator.cli import build_parser

    parser = build_parser()
    commands = ["validate", "build", "serve", "new", "import", "export-template", "synth"]
    for argv in [["--help"]] + [[c, "--help"] for c in commands]:
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(argv)
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("用法：generator"), out
        for english in ("usage", "positional arguments", "options:", "optional arguments", "show this help",
                        "show program", "subcommands"):
            assert english not in out, (argv, english)
        assert "-h, --help" in out and "显示本帮助信息并退出" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "--help"])
    out = capsys.readouterr().out
    assert "位置参数:" in out and "选项:" in out


# --- withdrawals and change logs (issue 16) -----------------------------------------------------


def test_withdrawn_commitment_needs_its_date_and_reason_and_only_a_withdrawn_one_has_them(data_dir: Path):
    rel = "commitments/CM-2025-003.yaml"
    edit(data_dir / rel, "status: 履行中", "status: 已撤回")
    status_line = (data_dir / rel).read_text(encoding="utf-8").splitlines().index("status: 已撤回") + 1
    found = problems_of(data_dir)
    assert sorted((p.file, p.line, p.field) for p in found) == [
        (rel, status_line, "withdrawal_reason"), (rel, status_line, "withdrawn_on")]
    messages = " ".join(p.message for p in found)
    assert "撤回的日期" in messages and "撤回的原因" in messages
    edit(data_dir / rel, "status: 已撤回", "status: 已撤回\nwithdrawal:\n  date: 2026-11-20\n  reason: 重复登记")
    assert problems_of(data_dir) == []
    edit(data_dir / rel, "status: 已撤回", "status: 履行中")
    [problem] = problems_of(data_dir)
    assert (problem.file, problem.field) == (rel, "withdrawn_on") and "履行中" in problem.message


def test_change_log_names_fields_of_its_record(data_dir: Path):
    rel = "commitments/CM-2025-002.yaml"
    path = data_dir / rel
    path.write_text(path.read_text(encoding="utf-8") + (
        "changes:\n  - date: 2026-11-20\n    fields: deadline、兑现期\n    what: 调整\n    reason: 依法顺延\n"
        "    basis: 协议第十二条\n"), encoding="utf-8")
    [problem] = problems_of(data_dir)
    line = path.read_text(encoding="utf-8").splitlines().index("    fields: deadline、兑现期") + 1
    assert (problem.file, problem.line, problem.field, problem.code) == (rel, line, "fields", "change-log")
    assert "兑现期" in problem.message and "deadline" in problem.hint
    edit(path, "deadline、兑现期", "deadline、兑现期限")
    assert problems_of(data_dir) == []
    edit(path, "    basis: 协议第十二条\n", "")  # the legal basis is required
    [problem] = problems_of(data_dir)
    assert problem.field == "basis" and problem.file == rel


def test_arrears_withdrawal_and_change_rows_are_checked_like_any_ledger(data_dir: Path):
    (data_dir / "arrears/withdrawals.csv").write_text(
        "arrears_id,withdrawn_on,reason,document\nAR-2024-001,2020-01-01,重复录入,\nAR-9999-001,2026-11-20,重复录入,\n",
        encoding="utf-8")
    (data_dir / "arrears/changes.csv").write_text(
        "arrears_id,date,fields,what,reason,basis,document\nAR-2024-001,2026-11-20,金额,更正,核对合同,更正录入错误,\n",
        encoding="utf-8")
    found = sorted((p.file, p.line, p.field) for p in problems_of(data_dir))
    assert found == [("arrears/changes.csv", 2, "fields"), ("arrears/withdrawals.csv", 2, "withdrawn_on"),
                     ("arrears/withdrawals.csv", 3, "arrears_id")]
    # the optional ledgers may be absent: the demo data has neither
    assert not (DEMO_DATA / "arrears/withdrawals.csv").exists() and not (DEMO_DATA / "arrears/changes.csv").exists()
