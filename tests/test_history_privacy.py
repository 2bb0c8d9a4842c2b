"""Issue 12, item 1: the revision history never republishes removed personal data.

The normal path: a progress note with an ID card and a mobile number is committed,
the publish run fails on it, staff fix it the next day — and the history then showed
the old value. Every value the history shows now passes the checks current data must
pass; a value that fails is shown as （已删除） and is written nowhere in site/. Staff
can suppress any other past value through the reviewed list data/redactions.yaml.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from generator.history import FieldChange
from generator.load import load
from generator.privacy import REDACTED, Redaction, load_redactions, value_sha256
from generator.publish import build_site
from generator.validate import validate
from tests.conftest import DEMO_DATA, edit
from tests.test_history import DEPARTMENTS, Repo, commitment

ID_X = "11010519491231002X"
MOBILE = "13812345678"
LEAKY_NOTE = f"联系人身份证{ID_X[:6]} {ID_X[6:14]} {ID_X[14:]}，手机{MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}"
INTERNAL = "内部讨论稿：拟以财政困难为由暂缓兑现"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("departments.csv", DEPARTMENTS)
    return r


def progress(note: str) -> str:
    return f"progress:\n  - date: 2024-05-01\n    note: \"{note}\"\n"


def test_a_removed_identifier_is_shown_as_deleted(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment(progress=progress(LEAKY_NOTE)))
    repo.commit("2024-05-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(progress=progress("联系人信息已删除")))
    repo.commit("2024-05-02T10:00:00+08:00")
    h = repo.collect()
    (_, revision) = h.of("CM-2024-001")
    assert revision.changes == (FieldChange("履行进展", f"2024-05-01 {REDACTED}", "2024-05-01 联系人信息已删除"),)
    assert "1949" not in repr(h) and "5678" not in repr(h)


def test_unmasked_names_are_shown_as_deleted(repo: Repo):
    content = commitment(title="由副主任刘德华督办的企业开办改革")
    repo.write("commitments/CM-2024-001.yaml", content)
    repo.commit("2024-05-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", content.replace("副主任刘德华", "区政府办公室"))
    repo.commit("2024-05-02T10:00:00+08:00")
    (_, revision) = repo.collect().of("CM-2024-001")
    assert revision.changes == (FieldChange("承诺事项", REDACTED, "由区政府办公室督办的企业开办改革"),)


def test_an_unmasked_person_field_is_shown_as_deleted(repo: Repo):
    finding = "id: DF-2024-001\nsubject: fgj\nsubject_kind: 公务员\nperson: {}\nseverity: 一般\nsummary: 未按期兑现承诺\n"
    repo.write("findings/DF-2024-001.yaml", finding.format("王芳"))
    repo.commit("2024-05-01T10:00:00+08:00")
    repo.write("findings/DF-2024-001.yaml", finding.format("王某"))
    repo.commit("2024-05-02T10:00:00+08:00")
    h = repo.collect()
    (_, revision) = h.of("DF-2024-001")
    assert [(c.old, c.new) for c in revision.changes] == [(REDACTED, "王某")]
    assert "王芳" not in repr(h)


def test_redaction_list_suppresses_any_past_value(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment(progress=progress(INTERNAL)))
    repo.commit("2024-05-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(progress=progress("按计划推进")))
    repo.commit("2024-05-02T10:00:00+08:00")
    listed = Redaction("CM-2024-001", "note", value_sha256(INTERNAL), "误录内部意见", "区政府办公室 张某", date(2024, 5, 3))
    (_, revision) = repo.collect(redactions=[listed]).of("CM-2024-001")
    assert revision.changes == (FieldChange("履行进展", f"2024-05-01 {REDACTED}", "2024-05-01 按计划推进"),)
    # only that record and that field
    other = Redaction("CM-2024-002", "note", value_sha256(INTERNAL), "x", "y", date(2024, 5, 3))
    (_, revision) = repo.collect(redactions=[other]).of("CM-2024-001")
    assert revision.changes[0].old == f"2024-05-01 {INTERNAL}"


def test_invisible_characters_are_dropped_from_history(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment(progress=progress("完成\u202e签约\u200b")))
    repo.commit("2024-05-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(progress=progress("完成签约并公示")))
    repo.commit("2024-05-02T10:00:00+08:00")
    (_, revision) = repo.collect().of("CM-2024-001")
    assert revision.changes == (FieldChange("履行进展", "2024-05-01 完成签约", "2024-05-01 完成签约并公示"),)


def test_the_redaction_list_is_validated(data_dir: Path):
    (data_dir / "redactions.yaml").write_text(
        "redactions:\n"
        "  - record: CM-2024-001\n    field: note\n    value_sha256: " + value_sha256(INTERNAL) + "\n"
        "    reason: 误录内部意见\n    approved_by: 区政府办公室 张某\n    approved_on: 2026-11-20\n"
        "  - record: cm-1\n    field: nonsense\n    value_sha256: abc\n    reason: ''\n    approved_on: 2026-13-01\n",
        encoding="utf-8")
    report = validate(load(data_dir))
    found = sorted((p.file, p.line, p.field) for p in report.errors)
    assert found == [("redactions.yaml", 8, "approved_by"), ("redactions.yaml", 8, "record"),
                     ("redactions.yaml", 9, "field"), ("redactions.yaml", 10, "value_sha256"),
                     ("redactions.yaml", 11, "reason"), ("redactions.yaml", 12, "approved_on")]
    [ok] = load_redactions(data_dir)[0]
    assert ok.record == "CM-2024-001" and ok.field == "note" and ok.approved_by == "区政府办公室 张某"


def test_demo_redaction_list_is_valid_and_empty():
    redactions, problems = load_redactions(DEMO_DATA)
    assert redactions == [] and problems == []


@pytest.mark.slow
def test_removed_personal_data_is_written_nowhere_in_the_site(tmp_path: Path):
    repo = Repo(tmp_path / "repo")
    shutil.rmtree(repo.data)
    shutil.copytree(DEMO_DATA, repo.data)
    cm = repo.data / "commitments" / "CM-2024-001.yaml"
    df = repo.data / "findings" / "DF-2026-001.yaml"  # on display on the as-of date
    edit(cm, "note: 企业开办“一网通办”系统完成联调测试。", f"note: {LEAKY_NOTE}")
    edit(cm, "note: 企业开办全流程一个工作日内办结正式实施", f"note: {INTERNAL}。企业开办全流程一个工作日内办结正式实施")
    edit(df, "summary: 区财政局在", "summary: 经办人为副主任刘德华。区财政局在")
    repo.commit("2026-11-01T10:00:00+08:00")
    edit(cm, f"note: {LEAKY_NOTE}", "note: 企业开办“一网通办”系统完成联调测试。")
    edit(cm, f"note: {INTERNAL}。", "note: ")
    edit(df, "summary: 经办人为副主任刘德华。区财政局在", "summary: 区财政局在")
    old_note = f"{INTERNAL}。企业开办全流程一个工作日内办结正式实施，并在政务服务中心公开承诺。"
    (repo.data / "redactions.yaml").write_text(
        f"redactions:\n  - record: CM-2024-001\n    field: note\n    value_sha256: {value_sha256(old_note)}\n"
        "    reason: 误录内部意见\n    approved_by: 区政府办公室 张某\n    approved_on: 2026-11-02\n", encoding="utf-8")
    repo.commit("2026-11-02T10:00:00+08:00")

    out = tmp_path / "site"
    build_site(repo.data, out, as_of=date(2026, 11, 26), history=True, build_dir=tmp_path / "build")
    page = (out / "commitments" / "CM-2024-001" / "index.html").read_text(encoding="utf-8")
    assert page.count(REDACTED) >= 2, "the history shows that values were deleted"
    assert REDACTED in (out / "findings" / "DF-2026-001" / "index.html").read_text(encoding="utf-8")
    secrets = ("19491231", "1949 1231", "138-1234", "12345678", "刘德华", "拟以财政困难为由")
    leaks = {}
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").replace("\u200b", "")
            hits = [s for s in secrets if s in text]
            if hits:
                leaks[path.relative_to(out).as_posix()] = hits
    assert leaks == {}
