"""On a 375 px phone nothing scrolls sideways; wide tables scroll inside .zq-table-wrap."""

from __future__ import annotations

import pytest

from e2e_support import (
    DATA_PAGE,
    DEPARTMENT_PAGE,
    LIST_PAGES,
    RECORD_PAGES,
    assert_no_sideways_scroll,
    inject,
    unwrapped_tables,
    write_mutant,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
PAGES = ("/", *LIST_PAGES, *RECORD_PAGES, DEPARTMENT_PAGE, DATA_PAGE, "/data/dictionary/")


@pytest.fixture
def phone(open_tab, demo_server):
    return open_tab(demo_server, **PHONE)


def test_no_sideways_scroll_on_a_phone(phone):
    failures = []
    for path in PAGES:
        phone.open(path)
        try:
            assert_no_sideways_scroll(phone, path)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)


def test_wide_tables_scroll_inside_their_wrapper(phone):
    """The arrears list is wider than a phone: its wrapper scrolls, the page does not."""
    phone.open("/arrears/")
    wraps = phone.page.eval_on_selector_all(
        ".zq-table-wrap", "ws => ws.map(w => ({scroll: w.scrollWidth, client: w.clientWidth,"
        " ox: getComputedStyle(w).overflowX, caption: (w.querySelector('caption') || {}).textContent}))")
    widest = max(wraps, key=lambda w: w["scroll"] - w["client"])
    assert widest["scroll"] > widest["client"], f"no table on /arrears/ is wider than 375 px? {wraps}"
    assert widest["ox"] in ("auto", "scroll"), widest
    assert_no_sideways_scroll(phone, "/arrears/")


def test_mutation_a_wide_element_is_caught(open_tab, mutant_server, mutant_site):
    path = write_mutant(mutant_site, "commitments/CM-2024-001/index.html", "commitments/CM-mutant-wide/index.html",
                        lambda html: inject(html, '<div style="width:1200px">太宽的内容</div>'))
    tab = open_tab(mutant_server, **PHONE)
    tab.open(path)
    with pytest.raises(AssertionError, match="scrolls sideways"):
        assert_no_sideways_scroll(tab, path)


def test_every_data_table_sits_in_a_scrolling_wrapper(demo_site):
    """The contract behind the check above, over every page: table.zq-table only inside .zq-table-wrap."""
    bare = unwrapped_tables(demo_site)
    assert not bare, (f"{len(bare)} data tables outside a <div class=\"zq-table-wrap\">, which widen the page on a phone:\n"
                      + "\n".join(bare))


def test_no_sideways_scroll_with_the_largest_text(open_tab, demo_server):
    """适老化: with 特大字号 chosen (saved in localStorage) a phone still does not scroll sideways."""
    tab = open_tab(demo_server, **PHONE)
    tab.context.add_init_script("try { localStorage.setItem('zq-text-size', 'xlarge'); } catch (e) {}")
    failures = []
    for path in ("/", "/commitments/", *RECORD_PAGES, DEPARTMENT_PAGE):
        tab.open(path)
        assert tab.page.evaluate("document.documentElement.classList.contains('zq-text-xlarge')"), \
            "the saved text size was not applied"
        try:
            assert_no_sideways_scroll(tab, f"{path} (特大字号)")
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)


def test_mutation_unwrapped_table_is_caught(tmp_path):
    (tmp_path / "index.html").write_text(
        '<div class="zq-table-wrap"><table class="zq-table"><caption>包好的</caption></table></div>'
        '<div><table class="zq-table"><caption>裸表</caption></table></div>', encoding="utf-8")
    assert unwrapped_tables(tmp_path) == ['index.html:1: <table class="zq-table"> 《裸表》']
