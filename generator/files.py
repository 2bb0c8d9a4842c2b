"""Writing generated files: only when their bytes change, never half-written; removing the stale ones.

The one atomic writer (write_if_changed) and the one stale-file sweep (sweep_stale) of the
render, open-data and engine stages.
"""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path
from typing import Any, Callable


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; returns whether it wrote.

    An unchanged file keeps its mtime (so incremental builds skip it); a changed one is
    replaced atomically, so a reader of a served folder never sees half a file.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == len(data) and fh.read() == data:
                return False
    except OSError:
        pass
    folder, base = os.path.split(name)
    tmp = os.path.join(folder, f".{base}.tmp-{os.getpid()}")
    try:
        fh = open(tmp, "wb")
    except FileNotFoundError:  # a new folder (the common case needs no mkdir call)
        os.makedirs(folder or os.curdir, exist_ok=True)
        fh = open(tmp, "wb")
    with fh:
        fh.write(data)
    os.replace(tmp, name)
    return True


def write_json_if_changed(path: Path, value: Any, **dump_options: Any) -> bool:
    """write_if_changed for a large JSON document, without ever holding its text in memory.

    The JSON is encoded straight into a temporary file (json.dump writes it piece by piece)
    and compared with the old file block by block; at 100,000 records the build's block
    and page lists are each hundreds of MB as one string, and twice that as one string
    plus its bytes.
    """
    name = os.fspath(path)
    folder, base = os.path.split(name)
    os.makedirs(folder or os.curdir, exist_ok=True)
    tmp = os.path.join(folder, f".{base}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(value, fh, **dump_options)
    filecmp.clear_cache()  # its cache is keyed by size and mtime, which a new temporary file may share
    try:
        same = filecmp.cmp(tmp, name, shallow=False)
    except OSError:
        same = False
    if same:
        os.unlink(tmp)
        return False
    os.replace(tmp, name)
    return True


def sweep_stale(root: Path, produced: set[Path], skip: Callable[[Path], bool] = lambda rel: False) -> int:
    """Remove every file under root that is not in `produced` (and folders left empty);
    `skip(relative path)` protects what other stages write there. Returns files removed."""
    removed = 0
    for path in sorted(Path(root).rglob("*"), reverse=True):  # children before their folders
        rel = path.relative_to(root)
        if skip(rel):
            continue
        if path.is_dir() and not path.is_symlink():
            try:
                path.rmdir()  # only when empty
            except OSError:
                pass
        elif path not in produced:
            path.unlink()
            removed += 1
    return removed
