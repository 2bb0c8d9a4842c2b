"""generator serve: the preview follows the data, shows problems in the browser, prints them once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEMO_DATA, edit

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def _wait_for(predicate, timeout: float = 240.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out")


@pytest.fixture
def preview(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DEMO_DATA, data)
    log = tmp_path / "serve.log"
    import socket

    with socket.socket() as probe:  # a free port (the command refuses 0)
        probe.bind(("127.0.0.1", 0))
        free = str(probe.getsockname()[1])
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--data", str(data), "--port", free,
                                 "--as-of", "2026-11-26", "--build-dir", str(tmp_path / "build")],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    try:
        port = _wait_for(lambda: (m := re.search(r"127\.0\.0\.1:(\d+)/", log.read_text(encoding="utf-8"))) and m.group(1))
        yield data, f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _state(base: str) -> dict:
    import json

    return json.loads(_get(base + "__zq_preview__/state"))


def test_invalid_edit_shows_problems_in_the_browser_until_fixed(preview):
    data, base, log = preview
    assert "已按 2026-11-26 的数据更新预览" in log.read_text(encoding="utf-8")
    page = _get(base + "commitments/CM-2024-001/")
    assert "企业开办全流程" in page and "__zq_preview__/state" in page  # the reload script
    assert "数据有 " not in page
    version = _state(base)["version"]

    record = data / "commitments" / "CM-2024-001.yaml"
    good = record.read_text(encoding="utf-8")
    edit(record, "category: ", "category: 不存在的类别  # ", 1)
    state = _wait_for(lambda: (s := _state(base))["version"] > version and s["problems"] and s)
    page = _get(base + "commitments/CM-2024-001/")
    assert "zq-preview-problems" in page and "数据有 " in page
    assert "commitments/CM-2024-001.yaml" in page and "不存在的类别" in page
    assert "企业开办全流程" in page  # the last good page stays underneath
    time.sleep(3)  # more file events may follow: the problems are still printed once
    text = log.read_text(encoding="utf-8")
    assert text.count("不存在的类别") == 1, text
    assert state["problems"][0].startswith("commitments/CM-2024-001.yaml:")

    record.write_text(good, encoding="utf-8")
    _wait_for(lambda: not _state(base)["problems"])
    assert "数据有 " not in _get(base + "commitments/CM-2024-001/")


def test_new_finding_without_publication_date_is_explained(preview):
    data, base, log = preview
    source = sorted((data / "findings").glob("*.yaml"))[-1]
    new = data / "findings" / "DF-2026-099.yaml"
    text = source.read_text(encoding="utf-8")
    text = re.sub(r"^id: .*$", "id: DF-2026-099", text, count=1, flags=re.M)
    text = re.sub(r"^published_on: .*\n", "", text, count=1, flags=re.M)
    new.write_text(text, encoding="utf-8")
    state = _wait_for(lambda: (s := _state(base))["notes"] and any("DF-2026-099" in n for n in s["notes"]) and s)
    note = next(n for n in state["notes"] if "DF-2026-099" in n)
    assert "未填写公示日期" in note and "findings/DF-2026-099.yaml" in note
    assert "DF-2026-099" in _get(base) and "未填写公示日期" in _get(base)
