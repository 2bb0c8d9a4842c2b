"""The synthetic data generator: valid, deterministic, realistic in mix, and safe to publish."""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from generator import cli
from generator.tools import synth
from generator.derive import derive_arrears, derive_finding
from generator.load import load, parse_yaml
from generator.privacy import find_identifiers
from generator.tools.synth import REFERENCE_DATE, generate
from generator.validate import validate

ROOT = Path(__file__).resolve().parents[1]


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def folder300(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("synth") / "data"
    return out, generate(out, 300, seed=7)


@pytest.fixture(scope="module")
def report300(folder300):
    return validate(load(folder300[0]))


# --- validity ---------------------------------------------------------------------------------


def test_generated_folder_validates(folder300, report300):
    out, counts = folder300
    assert [p.text() for p in report300.errors] == []
    warnings = [p for p in report300.problems if not p.is_error]
    print(f"合成数据 300 条：{len(warnings)} 条提示（warning）")
    # only the deliberate warnings: long payment terms and a published minor finding (and, in November and
    # December, the reminder that next year's holiday schedule is not yet in the calendar)
    assert {p.code for p in warnings if p.file != "calendar.yaml"} <= {"rule"}
    assert report300.dataset is not None
    assert counts["records"] == 300
    assert counts["commitments"] + counts["arrears"] + counts["findings"] + counts["evaluations"] == 300


@pytest.mark.parametrize("records", [0, 1, 7, 40])
def test_small_folders_validate_too(tmp_path, records):
    counts = generate(tmp_path / "d", records, seed=3)
    assert counts["records"] == records
    report = validate(load(tmp_path / "d"))
    assert [p.text() for p in report.errors] == []


def test_site_is_marked_as_sample(folder300):
    doc = parse_yaml((folder300[0] / "site.yaml").read_text(encoding="utf-8")).value
    assert doc["sample"] == "true"
    assert doc["site_name"].endswith("（合成数据）")
    # the policy's task list and the calendar are copied, not invented
    assert (folder300[0] / "tasks.yaml").read_bytes() == (ROOT / "data" / "tasks.yaml").read_bytes()
    assert (folder300[0] / "calendar.yaml").read_bytes() == (ROOT / "data" / "calendar.yaml").read_bytes()


def test_record_files_are_named_after_their_ids(folder300):
    out = folder300[0]
    for folder, prefix in (("commitments", "CM"), ("findings", "DF")):
        for path in (out / folder).iterdir():
            assert re.fullmatch(rf"{prefix}-\d{{4}}-\d{{3,}}\.yaml", path.name)
            assert path.read_text(encoding="utf-8").startswith(f"id: {path.stem}\n")


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 250, seed=11)
    generate(b, 250, seed=11)
    generate(c, 250, seed=12)
    files_a, files_b, files_c = files_of(a), files_of(b), files_of(c)
    assert files_a.keys() == files_b.keys()
    for name in files_a:
        assert files_a[name] == files_b[name], name
    assert files_a != files_c
    assert files_a["arrears/ledger.csv"] != files_c["arrears/ledger.csv"]


def test_regenerating_into_the_same_folder_leaves_no_stale_records(tmp_path):
    out = tmp_path / "d"
    generate(out, 400, seed=5)
    generate(out, 60, seed=5)
    fresh = tmp_path / "fresh"
    generate(fresh, 60, seed=5)
    assert files_of(out) == files_of(fresh)


# --- realistic mix -----------------------------------------------------------------------------


def test_large_data_has_logged_changes_and_withdrawals(tmp_path):
    """Issue 16's records at scale: deadline changes with their change log and withdrawn
    commitments, all valid; their own random stream leaves the rest of the data as it was."""
    counts = generate(tmp_path / "d", 2000, seed=3)
    assert counts["commitment_changes"] >= 5 and counts["commitment_withdrawals"] >= 2
    report = validate(load(tmp_path / "d"))
    assert not report.errors
    ds = report.dataset
    changed = [c for c in ds.commitments if c.changes]
    assert changed and all("deadline" in e.fields and e.reason and e.basis for c in changed for e in c.changes)
    withdrawn = [c for c in ds.commitments if c.status == "已撤回"]
    assert withdrawn and all(c.withdrawal_reason for c in withdrawn)


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_every_kind_status_and_severity_is_present(tmp_path, seed):
    generate(tmp_path / "d", 300, seed=seed)
    report = validate(load(tmp_path / "d"))
    assert not report.errors
    ds = report.dataset
    names = {d.id: d.name for d in ds.departments}

    assert ds.commitments and ds.arrears and ds.findings and ds.evaluations
    assert {c.status for c in ds.commitments} - {"已撤回"} == {"履行中", "已兑现", "部分兑现", "未兑现", "依法变更", "已终止"}
    assert any(c.rectification for c in ds.commitments)
    assert any(c.progress for c in ds.commitments)

    statuses = Counter(derive_arrears(a, REFERENCE_DATE, names, ds.site.rules.payment).status for a in ds.arrears)
    assert set(statuses) == {"已清偿", "部分清偿", "未清偿"}
    planned = sum(bool(a.plan) for a in ds.arrears) / len(ds.arrears)
    assert 0.15 <= planned <= 0.45

    assert {f.severity for f in ds.findings} == {"严重", "一般", "轻微"}
    hidden = Counter(derive_finding(f, REFERENCE_DATE, names, ds.site, ds.calendar).hidden_reason for f in ds.findings)
    assert hidden["已撤销"] and hidden["已修复"] and hidden["公示期届满"]
    assert hidden[None], "some findings are on display today"
    assert any(f.objections for f in ds.findings)
    assert any(f.subject_kind == "公务员" and re.fullmatch(r"[\u4e00-\u9fff]{1,2}某", f.person or "") for f in ds.findings)

    kinds = Counter(kind for kind in ("commitments", "arrears", "findings", "evaluations") for _ in getattr(ds, kind))
    assert kinds == Counter({"commitments": 75, "arrears": 165, "findings": 15, "evaluations": 45})


def test_more_records_bring_more_departments():
    template = [dict(row) for row in csv.DictReader(io.StringIO((ROOT / "data" / "departments.csv").read_text(encoding="utf-8")))]
    depts = synth._departments(random.Random(1), template, 400)
    assert len(depts) == 400 and depts[: len(template)] == template
    extra = depts[len(template):]
    assert all(re.fullmatch(r"dept-\d{4}", d["id"]) for d in extra)
    assert len({d["name"] for d in depts}) == len(depts), "unit names are unique"
    assert {d["kind"] for d in extra} >= {"区直部门", "街道办事处", "区委部门"}
    assert any(re.search("第[一二三四五六七八九十]+街道办事处$", d["name"]) for d in extra)
    assert [int(d["sort"]) for d in depts] == sorted(int(d["sort"]) for d in depts)


def test_department_count_follows_the_record_count():
    # a larger area has more units: at least N/200, and enough for the evaluation rows
    assert synth._counts(100_000) == {"commitments": 25_000, "findings": 5_000, "evaluations": 15_000, "arrears": 55_000}
    assert synth._department_count(300, 23) == 23
    assert synth._department_count(100_000, 23) == 1500
    for records in (300, 5_000, 100_000, 1_000_000):
        units = synth._department_count(records, 23)
        assert units >= records // 200
        assert units * 14 >= synth._counts(records)["evaluations"] * 1.3


def test_money_plans_and_repayments_add_up(report300):
    ds = report300.dataset
    for a in ds.arrears:
        assert a.amount == a.amount.quantize(Decimal("0.01"))
        if a.plan:
            assert 2 <= len(a.plan) <= 4
            assert sum(i.amount for i in a.plan) == a.amount
            assert len({i.due_on for i in a.plan}) == len(a.plan)
        assert len(a.repayments) <= 5
        assert sum((r.amount for r in a.repayments), Decimal(0)) <= a.amount
        for r in a.repayments:
            assert a.delivered_on <= r.paid_on <= REFERENCE_DATE
        assert a.delivered_on <= a.due_on <= a.found_on <= REFERENCE_DATE
        assert all(i.due_on <= synth.LAST_PLANNED for i in a.plan)
        assert "某某" in a.creditor


def test_dates_stay_where_the_calendar_reaches(report300):
    ds = report300.dataset
    for f in ds.findings:
        assert 2019 <= f.decision_decided_on.year <= 2026
        for day in (f.published_on, f.repair_applied_on, f.repair_decided_on):
            assert day is None or day <= REFERENCE_DATE
        for o in f.objections:
            assert f.decision_decided_on <= o.filed_on <= REFERENCE_DATE
            assert o.decided_on is None or o.decided_on <= REFERENCE_DATE
    for c in ds.commitments:
        assert c.promised_on.year >= 2019 and c.deadline <= synth.LAST_PLANNED
        assert all(step.due <= synth.LAST_PLANNED for step in c.rectification)
        assert [n.date for n in c.progress] == sorted(n.date for n in c.progress)
        assert len(c.progress) <= 4


def test_no_personal_identifiers_or_long_digit_runs(folder300):
    for name, data in files_of(folder300[0]).items():
        text = data.decode("utf-8")
        assert find_identifiers(text) == [], name
        if name in ("site.yaml", "calendar.yaml", "tasks.yaml"):
            continue  # copied from the template
        runs = [len(m) for m in re.findall(r"\d+", text)]
        assert max(runs, default=0) <= 8, name


# --- the YAML writer ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "普通文本", "含有: 冒号", "结尾冒号:", "# 井号开头", "a #b", "- 短横线开头", '"引号"', "它说\"好\"", "反斜杠\\n不是换行",
    "true", "null", "123", "2024-01-01", "[方括号]", "{花括号}", "* 星号", "& 与", "! 叹号", "| 竖线", "> 大于",
    "'单引号'", "% 百分号", "@ at", "` 反引号", " 前导空格", "尾随空格 ", "制表\t符", "换\n行", "",
])
def test_yaml_scalars_round_trip(value):
    assert parse_yaml(f"key: {synth._s(value)}\n").value == {"key": value if value != "" else ""}


def test_yaml_blocks_round_trip():
    text = "区政府承诺：\n\n- 第一项；\n- 第二项：**加粗**。"
    assert parse_yaml(synth._block("content", text)).value == {"content": text + "\n"}
    odd = "  以空格开头\n第二行"
    assert parse_yaml(synth._block("content", odd)).value == {"content": odd}


# --- the command -------------------------------------------------------------------------------


@pytest.fixture
def run(capsys):

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_cli_generates_and_refuses_a_non_empty_folder(tmp_path, monkeypatch, run):
    monkeypatch.chdir(tmp_path)  # no data/ here: the packaged demo folder is the template
    out = tmp_path / "out"
    code, stdout, _ = run("synth", "--records", "200", "--seed", "1", "--out", str(out))
    assert code == 0
    assert "已生成合成数据" in stdout
    assert not validate(load(out)).errors
    before = files_of(out)

    code, _, stderr = run("synth", "--records", "200", "--seed", "2", "--out", str(out))
    assert code == 2
    assert "不是空的" in stderr and "--force" in stderr
    assert files_of(out) == before

    (out / "README.txt").write_text("保留我", encoding="utf-8")
    code, _, _ = run("synth", "--records", "120", "--seed", "2", "--out", str(out), "--force")
    assert code == 0
    assert (out / "README.txt").read_text(encoding="utf-8") == "保留我"
    assert not validate(load(out)).errors
    assert len(list((out / "commitments").iterdir())) == 30


def test_cli_uses_the_data_option_as_template(tmp_path, run):
    code, _, _ = run("synth", "--records", "50", "--out", str(tmp_path / "a"), "--data", str(ROOT / "data"))
    assert code == 0
    code, _, stderr = run("synth", "--records", "50", "--out", str(tmp_path / "b"), "--data", str(tmp_path / "nowhere"))
    assert code == 2 and "site.yaml" in stderr
    code, _, stderr = run("synth", "--records", "-5", "--out", str(tmp_path / "c"))
    assert code == 2 and "记录数" in stderr
