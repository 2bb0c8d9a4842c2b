"""What a rebuild may take from the last build instead of making it again.

Two things, both kept in the build folder's cache (build/.cache/engine*) and both
checked before use, so that a stale cache costs a rebuild, never a wrong file:

* **The engine's output** (``Snapshot``): what MkDocs wrote (the Markdown pages, the
  shells, the theme's files, search index and sitemap before the stamped pages are
  added), its pages already trimmed and linked to the cut stylesheet, kept as hard
  links after every MkDocs run, with a key digesting everything that output depends
  on: the engine's configuration, the theme overrides, every Markdown source, the
  names of the other files in docs/ (MkDocs copies them as they are, so their bytes
  are taken from docs/ each time, never from the snapshot; the scripts and HTML files
  among them, which the trimming reads, whole), the shells, the pinned build date, the
  versions of the engine's packages, this package's code and the texts the stylesheet
  cut reads. When the key matches, MkDocs does not run: its files are linked into the
  new site and everything after the trimming runs exactly as after a MkDocs run.
* **The files the engine wrote from bytes of the current site** (``StampRecord``): the
  stamped pages and the letters, per site-relative path the SHA-256 of the bytes and
  the file's identity (device, inode, mtime, size) as the engine left it. A file whose
  new bytes have the same digest, at a path whose file still has that identity in the
  published site, is hard-linked from it instead of written: one directory entry
  instead of a new file (8,300 pages and 8,200 letters at 10,000 records). The record
  is saved only after the new site is in place. The digests are the manifest's too
  (``StampRecord.written``): the files need not be read back.

Hard links are safe because no step writes into a site file in place: every writer
of the engine and the later steps replaces a file (a new inode), see ``replace_bytes``.

A third thing is kept, which holds nothing the published site does not: **the folders of
the current site** (``Spare``), with the files the published site shares. The site has a
folder per record (8,300 at 10,000 records); making them for every build and removing
the old site's after the swap cost about as much as the rest of the engine stage. After
the swap the old site is emptied instead: every folder the new site does not have is
removed, and every file unlinked but the stamped pages and letters that are the new
site's very files (hard links to the same inode: an unchanged page of the new site was
linked from the old one); those stay, listed with their inodes (``SPARE_FILES``). The
next build moves the engine's output (a few hundred files) into the spare, uses it as
its site folder and takes each kept file whose identity is still the one the stamp
record holds for an unchanged page as it is: no link into the new site and no unlink
from the old one for 16,500 files. Every kept file the build does not take is unlinked
before the site is swapped (a record that left the site, a changed page), and the
folders that stayed empty are removed. A spare that holds anything but the folders and
files keep() listed is not used; a folder that did not change since keep() listed it (its
change time) is not even read (``_listed_tree``): one lstat per folder instead of reading
8,300 folders.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import shutil
import stat
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

from generator import collector
from generator.engine import search, stylesheet
from generator.files import write_if_changed

#: Under the build folder (publish.CACHE_DIR is ".cache").
SNAPSHOT_DIR = os.path.join(".cache", "engine-output")
SNAPSHOT_KEY = os.path.join(".cache", "engine-output.json")
# The three big caches of a rebuild (16,500, 8,300 and 16,500 entries at 10,000 records) are
# marshal files: plain values only (no code runs on reading one), read and written several
# times faster than JSON. A damaged or foreign file is ignored, as a JSON one was; the JSON
# files of earlier builds are removed when the new ones are saved.
STAMP_RECORD = os.path.join(".cache", "engine-stamped.marshal")
SEARCH_ENTRIES = os.path.join(".cache", "engine-search.marshal")
SEARCH_WORDS = os.path.join(".cache", "engine-search-words.marshal")  # search.Lexicon's index of jieba's dictionary
SPARE_DIR = os.path.join(".cache", "site-folders")
SPARE_FILES = os.path.join(".cache", "site-folders.marshal")  # the spare's folders and files (Spare.keep)
_SPARE_FORMAT = 2  # 1: its files only (path → inode), every folder read to check them
#: How much earlier than keep() began a spare folder's change time must be for adopt() to
#: take the folder as listed without reading it: file systems stamp changes with a coarse
#: clock (a kernel tick; a second or two on some).
_CLOCK_MARGIN_NS = 2_000_000_000
#: The same where the file system stamps changes to the nanosecond (ext4, XFS, btrfs, tmpfs:
#: StampRecord.settle sees a change time with a fraction of a second): its clock is then the
#: kernel's coarse clock, at most one tick (10 ms at the slowest kernel timer, 100 Hz) behind ours.
_FINE_CLOCK_MARGIN_NS = 100_000_000
_MARSHAL_ERRORS = (EOFError, ValueError, TypeError)
STYLESHEET_CUT = os.path.join(".cache", "engine-stylesheet.json")  # stylesheet.cut_theme_stylesheet
_FORMAT = 1
_STAMP_FORMAT = 4  # 1: SHA-1 per URL of the stamped pages only; 2: without the stamped pages' sources;
# 3: without the page folders that held nothing else (StampRecord.settle)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_PAGE = "index.html"  # a stamped page's file in its folder
#: Packages whose code makes the engine's output.
_ENGINE_PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jieba", "jinja2", "backrefs",
                    "tinycss2")


def replace_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write data to path as a new file (the old one unlinked first, never truncated): the
    old file may be a hard link into the published site or into the engine's snapshot."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    with open(path, "xb") as fh:
        fh.write(data)


def open_new(path: str | os.PathLike, buffering: int = -1):
    """open(path, "wb") for a file that may be a hard link: the old file is unlinked first."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return open(path, "xb", buffering=buffering)


# --- the engine's output ------------------------------------------------------------------


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _digest_tree(digest, root: Path, label: str) -> None:
    root_s = os.fspath(root)
    for dirpath, dirnames, names in os.walk(root_s):
        dirnames.sort()
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                data = fh.read()
            digest.update(f"{label}:{os.path.relpath(path, root_s)}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
            digest.update(data)


def engine_key(build_dir: Path, docs: Path, overrides: Path | None, base_config: Path | None,
               shells: dict[str, str], epoch: int, code_folders: Iterable[Path] = ()) -> tuple[str, list[str]]:
    """(the key of MkDocs' output for these inputs, as the engine trims it, the non-Markdown
    files of docs/).

    The Markdown sources are digested whole; the other files of docs/ by name only: MkDocs
    copies them into the site as they are, and a rebuild that reuses its output links them
    from docs/ (their current bytes). The snapshot holds the pages trimmed and linked to
    the cut stylesheet (build._trim_engine_pages), which also reads the scripts and HTML
    files of docs/ and the texts of `code_folders` (stylesheet.source_texts): those are
    digested whole too."""
    digest = hashlib.sha256()
    digest.update(repr((_FORMAT, sys.version, [(n, _version(n)) for n in _ENGINE_PACKAGES], epoch,
                        sorted(shells.items()))).encode("utf-8"))
    for text in stylesheet.source_texts(code_folders):
        data = text.encode("utf-8", "surrogateescape")
        digest.update(b"source\0%d\0%s" % (len(data), data))
    for path in (Path(build_dir) / "mkdocs.yml", base_config):
        if path is not None:
            digest.update(b"config\0" + Path(path).read_bytes() + b"\0")
    if overrides is not None and Path(overrides).is_dir():
        _digest_tree(digest, Path(overrides), "overrides")
    here = Path(__file__).resolve().parent
    for code in sorted(here.glob("*.py")) + [here.parent / "offline.py", here.parent / "files.py"]:
        digest.update(b"code\0" + code.name.encode() + b"\0" + code.read_bytes())
    statics: list[str] = []
    docs_s = os.fspath(docs)
    for dirpath, dirnames, names in os.walk(docs_s):
        dirnames.sort()
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, docs_s).replace(os.sep, "/")
            markdown = name.endswith(".md")
            if not markdown:
                statics.append(rel)
            if markdown or name.endswith((".js", ".html")):  # read by the trimming too: whole
                with open(path, "rb") as fh:
                    data = fh.read()
                label = "md" if markdown else "read"
                digest.update(f"{label}:{rel}\0{len(data)}\0".encode("utf-8", "surrogateescape") + data)
            else:
                digest.update(f"file:{rel}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest(), statics


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


class Snapshot:
    """MkDocs' output kept in build/.cache/engine-output (see the module docstring)."""

    def __init__(self, build_dir: Path):
        self.dir = Path(build_dir) / SNAPSHOT_DIR
        self.key_file = Path(build_dir) / SNAPSHOT_KEY

    def matches(self, key: str) -> dict | None:
        try:
            saved = json.loads(self.key_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("key") != key or not self.dir.is_dir():
            return None
        return saved

    def restore(self, saved: dict, docs: Path, site_dir: Path) -> None:
        """The engine's output into site_dir: its own files linked from the snapshot, the
        files it copied from docs/ linked from docs/ (today's bytes)."""
        snap, site, docs_s = os.fspath(self.dir), os.fspath(site_dir), os.fspath(docs)
        for dirpath, _dirnames, names in os.walk(snap):
            rel = os.path.relpath(dirpath, snap)
            folder = site if rel == os.curdir else os.path.join(site, rel)
            os.makedirs(folder, exist_ok=True)
            for name in names:
                _link_or_copy(os.path.join(dirpath, name), os.path.join(folder, name))
        for rel in saved["from_docs"]:
            target = os.path.join(site, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _link_or_copy(os.path.join(docs_s, rel), target)

    def save(self, key: str, statics: list[str], site_dir: Path, site_url: str, extra: dict | None = None) -> None:
        """Keep what MkDocs just wrote into site_dir (hard links) under key, with `extra` (plain
        values, kept in the key file). The key file goes first and comes back last: an
        interrupted save leaves no key, so no reuse."""
        self.key_file.unlink(missing_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        site = os.fspath(site_dir)
        copied = set(statics)
        from_docs: list[str] = []
        for leftover in self.dir.parent.glob(self.dir.name + ".tmp-*"):  # of an interrupted save
            shutil.rmtree(leftover, ignore_errors=True)
        tmp = self.dir.with_name(self.dir.name + f".tmp-{os.getpid()}")
        tmp_s = os.fspath(tmp)
        for dirpath, dirnames, names in os.walk(site):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, site)
            for name in sorted(names):
                rel = name if rel_dir == os.curdir else os.path.join(rel_dir, name)
                posix = rel.replace(os.sep, "/")
                if posix in copied:  # MkDocs' copy of a file of docs/: taken from docs/ on reuse
                    from_docs.append(posix)
                    continue
                target = os.path.join(tmp_s, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                _link_or_copy(os.path.join(dirpath, name), target)
        os.makedirs(tmp_s, exist_ok=True)
        os.rename(tmp, self.dir)
        data = json.dumps({**(extra or {}), "key": key, "site_url": site_url, "from_docs": from_docs},
                          ensure_ascii=False).encode("utf-8")
        write_if_changed(self.key_file, data)

    def forget(self) -> None:
        self.key_file.unlink(missing_ok=True)


# --- the stamped pages of the current site -------------------------------------------------


class StampRecord:
    """Which files the engine wrote from bytes (stamped pages, letters) a new build may link
    from the published site (module docstring), and the SHA-256 of each file it put."""

    def __init__(self, build_dir: Path, previous_site: Path | None):
        self.path = Path(build_dir) / STAMP_RECORD
        self.previous = os.fspath(previous_site) if previous_site is not None else None
        self.old: dict[str, list] = {}
        self.new: dict[str, list] = {}
        #: site-relative path → SHA-256 of every file put that is world-readable (0644)
        #: already: the manifest takes these digests and modes as they are.
        self.written: dict[str, str] = {}
        self.linked = 0
        #: Files already in the site folder (the spare's, see Spare): site-relative path → inode.
        #: Each is taken as it is (link) or replaced (put); drop_unclaimed() removes the rest.
        self.present: dict[str, int] = {}
        #: Set by settle(): the page folders this build made that hold their page alone, and
        #: the moment after which any change to one of them has a later change time (or None).
        self.plain: list[str] = []
        self.settled: int | None = None
        #: The published site's page folders of that kind, as the last build left them: folder →
        #: the inode of its page, and the change time a folder still so must be earlier than.
        self.old_plain: dict[str, int] = {}
        self.old_settled: int | None = None
        if self.previous is None:
            return
        saved = _load(self.path)
        if (isinstance(saved, dict) and saved.get("format") == _STAMP_FORMAT and saved.get("site") == self.previous
                and isinstance(saved.get("files"), dict)):
            self.old = saved["files"]
            settled, plain = saved.get("settled"), saved.get("plain")
            if isinstance(settled, int) and isinstance(plain, str):
                for folder in plain.split("\0") if plain else ():  # no name holds a NUL
                    entry = self.old.get(folder + "/" + _PAGE)
                    if isinstance(entry, list) and len(entry) > 2:
                        self.old_plain[folder] = entry[2]
                self.old_settled = settled

    def link(self, rel: str, target: str, source: str) -> bool:
        """Link target from the published site's file at `rel` when that file was made from
        the same `source` (a digest of everything its bytes are made from: see
        build._stamp_all) and is still the file the last build left; whether it did. Spares
        making the bytes, and their digest, of a page that did not change."""
        entry = self.old.get(rel)
        if entry is None or len(entry) < 6 or entry[5] != source:
            return False
        if self.present.pop(rel, None) is not None:  # the spare's file: the published one itself?
            st = _recorded(target, entry)
            if st is not None:
                self._put(rel, entry, st.st_mode)
                self.linked += 1
                return True
            try:
                os.unlink(target)
            except OSError:
                return False
        src = os.path.join(self.previous, rel)
        try:
            st = os.stat(src)
            if [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size] != entry[1:5]:
                return False
            os.link(src, target)
        except OSError:  # gone, or a target already there: put() sorts it out
            return False
        self._put(rel, entry, st.st_mode)
        self.linked += 1
        return True

    def put(self, rel: str, target: str, data: bytes | Callable[[], bytes], *, exclusive: bool = False,
            source: str | None = None, digest: str | None = None) -> None:
        """Write `data` to target (a new file), or link it from the published site when that
        site's file at `rel` (site-relative path) holds exactly these bytes. An existing
        target is replaced, or with `exclusive` left alone (FileExistsError). `source`: what
        the bytes were made from (see link), kept for the next build. `data` may be a function
        that reads the bytes, with `digest` their SHA-256: then they are read only to be written
        (and their digest is checked against it)."""
        if digest is None or not callable(data):
            data = data() if callable(data) else data
            digest = hashlib.sha256(data).hexdigest()
        entry = self.old.get(rel)
        extra = [source] if source is not None else []
        same = entry is not None and entry[0] == digest
        if self.present.pop(rel, None) is not None:  # the spare's file: the published one, these bytes?
            st = _recorded(target, entry) if same else None
            if st is not None:
                self._put(rel, entry[:5] + extra, st.st_mode)
                self.linked += 1
                return
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
        if same:
            src = os.path.join(self.previous, rel)
            try:
                st = os.stat(src)
                if [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size] == entry[1:5]:
                    os.link(src, target)
                    self._put(rel, entry[:5] + extra, st.st_mode)
                    self.linked += 1
                    return
            except FileExistsError:
                if exclusive:
                    raise
            except OSError:
                pass
        if callable(data):
            data = data()
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError(f"{rel}: the bytes are not those of the digest given with them")
        # Plain os calls: open() would add an fstat, an ioctl and an lseek per file (16,500 files).
        try:
            fd = os.open(target, _NEW_FILE, 0o666)
        except FileExistsError:  # never write into an existing (possibly linked) file
            if exclusive:
                raise
            os.unlink(target)
            fd = os.open(target, _NEW_FILE, 0o666)
        try:
            view, done = memoryview(data), 0
            while done < len(data):
                done += os.write(fd, view[done:])
            st = os.fstat(fd)  # after the last write: its mtime is the file's last
        finally:
            os.close(fd)
        self._put(rel, [digest, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size] + extra, st.st_mode)

    def drop_unclaimed(self, site: str) -> set[str]:
        """Unlink the files of the site folder nobody put or linked (the spare's pages of
        records no longer on the site): a build's site holds only what this build made.
        Returns the folders they were in (paths under site)."""
        folders: set[str] = set()
        for rel in self.present:
            path = os.path.join(site, rel)
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            folders.add(os.path.dirname(path))
        self.present.clear()
        return folders

    def _put(self, rel: str, entry: list, mode: int) -> None:
        self.new[rel] = entry
        if stat.S_IMODE(mode) == 0o644:
            self.written[rel] = entry[0]

    def settle(self, site: str, plain: Iterable[str]) -> None:
        """Note, once the last page is in place, the page folders (site-relative) that hold their
        page alone (build.EngineResult.folders), and the moment that makes them known without
        reading them when this site is replaced (Spare.keep): a folder whose change time (any
        entry added, removed or renamed sets it to the current time; nobody can set it back) is
        earlier than that moment less the file system's clock granularity holds what it held
        now. The site folder's own change time, set here (its mode set to the 0755 it gets
        anyway, sitedir.readable_files), shows that granularity, and a file system clock
        behind ours: then no moment is noted and every folder is read."""
        before = time.time_ns()
        try:
            os.chmod(site, 0o755)
            changed = os.lstat(site).st_ctime_ns
        except OSError:
            return
        margin = _FINE_CLOCK_MARGIN_NS if changed % 1_000_000_000 else _CLOCK_MARGIN_NS
        # Behind by more than half the margin: a change after this moment, stamped by a clock that
        # far behind and up to a tick coarser, could seem earlier than the margin allows.
        if changed < before - margin // 2:
            return
        self.plain = sorted(plain)
        self.settled = before - margin

    def save(self, site: Path) -> None:
        """After the new site is in place at `site` (its files keep their identities)."""
        saved = {"format": _STAMP_FORMAT, "site": os.fspath(site), "files": self.new}
        if self.settled is not None:
            saved.update(settled=self.settled, plain="\0".join(self.plain))
        _save(self.path, saved)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


def _recorded(path: str, entry: list) -> os.stat_result | None:
    """path's status when it is the file a stamp record's entry names (device, inode, mtime, size)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size] == entry[1:5] else None


# --- the stamped pages' search entries ------------------------------------------------------


class SearchEntries:
    """The stamped pages' search index entries of the last build, by URL, each with the
    digest of the title and text it was made from: an unchanged page's entry is taken as
    it was, so a rebuild does not segment 8,300 pages' text with jieba again (nor load
    its dictionary, when MkDocs does not run either). Valid for this jieba and this
    segmentation code only (the file's "common" digest). The runs no entry had are cut with
    search.Lexicon, which spares a rebuild jieba's dictionary too."""

    def __init__(self, build_dir: Path):
        self.path = Path(build_dir) / SEARCH_ENTRIES
        self.lexicon = search.Lexicon(Path(build_dir) / SEARCH_WORDS)
        here = Path(__file__).resolve().parent
        self.common = hashlib.sha1(repr((_FORMAT, _version("jieba"), (here / "search.py").read_bytes(),
                                         (here / "build.py").read_bytes())).encode()).hexdigest()
        self.old: dict[str, list] = {}
        self.new: dict[str, list] = {}
        self.words: dict[str, str] | None = None
        saved = _load(self.path)
        if isinstance(saved, dict) and saved.get("common") == self.common and isinstance(saved.get("entries"), dict):
            self.old = saved["entries"]

    def made_from(self, url: str, source: str) -> str | None:
        """The last build's entry for url when its page was made from the same `source` (the
        stamp loop's digest of the page's pack entry, which holds its title and search text),
        else None: an unchanged page's entry without parsing its entry's JSON or digesting its
        text again."""
        old = self.old.get(url)
        if old is not None and len(old) > 3 and old[3] == source:
            self.new[url] = old
            return old[1]
        return None

    def entry(self, url: str, title: str, text: str, make, source: str | None = None) -> str:
        """The entry for url: the last build's when title and text are the same, else
        make(segment), with a segment(text) that cuts the Chinese runs the last build
        already cut without jieba (a changed page mostly repeats its old words). `source`:
        what the page was made from, kept for made_from."""
        key = hashlib.sha1(f"{title}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
        old = self.old.get(url)
        if old is not None and old[0] == key:
            self.new[url] = old if source is None or old[3:] == [source] else [*old[:3], source]
            return old[1]
        used: list[str] = []
        known = self._known()
        if self.old:  # else every page is new: jieba's dictionary is the cheaper way
            new = {run for part in (title, text) for run in search.runs(part) if run not in known}
            known.update(self.lexicon.cut(new))
        value = make(lambda part: search.segment(part, known, used))
        self.new[url] = [key, value, sorted(set(used))] + ([source] if source is not None else [])
        return value

    def _known(self) -> dict[str, str]:
        """Run → its words, for every run of the last build's entries (a run is its words
        without the U+200B between them: jieba keeps every character)."""
        if self.words is None:
            self.words = {w.replace("\u200b", ""): w for entry in self.old.values() if len(entry) > 2
                          for w in entry[2]}
        return self.words

    def save(self) -> None:
        self.lexicon.keep()
        if self.new == self.old:
            return
        _save(self.path, {"common": self.common, "entries": self.new})


# --- the folders of the current site -------------------------------------------------------


class Spare:
    """The bare folder tree of the last published site (module docstring)."""

    def __init__(self, build_dir: Path):
        self.path = os.fspath(Path(build_dir) / SPARE_DIR)
        self.list_path = os.fspath(Path(build_dir) / SPARE_FILES)
        #: Set before the swap: the new site's stamped pages and letters (StampRecord.new: path →
        #: [digest, device, inode, ...]); keep() leaves those of the old site that are the same files.
        self.shared: dict[str, list] | None = None
        #: After adopt(): the spare's files now in the site folder, path → inode (StampRecord.present).
        self.files: dict[str, int] = {}
        #: Set before the swap: the old site's page folders known without reading them
        #: (StampRecord.old_plain, old_settled), for keep().
        self.known: tuple[dict[str, int], int] | None = None
        #: After adopt(): the spare's folders (site-relative) that are 0755, have no subfolder
        #: and got none of the engine's output → the names of the spare's files in them: a
        #: page's folder whose every file the engine puts is as known as one it made (see
        #: build.EngineResult.folders).
        self.plain: dict[str, list[str]] = {}

    def adopt(self, site_dir: Path) -> list[str] | None:
        """Put the spare folders in place of site_dir; returns those of them that hold nothing
        (paths under site_dir) for prune(), or None when there is no usable spare. A spare
        that holds anything but its folders and the files keep() listed is removed, not used.
        The spare's files are in self.files.

        site_dir is empty, or holds what MkDocs just wrote (a few hundred files): those are
        moved into the spare's folders first, then the spare takes site_dir's place."""
        self.files = {}
        self.plain = {}
        plain: dict[str, list[str]] = {}
        found = _listed_tree(self.path, _load(self.list_path), plain)
        if found is None:
            self.forget()
            return None
        empty, files = found
        site = os.fspath(site_dir)
        moves = _moves(site, self.path)
        if moves is None:  # a file where the spare has a folder or a file: not worth sorting out
            self.forget()
            return None
        for _src, dst in moves:  # the engine's output moved in: those folders hold more
            if dst is not None:
                rel = os.path.relpath(os.path.dirname(dst), self.path).replace(os.sep, "/")
                plain.pop(rel, None)
                empty.discard(rel)
        try:
            for src, dst in moves:
                if dst is None:
                    os.rmdir(src)  # a folder of site_dir, emptied (its files moved before)
                else:
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    os.rename(src, dst)
            os.rename(self.path, site)  # onto the now empty site_dir
        except OSError as exc:
            # site_dir lost files to the spare: the build must not go on with it.
            self.forget()
            raise OSError(f"could not move the engine's output into the spare folders: {exc}") from exc
        _unlink(self.list_path)
        self.files = files
        self.plain = plain
        return [os.path.join(site, rel) for rel in sorted(empty)]

    @staticmethod
    def prune(folders: Iterable[str], root: str) -> None:
        """Remove those of `folders` (under root) the new site left empty, and each parent
        they leave empty in turn (a removed record's folder, say): a full build has no empty
        folder. `folders`: adopt()'s, and those of the spare's files the build dropped
        (StampRecord.drop_unclaimed); no other folder can have become empty. rmdir fails on a
        folder with anything in it."""
        root = os.path.normpath(root)
        for folder in folders:
            folder = os.path.normpath(folder)
            while folder != root and folder.startswith(root + os.sep):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)

    def keep(self, old_site: Path, new_site: Path) -> None:
        """Empty old_site (the site just replaced by new_site) into the spare: its files
        unlinked but those new_site shares (self.shared: the same inode), its folders that
        new_site does not have removed. Used as sitedir.replacing's `dispose`; on any error
        the old site is removed. Lists what stays (_listed_tree)."""
        old = os.fspath(old_site)
        shared = {rel: entry[2] for rel, entry in (self.shared or {}).items()}
        kept: dict[str, int] = {}
        folders: list[str] = []
        # Before the first change: a folder whose change time is earlier was not changed since.
        since = time.time_ns() - _CLOCK_MARGIN_NS
        try:
            self.forget()  # an unused spare (MkDocs ran), and its list first
            known, settled = self.known or ({}, 0)
            _empty(old, os.fspath(new_site), shared, kept, folders, known=known, settled=settled)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            os.rename(old, self.path)
            if os.lstat(self.path).st_ctime_ns < since:  # the file system's clock is behind ours:
                since = 0  # no folder's change time can be trusted
            _save(Path(self.list_path), {"format": _SPARE_FORMAT, "since": since, "files": kept,
                                         "folders": "\0".join(folders)})
        except OSError:
            shutil.rmtree(old, ignore_errors=True)
            self.forget()

    def forget(self) -> None:
        _unlink(self.list_path)
        shutil.rmtree(self.path, ignore_errors=True)


def _load(path: str | os.PathLike):
    """The value of a cache file of _save(); None when it is missing, damaged or foreign.

    The cyclic garbage collector is off meanwhile: a marshal value holds no cycle, and the
    tens of thousands of lists of the big caches would otherwise trigger its collections,
    up to a full one over everything the build holds (the stamp record's load at 10,000
    records: 0.07 s without, 0.1-0.3 s with them)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        # marshal.loads of the bytes, not marshal.load(fh): that reads the file object by object
        # (a read call per string), 3.5x the time for the search entries' 4.5 MB.
        with collector.paused():
            return marshal.loads(data)
    except (OSError, *_MARSHAL_ERRORS):
        return None


def _save(path: Path, value) -> None:
    """Keep value (plain values only) in the cache file path; an earlier build's JSON
    file of the same name goes (see STAMP_RECORD)."""
    write_if_changed(path, marshal.dumps(value))
    _unlink(os.fspath(Path(path).with_suffix(".json")))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _listed_tree(root: str, listing, plain: dict[str, list[str]]) -> tuple[set[str], dict[str, int]] | None:
    """The spare at root checked against keep()'s listing: (its folders that hold nothing,
    relative; its listed files that are there, relative path → inode), or None when root
    is not a folder, the listing is missing, damaged or foreign, or the spare holds
    anything else (a file not listed or not the listed one, a folder not listed, a link).
    `plain` gets each folder that is 0755 and has no subfolder → the names of its files.

    A folder whose change time (ctime: any entry added, removed or renamed, and any change
    of its mode, sets it to the current time; nobody can set it back) is earlier than the
    moment keep() began was not changed since: it holds what keep() listed, and is not
    opened. The others (those keep() changed, the top folder) are read and checked entry by
    entry. At 10,000 records that is one lstat for most of 8,300 folders instead of reading
    each."""
    if not (isinstance(listing, dict) and listing.get("format") == _SPARE_FORMAT and isinstance(listing.get("since"), int)
            and isinstance(listing.get("files"), dict) and isinstance(listing.get("folders"), str)):
        return None
    since, listed = listing["since"], listing["files"]
    folders = listing["folders"].split("\0") if listing["folders"] else []  # no name holds a NUL
    known = set(folders)
    parents = {rel.rpartition("/")[0] for rel in folders}
    empty: set[str] = set()
    files: dict[str, int] = {}
    try:
        in_folder: dict[str, list[str]] = {}
        for rel in listed:
            folder, _, name = rel.rpartition("/")
            in_folder.setdefault(folder, []).append(name)
        for rel in ("", *folders):
            path = os.path.join(root, rel) if rel else root
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode):
                return None
            prefix = rel + "/" if rel else ""
            names = in_folder.get(rel, ())
            if not rel or st.st_ctime_ns >= since:
                names = _checked_folder(path, prefix, known, listed)
                if names is None:
                    return None
            for name in names:
                files[prefix + name] = listed[prefix + name]
            if rel not in parents:
                if not names:
                    empty.add(rel)
                if rel and stat.S_IMODE(st.st_mode) == 0o755:
                    plain[rel] = list(names)
    except (OSError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return empty, files


def _checked_folder(path: str, prefix: str, folders: set[str], listed: dict) -> list[str] | None:
    """The names of the listed files in the folder at path (relative prefix), or None when it
    holds anything else: a folder not in `folders`, a file not listed or not the listed one."""
    names: list[str] = []
    with os.scandir(path) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                if prefix + entry.name not in folders:
                    return None
            elif entry.is_file(follow_symlinks=False) and listed.get(prefix + entry.name) == entry.inode():
                names.append(entry.name)
            else:
                return None
    return names


def _moves(site: str, spare: str) -> list[tuple[str, str | None]] | None:
    """How to move every file of site into spare at the same place: (source, target) per
    file, (folder, None) per folder of site to remove afterwards (after its files and
    subfolders); None when a file's place in spare is taken (by a folder)."""
    moves: list[tuple[str, str | None]] = []
    folders: list[str] = []
    stack = [(site, spare)]
    while stack:
        src_dir, dst_dir = stack.pop()
        with os.scandir(src_dir) as it:
            for entry in it:
                target = os.path.join(dst_dir, entry.name)
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                    stack.append((entry.path, target))
                elif os.path.lexists(target):
                    return None
                else:
                    moves.append((entry.path, target))
    moves.extend((folder, None) for folder in reversed(folders))  # subfolders before their parents
    return moves


def _empty(old: str, new: str, shared: dict[str, int], kept: dict[str, int], folders: list[str],
           prefix: str = "", *, known: dict[str, int] | None = None, settled: int = 0) -> None:
    """Unlink every file under old but those whose path (relative, from `prefix`) shared
    names with their inode (recorded in kept); remove each folder that has no counterpart
    in new (with whatever it holds). The folders that stay go into `folders` (relative).

    `known`: page folders (relative) that held their page alone, with its inode, when the
    last build settled (StampRecord.settle); one whose change time is still earlier than
    `settled` holds just that, and when the new site shares that very page it is kept
    without reading the folder (one lstat instead of a scandir, 8,300 times at 10,000
    records)."""
    with os.scandir(old) as it:
        entries = list(it)
    for entry in entries:
        rel = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            inode = known.get(rel) if known else None
            if inode is not None and shared.get(rel + "/" + _PAGE) == inode:
                st = entry.stat(follow_symlinks=False)
                if st.st_ctime_ns < settled and stat.S_ISDIR(st.st_mode):
                    kept[rel + "/" + _PAGE] = inode
                    folders.append(rel)
                    continue
            twin = os.path.join(new, entry.name)
            before = len(kept)
            _empty(entry.path, twin, shared, kept, folders, rel + "/", known=known, settled=settled)
            # A folder that kept a file the new site shares is one of the new site's; else ask.
            if len(kept) == before and (not os.path.isdir(twin) or os.path.islink(twin)):
                os.rmdir(entry.path)
            else:
                folders.append(rel)
        elif shared.get(rel) == entry.inode() and entry.is_file(follow_symlinks=False):
            kept[rel] = entry.inode()
        else:
            os.unlink(entry.path)
