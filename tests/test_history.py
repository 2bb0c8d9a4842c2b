"""Revision history read from git: scripted repositories in tmp_path, exact changes asserted."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from generator import history
from generator.history import (
    REASON_NO_COMMITS,
    REASON_NOT_A_REPO,
    REASON_OUTSIDE,
    REASON_SHALLOW,
    FieldChange,
    Revision,
    collect,
)

AUTHOR = "Test Author Secret"
EMAIL = "secret@example.invalid"
MESSAGE = "commit message that must stay private"

LEDGER_HEADER = ("id,debtor,creditor,creditor_code,creditor_size,project,contract_no,amount,delivered_on,due_on,"
                 "found_on,agreed_daily_rate,disputed,resolution,note,signed_on,due_kind,disputed_amount,interest_state\n")
DEPARTMENTS = ("id,name,kind,sort,active,contact_office,contact_phone,contact_address,contact_hours\n"
               "fgj,区发改局,区直部门,1,true,,,,\nzjj,区住建局,区直部门,2,true,,,,\n")


def _env(when: str, author_when: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME=AUTHOR, GIT_AUTHOR_EMAIL=EMAIL, GIT_COMMITTER_NAME=AUTHOR, GIT_COMMITTER_EMAIL=EMAIL,
               GIT_AUTHOR_DATE=author_when or when, GIT_COMMITTER_DATE=when, GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    return env


class Repo:
    """A throwaway repository with a data/ folder, committed on fixed dates."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, when: str = "2024-01-01T10:00:00+08:00", author_when: str | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=self.root, env=_env(when, author_when), check=True,
                                capture_output=True)
        return result.stdout.decode()

    def write(self, rel: str, content: str | bytes) -> None:
        path = self.data / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    def commit(self, when: str, author_when: str | None = None) -> None:
        self.git("add", "-A", when=when)
        self.git("commit", "-q", "--allow-empty", "-m", MESSAGE, when=when, author_when=author_when)

    def collect(self, **kwargs) -> history.History:
        return collect(self.root, self.data, **kwargs)


def commitment(cid: str = "CM-2024-001", status: str = "履行中", deadline: str = "2024-06-30",
               progress: str = "progress: []", title: str = "企业开办全流程一个工作日内办结", extra: str = "") -> str:
    return f"""id: {cid}
title: {title}
category: 服务承诺
department: fgj
partners: [zjj]
counterparty: 营口某某机械有限公司
counterparty_masked: false
promised_on: 2024-03-01
source: 《服务承诺书》
content: |
  材料齐全的一个工作日内办结。
deadline: {deadline}
status: {status}
{progress}
{extra}"""


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("departments.csv", DEPARTMENTS)
    return r


def test_commitment_created_then_fulfilled_and_deadline_moved(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(
        status="已兑现", deadline="2024-09-30", extra="fulfilled_on: 2024-09-20\n",
        progress="progress:\n  - date: 2024-05-01\n    note: 完成签约\n"))
    repo.commit("2024-09-21T09:00:00+08:00")

    h = repo.collect()
    assert h.available and h.reason == ""
    assert h.of("CM-2024-001") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 9, 21), (
            FieldChange("兑现期限", "2024-06-30", "2024-09-30"),
            FieldChange("履行状态", "履行中", "已兑现"),
            FieldChange("兑现日期", "", "2024-09-20"),
            FieldChange("履行进展", "", "2024-05-01 完成签约"),
        )),
    )


def test_every_publication_is_a_revision_even_on_the_same_day(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment(title="草稿"))
    repo.commit("2024-03-01T09:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment())  # published at 09:00, corrected at 11:00
    repo.commit("2024-03-01T11:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="部分兑现"))
    repo.commit("2024-04-01T09:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="未兑现"))
    repo.commit("2024-04-01T15:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="已终止"))
    repo.commit("2024-05-01T09:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="未兑现"))  # undone the same day: readers saw it
    repo.commit("2024-05-01T10:00:00+08:00")

    revisions = repo.collect().of("CM-2024-001")
    assert revisions == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 3, 1), (FieldChange("承诺事项", "草稿", "企业开办全流程一个工作日内办结"),)),
        Revision(date(2024, 4, 1), (FieldChange("履行状态", "履行中", "部分兑现"),)),
        Revision(date(2024, 4, 1), (FieldChange("履行状态", "部分兑现", "未兑现"),)),
        Revision(date(2024, 5, 1), (FieldChange("履行状态", "未兑现", "已终止"),)),
        Revision(date(2024, 5, 1), (FieldChange("履行状态", "已终止", "未兑现"),)),
    )
    commits = repo.git("rev-list", "--first-parent", "--reverse", "HEAD").split()
    assert [r.commit for r in revisions] == commits


def test_comment_and_whitespace_edits_are_no_revision(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", "# 备注：格式调整\n" + commitment().replace("partners: [zjj]", "partners:\n  - zjj"))
    repo.commit("2024-03-05T10:00:00+08:00")
    assert repo.collect().of("CM-2024-001") == (Revision(date(2024, 3, 1), (), created=True),)


def test_values_are_shown_as_on_the_site(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    text = commitment().replace("department: fgj", "department: zjj").replace("partners: [zjj]", "partners: [fgj, 区直各部门]")
    repo.write("commitments/CM-2024-001.yaml", text.replace("counterparty_masked: false", "counterparty_masked: true"))
    repo.commit("2024-03-02T10:00:00+08:00")

    (_, revision) = repo.collect().of("CM-2024-001")
    assert revision.changes == (
        FieldChange("责任单位", "区发改局", "区住建局"),
        FieldChange("承诺对象遮蔽显示", "否", "是"),
        FieldChange("配合单位", "区住建局", ""),
        FieldChange("配合单位", "", "区发改局"),
        FieldChange("配合单位", "", "区直各部门"),
    )
    # masked at HEAD: the name never appears unmasked, not even in old versions
    assert "营口某某机械有限公司" not in repr(repo.collect())


def test_arrears_amount_changed_and_repayment_added(repo: Repo):
    row = "AR-2024-001,zjj,营口某某建筑工程有限公司,,小型,老旧小区改造,ZQ-2024-1,{amount},2024-01-10,2024-02-09,2024-03-01,,false,,,,,,\n"
    repo.write("arrears/ledger.csv", LEDGER_HEADER + row.format(amount="300000.00"))
    repo.write("arrears/plan.csv", "arrears_id,due_on,amount\nAR-2024-001,2024-06-30,300000.00\n")
    repo.write("arrears/repayments.csv", "arrears_id,paid_on,amount,note\n")
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("arrears/ledger.csv", LEDGER_HEADER + row.format(amount="320000"))
    repo.write("arrears/plan.csv", "arrears_id,due_on,amount\nAR-2024-001,2024-06-30,320000.00\n")
    repo.write("arrears/repayments.csv", "arrears_id,paid_on,amount,note\nAR-2024-001,2024-05-10,120000,部门预算资金\n")
    repo.commit("2024-05-11T10:00:00+08:00")

    assert repo.collect().of("AR-2024-001") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 5, 11), (
            FieldChange("欠款金额（元）", "300000.00", "320000.00"),
            FieldChange("分期清偿计划", "2024-06-30 300000.00 元", "2024-06-30 320000.00 元"),
            FieldChange("清偿记录", "", "2024-05-10 120000.00 元，备注：部门预算资金"),
        )),
    )


def test_task_item_status_and_progress(repo: Repo):
    task = """tasks:
  - id: "3.1"
    section: 健全诚信政府建设制度体系
    title: 加快法规制度建设
    summary: 出台配套文件。
    lead: [fgj]
    partners: [zjj]
    status: {status}
{progress}"""
    repo.write("tasks.yaml", task.format(status="推进中", progress=""))
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("tasks.yaml", task.format(status="已完成", progress="    progress:\n      - date: 2024-06-30\n        note: 全部印发。\n"))
    repo.commit("2024-07-01T10:00:00+08:00")
    assert repo.collect().of("3.1") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 7, 1), (FieldChange("推进状态", "推进中", "已完成"), FieldChange("推进情况", "", "2024-06-30 全部印发。"))),
    )


def test_rename_with_the_same_id_keeps_history_and_deleted_record_is_absent(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.write("commitments/CM-2024-002.yaml", commitment("CM-2024-002", title="另一项承诺"))
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.git("mv", "data/commitments/CM-2024-001.yaml", "data/commitments/cm-2024-001-renamed.yaml")
    repo.commit("2024-03-02T10:00:00+08:00")
    repo.write("commitments/cm-2024-001-renamed.yaml", commitment(status="已兑现"))
    (repo.data / "commitments/CM-2024-002.yaml").unlink()
    repo.commit("2024-03-03T10:00:00+08:00")

    h = repo.collect()
    assert h.of("CM-2024-001") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 3, 3), (FieldChange("履行状态", "履行中", "已兑现"),)),
    )
    assert "CM-2024-002" not in h.records
    assert set(h.records) == {"CM-2024-001"}


def test_rename_with_a_new_id_continues_the_history(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.git("mv", "data/commitments/CM-2024-001.yaml", "data/commitments/CM-2024-009.yaml")
    repo.write("commitments/CM-2024-009.yaml", commitment("CM-2024-009"))
    repo.commit("2024-03-02T10:00:00+08:00")
    # an unrelated record replacing a deleted one is a new record, not a rename
    repo.git("rm", "-q", "data/commitments/CM-2024-009.yaml")
    repo.write("commitments/CM-2024-010.yaml", """id: CM-2024-010
title: 完全不同的承诺
category: 招商引资
department: zjj
promised_on: 2024-03-03
source: 《投资协议》
content: 其他内容。
deadline: 2025-12-31
status: 已兑现
""")
    repo.write("commitments/CM-2024-011.yaml", commitment("CM-2024-011"))
    repo.commit("2024-03-03T10:00:00+08:00")

    h = repo.collect()
    assert h.of("CM-2024-011") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 3, 2), (FieldChange("承诺编号", "CM-2024-001", "CM-2024-009"),)),
        Revision(date(2024, 3, 3), (FieldChange("承诺编号", "CM-2024-009", "CM-2024-011"),)),
    )
    assert h.of("CM-2024-010") == (Revision(date(2024, 3, 3), (), created=True),)
    assert set(h.records) == {"CM-2024-010", "CM-2024-011"}


def test_gbk_and_broken_versions_are_skipped(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="部分兑现").encode("gbk"))
    repo.commit("2024-03-02T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="部分兑现") + "title: [unclosed\n")
    repo.commit("2024-03-03T10:00:00+08:00")
    repo.write("arrears/ledger.csv", b"\xff\xfe" + "id\n".encode("utf-16-le"))
    repo.commit("2024-03-03T11:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="已兑现"))
    repo.commit("2024-03-04T10:00:00+08:00")

    h = repo.collect()
    assert h.available
    assert h.of("CM-2024-001") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 3, 4), (FieldChange("履行状态", "履行中", "已兑现"),)),
    )


def test_date_is_the_commit_time_in_the_site_time_zone(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    # author date a day earlier: the committer date is the one that counts
    repo.commit("2024-03-01T23:30:00+00:00", author_when="2024-02-28T12:00:00+00:00")
    assert repo.collect().of("CM-2024-001")[0].date == date(2024, 3, 2)
    assert repo.collect(timezone="UTC").of("CM-2024-001")[0].date == date(2024, 3, 1)


def test_merged_branch_is_one_step_dated_at_the_merge(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.git("checkout", "-q", "-b", "edit")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="部分兑现"))
    repo.commit("2024-03-02T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="已兑现"))
    repo.commit("2024-03-03T10:00:00+08:00")
    repo.git("checkout", "-q", "main")
    repo.write("findings/.keep", "")
    repo.commit("2024-03-04T10:00:00+08:00")
    repo.git("merge", "-q", "--no-ff", "-m", MESSAGE, "edit", when="2024-03-05T10:00:00+08:00")
    revisions = repo.collect().of("CM-2024-001")
    assert revisions == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 3, 5), (FieldChange("履行状态", "履行中", "已兑现"),)),
    )
    # the commits inside the pull request were never published: the merge is the publication
    assert revisions[1].commit == repo.git("rev-parse", "HEAD").strip()


def test_author_name_email_and_message_never_appear(repo: Repo):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="已兑现"))
    repo.commit("2024-03-02T10:00:00+08:00")
    text = repr(repo.collect())
    assert "CM-2024-001" in text
    for secret in (AUTHOR, EMAIL, "secret", MESSAGE):
        assert secret not in text


def test_finding_objection_and_repair(repo: Repo):
    finding = """id: DF-2025-001
subject: zjj
subject_kind: 政府机构
severity: 一般
category: 拖欠账款
summary: 逾期未支付中小企业账款。
decision:
  authority: 区发改局
  doc_no: 站发改认〔2025〕1号
  decided_on: 2025-03-14
  basis: 《保障中小企业款项支付条例》
published_on: 2025-03-20
{more}"""
    repo.write("findings/DF-2025-001.yaml", finding.format(more=""))
    repo.commit("2025-03-20T10:00:00+08:00")
    repo.write("findings/DF-2025-001.yaml", finding.format(more="""objections:
  - filed_on: 2025-03-28
    summary: 已按期支付。
    decided_on: 2025-04-15
    outcome: 维持
repair:
  applied_on: 2025-07-01
"""))
    repo.commit("2025-07-02T10:00:00+08:00")
    assert repo.collect().of("DF-2025-001")[1] == Revision(date(2025, 7, 2), (
        FieldChange("信用修复申请日期", "", "2025-07-01"),
        FieldChange("异议处理", "", "2025-03-28 已按期支付。异议处理日期：2025-04-15，处理结果：维持"),
    ))


def test_deterministic(repo: Repo, monkeypatch: pytest.MonkeyPatch):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.write("commitments/CM-2024-002.yaml", commitment("CM-2024-002"))
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-002.yaml", commitment("CM-2024-002", status="已兑现"))
    repo.commit("2024-03-02T10:00:00+08:00")
    first, second = repo.collect(), repo.collect()
    assert first == second and repr(first) == repr(second)
    assert list(first.records) == sorted(first.records)
    monkeypatch.chdir(repo.data)  # a relative data folder and a root below the top of the work tree
    assert collect(Path("."), Path(".")) == first


# --- no usable history --------------------------------------------------------------------


def test_shallow_clone_is_not_available(repo: Repo, tmp_path: Path):
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(status="已兑现"))
    repo.commit("2024-03-02T10:00:00+08:00")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True,
                   env=_env("2024-03-03T10:00:00+08:00"), capture_output=True)
    h = collect(clone, clone / "data")
    assert h == history.History(False, REASON_SHALLOW)
    assert h.reason == "当前检出没有完整的 git 历史（浅克隆），修改记录无法生成。发布流程会检出完整历史。"


def test_not_a_repository_no_commits_outside_and_no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    plain = tmp_path / "plain"
    (plain / "data").mkdir(parents=True)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert collect(plain, plain / "data") == history.History(False, REASON_NOT_A_REPO)
    assert collect(tmp_path / "missing", tmp_path / "missing" / "data").available is False

    empty = Repo(tmp_path / "empty")
    assert empty.collect() == history.History(False, REASON_NO_COMMITS)

    empty.write("site.yaml", "x: 1\n")
    empty.commit("2024-03-01T10:00:00+08:00")
    assert collect(empty.root, plain / "data") == history.History(False, REASON_OUTSIDE)
    assert empty.collect() == history.History(True, "", {})

    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries-here"))
    h = empty.collect()
    assert not h.available and "git" in h.reason

    assert collect(empty.root, empty.data, timezone="Mars/Olympus").available is False


# --- one pass --------------------------------------------------------------------------------


def _fast_import_repo(root: Path, commits: int, records: int) -> None:
    """`commits` commits over `records` records (¾ YAML commitments, ¼ ledger rows), via git fast-import."""
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=_env("2024-01-01T00:00:00+08:00"))
    yaml_count = records * 3 // 4
    ledger_count = records - yaml_count
    amounts = [100000 + i for i in range(ledger_count)]
    statuses = ["履行中"] * yaml_count
    cycle = ["履行中", "部分兑现", "已兑现", "未兑现"]
    out = bytearray()

    def blob(path: str, text: str) -> None:
        data = text.encode("utf-8")
        out.extend(b"M 100644 inline " + path.encode() + b"\n" + b"data %d\n" % len(data) + data + b"\n")

    def ledger() -> str:
        rows = "".join(f"AR-2024-{i:03d},zjj,营口某某建筑工程有限公司,,小型,项目{i},HT-{i},{amounts[i]}.00,2024-01-10,"
                       f"2024-02-09,2024-03-01,,false,,,,,,\n" for i in range(ledger_count))
        return LEDGER_HEADER + rows

    start = 1704067200  # 2024-01-01T00:00:00Z
    for n in range(commits):
        stamp = start + n * 3600 * 7
        out.extend(b"commit refs/heads/main\n")
        out.extend(f"committer {AUTHOR} <{EMAIL}> {stamp} +0800\n".encode())
        out.extend(b"data %d\n%s\n" % (len(MESSAGE), MESSAGE.encode()))
        if n == 0:
            blob("data/departments.csv", DEPARTMENTS)
            for i in range(yaml_count):
                blob(f"data/commitments/CM-2024-{i:03d}.yaml", commitment(f"CM-2024-{i:03d}"))
            blob("data/arrears/ledger.csv", ledger())
            continue
        for k in range(3):  # each commit touches three records
            i = (n * 7 + k * 13) % records
            if i < yaml_count:
                statuses[i] = cycle[(cycle.index(statuses[i]) + 1) % len(cycle)]
                blob(f"data/commitments/CM-2024-{i:03d}.yaml", commitment(f"CM-2024-{i:03d}", status=statuses[i]))
            else:
                amounts[i - yaml_count] += 1
        blob("data/arrears/ledger.csv", ledger())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=bytes(out), check=True,
                   env=_env("2024-01-01T00:00:00+08:00"))
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=root, check=True, env=_env("2024-01-01T00:00:00+08:00"))


def test_a_thousand_commits_in_one_pass_with_a_constant_number_of_git_processes(tmp_path: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch):
    big = tmp_path / "big"
    _fast_import_repo(big, commits=1000, records=200)
    small = Repo(tmp_path / "small")
    small.write("commitments/CM-2024-001.yaml", commitment())
    small.commit("2024-03-01T10:00:00+08:00")

    spawned: list[list[str]] = []
    real_popen = subprocess.Popen

    class CountingPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kwargs):
            spawned.append(list(args))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", CountingPopen)
    started = time.perf_counter()
    h = collect(big, big / "data")
    elapsed = time.perf_counter() - started
    big_count = len(spawned)
    spawned.clear()
    small.collect()
    small_count = len(spawned)
    print(f"\ncollect(): 1000 commits, 200 records in {elapsed:.2f} s with {big_count} git processes")

    assert h.available
    assert len(h.records) == 200
    assert big_count == small_count == 3
    assert [next(a for a in args if a in ("rev-parse", "log", "cat-file")) for args in spawned] == [
        "rev-parse", "log", "cat-file"]
    assert elapsed < 10
    revisions = sum(len(r) for r in h.records.values())
    assert revisions > 200  # creations plus the changes spread over the records
    some = h.of("AR-2024-000")
    assert some[0].created and all(c.field == "欠款金额（元）" for r in some[1:] for c in r.changes)


def test_until_drops_revisions_after_the_as_of_date():
    from datetime import date

    from generator.history import History, Revision

    history = History(True, "", {"CM-2024-001": (Revision(date(2024, 3, 1), (), True), Revision(date(2024, 5, 1), ()))})
    assert [r.date for r in history.until(date(2024, 4, 1)).of("CM-2024-001")] == [date(2024, 3, 1)]
    assert history.until(date(2024, 1, 1)).of("CM-2024-001") == ()


def test_a_record_with_a_change_log_keeps_its_history_and_the_log_is_no_field_change(repo: Repo):
    """The change log (changes:) is shown beside the history, not in it; a version that has one
    is read like any other (it was once skipped as unreadable, hiding the very change it explains)."""
    repo.write("commitments/CM-2024-001.yaml", commitment())
    repo.commit("2024-03-01T10:00:00+08:00")
    log = ("changes:\n  - date: 2024-06-01\n    fields: deadline\n    what: 兑现期限由 2024-06-30 调整为 2024-12-31\n"
           "    reason: 依法顺延\n    basis: 协议第十二条\n    document: 站政办函〔2024〕1号\n")
    repo.write("commitments/CM-2024-001.yaml", commitment(deadline="2024-12-31", extra=log))
    repo.commit("2024-06-02T10:00:00+08:00")
    repo.write("commitments/CM-2024-001.yaml", commitment(deadline="2024-12-31", extra=log.replace("依法顺延", "依法顺延（更正）")))
    repo.commit("2024-06-03T10:00:00+08:00")

    assert repo.collect().of("CM-2024-001") == (
        Revision(date(2024, 3, 1), (), created=True),
        Revision(date(2024, 6, 2), (FieldChange("兑现期限", "2024-06-30", "2024-12-31"),)),
    )
