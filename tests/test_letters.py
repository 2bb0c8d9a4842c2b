"""Objection letters (generator/letters.py): who decides, how to reach them, the reply deadline."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from generator import letters, pack
from generator.derive import derive
from generator.extras import write_extras
from generator.load import load
from generator.validate import validate
from generator.workdays import WorkdayCalendar
from tests.conftest import DEMO_DATA, edit

AS_OF = date(2026, 11, 26)
# DF-2024-001 is on display: order 58 publishes it up to three years (to 2027-04-12).
HIDDEN = ("DF-2024-002", "DF-2025-001", "DF-2025-003", "DF-2026-004")


def facts_of(data_dir: Path = DEMO_DATA, as_of: date = AS_OF):
    report = validate(load(data_dir))
    assert report.dataset is not None, [p.text() for p in report.errors]
    return derive(report.dataset, as_of)


@pytest.fixture(scope="module")
def demo():
    return facts_of()


@pytest.fixture(scope="module")
def files(demo):
    return letters.letter_files(demo)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_table_gives_the_calendars_deadlines_every_day(demo):
    calendar = WorkdayCalendar()
    table = letters.workday_table(calendar, AS_OF)
    assert table.start == date(2025, 1, 1) and calendar.covers(table.end.year)
    day = date(2025, 1, 1)
    while day + timedelta(days=40) <= table.end:  # every filing date whose deadline the table covers
        assert table.add_workdays(day, 15) == (calendar.add_workdays(day, 15), False), day
        day += timedelta(days=1)
    # National Day week 2026: filed Monday 28 September, 15 working days is Friday 23 October
    # (10 Oct, a Saturday, is a make-up working day).
    assert table.add_workdays(date(2026, 9, 28), 15) == (date(2026, 10, 23), False)


def test_beyond_the_official_calendar_weekdays_count_as_an_estimate():
    table = letters.WorkdayTable(date(2026, 1, 1), "1" * 365)
    due, estimated = table.add_workdays(date(2026, 12, 28), 15)
    assert estimated and due == date(2027, 1, 18)  # 3 days in the table, then Mon–Fri only
    assert letters.WorkdayTable(date(2026, 1, 1), "").add_workdays(date(2026, 1, 2), 1) == (date(2026, 1, 5), True)


def test_the_table_script_matches_the_table(files):
    script = files["letters/workdays.js"].decode()
    m = re.search(r'window\.ZQ_WORKDAYS = \{"start":"(\d{4}-\d{2}-\d{2})","days":"([01]+)"\};', script)
    assert m and m.group(1) == "2025-01-01"
    calendar = WorkdayCalendar()
    start = date.fromisoformat(m.group(1))
    for offset in (0, 273, 638, 639, 645, len(m.group(2)) - 1):  # 2026-10-01 is offset 638
        day = start + timedelta(days=offset)
        assert m.group(2)[offset] == ("1" if calendar.is_workday(day) else "0"), day


def test_a_finding_letter_names_the_record_its_authority_and_the_deadline(files, demo):
    x = next(f for f in demo.findings if f.record.id == "DF-2026-005")
    html = files["letters/DF-2026-005.html"].decode()
    text = text_of(html)
    assert "<h1>信用信息异议申请书</h1>" in html
    assert "记录编号 DF-2026-005" in text and "认定机关 区发改局" in text
    assert "本记录由 区发改局 认定。对失信信息的异议由认定机关核查处理并书面答复" in text
    assert "受理科室 区发改局信用建设科" in text and "电话 0417-0000101（演示号码）" in text
    assert "地址 （演示地址）辽宁省营口市站前区建设街道某某路 10 号 3 楼 301 室" in text
    assert "受理时间 工作日 8:30—11:30、13:30—17:00（演示）" in text
    assert x.record.summary.split("，")[0] in text and f"公示截止 {x.disclosure_end.isoformat()}" in text
    due = WorkdayCalendar().add_workdays(AS_OF, 15)
    assert f'<output id="zq-due" for="zq-filed">{due.year}年{due.month}月{due.day}日（星期四）</output>' in html
    assert '<input id="zq-filed" type="date" value="2026-11-26" data-workdays="15">' in html
    assert "自收到申请的次一工作日起算，15 个工作日内书面答复" in text
    assert "以上答复期限按 2026-11-26 提交计算" in text  # the no-script fallback states the rule
    assert "演示数据" in text
    assert "https://xygk.example.gov.cn/findings/DF-2026-005/" in text
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another host


def test_commitment_and_arrears_letters_go_to_the_responsible_department(files):
    text = text_of(files["letters/AR-2024-001.html"].decode())
    assert "拖欠中小企业账款记录异议申请书" in text and "记录编号 AR-2024-001" in text
    assert "本记录由 区住建局 登记并负责核实" in text and "受理科室 区住建局法规科" in text
    assert "未清偿" in text and "合同、验收单、发票、付款凭证" in text
    text = text_of(files["letters/CM-2024-001.html"].decode())
    assert "政府承诺记录异议申请书" in text and "记录编号 CM-2024-001" in text


def test_an_unregistered_authority_sends_the_reader_to_the_publisher(data_dir):
    path = data_dir / "findings" / "DF-2026-005.yaml"
    edit(path, "authority: 区发改局", "authority: 市发展改革委")
    text = text_of(letters.letter_files(facts_of(data_dir))["letters/DF-2026-005.html"].decode())
    assert "致：市发展改革委" in text
    assert "市发展改革委的受理地址和电话尚未登记。请向本站主办单位 营口市站前区人民政府办公室 提交" in text
    assert "电子邮箱 xygk@example.gov.cn" in text


def test_record_text_is_escaped(data_dir):
    path = data_dir / "findings" / "DF-2026-005.yaml"
    edit(path, "summary: ", "summary: <script>alert(1)</script>{{ 7*7 }}")
    html = letters.letter_files(facts_of(data_dir))["letters/DF-2026-005.html"].decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html


def test_only_records_on_the_site_get_a_letter_and_stale_ones_go(demo, files, tmp_path):
    expected = {f"letters/{x.record.id}.html" for x in (*demo.commitments, *demo.arrears, *demo.findings)}
    assert {p for p in files if p.endswith(".html")} == expected
    for hidden in HIDDEN:
        assert f"letters/{hidden}.html" not in files
        assert not any(hidden in data.decode() for data in files.values())
    docs = tmp_path / "docs"
    write_extras(demo, docs)
    assert (docs / "letters" / "DF-2026-001.html").exists()
    end = next(f.disclosure_end for f in demo.findings if f.record.id == "DF-2026-001")
    later = facts_of(as_of=end + timedelta(days=1))  # DF-2026-001's disclosure period is over
    assert "DF-2026-001" not in {f.record.id for f in later.findings}
    write_extras(later, docs)
    assert not (docs / "letters" / "DF-2026-001.html").exists()
    assert not any("DF-2026-001" in p.read_text(encoding="utf-8") for p in (docs / "feeds").glob("*.xml"))


def test_record_pages_link_their_letter_and_arrears_wording_fits(tmp_path):
    from generator.render import render

    build = tmp_path / "build"
    render(facts_of(), build, history=None)
    bodies = {url: body.decode("utf-8") for url, _, body in pack.entries(build / "pages.pack")}
    finding = bodies["findings/DF-2026-005/"]
    assert '<a href="../../letters/DF-2026-005.html">打印预填的异议申请书</a>' in finding
    assert "异议由本记录的认定机关<strong>区发改局</strong>核查处理并书面答复" in finding
    assert "<li>电话：0417-0000101（演示号码）</li>" in finding
    arrears = bodies["arrears/AR-2024-001/"]
    assert "公示期" not in arrears.split("对本记录有异议")[1]
    assert "认为本记录的欠款金额、日期或清偿情况有误的，可以提出异议。异议由欠款单位<strong>区住建局</strong>核查处理" in arrears
    assert '<a href="../../letters/AR-2024-001.html">' in arrears
    commitment = bodies["commitments/CM-2024-001/"]
    assert "公示期" not in commitment.split("对本记录有异议")[1]
    assert '<a href="../../letters/CM-2024-001.html">' in commitment


@pytest.mark.parametrize("hostile", [False, True], ids=["demo", "hostile"])
def test_each_letter_is_what_the_template_writes_for_its_record(tmp_path, hostile):
    """letter_files renders the template once per authority and fills in each record;
    every letter must be exactly the template's own rendering for that record."""
    data_dir = DEMO_DATA
    if hostile:
        from tests.e2e.e2e_support import make_hostile_data

        data_dir = make_hostile_data(tmp_path / "data")
    facts = facts_of(data_dir)
    files = letters.letter_files(facts)
    table = letters.workday_table(facts.calendar, facts.as_of)
    items = ([("commitments", c) for c in facts.commitments] + [("arrears", a) for a in facts.arrears]
             + [("findings", f) for f in facts.findings])
    authorities = {letters.handler_contact(kind, item) for kind, item in items}
    assert len(items) > 20 and len(authorities) > 3
    for kind, item in items:
        expected = letters.letter_html(facts, kind, item, table)
        assert files[letters.letter_path(item.record.id)].decode("utf-8") == expected, item.record.id


def test_values_escaped_together_are_what_markupsafe_escape_gives():
    """The letters escape a record's values in one joined string (letters._escaped): the same
    text as markupsafe.escape of each, also with NUL in a text, Markup and non-text values."""
    import random

    from markupsafe import Markup, escape

    from generator.letters import _escaped

    pool = ["", "a&b", "<script>", "'\"", "&amp;", "中文（全角）", "nul\x00", "\x00", " x ", None, 7, Markup("<b>ok</b>")]
    rng = random.Random(3)
    for _ in range(500):
        values = [rng.choice(pool) for _ in range(rng.randrange(6))]
        assert _escaped(values) == [str(escape(v)) for v in values], values


# --- the letters' cache (extras._letter_keys) -------------------------------------------------


def _pack_files(path: Path) -> dict[str, bytes]:
    return {rel: data for rel, _, data in pack.entries(path)}


def _keys(facts, changed: str = "") -> dict[tuple[str, str], str]:
    """Stand-ins for the render's page keys: one per record, another for `changed`."""
    return {(kind, x.record.id): x.record.id + ("-changed" if x.record.id == changed else "")
            for kind, items in (("commitments", facts.commitments), ("arrears", facts.arrears),
                                ("findings", facts.findings)) for x in items}


def test_letters_from_the_cache_are_the_letters_made_without_it(tmp_path, monkeypatch):
    from generator import extras

    made: list[str] = []
    letter = letters.LetterMaker.letter
    monkeypatch.setattr(letters.LetterMaker, "letter", lambda self, kind, item: made.append(item.record.id) or letter(self, kind, item))
    docs, site_files, cache = tmp_path / "docs", tmp_path / "site-files.pack", tmp_path / "cache"
    facts = facts_of()
    write_extras(facts, docs, site_files, cache, _keys(facts))
    assert len(made) == len(_keys(facts)) and (cache / extras.LETTER_CACHE).is_file()
    assert _pack_files(site_files) == letters.letter_files(facts)

    made.clear()  # nothing changed: every letter from the last pack
    write_extras(facts, docs, site_files, cache, _keys(facts))
    assert made == [] and _pack_files(site_files) == letters.letter_files(facts)

    data = tmp_path / "data"  # one record changed (its key too): that letter alone is made
    shutil.copytree(DEMO_DATA, data)
    edit(data / "findings" / "DF-2026-005.yaml", "summary: ", "summary: 新的说明。")
    changed = facts_of(data)
    made.clear()  # (letter_files above made letters too)
    write_extras(changed, docs, site_files, cache, _keys(changed, "DF-2026-005"))
    assert made == ["DF-2026-005"]
    assert "新的说明" in _pack_files(site_files)["letters/DF-2026-005.html"].decode("utf-8")
    assert _pack_files(site_files) == letters.letter_files(changed)

    made.clear()  # another as-of date (every letter's deadline): every letter made again
    later = facts_of(data, AS_OF + timedelta(days=1))
    write_extras(later, docs, site_files, cache, _keys(later, "DF-2026-005"))
    assert len(made) == len(_keys(later)) and _pack_files(site_files) == letters.letter_files(later)


@pytest.mark.parametrize("damage", ["cache", "pack", "foreign"])
def test_a_damaged_letter_cache_or_pack_gives_every_letter_made_again(tmp_path, damage):
    from generator import extras

    docs, site_files, cache = tmp_path / "docs", tmp_path / "site-files.pack", tmp_path / "cache"
    facts = facts_of()
    write_extras(facts, docs, site_files, cache, _keys(facts))
    if damage == "cache":
        (cache / extras.LETTER_CACHE).write_text("{not json", encoding="utf-8")
    elif damage == "pack":  # the pack replaced behind the cache's back: another file, stale letters in it
        files = _pack_files(site_files)
        with pack.PackWriter(site_files) as w:
            for rel, body in files.items():
                w.add(rel, {}, body.replace("异议".encode("utf-8"), b"X"))
    else:  # a cache that claims other letters for the same keys
        saved = (cache / extras.LETTER_CACHE).read_text(encoding="utf-8")
        (cache / extras.LETTER_CACHE).write_text(saved.replace('"common":"', '"common":"0'), encoding="utf-8")
        with pack.PackWriter(site_files) as w:
            for rel, body in _pack_files(site_files).items():
                w.add(rel, {}, body + b"<!-- stale -->")
    write_extras(facts, docs, site_files, cache, _keys(facts))
    assert _pack_files(site_files) == letters.letter_files(facts)


def test_a_letter_that_left_the_site_leaves_the_letter_cache(tmp_path):
    from generator import extras

    docs, site_files, cache = tmp_path / "docs", tmp_path / "site-files.pack", tmp_path / "cache"
    facts = facts_of()
    write_extras(facts, docs, site_files, cache, _keys(facts))
    assert b"DF-2026-001" in (cache / extras.LETTER_CACHE).read_bytes()
    end = next(f.disclosure_end for f in facts.findings if f.record.id == "DF-2026-001")
    later = facts_of(as_of=end + timedelta(days=1))  # DF-2026-001's disclosure period is over
    write_extras(later, docs, site_files, cache, _keys(later))
    for path in (cache / extras.LETTER_CACHE, site_files):
        assert b"DF-2026-001" not in path.read_bytes(), path
