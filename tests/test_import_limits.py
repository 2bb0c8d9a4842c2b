"""Large or crafted workbooks: refused fast with a message, read once in streaming mode (issue 12 item 10)."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from generator import cli, importer

REPO = Path(__file__).resolve().parent.parent
HEADER = ["账款编号", "债务单位", "债权企业", "企业规模", "项目名称", "合同编号", "欠款金额（元）",
          "交付（验收）日期", "约定付款日期", "认定日期", "是否有争议"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _rewrite_sheet(path: Path, edit) -> Path:
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    items["xl/worksheets/sheet1.xml"] = edit(items["xl/worksheets/sheet1.xml"].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)
    return path


def _ledger(path: Path, far_cell: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(HEADER)
    if far_cell:
        ws[far_cell] = 1
    wb.save(path)
    return path


def _import_in_subprocess(data_dir: Path, book: Path, memory_mb: int = 1500) -> tuple[subprocess.CompletedProcess, float]:
    def limit():  # the 5.5 GB of the old reader would fail here instead of swapping the machine
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "generator", "import", str(book), "--data", str(data_dir), "--dry-run"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, preexec_fn=limit)
    return proc, time.monotonic() - start


def test_one_cell_at_xfd1048576_is_refused_fast(data_dir: Path, tmp_path: Path):
    book = _ledger(tmp_path / "far.xlsx", "XFD1048576")
    proc, seconds = _import_in_subprocess(data_dir, book)
    assert proc.returncode == 2, proc.stderr
    assert "超出导入的上限" in proc.stderr and "XFD1048576" in proc.stderr
    assert seconds < 30


def test_a_far_cell_without_a_dimension_is_refused_too(data_dir: Path, tmp_path: Path, capsys):
    book = _rewrite_sheet(_ledger(tmp_path / "far.xlsx", "XFD1048576"), lambda x: re.sub(r"<dimension[^>]*/>", "", x))
    code, _out, err = run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert code == 2 and "超出导入的上限" in err and ("XFD1048576" in err or "1,048,576 行" in err)


def test_too_many_rows_is_refused_at_the_first_row_over(data_dir: Path, tmp_path: Path):
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c></row>'
                   for r in range(2, importer.MAX_ROWS + 2))
    book = _rewrite_sheet(_ledger(tmp_path / "long.xlsx"),
                          lambda x: re.sub(r"<dimension[^>]*/>", "", x).replace("</row></sheetData>", "</row>" + rows + "</sheetData>"))
    proc, seconds = _import_in_subprocess(data_dir, book)
    assert proc.returncode == 2, proc.stderr
    assert f"第 {importer.MAX_ROWS + 1:,} 行" in proc.stderr and f"{importer.MAX_ROWS:,} 行" in proc.stderr
    assert seconds < 60


def test_too_many_columns_is_refused(data_dir: Path, tmp_path: Path, capsys):
    book = _ledger(tmp_path / "wide.xlsx", "GS2")  # column 201
    code, _out, err = run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert code == 2 and "GS2" in err and "200 列" in err


def test_byte_limits(data_dir: Path, tmp_path: Path, capsys, monkeypatch):
    book = _ledger(tmp_path / "a.xlsx")
    monkeypatch.setattr(importer, "MAX_WORKBOOK_BYTES", 1000)
    code, _out, err = run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert code == 2 and "超出导入的上限" in err and "MB" in err
    monkeypatch.setattr(importer, "MAX_WORKBOOK_BYTES", 50_000_000)
    monkeypatch.setattr(importer, "MAX_PART_BYTES", 100)  # a zip bomb: small file, huge part
    code, _out, err = run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert code == 2 and "解压后" in err


def test_workbook_is_read_once_in_read_only_mode(data_dir: Path, tmp_path: Path, capsys, monkeypatch):
    calls = []
    real = openpyxl.load_workbook

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    book = _ledger(tmp_path / "a.xlsx")
    run(capsys, "import", book, "--data", data_dir, "--dry-run")
    assert len(calls) == 1 and calls[0].get("read_only") is True
