"""Issue 12, item 4: the Markdown field's links are checked on the href the browser gets.

Python-Markdown undoes backslash escapes after the inline patterns ran: a check on the
href before that sees a placeholder, not the backslash that turns ``/\\host`` into a
link to another host. The tests read the rendered HTML, as a browser would.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from generator.render import markdown_html, safe_href


def hrefs_of(html: str) -> list[str]:
    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                found.append(dict(attrs).get("href") or "")

    Links().feed(html)
    return found


def browser_host(href: str, page: str = "https://xygk.example.gov.cn/commitments/CM-2024-001/") -> str:
    """The host a browser would go to: WHATWG URL parsing treats '\\' like '/' in http(s) URLs."""
    from urllib.parse import urljoin, urlsplit

    return urlsplit(urljoin(page, href.replace("\\", "/"))).hostname or ""


@pytest.mark.parametrize("source", [
    r"[x](/\evil.example/login)",
    r"[x](/\\evil.example/login)",
    r"[x](\\\\evil.example/login)",
    r"[x](\/evil.example/login)",
    r"[x](/\/evil.example/login)",
    r"[x](<\/\/evil.example/login>)",
    r"[x][r]" "\n\n" r"[r]: /\\evil.example/login",
    r"[x](https:\\\\evil.example/login)",
    r"[x](\\/evil.example/login)",
])
def test_backslash_links_never_lead_to_another_host(source):
    html = str(markdown_html(source))
    for href in hrefs_of(html):
        assert browser_host(href) in ("xygk.example.gov.cn", ""), (source, href, html)
        assert safe_href(href), (source, href)


def test_ordinary_links_still_work():
    html = str(markdown_html(r"[政策](../policy/) [外部](https://example.gov.cn/a\_b) 反斜杠 a\\b"))
    assert hrefs_of(html) == ["../policy/", "https://example.gov.cn/a_b"]
    assert "a\\b" in html
