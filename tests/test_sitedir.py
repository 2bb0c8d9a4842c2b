"""The output folder: what `generator build --out` may replace, and how the new site goes in."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generator import sitedir
from generator.cli import main
from tests.conftest import DEMO_DATA

REPO = Path(__file__).resolve().parent.parent


def _build(data: Path, out: Path, *extra: str) -> int:
    return main(["build", "--data", str(data), "--out", str(out), "--as-of", "2026-11-26", "--no-history", *extra])


# --- item 6: only an empty, absent or generator-made folder is replaced ------------------------


@pytest.mark.parametrize("target", ["data", "data/commitments", "repo", "parent", "home"])
def test_build_refuses_data_repository_and_their_ancestors(tmp_path: Path, capsys, target: str, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    data = repo / "data"
    shutil.copytree(DEMO_DATA, data)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    out = {"data": data, "data/commitments": data / "commitments", "repo": repo, "parent": tmp_path,
           "home": tmp_path / "home"}[target]
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    code = _build(data, out)
    err = capsys.readouterr().err
    assert code == 2
    assert "不能把网站生成到" in err and "Traceback" not in err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before
    assert (repo / ".git").is_dir() and (data / "site.yaml").is_file()


def test_build_refuses_a_folder_it_did_not_make(tmp_path: Path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "important.txt").write_text("staff notes", encoding="utf-8")
    assert _build(DEMO_DATA, out) == 2
    assert "不是 generator 生成的网站" in capsys.readouterr().err
    assert (out / "important.txt").read_text(encoding="utf-8") == "staff notes"
    file_out = tmp_path / "a-file"
    file_out.write_text("x", encoding="utf-8")
    assert _build(DEMO_DATA, file_out) == 2
    assert file_out.read_text(encoding="utf-8") == "x"


def test_build_replaces_empty_absent_and_its_own_folders(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _build(DEMO_DATA, empty) == 0
    assert (empty / sitedir.MARKER).is_file() and (empty / "index.html").is_file()
    (empty / "stale.html").write_text("old", encoding="utf-8")
    assert _build(DEMO_DATA, empty) == 0  # carries the marker: replaced as a whole
    assert not (empty / "stale.html").exists()


# --- item 14: the old site stays until the new one is in; leftovers cleaned; world-readable ----


def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a", encoding="utf-8")
    (b / "which").write_text("b", encoding="utf-8")
    assert sitedir._exchange(a, b) is True  # Linux: renameat2(RENAME_EXCHANGE)
    assert (a / "which").read_text(encoding="utf-8") == "b" and (b / "which").read_text(encoding="utf-8") == "a"


def test_a_site_is_always_in_place_during_the_swap(tmp_path: Path, monkeypatch):
    out = tmp_path / "site"
    with sitedir.replacing(out) as staging:
        (staging / "index.html").write_text("one", encoding="utf-8")
    seen = []
    real_rmtree = shutil.rmtree

    def watching_rmtree(path, *args, **kwargs):  # runs right after the swap, before cleanup
        seen.append((out / "index.html").read_text(encoding="utf-8"))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(sitedir.shutil, "rmtree", watching_rmtree)
    with sitedir.replacing(out) as staging:
        (staging / "index.html").write_text("two", encoding="utf-8")
        assert (out / "index.html").read_text(encoding="utf-8") == "one"
    assert seen == ["two"]
    assert (out / "index.html").read_text(encoding="utf-8") == "two"


def test_kill_during_a_build_leaves_the_old_site_and_the_next_run_cleans_up(tmp_path: Path):
    out = tmp_path / "site"
    assert _build(DEMO_DATA, out) == 0
    before = (out / "index.html").read_bytes()
    # a build killed with SIGKILL while MkDocs writes into its staging folder
    script = ("import os, sys\nfrom generator import sitedir\n"
              f"with sitedir.replacing({str(out)!r}) as staging:\n"
              "    (staging / 'index.html').write_text('half', encoding='utf-8')\n"
              "    os.kill(os.getpid(), 9)\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True)
    assert proc.returncode == -9
    assert (out / "index.html").read_bytes() == before
    assert [p.name for p in tmp_path.glob(".site.new-*")]  # the leftover the next run must clean
    # a fallback swap killed between its two renames: no site, the old one aside
    os.rename(out, tmp_path / ".site.old-4242")
    assert _build(DEMO_DATA, out) == 0
    assert (out / "index.html").is_file()
    assert not list(tmp_path.glob(".site.new-*")) and not list(tmp_path.glob(".site.old-*"))


def test_recovery_puts_back_a_site_left_aside(tmp_path: Path):
    out = tmp_path / "site"
    aside = tmp_path / ".site.old-777"
    aside.mkdir()
    (aside / sitedir.MARKER).write_text("", encoding="utf-8")
    (aside / "index.html").write_text("old", encoding="utf-8")
    sitedir._recover(out)
    assert (out / "index.html").read_text(encoding="utf-8") == "old"
    assert not aside.exists()


def test_leftovers_are_ignored_by_git():
    for name in (".site.new-abc123", ".site.old-42", ".site.lock"):
        proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", name + ("/x" if "lock" not in name else "")],
                              cwd=REPO, capture_output=True)
        assert proc.returncode == 0, name


def test_built_site_is_world_readable(tmp_path: Path):
    out = tmp_path / "site"
    old_umask = os.umask(0o077)
    try:
        assert _build(DEMO_DATA, out) == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    for path in out.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_a_second_build_into_the_same_folder_waits_its_turn(tmp_path: Path):
    out = tmp_path / "site"
    with sitedir.replacing(out) as staging:
        (staging / "index.html").write_text("one", encoding="utf-8")
        with pytest.raises(sitedir.UnsafeOutput, match="正在生成"):
            with sitedir.replacing(out):
                pass


def test_readable_files_lists_every_file_once_and_makes_the_rest_readable(tmp_path: Path):
    root = tmp_path / "staging"
    old_umask = os.umask(0o077)
    try:
        (root / "a" / "b").mkdir(parents=True)
        (root / "page").mkdir()
        for rel in ("index.html", "a/x.css", "a/b/y.js", "page/index.html", "known.html"):
            (root / rel).write_bytes(rel.encode())
    finally:
        os.umask(old_umask)
    found = dict(sitedir.readable_files(root, known={"known.html"}, folders={"page": ("index.html",)}))
    assert sorted(found) == ["a/b/y.js", "a/x.css", "index.html", "known.html", "page/index.html"]
    assert found["a/b/y.js"] == os.path.join(root, "a", "b", "y.js")
    for rel in ("index.html", "a/x.css", "a/b/y.js"):
        assert stat.S_IMODE((root / rel).stat().st_mode) == 0o644
    for rel in (".", "a", "a/b"):
        assert stat.S_IMODE((root / rel).stat().st_mode) == 0o755
    # What its writer vouched for is taken as it is: neither stat'ed nor changed.
    assert stat.S_IMODE((root / "known.html").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "page").stat().st_mode) == 0o700
