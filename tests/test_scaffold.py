"""`generator new`: records start with the next free id, every field explained, nothing publishable until filled."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from generator import cli
from generator.tools.scaffold import CsvDoc, next_id, record_template, yaml_scalar
from generator.schema import load_package
from tests.conftest import edit, problems_of

LEDGER = "arrears/ledger.csv"
ARREARS_OPTIONS = ["--debtor", "区住建局", "--creditor", "营口某某门窗有限公司", "--creditor-size", "微型",
                   "--project", "区政务服务中心门窗维修", "--contract-no", "ZQ-ZJ-2026-031", "--amount", "1234.5",
                   "--delivered-on", "2026-09-01", "--due-on", "2026-09-30"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_new_commitment_until_it_validates(data_dir: Path, capsys):
    code, out, _ = run(capsys, "new", "commitment", "--data", data_dir, "--date", "2026-11-26")
    assert code == 0
    path = data_dir / "commitments" / "CM-2026-003.yaml"  # the demo has CM-2026-001 and -002
    assert str(path) in out and "请填写标注“必填”的字段，然后运行 generator validate" in out
    text = path.read_text(encoding="utf-8")
    assert "id: CM-2026-003" in text and "promised_on: 2026-11-26" in text and "status: 履行中" in text
    assert "# 可选值：招商引资、政策兑现、公开承诺、合同履约、服务承诺" in text
    assert "title:  # 必填" in text

    # every field of the schema is in the file, with its title in a comment
    package = load_package()
    doc = yaml.safe_load(text)
    for f in package.resource("commitments").fields:
        node = doc
        for part in f.yaml_path:
            assert part in node, f.name
            node = node[part] or {}
        assert f.title in text
    for child in package.children_of("commitments"):
        for key in child.source.keys:
            assert doc[key] == []

    # validate lists exactly the required fields left to fill
    code, out, _ = run(capsys, "validate", "--data", data_dir)
    assert code == 1
    unfilled = {p.field for p in problems_of(data_dir)}
    assert unfilled == {"title", "category", "department", "source", "content", "deadline"}
    assert all(p.file == "commitments/CM-2026-003.yaml" and "没有填写" in p.message for p in problems_of(data_dir))

    for old, new in [("title:  # 必填", "title: 新建企业开办全程网办"), ("category:  # 必填", "category: 服务承诺"),
                     ("department:  # 必填", "department: yshj"), ("source:  # 必填", "source: 《站前区2026年优化营商环境服务承诺》"),
                     ("content:  # 必填", "content: |\n  企业开办全程网上办理，**1个工作日**内办结。"),
                     ("deadline:  # 必填", "deadline: 2026-12-31")]:
        edit(path, old, new)
    assert run(capsys, "validate", "--data", data_dir)[0] == 0

    # the same id again: refused, the filled record untouched
    filled = path.read_bytes()
    code, _, err = run(capsys, "new", "commitment", "--data", data_dir, "--id", "CM-2026-003")
    assert code == 2 and "已存在" in err and "不会覆盖" in err and "CM-2026-004" in err
    assert path.read_bytes() == filled
    code, out, _ = run(capsys, "new", "commitment", "--data", data_dir, "--date", "2026-11-26")
    assert "CM-2026-004.yaml" in out


def test_new_commitment_with_options_is_nearly_complete(data_dir: Path, capsys):
    code, out, _ = run(capsys, "new", "commitment", "--data", data_dir, "--date", "2026-11-26",
                       "--title", "项目审批: 压缩时限 #1", "--department", "区营商局", "--category", "服务承诺",
                       "--deadline", "2026-12-31")
    assert code == 0, out
    path = data_dir / "commitments" / "CM-2026-003.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["title"] == "项目审批: 压缩时限 #1"  # quoted where YAML needs it
    assert doc["department"] == "yshj"  # the name became the id
    assert {p.field for p in problems_of(data_dir)} == {"source", "content"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--category", "招商"], "--category：“招商”不是允许的取值 — 是不是“招商引资”？"),
        (["--deadline", "2026/12/31"], "--deadline：兑现期限“2026/12/31”的格式不对 — 日期应写作 2026-12-31"),
        (["--department", "区宇宙局"], "--department：“区宇宙局”不是已登记的单位代码或单位名称"),
        (["--status", "完成"], "--status：“完成”不是允许的取值"),
        (["--title", "长" * 81], "--title：内容过长（81 字），上限 80 字"),
        (["--id", "CM-26-1"], "--id“CM-26-1”的格式不对"),
        (["--date", "2026.11.26"], "--date“2026.11.26”不是 YYYY-MM-DD 格式的日期"),
        (["--severity", "严重"], "选项 --severity 不适用于 new commitment"),
    ],
)
def test_option_values_are_checked_before_anything_is_written(data_dir: Path, capsys, argv, message):
    code, _, err = run(capsys, "new", "commitment", "--data", data_dir, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert sorted(p.name for p in (data_dir / "commitments").iterdir())[-1] == "CM-2026-002.yaml"


def test_new_finding(data_dir: Path, capsys):
    code, out, _ = run(capsys, "new", "finding", "--data", data_dir, "--date", "2026-11-26",
                       "--subject", "区住建局", "--severity", "一般", "--category", "拖欠账款")
    assert code == 0, out
    path = data_dir / "findings" / "DF-2026-006.yaml"  # the demo has DF-2026-001 … 005
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert doc["subject"] == "zjj" and doc["subject_kind"] == "政府机构" and doc["severity"] == "一般"
    assert str(doc["decision"]["decided_on"]) == "2026-11-26"
    assert doc["published_on"] is None  # not published until someone publishes it
    assert "# 可选值：准予修复、不予修复" in text
    assert {p.field for p in problems_of(data_dir)} == {"summary", "decision_authority", "decision_doc_no", "decision_basis"}
    edit(path, "summary:  # 必填", "summary: 区住建局拖欠某门窗公司维修款，经督办仍未支付。")
    edit(path, "authority:  # 必填", "authority: 区发改局")
    edit(path, "doc_no:  # 必填", "doc_no: 站发改信认〔2026〕9号")
    edit(path, "basis:  # 必填", "basis: 《保障中小企业款项支付条例》")
    assert problems_of(data_dir) == []


def test_new_finding_serial_grows_past_999(data_dir: Path, capsys):
    (data_dir / "findings" / "DF-2026-999.yaml").write_text(
        (data_dir / "findings" / "DF-2026-005.yaml").read_text(encoding="utf-8").replace("DF-2026-005", "DF-2026-999"),
        encoding="utf-8")
    code, out, _ = run(capsys, "new", "finding", "--data", data_dir, "--date", "2026-11-26")
    assert code == 0 and "DF-2026-1000.yaml" in out


def test_new_arrears_appends_a_valid_row(data_dir: Path, capsys):
    ledger = data_dir / LEDGER
    before = ledger.read_text(encoding="utf-8")
    code, out, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "2026-11-26", *ARREARS_OPTIONS,
                         "--note", "含逗号, 和“引号”的备注")
    assert code == 0, err
    assert "AR-2026-007" in out  # the demo ledger ends at AR-2026-006
    after = ledger.read_text(encoding="utf-8")
    assert after.startswith(before)  # appended, nothing else touched
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(after))}
    row = rows["AR-2026-007"]
    assert row["debtor"] == "zjj" and row["amount"] == "1234.50" and row["found_on"] == "2026-11-26"
    assert row["disputed"] == "false" and row["note"] == "含逗号, 和“引号”的备注"
    assert problems_of(data_dir) == []


def test_new_arrears_keeps_crlf_and_a_missing_final_newline(data_dir: Path, capsys):
    ledger = data_dir / LEDGER
    ledger.write_bytes(ledger.read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    code, _, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "2026-11-26", *ARREARS_OPTIONS)
    assert code == 0, err
    data = ledger.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"\r\nAR-2026-007,zjj," in data
    assert problems_of(data_dir) == []


def test_new_arrears_for_an_earlier_year_goes_in_id_order(data_dir: Path, capsys):
    code, _, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "2024-12-20", *ARREARS_OPTIONS[:-4],
                       "--delivered-on", "2024-10-01", "--due-on", "2024-10-31")
    assert code == 0, err
    ids = [r["id"] for r in csv.DictReader(io.StringIO((data_dir / LEDGER).read_text(encoding="utf-8")))]
    assert "AR-2024-009" in ids and ids == sorted(ids)


def test_new_arrears_requires_the_ledger_fields(data_dir: Path, capsys):
    before = (data_dir / LEDGER).read_bytes()
    code, _, err = run(capsys, "new", "arrears", "--data", data_dir, "--debtor", "zjj", "--amount", "100")
    assert code == 2
    assert "缺少：--creditor（债权企业）" in err and "--due-on（约定付款日期）" in err
    assert (data_dir / LEDGER).read_bytes() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--amount", "1,234.50"), "--amount：“1,234.50”不是有效的数字 — 金额单位为元，不要加千位分隔符，应写作 1234.50"),
        (("--creditor-size", "大型"), "--creditor-size：“大型”不是允许的取值"),
        (("--due-on", "2026-08-01"), "约定付款日期早于交付日期"),  # a cross-field rule, from the trial validation
    ],
)
def test_new_arrears_refuses_bad_values(data_dir: Path, capsys, change, message):
    options = list(ARREARS_OPTIONS)
    options[options.index(change[0]) + 1] = change[1]
    before = (data_dir / LEDGER).read_bytes()
    code, _, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "2026-11-26", *options)
    assert code == 2 and message in err
    assert (data_dir / LEDGER).read_bytes() == before


def test_new_arrears_with_a_forced_id(data_dir: Path, capsys):
    code, _, err = run(capsys, "new", "arrears", "--data", data_dir, "--id", "AR-2024-003", *ARREARS_OPTIONS)
    assert code == 2 and "编号 AR-2024-003 已被使用" in err
    code, out, err = run(capsys, "new", "arrears", "--data", data_dir, "--id", "AR-2026-100", "--date", "2026-11-26", *ARREARS_OPTIONS)
    assert code == 0 and "AR-2026-100" in out


def test_writes_stay_inside_the_data_folder(data_dir: Path, tmp_path: Path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = data_dir / "commitments"
    for p in target.iterdir():
        (outside / p.name).write_bytes(p.read_bytes())
        p.unlink()
    target.rmdir()
    target.symlink_to(outside)
    code, _, err = run(capsys, "new", "commitment", "--data", data_dir, "--date", "2026-11-26")
    assert code == 2 and "数据文件夹以外" in err
    assert sorted(p.name for p in outside.iterdir())[-1] == "CM-2026-002.yaml"


# --- pieces -------------------------------------------------------------------------------------


def test_next_id():
    assert next_id("CM", 2026, ["CM-2026-001", "CM-2026-002", "CM-2025-007"]) == "CM-2026-003"
    assert next_id("CM", 2027, ["CM-2026-001"]) == "CM-2027-001"
    assert next_id("AR", 2026, ["AR-2026-999"]) == "AR-2026-1000"


@pytest.mark.parametrize("value", ["普通文字", "a: b", "#开头", "- 列表", "null", "true", "2026-01-01", "'引号'", "含 # 号", "[x]"])
def test_yaml_scalar_round_trips_through_the_loader(value):
    from generator.load import parse_yaml

    assert parse_yaml(f"k: {yaml_scalar(value)}\n").value == {"k": value}


def test_template_is_generated_from_the_schema_for_every_record_kind():
    package = load_package()
    from datetime import date

    for name in ("commitments", "findings"):
        resource = package.resource(name)
        text = record_template(resource, package, {"id": "XX-2026-001"}, date(2026, 11, 26))
        for f in resource.fields:
            assert f.description in text
            if f.enum:
                assert "可选值：" + "、".join(f.enum) in text


def test_csv_doc_round_trips_bytes(data_dir: Path):
    resource = load_package().resource("arrears")
    path = data_dir / LEDGER
    path.write_bytes(path.read_bytes() + b"\n")  # a blank line at the end survives too
    doc = CsvDoc.read(data_dir, resource)
    assert doc.render()[0].encode("utf-8") == path.read_bytes()
