"""Writing generated files: only when their bytes change, never half-written; removing the stale ones.

The one atomic writer (write_if_changed) and the one stale-file sweep (sweep_stale) of the
render, open-data and engine stages; a cache folder of one file per key keeps only the
current keys' files (remove_unused). Thousands of pages handed from one stage to the next
go into one file instead, written the same way: generator/pack.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


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


def remove_unused(folder: str | Path, used: set[str]) -> None:
    """Remove every file directly in `folder` whose name is not in `used` (a cache of one file
    per key keeps only what this build used). A missing folder or file is no error."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name not in used:
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
