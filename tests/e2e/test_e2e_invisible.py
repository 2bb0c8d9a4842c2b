"""Issue 12, item 3: bidirectional controls and zero-width characters are never published.

The hostile data set puts U+202E (right-to-left override) into titles, notes, summaries
and a document number; no text file of the built site may carry it.
"""

from __future__ import annotations

import pytest

from e2e_support import RLO

pytestmark = pytest.mark.browser


def test_no_bidi_override_in_any_text_file_of_the_hostile_site(hostile_site):
    assert RLO == "\u202e"
    carriers = [p.relative_to(hostile_site).as_posix() for p in sorted(hostile_site.rglob("*"))
                if p.suffix in (".html", ".json", ".csv", ".xml", ".txt", ".md", ".js", ".ics")
                and "\u202e" in p.read_text(encoding="utf-8", errors="replace")]
    assert carriers == []
