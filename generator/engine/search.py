"""Chinese search for the stamped pages' entries.

The site's search (Material's, configured in mkdocs.yml with ``lang: zh`` and a
``separator`` that includes U+200B) splits the index text on white space and U+200B.
Chinese has no spaces, so each run of Chinese characters is cut into words with jieba
here and the words are joined with U+200B; the text is HTML-escaped, as the search
results show it as HTML. A rebuild's few new runs are cut by Lexicon, with exactly
jieba.cut's words, without loading jieba's dictionary.
"""

from __future__ import annotations

import hashlib
import html
import logging
import marshal
import operator
import os
import re
import tempfile
from bisect import bisect_right
from collections.abc import Collection
from functools import lru_cache
from importlib import metadata, resources

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


def runs(text: str) -> list[str]:
    """The runs of Chinese characters segment(text) cuts."""
    return _HAN_RUN.findall(text)


@lru_cache(maxsize=100_000)
def _words(run: str) -> str:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary otherwise
    return _joined(jieba.cut(run))


def _joined(words) -> str:
    return "\u200b" + "\u200b".join(words) + "\u200b"


# --- a few new runs without jieba's whole dictionary ----------------------------------------

#: Carries the rest of the dictionary's total frequency in a small dictionary: a private-use
#: character, never in a run (_HAN_RUN) nor in what jieba cuts with its dictionary (re_han_default).
_FILLER = "\ue000"
#: Bytes of the index read for new runs in one build past which jieba's own dictionary (0.6 s to
#: load, then every run at once) is cheaper than reading more of the index (about 25 ms a MB).
_BUDGET = 2_000_000
_INDEX_FORMAT = 1


class Lexicon:
    """jieba.cut's words for a few new runs without loading jieba's dictionary (500,000
    entries with their prefixes: 0.6 s, most of a rebuild's search entries when one page
    changed).

    jieba cuts a run with its dictionary through three things only: the frequency of each
    word that is a substring of the run (get_DAG's candidate words at each position, calc's
    best route, and whether a stretch of single characters is a known word, which decides
    whether the HMM cuts it) and the dictionary's total frequency (calc's log total).
    Prefixes it adds for its own look-up have frequency 0, which counts as a missing word
    everywhere. So a jieba.Tokenizer whose dictionary holds just the words found in the
    runs with their frequencies, plus _FILLER with the rest of the total, gives the runs
    exactly the words jieba.cut gives (tests/test_search.py compares them on every run of
    the demo site and of 2,000 records); the splitting before that (re_han_default) is the
    same code on the same text, and the HMM (finalseg) does not use the dictionary.

    Finding those words needs jieba's dict.txt by first character: an index kept in the
    build folder's cache (``path``), made from dict.txt (about 0.2 s) when a build has
    loaded jieba's dictionary anyway, valid for one jieba version and dict.txt digest.
    The small dictionary and jieba's cache of it are written in a temporary folder next to
    the index, removed at once. The default dictionary only: the site loads no user
    dictionary (nor does mkdocs.yml give Material's search one)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.spent = 0  # bytes of the index read in this build
        self.loads = _words.cache_info().misses  # grows when jieba.cut has loaded jieba's dictionary
        self._index: dict | None = None
        self._tried = False

    def cut(self, runs: Collection[str]) -> dict[str, str]:
        """Each of runs → its words as _words gives them; {} when jieba's own dictionary is
        the cheaper way (loaded already, past _BUDGET, no usable index)."""
        if not runs or _words.cache_info().misses:
            return {}
        index = self._read()
        if index is None:
            return {}
        text = "\n".join(runs)
        chosen = [block for ch in set(text) if (block := index["blocks"].get(ch)) is not None]
        self.spent += sum(map(len, chosen))
        if self.spent > _BUDGET:
            return {}
        found: dict[str, int] = {}
        try:
            for block in chosen:
                for line in block.decode("utf-8").split("\n"):
                    word, freq = line.split(" ")[:2]  # as jieba reads its dictionary (_make)
                    if word in text:
                        found[word] = int(freq)  # a word's later line wins, as in jieba
        except ValueError:  # an index with the right digest but damaged
            self._index = None
            return {}
        import jieba

        jieba.setLogLevel(logging.WARNING)
        with tempfile.TemporaryDirectory(prefix="jieba-", dir=os.path.dirname(self.path)) as folder:
            dictionary = os.path.join(folder, "dict.txt")
            with open(dictionary, "w", encoding="utf-8", newline="\n") as fh:
                fh.writelines(f"{word} {freq}\n" for word, freq in found.items())
                fh.write(f"{_FILLER} {index['total'] - sum(found.values())}\n")
            tokenizer = jieba.Tokenizer(dictionary)
            # Its cache of the small dictionary goes here (removed with the folder), not to
            # the system's temporary folder; a fresh folder: no stale cache to be taken by time.
            tokenizer.tmp_dir = folder
            tokenizer.cache_file = "dict.cache"
            return {run: _joined(tokenizer.cut(run)) for run in runs}

    def keep(self) -> None:
        """Make the index when this build loaded jieba's dictionary (a full build, many new
        runs) and the index is missing or stale, so that a rebuild need not."""
        if _words.cache_info().misses == self.loads or self._read() is not None:
            return
        data, key = _dictionary()
        index = _make(data)
        if index is None:
            return
        index.update(key)
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".search-words-", delete=False) as fh:
            fh.write(marshal.dumps(index))
        os.replace(fh.name, self.path)
        self._index = index

    def _read(self) -> dict | None:
        """The index, when it is one _make made of this jieba's dict.txt (read once a build)."""
        if not self._tried:
            self._tried = True
            try:
                with open(self.path, "rb") as fh:
                    index = marshal.loads(fh.read())
            except (OSError, EOFError, ValueError, TypeError):
                return None
            if (isinstance(index, dict) and isinstance(index.get("total"), int)
                    and isinstance(index.get("blocks"), dict)
                    and all(isinstance(block, bytes) for block in index["blocks"].values())
                    and {k: index.get(k) for k in ("format", "jieba", "digest")} == _dictionary()[1]):
                self._index = index
        return self._index


def _dictionary() -> tuple[bytes, dict]:
    """jieba's dict.txt (the dictionary jieba.cut loads) and what an index of it is made for."""
    data = resources.files("jieba").joinpath("dict.txt").read_bytes()
    try:
        version = metadata.version("jieba")
    except metadata.PackageNotFoundError:
        version = "-"
    return data, {"format": _INDEX_FORMAT, "jieba": version, "digest": hashlib.sha256(data).hexdigest()}


def _make(data: bytes) -> dict | None:
    """dict.txt as jieba reads it (each line stripped of ASCII white space, split at single
    spaces: word and integer frequency; a word's later line wins; the total counts every
    line): {"total": the total, "blocks": first character → its words' lines in dict.txt's
    order, UTF-8}. None when a line is not plainly "word frequency[ ...]" (stripped or
    empty lines, other white space): jieba reads such a file some other way, or fails."""
    if data and not data.endswith(b"\n"):
        data += b"\n"
    if data[:1].isspace() or any(c in data for c in (b"\r", b"\t", b"\x0b", b"\x0c", b"\n ", b" \n", b"\n\n")):
        return None
    try:
        text = data.decode("utf-8")
        lines = text.split("\n")[:-1]
        fields = re.findall(r"^[^ \n]+ ([^ \n]+)", text, re.M)  # each line's frequency
        if len(fields) != len(lines):
            return None
        total = sum(map(int, fields))
    except ValueError:
        return None
    first = operator.itemgetter(0)
    lines.sort(key=first)  # stable: a word's lines keep their order
    blocks: dict[str, bytes] = {}
    start = 0
    while start < len(lines):
        end = bisect_right(lines, first(lines[start]), start, key=first)
        blocks[first(lines[start])] = "\n".join(lines[start:end]).encode("utf-8")
        start = end
    return {"total": total, "blocks": blocks}
