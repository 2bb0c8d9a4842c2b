"""Packs: many pages in one file, written and read as a stream.

The render stage hands the engine thousands of pages (record and department pages as
HTML, the raw HTML blocks of list pages). As one file each they cost an open, a write
and a rename per page on each side, and a manifest of all pages read whole into memory.
A pack is one file with one entry per page, written while rendering and read back
entry by entry: neither side ever holds all pages.

An entry is::

    <key> TAB <n> TAB <meta: a JSON object on one line> LF <body: n bytes> LF

The key (a URL or a docs path: no tab, no line break) and the body's size come first, so
a scan of the keys skips the JSON and the bodies; the body is stored as it is (HTML in
UTF-8), so it is neither escaped on writing nor decoded on reading.

PackWriter keeps "write only when changed": it writes a temporary file beside the pack,
counts the entries whose bytes differ from the old pack's entry of the same key (new
keys included) and the old keys no longer written, and replaces the pack only when its
bytes differ (an unchanged pack keeps its mtime). On an exception the old pack is left
exactly as it was.

EntryKeys remembers, between builds, which entries of a pack are already right: the key
(a digest of its inputs) each entry was made from, so that a rebuild copies the entries
whose key did not change (PackWriter.copy) instead of making them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator

from generator.files import write_if_changed

_BUFFER = 1 << 20
_copy_range = getattr(os, "copy_file_range", None)  # Linux (Python 3.8+)


class PackError(ValueError):
    """A pack that is not in the format above (a truncated or foreign file)."""


def _meta_bytes(meta: dict) -> bytes:
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _head(line: bytes) -> tuple[bytes, int, bytes]:
    try:
        key, size, meta = line.split(b"\t", 2)
        return key, int(size), meta
    except ValueError:
        raise PackError(f"not a pack entry: {line[:80]!r}") from None


def entries(path: Path, *, bodies: bool = True, raw_meta: bool = False) -> Iterator[tuple[str, dict, bytes | None]]:
    """(key, meta, body) of each entry in order; with bodies=False the bodies are skipped
    (body None), which reads little more than the entries' first lines; with raw_meta the
    meta comes as the entry's bytes of it (the JSON text), not parsed."""
    with open(path, "rb", buffering=_BUFFER) as fh:
        pos = 0
        while line := fh.readline():
            key, size, meta = _head(line)
            pos += len(line) + size + 1
            if bodies:
                body = fh.read(size + 1)
                if len(body) != size + 1 or body[-1:] != b"\n":
                    raise PackError(f"{path}: the entry {key.decode('utf-8', 'replace')} is cut short")
                body = body[:-1]
            else:
                fh.seek(pos)
                body = None
            yield key.decode("utf-8"), meta if raw_meta else json.loads(meta), body


def lazy_entries(path: Path, *, raw_meta: bool = False) -> Iterator[tuple[str, dict | bytes, Callable[[], bytes]]]:
    """(key, meta, body) of each entry in order, the body as a function that reads it, good
    until the next entry is taken: a reader that needs few of the bodies (a rebuild's stamping,
    which knows an unchanged page by its meta) reads little more than the entries' first lines.
    A pack whose last entry is cut short raises PackError at the end, read or not."""
    with open(path, "rb", buffering=_BUFFER) as fh:
        size_of_file = os.fstat(fh.fileno()).st_size
        pos = 0
        while line := fh.readline():
            key, size, meta = _head(line)
            start, pos = pos + len(line), pos + len(line) + size + 1
            name = key.decode("utf-8")

            def body(start: int = start, size: int = size, name: str = name) -> bytes:
                fh.seek(start)
                data = fh.read(size + 1)
                if len(data) != size + 1 or data[-1:] != b"\n":
                    raise PackError(f"{path}: the entry {name} is cut short")
                return data[:-1]

            yield name, meta if raw_meta else json.loads(meta), body
            fh.seek(pos)
        if pos != size_of_file:
            raise PackError(f"{path}: the last entry is cut short")


def _index(fh, file_size: int) -> dict[str, tuple[int, int]]:
    """key → (offset, length) of each entry of an open pack of file_size bytes."""
    index: dict[str, tuple[int, int]] = {}
    pos = 0
    while line := fh.readline():
        key, size, _ = _head(line)
        length = len(line) + size + 1
        index[key.decode("utf-8")] = (pos, length)
        pos += length
        fh.seek(pos)
    if pos != file_size:
        raise PackError("the last entry is cut short")
    return index


class PackWriter:
    """Writes a pack entry by entry; use as a context manager (commit on success, discard on error)."""

    def __init__(self, path: Path):
        self.path = os.fspath(path)
        folder, base = os.path.split(self.path)
        os.makedirs(folder or os.curdir, exist_ok=True)
        self._tmp = os.path.join(folder, f".{base}.tmp-{os.getpid()}")
        self._old = None
        self._index: dict[str, tuple[int, int]] = {}
        self._old_size = -1
        try:
            self._old = open(self.path, "rb", buffering=_BUFFER)
            self._old_size = os.fstat(self._old.fileno()).st_size
            self._index = _index(self._old, self._old_size)
        except FileNotFoundError:
            pass
        except (PackError, UnicodeDecodeError):  # not a pack after all: every entry counts as new
            self._index = {}
        self._out = open(self._tmp, "wb", buffering=_BUFFER)
        self._seen: set[str] = set()
        self._pos = 0
        self._aligned = True  # so far every entry is the old pack's, at the same offset
        self._run: list[int] | None = None  # [offset, length] of old entries copied but not yet written
        self.changed = 0  # entries new or different from the old pack's
        self.removed = 0  # old keys not written (known after commit)

    @property
    def unchanged(self) -> int:
        """Entries written that are the old pack's, byte for byte."""
        return len(self._seen) - self.changed

    def has(self, key: str) -> bool:
        """Whether the old pack holds an entry for key (see copy)."""
        return key in self._index

    def add(self, key: str, meta: dict, body: bytes) -> None:
        if "\t" in key or "\n" in key:
            raise ValueError(f"a pack key holds a tab or a line break: {key!r}")
        entry = b"%s\t%d\t%s\n%s\n" % (key.encode("utf-8"), len(body), _meta_bytes(meta), body)
        old = self._index.get(key)
        same = old is not None and old[1] == len(entry) and self._read(old) == entry
        self._count(key, len(entry), same)
        self._write_run()
        self._out.write(entry)

    def copy(self, key: str) -> None:
        """The old pack's entry for key, as it is (a page known not to have changed). Entries
        copied one after the other from one stretch of the old pack are written in one go
        (a rebuild copies thousands of letters and pages: one read and write per entry cost
        more than the bytes)."""
        offset, length = self._index[key]
        self._count(key, length, True)
        run = self._run
        if run is not None and run[0] + run[1] == offset:
            run[1] += length
        else:
            self._write_run()
            self._run = [offset, length]

    def _read(self, where: tuple[int, int]) -> bytes:
        self._old.seek(where[0])
        return self._old.read(where[1])

    def _write_run(self) -> None:
        """Write the old pack's entries copied since the last write (see copy)."""
        if self._run is None:
            return
        offset, length = self._run
        self._run = None
        if _copy_range is not None:  # the kernel copies between the files: no bytes through Python
            self._out.flush()
            pos = self._out.tell()
            try:
                while length:
                    done = _copy_range(self._old.fileno(), self._out.fileno(), length, offset, pos)
                    if not done:
                        raise PackError(f"{self.path}: cut short while being copied")
                    offset, pos, length = offset + done, pos + done, length - done
            except OSError:  # a file system that cannot (EXDEV, EINVAL …): the rest by read and write
                pass
            self._out.seek(pos)
            if not length:
                return
        self._old.seek(offset)
        while length:
            block = self._old.read(min(length, 8 * _BUFFER))
            if not block:
                raise PackError(f"{self.path}: cut short while being copied")
            self._out.write(block)
            length -= len(block)

    def _count(self, key: str, length: int, same: bool) -> None:
        """Account for an entry of `length` bytes written next: `same` when it is the old pack's."""
        if key in self._seen:
            raise ValueError(f"two sources for one page: {key}")
        self._seen.add(key)
        if not same:
            self.changed += 1
            self._aligned = False
        elif self._aligned and self._index[key][0] != self._pos:
            self._aligned = False
        self._pos += length

    def commit(self) -> bool:
        """Put the new pack in place unless its bytes are the old one's; returns whether it was replaced."""
        try:
            self._write_run()
        except BaseException:
            self.discard()
            raise
        self._out.close()
        self.removed = sum(1 for k in self._index if k not in self._seen)
        if self._old is not None:
            self._old.close()
        if self._aligned and self._pos == self._old_size:  # every old byte, at its place, and nothing more
            os.unlink(self._tmp)
            return False
        os.replace(self._tmp, self.path)
        return True

    def discard(self) -> None:
        self._out.close()
        if self._old is not None:
            self._old.close()
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "PackWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class EntryKeys:
    """Which entries of the pack a PackWriter is writing are already right: per entry the key
    it was made from, kept in a JSON file (`path`) under `common` (a digest of the inputs all
    entries share) and the identity of the pack file the keys describe (a replaced pack is
    another file: another inode). An entry counts as right (fresh) only when its key is the
    one saved, the common digest is the one saved, and the pack is still the file saved. A
    damaged, foreign or stale file gives no keys: every entry is made again. Only the keys of
    this build's entries are saved (an entry not written again leaves the file).

    companions: other files the entries depend on (name → path), whose identities are saved
    too; `same` names those still the files saved. `section`: the name of the entries in the
    JSON file."""

    def __init__(self, path: Path, common: str, writer: PackWriter, section: str,
                 companions: dict[str, Path] | None = None):
        self.path, self.common, self.pack, self.section = Path(path), common, writer, section
        self.companions = dict(companions or {})
        self.old: dict[str, str] = {}
        self.new: dict[str, str] = {}
        self.same: set[str] = set()
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            if saved.get("common") == common and saved.get("pack") == _identity(writer.path):
                old = saved.get(section, {})
                if isinstance(old, dict):
                    self.old = old
                self.same = {name for name, other in self.companions.items()
                             if saved.get(name) == _identity(other)}
        except (OSError, ValueError, AttributeError):
            pass

    def fresh(self, entry: str, key: str) -> bool:
        """Whether the last pack's entry was made from key (the writer may copy it); then it is kept."""
        if self.old.get(entry) != key or not self.pack.has(entry):
            return False
        self.new[entry] = key
        return True

    def made(self, entry: str, key: str) -> None:
        """The entry was made (written anew) from key."""
        self.new[entry] = key

    def save(self) -> None:
        """After the pack (and its companions) are in place: the file names the files it describes."""
        data = {"common": self.common, "pack": _identity(self.pack.path),
                **{name: _identity(other) for name, other in self.companions.items()},
                self.section: dict(sorted(self.new.items()))}
        write_if_changed(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"))


def _identity(path) -> list[int] | None:
    """Which file is at path: inode, size and mtime (None when there is none)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]
