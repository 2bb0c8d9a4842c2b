"""Pages a citizen can use (issue 13), checked in Chromium at 1280 and 375 px.

- every list page shows its decisive columns (class ``zq-key``) inside the viewport,
  without scrolling sideways; on a phone each row is a card with the same facts;
- the lookup box lands on the exact records for a credit code, a contract number,
  a company name and a record id;
- the district-wide table of units sorts by each measure;
- at 特大字号 no big figure wraps and chart text is at least the body size; nothing is
  smaller than 14 px at the standard size;
- high contrast is remembered and passes axe's colour-contrast rule;
- the arrears list prints to PDF as a compact table with whole amounts, totals once
  and no addresses inside cells.

Screenshots of every page kind at both widths, and of the printed list (PDF and a
print-media screenshot), go to test-artifacts/.
"""

from __future__ import annotations

import io
import re
import unicodedata

import pytest

from e2e_support import AS_OF, REPO, assert_no_console_errors, assert_no_sideways_scroll, inject, write_mutant

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}
#: List pages whose tables carry decisive columns.
KEY_LIST_PAGES = ("/commitments/", "/arrears/", "/findings/", "/evaluations/", "/departments/")
#: Every page kind, for the screenshots.
PAGE_KINDS = {
    "home": "/", "commitments": "/commitments/", "arrears": "/arrears/", "findings": "/findings/",
    "evaluations": "/evaluations/", "tasks": "/tasks/", "departments": "/departments/",
    "commitment": "/commitments/CM-2024-001/", "arrears-item": "/arrears/AR-2023-001/",
    "finding": "/findings/DF-2026-002/", "department": "/departments/zjj/", "glossary": "/glossary/",
    "data": "/data/",
}


def tab_at(open_tab, server, width: str):
    w, h = WIDTHS[width]
    return open_tab(server, width=w, height=h)


# --- 1. decisive columns in view ---------------------------------------------------------

_KEY_CELLS_JS = """
() => {
  const width = window.innerWidth, out = [];
  const cells = [...document.querySelectorAll('table .zq-key')];
  for (const cell of cells) {
    if (!cell.offsetParent) continue;                     // hidden (filtered out, closed <details>)
    const head = cell.closest('thead');                   // phone cards: the header row is for screen readers only
    if (head && head.getBoundingClientRect().height <= 1) continue;
    const tr = cell.closest('tr');
    if (tr && tr.parentElement.tagName === 'TBODY' && tr.sectionRowIndex >= 40) continue;
    const r = cell.getBoundingClientRect();
    if (r.width === 0) continue;
    const wrap = cell.closest('.zq-table-wrap');
    const box = wrap ? wrap.getBoundingClientRect() : {left: 0, right: width};
    const right = Math.min(width, box.right), left = Math.max(0, box.left);
    if (r.right > right + 1 || r.left < left - 1)
      out.push((cell.closest('table').caption || {textContent: '?'}).textContent.trim() + ' | ' +
               (cell.dataset.label || cell.textContent.trim().slice(0, 20)) +
               ` right=${Math.round(r.right)} > ${Math.round(right)}`);
  }
  return {count: cells.length, outside: out.slice(0, 15)};
}
"""


def key_columns_outside(tab) -> tuple[int, list[str]]:
    m = tab.page.evaluate(_KEY_CELLS_JS)
    return m["count"], m["outside"]


@pytest.mark.parametrize("width", WIDTHS)
def test_key_columns_are_in_view_on_every_list_page(open_tab, demo_server, width):
    tab = tab_at(open_tab, demo_server, width)
    failures = []
    for path in KEY_LIST_PAGES:
        tab.open(path)
        count, outside = key_columns_outside(tab)
        assert count > 0, f"{path}: no decisive column is marked (class zq-key)"
        if outside:
            failures.append(f"{path} at {width}: " + "\n  ".join(outside))
        assert_no_sideways_scroll(tab, path)
    assert not failures, "decisive columns outside the viewport, reachable only by scrolling:\n" + "\n".join(failures)


def test_mutation_a_too_wide_table_hides_key_columns(open_tab, mutant_server, mutant_site):
    path = write_mutant(mutant_site, "arrears/index.html", "arrears-mutant/index.html",
                        lambda html: inject(html, "<style>.zq-table{min-width:2400px}</style>", before="</head>"))
    tab = tab_at(open_tab, mutant_server, "desktop")
    tab.open(path)
    count, outside = key_columns_outside(tab)
    assert count and outside, "the key-column check did not notice a table wider than the screen"


def test_full_width_lists_and_phone_cards(open_tab, demo_server):
    desk = tab_at(open_tab, demo_server, "desktop")
    desk.open("/arrears/")
    # No empty navigation column: the content starts near the left edge and spans the grid.
    box = desk.page.locator("article.md-content__inner").bounding_box()
    assert box["x"] < 80 and box["width"] > 1100, box
    assert not desk.page.locator(".md-sidebar--primary").is_visible()

    phone = tab_at(open_tab, demo_server, "phone")
    phone.open("/arrears/")
    card = phone.page.locator("table.zq-table--cards tbody tr").first
    assert card.evaluate("tr => getComputedStyle(tr).display") == "block"
    labels = card.evaluate("tr => [...tr.cells].map(td => getComputedStyle(td, '::before').content)")
    for label in ('"欠款金额"', '"未清偿余额"', '"清偿状态"'):
        assert label in labels, labels
    assert card.bounding_box()["width"] <= 375


@pytest.mark.parametrize("path", ["/commitments/CM-2025-003/", "/arrears/AR-2024-001/",
                                  "/findings/DF-2026-001/", "/departments/czj/"])
def test_record_and_department_pages_have_no_empty_navigation_column(open_tab, demo_server, path):
    """Record pages are stamped into engine shells; the shell hides the navigation column
    (its only entry would be the page itself), so the text starts at the left edge and the
    table of contents stays on the right."""
    desk = tab_at(open_tab, demo_server, "desktop")
    desk.open(path)
    assert not desk.page.locator(".md-sidebar--primary").is_visible()
    box = desk.page.locator("article.md-content__inner").bounding_box()
    assert box["x"] < 80 and box["width"] > 900, box
    assert desk.page.locator(".md-sidebar--secondary").is_visible()


def test_a_table_that_still_scrolls_says_so(open_tab, demo_server):
    """On a phone the per-debtor summary still scrolls: its box is marked and a hint precedes it."""
    tab = tab_at(open_tab, demo_server, "phone")
    tab.open("/arrears/")
    tab.page.wait_for_function("() => document.querySelector('.zq-table-wrap.zq-scrolls')")
    hints = tab.page.eval_on_selector_all(
        ".zq-table-wrap.zq-scrolls", "ws => ws.map(w => { const p = w.previousElementSibling;"
        " return p && p.classList.contains('zq-scroll-hint') && !p.hidden && p.offsetHeight > 0 ? p.textContent : null; })")
    assert hints and all(hints), hints
    assert "左右滑动" in hints[0]


# --- 2. lookup ------------------------------------------------------------------------------


def lookup(tab, query: str, submit: bool = False) -> list[tuple[str, str]]:
    """Type into the lookup box; return [(tier, record path)] of the results shown."""
    page = tab.page
    box = page.locator("form[data-zq-lookup] input[type=search]").first
    box.fill(query)
    if submit:
        box.press("Enter")
        return []
    page.wait_for_function("() => /找到|没有/.test(document.querySelector('.zq-lookup__status').textContent)")
    return page.eval_on_selector_all(
        ".zq-lookup__results li", "lis => lis.map(li => [li.querySelector('.zq-lookup__tier').textContent,"
        " new URL(li.querySelector('a').href).pathname])")


def test_lookup_finds_records_by_code_contract_name_and_id(open_tab, demo_server, demo_facts):
    tab = tab_at(open_tab, demo_server, "desktop")
    arrears = {a.record.id: a.record for a in demo_facts.arrears}
    code = "91210802MA0Q4K7B1T"
    with_code = {i for i, r in arrears.items() if r.creditor_code == code}
    assert len(with_code) == 2

    tab.open("/")
    # The index is a separate file, fetched only once the reader types.
    assert not any(r.endswith("/lookup.json") for r in tab.requests)
    results = lookup(tab, code.lower())  # typed in lower case: still an exact match
    assert any(r.endswith("/lookup.json") for r in tab.requests)
    exact = {p for tier, p in results if tier == "完全相同"}
    assert exact == {f"/arrears/{i}/" for i in with_code}
    assert [t for t, _ in results[: len(exact)]] == ["完全相同"] * len(exact)  # exact matches first

    # A unique credit code, a contract number and an id land on the record itself.
    for query, record in (("91210811MA0R1N5D89", "AR-2023-004"), ("ZQ-ZJ-2022-041", "AR-2023-001"),
                          ("ＡＲ－２０２４－００８", "AR-2024-008"), ("CM-2024-001", "CM-2024-001")):
        tab.open("/arrears/")
        with tab.page.expect_navigation():
            lookup(tab, query, submit=True)
        assert tab.page.url.endswith(("/arrears/" if record.startswith("AR") else "/commitments/") + record + "/"), (query, tab.page.url)

    # An exact company name lists exactly that company's records first; a prefix ranks that company above others.
    name = "营口某某医疗器械有限公司"
    mine = {f"/arrears/{i}/" for i, r in arrears.items() if r.creditor == name}
    tab.open("/findings/")
    results = lookup(tab, name)
    assert {p for t, p in results if t == "完全相同"} == mine and results[0][1] in mine
    results = lookup(tab, "营口市某某防水")
    assert tuple(results[0]) == ("开头相同", "/arrears/AR-2024-008/"), results[:3]
    assert lookup(tab, "完全不存在的企业") == []
    assert "没有" in tab.page.locator(".zq-lookup__status").first.text_content()
    assert_no_console_errors(tab, "lookup")


def test_creditor_filter_on_the_arrears_list(open_tab, demo_server, demo_facts):
    tab = tab_at(open_tab, demo_server, "desktop")
    name = "营口市某某建筑工程有限公司"
    expected = sum(a.record.creditor == name for a in demo_facts.arrears)
    tab.open("/arrears/")
    tab.page.select_option("select[data-filter=creditor]", name)
    shown = tab.page.eval_on_selector_all("table.zq-table--cards tbody tr:not([hidden])", "rs => rs.length")
    assert shown == expected > 1
    assert "creditor=" in tab.page.url


# --- 3. ranking and trends ------------------------------------------------------------------


def test_the_district_wide_table_sorts_by_each_measure(open_tab, demo_server, demo_facts):
    from generator.citizen import unit_rows

    units = unit_rows(demo_facts)
    tab = tab_at(open_tab, demo_server, "desktop")
    tab.open("/departments/")
    table = tab.page.locator("table.zq-ranking")
    assert table.locator("tbody tr").count() == len(units)

    def first_unit() -> str:
        return table.locator("tbody tr").first.locator("td").first.text_content().strip()

    def sort_by(header: str) -> None:
        table.locator("thead th", has_text=header).locator("button").click()

    sort_by("未清偿欠款")  # ascending first, then descending
    sort_by("未清偿欠款")
    assert first_unit() == max(units, key=lambda u: u.outstanding).name
    sort_by("逾期未兑现")
    sort_by("逾期未兑现")
    top = max(u.overdue_commitments for u in units)
    assert first_unit() in {u.name for u in units if u.overdue_commitments == top}
    sort_by("其中严重")
    sort_by("其中严重")
    top = max(u.serious_findings for u in units)
    assert first_unit() in {u.name for u in units if u.serious_findings == top}
    sort_by("最近评价")  # ascending: the best grade first
    best = min(u.latest.order for u in units if u.latest)
    assert first_unit() in {u.name for u in units if u.latest and u.latest.order == best}
    assert table.locator("th[aria-sort]").count() == 1


def test_evaluation_matrix_has_a_trend_per_unit(open_tab, demo_server):
    tab = tab_at(open_tab, demo_server, "desktop")
    tab.open("/evaluations/")
    matrix = tab.page.locator("table.zq-matrix").first
    rows = matrix.locator("tbody tr")
    assert rows.count() >= 20
    first = rows.first
    assert first.locator("svg.zq-spark[role=img] title").count() == 1
    assert re.search(r"(上升|下降|持平) ", first.locator("td.zq-trend").text_content())  # the numbers as text


def test_commitments_page_explains_its_two_measures(demo_tab):
    demo_tab.open("/commitments/")
    note = demo_tab.page.locator(".zq-note").first.text_content()
    assert "逾期未兑现" in note and "未兑现" in note and "期限" in note
    href = demo_tab.page.locator(".zq-note a.zq-term", has_text="逾期未兑现").first.get_attribute("href")
    assert href.endswith("glossary/#yuqiweiduixian")


# --- 4. 适老化 ---------------------------------------------------------------------------------

_SMALL_TEXT_JS = """
() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
    if (el.closest('svg, .md-search, [hidden], .md-visually-hidden, .zq-visually-hidden, .md-sidebar, .md-clipboard')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 13.95) out.push(`${el.tagName.toLowerCase()}.${el.className} ${size}px "${node.textContent.trim().slice(0, 20)}"`);
  }
  return [...new Set(out)].slice(0, 15);
}
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_under_14px_at_the_standard_size(open_tab, demo_server, width):
    tab = tab_at(open_tab, demo_server, width)
    failures = []
    for kind in ("home", "arrears", "findings", "departments", "evaluations", "tasks", "commitment", "arrears-item",
                 "finding", "department", "glossary"):
        tab.open(PAGE_KINDS[kind])
        small = tab.page.evaluate(_SMALL_TEXT_JS)
        if small:
            failures.append(f"{PAGE_KINDS[kind]}: " + "; ".join(small))
    assert not failures, "text under 14 px:\n" + "\n".join(failures)


_FIGURES_AND_CHARTS_JS = """
() => {
  const body = parseFloat(getComputedStyle(document.querySelector('article.md-content__inner')).fontSize);
  const wrapped = [...document.querySelectorAll('.zq-figure__value')].filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    return lines.size > 1 || el.scrollWidth > el.clientWidth + 1;
  }).map(el => el.textContent.trim());
  const charts = [...document.querySelectorAll('svg.zq-chart')].filter(s => s.getBoundingClientRect().width > 0)
    .map(svg => {
      const text = svg.querySelector('text');
      return {id: svg.id || svg.getAttribute('aria-labelledby'), px: text ? text.getBoundingClientRect().height : 0,
              size: text ? parseFloat(getComputedStyle(text).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 0};
    });
  return {body, wrapped, charts};
}
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_largest_text_no_figure_wraps_and_charts_grow(open_tab, demo_server, width):
    tab = tab_at(open_tab, demo_server, width)
    tab.context.add_init_script("try { localStorage.setItem('zq-text-size', 'xlarge'); } catch (e) {}")
    seen_charts = 0
    for path in ("/", "/arrears/", "/commitments/", "/arrears/AR-2023-001/", "/departments/zjj/", "/evaluations/"):
        tab.open(path)
        m = tab.page.evaluate(_FIGURES_AND_CHARTS_JS)
        assert m["body"] >= 22, f"特大字号 not applied on {path}: body {m['body']} px"
        assert not m["wrapped"], f"{path} at {width}, 特大字号: figures break across lines: {m['wrapped']}"
        for c in m["charts"]:
            seen_charts += 1
            assert c["size"] >= m["body"] - 0.5, f"{path} at {width}: chart {c['id']} text {c['size']:.1f} px < body {m['body']} px"
        assert_no_sideways_scroll(tab, f"{path} (特大字号)")
    assert seen_charts >= 4


_CHART_BOXES_JS = """
() => [...document.querySelectorAll('.zq-chart-box')].map(box => {
  const shown = [...box.querySelectorAll('svg.zq-chart')].filter(s => s.getBoundingClientRect().width > 0);
  return {id: box.querySelector('svg').getAttribute('aria-labelledby'), shown: shown.length,
          narrow: shown.length === 1 && shown[0].classList.contains('zq-chart--narrow'),
          scrolls: box.scrollWidth > box.clientWidth + 1};
})
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_charts_fit_the_screen_at_the_standard_size(open_tab, demo_server, width):
    """Each chart is drawn twice (charts.for_screens): a phone shows the narrow one, which fits
    the column with its text at the body size, so no value is hidden behind a sideways scroll."""
    tab = tab_at(open_tab, demo_server, width)
    seen = 0
    for path in ("/", "/arrears/", "/commitments/", "/departments/zjj/", "/evaluations/"):
        tab.open(path)
        for box in tab.page.evaluate(_CHART_BOXES_JS):
            seen += 1
            assert box["shown"] == 1, f"{path} at {width}: {box['id']} shows {box['shown']} charts"
            assert box["narrow"] == (width == "phone"), f"{path} at {width}: {box['id']} shows the wrong variant"
            assert not box["scrolls"], f"{path} at {width}: {box['id']} scrolls sideways"
    assert seen >= 5


# --- high contrast ----------------------------------------------------------------------------


def test_high_contrast_is_remembered_and_passes_axe_colour_contrast(open_tab, demo_server, screenshot_dir):
    from axe_playwright_python.sync_playwright import Axe

    tab = tab_at(open_tab, demo_server, "desktop")
    tab.open("/arrears/")
    button = tab.page.locator("button[data-zq-contrast]")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    assert tab.page.evaluate("document.documentElement.classList.contains('zq-contrast')")
    failures = []
    for path in ("/", "/arrears/", "/departments/", "/commitments/CM-2024-001/", "/findings/DF-2026-002/", "/glossary/"):
        tab.open(path)  # remembered across pages, applied before the first paint
        assert tab.page.evaluate("document.documentElement.classList.contains('zq-contrast')"), path
        assert tab.page.locator("button[data-zq-contrast]").get_attribute("aria-pressed") == "true"
        result = Axe().run(tab.page, options={"runOnly": {"type": "rule", "values": ["color-contrast"]}})
        bad = result.response.get("violations", [])
        if bad:
            failures.append(f"{path}: " + "; ".join(n["html"][:80] for v in bad for n in v["nodes"][:5]))
    tab.page.screenshot(path=str(screenshot_dir / "contrast-glossary-1280.png"))
    assert not failures, "colour contrast in high-contrast mode:\n" + "\n".join(failures)
    tab.page.locator("button[data-zq-contrast]").click()
    tab.open("/")
    assert not tab.page.evaluate("document.documentElement.classList.contains('zq-contrast')")


def test_jargon_links_to_the_glossary(demo_tab):
    from generator.citizen import GLOSSARY_ANCHORS

    demo_tab.open("/glossary/")
    for word, anchor in GLOSSARY_ANCHORS.items():
        assert demo_tab.page.locator(f"h2#{anchor}").text_content().strip().startswith(word), word
    linked = set()
    for path in ("/", "/commitments/", "/arrears/", "/findings/", "/tasks/"):
        demo_tab.open(path)
        linked |= set(demo_tab.page.eval_on_selector_all("a.zq-term", "as => as.map(a => new URL(a.href).hash.slice(1))"))
    assert {GLOSSARY_ANCHORS[w] for w in ("二次失信", "依法变更", "逾期公示", "清偿比例", "常态化")} <= linked, linked


# --- 5. print ---------------------------------------------------------------------------------


def test_arrears_list_prints_as_a_compact_table(open_tab, demo_server, demo_facts, screenshot_dir):
    from pypdf import PdfReader

    from generator.render import yuan

    tab = tab_at(open_tab, demo_server, "desktop")
    tab.open("/arrears/")
    pdf = tab.page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (screenshot_dir.parent / "arrears-print.pdf").write_bytes(pdf)
    tab.page.emulate_media(media="print")
    tab.page.screenshot(path=str(screenshot_dir / "arrears-print-1280.png"), full_page=True)

    # NFKC: the PDF's CJK font maps some characters to Kangxi radicals (⽋ for 欠).
    pages = [unicodedata.normalize("NFKC", p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages]
    text = "\n".join(pages)
    ids = [a.record.id for a in demo_facts.arrears]
    rows_per_page = [len(set(re.findall(r"AR-\d{4}-\d{3}", p)) & set(ids)) for p in pages]
    list_pages = [n for n in rows_per_page if n]
    assert sum(list_pages) >= len(ids), rows_per_page
    # Reasonable rows per page (it printed 7 pages of 4 rows before): the 28 rows take at most 3 pages,
    # and every page of the list but the last carries at least 10 of them.
    assert len(list_pages) <= 3 and all(n >= 10 for n in list_pages[:-1]), rows_per_page
    assert len(pages) <= 8, f"{len(pages)} pages"
    # Whole amounts: every amount prints on one line, never split mid-number.
    flat = [line.strip() for line in text.splitlines()]
    for a in demo_facts.arrears:
        assert any(yuan(a.record.amount).replace(" 元", "") in line for line in flat), yuan(a.record.amount)
    # The header repeats on every page of the list; the totals print once; no addresses in cells.
    header_pages = [p for p, n in zip(pages, rows_per_page) if n]
    assert all("未清偿余额" in p and "清偿状态" in p for p in header_pages)
    assert text.count("不随筛选变化") == 1
    assert "/arrears/AR-" not in text and "127.0.0.1" not in "".join(header_pages)


def test_record_pages_keep_headings_with_their_content(demo_tab):
    demo_tab.open("/arrears/AR-2023-001/")
    demo_tab.page.emulate_media(media="print")
    after = demo_tab.page.eval_on_selector_all(".md-typeset h2", "hs => hs.map(h => getComputedStyle(h).breakAfter)")
    assert after and set(after) == {"avoid"}, after
    assert not demo_tab.page.locator(".zq-doctools").is_visible()


# --- 6. the record page header block; staff guide -----------------------------------------------


def test_record_pages_carry_the_government_header_block(open_tab, demo_server, demo_facts):
    tab = tab_at(open_tab, demo_server, "desktop")
    for path in ("/commitments/CM-2024-001/", "/arrears/AR-2023-001/", "/findings/DF-2026-002/"):
        tab.open(path)
        head = tab.page.locator("table.zq-dochead")
        for label in ("索引号", "发布机构", "发布日期", "更新日期"):
            assert head.locator("th", has_text=label).count() == 1, (path, label)
        assert demo_facts.site.publisher in head.text_content()
        tools = tab.page.locator("[data-zq-doctools]")
        assert tools.is_visible() and "【打印】" in tools.text_content() and "【字号" in tools.text_content()
    tools.locator("button[data-size=xlarge]").click()
    assert tab.page.evaluate("document.documentElement.classList.contains('zq-text-xlarge')")
    tab.page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    tools.locator("button[data-zq-print]").click()
    assert tab.page.evaluate("window.__printed") == 1


def test_staff_guide_is_not_on_the_public_site(demo_site, demo_tab):
    assert not (demo_site / "guide").exists()
    demo_tab.open("/about/")
    assert demo_tab.page.locator("nav a", has_text="如何更新数据").count() == 0
    assert "content/guide.md" in (REPO / "README.md").read_text(encoding="utf-8")


# --- screenshots of every page kind ---------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_every_page_kind(open_tab, demo_server, screenshot_dir, width):
    tab = tab_at(open_tab, demo_server, width)
    w, h = WIDTHS[width]
    for kind, path in PAGE_KINDS.items():
        tab.open(path)
        target = screenshot_dir / f"kind-{kind}-{w}x{h}.png"
        tab.page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
    assert_no_console_errors(tab)
    assert AS_OF  # the demo site is built as of this date (see conftest)
