"""Stamping pages into a shell: the HTML of an engine page split once, joined per page.

A shell is an ordinary engine page built from :data:`SHELL_MARKDOWN`: its title, its
headings (two at the top level, two below the first) and its body are placeholders.
:class:`Shell` finds them in the built HTML and keeps the text between them; the
table of contents is learnt from the way the engine wrote the placeholder headings
(an entry, an entry with children, the text between entries), so nothing here knows
the theme's markup. Stamping a page is then a join of strings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

TITLE = "ZQSHELLTITLE"
TOP = "ZQSHELLTOP"  # an h1: the engine adds none of its own, and contents start below it
HEADINGS = ("ZQSHELLA", "ZQSHELLB", "ZQSHELLC", "ZQSHELLD")  # h2, h3, h3, h2
BODY = "ZQSHELLBODY"

SHELL_MARKDOWN = f"""---
title: "{TITLE}"
search:
  exclude: true
hide:
  - navigation
---

# {TOP}

## {HEADINGS[0]}

### {HEADINGS[1]}

### {HEADINGS[2]}

## {HEADINGS[3]}

{BODY}
"""


class ShellError(ValueError):
    """The engine's HTML for a shell is not what stamping expects."""


@dataclass(frozen=True)
class TocEntry:
    level: int  # 2 or 3
    anchor: str
    title: str  # plain text


def _slug(text: str) -> str:
    return text.lower()


def _cut(text: str, start: str, end: str, pos: int = 0) -> tuple[int, int]:
    """(begin, end) of the first text[start … end] at or after pos."""
    i = text.find(start, pos)
    if i < 0:
        raise ShellError(f"shell: {start!r} not found")
    j = text.find(end, i)
    if j < 0:
        raise ShellError(f"shell: {end!r} not found after {start!r}")
    return i, j + len(end)


def _item_bounds(text: str, anchor: str, after: int = 0, before: int | None = None) -> tuple[int, int]:
    """The <li …> … </li> of a table-of-contents entry: the first link to #anchor after
    `after`, or the last one before `before`."""
    needle = f'href="#{anchor}"'
    href = text.rfind(needle, 0, before) if before is not None else text.find(needle, after)
    if href < 0:
        raise ShellError(f"shell: no contents entry for #{anchor}")
    begin = text.rfind("<li", 0, href)
    end = text.find("</li>", href)
    if begin < 0 or end < 0:
        raise ShellError(f"shell: contents entry for #{anchor} is not a list item")
    return begin, end + len("</li>")


#: How many distinct contents a shell remembers (stamp_bytes).
_CONTENTS_KEPT = 4096


class Shell:
    """One built shell page, ready to stamp pages into."""

    def __init__(self, page: str, shell_url: str, site_url: str):
        a, b1, b2, d = HEADINGS
        sa, sb1, sb2, sd = (_slug(h) for h in HEADINGS)
        # 1. The body: from the first placeholder heading to the end of the body paragraph.
        st = _slug(TOP)
        body_begin = page.find(f'id="{st}"')
        body_begin = page.rfind("<h1", 0, body_begin)
        _, body_end = _cut(page, BODY, "</p>", body_begin)
        if body_begin < 0:
            raise ShellError("shell: content placeholder not found")
        head, tail = page[:body_begin], page[body_end:]
        # 2. The table of contents (in head): entries A (with children B1, B2) and D.
        b1_begin, b1_end = _item_bounds(head, sb1)
        b2_begin, b2_end = _item_bounds(head, sb2, after=b1_end)
        a_begin, _ = _item_bounds(head, sa, before=b1_begin)
        d_begin, d_end = _item_bounds(head, sd, after=b2_end)
        a_end = head.rfind("</li>", b2_end, d_begin)
        if not (a_begin < b1_begin < b1_end < b2_begin < b2_end < a_end < d_begin):
            raise ShellError("shell: contents entries not in the expected order")
        a_end += len("</li>")
        self.leaf = self._template(head[d_begin:d_end], sd, d)
        self.child = self._template(head[b1_begin:b1_end], sb1, b1)
        self.child_sep = head[b1_end:b2_begin]
        self.parent_open = self._template(head[a_begin:b1_begin], sa, a)
        self.parent_close = self._template(head[b2_end:a_end], sa, a)
        self.sep = head[a_end:d_begin]
        toc_before, toc_after = head[:a_begin], head[d_end:]
        # 3. The rest: title, canonical URL, the link to the first heading, per occurrence.
        self.parts_before = self._split_rest(toc_before, shell_url, site_url, (sa, st))
        self.parts_after = self._split_rest(toc_after, shell_url, site_url, (sa, st))
        self.tail = tail
        self._formats = tuple(self._format(t) for t in (self.leaf, self.child, self.parent_open, self.parent_close))
        self._contents: dict[tuple, bytes] = {}  # stamp_bytes: contents (toc entries) → their HTML
        # For stamp_bytes: literal parts in UTF-8, markers as their names.
        self._encoded = tuple([p.encode("utf-8") if isinstance(p, str) else p[0] for p in parts]
                              for parts in (self.parts_before, self.parts_after)) + (tail.encode("utf-8"),)
        for leftover in (TITLE, TOP, *HEADINGS, st, sa, sb1, sb2, sd, BODY):
            if any(leftover in str(p) for p in (*self.parts_before, *self.parts_after, tail)):
                raise ShellError(f"shell: placeholder {leftover} left over")

    @staticmethod
    def _template(text: str, anchor: str, title: str) -> list:
        """Split into literal text and the markers 'anchor' / 'title' / 'label'."""
        out: list = []
        pos = 0
        marks = sorted([(i, "anchor", len(anchor) + 1) for i in _find_all(text, "#" + anchor)]
                       + [(i, "title", len(title)) for i in _find_all(text, title)])
        for i, kind, size in marks:
            if i < pos:
                continue
            out.append(text[pos:i])
            out.append((kind,))
            pos = i + size
        out.append(text[pos:])
        return out

    @staticmethod
    def _split_rest(text: str, shell_url: str, site_url: str, first_anchors: tuple[str, ...]) -> list:
        pieces = [(TITLE, ("title",))] + [(f'"#{a}"', ("first",)) for a in first_anchors]
        if site_url:
            pieces.append((site_url + shell_url, ("canonical",)))
        out: list = []
        pos = 0
        while True:
            found = [(text.find(s, pos), s, m) for s, m in pieces]
            found = [f for f in found if f[0] >= 0]
            if not found:
                break
            i, s, m = min(found)
            out.append(text[pos:i])
            out.append(m)
            pos = i + len(s)
        out.append(text[pos:])
        return out

    @staticmethod
    def _format(template: list) -> str:
        """The template as a str.format pattern: {0} the anchor ('#' included), {1} the title."""
        return "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str)
                       else ("{0}" if p[0] == "anchor" else "{1}") for p in template)

    def toc_html(self, toc: list[tuple[int, str, str]]) -> str:
        """The contents: (level, anchor, title) entries; an entry's deeper followers are its children."""
        leaf, child, parent_open, parent_close = self._formats
        escape = html.escape
        items: list[str] = []
        i, n = 0, len(toc)
        while i < n:
            level, anchor, title = toc[i]
            anchor, title = "#" + anchor, escape(title, quote=False)
            j = i + 1
            while j < n and toc[j][0] > level:
                j += 1
            if j > i + 1:
                children = self.child_sep.join([child.format("#" + c[1], escape(c[2], quote=False))
                                                for c in toc[i + 1:j]])
                items.append(parent_open.format(anchor, title) + children + parent_close.format(anchor, title))
            else:
                items.append(leaf.format(anchor, title))
            i = j
        return self.sep.join(items)

    def stamp(self, *, title: str, url: str, site_url: str, toc: list[TocEntry], body: str) -> str:
        """The page: title (plain text without <>&), site-relative url, contents, body HTML."""
        values = {"title": title, "canonical": site_url + url, "first": '"#' + (toc[0].anchor if toc else "") + '"'}
        out = [p if isinstance(p, str) else values[p[0]] for p in self.parts_before]
        out.append(self.toc_html([(e.level, e.anchor, e.title) for e in toc]))
        out += [p if isinstance(p, str) else values[p[0]] for p in self.parts_after]
        out.append(body)
        out.append(self.tail)
        return "".join(out)

    def stamp_bytes(self, *, title: str, url: str, site_url: str, toc: list[tuple[int, str, str]],
                    body: bytes) -> bytes:
        """stamp() in UTF-8 for a body in UTF-8: the shell's text is encoded once, not per page."""
        before, after, tail = self._encoded
        values = {"title": title.encode("utf-8"), "canonical": (site_url + url).encode("utf-8"),
                  "first": ('"#' + (toc[0][1] if toc else "") + '"').encode("utf-8")}
        out = [values[p] if isinstance(p, str) else p for p in before]
        # Pages of a kind mostly share their headings (a few contents for 5,500 arrears pages):
        # each contents made once.
        key = tuple(map(tuple, toc))
        contents = self._contents.get(key)
        if contents is None:
            contents = self.toc_html(toc).encode("utf-8")
            if len(self._contents) < _CONTENTS_KEPT:
                self._contents[key] = contents
        out.append(contents)
        out += [values[p] if isinstance(p, str) else p for p in after]
        out.append(body)
        out.append(tail)
        return b"".join(out)


def _find_all(text: str, needle: str) -> list[int]:
    out, i = [], text.find(needle)
    while i >= 0:
        out.append(i)
        i = text.find(needle, i + len(needle))
    return out
