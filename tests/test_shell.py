"""The site shell: root mkdocs.yml, site_templates/overrides, site_templates/assets, content/*.md.

Each build here is a stub of what the render stage writes (build/mkdocs.yml inheriting the
root mkdocs.yml, one stub page per nav entry, one record page with a list table), built
with `mkdocs build --strict` exactly as CI does, so the shell is tested without the generator.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BASE_URL = "https://xygk.example.gov.cn/"
POLICY_URL = "https://xygk.example.gov.cn/policy/"
# Ordinary links the footer carries (the ICP and police filing registers), not resources.
LINK_HOSTS = {"xygk.example.gov.cn", "beian.miit.gov.cn", "beian.mps.gov.cn"}

# Pages the render stage writes and the root nav lists (they exist in every build).
NAV_PAGES = {
    "index.md": "首页",
    "commitments/index.md": "政府承诺",
    "arrears/index.md": "账款清偿",
    "findings/index.md": "失信记录",
    "evaluations/index.md": "评价结果",
    "tasks/index.md": "任务分工",
    "departments/index.md": "部门",
    "changes/index.md": "期限与金额变更",
    "data/index.md": "开放数据",
    "data/dictionary.md": "数据字典",
    "data/rules.md": "计算规则与法规依据",
    "feeds/index.md": "订阅更新",
}
CONTENT_PAGES = ["about.md", "policy.md", "objection.md", "methodology.md", "glossary.md"]

LIST_TABLE = """\
<div class="zq-list" data-zq-list>
  <form class="zq-filters" hidden>
    <label>部门 <select data-filter="department"><option value="">全部</option><option value="fgj">区发改局</option><option value="czj">区财政局</option></select></label>
    <label>状态 <select data-filter="status"><option value="">全部</option><option value="履行中">履行中</option><option value="已兑现">已兑现</option></select></label>
    <button type="reset">清除筛选</button>
    <p class="zq-count" aria-live="polite"></p>
  </form>
  <div class="zq-table-wrap" role="region" aria-label="政府承诺列表" tabindex="0">
    <table class="zq-table">
      <thead><tr><th scope="col" data-sort="text">事项</th><th scope="col" data-sort="date">期限</th><th scope="col" data-sort="number">金额</th></tr></thead>
      <tbody>
        <tr data-department="fgj" data-status="履行中"><td><a href="../CM-2024-002/">乙项目厂房建设补贴</a></td><td data-value="2024-12-31">2024年12月31日</td><td data-value="123456.78">12.35万元</td></tr>
        <tr data-department="czj" data-status="已兑现"><td><a href="../CM-2024-003/">甲企业落户奖励</a></td><td data-value="2025-06-30">2025年6月30日</td><td data-value="9000">0.90万元</td></tr>
        <tr data-department="fgj" data-status="已兑现"><td><a href="../CM-2024-004/">丙园区配套道路</a></td><td data-value="2023-03-01">2023年3月1日</td><td data-value="1500000">150.00万元</td></tr>
      </tbody>
    </table>
  </div>
</div>
"""


def zq_settings(**changes) -> dict:
    """extra.zq as the render stage writes it (contract in mkdocs.yml's header comment)."""
    zq = {
        "site_name": "站前区诚信政府建设信息公开",
        "publisher": "营口市站前区人民政府办公室",
        "region": "辽宁省营口市站前区",
        "sample": True,
        "as_of": "2026-11-26",
        "contact": {"hotline": "12345", "address": "辽宁省营口市站前区（演示地址）", "email": "xygk@example.gov.cn"},
        "identifiers": {"site_code": "2108020000", "icp": "辽ICP备00000000号", "police": "辽公网安备21080202000000号"},
        "policy": {
            "title": "营口市站前区人民政府关于加强诚信政府建设的实施意见",
            "issuer": "站前区人民政府",
            "date": "2024-02-22",
            "url": POLICY_URL,
        },
        "licence": {"name": "政府信息公开，可自由复制、引用，请注明来源", "url": BASE_URL + "about/"},
        "feed": "feed.xml",
    }
    zq.update(changes)
    return zq


def prepare_stub_site(workdir: Path, zq: dict) -> tuple[list[str], Path]:
    """Lay out build/ like the render stage does; return the strict build command and the site folder."""
    build = workdir / "build"
    docs = build / "docs"
    for rel, title in NAV_PAGES.items():
        page = docs / rel
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# {title}\n\n{title}的桩页面。\n", encoding="utf-8")
    record = docs / "commitments" / "CM-2024-001.md"
    record.write_text("# CM-2024-001 招商引资承诺\n\n" + LIST_TABLE, encoding="utf-8")
    for md in CONTENT_PAGES:
        shutil.copy(ROOT / "content" / md, docs / md)
    shutil.copytree(ROOT / "site_templates" / "assets", docs / "assets")
    site = workdir / "site"
    child = {
        "INHERIT": str(ROOT / "mkdocs.yml"),
        "docs_dir": "docs",
        "site_dir": str(site),
        "site_name": zq["site_name"],
        "site_url": BASE_URL,
        "theme": {"custom_dir": str(ROOT / "site_templates" / "overrides")},
        "extra": {"zq": zq},
    }
    config = build / "mkdocs.yml"
    config.write_text(yaml.safe_dump(child, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)], site


def build_stub_sites(*jobs: tuple[Path, dict]) -> list[Path]:
    """Build several stub sites side by side (each build spends a second loading jieba)."""
    prepared = [prepare_stub_site(workdir, zq) for workdir, zq in jobs]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd, _ in prepared]
    for run in runs:
        _, stderr = run.communicate()
        assert run.returncode == 0, f"mkdocs build --strict failed:\n{stderr}"
        # Warnings already fail --strict; pages left out of nav on purpose must not be listed either.
        assert 'not included in the "nav"' not in stderr
    return [site for _, site in prepared]


@pytest.fixture(scope="module")
def stub_sites(tmp_path_factory) -> tuple[Path, Path]:
    """(sample_site, plain_site): the first as the render stage writes it for the demo data; the second
    with sample off, no optional identifiers and a hostile publisher value."""
    plain = zq_settings(sample=False, identifiers={}, publisher='<script>alert("x")</script>办公室')
    sample_site, plain_site = build_stub_sites(
        (tmp_path_factory.mktemp("sample"), zq_settings()), (tmp_path_factory.mktemp("plain"), plain))
    return sample_site, plain_site


@pytest.fixture(scope="module")
def sample_site(stub_sites) -> Path:
    return stub_sites[0]


@pytest.fixture(scope="module")
def plain_site(stub_sites) -> Path:
    return stub_sites[1]


def html_pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


def test_strict_build_writes_every_page(sample_site):
    expected = [rel[:-3].removesuffix("index") for rel in NAV_PAGES] + [m[:-3] + "/" for m in CONTENT_PAGES]
    for url in expected + ["commitments/CM-2024-001/"]:
        assert (sample_site / url / "index.html").is_file(), url
    assert (sample_site / "assets/css/zq.css").is_file()
    assert (sample_site / "assets/js/zq.js").is_file()


def test_sample_banner_only_when_sample(sample_site, plain_site):
    banner = "演示数据：</strong>本站内容为演示用的虚构数据，不代表真实情况。"
    for name, text in html_pages(sample_site).items():
        if name != "404.html":
            assert banner in text, name
    for name, text in html_pages(plain_site).items():
        assert "演示数据：" not in text, name


def test_every_page_shows_as_of_footer_and_stale_notice(sample_site):
    for name, text in html_pages(sample_site).items():
        if name == "404.html":
            continue
        assert '数据截至：<time datetime="2026-11-26">2026年11月26日</time>' in text, name
        assert re.search(r'<div class="zq-stale" data-zq-stale data-as-of="2026-11-26"[^>]*hidden>', text), name
        for value in ("营口市站前区人民政府办公室", "投诉举报热线：12345", "xygk@example.gov.cn",
                      "网站标识码：2108020000", "辽ICP备00000000号", "辽公网安备21080202000000号"):
            assert value in text, (name, value)
        assert "data-zq-textsize" in text, name


def test_optional_identifiers_are_left_out(plain_site):
    text = (plain_site / "index.html").read_text(encoding="utf-8")
    assert "网站标识码" not in text and "ICP" not in text and "公网安备" not in text
    assert "投诉举报热线：12345" in text


def test_feed_link_in_head(sample_site):
    for url in ("index.html", "about/index.html", "commitments/CM-2024-001/index.html"):
        head = (sample_site / url).read_text(encoding="utf-8").split("</head>")[0]
        link = re.search(r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" href="([^"]+)">', head)
        assert link, url
        assert link.group(1) == "站前区诚信政府建设信息公开更新订阅"
        assert link.group(2).endswith("feed.xml")


def test_publisher_value_is_escaped(plain_site):
    text = (plain_site / "about/index.html").read_text(encoding="utf-8")
    assert '<script>alert("x")</script>' not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;办公室" in text


class _Resources(HTMLParser):
    """Collects every URL a page would load (not ordinary <a> links) and every <a href>."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs.get("href") or "")
        for key in ("src", "srcset", "poster", "data", "action", "formaction"):
            if attrs.get(key):
                self.loads.append(attrs[key])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])
        self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", attrs.get("style") or "")

    def handle_data(self, data):
        self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
        self.loads += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def _host(url: str) -> str | None:
    return urlsplit(url).hostname if url.startswith(("http://", "https://", "//")) else None


def test_nothing_is_loaded_from_another_host(sample_site):
    own = urlsplit(BASE_URL).hostname
    for name, text in html_pages(sample_site).items():
        parser = _Resources()
        parser.feed(text)
        foreign = [u for u in parser.loads if _host(u) not in (None, own)]
        assert not foreign, (name, foreign)
        odd_links = [u for u in parser.links if _host(u) not in (None, *LINK_HOSTS)]
        assert not odd_links, (name, odd_links)
        assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text
    for asset in ("assets/css/zq.css", "assets/js/zq.js", "assets/js/zq-textsize.js"):
        assert not re.search(r"https?://", (sample_site / asset).read_text(encoding="utf-8")), asset


def test_chinese_search_index(sample_site):
    index = json.loads((sample_site / "search/search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["zh"]
    separator = re.compile(index["config"]["separator"])  # Python's re reads \u200b like JavaScript
    assert separator.split("信用\u200b修复") == ["信用", "修复"]
    words = {
        word
        for doc in index["docs"] if doc["location"].startswith("objection/")
        for word in separator.split(doc["text"] + " " + doc["title"])
    }
    assert {"异议", "修复", "热线"} <= words


def test_chinese_heading_ids_and_policy_source(sample_site):
    objection = (sample_site / "objection/index.html").read_text(encoding="utf-8")
    assert 'id="信用修复"' in objection
    policy = (sample_site / "policy/index.html").read_text(encoding="utf-8")
    policy = policy[policy.index("<article"):]
    heading_end = policy.index("</h1>")
    source = policy.index("原文出处")
    assert heading_end < source < policy.index("指导思想和工作目标")
    assert f'<a href="{POLICY_URL}">《营口市站前区人民政府关于加强诚信政府建设的实施意见》</a>' in policy


def test_list_markup_reaches_the_page(sample_site):
    text = (sample_site / "commitments/CM-2024-001/index.html").read_text(encoding="utf-8")
    assert "data-zq-list" in text and 'data-sort="number"' in text
    assert re.search(r'<script src="[./]*assets/js/zq\.js"></script>', text)


def test_content_pages_state_the_configured_rules():
    """content/*.md repeat a few numbers from data/site.yaml in prose: they must not drift apart."""
    site_yaml = ROOT / "data" / "site.yaml"
    rules = yaml.safe_load(site_yaml.read_text(encoding="utf-8"))["rules"]
    objection = (ROOT / "content/objection.md").read_text(encoding="utf-8")
    methodology = (ROOT / "content/methodology.md").read_text(encoding="utf-8")
    assert f"**{rules['objection_reply_workdays']} 个工作日**" in objection
    assert f"{rules['serious_publish_workdays']} 个工作日" in methodology
    payment = rules["payment"]
    assert f"（{payment['default_daily_rate']}%）" in methodology
    assert f"{payment['default_term_days']} 日内" in methodology
    assert f"最长不超过 {payment['max_term_days']} 日" in methodology


def test_scripts_stay_small():
    assert (ROOT / "site_templates/assets/js/zq.js").stat().st_size < 15000  # the lookup box is the largest part


# --- zq.js in a real browser --------------------------------------------------------------



@pytest.fixture(scope="module")
def browser_page(sample_site, browser):
    """A 375 px wide Chromium page and the URL of the stub site served over HTTP."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(sample_site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: None if request.url.startswith(base) else problems.append(request.url))
    yield page, base, problems
    context.close()
    server.shutdown()


@pytest.mark.browser
def test_list_filters_sort_and_text_size(browser_page):
    page, base, problems = browser_page
    page.goto(base + "commitments/CM-2024-001/?department=fgj")
    count = page.locator(".zq-count")
    assert page.is_visible(".zq-filters") and count.text_content() == "显示 2 条，共 3 条"
    page.select_option("select[data-filter=status]", "已兑现")
    assert count.text_content() == "显示 1 条，共 3 条"
    assert "department=fgj" in page.url and "status=" in page.url
    page.click(".zq-filters button[type=reset]")
    page.wait_for_function("document.querySelector('.zq-count').textContent === '显示 3 条，共 3 条'")
    assert "?" not in page.url

    amounts = "Array.from(document.querySelectorAll('tbody tr td:nth-child(3)'), td => td.dataset.value)"
    page.click("th[data-sort=number] button")
    assert page.evaluate(amounts) == ["9000", "123456.78", "1500000"]
    assert page.get_attribute("th[data-sort=number]", "aria-sort") == "ascending"
    page.click("th[data-sort=number] button")
    assert page.evaluate(amounts) == ["1500000", "123456.78", "9000"]
    page.click("th[data-sort=date] button")
    assert page.get_attribute("th[data-sort=number]", "aria-sort") is None
    assert page.evaluate("document.querySelector('tbody td:nth-child(2)').dataset.value") == "2023-03-01"

    # The data is as of 2026-11-26; a browser clock three days later shows the stale notice.
    page.clock.set_fixed_time("2026-11-29T12:00:00+08:00")
    page.reload()
    assert page.is_visible(".zq-stale")
    page.clock.set_fixed_time("2026-11-28T23:59:00+08:00")
    page.reload()
    assert not page.is_visible(".zq-stale")

    page.click("button[data-size=large]")
    page.goto(base + "methodology/")
    assert "zq-text-large" in page.get_attribute("html", "class")
    assert page.get_attribute("button[data-size=large]", "aria-pressed") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.click("button[data-size=standard]")
    assert "zq-text-large" not in page.get_attribute("html", "class")
    assert problems == []


@pytest.mark.browser
def test_pages_pass_axe_and_chinese_search_finds_a_word(browser_page):
    page, base, problems = browser_page
    axe = __import__("axe_playwright_python.sync_playwright", fromlist=["Axe"]).Axe()
    for url in ("commitments/CM-2024-001/", "methodology/", "objection/"):
        page.goto(base + url)
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
        violations = [(v["id"], [n["target"] for n in v["nodes"]])
                      for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert violations == [], url
    page.click("label.md-header__button[for=__search]")
    page.fill("input.md-search__input", "信用修复")
    page.keyboard.press("End")  # Material reads the query on keyup
    page.wait_for_selector(".md-search-result__item")
    assert "异议与投诉" in page.text_content(".md-search-result__list").replace("\u200b", "")
    assert problems == []


# --- copies of Material partials -----------------------------------------------------------

COPIED_PARTIALS = {
    # file: (Material's text, our text) — the only changes our copies make.
    "search.html": ('role="dialog">', 'role="dialog" aria-label="{{ lang.t(\'search.placeholder\') }}">'),
    "nav-item.html": ('tabindex="{{ tabindex }}"', '{% if tabindex %}tabindex="{{ tabindex }}"{% endif %}'),
}


@pytest.mark.parametrize("name", sorted(COPIED_PARTIALS))
def test_copied_material_partials_follow_installed_material(name):
    """After a Material upgrade, re-copy the partial and re-apply the one change named here."""
    material = __import__("material")

    def body(text: str) -> str:  # drop the leading {#- … -#} comment
        return text.split("-#}", 1)[1] if text.lstrip().startswith("{#-") else text

    theirs = body((Path(material.__file__).parent / "templates/partials" / name).read_text(encoding="utf-8"))
    ours = body((ROOT / "site_templates/overrides/partials" / name).read_text(encoding="utf-8"))
    old, new = COPIED_PARTIALS[name]
    assert old in theirs
    assert ours == theirs.replace(old, new)
