"""Reader's aids computed from the facts: the record lookup index, the district-wide
ranking of units, the evaluation matrix with its trends, and the glossary of terms.

Templates only loop over what these functions return; every count, order and
comparison is made here. Everything is deterministic: the same facts give the same
values and the same bytes.

The lookup index (``lookup.json`` at the site root) is fetched by
``assets/js/zq.js`` only when a reader starts typing in a lookup box, so that it
adds nothing to the weight of the page itself. Its shape::

    {"v": 1, "kinds": ["政府承诺", "拖欠中小企业账款", "政务失信记录"],
     "r": [[kind index, id, title, subtitle, [lookup keys …]], …]}

A record's page is ``<kind folder>/<id>/`` (the folder follows from the id's
prefix, see ``KIND_FOLDERS``). Lookup keys are what a reader types to find their
own record: the id, a company name, a 统一社会信用代码, a contract number, the
department's name. The browser compares them after ``normalise_key`` (the same
rule is written in JavaScript in zq.js): exact match first, then prefix, then
substring of a key or of the title.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, Iterable

from generator.derive import DepartmentFacts, EvaluationFacts, Facts

#: Index of each record kind in the lookup index, its folder and its name.
KIND_FOLDERS = ("commitments", "arrears", "findings")
KIND_NAMES = ("政府承诺", "拖欠中小企业账款", "政务失信记录")
LOOKUP_FILE = "lookup.json"
LOOKUP_VERSION = 1

#: The order of grades, best first (sorting the ranking by grade).
GRADE_ORDER = ("优秀", "良好", "合格", "不合格")


def normalise_key(text: str) -> str:
    """What lookups compare: NFKC (full-width → half-width), no white space, upper case.

    ``"９１２１0802 ma0q4k7b1t"`` → ``"91210802MA0Q4K7B1T"``: a code compares equal however
    it was typed. zq.js applies the same rule to the query.
    """
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _keys(*values: str | None) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v:
            k = normalise_key(v)
            if k and k not in seen:
                seen.append(k)
    return seen


def lookup_entries(facts: Facts, kept: Callable[[str, str, Callable[[], list]], list] | None = None) -> list[list]:
    """One entry per record on the site: [kind, id, title, subtitle, keys]. `kept(kind, record
    id, make)`: the entry as the caller kept it from the last build (render's, by the record's
    page key, which stands for everything its facts are made from), else make()."""
    take = kept or (lambda _kind, _record_id, make: make())
    out: list[list] = []
    for c in facts.commitments:
        r = c.record
        out.append(take("commitments", r.id, lambda c=c, r=r: [
            0, r.id, r.title, f"{c.department_name} · {r.status}",
            _keys(r.id, c.counterparty_shown, c.department_name, *c.partner_names)]))
    for a in facts.arrears:
        r = a.record
        out.append(take("arrears", r.id, lambda a=a, r=r: [
            1, r.id, r.project, f"{a.debtor_name} 欠 {r.creditor} · {a.status}",
            _keys(r.id, r.creditor, r.creditor_code, r.contract_no, a.debtor_name)]))
    for x in facts.findings:
        r = x.record
        out.append(take("findings", r.id, lambda x=x, r=r: [
            2, r.id, f"{x.subject_name}{r.category}失信记录", f"{r.severity} · {x.objection_state}",
            _keys(r.id, x.subject_name)]))
    return out


def lookup_json(facts: Facts, kept: Callable[[str, str, Callable[[], list]], list] | None = None) -> bytes:
    """The lookup index as compact UTF-8 JSON (see the module docstring); `kept`: see lookup_entries."""
    doc = {"v": LOOKUP_VERSION, "kinds": list(KIND_NAMES), "folders": list(KIND_FOLDERS), "r": lookup_entries(facts, kept)}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- the district-wide ranking of units ---------------------------------------------------


@dataclass(frozen=True)
class LatestGrade:
    year: int
    method: str
    grade: str
    score: Decimal
    order: int  # position of the grade in GRADE_ORDER (0 = best), for sorting


@dataclass(frozen=True)
class UnitRow:
    """One unit in the district-wide table; every measure is a number the table sorts by."""

    id: str
    name: str
    kind: str
    active: bool
    commitments: int
    overdue_commitments: int
    outstanding: Decimal
    arrears_count: int
    findings: int  # on display
    serious_findings: int  # on display, severity 严重
    latest: LatestGrade | None


def latest_grade(d: DepartmentFacts, methods: Iterable[str]) -> LatestGrade | None:
    """The unit's grade of its most recent year, by the first method (schema order) it has."""
    if not d.evaluations:
        return None
    year = max(e.record.year for e in d.evaluations)
    of_year = [e for e in d.evaluations if e.record.year == year]
    order = list(methods)
    of_year.sort(key=lambda e: (order.index(e.record.method) if e.record.method in order else len(order), e.record.method))
    e = of_year[0].record
    return LatestGrade(e.year, e.method, e.grade, e.score,
                       GRADE_ORDER.index(e.grade) if e.grade in GRADE_ORDER else len(GRADE_ORDER))


def unit_rows(facts: Facts, methods: Iterable[str] = ("第三方评价", "绩效考核")) -> list[UnitRow]:
    """Every unit, in the departments' own order (the table sorts in the browser)."""
    methods = tuple(methods)
    return [UnitRow(
        id=d.department.id, name=d.department.name, kind=d.department.kind, active=d.department.active,
        commitments=len(d.commitments), overdue_commitments=d.overdue_commitments,
        outstanding=d.arrears_totals.outstanding, arrears_count=d.arrears_totals.count,
        findings=len(d.findings), serious_findings=sum(f.record.severity == "严重" for f in d.findings),
        latest=latest_grade(d, methods),
    ) for d in facts.departments]


# --- unit × year evaluation matrix ---------------------------------------------------------


@dataclass(frozen=True)
class MatrixRow:
    id: str
    name: str
    cells: tuple[EvaluationFacts | None, ...]  # one per year of the matrix, oldest first
    scores: tuple[Decimal | None, ...]
    change: Decimal | None  # last score minus the first, over the years the unit was evaluated
    trend: str  # 上升 | 下降 | 持平 | "" (fewer than two scores)


@dataclass(frozen=True)
class Matrix:
    method: str
    years: tuple[int, ...]
    rows: tuple[MatrixRow, ...]


def evaluation_matrices(facts: Facts, methods: Iterable[str]) -> list[Matrix]:
    """One unit × year table per evaluation method (schema order), units in department order."""
    by_method: dict[str, list[EvaluationFacts]] = {}
    for e in facts.evaluations:
        by_method.setdefault(e.record.method, []).append(e)
    order = list(methods)
    out = []
    for method in sorted(by_method, key=lambda m: (order.index(m) if m in order else len(order), m)):
        evals = by_method[method]
        years = tuple(sorted({e.record.year for e in evals}))
        cell = {(e.record.department, e.record.year): e for e in evals}
        units = [d.department for d in facts.departments if any((d.department.id, y) in cell for y in years)]
        known = {u.id for u in units}
        extra = sorted({e.record.department for e in evals} - known)  # units no longer in the list
        rows = []
        for unit_id, name in [(u.id, u.name) for u in units] + [(i, facts.department_names.get(i, i)) for i in extra]:
            cells = tuple(cell.get((unit_id, y)) for y in years)
            scores = tuple(c.record.score if c else None for c in cells)
            present = [s for s in scores if s is not None]
            change = present[-1] - present[0] if len(present) >= 2 else None
            trend = "" if change is None else ("上升" if change > 0 else "下降" if change < 0 else "持平")
            rows.append(MatrixRow(unit_id, name, cells, scores, change, trend))
        out.append(Matrix(method, years, tuple(rows)))
    return out


# --- glossary ---------------------------------------------------------------------------------

#: Terms that pages link to the glossary, and their anchors on glossary.md (ASCII, stable).
GLOSSARY_ANCHORS = {
    "二次失信": "ercishixin",
    "依法变更": "yifabiangeng",
    "逾期公示": "yuqigongshi",
    "清偿比例": "qingchangbili",
    "常态化": "changtaihua",
    "逾期未兑现": "yuqiweiduixian",
    "未兑现": "weiduixian",
}


# --- the header block of a record page --------------------------------------------------------


@dataclass(frozen=True)
class RecordHead:
    """索引号, 信息类别, 发布机构, 责任单位, 发布日期, 更新日期 of one record page."""

    index_no: str
    kind: str
    publisher: str
    unit: str
    published: date
    updated: date


#: Timeline events that are dates set in advance, not changes to the record.
SCHEDULED_EVENTS = ("兑现期限", "约定付款日期", "计划清偿")


def index_no(site_code: str | None, record_id: str) -> str:
    """The page's 索引号: the site's identification code (政府网站标识码) and the record id."""
    return f"{site_code}-{record_id}" if site_code else record_id


def record_head(kind: str, item, facts: Facts) -> RecordHead:
    """The header block of a commitment, arrears item or finding page.

    发布日期 is the day the record entered the public ledger (the promise, the
    ledger entry, the publication of the finding); 更新日期 the latest thing that
    happened to the record up to the as-of date (not a deadline or a planned instalment).
    """
    r = item.record
    if kind == "commitments":
        published, unit = r.promised_on, item.department_name
    elif kind == "arrears":
        published, unit = r.found_on, item.debtor_name
    elif kind == "findings":
        published, unit = r.published_on or r.decision_decided_on, item.subject_name
    else:
        raise ValueError(f"unknown record kind: {kind!r}")
    dated = [e.date for e in item.timeline
             if published <= e.date <= facts.as_of and e.label not in SCHEDULED_EVENTS]
    return RecordHead(index_no(facts.site.identifiers.get("site_code"), r.id), KIND_NAMES[KIND_FOLDERS.index(kind)],
                      facts.site.publisher, unit, published, max([published, *dated]))
