"""The data folder: one writer at a time, multi-file imports all-or-nothing, only regular files read."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from generator import cli, datadir
from generator.load import load
from tests.conftest import problems_of

REPO = Path(__file__).resolve().parent.parent
LEDGER = "arrears/ledger.csv"
PLAN = "arrears/plan.csv"
ARREARS_OPTIONS = ["--debtor", "区住建局", "--creditor", "营口某某门窗有限公司", "--creditor-size", "微型",
                   "--project", "区政务服务中心门窗维修", "--contract-no", "ZQ-ZJ-2026-031", "--amount", "1234.5",
                   "--delivered-on", "2026-09-01", "--due-on", "2026-09-30"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def ids(data_dir: Path) -> list[str]:
    text = (data_dir / LEDGER).read_text(encoding="utf-8")
    return [r["id"] for r in csv.DictReader(io.StringIO(text))]


# --- item 7: concurrent writers ------------------------------------------------------------------


def test_concurrent_new_arrears_lose_no_row(data_dir: Path):
    before = ids(data_dir)
    cmd = [sys.executable, "-m", "generator", "new", "arrears", "--data", str(data_dir), "--date", "2026-11-26",
           *ARREARS_OPTIONS]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    succeeded = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    after = ids(data_dir)
    # every success is a row in the ledger; every failure said the folder was busy
    assert len(after) == len(before) + len(succeeded)
    assert len(set(after)) == len(after)
    assert all("正被另一个命令修改" in r[2] for r in refused), refused
    assert succeeded
    assert problems_of(data_dir) == []


def test_a_held_lock_gives_a_clear_message(data_dir: Path, capsys):
    with datadir.locked(data_dir, "generator import 台账.xlsx"):
        with pytest.raises(datadir.DataFolderBusy) as busy:
            with datadir.locked(data_dir, "generator new arrears", wait=0.2):
                pass
    assert "正被另一个命令修改" in str(busy.value) and "没有写入任何内容" in str(busy.value)
    # released: the next writer gets it at once
    with datadir.locked(data_dir, "generator new arrears", wait=0):
        pass


# --- item 8: an import across files is all or nothing ------------------------------------------


def _two_file_workbook(path: Path) -> Path:
    """A new debt and its instalment plan: two CSV files change."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拖欠账款"
    ws.append(["账款编号", "债务单位", "债权企业", "企业规模", "项目名称", "合同编号", "欠款金额（元）",
               "交付（验收）日期", "约定付款日期", "认定日期", "是否有争议"])
    ws.append(["AR-2026-090", "区住建局", "营口某某门窗有限公司", "微型", "门窗维修", "ZQ-ZJ-2026-090", 5000,
               "2026-09-01", "2026-09-30", "2026-10-15", "否"])
    plan = wb.create_sheet("分期清偿计划")
    plan.append(["账款编号", "计划清偿日期", "计划清偿金额（元）"])
    plan.append(["AR-2026-090", "2026-12-31", 5000])
    wb.save(path)
    return path


def _import(data_dir: Path, workbook: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", "import", str(workbook), "--data", str(data_dir)],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, **env}, timeout=600)


def test_import_killed_between_renames_is_completed_by_the_next_command(data_dir: Path, tmp_path: Path):
    workbook = _two_file_workbook(tmp_path / "台账.xlsx")
    ledger_before, plan_before = (data_dir / LEDGER).read_bytes(), (data_dir / PLAN).read_bytes()
    killed = _import(data_dir, workbook, GENERATOR_TEST_KILL_AT="between-renames")
    assert killed.returncode == -9, killed.stderr
    # half an import on disk: the ledger has the new debt, the plan does not yet
    assert (data_dir / LEDGER).read_bytes() != ledger_before and (data_dir / PLAN).read_bytes() == plan_before
    assert (data_dir / datadir.JOURNAL_NAME).exists()
    # the next command, whatever it is, completes it and says so
    proc = subprocess.run([sys.executable, "-m", "generator", "validate", "--data", str(data_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert "已完成该次导入" in proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout
    assert "AR-2026-090" in (data_dir / PLAN).read_text(encoding="utf-8")
    assert not (data_dir / datadir.JOURNAL_NAME).exists()
    assert not list(data_dir.rglob(".*"))


def test_import_with_a_damaged_staged_file_is_rolled_back(data_dir: Path, tmp_path: Path, capsys):
    workbook = _two_file_workbook(tmp_path / "台账.xlsx")
    ledger_before, plan_before = (data_dir / LEDGER).read_bytes(), (data_dir / PLAN).read_bytes()
    killed = _import(data_dir, workbook, GENERATOR_TEST_KILL_AT="between-renames")
    assert killed.returncode == -9
    journal = json.loads((data_dir / datadir.JOURNAL_NAME).read_text(encoding="utf-8"))
    staged = [e["staged"] for e in journal["files"] if (data_dir / e["staged"]).exists()]
    assert staged
    (data_dir / staged[0]).write_bytes(b"truncated")  # e.g. a disk that lost the last write
    code, out, err = run(capsys, "validate", "--data", data_dir)
    assert "已撤销该次导入" in out + err
    assert (data_dir / LEDGER).read_bytes() == ledger_before and (data_dir / PLAN).read_bytes() == plan_before
    assert code == 0


def test_commit_killed_before_its_journal_leaves_the_old_files(data_dir: Path):
    before = (data_dir / LEDGER).read_bytes()
    (data_dir / "arrears" / f".ledger.csv{datadir._STAGED}").write_bytes(b"half")
    with datadir.locked(data_dir, "test"):
        pass
    assert (data_dir / LEDGER).read_bytes() == before
    assert not list(data_dir.rglob(f"*{datadir._STAGED}"))


# --- item 11: only regular files inside the data folder ---------------------------------------------


def test_symlinked_record_outside_the_folder_is_refused(data_dir: Path, tmp_path: Path):
    secret = tmp_path / "secret.yaml"
    secret.write_text((data_dir / "commitments" / "CM-2024-001.yaml").read_text(encoding="utf-8")
                      .replace("CM-2024-001", "CM-2024-099"), encoding="utf-8")
    (data_dir / "commitments" / "CM-2024-099.yaml").symlink_to(secret)
    raw = load(data_dir)
    found = [p for p in raw.problems if p.file == "commitments/CM-2024-099.yaml"]
    assert found and "符号链接" in found[0].message
    assert all(row.get("id") != "CM-2024-099" for row in raw.tables["commitments"].rows)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "symlinked-folder", "csv-symlink"])
def test_fifos_devices_and_links_are_refused_fast(data_dir: Path, tmp_path: Path, kind: str):
    if kind == "fifo":
        target, rel = data_dir / "findings" / "DF-2026-099.yaml", "findings/DF-2026-099.yaml"
        os.mkfifo(target)
        word = "命名管道"
    elif kind == "dev-zero":
        target, rel = data_dir / "commitments" / "CM-2026-099.yaml", "commitments/CM-2026-099.yaml"
        target.symlink_to("/dev/zero")
        word = "符号链接"
    elif kind == "csv-symlink":
        rel = "evaluations.csv"
        outside = tmp_path / "evaluations.csv"
        (data_dir / rel).rename(outside)
        (data_dir / rel).symlink_to(outside)
        word = "符号链接"
    else:
        outside = tmp_path / "elsewhere"
        (data_dir / "findings").rename(outside)
        (data_dir / "findings").symlink_to(outside)
        rel, word = "findings", "符号链接"
    proc = subprocess.run([sys.executable, "-m", "generator", "validate", "--data", str(data_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert rel in proc.stdout and word in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr


def test_writing_commands_refuse_a_symlinked_ledger(data_dir: Path, tmp_path: Path, capsys):
    outside = tmp_path / "ledger.csv"
    (data_dir / LEDGER).rename(outside)
    (data_dir / LEDGER).symlink_to(outside)
    before = outside.read_bytes()
    code, _out, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "2026-11-26", *ARREARS_OPTIONS)
    assert code == 2 and "arrears/ledger.csv" in err
    assert outside.read_bytes() == before
