"""What a reader sees and does: figures, search, filters, sorting, links, the demo banner."""

from __future__ import annotations

import re
import urllib.parse

import pytest

from e2e_support import (
    TOUR,
    assert_no_console_errors,
    percent,
    search,
    wan,
)

pytestmark = pytest.mark.browser


def figures(page) -> list[tuple[str, str]]:
    """(label, value) of every headline figure on the page."""
    return page.eval_on_selector_all(
        ".zq-figure",
        "els => els.map(e => [(e.querySelector('.zq-figure__label') || {}).textContent || '',"
        " (e.querySelector('.zq-figure__value') || {}).textContent || ''].map(s => s.trim()))")


def test_home_loads_without_errors_and_shows_the_figures(demo_tab, demo_facts, screenshot_dir, open_tab, demo_server):
    tab = demo_tab
    tab.open("/")
    assert_no_console_errors(tab, "on the home page")
    s = demo_facts.summary
    t = s.arrears
    text = tab.page.inner_text("article")
    shown = [tuple(x) for x in figures(tab.page)]
    expected = [
        ("承诺总数", f"{s.commitments} 项"),
        ("已兑现", f"{s.commitments_kept} 项"),
        ("逾期未兑现", f"{s.commitments_overdue} 项"),
        ("未清偿余额", wan(t.outstanding)),
        ("已清偿", wan(t.repaid)),
        ("清偿比例", percent(t.share_cleared)),
        ("公示中", f"{s.findings_on_display} 条"),
    ]
    missing = [e for e in expected if e not in shown]
    assert not missing, f"home figures do not match the data: expected {missing}; the page shows {shown}"
    for _, value in expected:
        assert value in text
    assert f"认定欠款（{t.count} 笔）" in text
    assert "2026年11月26日" in text, "the as-of date is not on the home page"

    # Screenshots for people (and for review of the Chinese rendering): desktop and phone.
    tab.page.screenshot(path=str(screenshot_dir / "home-1280x900.png"), full_page=True)
    phone = open_tab(demo_server, width=375, height=812)
    phone.open("/")
    phone.page.screenshot(path=str(screenshot_dir / "home-375x812.png"), full_page=True)
    assert (screenshot_dir / "home-375x812.png").stat().st_size > 10_000


@pytest.mark.parametrize("path", TOUR[1:] + ("/arrears/", "/findings/", "/evaluations/", "/tasks/", "/departments/"))
def test_pages_load_without_javascript_errors(demo_tab, path):
    demo_tab.open(path)
    assert_no_console_errors(demo_tab, f"on {path}")
    assert demo_tab.page.locator("h1").count() == 1, f"{path}: expected exactly one <h1>"


@pytest.mark.parametrize("query, wanted", [
    ("拖欠", r"^/(arrears/AR|findings/DF)-\d{4}-\d{3}/$"),
    ("账款", r"^/(arrears/AR|findings/DF)-\d{4}-\d{3}/$"),
])
def test_chinese_search_finds_records(demo_tab, query, wanted):
    demo_tab.open("/")
    results = search(demo_tab, query)
    assert results, f"searching {query!r} found nothing (is jieba installed, is the separator right?)"
    assert any(re.search(wanted, r) for r in results), f"searching {query!r}: no result matches {wanted}: {results[:20]}"
    assert_no_console_errors(demo_tab, f"while searching {query!r}")


def test_department_search_reaches_the_department_page(demo_tab):
    demo_tab.open("/")
    results = search(demo_tab, "区住建局")
    assert "/departments/zjj/" in results, f"the page of 区住建局 is not among the results: {results[:20]}"


def visible_rows(page, selector="[data-zq-list] tbody tr"):
    return page.eval_on_selector_all(
        selector, "rows => rows.filter(r => !r.hidden && r.offsetParent !== null).map(r => ({"
        "status: r.dataset.status, department: r.dataset.department, year: r.dataset.year,"
        " cells: [...r.cells].map(c => c.hasAttribute('data-value') ? c.dataset.value : c.textContent.trim())}))")


def test_commitment_filter_by_status(demo_tab, demo_facts):
    page = demo_tab.page
    demo_tab.open("/commitments/")
    form = page.locator("form.zq-filters").first
    assert form.is_visible(), "the filter form stays hidden: zq.js did not run"
    total = len(demo_facts.commitments)
    count = form.locator(".zq-count")
    assert count.inner_text().strip() == f"显示 {total} 条，共 {total} 条"
    assert len(visible_rows(page)) == total

    status = "已兑现"
    expected = sum(1 for c in demo_facts.commitments if c.record.status == status)
    assert 0 < expected < total
    form.locator("select[data-filter='status']").select_option(status)
    rows = visible_rows(page)
    assert len(rows) == expected, f"filter {status}: {len(rows)} rows shown, the data has {expected}"
    assert {r["status"] for r in rows} == {status}
    assert count.inner_text().strip() == f"显示 {expected} 条，共 {total} 条"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query.get("status") == [status], f"the filter is not kept in the address: {page.url}"

    # A second filter narrows further; the reset button shows everything again.
    year = str(max(c.record.promised_on.year for c in demo_facts.commitments if c.record.status == status))
    form.locator("select[data-filter='year']").select_option(year)
    rows = visible_rows(page)
    expected2 = sum(1 for c in demo_facts.commitments if c.record.status == status and str(c.record.promised_on.year) == year)
    assert len(rows) == expected2 and all(r["year"] == year and r["status"] == status for r in rows)
    form.locator("button[type='reset']").click()
    page.wait_for_function(f"() => document.querySelector('.zq-count').textContent.includes('显示 {total} 条')")
    assert len(visible_rows(page)) == total
    assert_no_console_errors(demo_tab, "while filtering")


def test_filter_from_the_url(demo_tab, demo_facts):
    demo_tab.open("/commitments/?status=未兑现")
    rows = visible_rows(demo_tab.page)
    expected = sum(1 for c in demo_facts.commitments if c.record.status == "未兑现")
    assert len(rows) == expected and {r["status"] for r in rows} == {"未兑现"}


_ROWS_OF_TABLE = """th => [...th.closest('table').tBodies[0].rows].filter(r => !r.hidden)
  .map(r => { const c = r.cells[th.cellIndex]; return c.hasAttribute('data-value') ? c.dataset.value : c.textContent.trim(); })"""


def _sort_by(page, header_text):
    """Click the sort button of the first sortable column headed header_text; returns the th."""
    th = page.locator("[data-zq-list] thead th[data-sort]", has_text=header_text).first
    th.locator("button").click()
    return th


def test_sorting_by_date_and_by_number(demo_tab):
    page = demo_tab.page
    demo_tab.open("/commitments/")
    th = _sort_by(page, "兑现期限")
    assert th.get_attribute("aria-sort") == "ascending"
    values = th.evaluate(_ROWS_OF_TABLE)
    assert len(values) > 3 and values == sorted(values), f"ascending by 兑现期限: {values}"
    th.locator("button").click()
    assert th.get_attribute("aria-sort") == "descending"
    values = th.evaluate(_ROWS_OF_TABLE)
    assert values == sorted(values, reverse=True), f"descending by 兑现期限: {values}"

    demo_tab.open("/arrears/")
    th = _sort_by(page, "欠款金额")
    amounts = [float(v) for v in th.evaluate(_ROWS_OF_TABLE)]
    assert len(amounts) > 3 and amounts == sorted(amounts), f"ascending by amount (numeric, not text): {amounts}"
    # The sort control is a real button that a keyboard reaches.
    assert th.locator("button").evaluate("b => b.tagName") == "BUTTON"
    assert_no_console_errors(demo_tab, "while sorting")


def test_record_link_leads_to_the_record(demo_tab, demo_facts):
    page = demo_tab.page
    demo_tab.open("/commitments/")
    link = page.locator("[data-zq-list] tbody tr a[href*='CM-']").first
    title = link.inner_text().strip()
    record_id = re.search(r"CM-\d{4}-\d{3}", link.get_attribute("href")).group(0)
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/commitments/{record_id}/"), page.url
    h1 = page.locator("h1").inner_text().strip()
    record = next(c.record for c in demo_facts.commitments if c.record.id == record_id)
    assert record.title in h1 and title == record.title, f"h1 {h1!r}, link {title!r}, data {record.title!r}"

    demo_tab.open("/findings/")
    link = page.locator("[data-zq-list] tbody tr a[href*='DF-']").first
    record_id = link.inner_text().strip()
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/findings/{record_id}/")
    assert record_id in page.locator("h1").inner_text() or record_id in page.locator("article").inner_text()


def test_department_link_leads_to_the_department(demo_tab, demo_facts):
    page = demo_tab.page
    demo_tab.open("/arrears/")
    link = page.locator("[data-zq-list] tbody tr a[href*='departments/']").first
    name = link.inner_text().strip()
    link.click()
    page.wait_for_load_state("load")
    dept_id = re.search(r"/departments/([a-z0-9-]+)/$", page.url).group(1)
    assert demo_facts.department_names[dept_id] == name
    assert page.locator("h1").inner_text().strip() == name

    demo_tab.open("/departments/")
    link = page.locator("article a[href*='zjj']").first
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/departments/zjj/") and page.locator("h1").inner_text().strip() == "区住建局"


@pytest.mark.parametrize("path", TOUR)
def test_sample_banner_on_every_page(demo_tab, path):
    demo_tab.open(path)
    banner = demo_tab.page.locator(".zq-sample")
    assert banner.count() == 1 and banner.is_visible(), f"{path}: the 演示数据 banner is missing (sample: true)"
    assert "演示数据" in banner.inner_text()


def test_no_sample_banner_when_sample_is_false(open_tab, hostile_server):
    tab = open_tab(hostile_server)
    for path in ("/", "/commitments/", "/findings/DF-2026-002/"):
        tab.open(path)
        assert tab.page.locator(".zq-sample").count() == 0, f"{path}: demo banner shown although sample: false"
        assert "演示数据" not in tab.page.inner_text("body")
