"""Serve only the rules of the theme's main stylesheet that this site can use.

Material's main stylesheet (137 KB, the largest file every page loads) styles every feature
the theme offers: code highlighting, tabs, annotations, cookie consent, blog, versions ... of
which this site uses about a third. A rule is dropped only when, for each of its selectors,
some class in it can appear in no page: a class can come from

- the pages the engine built (the Markdown pages and the record-page shells): their
  ``class`` attributes;
- the site's scripts, which add classes at run time (the theme's bundle, zq.js): every word
  in them, and every class that starts with a word ending in ``-`` or ``_`` (the bundle
  composes ``md-tag--`` + a name);
- the generator's own templates and code, from which the record pages stamped later are
  made (record text is escaped, and the one Markdown field adds no class:
  engine/markup.py): every word in them.

So the test is generous by design (a word in a comment keeps a rule), and a class inside
``:not(...)``, ``:is(...)`` or an attribute selector never drops one. Kept rules are the
theme's bytes as they were. The result gets a name of its own (a hash of its content), so a
browser that cached the theme's full file, or an older cut, never mixes the two; the
theme's file and its source map are removed, and the links in the built pages point to the
new file. Anything unexpected (no such link, a stylesheet tinycss2 cannot read) leaves the
theme's file as it is: the site is then heavier, never broken.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Iterable

import tinycss2

#: The link the theme writes into every page; group 1 is the file name.
_THEME_LINK = re.compile(r'<link rel="stylesheet" href="[^"]*?assets/stylesheets/(main\.[0-9a-f]+\.min\.css)"')
_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
_WORD = re.compile(r"-?[A-Za-z_][\w-]*")
#: Inside these a class does not make a selector require it (:not(.x) matches without .x).
_NESTED = ("function", "[] block", "() block")
_BLOCK_AT_RULES = frozenset({"media", "supports", "container", "layer", "document"})


class Vocabulary:
    """The classes a page of the site can carry (see the module docstring)."""

    def __init__(self) -> None:
        self.words: set[str] = set()
        self._prefixes: tuple[str, ...] = ()

    def add_markup(self, html: str) -> None:
        for value in _CLASS_ATTR.findall(html):
            self.words.update(value.split())

    def add_code(self, text: str) -> None:
        found = set(_WORD.findall(text))
        self.words |= found
        prefixes = {w for w in found if len(w) > 3 and w.endswith(("-", "_"))}
        self._prefixes = tuple(sorted(set(self._prefixes) | prefixes))

    def __contains__(self, name: str) -> bool:
        return name in self.words or name.startswith(self._prefixes)


def _selectors(prelude: list) -> list[list]:
    """The prelude's tokens split at its top-level commas."""
    out: list[list] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            out.append([])
        else:
            out[-1].append(token)
    return out


def _required_classes(selector: list) -> list[str]:
    """Classes the selector needs an element (or an ancestor) to have, outside functions and []."""
    names = []
    for prev, token in zip([None, *selector], selector):
        if (token.type == "ident" and prev is not None and prev.type == "literal" and prev.value == "."):
            names.append(token.value)
    return names


def _offsets(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def prune(css: str, vocabulary: Vocabulary) -> str:
    """css without the rules none of whose selectors can match (see the module docstring)."""
    line_starts = _offsets(css)

    def start(node) -> int:
        return line_starts[node.source_line - 1] + node.source_column - 1

    def walk(nodes: list, end: int) -> str:
        # Each node's text runs from its own start to the next node's start: the theme's bytes.
        nodes = [n for n in nodes if n.type not in ("whitespace", "comment")]
        parts = []
        for i, node in enumerate(nodes):
            stop = start(nodes[i + 1]) if i + 1 < len(nodes) else end
            text = css[start(node):stop]
            if node.type == "qualified-rule":
                selectors = _selectors(node.prelude)
                live = [s for s in selectors if all(c in vocabulary for c in _required_classes(s))]
                if not live:
                    continue
                if len(live) < len(selectors):
                    head = tinycss2.serialize(node.prelude)
                    if not text.startswith(head + "{"):
                        text = node.serialize()  # unexpected layout: the equivalent serialisation
                        head = tinycss2.serialize(node.prelude)
                    body = text[len(head):]
                    text = ",".join(tinycss2.serialize(s).strip() for s in live) + body
                parts.append(text.rstrip())
            elif node.type == "at-rule" and node.lower_at_keyword in _BLOCK_AT_RULES and node.content is not None:
                inner_nodes = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
                brace = text.find("{")
                close = text.rstrip().rfind("}")
                if not inner_nodes or brace < 0 or close < brace:
                    parts.append(text.rstrip())
                    continue
                inner = walk(inner_nodes, start(node) + close)
                if inner:
                    parts.append(text[:brace + 1] + inner + "}")
            elif node.type == "error":
                raise ValueError(node.message)
            else:
                parts.append(text.rstrip())
        return "".join(parts)

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return walk(rules, len(css))


def source_texts(folders: Iterable[Path]) -> Iterable[str]:
    """The texts of the code folders' files whose words the cut keeps (see the module docstring)."""
    for folder in folders:
        for dirpath, _dirs, names in os.walk(folder):
            for name in sorted(names):
                if name.endswith((".py", ".j2", ".html", ".js", ".md", ".yaml", ".yml")):
                    with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as fh:
                        yield fh.read()


def _prune_key(css: str, vocabulary: Vocabulary) -> str:
    """Everything prune() reads: the stylesheet, the vocabulary, this code and tinycss2's version."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr((tinycss2.__version__, vocabulary._prefixes)).encode("utf-8"))
    digest.update("\0".join(sorted(vocabulary.words)).encode("utf-8", "surrogatepass") + b"\0\0")
    digest.update(css.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _pruned(css: str, vocabulary: Vocabulary, cache_file: Path | None) -> str:
    """prune(css, vocabulary), or the last build's result for the same key (cache_file holds
    one: a rebuild whose engine pages did not change cuts the same stylesheet, 0.3-0.5 s)."""
    if cache_file is None:
        return prune(css, vocabulary)
    key = _prune_key(css, vocabulary)
    try:
        saved = json.loads(Path(cache_file).read_text(encoding="utf-8"))
        if saved.get("key") == key and isinstance(saved.get("cut"), str):
            return saved["cut"]
    except (OSError, ValueError, AttributeError):
        pass
    cut = prune(css, vocabulary)
    from generator.files import write_if_changed

    Path(cache_file).parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(Path(cache_file), json.dumps({"key": key, "cut": cut}, ensure_ascii=False).encode("utf-8"))
    return cut


def cut_theme_stylesheet(site_dir: Path, pages: Iterable[str], code_folders: Iterable[Path],
                         cache_file: Path | None = None) -> tuple[str, str] | None:
    """Write the pruned copy of the theme's main stylesheet into site_dir and remove the
    theme's file. `pages` are the texts of every HTML page built so far. Returns the link
    target to replace in them and its replacement (``stylesheets/<name>"``), or None when
    the stylesheet was left as it is. cache_file: the last cut and its key (see _pruned)."""
    site_dir = Path(site_dir)
    vocabulary = Vocabulary()
    name = None
    for text in pages:
        if name is None and (found := _THEME_LINK.search(text)):
            name = found.group(1)
        vocabulary.add_markup(text)
    if name is None:
        return None
    folder = site_dir / "assets" / "stylesheets"
    original = folder / name
    try:
        css = original.read_text(encoding="utf-8")
    except OSError:
        return None
    for script in sorted(site_dir.glob("assets/**/*.js")):
        vocabulary.add_code(script.read_text(encoding="utf-8", errors="replace"))
    for text in source_texts(code_folders):
        vocabulary.add_code(text)
    try:
        cut = _pruned(css, vocabulary, cache_file)
    except (ValueError, IndexError):
        return None
    digest = hashlib.sha256(cut.encode("utf-8")).hexdigest()[:8]
    new_name = f"{name[:-len('.min.css')]}.zq{digest}.min.css"
    (folder / new_name).write_text(cut, encoding="utf-8")
    original.unlink()
    (folder / (name + ".map")).unlink(missing_ok=True)
    return f'stylesheets/{name}"', f'stylesheets/{new_name}"'
