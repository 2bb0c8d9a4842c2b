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

import os
import shutil
from pathlib import Path

from generator.calendar_ics import ics_bytes
from generator.derive import Facts
from generator.feed import CALENDAR, FEEDS, feed_files
from generator.files import write_if_changed
from generator import pack
from generator.letters import LETTERS, iter_letter_files

#: Folders under docs/ that this stage owns (render.py leaves them alone).
OWNED_DIRS = (LETTERS, FEEDS)


def write_extras(facts: Facts, docs_dir: Path, site_files: Path | None = None) -> list[Path]:
    """Write the feeds and calendar into docs_dir, the letters into the pack `site_files`
    (or into docs_dir without one); returns the files written into docs_dir (and the pack)."""
    docs_dir = Path(docs_dir)
    files = {docs_dir / rel: data for rel, data in feed_files(facts).items()}
    files[docs_dir / CALENDAR] = ics_bytes(facts)
    if site_files is None:
        files.update((docs_dir / rel, data) for rel, data in iter_letter_files(facts))
    else:
        if (docs_dir / LETTERS).exists():
            shutil.rmtree(docs_dir / LETTERS)  # left by a build that still wrote them there
        with pack.PackWriter(Path(site_files)) as letters:
            for rel, data in iter_letter_files(facts):
                letters.add(rel, {}, data)
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
