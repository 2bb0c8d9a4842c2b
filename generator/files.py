"""Writing generated files: only when their bytes change, and never half-written."""

from __future__ import annotations

import os
from pathlib import Path


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; returns whether it wrote.

    An unchanged file keeps its mtime (so incremental builds skip it); a changed one is
    replaced atomically, so a reader of a served folder never sees half a file.
    """
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True
