"""generator/citizen.py: lookup index, unit table, evaluation matrix, record header block."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from generator import charts, citizen
from generator.derive import derive
from generator.load import load
from generator.validate import validate

REPO = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def facts():
    report = validate(load(REPO / "data"))
    assert report.dataset is not None
    return derive(report.dataset, AS_OF)


def test_normalise_key_accepts_the_ways_people_type_a_code():
    assert citizen.normalise_key("９１２１０８０２ ma0q4k7b1t") == "91210802MA0Q4K7B1T"
    assert citizen.normalise_key(" ＡＲ－２０２３－００１\u3000") == "AR-2023-001"
    assert citizen.normalise_key("营口某某 防水") == "营口某某防水"


def test_lookup_index_carries_codes_contracts_names_and_ids(facts):
    doc = json.loads(citizen.lookup_json(facts))
    assert doc["v"] == citizen.LOOKUP_VERSION and doc["folders"] == ["commitments", "arrears", "findings"]
    by_id = {e[1]: e for e in doc["r"]}
    assert len(by_id) == len(facts.commitments) + len(facts.arrears) + len(facts.findings)
    a = next(x for x in facts.arrears if x.record.id == "AR-2023-001")
    kind, rid, title, sub, keys = by_id["AR-2023-001"]
    assert (kind, title) == (1, a.record.project)
    assert {"AR-2023-001", "91210802MA0Q4K7B1T", "ZQ-ZJ-2022-041", citizen.normalise_key(a.record.creditor)} <= set(keys)
    # Only what the site shows: findings on display, no masked counterparty in clear.
    for c in facts.commitments:
        if c.record.counterparty_masked and c.record.counterparty:
            assert citizen.normalise_key(c.record.counterparty) not in by_id[c.record.id][4]
    assert all(e[0] == 2 for e in doc["r"] if e[1].startswith("DF-"))
    assert {e[1] for e in doc["r"] if e[0] == 2} == {f.record.id for f in facts.findings}


def test_lookup_index_is_deterministic(facts):
    assert citizen.lookup_json(facts) == citizen.lookup_json(facts)


def test_unit_rows_measure_each_unit(facts):
    rows = citizen.unit_rows(facts)
    assert [r.id for r in rows] == [d.department.id for d in facts.departments]
    zjj = next(r for r in rows if r.id == "zjj")
    d = next(d for d in facts.departments if d.department.id == "zjj")
    assert zjj.outstanding == d.arrears_totals.outstanding > 0
    assert zjj.overdue_commitments == sum(c.overdue for c in d.commitments)
    assert zjj.serious_findings == sum(f.record.severity == "严重" for f in d.findings)
    assert sum(r.findings for r in rows) <= len(facts.findings)
    latest = zjj.latest
    assert latest is not None and latest.year == 2025 and latest.method == "第三方评价"
    assert latest.order == citizen.GRADE_ORDER.index(latest.grade)


def test_latest_grade_prefers_the_first_method_of_the_latest_year(facts):
    d = next(d for d in facts.departments if {e.record.method for e in d.evaluations} == {"第三方评价", "绩效考核"})
    assert citizen.latest_grade(d, ("绩效考核", "第三方评价")).method == "绩效考核"
    assert citizen.latest_grade(d, ("第三方评价", "绩效考核")).method == "第三方评价"


def test_evaluation_matrix_and_trend(facts):
    matrices = citizen.evaluation_matrices(facts, ("第三方评价", "绩效考核"))
    assert [m.method for m in matrices] == ["第三方评价", "绩效考核"]
    m = matrices[0]
    assert m.years == (2024, 2025)
    for row in m.rows:
        scores = [s for s in row.scores if s is not None]
        if len(scores) == 2:
            assert row.change == scores[1] - scores[0]
            assert row.trend == ("上升" if row.change > 0 else "下降" if row.change < 0 else "持平")
    sws = next(r for r in m.rows if r.id == "swj")
    assert sws.trend == "下降" and sws.change == Decimal("-20.5")


def test_record_head(facts):
    c = next(c for c in facts.commitments if c.record.id == "CM-2024-001")
    head = citizen.record_head("commitments", c, facts)
    assert head.index_no == "2108020000-CM-2024-001"
    assert head.publisher == facts.site.publisher and head.unit == c.department_name
    assert head.published == c.record.promised_on <= head.updated <= AS_OF
    a = next(a for a in facts.arrears if a.record.id == "AR-2023-001")
    head = citizen.record_head("arrears", a, facts)
    assert head.published == a.record.found_on
    assert head.updated == max(p.paid_on for p in a.repayments)  # its last repayment
    with pytest.raises(ValueError):
        citizen.record_head("tasks", a, facts)
    assert citizen.index_no(None, "DF-2026-001") == "DF-2026-001"


def test_glossary_page_has_every_anchor():
    text = (REPO / "content" / "glossary.md").read_text(encoding="utf-8")
    for word, anchor in citizen.GLOSSARY_ANCHORS.items():
        assert f"## {word} {{#{anchor}}}" in text


def test_sparkline():
    svg = charts.sparkline("区财政局得分：2024年86.5分，2025年81.0分", [Decimal("86.5"), Decimal("81.0")])
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="zq-spark"') and 'role="img"' in svg
    assert "<title>区财政局得分：2024年86.5分，2025年81.0分</title>" in svg
    assert '<polyline points="3,3 57,17"/>' in svg  # falling: from top left to bottom right
    assert "<polyline" not in charts.sparkline("一年", [None, Decimal(90)])
    assert "<circle" not in charts.sparkline("无", [])
    assert charts.sparkline("<x>", [1, 2]).count("&lt;x&gt;") == 2
