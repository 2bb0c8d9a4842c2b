"""The record tables' rows (Python filters, once a Jinja loop) and the page cache of the render stage."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date

import pytest

from generator import model, pack, render as render_mod, sitefiles
from generator.derive import derive
from generator.urls import Linker
from tests.test_render import AS_OF, DEPARTMENTS, HOSTILE_TEXT, arrears, commitment, dataset, finding

# The loops of _macros.j2 that commitment_rows, arrears_rows and finding_rows replace, as they were.
OLD_COMMITMENT_ROWS = """{% for c in rows %}
<tr data-department="{{ c.record.department }}" data-status="{{ c.record.status }}" data-category="{{ c.record.category }}" data-year="{{ c.record.promised_on.year }}"><td class="zq-key zq-card-title"><a href="{{ c.record.id | record_url('commitments', nav) }}">{{ c.record.title }}</a><br><small class="zq-nowrap">{{ c.record.id }}</small></td><td data-label="{{ labels.commitments.department }}">{{ c.record.department | dept_link(c.department_name, nav) }}</td><td data-label="{{ labels.commitments.category }}">{{ c.record.category }}</td><td data-label="{{ labels.commitments.promised_on }}" data-value="{{ c.record.promised_on | iso }}">{{ c.record.promised_on | cn_date }}</td><td class="zq-key" data-label="{{ labels.commitments.deadline }}" data-value="{{ c.record.deadline | iso }}">{{ c.record.deadline | cn_date }}</td><td class="zq-key" data-label="{{ labels.commitments.status }}" data-value="{{ c.record.status }}">{{ c.badges | badge_list }}</td></tr>
{% endfor %}
"""
OLD_ARREARS_ROWS = """{% for a in rows %}
<tr data-department="{{ a.record.debtor }}" data-status="{{ a.status }}" data-size="{{ a.record.creditor_size }}" data-year="{{ a.record.found_on.year }}" data-creditor="{{ a.record.creditor }}"><td class="zq-key zq-card-title"><a href="{{ a.record.id | record_url('arrears', nav) }}">{{ a.record.project }}</a><br><small class="zq-nowrap">{{ a.record.id }}</small></td>{% if show_debtor %}<td data-label="{{ labels.arrears.debtor }}">{{ a.record.debtor | dept_link(a.debtor_name, nav) }}</td>{% endif %}<td data-label="{{ labels.arrears.creditor }}">{{ a.record.creditor }}</td><td data-label="{{ labels.arrears.due_on }}" data-value="{{ a.record.due_on | iso }}">{{ a.record.due_on | cn_date }}</td><td class="zq-num zq-key" data-label="{{ money_labels.arrears.amount }}" data-value="{{ a.record.amount | num }}">{{ a.record.amount | yuan_cell }}</td><td class="zq-num" data-label="已清偿" data-value="{{ a.repaid | num }}">{{ a.repaid | yuan_cell }}</td><td class="zq-num zq-key" data-label="未清偿余额" data-value="{{ a.outstanding | num }}">{{ a.outstanding | yuan_cell }}</td><td class="zq-key" data-label="清偿状态" data-value="{{ a.status }}">{{ a.badges | badge_list }}</td></tr>
{% endfor %}
"""
OLD_FINDING_ROWS = """{% for x in rows %}
<tr data-department="{{ x.record.subject }}" data-severity="{{ x.record.severity }}" data-category="{{ x.record.category }}" data-year="{{ x.record.decision_decided_on.year }}"><td class="zq-key zq-card-title"><a class="zq-nowrap" href="{{ x.record.id | record_url('findings', nav) }}">{{ x.record.id }}</a></td>{% if show_subject %}<td data-label="{{ labels.findings.subject }}">{{ x.record.subject | dept_link(x.subject_name, nav) }}</td>{% endif %}<td data-label="{{ labels.findings.category }}">{{ x.record.category }}</td><td class="zq-key zq-badge-cell" data-label="{{ labels.findings.severity }}" data-value="{{ x.record.severity }}">{{ x.badges | badge_list }}</td><td data-label="{{ labels.findings.decision_decided_on }}" data-value="{{ x.record.decision_decided_on | iso }}">{{ x.record.decision_decided_on | cn_date }}</td><td class="zq-key" data-label="{{ labels.findings.published_on }}" data-value="{{ x.record.published_on | iso }}">{{ x.record.published_on | cn_date }}</td><td class="zq-key" data-label="公示截止" data-value="{{ x.disclosure_end | iso }}">{{ x.disclosure_end | cn_date }}</td><td class="zq-key" data-label="异议情况">{{ x.objection_state }}</td></tr>
{% endfor %}
"""

ODD = ["<", ">", "&", '"', "'", "&amp;", "\x00", "\x01", "\x7f", "\x85", "\u200e", "\u202e", "\n", "\r", "\t", " ",
       "{{", "}}", "{%", "|", "*", "`", "甲", "\ufffe", "\u3000", "&lt;"]


def odd_text(rng: random.Random) -> str:
    return "".join(rng.choice(ODD) for _ in range(rng.randint(1, 12)))


def hostile_table_facts(seed: int):
    """Records whose free text (titles, names, parties, projects) is random odd characters."""
    rng = random.Random(seed)
    departments = tuple(dataclasses.replace(d, name=odd_text(rng)) if i else d for i, d in enumerate(DEPARTMENTS))
    ids = [d.id for d in departments]
    commitments = [commitment(f"CM-2024-{i:03d}", title=odd_text(rng), counterparty=odd_text(rng),
                              department=rng.choice(ids + ["区直各部门", "unknown"]),
                              deadline=rng.choice([date(2025, 6, 30), date(2027, 1, 9)]))
                   for i in range(1, 25)]
    arrears_items = [arrears(f"AR-2024-{i:03d}", debtor=rng.choice(ids + ["unknown"]), creditor=odd_text(rng),
                             project=odd_text(rng), amount=rng.choice(["0.01", "123456.78", "99999999.99"]),
                             repaid=rng.choice([(), ("0.01",)]))
                     for i in range(1, 25)]
    findings = [finding(f"DF-2026-{i:03d}", subject=rng.choice(ids))
                for i in range(1, 10)]
    data = dataclasses.replace(dataset(commitments=commitments, arrears_items=arrears_items, findings=findings),
                               departments=departments)
    return derive(data, AS_OF)


def test_record_pages_escaped_by_finalize_are_the_pages_autoescape_printed():
    """The record pages' environment has no autoescape and escapes in finalize (_finalize_escaped):
    every value prints what autoescape printed (markup, quotes, control and bidi characters, Markup,
    numbers, dates, None), and every record page is the same bytes as under autoescape, on records
    full of odd text."""
    from decimal import Decimal

    from markupsafe import Markup

    rng = random.Random(11)
    values = [odd_text(rng) for _ in range(3000)] + [Markup(odd_text(rng)) for _ in range(300)] + [
        "", "plain 文本", "a\nb", "\t", 0, -3, 1.5, Decimal("-0.00"), Decimal("12.30"), date(2024, 2, 29), None, True,
        ["<x>"], ("&",), type("Html", (), {"__html__": lambda self: "<b>&</b>"})()]
    for value in values:
        assert str(render_mod._finalize_escaped(value)) == str(render_mod._out(value)), repr(value)
    for seed in range(6):
        facts = hostile_table_facts(seed)
        site = render_mod._Site(facts, None, render_mod.make_environment(sitefiles.templates_dir()))
        autoescaped = render_mod._Site(facts, None, render_mod.make_environment(sitefiles.templates_dir()))
        autoescaped.record_env = autoescaped.page_env  # every page under autoescape, as before
        pages = [(p.path, p.title, p.search, p.toc, p.body) for p in site.html_pages()]
        assert pages == [(p.path, p.title, p.search, p.toc, p.body) for p in autoescaped.html_pages()]
        assert len(pages) > 50 and any("&lt;" in p[4] for p in pages)


def test_table_rows_are_the_markup_the_template_loops_printed():
    """Each row filter prints, byte for byte, what its Jinja loop printed (autoescape, finalize), on
    records full of markup, quotes, control and bidi characters, from a list page and a department page."""
    env = render_mod.make_environment(sitefiles.templates_dir())
    old = {name: env.from_string(src) for name, src in
           (("c", OLD_COMMITMENT_ROWS), ("a", OLD_ARREARS_ROWS), ("f", OLD_FINDING_ROWS))}
    compared = 0
    for seed in range(30):
        facts = hostile_table_facts(seed)
        known = {"commitments": frozenset(c.record.id for c in facts.commitments[::2]),
                 "arrears": frozenset(a.record.id for a in facts.arrears), "findings": frozenset()}
        departments = frozenset(d.department.id for d in facts.departments[:2])
        for page in ("commitments/index.md", "arrears/page-2.md", "departments/fgj.md"):
            nav = Linker(page, known, departments)
            for flag in (True, False):
                assert str(render_mod.commitment_rows(facts.commitments, nav)) == old["c"].render(
                    rows=facts.commitments, nav=nav)
                assert str(render_mod.arrears_rows(facts.arrears, nav, flag)) == old["a"].render(
                    rows=facts.arrears, nav=nav, show_debtor=flag)
                assert str(render_mod.finding_rows(facts.findings, nav, flag)) == old["f"].render(
                    rows=facts.findings, nav=nav, show_subject=flag)
                compared += len(facts.commitments) + len(facts.arrears) + len(facts.findings)
    assert compared > 5000
    # Record text is escaped, never markup: nothing of a hostile title survives as a tag.
    rows = str(render_mod.commitment_rows(derive(dataset(commitments=[commitment(title=HOSTILE_TEXT)]), AS_OF).commitments,
                                          Linker("commitments/index.md", {"commitments": frozenset()}, frozenset())))
    assert "<script>" not in rows and "&lt;script&gt;alert(1)&lt;/script&gt;" in rows
    assert render_mod.commitment_rows([], nav) == ""


def test_empty_tables_keep_their_body_markup():
    """No rows: <tbody> opens and closes on its own lines, as the loop left it."""
    env = render_mod.make_environment(sitefiles.templates_dir())
    nav = Linker("departments/fgj.md", {"commitments": frozenset()}, frozenset())
    page = env.from_string('{% import "_macros.j2" as m with context %}'
                           '{{ m.commitments_table([], "c") }}{{ m.arrears_table([], "a", []) }}{{ m.findings_table([], "f") }}')
    assert page.render(nav=nav).count("<tbody>\n</tbody>") == 3
    assert OLD_COMMITMENT_ROWS and env.from_string(OLD_ARREARS_ROWS).render(rows=[], nav=nav, show_debtor=True) == ""


# --- the page cache: a page is served from it only when nothing it shows changed ------------------


def html_bodies(build) -> dict[str, tuple[bytes, str | None]]:
    """Each record and department page (kind/id.html) of build/pages.pack: its body, and its key in
    the page cache (a page is rendered again exactly when its key changed; None without a cache)."""
    cache = build / ".cache" / "render-pages.json"
    keys = json.loads(cache.read_text(encoding="utf-8"))["pages"] if cache.is_file() else {}
    return {url[:-1] + ".html": (body, keys.get(url)) for url, _, body in pack.entries(build / "pages.pack")}


def test_page_cache_rerenders_exactly_the_pages_whose_inputs_changed(tmp_path):
    build = tmp_path / "build"
    cache = build / ".cache" / "render-pages.json"
    data = dataset()
    render_mod.render(derive(data, AS_OF), build, cache_file=cache)
    before = html_bodies(build)
    assert len(before) == 2 + 3 + 1 + 3  # commitments, arrears, findings on display, departments

    # The same data again: every page from the cache, the pack untouched.
    mtime = (build / "pages.pack").stat().st_mtime_ns
    render_mod.render(derive(data, AS_OF), build, cache_file=cache)
    assert html_bodies(build) == before and (build / "pages.pack").stat().st_mtime_ns == mtime

    # One arrears record changes a value its department page shows only in its table.
    changed = data.arrears[2]._replace(project="改过的项目名称")
    data2 = dataclasses.replace(data, arrears=(*data.arrears[:2], changed))
    render_mod.render(derive(data2, AS_OF), build, cache_file=cache)
    after = html_bodies(build)
    rewritten = {k for k in after if after[k] != before[k]}
    assert rewritten == {"arrears/AR-2025-001.html", "departments/fgj.html"}
    assert "改过的项目名称" in after["arrears/AR-2025-001.html"][0].decode()
    assert "改过的项目名称" in after["departments/fgj.html"][0].decode()
    fresh = tmp_path / "fresh"  # and what the cache left is what a build without it writes
    render_mod.render(derive(data2, AS_OF), fresh)
    assert {k: v[0] for k, v in html_bodies(fresh).items()} == {k: v[0] for k, v in after.items()}

    # A change no record page's own facts hold (a department's name) reaches every page that shows it.
    departments = (DEPARTMENTS[0], dataclasses.replace(DEPARTMENTS[1], name="区财政局（新名称）"), DEPARTMENTS[2])
    data3 = dataclasses.replace(data2, departments=departments)
    render_mod.render(derive(data3, AS_OF), build, cache_file=cache)
    third = html_bodies(build)
    renamed = {k for k in third if third[k][0] != after[k][0]}
    assert {"departments/czj.html", "arrears/AR-2024-002.html", "commitments/CM-2024-001.html"} <= renamed
    assert all("区财政局（新名称）" in third[k][0].decode() for k in renamed)
    fresh3 = tmp_path / "fresh3"
    render_mod.render(derive(data3, AS_OF), fresh3)
    assert {k: v[0] for k, v in html_bodies(fresh3).items()} == {k: v[0] for k, v in third.items()}

    # A pack changed behind the cache's back: its pages are rendered again.
    entries = list(pack.entries(build / "pages.pack"))
    with pack.PackWriter(build / "pages.pack") as writer:
        for url, meta, body in entries:
            writer.add(url, meta, b"edited" if url == "departments/fgj/" else body)
    render_mod.render(derive(data3, AS_OF), build, cache_file=cache)
    assert html_bodies(build)["departments/fgj.html"][0] == third["departments/fgj.html"][0]


def test_a_pages_key_changes_with_every_input_the_page_shows(tmp_path):
    """Record pages are keyed by their record as validated and the inputs common to all pages
    (render._PageCache), not by their facts: every change of the data that changes a page's bytes,
    or that derive reads for it (a department's name or contacts, a related record leaving the
    site, the as-of date, the calendar, the site settings, the record itself), changes its key, and
    the letters' cache (keyed by the same keys) with it. Unchanged data gives the same keys."""
    from generator.workdays import WorkdayCalendar, YearSchedule

    base = dataset()

    def keyed(data, as_of=AS_OF):
        build = tmp_path / f"b{len(list(tmp_path.iterdir()))}"
        result = render_mod.render(derive(data, as_of), build, cache_file=build / ".cache" / "render-pages.json")
        return html_bodies(build), result.record_keys

    before, letters = keyed(base)
    assert keyed(base) == (before, letters)  # stable: another render of the same data, the same keys
    assert set(letters.values()) <= {key for _, key in before.values()}

    def dept(i, **changes):
        return tuple(dataclasses.replace(d, **changes) if n == i else d for n, d in enumerate(DEPARTMENTS))

    schedule = YearSchedule("国办发明电〔2030〕1号", frozenset({date(2031, 1, 1)}), frozenset())
    variants = {
        "department name": (dataclasses.replace(base, departments=dept(1, name="区财政局（新名称）")), AS_OF),
        "department contact": (dataclasses.replace(base, departments=dept(0, contact_phone="0417-1234567")), AS_OF),
        "related record gone": (dataclasses.replace(base, arrears=base.arrears[1:]), AS_OF),
        "as-of date": (base, date(2026, 11, 27)),
        "calendar": (dataclasses.replace(base, calendar=WorkdayCalendar({2031: schedule})), AS_OF),
        "site settings": (dataclasses.replace(base, site=dataclasses.replace(base.site, publisher="另一发布机构")), AS_OF),
        "record": (dataclasses.replace(base, arrears=(base.arrears[0]._replace(note="新备注"), *base.arrears[1:])), AS_OF),
        # Held by many department pages, each pickled once a render and keyed by that pickle's digest.
        "task": (dataclasses.replace(base, tasks=(dataclasses.replace(base.tasks[0], status="已完成"), *base.tasks[1:])), AS_OF),
        "evaluation": (dataclasses.replace(base, evaluations=(dataclasses.replace(base.evaluations[0], grade="良好"),
                                                              *base.evaluations[1:])), AS_OF),
    }
    for name, (data, as_of) in variants.items():
        after, after_letters = keyed(data, as_of)
        shown = {k for k in after.keys() & before.keys() if after[k][0] != before[k][0]}
        rekeyed = {k for k in after.keys() & before.keys() if after[k][1] != before[k][1]}
        assert shown <= rekeyed, name  # a page whose bytes changed never keeps its key
        if name == "record":  # the one record's page and its department's; every other page kept its key
            assert rekeyed == {"arrears/AR-2024-001.html", "departments/fgj.html"}
            assert {k for k in letters if after_letters.get(k) != letters[k]} == {("arrears", "AR-2024-001")}
        elif name in ("task", "evaluation"):  # the pages of the departments that show it; no record's
            assert "departments/fgj.html" in shown and rekeyed <= {k for k in before if k.startswith("departments/")}
            assert after_letters == letters
        else:  # an input of every page's facts: every key, and every letter's
            assert rekeyed == after.keys() & before.keys(), name
            assert not set(after_letters.items()) & set(letters.items()), name
    renamed, _ = keyed(*variants["department name"])
    assert "区财政局（新名称）" in renamed["arrears/AR-2024-002.html"][0].decode()
    gone, _ = keyed(*variants["related record gone"])
    assert gone["findings/DF-2026-001.html"][0] != before["findings/DF-2026-001.html"][0]


def test_list_pages_from_the_cache_are_the_pages_a_render_makes(tmp_path, monkeypatch):
    """The record lists' pages are kept from the last render when their key (rows as their records'
    page keys, filters, pager, the facts the lists read) and files are unchanged: the Markdown and
    blocks are what a render without the cache writes; a changed record re-renders the page that
    lists it; a Markdown file or blocks pack not as the cache saved them is rendered again; the
    lists' templates see no other facts."""
    import jinja2

    build = tmp_path / "build"
    cache = build / ".cache" / "render-pages.json"
    data = dataset(commitments=[commitment(f"CM-2024-{i:03d}") for i in range(1, 600)])

    def docs_and_blocks(folder):
        docs = {p.relative_to(folder / "docs").as_posix(): p.read_bytes() for p in (folder / "docs").rglob("*.md")}
        return docs, {rel: (meta, body) for rel, meta, body in pack.entries(folder / "blocks.pack")}

    rendered = []  # the list pages rendered (not kept)
    made = render_mod._PageCache.rendered_markdown
    monkeypatch.setattr(render_mod._PageCache, "rendered_markdown",
                        lambda self, rel, *a: rendered.append(rel) or made(self, rel, *a))
    render_mod.render(derive(data, AS_OF), build, cache_file=cache)
    assert {"commitments/index.md", "commitments/page-2.md", "arrears/index.md"} <= set(rendered)
    first = docs_and_blocks(build)
    rendered.clear()
    render_mod.render(derive(data, AS_OF), build, cache_file=cache)
    assert docs_and_blocks(build) == first and len(json.loads(cache.read_text())["pages"]) > 12
    kept = {"commitments/index.md", "commitments/page-2.md", "arrears/index.md", "findings/index.md",
            "evaluations/index.md"}  # (the evaluations page is keyed too)
    assert not rendered  # every list page kept

    changed = dataclasses.replace(data, commitments=(*data.commitments[:-1],
                                                     dataclasses.replace(data.commitments[-1], title="改过的标题")))
    rendered.clear()
    render_mod.render(derive(changed, AS_OF), build, cache_file=cache)
    fresh = tmp_path / "fresh"
    render_mod.render(derive(changed, AS_OF), fresh)
    assert docs_and_blocks(build) == docs_and_blocks(fresh)
    assert set(rendered) == {next(p for p in ("commitments/index.md", "commitments/page-2.md")
                                  if "改过的标题" in str(docs_and_blocks(fresh)[1][p][1], "utf-8"))}

    (build / "docs" / "arrears" / "index.md").write_text("edited", encoding="utf-8")
    rendered.clear()
    render_mod.render(derive(changed, AS_OF), build, cache_file=cache)
    assert set(rendered) == {"arrears/index.md"} and docs_and_blocks(build) == docs_and_blocks(fresh)
    blocks = docs_and_blocks(build)[1]
    with pack.PackWriter(build / "blocks.pack") as writer:  # another pack (a render without the cache)
        for rel, (meta, body) in blocks.items():
            writer.add(rel, meta, body.replace("改过的标题".encode(), "别的标题".encode()))
    rendered.clear()
    render_mod.render(derive(changed, AS_OF), build, cache_file=cache)
    assert set(rendered) == kept and docs_and_blocks(build) == docs_and_blocks(fresh)

    facts = derive(changed, AS_OF)
    site = render_mod._Site(facts, None, render_mod.make_environment(sitefiles.templates_dir()))
    with pytest.raises(jinja2.UndefinedError):
        site.env.from_string("{{ facts.changes }}").render(facts=render_mod._ListFacts(facts.as_of, None, (), None))


def test_badges_and_timeline_print_what_they_printed_before():
    """badge_list remembers each badge's markup and timeline no longer adds Markup to str: same text."""
    from generator.derive import Badge, Event

    rng = random.Random(7)
    for _ in range(400):
        badges = [Badge(odd_text(rng), rng.choice(["ok", "warn", "bad", "muted", "<x>", odd_text(rng)])) for _ in range(3)]
        expected = " ".join(f'<span class="zq-badge zq-badge--{render_mod._out(render_mod.tone(b.tone))}">'
                            f'{render_mod._out(b.label)}</span>' for b in badges)
        assert render_mod.badge_list(badges) == expected
        assert render_mod.badge_list(badges) == expected  # and again, from what it remembered
        events = [Event(date(2024, 1, rng.randint(1, 28)), rng.choice(["清偿", odd_text(rng)]), rng.choice(["", odd_text(rng), "1234.5"]))
                  for _ in range(3)]
        for kind in ("arrears", "commitments"):
            items = "".join(f'<li>{render_mod.time_tag(e.date)} <strong>{render_mod._out(e.label)}</strong>'
                            f'{" " + render_mod.text_br(render_mod.event_text(e, kind)) if e.text else ""}</li>\n'
                            for e in events)
            assert render_mod.timeline(events, kind) == f'<ol class="zq-timeline">\n{items}</ol>'


def test_plain_markdown_text_becomes_the_paragraphs_python_markdown_makes():
    """The Markdown field's shortcut for plain text gives exactly Python-Markdown's HTML; text with
    anything Markdown could read (a space, *, #, -, [, <, &, a tab …) still goes through it."""
    from generator.engine import markup

    pieces = ["1", "2.", "10.", "a", "Z", "中", "文", "，", "。", "%", ":", ";", "(", ")", "/", ".", ",", "\n", "\n",
              "\n\n", "\n\n\n", "·", "—", "“", "”", "…", "（", "）", "１", "＊", "＃", "＜", "、", "《", "》"]
    rng = random.Random(15)
    shortcut = 0
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert markup.markdown_field_html(text) == markup._converter().reset().convert(text), repr(text)
        shortcut += markup._PLAIN_TEXT.fullmatch(text) is not None
    assert shortcut == 4000
    for text in ("a b", "1. a", "- a", "*a*", "# a", "a\n===", "a\n---", "`a`", "[a](b)", "&amp;", "a\tb",
                 "a\u3000b", "a\u00a0b", "<b>", "a\\b", "a_b_", "a  \nb"):
        assert markup._PLAIN_TEXT.fullmatch(text) is None, repr(text)



def _old_headings_and_toc(body: str) -> tuple[str, tuple]:
    """headings_and_toc as it was: one re.sub over the body."""
    import html
    from collections import Counter

    toc, seen = [], Counter()

    def one(m):
        level, attrs, text = m.group(1), m.group(2), m.group(3)
        base = render_mod.heading_id(text) or "_"
        anchor = base if not seen[base] else f"{base}_{seen[base]}"
        seen[base] += 1
        toc.append((int(level), anchor, html.unescape(text)))
        return f'<h{level}{attrs} id="{html.escape(anchor)}">{text}</h{level}>'

    return render_mod._TOC_HEADING.sub(one, body), tuple(toc)


def test_headings_and_toc_give_what_the_substitution_gave():
    """Ids and contents worked out once per sequence of headings: the same page and contents as a
    re.sub over the body, for repeated, empty, escaped and odd headings between odd text."""
    from markupsafe import escape

    rng = random.Random(21)
    titles = ["基本信息", "时间线", "基本信息", "", " ", "a b", "A-B_c", "&amp;", "修改记录", "x"] + [str(escape(odd_text(rng))) for _ in range(6)]
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(0, 8)):
            parts.append(str(escape(odd_text(rng))) if rng.random() < 0.7 else rng.choice(["\n", "", "<p>x</p>\n"]))
            level = rng.choice("23")
            attrs = rng.choice(["", " data-search-exclude", " data-x data-y"])
            heading = f"<h{level} data-zq-toc{attrs}>{rng.choice(titles)}</h{level}>"
            if rng.random() < 0.1:
                heading = heading.replace("</h", "</hx")  # not a heading the pattern takes
            parts.append(heading)
        parts.append(rng.choice(["", "\n", "end"]))
        body = "".join(parts)
        assert render_mod.headings_and_toc(body) == _old_headings_and_toc(body), repr(body)


def test_money_prints_what_yuan_and_wan_printed():
    """money() with yuan() and wan() written out: the same text for every sign, scale and size (and -0)."""
    from decimal import Decimal

    def old_money(value):
        if abs(render_mod._dec(value)) >= render_mod.TEN_THOUSAND:
            return f"{render_mod.yuan(value)}（{render_mod.wan(value)}）"
        return render_mod.yuan(value)

    rng = random.Random(5)
    values = [Decimal("-0"), Decimal("-0.00"), Decimal("-0.004"), Decimal("9999.995"), Decimal("9999.994"),
              Decimal("-9999.995"), Decimal("10000"), Decimal("1E+5"), 0, 7, -12345, 10 ** 15]
    values += [Decimal(rng.randint(-10 ** 12, 10 ** 12)).scaleb(rng.randint(-6, 3)) for _ in range(5000)]
    for value in values:
        assert render_mod.money(value) == old_money(value), value
    for bad in (True, 1.5, "1"):
        try:
            render_mod.money(bad)
        except TypeError:
            continue
        raise AssertionError(f"money({bad!r}) did not refuse it")


def test_record_pages_rendered_without_environment_globals_are_the_same():
    """Record and department pages go through a copy of the environment without globals, the names
    passed with each page: every page is what the environment with its globals renders, and the
    environment the other pages and callers use keeps its globals."""
    facts = hostile_table_facts(4)
    env = render_mod.make_environment(sitefiles.templates_dir())
    site = render_mod._Site(facts, None, env)
    assert site.page_env.globals == {} == site.record_env.globals and env.globals and set(site.names) == set(env.globals)
    pages = [(site.commitment, c) for c in facts.commitments] + [(site.arrears_item, a) for a in facts.arrears] + \
            [(site.finding, x) for x in facts.findings] + [(site.department, d) for d in facts.departments]
    assert len(pages) > 50
    plain = render_mod._Site(facts, None, env)
    plain.page_env = plain.record_env = env  # renders with the environment's globals (and autoescape), as before
    plain.names = {}
    for make, item in pages:
        assert make(item).body == getattr(plain, make.__name__)(item).body


def test_paragraphs_lists_and_strong_text_become_what_python_markdown_makes():
    """The content field's shortcut for paragraphs, one-line "- " lists and **strong** spans gives
    exactly Python-Markdown's HTML (random documents of such blocks, with stray markers now and then);
    anything else (two lists in a row, indented or other markers, a space, a lone *) goes through it."""
    from generator.engine import markup

    words = ["1", "2.", "10.", "a", "Z", "中", "文", "，", "。", "%", ":", ";", "(", ")", "/", ".", ",", "·", "—",
             "“", "”", "…", "（", "）", "１", "＊", "＃", "、", "《", "》", "(1)", "："]
    odd = ["*", "-", " ", "**", "***", "- ", "+", "#", "\t", "_", "`", "1. "]
    rng = random.Random(16)

    def inline() -> str:
        out = []
        for _ in range(rng.randint(1, 6)):
            pick = rng.random()
            if pick < 0.75:
                out.append(rng.choice(words))
            elif pick < 0.93:
                out.append("**" + "".join(rng.choice(words) for _ in range(rng.randint(1, 3))) + "**")
            else:
                out.append(rng.choice(odd))
        return "".join(out)

    def block() -> str:
        if rng.random() < 0.5:
            return "\n".join(inline() for _ in range(rng.randint(1, 3)))
        markers = ["- ", "- ", "- ", "-", "* ", "+ ", "1. ", "  - "]
        return "\n".join(rng.choice(markers) + inline() for _ in range(rng.randint(1, 4)))

    shortcut = 0
    for _ in range(6000):
        text = "".join(block() + rng.choice(["\n", "\n\n", "\n\n", "\n\n\n"]) for _ in range(rng.randint(1, 4)))
        text = text.rstrip("\n") if rng.random() < 0.3 else text
        fast = markup._simple_html(text)
        if fast is not None:
            shortcut += 1
            assert fast == markup._converter().reset().convert(text), repr(text)
            assert markup.markdown_field_html(text) == fast
    assert shortcut > 600
    for text in ("- a\n\n- b", "a\n- b", "-a", "- ", "**", "****", "**a", "a**b", "* a", "+ a", "1. a", "  - a", "- a\n  b",
                 "**a\nb**", "a b", "- a b"):
        assert markup._simple_html(text) is None, repr(text)
    assert markup._simple_html("x：\n\n- **a**；\n- b。\n") == "<p>x：</p>\n<ul>\n<li><strong>a</strong>；</li>\n<li>b。</li>\n</ul>"


def test_search_text_drops_what_it_dropped_before():
    """_plain looks for bidi characters before walking the text: the same one line of text as
    walking every character, for random text of controls, bidi marks, line breaks and spaces."""
    pieces = ODD + ["\u2066", "\u2069", "\u061c", "\u200f", "\u2028", "\x0b", "a b", "中文", "\n\n"]
    rng = random.Random(17)
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        old = " ".join("".join(ch for ch in render_mod.clean(text) if ch not in render_mod._BIDI).split())
        assert render_mod._plain(text) == old, repr(text)


# --- escaping and formatting helpers of the Python-built markup -------------------------------


def test_text_and_br_print_what_out_and_text_br_print():
    """_text and _br (plain str, for markup assembled in Python) are exactly str(_out(v)) and
    str(text_br(v)): control characters dropped, & < > ' " escaped, Markup kept, line breaks as <br>."""
    from markupsafe import Markup

    rng = random.Random(11)
    values = [odd_text(rng) for _ in range(3000)] + [None, 0, 5, -3, "", "甲乙", "a&b", Markup("<b>x</b>"),
                                                      Markup("&amp;"), date(2024, 1, 2)]
    for v in values:
        assert render_mod._text(v) == str(render_mod._out(v))
        assert render_mod._text(v).__class__ is str
        assert render_mod._br(v) == str(render_mod.text_br(v))
    assert render_mod._text("<script>'\"&") == "&lt;script&gt;&#39;&#34;&amp;"


def test_amounts_are_remembered_by_value_type_and_sign():
    """money, yuan, wan and percent remember their results: equal values print alike, but 0 and -0,
    an int and a Decimal, and a bool (refused) stay apart; a signalling NaN raises what it raised."""
    import decimal
    from decimal import Decimal

    import pytest

    rng = random.Random(3)
    values = [Decimal(rng.choice(["0", "-0", "0.00", "-0.004", "0.005", "9999.995", "10000", "-10000.01", "1E+3",
                                  "123456.785", "-1", "1.10", "1.1"])) for _ in range(500)]
    values += [Decimal(rng.randint(-10**9, 10**9)) / 1000 for _ in range(500)] + [0, 1, -2, 10**6]
    for fmt in (render_mod.money, render_mod.yuan_number, render_mod.wan_number, render_mod.percent):
        for v in values:
            assert fmt(v) == fmt.uncached(v), (fmt.__name__, v)
            assert fmt(v) == fmt.uncached(v)  # and again, remembered
    assert render_mod.money(Decimal("0")) == "0.00 元" and render_mod.money(Decimal("-0")) == "-0.00 元"
    assert render_mod.yuan(Decimal("-0.00")) == "-0.00 元" and render_mod.yuan(Decimal("0.00")) == "0.00 元"
    render_mod.money(1)
    with pytest.raises(TypeError):
        render_mod.money(True)
    with pytest.raises(decimal.InvalidOperation):
        render_mod.money(Decimal("sNaN"))


def test_objection_link_follows_the_handler_and_escapes_it():
    """The handler's part of objection_link is remembered per kind, name and handler: a changed
    contact shows at once; record and handler text is escaped."""
    from generator import model

    nav = Linker("arrears/AR-2024-001.md", {"arrears": frozenset()}, frozenset())
    dept = model.Department("fgj", "<b>发改局</b>", "政府部门", 1, True, contact_phone="0755-1")
    first = str(render_mod.objection_link("AR-2024-001", "arrears", dept, dept.name, nav))
    assert "电话：0755-1" in first and "<b>" not in first and "&lt;b&gt;发改局&lt;/b&gt;" in first
    assert 'href="../../letters/AR-2024-001.html"' in first
    moved = dataclasses.replace(dept, contact_phone="0755-2&3")
    second = str(render_mod.objection_link("AR-2024-002", "arrears", moved, dept.name, nav))
    assert "电话：0755-2&amp;3" in second and "0755-1" not in second
    assert 'href="../../letters/AR-2024-002.html"' in second
    none = str(render_mod.objection_link("AR-2024-003", "arrears", None, "某单位", nav))
    assert "某单位的受理地址和电话尚未登记" in none


def test_templates_with_field_titles_in_their_text_print_what_they_printed(tmp_path):
    """The page templates read through _LabelledLoader (field titles written into their text) give
    every page byte for byte what the templates as written give; titles that could change the
    template's syntax or white space are left to the template."""
    from generator import charts  # noqa: F401 - the render module's charts, as used by the pages

    facts = hostile_table_facts(5)
    pages = {}
    for labelled in (True, False):
        env = render_mod.make_environment(sitefiles.templates_dir(), labels_in_text=labelled)
        site = render_mod._Site(facts, None, env)
        out = [page for page in site.markdown_pages()]
        out += [(p.path, p.body, p.toc) for p in site.html_pages()]
        pages[labelled] = out
    assert pages[True] == pages[False] and len(pages[True]) > 50
    source = render_mod.make_environment(sitefiles.templates_dir()).loader.get_source(None, "arrears_item.html.j2")[0]
    assert "labels." not in source and "<dt>" + render_mod.label("arrears", "debtor") + "</dt>" in source
    written = "{{ labels.arrears.debtor }}"
    for title in ("{{ x }}", "a%b", "#", "{", " 前后空格", "两行\n标题", "", None, "\x00"):
        assert render_mod._title_in_text(title, written) == written
    assert render_mod._title_in_text("<&>'", written) == "&lt;&amp;&gt;&#39;"


def test_compiled_templates_are_kept_and_a_damaged_cache_is_compiled_again(tmp_path, monkeypatch):
    """The page templates' bytecode is kept in build/.cache/page-templates-<digest>: a second render
    uses it, damaged or truncated files are compiled again, folders of another digest are removed;
    every render's pages are the same bytes."""
    from tests.test_render import dataset

    facts = derive(dataset(), AS_OF)
    build = tmp_path / "build"
    cache = build / ".cache" / "render-pages.json"
    stale = build / ".cache" / "page-templates-0000000000000000"
    stale.mkdir(parents=True)
    (stale / "x.cache").write_bytes(b"old")
    render_mod.render(facts, build, cache_file=cache)
    first = {url: body for url, _, body in pack.entries(build / "pages.pack")}
    docs = {p: p.read_bytes() for p in (build / "docs").rglob("*.md")}
    folders = list((build / ".cache").glob("page-templates-*"))
    assert len(folders) == 1 and folders[0] != stale and not stale.exists()
    files = sorted(folders[0].iterdir())
    assert len(files) >= 10  # one per template compiled
    import jinja2

    compiled = []
    compile_template = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, *a, **k: compiled.append(a[1] if len(a) > 1 else k.get("name")) or compile_template(self, *a, **k))
    (build / "pages.pack").unlink()
    cache.unlink()
    render_mod.render(facts, build, cache_file=cache)
    assert compiled == []  # every template from the cache
    assert {url: body for url, _, body in pack.entries(build / "pages.pack")} == first
    for damage in (lambda b: b[:len(b) // 2], lambda b: b[:12] + b"\x80garbage" + b[20:], lambda b: b"junk"):
        for f in files:
            f.write_bytes(damage(f.read_bytes()))
        (build / "pages.pack").unlink()  # every page rendered again
        cache.unlink()
        compiled.clear()
        render_mod.render(facts, build, cache_file=cache)
        assert len(compiled) >= 10  # compiled again
        assert {url: body for url, _, body in pack.entries(build / "pages.pack")} == first
        assert {p: p.read_bytes() for p in (build / "docs").rglob("*.md")} == docs
        files = sorted(folders[0].iterdir())


def test_the_lookup_index_takes_each_unchanged_records_entry_from_the_last_render(tmp_path, monkeypatch):
    """render keeps each record's lookup entry by its page key (render._LookupEntries): a render
    after one record changed makes that record's entry only, and the index is byte for byte the one
    a render without the cache writes; a damaged cache file is not used."""
    from generator import citizen

    build = tmp_path / "build"
    cache = build / ".cache" / "render-pages.json"
    base = dataset()
    render_mod.render(derive(base, AS_OF), build, cache_file=cache)
    made: list[str] = []
    keys = citizen._keys

    def counting(record_id, *values):
        made.append(record_id)
        return keys(record_id, *values)

    monkeypatch.setattr(citizen, "_keys", counting)
    changed = dataclasses.replace(base, arrears=(base.arrears[0]._replace(project="新项目名称"), *base.arrears[1:]))
    render_mod.render(derive(changed, AS_OF), build, cache_file=cache)
    assert made == [base.arrears[0].id]
    fresh = tmp_path / "fresh"
    render_mod.render(derive(changed, AS_OF), fresh)  # no cache
    assert (build / "docs" / citizen.LOOKUP_FILE).read_bytes() == (fresh / "docs" / citizen.LOOKUP_FILE).read_bytes()
    assert "新项目名称" in (build / "docs" / citizen.LOOKUP_FILE).read_text(encoding="utf-8")
    (cache.with_name(render_mod.LOOKUP_CACHE)).write_bytes(b"\x00damaged")
    made.clear()
    render_mod.render(derive(changed, AS_OF), build, cache_file=cache)
    shown = derive(changed, AS_OF)  # (a finding past its display is in no output)
    assert sorted(made) == sorted(x.record.id for kind in ("commitments", "arrears", "findings") for x in getattr(shown, kind))
    assert (build / "docs" / citizen.LOOKUP_FILE).read_bytes() == (fresh / "docs" / citizen.LOOKUP_FILE).read_bytes()
