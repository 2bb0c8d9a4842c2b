"""Chinese search for the stamped pages' entries.

The site's search (Material's, configured in mkdocs.yml with ``lang: zh`` and a
``separator`` that includes U+200B) splits the index text on white space and U+200B.
Chinese has no spaces, so each run of Chinese characters is cut into words with jieba
here and the words are joined with U+200B; the text is HTML-escaped, as the search
results show it as HTML.
"""

from __future__ import annotations

import html
import logging
import re
from functools import lru_cache

#: CJK Unified Ideographs (with extension A) and compatibility ideographs.
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def segment(text: str, known: dict[str, str] | None = None, used: list[str] | None = None) -> str:
    """The text, escaped, each run of Chinese characters cut into words joined by U+200B.

    known: runs already cut (run → its words, as _words gives them), looked up before jieba
    (whose dictionary takes a second or two to load); used: each run's words are appended."""
    escaped = html.escape(text, quote=False)
    if known is None and used is None:
        return _HAN_RUN.sub(lambda m: _words(m.group(0)), escaped).strip("\u200b")

    def words(m: re.Match) -> str:
        run = m.group(0)
        found = known.get(run) if known else None
        if found is None:
            found = _words(run)
        if used is not None:
            used.append(found)
        return found

    return _HAN_RUN.sub(words, escaped).strip("\u200b")


def quiet() -> None:
    """jieba announces loading its dictionary on every run (Material's search loads it too)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=100_000)
def _words(run: str) -> str:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary otherwise
    return "\u200b" + "\u200b".join(jieba.cut(run)) + "\u200b"
