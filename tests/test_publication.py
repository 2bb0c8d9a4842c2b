"""Verifiable publications: the manifest of every build, and generator verify on real git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from generator import __version__, sitedir
from generator.cli import main
from generator.publication import MANIFEST_PATHS, VerifyError, identify, site_files, verify
from generator.publish import build_site
from tests.conftest import DEMO_DATA

AS_OF = date(2026, 11, 26)
pytestmark = pytest.mark.slow


def _git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_AUTHOR_DATE="2026-11-20T10:00:00+08:00", GIT_COMMITTER_DATE="2026-11-20T10:00:00+08:00")
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True).stdout.decode()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, Path, str]:
    """A repository holding the demo data in one commit, and the site built from it."""
    root = tmp_path_factory.mktemp("pub")
    repo = root / "repo"
    shutil.copytree(DEMO_DATA, repo / "data")
    (repo / ".gitignore").write_text("/build/\n", encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "publish")
    commit = _git(repo, "rev-parse", "HEAD").strip()
    site = root / "site"
    build_site(repo / "data", site, as_of=AS_OF, build_dir=repo / "build")
    return repo, site, commit


def test_manifest_names_the_commit_and_hashes_every_file_but_itself(published):
    repo, site, commit = published
    manifest = json.loads((site / "publication.json").read_text(encoding="utf-8"))
    assert manifest["commit"] == commit and manifest["dirty"] is False
    assert manifest["as_of"] == "2026-11-26" and manifest["generator_version"] == __version__
    assert manifest["data_path"] == "data"
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - set(MANIFEST_PATHS) - {sitedir.MARKER}
    assert "index.html" in manifest["files"] and "data/datapackage.json" in manifest["files"]
    assert not set(MANIFEST_PATHS) & set(manifest["files"])
    # the data package carries the same manifest
    assert (site / "data" / "publication.json").read_bytes() == (site / "publication.json").read_bytes()
    assert manifest["files"] == site_files(site)
    # every page's footer names the commit
    home = (site / "index.html").read_text(encoding="utf-8")
    assert commit[:12] in home and "发布清单" in home
    record = next((site / "commitments").glob("CM-*/index.html")).read_text(encoding="utf-8")
    assert commit[:12] in record


def test_verify_passes_on_a_fresh_build_and_fails_on_a_tampered_one(published, tmp_path):
    repo, site, commit = published
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    result = verify(copy, repo)
    assert result.ok, result.text()
    assert "复核通过" in result.text()

    # one published figure changed by hand: the site no longer matches its manifest nor the rebuild
    page = copy / "arrears" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("万元", "元", 1), encoding="utf-8")
    result = verify(copy, repo)
    assert not result.ok
    assert result.tampered == ["arrears/index.html"]
    assert result.differing == ["arrears/index.html"]
    assert "复核未通过" in result.text()

    # the manifest rewritten to cover the tampering: the rebuild still catches it
    manifest = json.loads((copy / "publication.json").read_text(encoding="utf-8"))
    manifest["files"] = site_files(copy)
    (copy / "publication.json").write_text(json.dumps(manifest), encoding="utf-8")
    # … and so do an extra file and a deleted one
    (copy / "extra.html").write_text("x", encoding="utf-8")
    (copy / "tasks" / "index.html").unlink()
    result = verify(copy, repo)
    assert result.differing == ["arrears/index.html"]
    assert result.extra == ["extra.html"] and result.missing == ["tasks/index.html"]
    assert result.tampered == ["extra.html", "tasks/index.html"]
    # the scratch work tree is gone
    assert _git(repo, "worktree", "list").count("\n") == 1


def test_verify_command_exit_codes(published, tmp_path, capsys):
    repo, site, commit = published
    assert main(["verify", str(site), "--repo", str(repo)]) == 0
    assert "复核通过" in capsys.readouterr().out
    assert main(["verify", str(tmp_path), "--repo", str(repo)]) == 2  # no manifest
    assert "publication.json" in capsys.readouterr().err


def test_unknown_commit_and_dirty_tree(published, tmp_path):
    repo, site, commit = published
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    manifest = json.loads((copy / "publication.json").read_text(encoding="utf-8"))
    manifest["commit"] = "0" * 40
    (copy / "publication.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(VerifyError, match="没有提交"):
        verify(copy, repo)
    # a work tree with uncommitted changes says so
    assert identify(repo / "data").dirty is False
    (repo / "data" / "note.txt").write_text("draft", encoding="utf-8")
    try:
        identity = identify(repo / "data")
        assert identity.dirty is True and identity.commit == commit
    finally:
        (repo / "data" / "note.txt").unlink()


def test_the_manifest_text_is_what_json_dumps_writes_with_an_indent():
    """manifest_text writes the files' lines by a join; the bytes are json.dumps' (indent 1,
    keys sorted) for plain paths and for paths any escaping applies to (then json.dumps writes them)."""
    from generator.publication import manifest_text

    def dumps(data):
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    head = {"format": 1, "commit": "abc", "dirty": False, "data_path": "数据/data", "as_of": "2026-11-30",
            "generator_version": "0.1.0"}
    plain = {"404.html": "f6", "arrears/AR-2019-001/index.html": "b0", "letters/承诺-1.html": "9c",
             "z/\u2028x\x7f.txt": "00"}
    for files in (plain, {}, {"a\"b.html": "1"}, {"a\\b": "1"}, {"a\nb": "1"}, {"b": "1", "a": "2"},
                  {"a": "x\ty"}, {**plain, "tab\tname": "2"}):
        data = {**head, "files": files}
        assert manifest_text(data) == dumps(data), files
