"""Readers act and follow: the objection letters, the department feeds, the feed page and the calendar.

    write_extras(facts, docs_dir, site_files_dir)

writes docs/feeds/** and the letters (see generator/letters.py, generator/feed.py,
generator/calendar_ics.py) — into site_files_dir/letters/ when given: files the engine
places into the built site as they are, so MkDocs does not collect and copy one letter per
record — leaves files whose bytes did not change alone, and
removes files in those folders this run did not produce: a letter or feed of a
record that left the site (a finding whose disclosure ended) goes with it.
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
from generator.letters import LETTERS, letter_files

#: Folders under docs/ that this stage owns (render.py leaves them alone).
OWNED_DIRS = (LETTERS, FEEDS)


def extra_files(facts: Facts) -> dict[str, bytes]:
    files = letter_files(facts)
    files.update(feed_files(facts))
    files[CALENDAR] = ics_bytes(facts)
    return files


def write_extras(facts: Facts, docs_dir: Path, site_files_dir: Path | None = None) -> list[Path]:
    docs_dir = Path(docs_dir)
    letters_root = Path(site_files_dir) if site_files_dir is not None else docs_dir
    if letters_root != docs_dir and (docs_dir / LETTERS).exists():
        shutil.rmtree(docs_dir / LETTERS)  # left by a build that still wrote them there
    files = {(letters_root if rel.startswith(LETTERS + "/") else docs_dir) / rel: data
             for rel, data in extra_files(facts).items()}
    for path, data in files.items():
        write_if_changed(path, data)
    produced = {os.fspath(path) for path in files}
    for root in (letters_root / LETTERS, docs_dir / FEEDS):
        for dirpath, dirnames, names in os.walk(root, topdown=False):  # children before their folders
            for name in names:
                path = os.path.join(dirpath, name)
                if path not in produced:
                    os.unlink(path)
            for name in dirnames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path) and not os.listdir(path):
                    os.rmdir(path)
    return sorted(files)
