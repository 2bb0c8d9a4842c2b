"""Readers act and follow: print a finding's objection letter, read the feeds in the browser."""

from __future__ import annotations

import io
import unicodedata

import pytest

from e2e_support import assert_no_console_errors, foreign_requests

pytestmark = pytest.mark.browser


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    # Chromium's CJK subsets map some characters to compatibility forms (⽰ for 示): fold them back.
    return "".join(unicodedata.normalize("NFKC", text).split())


def test_a_finding_letter_opens_from_its_page_and_prints_to_pdf(demo_tab, demo_facts):
    from generator.workdays import WorkdayCalendar

    tab = demo_tab
    tab.open("/findings/DF-2026-005/")
    box = tab.page.locator(".zq-objection")
    assert "认定机关区发改局核查处理" in "".join(box.inner_text().split())
    with tab.page.expect_navigation():
        box.get_by_role("link", name="打印预填的异议申请书").click()
    assert tab.page.url.endswith("/letters/DF-2026-005.html")
    due = WorkdayCalendar().add_workdays(demo_facts.as_of, demo_facts.site.rules.objection_reply_workdays)
    shown = tab.page.locator("#zq-due").inner_text()
    assert shown.startswith(f"{due.year}年{due.month}月{due.day}日")
    pdf = tab.page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert "信用信息异议申请书" in text and "DF-2026-005" in text
    assert "认定机关区发改局" in text and "本记录由区发改局认定" in text
    assert "区发改局信用建设科" in text and "0417-0000101" in text
    assert f"答复期限:{due.year}年{due.month}月{due.day}日" in text  # NFKC: the full-width colon is folded too
    assert "返回记录页面" not in text  # the screen-only bar is not printed
    assert_no_console_errors(tab, "on the letter")
    assert foreign_requests(tab) == []


def test_the_reply_deadline_follows_the_chosen_filing_date(demo_tab):
    from datetime import date, timedelta

    from generator.workdays import WorkdayCalendar

    from generator.letters import workday_table

    tab = demo_tab
    tab.open("/letters/AR-2024-001.html")
    calendar = WorkdayCalendar()
    for filed in (date(2026, 9, 28), date(2026, 1, 30)):  # across National Day and the Spring Festival
        tab.page.fill("#zq-filed", filed.isoformat())
        due = calendar.add_workdays(filed, 15)
        shown = tab.page.locator("#zq-due").inner_text()
        assert shown.startswith(f"{due.year}年{due.month}月{due.day}日") and "估算" not in shown, filed
    # A deadline in a year the official calendar does not cover yet: weekdays, marked as an estimate,
    # the same date the generator computes.
    table = workday_table(calendar, date(2026, 11, 26))
    filed = table.end - timedelta(days=3)
    due, estimated = table.add_workdays(filed, 15)
    assert estimated
    tab.page.fill("#zq-filed", filed.isoformat())
    shown = tab.page.locator("#zq-due").inner_text()
    assert shown.startswith(f"{due.year}年{due.month}月{due.day}日") and "估算：该年节假日安排尚未公布" in shown
    assert_no_console_errors(tab, "on the letter")


def test_the_letter_without_javascript_states_the_rule(open_tab, demo_server, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(demo_server.url("/letters/DF-2026-005.html"))
        text = "".join(page.inner_text("body").split())
        assert "自收到申请的次一工作日起算，15个工作日内书面答复" in text
        assert "以上答复期限按2026-11-26提交计算" in text
    finally:
        context.close()


def test_the_feeds_render_as_pages(demo_tab):
    tab = demo_tab
    tab.open("/feeds/")
    assert tab.page.locator("h1").inner_text() == "订阅更新"
    article = "".join(tab.page.inner_text("article").split())
    assert "复制上面的订阅地址" in article and "订阅日历" in article
    assert tab.page.locator("a[href='zjj.xml']").count() == 1
    # The Atom feed itself, through its XSLT stylesheet: a page, not an XML tree.
    tab.open("/feed.xml")
    assert tab.page.locator("html").get_attribute("lang") == "zh-CN"
    assert tab.page.locator("h1").inner_text().endswith("更新")
    assert "订阅方法" in tab.page.inner_text("body")
    assert tab.page.locator("li a").count() > 5
    tab.open("/feeds/zjj.xml")
    assert tab.page.locator("h1").inner_text().endswith("区住建局")
    assert_no_console_errors(tab, "on the feed pages")
    assert foreign_requests(tab) == []
