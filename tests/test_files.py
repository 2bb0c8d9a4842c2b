"""The one atomic writer: a file is rewritten only when its bytes change, never half-written."""

from pathlib import Path

from generator.files import write_if_changed


def test_a_file_is_written_only_when_its_bytes_change(tmp_path: Path):
    path = tmp_path / "new" / "page.html"
    assert write_if_changed(path, b"<p>a</p>")
    before = path.stat().st_mtime_ns
    assert not write_if_changed(path, b"<p>a</p>")
    assert path.stat().st_mtime_ns == before
    assert write_if_changed(path, b"<p>b</p>") and path.read_bytes() == b"<p>b</p>"
    assert [p.name for p in path.parent.iterdir()] == ["page.html"]  # no temporary file left



def test_a_cache_folder_keeps_only_the_files_this_build_used(tmp_path):
    from generator.files import remove_unused

    for name in ("a", "b", ".c.tmp-1"):
        (tmp_path / name).write_bytes(b"x")
    remove_unused(tmp_path, {"a"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    remove_unused(tmp_path / "missing", {"a"})  # no folder yet: nothing to do, no error
