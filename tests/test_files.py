"""The one atomic writer: a file is rewritten only when its bytes change, never half-written."""

import json
import os
from pathlib import Path

from generator.files import write_if_changed, write_json_if_changed


def test_a_file_is_written_only_when_its_bytes_change(tmp_path: Path):
    path = tmp_path / "new" / "page.html"
    assert write_if_changed(path, b"<p>a</p>")
    before = path.stat().st_mtime_ns
    assert not write_if_changed(path, b"<p>a</p>")
    assert path.stat().st_mtime_ns == before
    assert write_if_changed(path, b"<p>b</p>") and path.read_bytes() == b"<p>b</p>"
    assert [p.name for p in path.parent.iterdir()] == ["page.html"]  # no temporary file left


def test_large_json_is_streamed_to_the_same_bytes_as_dumps_and_kept_when_unchanged(tmp_path: Path):
    value = {"页面/index.md": ["<table>" + "<tr><td>站前区</td></tr>" * 2000 + "</table>"], "b": [1, 2.5, None, "\u2028"]}
    options = dict(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    path = tmp_path / "build" / "blocks.json"
    assert write_json_if_changed(path, value, **options)
    assert path.read_bytes() == json.dumps(value, **options).encode("utf-8")
    os.utime(path, ns=(1, 1))
    assert not write_json_if_changed(path, value, **options)
    assert path.stat().st_mtime_ns == 1  # unchanged: left alone
    value["b"].append("改")
    assert write_json_if_changed(path, value, **options)
    assert json.loads(path.read_text(encoding="utf-8")) == value
    assert sorted(p.name for p in path.parent.iterdir()) == ["blocks.json"]
