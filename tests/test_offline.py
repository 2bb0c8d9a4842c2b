"""Issue 12, item 5: no reader request leaves the site, under any browser.

Material's bundle loads a ResizeObserver polyfill from unpkg.com in browsers without
ResizeObserver (old phones), and Mermaid from unpkg.com on pages with diagrams. The
build points both at files of the site (generator/offline.py). The built site is then
searched as a whole: no file names unpkg, and no script, stylesheet or page can load
anything from another host — only plain hyperlinks in page content may name one.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.offline import ExternalAssetRequest, keep_requests_on_site
from generator.publish import build_site
from tests.conftest import DEMO_DATA, REPO

AS_OF = date(2026, 11, 26)

#: Host names that occur in the theme's scripts as text, never as something a browser loads:
#: licence and documentation links in comments and messages, the SVG namespace, and the
#: GitHub API that Material asks only when mkdocs.yml sets repo_url (checked below: it does not).
TEXT_ONLY_HOSTS = {
    "www.w3.org", "www.mozilla.org", "github.com", "snowball.tartarus.org", "code.google.com",
    "fontawesome.com", "developer.mozilla.org", "clipboardjs.com", "bit.ly", "wiki.ecmascript.org",
    "wiki.commonjs.org", "underscorejs.org", "tartarus.org", "people.mozilla.org", "narwhaljs.org",
    "msdn.microsoft.com", "lunrjs.com", "en.wikipedia.org", "docs.python.org", "chasen.org",
    "api.github.com",
}
#: An absolute URL, or a scheme-relative one where a string or url( starts.
_URL = re.compile(r"(?:\b(?:https?|wss?|ftp):|(?<=[\"'(`=]))//([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("offline") / "site"
    build_site(DEMO_DATA, out, as_of=AS_OF, history=False, build_dir=out.parent / "build")
    return out


def test_no_file_of_the_site_names_unpkg(site: Path):
    named = [p.relative_to(site).as_posix() for p in site.rglob("*")
             if p.is_file() and b"unpkg" in p.read_bytes()]
    assert named == []


def test_scripts_and_styles_name_no_host_that_could_be_loaded(site: Path):
    found: dict[str, set[str]] = {}
    for path in site.rglob("*"):
        # Source maps are left out: developer tools read them, as text, never the page.
        if path.suffix in (".js", ".css", ".mjs") and path.is_file():
            for host in _URL.findall(path.read_text(encoding="utf-8", errors="replace")):
                if host not in TEXT_ONLY_HOSTS:
                    found.setdefault(host, set()).add(path.relative_to(site).as_posix())
    assert found == {}
    # The GitHub API is asked only for the repository facts of repo_url: no page has them.
    assert not [p for p in site.rglob("*.html") if 'data-md-component="source"' in p.read_text(encoding="utf-8")]


class _Loads(HTMLParser):
    """URLs a page makes the browser load: anything but <a href> (a hyperlink the reader may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name in ("src", "data", "poster", "action", "formaction", "background", "xlink:href", "srcset"):
                self.urls += value.split()
            elif name == "href" and tag not in ("a", "area"):
                rel = dict(attrs).get("rel") or ""
                if tag != "link" or not set(rel.split()) <= {"canonical", "alternate", "license", "author", "help"}:
                    self.urls.append(value)
            elif name == "style" or (name == "content" and tag == "meta"):
                self.urls += re.findall(r"url\(\s*['\"]?([^'\")\s]+)|url=(\S+)", value, re.I) and [
                    u for pair in re.findall(r"url\(\s*['\"]?([^'\")\s]+)|url=(\S+)", value, re.I) for u in pair if u]
        self._script = tag in ("script", "style")

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script:  # inline scripts and styles: any host they name counts
            self.urls += [m.group(0) for m in _URL.finditer(data) if m.group(1) not in ("www.w3.org",)]


def test_no_page_loads_from_another_host(site: Path):
    offenders = {}
    for page in site.rglob("*.html"):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        external = [u for u in parser.urls if re.match(r"\s*(?:[a-z][a-z0-9+.-]*:)?//", u, re.I)
                    and not u.startswith("data:")]
        if external:
            offenders[page.relative_to(site).as_posix()] = external
    assert offenders == {}


def test_the_local_polyfill_and_stub_are_shipped_and_addressed(site: Path):
    bundle = next((site / "assets" / "javascripts").glob("bundle.*.min.js")).read_text(encoding="utf-8")
    assert bundle.count('js/zq-resize-observer.js")') == 1 and bundle.count('js/zq-no-mermaid.js")') == 1
    assert (site / "assets/js/zq-resize-observer.js").read_bytes() == (
        REPO / "site_templates/assets/js/zq-resize-observer.js").read_bytes()
    assert (site / "assets/js/zq-no-mermaid.js").is_file()


def test_rewrite_is_idempotent_and_a_new_cdn_fails_the_build(tmp_path: Path):
    js = tmp_path / "assets" / "javascripts"
    js.mkdir(parents=True)
    (js / "bundle.x.min.js").write_text('a=_t("https://unpkg.com/resize-observer-polyfill");'
                                        "b=_t('https://unpkg.com/mermaid@12/dist/mermaid.min.js')", encoding="utf-8")
    (js / "bundle.x.min.js.map").write_text('{"sourcesContent":["_t(\\"https://unpkg.com/resize-observer-polyfill\\")"]}',
                                            encoding="utf-8")
    assert len(keep_requests_on_site(tmp_path)) == 2
    assert keep_requests_on_site(tmp_path) == []
    assert "unpkg" not in (js / "bundle.x.min.js").read_text(encoding="utf-8")
    assert "unpkg" not in (js / "bundle.x.min.js.map").read_text(encoding="utf-8")
    (tmp_path / "assets" / "extra.css").write_text("@import url(https://cdn.jsdelivr.net/x.css);", encoding="utf-8")
    with pytest.raises(ExternalAssetRequest, match="cdn.jsdelivr.net"):
        keep_requests_on_site(tmp_path)
