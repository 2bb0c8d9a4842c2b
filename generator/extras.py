"""Readers act and follow: the objection letters, the department feeds, the feed page and the calendar.

    write_extras(facts, docs_dir, site_files)

writes docs/feeds/** and the letters (see generator/letters.py, generator/feed.py,
generator/calendar_ics.py) — into the pack `site_files` when given (see generator/pack.py):
files the engine writes into the built site as they are, so MkDocs does not collect and
copy one letter per record, and nothing writes one file per letter twice — leaves files
whose bytes did not change alone, and removes files in those folders this run did not
produce: a letter or feed of a record that left the site (a finding whose disclosure
ended) goes with it (the pack holds this run's letters only).
The reader's workbook and the SQLite file live with the data package
(generator/workbook.py, written by generator/opendata.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import jinja2

from generator.calendar_ics import ics_bytes
from generator.derive import Facts
from generator.feed import CALENDAR, FEEDS, feed_files
from generator.files import write_if_changed
from generator import letters as letters_mod, pack
from generator.letters import LETTERS, LetterMaker, iter_letter_files

#: Folders under docs/ that this stage owns (render.py leaves them alone).
OWNED_DIRS = (LETTERS, FEEDS)
#: Under the build folder's cache: which letter of the site-files pack was made from what.
LETTER_CACHE = "letters.json"
#: The letters' cache format (in its common digest: another format never reads an old file).
_FORMAT = 1


def write_extras(facts: Facts, docs_dir: Path, site_files: Path | None = None, cache_dir: Path | None = None,
                 record_keys: dict[tuple[str, str], str] | None = None) -> list[Path]:
    """Write the feeds and calendar into docs_dir, the letters into the pack `site_files`
    (or into docs_dir without one); returns the files written into docs_dir (and the pack).

    With cache_dir and record_keys (the render's page keys of the records: digests of their
    facts, see render.RenderResult), a letter whose record's key and everything else a
    letter depends on are as when the pack was written is copied from the pack as it is
    (_letter_keys), not made again."""
    docs_dir = Path(docs_dir)
    files = {docs_dir / rel: data for rel, data in feed_files(facts, cache_dir).items()}
    files[docs_dir / CALENDAR] = ics_bytes(facts)
    if site_files is None:
        files.update((docs_dir / rel, data) for rel, data in iter_letter_files(facts))
    else:
        if (docs_dir / LETTERS).exists():
            shutil.rmtree(docs_dir / LETTERS)  # left by a build that still wrote them there
        maker = LetterMaker(facts)
        with pack.PackWriter(Path(site_files)) as letters:
            cache = (_letter_keys(Path(cache_dir) / LETTER_CACHE, facts, maker, letters)
                     if cache_dir is not None and record_keys is not None else None)
            # Each file's SHA-256 with it: the engine takes an unchanged letter by it without reading it.
            for rel, data in maker.support:
                letters.add(rel, {"sha256": hashlib.sha256(data).hexdigest()}, data)
            for rel, kind, item in maker.letters():
                key = record_keys.get((kind, item.record.id)) if cache is not None else None
                if key is not None and cache.fresh(rel, key):
                    letters.copy(rel)
                else:
                    data = maker.letter(kind, item)
                    letters.add(rel, {"sha256": hashlib.sha256(data).hexdigest()}, data)
                    if key is not None:
                        cache.made(rel, key)
        if cache is not None:
            cache.save()
    for path, data in files.items():
        write_if_changed(path, data)
    produced = {os.fspath(path) for path in files}
    for root in (docs_dir / LETTERS, docs_dir / FEEDS):
        for dirpath, dirnames, names in os.walk(root, topdown=False):  # children before their folders
            for name in names:
                path = os.path.join(dirpath, name)
                if path not in produced:
                    os.unlink(path)
            for name in dirnames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path) and not os.listdir(path):
                    os.rmdir(path)
    return sorted(files) + ([Path(site_files)] if site_files is not None else [])


def _letter_keys(path: Path, facts: Facts, maker: LetterMaker, pack_writer: pack.PackWriter) -> pack.EntryKeys:
    """Which letters of the site-files pack are already right (pack.EntryKeys): per letter the
    page key of its record (render._PageCache.key, a digest of the record's facts) when it was
    made, under a digest of everything else a letter depends on (letters.LetterMaker): the
    as-of date, the site settings, the reply deadline, the support files, the schema,
    letters.py and its templates, Jinja's version."""
    digest = hashlib.sha1(repr((_FORMAT, jinja2.__version__, facts.as_of, facts.site, maker.due,
                                maker.support)).encode("utf-8", "surrogatepass"))
    code = Path(letters_mod.__file__)
    schemas = code.with_name("schemas")
    for src in [code, *sorted(letters_mod.TEMPLATES.glob("letter*")), *sorted(schemas.rglob("*"))]:
        if src.is_file():
            digest.update(src.as_posix().encode() + b"\0" + src.read_bytes() + b"\0")
    return pack.EntryKeys(path, digest.hexdigest(), pack_writer, "letters")
