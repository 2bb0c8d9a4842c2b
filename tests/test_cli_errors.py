"""Dates outside the supported range and every "内部错误" found in trials: a Chinese message, exit 2."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from generator import cli
from generator.dates import AS_OF_MAX, AS_OF_MIN
from generator.derive import clearing_curve, derive
from generator.load import load
from generator.validate import validate
from tests.conftest import DEMO_DATA

REPO = Path(__file__).resolve().parent.parent
ARREARS_OPTIONS = ["--debtor", "区住建局", "--creditor", "营口某某门窗有限公司", "--creditor-size", "微型",
                   "--project", "区政务服务中心门窗维修", "--contract-no", "ZQ-ZJ-2026-031",
                   "--delivered-on", "2026-09-01", "--due-on", "2026-09-30"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- item 12: dates -----------------------------------------------------------------------------------


def test_documented_range(capsys):
    assert (AS_OF_MIN, AS_OF_MAX) == (date(2000, 1, 1), date(2099, 12, 31))
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    assert "2000-01-01 至 2099-12-31" in capsys.readouterr().out
    assert "2000-01-01 至 2099-12-31" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("day", ["9999-12-31", "2100-01-01", "1999-12-31", "1970-01-01", "0001-01-01"])
def test_as_of_outside_the_range_is_refused_at_once(tmp_path: Path, day: str):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "generator", "build", "--data", str(DEMO_DATA), "--out",
                           str(tmp_path / "site"), "--as-of", day, "--no-history"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "超出支持的日期范围（2000-01-01 至 2099-12-31）" in proc.stderr
    assert "内部错误" not in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60
    assert not (tmp_path / "site").exists()


def test_new_refuses_a_date_outside_the_range(data_dir: Path, capsys):
    before = (data_dir / "arrears" / "ledger.csv").read_bytes()
    code, _out, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "1970-01-01", *ARREARS_OPTIONS,
                          "--amount", "100")
    assert code == 2 and "超出支持的日期范围" in err
    assert (data_dir / "arrears" / "ledger.csv").read_bytes() == before


def test_clearing_curve_ends_in_year_9999():
    report = validate(load(DEMO_DATA))
    facts = derive(report.dataset, date(2026, 11, 26))
    points = clearing_curve(facts.arrears, date(9999, 12, 31))  # months compared as strings never ended
    assert points[-1].month == "9999-12"
    assert len(points) == (9999 * 12 + 11) - (int(points[0].month[:4]) * 12 + int(points[0].month[5:]) - 1) + 1


def test_the_last_supported_day_builds(tmp_path: Path, capsys):
    code, out, err = run(capsys, "build", "--data", DEMO_DATA, "--out", tmp_path / "site", "--as-of", "2099-12-31",
                         "--no-history")
    assert code == 0, err
    assert "数据截至 2099-12-31" in out


# --- item 15: no internal errors --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1e400", "1e30", "-1e400", "12345678901234567890123456789.5"])
def test_huge_amounts_get_a_message(data_dir: Path, capsys, amount: str):
    before = (data_dir / "arrears" / "ledger.csv").read_bytes()
    code, _out, err = run(capsys, "new", "arrears", "--data", data_dir, "--date", "2026-11-26", *ARREARS_OPTIONS,
                          f"--amount={amount}")
    assert code == 2, err
    assert "内部错误" not in err and "--amount" in err
    assert (data_dir / "arrears" / "ledger.csv").read_bytes() == before


def test_a_huge_amount_in_the_ledger_is_a_validation_error(data_dir: Path, capsys):
    ledger = data_dir / "arrears" / "ledger.csv"
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text(text.replace(",412380.00,", ",12345678901234567890123456789.50,", 1), encoding="utf-8")
    code, out, err = run(capsys, "build", "--data", data_dir, "--out", data_dir.parent / "site", "--as-of", "2026-11-26",
                         "--no-history")
    assert code == 1, err
    assert "大于上限 999999999999.99" in out and "内部错误" not in err


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_serve_refuses_a_bad_port(capsys, port: str):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--port", port])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "端口" in err and "内部错误" not in err


def test_memory_error_is_a_message(capsys, monkeypatch):
    def exhausted(_args):
        raise MemoryError

    monkeypatch.setattr(cli, "cmd_validate", exhausted)
    code, _out, err = run(capsys, "validate", "--data", DEMO_DATA)
    assert code == 2 and "内存不足" in err and "内部错误" not in err


def test_an_unwritable_output_is_a_message(tmp_path: Path, capsys):
    code, _out, err = run(capsys, "build", "--data", DEMO_DATA, "--out", "/proc/generator-site", "--as-of", "2026-11-26",
                          "--no-history")
    assert code == 2 and "内部错误" not in err and "/proc" in err


def test_zip_timestamps_are_never_before_1980(tmp_path: Path):
    import zipfile

    from generator.opendata import write_open_data

    report = validate(load(DEMO_DATA))
    facts = derive(report.dataset, AS_OF_MIN)
    write_open_data(facts, tmp_path)
    zips = [p for p in tmp_path.rglob("*") if p.is_file() and zipfile.is_zipfile(p)]
    assert zips
    for path in zips:
        with zipfile.ZipFile(path) as z:
            assert all(info.date_time[0] >= 1980 for info in z.infolist())


def test_synth_refuses_an_absurd_size(tmp_path: Path, capsys):
    code, _out, err = run(capsys, "synth", "--records", "10000000000", "--out", tmp_path / "synth")
    assert code == 2 and "记录数最多 1,000,000" in err and "内部错误" not in err
    assert not (tmp_path / "synth").exists()
