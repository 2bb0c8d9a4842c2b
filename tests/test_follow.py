"""Following the site: department feeds, the feed stylesheet and page, the calendar of deadlines."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import feedparser
import icalendar
import pytest

from generator import calendar_ics, feed, opendata
from generator.workdays import WorkdayCalendar
from tests.test_letters import AS_OF, HIDDEN, facts_of


@pytest.fixture(scope="module")
def demo():
    return facts_of()


@pytest.fixture(scope="module")
def ics(demo) -> bytes:
    return calendar_ics.ics_bytes(demo)


def test_feeds_name_their_stylesheet_and_it_is_xslt(demo):
    main = opendata.atom_feed(demo)
    assert main.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<?xml-stylesheet type="text/xsl" href="feeds/feed.xsl"?>\n')
    files = feed.feed_files(demo)
    assert files["feeds/zjj.xml"].split(b"\n")[1] == b'<?xml-stylesheet type="text/xsl" href="../feeds/feed.xsl"?>'
    xsl = ET.fromstring(files["feeds/feed.xsl"])
    assert xsl.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    assert "订阅方法" in files["feeds/feed.xsl"].decode()
    assert feedparser.parse(main).bozo == 0


def test_a_department_feed_holds_that_departments_records_only(demo):
    files = feed.feed_files(demo)
    assert {p for p in files if p.endswith(".xml")} == {f"feeds/{d.department.id}.xml" for d in demo.departments}
    parsed = feedparser.parse(files["feeds/zjj.xml"])
    assert parsed.bozo == 0 and parsed.feed.title == "站前区诚信政府建设信息公开 更新：区住建局"
    zjj = {c.record.id for c in demo.commitments if c.record.department == "zjj"} | \
          {a.record.id for a in demo.arrears if a.record.debtor == "zjj"} | \
          {f.record.id for f in demo.findings if f.record.subject == "zjj"}
    ids = {e.link.rstrip("/").rsplit("/", 1)[1] for e in parsed.entries}
    assert ids and ids <= zjj
    expected = [c for c in demo.changes if c.record_id in zjj][: opendata.FEED_LIMIT]
    assert len(parsed.entries) == len(expected)
    assert parsed.feed.id == "tag:xygk.example.gov.cn,2024:feed/zjj"
    assert {l.rel: l.href for l in parsed.feed.links}["self"] == "https://xygk.example.gov.cn/feeds/zjj.xml"
    everything = b"".join(files.values()).decode()
    for hidden in HIDDEN:
        assert hidden not in everything


def test_the_feeds_page_says_how_to_subscribe(demo):
    page = feed.feeds_page(demo)
    assert page.startswith('---\ntitle: "订阅更新"')
    assert "复制上面的订阅地址，在订阅软件中选择“添加订阅”" in page
    assert "<code>https&#58;//xygk&#46;example&#46;gov&#46;cn/feeds/deadlines&#46;ics</code>" in page
    assert "| 区住建局 | <code>https&#58;//xygk&#46;example&#46;gov&#46;cn/feeds/zjj&#46;xml</code>（[打开](zjj.xml)） |" in page
    assert "订阅日历" in page


def test_the_calendar_parses_with_the_expected_events(demo, ics):
    cal = icalendar.Calendar.from_ical(ics)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal
    # DF-2026-005: an objection filed and not yet decided: its reply deadline, 15 working days on.
    finding = next(f for f in demo.findings if f.record.id == "DF-2026-005")
    pending = [o for o in finding.objections if not o.objection.decided_on]
    assert pending
    filed = pending[0].objection.filed_on
    reply = events[f"DF-2026-005/objection/{filed.isoformat()}/1@xygk.example.gov.cn"]
    assert reply["DTSTART"].dt == WorkdayCalendar().add_workdays(filed, 15)
    assert str(reply["SUMMARY"]) == "【演示数据】异议答复期限：跃进街道办事处拖欠账款（DF-2026-005）"
    # The end of disclosure of every finding on display.
    ends = {uid.split("/")[0]: e["DTSTART"].dt for uid, e in events.items() if "/disclosure-end@" in uid}
    assert ends == {f.record.id: f.disclosure_end for f in demo.findings}
    # Open commitments due on or after the as-of date.
    due = {uid.split("/")[0]: e["DTSTART"].dt for uid, e in events.items() if "/deadline@" in uid}
    assert due == {c.record.id: c.record.deadline for c in demo.commitments
                   if c.record.status in ("履行中", "部分兑现", "未兑现") and c.record.deadline >= AS_OF}
    assert due  # the demo has at least one
    # Unpaid instalments still to come.
    plans = [uid for uid in events if "/plan/" in uid]
    assert plans and all(events[u]["DTSTART"].dt >= AS_OF for u in plans)
    for e in events.values():  # all-day events, a stamp from the as-of date, nothing in the past
        assert e["DTSTART"].params.get("VALUE") == "DATE" and isinstance(e["DTSTART"].dt, date)
        assert e["DTEND"].dt == e["DTSTART"].dt.fromordinal(e["DTSTART"].dt.toordinal() + 1)
        assert e["DTSTAMP"].to_ical() == b"20261125T160000Z"
        assert e["DTSTART"].dt >= AS_OF
    for hidden in HIDDEN:
        assert hidden.encode() not in ics


def test_the_calendar_is_rfc5545_on_the_wire(ics, demo):
    assert ics.endswith(b"END:VCALENDAR\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    lines = ics.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # long Chinese summaries are folded …
    for line in lines:
        line.decode("utf-8")  # … never inside a character
    unfolded = ics.replace(b"\r\n ", b"")
    assert "异议答复期限：跃进街道办事处拖欠账款（DF-2026-005）".encode() in unfolded
    uids = [line for line in unfolded.split(b"\r\n") if line.startswith(b"UID:")]
    assert len(uids) == len(set(uids)) == len(calendar_ics.deadlines(demo))
    assert calendar_ics.ics_bytes(facts_of()) == ics  # the same facts, the same bytes


def test_text_is_escaped_and_folding_counts_octets():
    assert calendar_ics.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "汉" * 40
    folded = calendar_ics.fold(line).encode()
    parts = folded.split(b"\r\n")
    assert [len(p) for p in parts] == [74, 55] and b"".join(p.lstrip(b" ") for p in parts) == line.encode()


def test_calendar_lines_that_fit_are_not_walked_character_by_character():
    """fold() returns a line of at most 75 octets as it is; longer lines fold exactly as before."""
    import random

    from generator.calendar_ics import FOLD_OCTETS, fold

    def folded_before(line: str) -> str:
        out, current, size = [], [], 0
        for ch in line:
            n = len(ch.encode("utf-8"))
            limit = FOLD_OCTETS if not out else FOLD_OCTETS - 1
            if size + n > limit:
                out.append("".join(current))
                current, size = [], 0
            current.append(ch)
            size += n
        out.append("".join(current))
        return "\r\n ".join(out)

    rng = random.Random(5)
    for _ in range(3000):
        line = "".join(rng.choice("aZ,;中文é😀 ") for _ in range(rng.randint(0, 90)))
        assert fold(line) == folded_before(line), repr(line)


def test_department_feeds_from_the_cache_are_the_feeds_made_without_it(demo, tmp_path, monkeypatch):
    """With the build folder's cache, a department feed whose changes, settings and date are as in
    the last build is taken from it: the same bytes; a changed entry remakes its department's feed
    only; other settings remake every feed; a damaged cache file is made again, never used."""
    from dataclasses import replace

    made: list[str] = []
    atom_feed = feed.atom_feed
    monkeypatch.setattr(feed, "atom_feed", lambda facts, changes=None, **kw: made.append(kw["path"]) or
                        atom_feed(facts, changes, **kw))
    cache = tmp_path / "cache"
    plain = feed.feed_files(demo)
    feeds = {p for p in plain if p.endswith(".xml")}
    made.clear()
    assert feed.feed_files(demo, cache) == plain and set(made) == feeds
    made.clear()
    assert feed.feed_files(demo, cache) == plain and made == []

    by_dept = feed.changes_by_department(demo)
    dept = next(d for d, changes in by_dept.items() if changes)
    first = by_dept[dept][0]
    changed = replace(demo, changes=tuple(replace(c, title=c.title + "（改）") if c is first else c for c in demo.changes))
    expected = feed.feed_files(changed)
    made.clear()
    assert feed.feed_files(changed, cache) == expected and made == [feed.department_feed_path(dept)]
    assert expected[feed.department_feed_path(dept)] != plain[feed.department_feed_path(dept)]

    renamed = replace(demo, site=replace(demo.site, site_name=demo.site.site_name + "（新）"))
    made.clear()
    assert feed.feed_files(renamed, cache) == feed.feed_files(renamed) and set(made) == feeds
    later = replace(demo, as_of=date(2027, 1, 4))  # a department without changes dates its feed by the as-of date
    assert feed.feed_files(later, cache) == feed.feed_files(later)

    assert feed.feed_files(demo, cache) == plain
    stored = sorted((cache / "feeds").iterdir())
    assert len(stored) == len(feeds)  # only the last build's feeds are kept
    for i, path in enumerate(stored):
        data = path.read_bytes()
        path.write_bytes(data[:-3] if i % 2 else data[:-3] + b"<x>")
    made.clear()
    assert feed.feed_files(demo, cache) == plain and set(made) == feeds
