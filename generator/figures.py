"""Figures of searched Markdown pages, handed to the engine beside the Markdown.

The home page and the 开放数据 page are Markdown pages that the site's search indexes,
and they show figures of the data (counts, amounts, download sizes, row counts): with
the figures in the Markdown, a one-record edit changes MkDocs' input, and the engine
runs MkDocs again (about 1.3 s at 10,000 records) instead of reusing its last output
(engine/reuse.py). So each such figure is written into the Markdown as a placeholder
(``ZQFIG-<n>-ZQ``) and its text handed over beside the page (the page's entry of a
blocks pack, meta ``figures``); the engine puts the figures back into the built page and
into the search index (engine/build.py), so MkDocs' input stays the same when only the
figures change.

The result is what MkDocs makes of the page with the figures in it, because a figure
that becomes a placeholder is plain text that nothing between the Markdown and the built
page reads or changes, and the placeholder is such text too:

* it has no character Markdown gives a meaning (``_SAFE``), so Markdown passes either as
  text, and neither holds white space at its ends or a line break, which Material's
  search would fold;
* it has no Chinese character, so the runs of Chinese text that the search cuts into
  words (each run on its own, by jieba) are the same runs with either;
* it is never in a heading (whose text becomes its id, its table of contents entry and
  its search location): the engine refuses a page where a placeholder reached one (a
  lower-cased ``zqfig-`` in the built page);
* in raw HTML blocks (passed through by Markdown as they are) only the numbers of text
  and of drawing attributes of charts are placeholders; never a number of a link, an id
  or any other attribute, nor a block holding a heading.

A figure that is not such text stays in the Markdown as it is (correct either way: the
engine then sees it among MkDocs' inputs).
"""

from __future__ import annotations

import re

#: A placeholder in the Markdown (and in MkDocs' output until the engine puts the figure back).
PLACEHOLDER = re.compile(r"ZQFIG-([0-9]+)-ZQ")
#: What a placeholder becomes in a heading's id (the slug lower-cases it): a figure in a heading.
IN_SLUG = "zqfig-"
#: Plain text to Markdown and to the search: letters, digits, . , % and single inner spaces.
_SAFE = re.compile(r"[0-9A-Za-z.,%]+(?: [0-9A-Za-z.,%]+)*\Z")


def holds_placeholder_text(text: str) -> bool:
    """Whether text holds what a placeholder begins with, in any case (IN_SLUG). Text of the
    data or the site's settings that does could not be told from a placeholder in the built
    page or the search index, so a page holding it keeps its figures in the Markdown."""
    return IN_SLUG in text.lower()


def usable(site: object) -> bool:
    """Whether figures may be handed over at all: the site's settings (its name and the like,
    on every page, outside the Markdown) hold no placeholder text."""
    return not holds_placeholder_text(repr(site))


class Figures:
    """The figures of one page, in the order of their placeholders."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def mark(self, value: object) -> str:
        """The placeholder of str(value), or the value itself when it is not plain text (_SAFE)."""
        text = str(value)
        if _SAFE.match(text) is None:
            return text
        self.values.append(text)
        return f"ZQFIG-{len(self.values) - 1}-ZQ"


#: A tag (attribute values may hold > or line breaks), an entity, or a number.
_HTML_PART = re.compile(r"""(<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>)|&#?[0-9A-Za-z]+;|([0-9]+(?:[.,][0-9]+)*)""")
#: The drawing attributes of the charts' SVG (read by the browser only).
_DRAWING = re.compile(r"""(?<=\s)(x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|points|viewBox)="([^"]*)\"""")
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_HEADING = re.compile(r"<h[1-6][\s>]", re.I)
_BLOCK_START = re.compile(r"<([a-z][a-z0-9]*)[\s>]")
#: Tags that open a raw HTML block for Markdown (its content passed through as it is).
_BLOCK_TAGS = {"div", "table", "p", "ul", "ol", "dl", "figure", "details", "nav", "form", "section"}
#: Blocks left as they are: code, and Markdown inside HTML (md_in_html's markdown attribute).
_LEAVE = re.compile(r"<(pre|code|script|style|textarea)[\s>]|\smarkdown=", re.I)


def split_html_figures(body: str) -> tuple[str, list[str]]:
    """(Markdown with placeholders, the figures in order): the numbers of the page's top-level
    raw HTML blocks (paragraphs separated by a blank line that start with a block tag and end
    with its closing tag, balanced, as split_html_blocks takes them) that are text or drawing
    attributes; blocks holding a heading, code or Markdown are left as they are."""
    figures = Figures()
    if holds_placeholder_text(body):  # (record text, say): such a page keeps its figures
        return body, []

    def numbers(text: str) -> str:
        return _NUMBER.sub(lambda m: figures.mark(m.group(0)), text)

    def part(m: re.Match) -> str:
        tag, number = m.group(1), m.group(2)
        if tag is not None:
            return _DRAWING.sub(lambda a: f'{a.group(1)}="{numbers(a.group(2))}"', tag) if "=" in tag else tag
        return figures.mark(number) if number is not None else m.group(0)

    out = []
    for block in body.split("\n\n"):
        start = _BLOCK_START.match(block.lstrip("\n"))
        tag = start.group(1) if start else ""
        if (tag not in _BLOCK_TAGS or not block.rstrip("\n").endswith(f"</{tag}>") or _HEADING.search(block)
                or _LEAVE.search(block) or len(re.findall(f"<{tag}[\\s>]", block)) != block.count(f"</{tag}>")):
            out.append(block)
        else:
            out.append(_HTML_PART.sub(part, block))
    return "\n\n".join(out), figures.values
