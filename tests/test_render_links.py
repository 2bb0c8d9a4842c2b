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


def test_linker_links_to_records_and_departments_as_url_does():
    """Linker.record and Linker.dept build a folder's links from one prefix, Linker.to a link out of
    the page's top folder from its depth: the same link url() gives from every kind of page (lists,
    records, departments, nested and top pages), its own page and a page inside a record's folder
    included; a bad id or path is still refused."""
    import random

    import pytest

    from generator.urls import Linker, record_path, url

    rng = random.Random(9)
    known = {"commitments": ["CM-2024-001", "CM-2024-002"], "arrears": ["AR-2024-001", "AR-2025-010"],
             "findings": ["DF-2026-001"]}
    depts = ["fgj", "czj", "jd-xinxing"]
    pages = ["index.md", "about.md", "commitments/index.md", "arrears/index.md", "arrears/page-2.md",
             "departments/index.md", "changes/index.md", "data/index.md", "a/b/c.md", "a/index.md"]
    pages += [record_path(kind, i) for kind, ids in known.items() for i in ids]
    pages += [record_path("departments", d) for d in depts] + ["departments/fgj/index.md", "commitments/CM-2024-001/x.md"]
    for page in pages:
        nav = Linker(page, {k: frozenset(v) for k, v in known.items()}, frozenset(depts[:2]))
        links = [(kind, i) for kind, ids in known.items() for i in ids] + [("departments", d) for d in depts]
        for kind, name in rng.sample(links, len(links)) * 2:  # in any order, twice (the prefix is kept)
            expected = url(page, record_path(kind, name))
            if kind == "departments":
                assert nav.dept(name) == (expected if name in depts[:2] else None), (page, name)
            else:
                assert nav.record(kind, name) == expected, (page, kind, name)
        for target in ("index.md", "objection.md", "letters/CM-2024-001.html", "data/index.md", "data/x.csv", "a/b/c.md",
                       "commitments/index.md", "commitments/CM-2024-002.md", "departments/fgj.md", "feed.xml", "a/index.md"):
            for anchor in ("", "top"):
                assert nav.to(target, anchor) == url(page, target, anchor), (page, target, anchor)
        with pytest.raises(ValueError):
            nav.record("arrears", "../x")
        with pytest.raises(ValueError):
            nav.to("../x.md")


def test_is_web_url_refuses_every_space_and_control_character():
    """is_web_url (one regular expression) refuses a link with any character that str.isspace()
    calls white space, or a C0 control, anywhere in it: every code point checked."""
    from generator.urls import is_web_url

    assert is_web_url("https://example.org/report.pdf") and not is_web_url("") and not is_web_url(None)
    for code in range(0x110000):
        ch = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        refused = ch.isspace() or code < 32
        assert is_web_url(f"https://example.org/a{ch}b") is not refused, hex(code)


def test_the_link_caches_keep_every_page_of_a_large_site():
    """A 100,000-record site has about 165,000 pages and files: the link caches keep one entry per
    page, so the second link to the first page is not computed again after 170,000 others."""
    from generator import urls

    pages = [f"commitments/CM-2024-{n:06d}.md" for n in range(170_000)]
    for fn in (urls.page_url, urls._url_parts, urls._folder_parts):
        for page in pages:
            fn(page)
        hits = fn.cache_info().hits
        fn(pages[0])
        assert fn.cache_info().hits == hits + 1, fn.__name__
    for fn in (urls.page_url, urls._url_parts, urls._folder_parts):
        fn.cache_clear()  # (pure functions: clearing only frees the test's entries)
