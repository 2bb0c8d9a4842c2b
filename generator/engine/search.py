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

#: CJK Unified Ideographs (with extension A) and compatibility ideographs; a run of them is a group,
#: so that re.split hands back the runs between the other text.
_HAN_RUN = re.compile("([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def segment(text: str, known: dict[str, str] | None = None, used: list[str] | None = None) -> str:
    """The text, escaped, each run of Chinese characters cut into words joined by U+200B.

    known: runs already cut (run → its words, as _words gives them), looked up before jieba
    (whose dictionary takes a second or two to load); used: each run's words are appended.

    The text is split into the runs and what lies between them, and the runs replaced in
    the list (no Python callback per run, as re.sub would need): the same text re.sub made."""
    parts = _HAN_RUN.split(html.escape(text, quote=False))
    if len(parts) > 1:
        if known is None and used is None:
            parts[1::2] = [_words(run) for run in parts[1::2]]
        else:
            found = []
            for run in parts[1::2]:
                words = known.get(run) if known else None
                found.append(_words(run) if words is None else words)
            if used is not None:
                used.extend(found)
            parts[1::2] = found
    return "".join(parts).strip("\u200b")


def quiet() -> None:
    """jieba announces loading its dictionary on every run (Material's search loads it too)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=100_000)
def _words(run: str) -> str:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary otherwise
    return "\u200b" + "\u200b".join(jieba.cut(run)) + "\u200b"
