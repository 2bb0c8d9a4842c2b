"""No silent edits, as a reader sees it: the deadline and amount change page, a record's change
log beside its history, and the tombstone of a withdrawn record (demo data)."""

from __future__ import annotations

import pytest

from e2e_support import assert_no_console_errors

pytestmark = pytest.mark.browser

CHANGED = "CM-2025-003"  # the demo's lawful change of a deadline, with its change-log entry
WITHDRAWN = "CM-2025-006"  # the demo's withdrawn commitment


def test_drift_page_lists_the_change_and_leads_to_the_change_log(demo_tab, demo_facts):
    entry = next(d for d in demo_facts.drift if d.record_id == CHANGED)
    page = demo_tab.page
    demo_tab.open("/changes/")
    assert_no_console_errors(demo_tab, "on the drift page")
    assert page.locator("h1").inner_text().strip() == "期限与金额变更"
    rows = page.locator("table.zq-drift tbody tr")
    assert rows.count() == len(demo_facts.drift)
    row = rows.filter(has_text=CHANGED)
    assert row.count() == 1
    text = row.inner_text()
    assert "兑现期限" in text and entry.entry.reason in text and entry.entry.basis in text
    # the drift page is in the navigation
    assert page.locator("nav a", has_text="期限与金额变更").count() >= 1

    row.locator("a").first.click()
    page.wait_for_load_state()
    assert page.url.rstrip("/").endswith(f"/commitments/{CHANGED}")
    log = page.locator("ol.zq-changelog")
    assert log.is_visible(), "the record page shows no change log"
    entry_text = log.locator("li.zq-changelog__entry").first.inner_text()
    assert "兑现期限" in entry_text and entry.entry.what in entry_text
    assert entry.entry.reason in entry_text and entry.entry.document in entry_text
    # the change log sits beside the field history: the next section is 修改记录, and the
    # page's table of contents leads to it
    headings = [h.strip() for h in page.locator("article h2").all_inner_texts()]
    assert headings.index("变更说明") + 1 == headings.index("修改记录")
    assert page.locator("article h2#变更说明").count() == 1
    assert_no_console_errors(demo_tab, f"on {CHANGED}")


def test_withdrawn_commitment_keeps_a_tombstone_page(demo_tab, demo_facts):
    facts = next(c for c in demo_facts.commitments if c.record.id == WITHDRAWN)
    record, withdrawal = facts.record, facts.withdrawal
    page = demo_tab.page
    demo_tab.open(f"/commitments/{WITHDRAWN}/")
    assert_no_console_errors(demo_tab, "on the tombstone page")
    tombstone = page.locator(".zq-tombstone")
    assert tombstone.is_visible(), "the withdrawn record has no tombstone notice"
    text = tombstone.inner_text()
    assert "撤回" in text and withdrawal.reason in text and withdrawal.document in text
    assert tombstone.locator("time").get_attribute("datetime") == withdrawal.date.isoformat()
    # what it was stays readable below the notice
    assert record.title in page.locator("h1").inner_text()
    assert "已撤回" in page.locator(".zq-badges").inner_text()
    # and the list still carries it, with its status
    demo_tab.open("/commitments/")
    row = page.locator("[data-zq-list] tbody tr", has_text=WITHDRAWN)
    assert row.count() == 1 and row.get_attribute("data-status") == "已撤回"
