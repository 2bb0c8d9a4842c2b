"""Shared fixtures: a private copy of the demo data that a test may break on purpose."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.load import load
from generator.validate import validate

REPO = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO / "data"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the demo data in tmp_path."""
    target = tmp_path / "data"
    shutil.copytree(DEMO_DATA, target)
    return target


def problems_of(folder: Path, errors_only: bool = True):
    report = validate(load(folder))
    return [p for p in report.problems if p.is_error or not errors_only]


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a data file; fails loudly when the fixture no longer has `old`."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


# Debian's Chromium, never a downloaded browser; the flags keep it off the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_browser(env: dict[str, str] | None = None) -> str | None:
    """A usable Chromium or Chrome: $CHROMIUM_PATH, $CHROME_PATH, $CHROME_BIN, then the usual
    names and install paths (one list, shared with .ci/run: .ci/find-browser)."""
    import subprocess

    proc = subprocess.run([shutil.which("bash") or "/bin/bash", str(REPO / ".ci" / "find-browser")], capture_output=True, text=True,
                          env=os.environ if env is None else env, check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


@pytest.fixture(scope="session")
def browser():
    executable = find_browser()
    if executable is None:
        # Never skip: CI installs Debian's chromium (.ci/run); a missing browser is a broken machine.
        pytest.fail("No Chromium or Chrome found (CHROMIUM_PATH, CHROME_PATH, CHROME_BIN, PATH and the usual "
                    "install paths; see .ci/find-browser). Install Debian's browser (apt-get install -y chromium "
                    "fonts-noto-cjk, as .ci/run does) or point CHROMIUM_PATH at one; never `playwright install`. "
                    "The e2e tests do not skip.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()
