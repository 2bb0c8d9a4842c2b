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
    for root in (letters_root / LETTERS, docs_dir / FEEDS):
        if not root.exists():
            continue
        for path in sorted(root.rglob("*"), reverse=True):  # children before their folders
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path not in files:
                path.unlink()
    return sorted(files)
