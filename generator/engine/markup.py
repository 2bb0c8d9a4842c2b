"""The one Markdown field (a commitment's ``content``), converted with Python-Markdown.

The caller escapes the source first (record text is plain text); this converter adds
the structure. Links to anything but http(s) or a relative path become plain text,
images become their alt text, headings move under the page's own h1/h2.
"""

from __future__ import annotations

import html as _html
import unicodedata
import re
import xml.etree.ElementTree as etree
from functools import lru_cache

import markdown

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*:")


def safe_href(href: str) -> bool:
    """http(s) with a host, or a relative path; never javascript:, data:, vbscript:, //host …

    Checked after undoing HTML entities, lower-casing and dropping white space and
    control characters, the way a browser would read the URL.
    """
    s = href
    for _ in range(5):
        unescaped = _html.unescape(s)
        if unescaped == s:
            break
        s = unescaped
    s = "".join(ch for ch in s if not (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"))).lower()
    if s.startswith(("http://", "https://")):
        return len(s) > s.index("//") + 2 and s[s.index("//") + 2] not in "/\\"
    if "\\" in s or s.startswith("//"):
        return False
    return _SCHEME.match(s) is None


class _SafeTree(markdown.treeprocessors.Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for el in list(root.iter()):
            if el.tag == "a":
                href = el.get("href", "")
                if safe_href(href):
                    if href.strip().lower().startswith(("http://", "https://")):
                        el.set("rel", "noopener noreferrer")
                else:
                    el.tag = "span"
                    el.attrib.clear()
            elif el.tag == "img":  # nothing is fetched from another host: an image shows its alt text
                alt = el.get("alt", "")
                el.tag = "span"
                el.attrib.clear()
                el.text = alt
            elif el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                el.tag = f"h{min(6, int(el.tag[1]) + 2)}"  # under the page's own h1/h2
            elif el.tag == "code" and el.text:
                # The source was escaped before conversion and code is escaped again:
                # undo the second level so that `<b>` shows as <b>, not &lt;b&gt;.
                el.text = markdown.util.AtomicString(el.text.replace("&amp;", "&"))


class _SafeExtension(markdown.extensions.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After Python-Markdown's own "unescape" step (priority 0): the check sees the href
        # the browser will get, with backslash escapes undone (``/\\host`` is ``//host``).
        md.treeprocessors.register(_SafeTree(md), "zq-safe", -1)


@lru_cache(maxsize=1)
def _converter() -> markdown.Markdown:
    """One converter, reset before each use (building one per record is the slow part)."""
    return markdown.Markdown(extensions=["sane_lists", _SafeExtension()], output_format="html")


#: Text in which Markdown has nothing to do: letters and digits, Chinese characters and
#: punctuation, and ASCII punctuation no Markdown rule starts with (lists and headings need
#: a marker and a space, emphasis, code, links and HTML their own characters; there is no
#: space, tab or other white space at all but line breaks). Most records' content is such
#: text, and Python-Markdown makes paragraphs of it, nothing else.
_PLAIN_TEXT = re.compile(r"[0-9A-Za-z\n.,%:;()/\u00b7\u2014\u2018-\u201d\u2026\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e]*")


#: The same characters, without the line break; then the two constructs the content field
#: uses most beside paragraphs: a list of "- " items (one line each) and **strong** text.
_CHARS = r"0-9A-Za-z.,%:;()/\u00b7\u2014\u2018-\u201d\u2026\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e"
_STRONG = re.compile(rf"\*\*([{_CHARS}]+)\*\*")
_STRONG_HTML = r"<strong>\1</strong>"
_INLINE = rf"(?:[{_CHARS}]|\*\*[{_CHARS}]+\*\*)+"
_PARAGRAPH = re.compile(rf"(?:{_INLINE}\n)*{_INLINE}")
_LIST = re.compile(rf"- {_INLINE}(?:\n- {_INLINE})*")


def markdown_field_html(escaped_source: str) -> str:
    """HTML of an already escaped Markdown source (see the module docstring).

    Plain text (_PLAIN_TEXT) becomes its paragraphs directly, and text made of such
    paragraphs, one-line "- " lists and **strong** spans its paragraphs, lists and <strong>
    (_simple_html): what Python-Markdown makes of it, without its parse
    (tests/test_render_tables.py compares them on random text)."""
    if _PLAIN_TEXT.fullmatch(escaped_source):
        return "\n".join(f"<p>{block.strip(chr(10))}</p>" for block in escaped_source.split("\n\n") if block.strip("\n"))
    simple = _simple_html(escaped_source)
    if simple is not None:
        return simple
    return _converter().reset().convert(escaped_source)


def _simple_html(source: str) -> str | None:
    """The HTML of paragraphs and lists of plain text with **strong** spans, or None for
    anything else (two lists in a row, which Python-Markdown joins into one loose list, included)."""
    out: list[str] = []
    after_list = False
    for block in source.split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if _PARAGRAPH.fullmatch(block):
            out.append(f"<p>{_STRONG.sub(_STRONG_HTML, block)}</p>")
            after_list = False
        elif not after_list and _LIST.fullmatch(block):
            items = "\n".join(f"<li>{_STRONG.sub(_STRONG_HTML, line[2:])}</li>" for line in block.split("\n"))
            out.append(f"<ul>\n{items}\n</ul>")
            after_list = True
        else:
            return None
    return "\n".join(out) if out else None
