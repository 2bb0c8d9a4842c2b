"""Review against what was published (generator validate --against): each rule passes and fails
on a real git history — the demo data committed on main as the publication, the edit in the work tree."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from generator.cli import main
from generator.review import review
from tests.conftest import DEMO_DATA, edit, problems_of


def _git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True).stdout.decode()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main branch published the demo data; returns its data folder."""
    root = tmp_path / "repo"
    shutil.copytree(DEMO_DATA, root / "data")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "published")
    _git(root, "checkout", "-q", "-b", "edit")
    return root / "data"


def codes(data: Path, ref: str = "main") -> list[tuple[str, str | None, str]]:
    return [(p.code, p.field, p.file) for p in review(data, ref)]


def commit(data: Path) -> None:
    _git(data.parent, "add", "-A")
    _git(data.parent, "commit", "-q", "-m", "edit")


CM = "commitments/CM-2024-003.yaml"
CHANGE_ENTRY = """changes:
  - date: 2026-11-20
    fields: {fields}
    what: {what}
    reason: 项目用地规划调整，经协商一致延后
    basis: 《优化营商环境条例》第三十一条
    document: 站政发〔2026〕9号
"""


def set_line(path: Path, prefix: str, line: str) -> None:
    """Replace the line that starts with `prefix` (the first one) by `line`."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, text in enumerate(lines) if text.startswith(prefix))
    lines[index] = line + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def add_change(data: Path, rel: str, fields: str, what: str = "依法调整") -> None:
    path = data / rel
    path.write_text(path.read_text(encoding="utf-8") + CHANGE_ENTRY.format(fields=fields, what=what), encoding="utf-8")


def test_unchanged_data_and_new_records_pass(repo: Path):
    assert codes(repo) == []
    shutil.copy(repo / CM, repo / "commitments/CM-2026-099.yaml")
    edit(repo / "commitments/CM-2026-099.yaml", "id: CM-2024-003", "id: CM-2026-099")
    assert codes(repo) == []


# --- deleted records ------------------------------------------------------------------------


def test_deleted_commitment_fails_withdrawn_commitment_passes(repo: Path):
    (repo / CM).unlink()
    commit(repo)
    problems = review(repo, "main")
    assert [(p.code, p.file, p.field) for p in problems] == [("review-deleted", CM, "id")]
    assert "CM-2024-003" in problems[0].text() and "已撤回" in problems[0].hint
    assert problems[0].line == 1

    _git(repo.parent, "checkout", "-q", "main", "--", "data")
    text = (repo / CM).read_text(encoding="utf-8")
    status = next(line for line in text.splitlines() if line.startswith("status:"))
    edit(repo / CM, status, "status: 已撤回\nwithdrawal:\n  date: 2026-11-20\n  reason: 重复登记，与 CM-2024-002 为同一承诺\n"
                            "  document: 站政办〔2026〕3号")
    assert codes(repo) == []
    assert problems_of(repo) == []


def test_deleted_arrears_row_fails_withdrawal_passes(repo: Path):
    ledger = repo / "arrears/ledger.csv"
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(line for line in lines if line.startswith("AR-2024-001,"))
    ledger.write_text("".join(line for line in lines if line is not row), encoding="utf-8")
    for rel in ("arrears/plan.csv", "arrears/repayments.csv"):
        path = repo / rel
        path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                                if not line.startswith("AR-2024-001,")), encoding="utf-8")
    problems = review(repo, "main")
    assert [(p.code, p.file) for p in problems] == [("review-deleted", "arrears/ledger.csv")]
    assert problems[0].line == lines.index(row) + 1

    _git(repo.parent, "checkout", "-q", "main", "--", "data")
    (repo / "arrears/withdrawals.csv").write_text(
        "arrears_id,withdrawn_on,reason,document\nAR-2024-001,2026-11-20,经核实为重复录入,站财〔2026〕5号\n", encoding="utf-8")
    assert codes(repo) == []
    assert problems_of(repo) == []


def test_deleted_finding_fails(repo: Path):
    (repo / "findings/DF-2026-001.yaml").unlink()
    assert codes(repo) == [("review-deleted", "id", "findings/DF-2026-001.yaml")]


# --- guarded fields ---------------------------------------------------------------------------


@pytest.mark.parametrize("field, line", [
    ("deadline", "deadline: 2030-12-31"),
    ("content", "content: 修订后的承诺内容"),
    ("counterparty", "counterparty: 另一家企业"),
])
def test_commitment_guarded_field_needs_a_new_change_log_entry(repo: Path, field: str, line: str):
    text = (repo / CM).read_text(encoding="utf-8")
    if field == "content":  # a block scalar: replace the whole block
        start = text.index("content: |")
        end = text.index("\ndeadline:")
        (repo / CM).write_text(text[:start] + line + text[end:], encoding="utf-8")
    else:
        set_line(repo / CM, field + ":", line)
    problems = review(repo, "main")
    assert [(p.code, p.field, p.file) for p in problems] == [("review-changed", field, CM)]
    assert problems[0].line is not None and problems[0].line > 1
    # an entry naming another field does not explain this one
    add_change(repo, CM, "title")
    assert [p.field for p in review(repo, "main")] == [field]
    # an entry naming it (by field name or Chinese title) does
    text = (repo / CM).read_text(encoding="utf-8")
    title = {"deadline": "兑现期限", "content": "承诺内容", "counterparty": "承诺对象"}[field]
    (repo / CM).write_text(text.replace("fields: title", f"fields: {title}"), encoding="utf-8")
    assert codes(repo) == []


def test_an_entry_already_published_does_not_explain_a_new_change(repo: Path):
    add_change(repo, CM, "deadline")
    commit(repo)
    _git(repo.parent, "branch", "-f", "published", "HEAD")
    set_line(repo / CM, "deadline:", "deadline: 2031-01-31")
    assert codes(repo, "published") == [("review-changed", "deadline", CM)]


@pytest.mark.parametrize("column, value", [("amount", "999999.00"), ("due_on", "2024-12-31"), ("creditor", "营口另一家公司")])
def test_arrears_guarded_field_needs_a_change_log_row(repo: Path, column: str, value: str):
    ledger = repo / "arrears/ledger.csv"
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].strip().split(",")
    index = next(i for i, line in enumerate(lines) if line.startswith("AR-2024-003,"))
    cells = lines[index].rstrip("\n").split(",")
    cells[header.index(column)] = value
    lines[index] = ",".join(cells) + "\n"
    ledger.write_text("".join(lines), encoding="utf-8")
    problems = review(repo, "main")
    assert [(p.code, p.field, p.file, p.line) for p in problems if p.code == "review-changed"] == [
        ("review-changed", column, "arrears/ledger.csv", index + 1)]
    (repo / "arrears/changes.csv").write_text(
        "arrears_id,date,fields,what,reason,basis,document\n"
        f"AR-2024-003,2026-11-20,{column},更正,核对合同原件后更正,《保障中小企业款项支付条例》,站财〔2026〕6号\n", encoding="utf-8")
    assert [p for p in review(repo, "main") if p.code == "review-changed"] == []


def test_removed_repayment_and_status_backwards_fail_and_an_entry_passes(repo: Path):
    path = repo / "arrears/repayments.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    removed = "AR-2023-004,2023-11-17,1,286250.00,部门预算资金\n"
    assert removed in lines
    path.write_text("".join(line for line in lines if line != removed), encoding="utf-8")
    problems = review(repo, "main")
    assert sorted((p.code, p.file) for p in problems) == [
        ("review-repayment-removed", "arrears/repayments.csv"), ("review-status-backwards", "arrears/ledger.csv")]
    removal = next(p for p in problems if p.code == "review-repayment-removed")
    assert removal.line == lines.index(removed) + 1 and "286250.00" in removal.message
    backwards = next(p for p in problems if p.code == "review-status-backwards")
    assert "已清偿" in backwards.message and "部分清偿" in backwards.message
    (repo / "arrears/changes.csv").write_text(
        "arrears_id,date,fields,what,reason,basis,document\n"
        "AR-2023-004,2026-11-20,repayments,撤销一笔支付记录,银行退票，款项未到账,银行退票通知书,站卫〔2026〕2号\n",
        encoding="utf-8")
    assert codes(repo) == []
    assert problems_of(repo) == []


def test_commitment_status_backwards_needs_an_entry(repo: Path):
    rel = "commitments/CM-2024-001.yaml"
    edit(repo / rel, "status: 已兑现\nfulfilled_on: 2024-06-18\n", "status: 履行中\n")
    problems = review(repo, "main")
    assert [(p.code, p.field) for p in problems] == [("review-status-backwards", "status")]
    assert "已兑现" in problems[0].message and "履行中" in problems[0].message
    add_change(repo, rel, "status")
    assert codes(repo) == []
    # forwards needs nothing
    _git(repo.parent, "checkout", "-q", "main", "--", "data")
    edit(repo / "commitments/CM-2025-001.yaml", "status: 履行中", "status: 部分兑现")
    assert codes(repo) == []


# --- findings ---------------------------------------------------------------------------------


def test_finding_decision_edit_needs_a_correction(repo: Path):
    rel = "findings/DF-2026-001.yaml"
    edit(repo / rel, "doc_no: 站发改信认〔2026〕1号", "doc_no: 站发改信认〔2026〕2号")
    problems = review(repo, "main")
    assert [(p.code, p.field, p.file) for p in problems] == [("review-changed", "decision_doc_no", rel)]
    assert "更正" in problems[0].hint
    # an objection decided with outcome 更正 is the correction note
    edit(repo / rel, "objections: []", "objections:\n  - filed_on: 2026-02-01\n    summary: 文书号有误\n"
                                       "    decided_on: 2026-02-05\n    outcome: 更正")
    assert codes(repo) == []
    assert problems_of(repo) == []
    # … and so is a change-log entry naming the decision
    _git(repo.parent, "checkout", "-q", "main", "--", "data")
    edit(repo / rel, "doc_no: 站发改信认〔2026〕1号", "doc_no: 站发改信认〔2026〕2号")
    add_change(repo, rel, "decision.doc_no")
    assert codes(repo) == []
    assert problems_of(repo) == []


# --- the command line ------------------------------------------------------------------------------


def test_validate_against_reports_file_line_and_exits_1(repo: Path, capsys, monkeypatch):
    set_line(repo / CM, "deadline:", "deadline: 2030-12-31")
    monkeypatch.chdir(repo.parent)
    assert main(["validate", "--data", "data", "--against", "main"]) == 1
    out = capsys.readouterr().out
    assert f"{CM}:" in out and "兑现期限" in out and "变更记录中没有说明" in out
    assert main(["validate", "--data", "data", "--against", "main", "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "对已发布记录的修改" in out and out.index("对已发布记录的修改") < out.index("数据校验")
    # without --against: the ordinary check only
    assert main(["validate", "--data", "data"]) == 0
    capsys.readouterr()
    # no origin/main here: --against alone explains what to do
    assert main(["validate", "--data", "data", "--against"]) == 2
    assert "origin/main" in capsys.readouterr().err
    assert main(["validate", "--data", "data", "--against", "no-such-branch"]) == 2
    assert "no-such-branch" in capsys.readouterr().err


# --- a published version written under an older schema ------------------------------------------

OLD_LEDGER_COLUMNS = ("signed_on", "due_kind", "disputed_amount", "interest_state")  # added after publication


def _drop_columns(path: Path, dropped: tuple[str, ...], legacy: str | None = None) -> None:
    """Rewrite a CSV without some columns (and with a column the schema does not know)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    keep = [i for i, name in enumerate(rows[0]) if name not in dropped]
    rows = [[row[i] for i in keep] for row in rows]
    if legacy:
        rows = [rows[0] + [legacy]] + [row + ["旧列"] for row in rows[1:]]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture
def old_header_repo(repo: Path) -> Path:
    """main published the ledgers before the columns the schema has since gained (older CSV headers)."""
    current = {rel: (repo / rel).read_bytes() for rel in ("arrears/ledger.csv", "arrears/repayments.csv")}
    _drop_columns(repo / "arrears/ledger.csv", OLD_LEDGER_COLUMNS, legacy="legacy_col")
    _drop_columns(repo / "arrears/repayments.csv", ("seq",))
    _git(repo.parent, "checkout", "-q", "main")
    commit(repo)
    _git(repo.parent, "checkout", "-q", "edit")
    _git(repo.parent, "reset", "-q", "--hard", "main")
    for rel, data in current.items():
        (repo / rel).write_bytes(data)
    return repo


def test_a_published_ledger_with_an_older_header_is_read_by_column_name(old_header_repo: Path):
    repo = old_header_repo
    header = (repo / "arrears/ledger.csv").read_text(encoding="utf-8").splitlines()[0]
    published = _git(repo.parent, "show", "main:data/arrears/ledger.csv").splitlines()[0]
    assert "signed_on" in header and "signed_on" not in published and "legacy_col" in published
    # the columns both versions have are unchanged, the new ones are filled in: no problem
    assert codes(repo) == []
    # a change in a column both have is found (the old table was read, not taken as empty)
    ledger = repo / "arrears/ledger.csv"
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("AR-2024-003,"))
    cells = lines[index].split(",")
    cells[header.split(",").index("creditor")] = "营口另一家公司"
    lines[index] = ",".join(cells)
    ledger.write_text("".join(lines), encoding="utf-8")
    assert [(p.code, p.field, p.line) for p in review(repo, "main")] == [("review-changed", "creditor", index + 1)]
    # a deleted row and a removed repayment (its published row has no seq) are found too
    ledger.write_text("".join(line for i, line in enumerate(lines) if i != index), encoding="utf-8")
    path = repo / "arrears/repayments.csv"
    removed = "AR-2023-004,2023-11-17,1,286250.00,部门预算资金\n"
    path.write_text(path.read_text(encoding="utf-8").replace(removed, ""), encoding="utf-8")
    assert sorted(p.code for p in review(repo, "main")) == ["review-deleted", "review-repayment-removed",
                                                             "review-status-backwards"]


# --- what the site shows of change logs and withdrawals ---------------------------------------


def test_change_log_and_withdrawal_text_passes_the_history_privacy_filter(data_dir: Path):
    """A titled full name (only a warning for staff) or a value the reviewed redaction list names
    never reaches the site through a change log or a withdrawal: the dataset carries REDACTED."""
    import hashlib

    from generator.derive import derive
    from generator.load import load
    from generator.privacy import REDACTED
    from generator.validate import validate

    secret = "误录的内部讨论意见"
    add_change(data_dir, CM, "deadline", what=secret)
    edit(data_dir / CM, "reason: 项目用地规划调整，经协商一致延后", "reason: 经副主任刘德华同意延后")
    (data_dir / "arrears/withdrawals.csv").write_text(
        "arrears_id,withdrawn_on,reason,document\nAR-2024-001,2026-11-20,经办人李建国核实为重复录入,站财〔2026〕5号\n",
        encoding="utf-8")
    (data_dir / "redactions.yaml").write_text(
        "redactions:\n  - record: CM-2024-003\n    field: what\n"
        f"    value_sha256: {hashlib.sha256(secret.encode()).hexdigest()}\n"
        "    reason: 内部意见\n    approved_by: 区政府办公室 张某\n    approved_on: 2026-11-20\n", encoding="utf-8")
    report = validate(load(data_dir))
    assert not [p for p in report.problems if p.is_error], report.problems
    assert any(p.code == "personal-name" for p in report.problems)  # staff are warned
    facts = derive(report.dataset, date(2026, 11, 30))
    entry = next(c for c in facts.commitments if c.record.id == "CM-2024-003").changes[-1]
    assert entry.what == REDACTED and entry.reason == REDACTED
    assert entry.basis == "《优化营商环境条例》第三十一条"  # other text is shown as typed
    withdrawn = next(a for a in facts.arrears if a.record.id == "AR-2024-001")
    assert withdrawn.status == "已撤回" and withdrawn.withdrawal.reason == REDACTED
    assert withdrawn.withdrawal.document == "站财〔2026〕5号"
    drift = next(d for d in facts.drift if d.record_id == "CM-2024-003")
    assert drift.entry.what == REDACTED
    assert all(secret not in c.text and "刘德华" not in c.text for c in facts.changes)


def test_a_long_text_change_is_quoted_where_it_differs(repo: Path):
    """Staff see the changed words of a long text, not two identical beginnings."""
    text = (repo / CM).read_text(encoding="utf-8")
    start, end = text.index("content: |"), text.index("\ndeadline:")
    content = text[start:end]
    tail = content.rstrip()[-6:]
    assert len(content) > 60  # longer than a message quotes (40 characters)
    (repo / CM).write_text(text[:start] + content.rstrip()[:-6] + "（已修改）" + text[end:], encoding="utf-8")
    [problem] = review(repo, "main")
    assert problem.field == "content"
    before, after = problem.message.split("”改为“")
    assert tail in before and "（已修改）" in after and "……" in before
