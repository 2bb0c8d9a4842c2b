"""Stage 4 — render: the facts as Markdown pages for MkDocs, written incrementally.

    render(facts, build_dir, history=…) → RenderResult

writes ``build_dir/docs/**`` (generated pages, the hand-written ``content/*.md``
and ``site_templates/assets/``), ``build_dir/pages.pack`` (record and department pages
as HTML) and ``build_dir/blocks.pack`` (the raw HTML blocks of the list pages); the
publish stage adds ``build_dir/mkdocs.yml`` (which INHERITs the repository's
``mkdocs.yml``). A file whose bytes would not change is left alone (its mtime too);
files this render did not produce are removed, except ``docs/data/**`` and
``docs/feed.xml`` which the open-data stage writes.

Safety rules (see tests/test_render.py):

* Record text is plain text typed by staff. It only ever reaches a page inside a
  raw HTML block, escaped by Jinja2's autoescape (``text_br`` for multi-line
  text), so Markdown, HTML and Jinja syntax in it shows literally. Template
  output is never rendered again.
* The one Markdown field (a commitment's ``content``) is escaped first, then
  converted by Python-Markdown; links to anything but http(s) or a relative
  path become plain text, images become their alt text.
* Page titles (front matter, dumped by YAML) never carry ``<``, ``>`` or ``&``,
  nor control or bidi characters: MkDocs and Material print titles unescaped.
* Links are built from validated ids only (``record_path``) and made relative
  to the page that carries them (``url``), as MkDocs does not rewrite links in
  raw HTML.

Output is deterministic: the same facts give the same bytes.
"""

from __future__ import annotations

import html as _html
import hashlib
import io
import gc
import marshal
import pickle
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

import jinja2
import yaml
from markupsafe import Markup, escape

from generator import charts, citizen
from generator.figures import split_html_figures, usable as figures_usable
from generator.files import sweep_stale, write_if_changed
from generator.bytecode import TemplateCodeCache
from generator.pack import EntryKeys, PackWriter
from generator.urls import RECORD_KINDS, Linker, is_web_url, page_url, record_path, url  # noqa: F401 - re-exported
from generator.engine.markup import markdown_field_html, safe_href  # noqa: F401 - safe_href re-exported
from generator.derive import (
    ARREARS_STATUSES,
    ArrearsFacts,
    CommitmentFacts,
    CurvePoint,
    DepartmentFacts,
    EvaluationFacts,
    Event,
    Facts,
    FindingFacts,
    TaskFacts,
    Totals,
    arrears_totals,
)
from generator.history import History, Revision
from generator import sitefiles
from generator.schema import GROUP_TOKENS, load_package

#: The presentation (site_templates/, shipped with the package: see generator/sitefiles.py).
DEFAULT_TEMPLATES_DIR = sitefiles.templates_dir()
#: Pages rendered straight to HTML (record and department pages), stamped by the engine:
#: one entry per page, keyed by its URL (see generator/pack.py).
PAGES_PACK = "pages.pack"
#: What earlier versions wrote instead (a folder of body files and a manifest): removed.
_LEGACY = ("pages", "pages.json", "blocks.json")

#: Rows per list page; longer lists are split into page-2.md, page-3.md …
PER_PAGE = 500
#: Rows of each table on a department page (newest first); the list pages have them all.
DEPARTMENT_ROWS = 100
#: Arrears ids linked in each annual notice on a department page.
NOTICE_ITEMS = 20
#: Recent changes on the home page.
HOME_CHANGES = 10
#: Revisions shown on a record page, and characters of each old/new value.
HISTORY_REVISIONS = 30
HISTORY_VALUE_CHARS = 120

#: Files under docs/ that other stages write: never touched here.
FOREIGN_DIRS = ("data", "letters", "feeds")  # opendata.py; extras.py (letters, feeds, calendar)
FOREIGN_FILES = ("feed.xml",)


CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10000)


@dataclass(frozen=True)
class RenderResult:
    written: int  # page sources new or changed: files under docs/, entries of pages.pack and blocks.pack
    unchanged: int  # page sources whose bytes were already right (files left alone, entries as they were)
    removed: int  # stale files removed from docs/, entries dropped from the packs
    pages: list[str]  # every Markdown page under docs/ this render produced, sorted
    #: (kind, record id) → its page's cache key (_PageCache.key), when a cache was used: a digest
    #: of the record's facts (and more) that stands for them in the letters' cache (extras.py)
    record_keys: dict[tuple[str, str], str] | None = None


# --- text -------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str) -> str:
    """Drop control characters (keeping newlines and tabs): they have no place in a page,
    and STX/ETX would collide with Python-Markdown's placeholders."""
    return _CONTROL.sub("", text)


def safe_title(text: str, limit: int = 120) -> str:
    """A page title that stays plain text where MkDocs and Material print it unescaped.

    ``<``, ``>`` and ``&`` become their full-width forms (＜＞＆), control, format
    and bidi characters go, newlines and runs of white space become one space.
    """
    if text.__class__ is str and text.isprintable():
        # No control, format (bidi included), surrogate, private-use, unassigned or separator
        # character but the ASCII space: only the replacements below apply.
        title = text.replace("<", "＜").replace(">", "＞").replace("&", "＆")
        if "  " in title:
            title = re.sub(" +", " ", title)
        title = title.strip()
        if len(title) > limit:
            title = title[: limit - 1].rstrip() + "…"
        return title
    out = []
    for ch in str(text):
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\x0b\x0c\u2028\u2029" or cat in ("Zl", "Zp", "Zs"):
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in _BIDI:
            continue
        else:
            out.append({"<": "＜", ">": "＞", "&": "＆"}.get(ch, ch))
    title = re.sub(" +", " ", "".join(out)).strip()
    if len(title) > limit:
        title = title[: limit - 1].rstrip() + "…"
    return title


def shell_text(text: str) -> str:
    """Text for the theme's own settings (``site_name``), which Material prints unescaped
    in <title>, the header and an ``aria-label="…"`` attribute, and escaped elsewhere.

    A safe_title (no ``<``, ``>``, ``&``, controls or bidi characters) without ASCII
    quotes either (``"`` and ``'`` become ＂ and ＇): the same text whether printed
    raw or escaped, and it cannot leave an attribute.
    """
    return safe_title(text, limit=200).replace('"', "\uff02").replace("'", "\uff07")


def text_br(value: object) -> Markup:
    """Escape plain text for an HTML block; line breaks become <br> (a blank line would end the block)."""
    if value is None:
        return Markup("")
    if value.__class__ is str and value.isprintable():  # no line break, no control character
        return escape(value)
    text = clean(str(value)).replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return escape(text).replace("\n", Markup("<br>"))


def _br(value: object) -> str:
    """``str(text_br(value))``, with _text's fast path for one printable line without markup."""
    if value.__class__ is str and value.isprintable() and _HTML_SPECIAL.search(value) is None:
        return value
    return str(text_br(value))


def _finalize(value: object) -> object:
    """Every ``{{ }}`` output: text loses its control characters (see clean).

    A printable str (the usual case) holds none of them: every character clean drops is
    a control (Cc) or a noncharacter (Cn), and str.isprintable() is False for both.
    """
    if value.__class__ is str:
        return value if value.isprintable() else _CONTROL.sub("", value)
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean(value)
    return value


def _out(value: object) -> Markup:
    """What ``{{ value }}`` prints in a template: finalized, then escaped (autoescape)."""
    return escape(_finalize(value))


#: What markupsafe's escape replaces (``& < > ' "``).
_HTML_SPECIAL = re.compile("[&<>'\"]")


def _finalize_escaped(value: object) -> str:
    """What ``{{ value }}`` prints under autoescape (_out: finalized, then escaped), for an
    environment that escapes here instead (the record pages', see _Site): most outputs are
    printable text without a character to escape, returned as they are, instead of a new
    Markup per output through markupsafe's Python wrapper; Markup (the filters' HTML) is
    already escaped. Jinja prints str() of the result: the same text as autoescape's Markup."""
    if value.__class__ is str:
        if value.isprintable():
            return value if _HTML_SPECIAL.search(value) is None else escape(value)
        return escape(_CONTROL.sub("", value))
    if value.__class__ is Markup:
        return value
    return _out(value)


def _text(value: object) -> str:
    """``str(_out(value))`` for assembling markup in Python: exactly what ``{{ value }}`` prints.

    Most record text is a printable str without a character to escape: it is its own
    escaped form, found with two C calls instead of markupsafe's Python wrapper and a new
    Markup object (about a sixth of the time). Anything else goes through _out."""
    if value.__class__ is str and value.isprintable() and _HTML_SPECIAL.search(value) is None:
        return value
    return str(_out(value))


# --- numbers and dates ------------------------------------------------------------------


def cn_date(value: date | None) -> str:
    """2024年3月1日"""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


@lru_cache(maxsize=1 << 14)  # pure; a site's dates are a few thousand days, shown 100,000s of times
def time_tag(value: date | None) -> Markup:
    """<time datetime="2024-03-01">2024年3月1日</time>"""
    if value is None:
        return Markup('<time datetime=""></time>')
    return Markup(f'<time datetime="{value.isoformat()}">{value.year}年{value.month}月{value.day}日</time>')


def iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _dec(value: Decimal | int) -> Decimal:
    if value.__class__ is Decimal:  # the usual case; Decimal(value) would be an equal copy
        return value
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"money must be Decimal or int, got {type(value).__name__}")
    return Decimal(value)


def _remembered(format_amount: Callable[[Decimal | int], str]) -> Callable[[Decimal | int], str]:
    """format_amount, remembering its last few thousand results (a record page prints a dozen
    amounts, half of them 0, an amount owed again as outstanding, the same instalments).

    Keyed by the value, its type and its sign: equal Decimals round to the same cents, so they
    print alike, except 0 and -0 (equal, printed 0.00 and -0.00), which the sign tells apart;
    an int and a Decimal, or a bool, are other keys (a bool is refused as before). A value
    that cannot be a key (a signalling NaN) is formatted as it was, raising what it raised."""
    remember = lru_cache(maxsize=1 << 12, typed=True)(lambda value, negative: format_amount(value))

    def formatted(value: Decimal | int) -> str:
        try:
            return remember(value, value.is_signed() if value.__class__ is Decimal else False)
        except TypeError:
            return format_amount(value)

    formatted.__doc__, formatted.__name__, formatted.uncached = format_amount.__doc__, format_amount.__name__, format_amount
    return formatted


@_remembered
def yuan_number(value: Decimal | int) -> str:
    """1,234,567.89 (two decimals, from the Decimal itself)."""
    return f"{_dec(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def yuan(value: Decimal | int) -> str:
    """1,234,567.89 元"""
    return f"{yuan_number(value)} 元"


@_remembered
def wan_number(value: Decimal | int) -> str:
    """1234567.89 → 123.46 (万元, half up)."""
    return f"{(_dec(value) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def wan(value: Decimal | int) -> str:
    """123.46万元"""
    return f"{wan_number(value)}万元"


def yuan_cell(value: Decimal | int) -> Markup:
    """1,234,567.89 元 for a table cell: the unit in its own span, which print leaves out
    (the printed column header carries it)."""
    return Markup(f'{yuan_number(value)}<span class="zq-unit"> 元</span>')


@_remembered
def money(value: Decimal | int) -> str:
    """1,234,567.89 元（123.46万元）; the 万元 form only from 10,000 yuan on.

    yuan() and wan() written out: a record page prints a dozen amounts."""
    d = _dec(value)
    shown = f"{d.quantize(CENT, rounding=ROUND_HALF_UP):,.2f} 元"
    if abs(d) >= TEN_THOUSAND:
        return f"{shown}（{(d / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}万元）"
    return shown


@_remembered
def percent(share: Decimal | int) -> str:
    """0.4567 → 45.67%"""
    return f"{(_dec(share) * 100).quantize(CENT, rounding=ROUND_HALF_UP)}%"


def plain_number(value: Decimal | int) -> str:
    """A machine-readable number for data-value attributes: no exponent, no grouping."""
    d = _dec(value)
    return format(d, "f")


def rate(value: Decimal) -> str:
    """A percentage as given, without trailing zeros: 0.050 → 0.05"""
    text = format(_dec(value).normalize(), "f")
    return text


def signed(value: Decimal | None) -> str:
    """Score change: +1.5 / -2.0 / 持平 / —"""
    if value is None:
        return "—"
    if value == 0:
        return "持平"
    return f"+{value}" if value > 0 else f"−{-value}"


def tone(value: str) -> str:
    return value if value in ("ok", "warn", "bad", "muted") else "muted"


def truncate(value: str, limit: int = HISTORY_VALUE_CHARS) -> str:
    value = clean(str(value))
    if len(value) <= limit:
        return value
    return f"{value[:limit]}…（共 {len(value)} 字）"


# --- the one Markdown field -------------------------------------------------------------


def _no_blank_lines(text: str) -> str:
    """Keep an HTML fragment free of blank lines (they could end the raw HTML block).

    A newline followed by another newline becomes a character reference, which
    the browser reads as the same newline (inside <pre> too).
    """
    return re.sub(r"\n(?=[ \t]*\n)", "&#10;", text.strip("\n"))


def markdown_html(source: str | None) -> Markup:
    """Render the Markdown field safely (see the module docstring)."""
    if not source:
        return Markup("")
    escaped = _html.escape(clean(source).replace("\r\n", "\n").replace("\r", "\n"), quote=False)
    converted = markdown_field_html(escaped)
    return Markup(_no_blank_lines(converted))


# --- schema labels ----------------------------------------------------------------------


@lru_cache(maxsize=None)
def label(resource: str, field: str) -> str:
    """The field's Chinese title from the schema (never retyped here)."""
    return load_package().resource(resource).field(field).title


@lru_cache(maxsize=None)
def money_label(resource: str, field: str) -> str:
    """A money field's title without its unit suffix (the value carries 元)."""
    return label(resource, field).removesuffix("（元）")


@lru_cache(maxsize=None)
def field_labels(money: bool = False) -> SimpleNamespace:
    """What templates read as ``labels.<resource>.<field>`` (label) and ``money_labels.<resource>.<field>``
    (money_label): every field's title from the schema. An attribute lookup costs a page a
    fraction of a function call from a template (Jinja checks each callable before calling it).
    A misspelt name is undefined, which the environment's StrictUndefined turns into an error."""
    out: dict[str, SimpleNamespace] = {}
    for r in load_package().resources:
        if r.name not in out:  # the first resource of a name, as Package.resource finds it
            out[r.name] = SimpleNamespace(**{f.name: money_label(r.name, f.name) if money else label(r.name, f.name)
                                             for f in r.fields})
    return SimpleNamespace(**out)


@lru_cache(maxsize=None)
def enum(resource: str, field: str) -> tuple[str, ...]:
    return load_package().resource(resource).field(field).enum or ()


# --- presentation helpers (ordering, grouping, paging: no business rules) ---------------


@dataclass(frozen=True)
class Filter:
    key: str
    label: str
    options: tuple[tuple[str, str], ...]  # (value, text)


def _options(values: Iterable[str], order: Sequence[str] = ()) -> tuple[tuple[str, str], ...]:
    present = set(values)
    ranked = [v for v in order if v in present] + sorted(present - set(order))
    return tuple((v, v) for v in ranked)


def _year_options(years: Iterable[int]) -> tuple[tuple[str, str], ...]:
    return tuple((str(y), f"{y}年") for y in sorted(set(years), reverse=True))


def _dept_options(ids: Iterable[str], facts: Facts) -> tuple[tuple[str, str], ...]:
    present = set(ids)
    ordered = [d.department.id for d in facts.departments if d.department.id in present]
    ordered += sorted(present - set(ordered))
    return tuple((i, facts.department_names.get(i, i)) for i in ordered)


def _newest_commitments(items: Iterable[CommitmentFacts]) -> list[CommitmentFacts]:
    return sorted(items, key=lambda c: (c.record.promised_on, c.record.id), reverse=True)


def _newest_arrears(items: Iterable[ArrearsFacts]) -> list[ArrearsFacts]:
    return sorted(items, key=lambda a: (a.record.found_on, a.record.id), reverse=True)


def _newest_findings(items: Iterable[FindingFacts]) -> list[FindingFacts]:
    return sorted(items, key=lambda f: (f.record.published_on or f.record.decision_decided_on, f.record.id), reverse=True)


def _pages_of(base: str, count: int) -> list[str]:
    """``commitments`` → ``commitments/index.md``, ``commitments/page-2.md`` …"""
    n = max(1, -(-count // PER_PAGE))
    return [f"{base}/index.md"] + [f"{base}/page-{i}.md" for i in range(2, n + 1)]


@dataclass(frozen=True)
class Pager:
    current: int
    total: int
    per_page: int
    first_row: int  # 1-based, for "第 1–500 条"
    last_row: int
    rows: int  # of the whole list
    links: tuple[tuple[int | None, str], ...]  # (page number or None for a gap, docs path)
    prev: str | None
    next: str | None


def _pager(paths: list[str], current: int, rows: int) -> Pager:
    total = len(paths)
    wanted = sorted({1, total, *range(max(1, current - 2), min(total, current + 2) + 1)})
    links: list[tuple[int | None, str]] = []
    last = 0
    for no in wanted:
        if no - last > 1:
            links.append((None, ""))
        links.append((no, paths[no - 1]))
        last = no
    return Pager(current, total, PER_PAGE, (current - 1) * PER_PAGE + 1, min(rows, current * PER_PAGE), rows,
                 tuple(links), paths[current - 2] if current > 1 else None, paths[current] if current < total else None)


def _chunks(items: list, size: int = PER_PAGE) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


@dataclass(frozen=True)
class GradeRow:
    year: int
    method: str
    counts: tuple[tuple[str, int], ...]
    total: int


def grade_distribution(evaluations: Iterable[EvaluationFacts]) -> list[GradeRow]:
    """Counts of each grade per year and method (Facts carries only the latest year's)."""
    groups: dict[tuple[int, str], Counter] = {}
    for e in evaluations:
        groups.setdefault((e.record.year, e.record.method), Counter())[e.record.grade] += 1
    grades = enum("evaluations", "grade")
    return [GradeRow(y, m, tuple((g, c.get(g, 0)) for g in grades), sum(c.values()))
            for (y, m), c in sorted(groups.items())]


@dataclass(frozen=True)
class RankingTable:
    year: int
    method: str
    rows: tuple[EvaluationFacts, ...]  # by rank

    @property
    def evaluators(self) -> tuple[str, ...]:
        return tuple(sorted({e.record.evaluator for e in self.rows}))

    @property
    def published(self) -> tuple[date, ...]:
        return tuple(sorted({e.record.published_on for e in self.rows}))


def ranking_tables(evaluations: Iterable[EvaluationFacts]) -> list[RankingTable]:
    """Newest year first; within a year the methods in schema order; rows by rank."""
    groups: dict[tuple[int, str], list[EvaluationFacts]] = {}
    for e in evaluations:
        groups.setdefault((e.record.year, e.record.method), []).append(e)
    methods = enum("evaluations", "method")
    keys = sorted(groups, key=lambda k: (-k[0], methods.index(k[1]) if k[1] in methods else len(methods), k[1]))
    return [RankingTable(y, m, tuple(sorted(groups[(y, m)], key=lambda e: (e.rank, e.department_name, e.record.department))))
            for y, m in keys]


def latest_evaluations(d: DepartmentFacts) -> tuple[EvaluationFacts, ...]:
    """The department's results of its most recent year (one per method)."""
    if not d.evaluations:
        return ()
    year = max(e.record.year for e in d.evaluations)
    return tuple(e for e in d.evaluations if e.record.year == year)


def task_units(task, role: str, names: dict[str, str]) -> list[tuple[str, str]]:
    """(unit id or token, display name) of one role, in the order the policy lists them."""
    return [(u.unit, names.get(u.unit, u.unit)) for u in task.record.units if u.role == role]


_TASK_TONE = {"未启动": "muted", "推进中": "warn", "已完成": "ok", "常态化": "ok"}


def task_tone(status: str) -> str:
    """The badge tone of a task status."""
    return _TASK_TONE.get(status, "muted")


_CHANGE_KIND = {"new": "新增", "status": "状态变化", "repayment": "清偿", "progress": "进展", "withdrawn": "撤回",
                "drift": "期限或金额变更"}


def change_kind(kind: str) -> str:
    """新增 / 状态变化 / 清偿 / 进展 for a change on the home page."""
    return _CHANGE_KIND.get(kind, kind)


_ARREARS_AMOUNT_EVENTS = ("清偿", "计划清偿")


def event_text(event: Event, kind: str) -> str:
    """An event's text; the arrears timeline carries amounts as bare numbers, shown as money."""
    if kind == "arrears" and event.label in _ARREARS_AMOUNT_EVENTS:
        try:
            return money(Decimal(event.text))
        except ArithmeticError:
            return event.text
    return event.text


@dataclass(frozen=True)
class HistoryView:
    available: bool
    reason: str
    revisions: tuple[Revision, ...]  # newest first
    omitted: int


def history_view(history: History | None, record_id: str) -> HistoryView:
    if history is None:
        return HistoryView(False, "本次生成未读取修改记录。", (), 0)
    if not history.available:
        return HistoryView(False, history.reason or "没有可用的版本历史。", (), 0)
    revisions = tuple(reversed(history.of(record_id)))
    return HistoryView(True, "", revisions[:HISTORY_REVISIONS], max(0, len(revisions) - HISTORY_REVISIONS))


def quarterly(points: Sequence[CurvePoint]) -> tuple[CurvePoint, ...]:
    """Quarter-end points of a monthly curve, and its last point (the home page's lighter curve)."""
    return tuple(p for i, p in enumerate(points) if p.month[5:] in ("03", "06", "09", "12") or i == len(points) - 1)


def month_label(month: str) -> str:
    """2024-03 → 2024年3月"""
    return f"{month[:4]}年{int(month[5:])}月"


def curve_chart(points: Sequence[CurvePoint], chart_id: str) -> Markup:
    desc = "暂无数据"
    if points:
        last = points[-1]
        desc = (f"截至{month_label(last.month)}，累计认定欠款{wan(last.owed)}，"
                f"累计清偿{wan(last.repaid)}，未清偿余额{wan(last.outstanding)}。")
    svg = charts.for_screens(
        charts.line_chart, chart_id, "拖欠中小企业账款清偿进度", desc, [p.month for p in points],
        [("累计认定", [p.owed for p in points]), ("累计清偿", [p.repaid for p in points]),
         ("未清偿余额", [p.outstanding for p in points])],
        y_label="单位：万元", fmt=wan_number, tick_fmt=lambda v: format((Decimal(v) / TEN_THOUSAND).normalize(), "f"),
    )
    return Markup(svg)


def debtor_rows(items: Iterable[ArrearsFacts], facts: Facts) -> list[tuple[str, str, Totals]]:
    """Per debtor (department order): (id, name, totals of its rows), only those with arrears."""
    by: dict[str, list[ArrearsFacts]] = {}
    for a in items:
        by.setdefault(a.record.debtor, []).append(a)
    order = [d.department.id for d in facts.departments]
    ids = [i for i in order if i in by] + sorted(set(by) - set(order))
    return [(i, facts.department_names.get(i, i), arrears_totals(by[i])) for i in ids]


def debtor_chart(rows: list[tuple[str, str, Totals]], chart_id: str) -> Markup:
    bars = sorted(((name, t.outstanding) for _, name, t in rows if t.outstanding > 0), key=lambda b: -b[1])
    total = sum((v for _, v in bars), Decimal(0))
    desc = f"{len(bars)} 个单位尚有未清偿欠款，合计{wan(total)}。" if bars else "各单位均无未清偿欠款。"
    return Markup(charts.for_screens(charts.bar_chart, chart_id, "各单位未清偿欠款余额", desc, bars, fmt=wan))


def status_chart(counts: Sequence[tuple[str, int]], chart_id: str, title: str, unit: str) -> Markup:
    desc = "，".join(f"{k}{v}{unit}" for k, v in counts) + "。"
    return Markup(charts.for_screens(charts.bar_chart, chart_id, title, desc, list(counts), fmt=str))


def grade_chart(rows: list[GradeRow], chart_id: str) -> Markup:
    cats = [f"{r.year}年 {r.method}" for r in rows]
    grades = enum("evaluations", "grade")
    segments = [(g, [dict(r.counts)[g] for r in rows]) for g in grades] if rows else []
    desc = "；".join(f"{c}：" + "，".join(f"{g}{n}个" for g, n in r.counts) for c, r in zip(cats, rows)) or "暂无数据"
    return Markup(charts.for_screens(charts.stacked_bar, chart_id, "评价等次分布", desc, cats, segments, fmt=str))


def trend_chart(d: DepartmentFacts, chart_id: str) -> Markup | None:
    """Score by year, one line per method; only with at least two years."""
    years = sorted({e.record.year for e in d.evaluations})
    if len(years) < 2:
        return None
    methods = [m for m in enum("evaluations", "method") if any(e.record.method == m for e in d.evaluations)]
    scores = {(e.record.year, e.record.method): e.record.score for e in d.evaluations}
    series = [(m, [scores.get((y, m)) for y in years]) for m in methods]
    desc = "；".join(f"{y}年" + "，".join(f"{m}{scores[(y, m)]}分" for m in methods if (y, m) in scores) for y in years)
    return Markup(charts.for_screens(charts.line_chart, chart_id, f"{d.department.name}历年评价得分", desc,
                                    [f"{y}年" for y in years], series, y_label="单位：分"))


# --- small HTML pieces of the page templates -----------------------------------------------
#
# Record and department pages use these thousands of times per build; as Python functions
# they cost a fraction of a Jinja macro call. They are filters of the environment
# (``{{ a.badges | badges }}``, ``{{ r.debtor | dept_link(a.debtor_name, nav) }}``): Jinja calls
# a filter directly, a function through Context.call, which checks it first. Each returns
# Markup built only from fixed markup and values passed through _out (exactly what
# ``{{ value }}`` prints: control characters dropped, then escaped), time_tag or text_br,
# so record text stays escaped. The markup is the one the macros of _macros.j2 printed.


def record_url(record_id: str, kind: str, nav: Linker) -> str:
    """The link from the page to a record's page (table rows)."""
    return nav.record(kind, record_id)


def badge(text: object, tone_name: str) -> Markup:
    return Markup(f'<span class="zq-badge zq-badge--{_out(tone(tone_name))}">{_out(text)}</span>')


_BADGE_HTML: dict[tuple[str, str], str] = {}


def _badge_html(text: str, tone_name: str) -> str:
    """One badge's markup, remembered for plain str label and tone (the same few dozen badges
    are printed on every page and table row: 逾期 N 天, statuses); see _Escaped."""
    key = (text, tone_name)
    html = _BADGE_HTML.get(key)
    if html is None:
        html = f'<span class="zq-badge zq-badge--{_out(tone(tone_name))}">{_out(text)}</span>'
        if text.__class__ is str and tone_name.__class__ is str and len(_BADGE_HTML) < 4096:
            _BADGE_HTML[key] = html
    return html


def badge_list(items: Iterable) -> Markup:
    """The badges of a record, separated by spaces (table cells)."""
    return Markup(" ".join([_badge_html(b.label, b.tone) for b in items]))


def badges(items: Iterable) -> Markup:
    """The badges of a record in their own paragraph (page heads)."""
    return Markup(f'<p class="zq-badges">{" ".join([_badge_html(b.label, b.tone) for b in items])}</p>')


def dept_link(dept_id: str, name: object, nav: Linker) -> Markup:
    """The unit's name, linked to its department page when it has one."""
    href = nav.dept(dept_id)
    return Markup(f'<a href="{_text(href)}">{_text(name)}</a>' if href else _text(name))


def related_link(record_id: str, nav: Linker, text: object = None) -> Markup:
    """A related record's id (or text), linked only if that record is on the site."""
    href = nav.related(record_id)
    shown = _text(text or record_id)
    return Markup(f'<a href="{_text(href)}">{shown}</a>' if href else shown)


def record_header(h) -> Markup:
    """The header block of a government information page: 索引号, 发布机构, dates; 【打印】【字号】."""
    return Markup(
        '<table class="zq-dochead">\n'
        '<caption class="zq-visually-hidden">信息公开要素</caption>\n'
        '<tbody>\n'
        f'<tr><th scope="row">索引号</th><td>{_text(h.index_no)}</td><th scope="row">信息类别</th><td>{_text(h.kind)}</td></tr>\n'
        f'<tr><th scope="row">发布机构</th><td>{_text(h.publisher)}</td><th scope="row">责任单位</th><td>{_text(h.unit)}</td></tr>\n'
        f'<tr><th scope="row">发布日期</th><td>{time_tag(h.published)}</td><th scope="row">更新日期</th><td>{time_tag(h.updated)}</td></tr>\n'
        '</tbody>\n'
        '</table>\n'
        '<p class="zq-doctools" data-zq-doctools hidden>【<button type="button" data-zq-print>打印</button>】【字号：'
        '<button type="button" data-size="xlarge" aria-pressed="false">大</button> '
        '<button type="button" data-size="large" aria-pressed="false">中</button> '
        '<button type="button" data-size="standard" aria-pressed="false">小</button>】</p>')


_LABEL_HTML: dict[str, str] = {}


def timeline(events: Iterable[Event], kind: str) -> Markup:
    labels = _LABEL_HTML  # _text of each plain str label, remembered: the same few labels on every page
    items = []
    for e in events:
        label = labels.get(e.label) if e.label.__class__ is str else None
        if label is None:
            label = _text(e.label)
            if e.label.__class__ is str and len(labels) < 4096:
                labels[e.label] = label
        if e.text:
            items.append(f'<li>{time_tag(e.date)} <strong>{label}</strong> {_br(event_text(e, kind))}</li>\n')
        else:
            items.append(f'<li>{time_tag(e.date)} <strong>{label}</strong></li>\n')
    return Markup(f'<ol class="zq-timeline">\n{"".join(items)}</ol>')


def history_block(hist: "HistoryView") -> Markup:
    """A record's revisions (newest first), or why there are none."""
    if not hist.available:
        return Markup(f'<p class="zq-history zq-history--none">本页修改记录暂不可用：{_text(hist.reason)}</p>\n')
    if not hist.revisions:
        return Markup('<p class="zq-history zq-history--none">暂无修改记录。</p>\n')
    out = ['<ol class="zq-history">\n']
    for rev in hist.revisions:
        out.append(f"<li>{time_tag(rev.date)}")
        if rev.created:
            out.append(" 新增记录")
        if rev.changes:
            out.append("<ul>\n")
            for ch in rev.changes:
                out.append(f'<li>{_text(ch.field)}：{_text(truncate(ch.old) or "（空）")} → '
                           f'{_text(truncate(ch.new) or "（空）")}</li>\n')
            out.append("</ul>\n")
        elif not rev.created:
            out.append(" 内容未变")
        out.append("</li>\n")
    out.append("</ol>\n")
    if hist.omitted:
        out.append(f'<p class="zq-history-more">另有更早的 {_text(hist.omitted)} 次修改未列出，完整历史见代码仓库。</p>\n')
    return Markup("".join(out))


_OBJECTION_TEXT = {
    "findings": "认为本记录有误，或者公示期已满仍在公开的，可以提出异议。异议由本记录的认定机关",
    "arrears": "认为本记录的欠款金额、日期或清偿情况有误的，可以提出异议。异议由欠款单位",
}
_OBJECTION_DEFAULT = "认为本记录的承诺内容、期限或履行情况有误的，可以提出异议。异议由承诺单位"


def objection_link(record_id: str, kind: str, handler, name: object, nav: Linker) -> Markup:
    """Who handles an objection to the record, how to reach them, and the prefilled letter."""
    return Markup(f"{_objection_who(kind, handler, name)}"
                  f'<p><a href="{_text(nav.to("letters/" + str(record_id) + ".html"))}">打印预填的异议申请书</a>'
                  f'（含记录内容、提交方式和答复期限） · <a href="{_text(nav.to("objection.md"))}">异议与投诉办法</a></p>\n'
                  "</div>")


_OBJECTION_WHO: dict[tuple, str] = {}


def _objection_who(kind: str, handler, name: object) -> str:
    """The part of objection_link that names the handler and its contacts: the same for every
    record of a kind and department (remembered for plain str names and hashable handlers)."""
    try:
        key = (kind, name, handler) if name.__class__ is str else None
        found = _OBJECTION_WHO.get(key) if key is not None else None
    except TypeError:  # a handler that cannot be a key
        key = found = None
    if found is not None:
        return found
    out = ['<div class="zq-objection">\n',
           f"<p>{_OBJECTION_TEXT.get(kind, _OBJECTION_DEFAULT)}<strong>{_text(name)}</strong>核查处理并书面答复。</p>\n"]
    if handler and handler.has_contact:
        out.append('<ul class="zq-objection__contact">\n')
        if handler.contact_office:
            out.append(f"<li>受理科室：{_text(handler.name)}{_text(handler.contact_office)}</li>")
        if handler.contact_phone:
            out.append(f"<li>电话：{_text(handler.contact_phone)}</li>")
        if handler.contact_address:
            out.append(f"<li>地址：{_text(handler.contact_address)}</li>")
        if handler.contact_hours:
            out.append(f"<li>受理时间：{_text(handler.contact_hours)}</li>")
        out.append("</ul>\n")
    else:
        out.append(f"<p>{_text(name)}的受理地址和电话尚未登记，请向本站主办单位提交（联系方式见页面底部），由其转交办理。</p>\n")
    found = "".join(out)
    if key is not None and len(_OBJECTION_WHO) < 4096:
        _OBJECTION_WHO[key] = found
    return found


def _join(items: Iterable, sep: str) -> object:
    """Jinja's ``join`` filter under autoescape (plain text unless an item is Markup)."""
    items = list(items)
    if any(hasattr(i, "__html__") for i in items):
        return escape(sep).join(items)
    return sep.join(map(str, items))


def change_log(entries: Sequence, table: str, noun: str = "变更") -> Markup:
    """What changed after publication, why, on what legal basis, approved by which document."""
    if not entries:
        return Markup(f'<p class="zq-changelog zq-changelog--none">发布后没有登记过{_text(noun)}。</p>\n')
    reason, basis = _text(label(table, "reason")), _text(label(table, "basis"))
    out = ['<ol class="zq-changelog">\n']
    for e in entries:
        out.append(f'<li class="zq-changelog__entry"><p>{time_tag(e.date)} <strong>{_text(_join(e.field_titles, "、"))}</strong>'
                   f'：{_br(e.what)}</p>\n'
                   '<dl class="zq-changelog__why">\n'
                   f"<dt>{reason}</dt><dd>{_br(e.reason)}</dd>\n"
                   f"<dt>{basis}</dt><dd>{_br(e.basis)}</dd>\n")
        if e.document:
            out.append(f"<dt>{_text(label(table, 'document'))}</dt><dd>{_br(e.document)}</dd>\n")
        out.append("</dl>\n</li>\n")
    out.append("</ol>\n")
    return Markup("".join(out))


def _field_cells(resource: str, *fields: str) -> tuple[str, ...]:
    """Field titles as a table prints them in every row (data-label): escaped once per table."""
    return tuple(_text(label(resource, f)) for f in fields)


class _Escaped(dict):
    """_text of the plain strings a table repeats row after row (statuses, categories, unit ids,
    creditors): each escaped once per table. Only values of type str are remembered: a Markup
    equal to a remembered text would be looked up as that text and come out escaped (the
    fields read here are plain str in the model), never the other way round."""

    def __missing__(self, value: object) -> str:
        out = _text(value)
        if value.__class__ is str:
            self[value] = out
        return out


class _DateCells(dict):
    """(data-value, text) of a date cell, as ``{{ d | iso }}`` and ``{{ d | cn_date }}`` print them: once per date."""

    def __missing__(self, value: date | None) -> tuple[str, str]:
        cells = self[value] = (_text(iso(value)), _text(cn_date(value)))
        return cells


class _DeptLinks(dict):
    """dept_link of one page, computed once per (unit id, name): a table repeats a few units."""

    def __init__(self, nav: Linker):
        super().__init__()
        self.nav = nav

    def __missing__(self, key: tuple[str, str]) -> str:
        value = self[key] = str(dept_link(key[0], key[1], self.nav))
        return value


def _badge_cells(items: Iterable) -> str:
    """badge_list as a plain str (for rows assembled in Python)."""
    return " ".join([_badge_html(b.label, b.tone) for b in items])


def _amount_cells(value: Decimal | int) -> tuple[str, str]:
    """(data-value, cell) of an amount: ``{{ v | num }}`` and ``{{ v | yuan_cell }}``. Both are
    made of digits, ``-``, ``.`` and ``,`` (or a Decimal's NaN / Infinity): their own escaped form."""
    d = _dec(value)
    return format(d, "f"), f'{d.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}<span class="zq-unit"> 元</span>'


def commitment_rows(rows: Iterable[CommitmentFacts], nav: Linker) -> Markup:
    """The body rows of a commitments table (list pages, department pages): the markup the
    ``{% for %}`` loop of ``commitments_table`` printed, every value through _text as ``{{ }}`` did."""
    department, category, promised_on, deadline, status = _field_cells(
        "commitments", "department", "category", "promised_on", "deadline", "status")
    links, text, dates = _DeptLinks(nav), _Escaped(), _DateCells()
    record = nav.record
    out = []
    for c in rows:
        r = c.record
        promised, due = dates[r.promised_on], dates[r.deadline]
        out.append(
            f'<tr data-department="{text[r.department]}" data-status="{text[r.status]}" data-category="{text[r.category]}"'
            f' data-year="{r.promised_on.year}"><td class="zq-key zq-card-title">'
            f'<a href="{_text(record("commitments", r.id))}">{_text(r.title)}</a><br><small class="zq-nowrap">{_text(r.id)}</small></td>'
            f'<td data-label="{department}">{links[r.department, c.department_name]}</td>'
            f'<td data-label="{category}">{text[r.category]}</td>'
            f'<td data-label="{promised_on}" data-value="{promised[0]}">{promised[1]}</td>'
            f'<td class="zq-key" data-label="{deadline}" data-value="{due[0]}">{due[1]}</td>'
            f'<td class="zq-key" data-label="{status}" data-value="{text[r.status]}">{_badge_cells(c.badges)}</td></tr>\n')
    return Markup("".join(out))


def arrears_rows(rows: Iterable[ArrearsFacts], nav: Linker, show_debtor: bool = True) -> Markup:
    """The body rows of an arrears table, as the loop of ``arrears_table`` printed them."""
    debtor, creditor, due_on = _field_cells("arrears", "debtor", "creditor", "due_on")
    amount = _text(money_label("arrears", "amount"))
    links, text, dates = _DeptLinks(nav), _Escaped(), _DateCells()
    record = nav.record
    out = []
    for a in rows:
        r = a.record
        due = dates[r.due_on]
        owed, repaid, outstanding = _amount_cells(r.amount), _amount_cells(a.repaid), _amount_cells(a.outstanding)
        out.append(
            f'<tr data-department="{text[r.debtor]}" data-status="{text[a.status]}" data-size="{text[r.creditor_size]}"'
            f' data-year="{r.found_on.year}" data-creditor="{text[r.creditor]}"><td class="zq-key zq-card-title">'
            f'<a href="{_text(record("arrears", r.id))}">{_text(r.project)}</a><br><small class="zq-nowrap">{_text(r.id)}</small></td>')
        if show_debtor:
            out.append(f'<td data-label="{debtor}">{links[r.debtor, a.debtor_name]}</td>')
        out.append(
            f'<td data-label="{creditor}">{text[r.creditor]}</td>'
            f'<td data-label="{due_on}" data-value="{due[0]}">{due[1]}</td>'
            f'<td class="zq-num zq-key" data-label="{amount}" data-value="{owed[0]}">{owed[1]}</td>'
            f'<td class="zq-num" data-label="已清偿" data-value="{repaid[0]}">{repaid[1]}</td>'
            f'<td class="zq-num zq-key" data-label="未清偿余额" data-value="{outstanding[0]}">{outstanding[1]}</td>'
            f'<td class="zq-key" data-label="清偿状态" data-value="{text[a.status]}">{_badge_cells(a.badges)}</td></tr>\n')
    return Markup("".join(out))


def finding_rows(rows: Iterable[FindingFacts], nav: Linker, show_subject: bool = True) -> Markup:
    """The body rows of a findings table, as the loop of ``findings_table`` printed them."""
    subject, category, severity, decided, published = _field_cells(
        "findings", "subject", "category", "severity", "decision_decided_on", "published_on")
    links, text, dates = _DeptLinks(nav), _Escaped(), _DateCells()
    record = nav.record
    out = []
    for x in rows:
        r = x.record
        on, pub, end = dates[r.decision_decided_on], dates[r.published_on], dates[x.disclosure_end]
        out.append(
            f'<tr data-department="{text[r.subject]}" data-severity="{text[r.severity]}" data-category="{text[r.category]}"'
            f' data-year="{r.decision_decided_on.year}"><td class="zq-key zq-card-title">'
            f'<a class="zq-nowrap" href="{_text(record("findings", r.id))}">{_text(r.id)}</a></td>')
        if show_subject:
            out.append(f'<td data-label="{subject}">{links[r.subject, x.subject_name]}</td>')
        out.append(
            f'<td data-label="{category}">{text[r.category]}</td>'
            f'<td class="zq-key zq-badge-cell" data-label="{severity}" data-value="{text[r.severity]}">{_badge_cells(x.badges)}</td>'
            f'<td data-label="{decided}" data-value="{on[0]}">{on[1]}</td>'
            f'<td class="zq-key" data-label="{published}" data-value="{pub[0]}">{pub[1]}</td>'
            f'<td class="zq-key" data-label="公示截止" data-value="{end[0]}">{end[1]}</td>'
            f'<td class="zq-key" data-label="异议情况">{text[x.objection_state]}</td></tr>\n')
    return Markup("".join(out))


def tombstone(w, noun: str) -> Markup:
    """The notice on a withdrawn record's page."""
    doc = f"<br>批准文件：{_br(w.document)}" if w.document else ""
    return Markup('<div class="admonition warning zq-tombstone" role="note">\n'
                  f'<p class="admonition-title">本{_text(noun)}已于 {time_tag(w.date)} 撤回</p>\n'
                  f"<p>撤回原因：{_br(w.reason)}{doc}</p>\n"
                  "<p>已发布的记录不会被删除：本页保留撤回前公开的内容，供查阅和监督。</p>\n"
                  "</div>")


# --- the Jinja environment --------------------------------------------------------------


#: ``{{ labels.<resource>.<field> }}`` or ``{{ money_labels.<resource>.<field> }}``, exactly so written.
_LABEL_REF = re.compile(r"\{\{ (labels|money_labels)\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*) \}\}")
#: What a label must not hold to be written into a template's text (Jinja's delimiters).
_JINJA_SYNTAX = re.compile(r"[{}%#]")


class _LabelledLoader(jinja2.FileSystemLoader):
    """The page templates, each ``{{ labels.R.F }}`` and ``{{ money_labels.R.F }}`` written as the
    text it prints (the field's title from the schema, escaped, as autoescape and _finalize print it).

    A record page prints some twenty field titles, the same on every page; each ``{{ }}``
    costs two attribute look-ups, _finalize and markupsafe's escape per page, about a sixth of
    an arrears page. Written into the template's text they cost nothing. The template files
    stay as they are (any engine renders them the same), and so does the output: a title that
    is not in the schema, or that holds one of Jinja's delimiter characters (or is not one
    printable line without white space at its ends), is left to the template as it was written (tests/test_render_tables.py renders every template both ways).
    The schema is part of the page cache's key (_PageCache), as before."""

    def get_source(self, environment: jinja2.Environment, template: str):
        source, filename, uptodate = super().get_source(environment, template)
        return _LABEL_REF.sub(_label_text, source), filename, uptodate


def _label_text(m: re.Match) -> str:
    resource = getattr(field_labels(money=m.group(1) == "money_labels"), m.group(2), None)
    return _title_in_text(getattr(resource, m.group(3), None), m.group(0))


def _title_in_text(title: object, written: str) -> str:
    """The escaped title, or what the template wrote if the title cannot stand in its text: only
    one printable line without white space at its ends (nothing that trim_blocks or lstrip_blocks
    would take from around a neighbouring {% %} tag) and none of Jinja's delimiter characters."""
    if (title.__class__ is not str or not title or not title.isprintable() or title != title.strip()
            or _JINJA_SYNTAX.search(title)):
        return written
    return _text(title)


#: The page templates' compiled code, under the build folder's cache (see _template_cache).
TEMPLATE_CACHE = "page-templates"


def _template_cache(cache_dir: Path) -> TemplateCodeCache:
    """The page templates' bytecode cache in cache_dir/page-templates-<digest>.

    The compiled code depends on the template's source (Jinja's key: its name and the SHA-1
    of the source this module's loader gives, field titles included), on the environment's
    settings (autoescape, finalize, trim_blocks ...: TemplateCodeCache's key holds them, so
    the page and record environments share the folder) and on what this module's filters
    and finalize do (the optimizer applies them to constant text): the folder is named by a
    digest of this module and Jinja's version, so changed code never reads an old folder,
    and the folders of other digests are removed. Saves compiling the 14 page templates
    (about 0.35 s CPU) on every build after the first."""
    import hashlib
    import shutil

    digest = hashlib.sha1(Path(__file__).read_bytes() + jinja2.__version__.encode()).hexdigest()[:16]
    folder = Path(cache_dir) / f"{TEMPLATE_CACHE}-{digest}"
    for old in Path(cache_dir).glob(f"{TEMPLATE_CACHE}-*") if Path(cache_dir).is_dir() else ():
        if old.name != folder.name:
            shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return TemplateCodeCache(str(folder))


def make_environment(templates_dir: Path, *, labels_in_text: bool = True,
                     bytecode_cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The page templates' environment. labels_in_text=False: templates read as they are written
    (each field title looked up on every render; see _LabelledLoader). bytecode_cache: where
    compiled templates are kept between builds (see _template_cache)."""
    loader = _LabelledLoader if labels_in_text else jinja2.FileSystemLoader
    env = jinja2.Environment(
        bytecode_cache=bytecode_cache,
        loader=loader(str(Path(templates_dir) / "pages")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("j2", "html", "md"), default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        auto_reload=False,
    )
    env.filters.update(
        cn_date=cn_date, iso=iso, time_tag=time_tag, yuan=yuan, yuan_cell=yuan_cell, wan=wan, money=money, percent=percent, text_br=text_br,
        num=plain_number, rate=rate, signed=signed, tone=tone, truncate_text=truncate,
        markdown_html=markdown_html, task_tone=task_tone, change_kind=change_kind,
        badge=badge, badge_list=badge_list, badges=badges, dept_link=dept_link, related_link=related_link,
        record_url=record_url, record_header=record_header, timeline=timeline, history_block=history_block,
        objection_link=objection_link, change_log=change_log, tombstone=tombstone,
        commitment_rows=commitment_rows, arrears_rows=arrears_rows, finding_rows=finding_rows,
    )
    env.globals.update(
        label=label, money_label=money_label, labels=field_labels(), money_labels=field_labels(money=True), enum=enum, is_web_url=is_web_url, event_text=event_text,
        task_units=task_units, month_label=month_label, latest_evaluations=latest_evaluations, GROUP_TOKENS=GROUP_TOKENS,
        GLOSSARY_ANCHORS=citizen.GLOSSARY_ANCHORS,
        TASK_TONE=_TASK_TONE, CHANGE_KIND=_CHANGE_KIND, NOTICE_ITEMS=NOTICE_ITEMS,
    )
    return env


# --- front matter -----------------------------------------------------------------------


class _FrontMatterDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml when available: fast
    """Every string value double-quoted (JSON style), keys plain."""


class _Key(str):
    pass


_FrontMatterDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"'))
_FrontMatterDumper.add_representer(
    _Key, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value)))


def _keys(value: object) -> object:
    if isinstance(value, dict):
        return {_Key(k): _keys(v) for k, v in value.items()}
    return value


def front_matter(title: str, *, search: bool = True, extra: dict | None = None) -> str:
    meta: dict = {"title": safe_title(title)}
    if not search:
        meta["search"] = {"exclude": True}
    meta.update(extra or {})
    dumped = yaml.dump(_keys(meta), Dumper=_FrontMatterDumper, allow_unicode=True, sort_keys=True, width=10_000)
    return f"---\n{dumped}---\n\n"


# --- the pages --------------------------------------------------------------------------


#: The public page of deadline and amount changes after publication (issue 16).
DRIFT_PAGE = "changes/index.md"


#: What list pages hide of Material's layout: the tables get the whole width.
LIST_HIDE = ("navigation", "toc")


class _Site:
    """Renders every page of the site from one Facts."""

    def __init__(self, facts: Facts, history: History | None, env: jinja2.Environment,
                 cache: "_PageCache | None" = None):
        self.facts = facts
        self.history = history
        self.env = env
        # Record and department pages (thousands) are rendered by a copy of the environment
        # without globals, each page given the same names with its context: Jinja copies an
        # environment's globals (a ChainMap) into every render's context key by key in Python,
        # about 60 µs of a 400 µs record page. The templates see the same names and values.
        self.names = dict(env.globals)
        self.page_env = env.overlay()
        self.page_env.globals = {}
        # The record pages (commitment, arrears_item, finding: no macros, no imports, filters
        # that return Markup) without autoescape, escaped by finalize instead (_finalize_escaped,
        # the same text): about 50 outputs a page, each a Markup made in Python under autoescape.
        # Its own in-memory cache: compiled code differs with autoescape. The same bytecode files
        # only with a cache that keys them by the environment's settings (generator/bytecode.py).
        bytecode = env.bytecode_cache
        self.record_env = env.overlay(autoescape=False, finalize=_finalize_escaped, cache_size=50,
                                      bytecode_cache=bytecode if isinstance(bytecode, TemplateCodeCache) else None)
        self.record_env.globals = {}
        self.cache = cache
        self.known = {
            "commitments": frozenset(c.record.id for c in facts.commitments),
            "arrears": frozenset(a.record.id for a in facts.arrears),
            "findings": frozenset(f.record.id for f in facts.findings),
        }
        self.departments = frozenset(d.department.id for d in facts.departments)
        self.rules = facts.site.rules
        self.blocks: dict[str, list[str]] = {}  # raw HTML blocks of Markdown pages, see split_html_blocks
        self.figures: dict[str, list[str]] = {}  # figures of searched Markdown pages (generator/figures.py)

    def nav(self, page: str) -> Linker:
        return Linker(page, self.known, self.departments)

    def page(self, path: str, template: str, title: str, *, search: bool = True,
             hide: tuple[str, ...] = ("navigation",), keyed: bool = False, **context) -> tuple[str, str]:
        """Generated pages use the full width: no navigation column (its only entry would be
        the page itself); list pages hide the table of contents too (``LIST_HIDE``).

        keyed (the record lists' pages): the template sees of the facts only what _ListFacts
        holds (anything else is undefined: an error), so the page is a function of its context
        and those; with a cache, a page whose key (_PageCache.key of both, its records written as
        their page keys) and files are as the last render left them is not rendered again: its
        Markdown is read back and its blocks copied (self.blocks[path] is KEPT_BLOCKS)."""
        facts = self.facts
        key = None
        if keyed:
            facts = _ListFacts(facts.as_of, facts.summary, facts.curve, facts.hidden_findings)
            if self.cache is not None:
                key = self.cache.key(path, template, title, {**context, "facts": facts, "search": search, "hide": hide},
                                     record_refs=True)
                kept = self.cache.kept_markdown(path, key)
                if kept is not None:
                    text, has_blocks = kept
                    if has_blocks:
                        self.blocks[path] = KEPT_BLOCKS
                    return path, text
        body = self.env.get_template(template).render(
            facts=facts, rules=self.rules, nav=self.nav(path), page=path, **context)
        body = body.strip("\n") + "\n"
        if not search:  # lists: their tables go to the engine as HTML, beside the Markdown
            body, blocks = split_html_blocks(body)
            if blocks:
                self.blocks[path] = blocks
        elif not keyed and figures_usable(facts.site):  # searched pages (home): the figures of their HTML blocks, beside it
            body, figures = split_html_figures(body)
            if figures:
                self.figures[path] = figures
        extra = {"hide": list(hide)} if hide else None
        text = front_matter(title, search=search, extra=extra) + body
        if key is not None:
            self.cache.rendered_markdown(path, key, text, path in self.blocks)
        return path, text

    # home and lists

    def home(self) -> tuple[str, str]:
        f = self.facts
        return self.page("index.md", "home.md.j2", "首页", changes=f.changes[:HOME_CHANGES],
                         curve_points=quarterly(f.curve), curve=curve_chart(quarterly(f.curve), "home-curve"),
                         status=status_chart(f.summary.commitments_by_status, "home-status", "政府承诺履行状态", "项"))

    def commitment_lists(self) -> Iterator[tuple[str, str]]:
        f = self.facts
        rows = _newest_commitments(f.commitments)
        paths = _pages_of("commitments", len(rows))
        for no, chunk in enumerate(_chunks(rows), start=1):
            filters = (
                Filter("department", label("commitments", "department"), _dept_options((c.record.department for c in chunk), f)),
                Filter("status", label("commitments", "status"), _options((c.record.status for c in chunk), enum("commitments", "status"))),
                Filter("category", label("commitments", "category"), _options((c.record.category for c in chunk), enum("commitments", "category"))),
                Filter("year", "年度", _year_options(c.record.promised_on.year for c in chunk)),
            )
            yield self.page(paths[no - 1], "commitments.md.j2", "政府承诺" if no == 1 else f"政府承诺（第 {no} 页）",
                            search=False, hide=LIST_HIDE, keyed=True, rows=chunk, filters=filters, pager=_pager(paths, no, len(rows)),
                            status=status_chart(f.summary.commitments_by_status, "commitment-status", "政府承诺履行状态", "项")
                            if no == 1 else None)

    def arrears_lists(self) -> Iterator[tuple[str, str]]:
        f = self.facts
        rows = _newest_arrears(f.arrears)
        paths = _pages_of("arrears", len(rows))
        debtors = debtor_rows(f.arrears, f)
        latest_notices = ()
        if f.notices:
            year = max(n.year for n in f.notices)
            latest_notices = tuple(n for n in f.notices if n.year == year and n.count)
        for no, chunk in enumerate(_chunks(rows), start=1):
            filters = (
                Filter("department", label("arrears", "debtor"), _dept_options((a.record.debtor for a in chunk), f)),
                Filter("status", "清偿状态", _options((a.status for a in chunk), ARREARS_STATUSES)),
                Filter("creditor", label("arrears", "creditor"), _options(a.record.creditor for a in chunk)),
                Filter("size", label("arrears", "creditor_size"), _options((a.record.creditor_size for a in chunk), enum("arrears", "creditor_size"))),
                Filter("year", "年度", _year_options(a.record.found_on.year for a in chunk)),
            )
            first = no == 1
            yield self.page(paths[no - 1], "arrears.md.j2", "拖欠中小企业账款" if first else f"拖欠中小企业账款（第 {no} 页）",
                            search=False, hide=LIST_HIDE, keyed=True, rows=chunk, filters=filters, pager=_pager(paths, no, len(rows)),
                            page_totals=arrears_totals(chunk), all_totals=f.arrears_totals,
                            curve=curve_chart(f.curve, "arrears-curve") if first else None,
                            debtors=debtors if first else (), debtor_svg=debtor_chart(debtors, "arrears-debtors") if first else None,
                            notices=latest_notices if first else ())

    def finding_lists(self) -> Iterator[tuple[str, str]]:
        f = self.facts
        rows = _newest_findings(f.findings)
        paths = _pages_of("findings", len(rows))
        for no, chunk in enumerate(_chunks(rows), start=1):
            filters = (
                Filter("department", label("findings", "subject"), _dept_options((x.record.subject for x in chunk), f)),
                Filter("severity", label("findings", "severity"), _options((x.record.severity for x in chunk), enum("findings", "severity"))),
                Filter("category", label("findings", "category"), _options((x.record.category for x in chunk), enum("findings", "category"))),
                Filter("year", "年度", _year_options(x.record.decision_decided_on.year for x in chunk)),
            )
            yield self.page(paths[no - 1], "findings.md.j2", "政务失信记录" if no == 1 else f"政务失信记录（第 {no} 页）",
                            search=False, hide=LIST_HIDE, keyed=True, rows=chunk, filters=filters, pager=_pager(paths, no, len(rows)))

    def evaluations(self) -> tuple[str, str]:
        dist = grade_distribution(self.facts.evaluations)
        matrices = citizen.evaluation_matrices(self.facts, enum("evaluations", "method"))
        sparks = {(m.method, row.id): Markup(charts.sparkline(
                      f"{row.name}{m.method}得分：" + "，".join(f"{y}年{s}分" for y, s in zip(m.years, row.scores) if s is not None),
                      row.scores))
                  for m in matrices for row in m.rows}
        return self.page("evaluations/index.md", "evaluations.md.j2", "评价结果", search=False, hide=LIST_HIDE, keyed=True,
                         tables=ranking_tables(self.facts.evaluations), distribution=dist,
                         grades_svg=grade_chart(dist, "grades"), matrices=matrices, sparks=sparks)

    def tasks(self) -> tuple[str, str]:
        sections: list[tuple[str, list]] = []
        for t in self.facts.tasks:
            if not sections or sections[-1][0] != t.record.section:
                sections.append((t.record.section, []))
            sections[-1][1].append(t)
        # Searchable: tasks have no record pages, this page carries their text.
        return self.page("tasks/index.md", "tasks.md.j2", "任务分工", sections=sections)

    def drift(self) -> tuple[str, str]:
        """Every change of a published deadline or amount, with its reason (facts.drift)."""
        return self.page(DRIFT_PAGE, "drift.md.j2", "期限与金额变更", search=False, hide=LIST_HIDE, rows=self.facts.drift)

    def department_list(self) -> tuple[str, str]:
        kinds = enum("departments", "kind")
        groups = []
        for k in list(kinds) + sorted({d.department.kind for d in self.facts.departments} - set(kinds)):
            members = [d for d in self.facts.departments if d.department.kind == k]
            if members:
                groups.append((k, members))
        return self.page("departments/index.md", "departments.md.j2", "部门", search=False, hide=LIST_HIDE, groups=groups,
                         units=citizen.unit_rows(self.facts, enum("evaluations", "method")),
                         kinds=[k for k, _ in groups])

    # records and departments: HTML, stamped into the engine's shell pages

    def html_page(self, kind: str, record_id: str, template: str, title: str,
                  search: str | None | Callable[[], str | None], later: dict[str, Callable[[], Any]] | None = None,
                  source: tuple | None = None, **context) -> "HtmlPage":
        """later: context values made only when the page is rendered (not for a page the cache
        has), each a function of the context's values alone, so the key need not hold it.
        source: what the page is made from besides the cache's common inputs, for its key
        instead of the context (a record page: its record and history, see _PageCache.key);
        then `later` values and a `search` given as a function may be made from the facts
        too (a function of the source and the common inputs), and are made only when the
        page is rendered: a rebuild's unchanged pages make neither (a page the cache has
        carries no search text, its entry in the last pack has it)."""
        path = record_path(kind, record_id)
        address = page_url(path)
        if self.cache is not None:
            key = self.cache.key(path, template, title, context, source=source, record_refs=kind == "departments")
            if kind != "departments":
                self.cache.record_keys[(kind, record_id)] = key
            if self.cache.fresh(address, key):
                return HtmlPage(path, address, kind, safe_title(title), None if callable(search) else search, key=key)
        if later:
            context.update((name, make()) for name, make in later.items())
        if callable(search):
            search = search()
        env = self.page_env if kind == "departments" else self.record_env
        body = env.get_template(template).render(
            {**self.names, "facts": self.facts, "rules": self.rules, "nav": self.nav(path), **context})
        body, toc = headings_and_toc(body.strip("\n") + "\n")
        if self.cache is None:
            return HtmlPage(path, address, kind, safe_title(title), search, toc, body)
        self.cache.made(address, key)
        return HtmlPage(path, address, kind, safe_title(title), search, toc, body, key)

    def commitment(self, c: CommitmentFacts) -> "HtmlPage":
        r = c.record
        hist = history_view(self.history, r.id)
        return self.html_page("commitments", r.id, "commitment.html.j2", commitment_title(c),
                              lambda: commitment_search(c), source=(r, hist), c=c, r=r, hist=hist,
                              later={"head": lambda: citizen.record_head("commitments", c, self.facts)})

    def arrears_item(self, a: ArrearsFacts) -> "HtmlPage":
        r = a.record
        hist = history_view(self.history, r.id)
        return self.html_page("arrears", r.id, "arrears_item.html.j2", arrears_title(a),
                              lambda: arrears_search(a), source=(r, hist), a=a, r=r, hist=hist,
                              later={"head": lambda: citizen.record_head("arrears", a, self.facts),
                                     "repayments_total": lambda: sum((p.amount for p in a.repayments), Decimal(0)),
                                     "plan_total": lambda: sum((i.instalment.amount for i in a.instalments), Decimal(0)),
                                     "plan_paid": lambda: sum((i.paid for i in a.instalments), Decimal(0)),
                                     "plan_shortfall": lambda: sum((i.shortfall for i in a.instalments), Decimal(0))})

    def finding(self, x: FindingFacts) -> "HtmlPage":
        r = x.record
        hist = history_view(self.history, r.id)
        return self.html_page("findings", r.id, "finding.html.j2", finding_title(x),
                              lambda: finding_search(x), source=(r, hist), x=x, r=r, hist=hist,
                              later={"head": lambda: citizen.record_head("findings", x, self.facts)})

    def department(self, d: DepartmentFacts) -> "HtmlPage":
        commitments = _newest_commitments(d.commitments)
        arrears = _newest_arrears(d.arrears)
        return self.html_page("departments", d.department.id, "department.html.j2", d.department.name,
                              department_search(d),
                              d=d, commitments=commitments[:DEPARTMENT_ROWS], commitments_all=len(commitments),
                              arrears=arrears[:DEPARTMENT_ROWS], arrears_all=len(arrears),
                              shown_totals=arrears_totals(arrears[:DEPARTMENT_ROWS]),
                              findings=_newest_findings(d.findings)[:DEPARTMENT_ROWS], findings_all=len(d.findings),
                              latest=latest_evaluations(d),
                              later={"trend": lambda: trend_chart(d, "trend")})  # d is in the key

    def markdown_pages(self) -> Iterator[tuple[str, str]]:
        yield self.home()
        yield from self.commitment_lists()
        yield from self.arrears_lists()
        yield from self.finding_lists()
        yield self.evaluations()
        yield self.tasks()
        yield self.department_list()
        yield self.drift()

    def html_pages(self) -> Iterator["HtmlPage"]:
        f = self.facts
        for c in f.commitments:
            yield self.commitment(c)
        for a in f.arrears:
            yield self.arrears_item(a)
        for x in f.findings:
            yield self.finding(x)
        for d in f.departments:
            yield self.department(d)


# --- raw HTML blocks of Markdown pages -----------------------------------------------------
#
# The list pages are a few Markdown headings around large raw HTML blocks (tables of
# 500 rows). Markdown engines parse such blocks only to pass them through, and that is
# most of their work. So each top-level raw HTML block of a page that is not searched
# is replaced by a placeholder paragraph and handed to the engine beside the Markdown
# (build/blocks.pack: one entry per page, keyed by its docs path, the blocks' UTF-8
# bytes one after the other and their sizes in the entry's meta), which puts it back
# into the built page. Blocks holding the page's h1 stay (the engine looks for it), and
# so do unbalanced ones.

BLOCKS_PACK = "blocks.pack"

#: _Site.blocks' value for a page whose blocks are the last render's (copied from the last pack).
KEPT_BLOCKS: list[str] = []


class _ListFacts(NamedTuple):
    """What the record lists' templates read of the facts (_Site.page's keyed pages)."""

    as_of: date
    summary: Any
    curve: tuple
    hidden_findings: Any
BLOCK_PLACEHOLDER = "ZQBLOCK-{n}-ZQ"
_BLOCK_TAGS = {"div", "table", "p", "ul", "ol", "dl", "figure", "details", "nav", "form", "section"}
_BLOCK_START = re.compile(r"<([a-z][a-z0-9]*)[\s>]")


def split_html_blocks(body: str) -> tuple[str, list[str]]:
    """(Markdown with placeholders, the blocks in order)."""
    out, blocks = [], []
    for part in body.split("\n\n"):
        lead = part[: len(part) - len(part.lstrip("\n"))]  # a third blank line stays with the block
        m = _BLOCK_START.match(part, len(lead))
        tag = m.group(1) if m else ""
        text = part.rstrip("\n")[len(lead):]
        if (tag in _BLOCK_TAGS and "<h1" not in part and text.endswith(f"</{tag}>")
                and len(re.findall(f"<{tag}[\\s>]", part)) == part.count(f"</{tag}>")):
            out.append(lead + BLOCK_PLACEHOLDER.format(n=len(blocks)) + part[len(lead) + len(text):])
            blocks.append(text)
        else:
            out.append(part)
    return "\n\n".join(out), blocks


# --- pages rendered to HTML ---------------------------------------------------------------


@dataclass(frozen=True)
class HtmlPage:
    """A record or department page: its body is HTML, stamped by the engine into a shell."""

    path: str  # docs-relative identity, as links use it: commitments/CM-2024-001.md
    url: str  # site-relative: commitments/CM-2024-001/
    shell: str  # which shell it is stamped into (the record kind)
    title: str  # plain text (safe_title)
    search: str | None  # plain text for the search index, None: not indexed (or the page's body is None)
    toc: tuple = ()  # ((level, anchor, title), …)
    body: str | None = None  # None: the page's entry in the last pages.pack is right (see _PageCache)
    #: Its _PageCache key (with a cache): a digest of everything the page's entry is made from,
    #: so the engine knows an unchanged entry by it without reading the entry's body.
    key: str | None = None


#: Headings of the page templates: <h2 data-zq-toc [attributes]>text</h2> (h2 and h3 only).
_TOC_HEADING = re.compile(r"<h([23]) data-zq-toc((?: [a-z][a-z-]*)*)>([^<]*)</h\1>")
_SLUG_DROP = re.compile(r"[^\w\- ]")


@lru_cache(maxsize=4096)  # pure; the same few headings on every page
def heading_id(text: str) -> str:
    """A heading's id: the text in lower case without punctuation, spaces as '-' (Chinese kept)."""
    return _SLUG_DROP.sub("", _html.unescape(text).strip().lower()).replace(" ", "-")


_unescape = lru_cache(maxsize=4096)(_html.unescape)


def headings_and_toc(body: str) -> tuple[str, tuple]:
    """Give the template's headings their ids and collect the table of contents.

    The headings of a page kind are nearly always the same few (基本信息, 时间线 …), so the
    ids and contents are worked out once per sequence of headings (_headings) and the page
    is put back together from re.split's pieces: the same bytes as a re.sub over the body."""
    parts = _TOC_HEADING.split(body)  # text, (level, attrs, heading text) per heading, text
    if len(parts) == 1:
        return body, ()
    tags, toc = _headings(tuple(parts[1::4]), tuple(parts[2::4]), tuple(parts[3::4]))
    parts[1::4] = tags
    parts[2::4] = parts[3::4] = [""] * len(tags)
    return "".join(parts), toc


@lru_cache(maxsize=1024)  # pure: the same headings on thousands of pages
def _headings(levels: tuple[str, ...], attrs: tuple[str, ...], texts: tuple[str, ...]) -> tuple[list[str], tuple]:
    """Each heading's tag with its id, and the table of contents: ((level, anchor, title), …)."""
    toc: list[tuple[int, str, str]] = []
    tags: list[str] = []
    seen: Counter = Counter()
    for level, attr, text in zip(levels, attrs, texts):
        base = heading_id(text) or "_"
        anchor = base if not seen[base] else f"{base}_{seen[base]}"
        seen[base] += 1
        toc.append((int(level), anchor, _unescape(text)))
        tags.append(f'<h{level}{attr} id="{_html.escape(anchor)}">{text}</h{level}>')
    return tags, tuple(toc)


# --- search entries of the HTML pages ---------------------------------------------------
#
# Record and department pages are indexed from the facts, one entry per page with what
# people search for: the title, the kind, departments, the other party, the status and
# a short summary (the engine segments the Chinese words). The engine's own search
# indexes the Markdown pages.

#: Characters of a summary (commitment content, arrears note, finding summary) in the index.
SEARCH_SUMMARY_CHARS = 200

_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MD_MARKS = re.compile(r"[*_`#>|~]+")


def commitment_title(c: CommitmentFacts) -> str:
    return f"{c.record.title}（{c.record.id}）"


def arrears_title(a: ArrearsFacts) -> str:
    return f"{a.record.project}（{a.record.id}）"


def finding_title(x: FindingFacts) -> str:
    return f"{x.subject_name}{x.record.category}失信记录（{x.record.id}）"


def search_summary(text: str | None, markdown_source: bool = False) -> str:
    """One line of plain text, at most SEARCH_SUMMARY_CHARS characters."""
    if not text:
        return ""
    text = _plain(text)
    if markdown_source:  # the words, not the markup: [链接](url) → 链接, **粗体** → 粗体
        text = _MD_MARKS.sub(" ", _MD_LINK.sub(r"\1", text))
    text = " ".join(text.split())
    if len(text) > SEARCH_SUMMARY_CHARS:
        text = text[: SEARCH_SUMMARY_CHARS - 1].rstrip() + "…"
    return text


def _plain(text: str) -> str:
    """One line of text without control or bidi characters."""
    if text.__class__ is str and text.isprintable():  # no control or format (bidi) character to drop
        return " ".join(text.split())
    text = clean(text)  # multi-line text (a line break is not printable) mostly has no bidi character:
    if any(ch in text for ch in _BIDI):  # then it is not walked character by character
        text = "".join(ch for ch in text if ch not in _BIDI)
    return " ".join(text.split())


def _search_text(parts: Iterable[str | None]) -> str:
    return " ".join(p for p in (_plain(q) for q in parts if q) if p)


def commitment_search(c: CommitmentFacts) -> str:
    r = c.record
    return _search_text(("政府承诺", r.category, c.department_name, *c.partner_names, c.counterparty_shown, r.status,
                         search_summary(r.content, markdown_source=True)))


def arrears_search(a: ArrearsFacts) -> str:
    r = a.record
    return _search_text(("拖欠中小企业账款", a.debtor_name, r.creditor, a.status, search_summary(r.note)))


def finding_search(x: FindingFacts) -> str:
    r = x.record
    return _search_text(("政务失信记录", x.subject_name, r.severity, r.category, search_summary(r.summary)))


def department_search(d: DepartmentFacts) -> str:
    dep = d.department
    return _search_text((dep.kind, "部门", "政府承诺", "拖欠中小企业账款", "政务失信记录", "评价结果", "任务分工",
                         *(t.record.title for t in (*d.tasks_lead, *d.tasks_partner))))


def record_search_entries(facts: Facts) -> list[tuple[str, str, str]]:
    """(location, title, text) of every record page, in page order."""
    out = []
    for c in facts.commitments:
        out.append((page_url(record_path("commitments", c.record.id)), safe_title(commitment_title(c)), commitment_search(c)))
    for a in facts.arrears:
        out.append((page_url(record_path("arrears", a.record.id)), safe_title(arrears_title(a)), arrears_search(a)))
    for x in facts.findings:
        out.append((page_url(record_path("findings", x.record.id)), safe_title(finding_title(x)), finding_search(x)))
    return out


# --- site settings for the engine -----------------------------------------------------------


def site_settings(facts: Facts, publication: dict | None = None) -> dict:
    """What the theme shows on every page (site name, URL, publisher, contact, the commit): plain data."""
    site = facts.site
    return {
        "site_name": shell_text(site.site_name),
        "site_url": site.base_url,
        "zq": {
            "site_name": site.site_name,
            "publisher": site.publisher,
            "region": site.region,
            "sample": bool(site.sample),
            "as_of": facts.as_of.isoformat(),
            "contact": {k: str(v) for k, v in site.contact.items()},
            "identifiers": {k: str(v) for k, v in site.identifiers.items()},
            "policy": {k: str(v) for k, v in site.policy.items()},
            "licence": {k: str(v) for k, v in site.licence.items()},
            "feed": "feed.xml",
            "publication": dict(publication or {}),
        },
    }


# --- incremental writing ----------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.written = 0
        self.unchanged = 0
        self.produced: set[Path] = set()

    def put(self, path: Path, data: bytes) -> None:
        if path in self.produced:
            raise ValueError(f"two sources for one output file: {path}")
        self.produced.add(path)
        if write_if_changed(path, data):
            self.written += 1
        else:
            self.unchanged += 1


def _is_foreign(rel: Path) -> bool:
    parts = rel.parts
    return (len(parts) > 1 and parts[0] in FOREIGN_DIRS) or rel.as_posix() in FOREIGN_FILES


def _remove_stale(docs: Path, produced: set[Path]) -> int:
    return sweep_stale(docs, produced, skip=lambda rel: bool(rel.parts) and rel.parts[0] in FOREIGN_DIRS
                       or rel.as_posix() in FOREIGN_FILES)


class _PageCache(EntryKeys):
    """Which record and department pages are already right, so that a rebuild after one
    record changed renders a handful of pages instead of all of them.

    A page's key digests everything the page is made from. Common to all pages (``common``):
    the template files, the generator's code (every module of the package: load, validate,
    derive, render ...), the schema (field labels), the as-of date, the site settings, the
    working-day calendar, every department (names and contacts: any record may show any of
    them), the ids of the records and departments on the site (links) and whether history
    was read. Then per page (see key): a record page the record as validation made it
    (what derive made its facts from, with the common inputs above) and its history; a
    department page the pickle of its context. A page is skipped (its entry in the last
    pages.pack copied as it is) only when its key matches and that pack is still the one
    the cache was saved with (pack.EntryKeys: fresh, made, save). The record lists' Markdown
    pages likewise (_Site.page, keyed): their entries ("md:" + path) hold the key, the digest
    of the Markdown written under docs and whether the page has blocks, and count only with
    the blocks pack they were saved with. The cache is a JSON file, rewritten only when it changed.
    """

    VERSION = 6

    def __init__(self, path: Path, facts: Facts, history: History | None, templates_dir: Path, pack: PackWriter):
        import hashlib

        digest = hashlib.sha1()
        package = Path(__file__).parent
        # The whole package's code: a record page is keyed by derive's inputs (key), so every
        # step from the data to the page (load, validate, model, derive, citizen, render ...) is
        # an input; the schemas are the field labels and the validation rules.
        code = [*sorted(package.rglob("*.py")), *sorted((package / "schemas").rglob("*"))]
        for src in sorted((templates_dir / "pages").rglob("*")) + code:  # templates, code, field labels
            if src.is_file():
                digest.update(src.as_posix().encode() + b"\0" + src.read_bytes() + b"\0")
        known = [sorted(x.record.id for x in getattr(facts, kind)) for kind in ("commitments", "arrears", "findings")]
        digest.update(repr((self.VERSION, jinja2.__version__, facts.as_of, facts.site, known,
                            sorted(d.department.id for d in facts.departments), history is None)).encode())
        # What derive reads besides the record itself (derive.derive: each record's facts are made
        # from it, the as-of date, the site settings, the calendar, the departments' names and
        # the department answering for it): every department whole, and the calendar.
        digest.update(repr((sorted(facts.department_names.items()), [d.department for d in facts.departments],
                            facts.calendar.identity())).encode("utf-8", "surrogatepass"))
        super().__init__(path, digest.hexdigest(), pack, "pages",
                         companions={"blocks": Path(pack.path).with_name(BLOCKS_PACK)})
        # The list pages' entries also need the blocks pack they were saved with.
        if "blocks" not in self.same:
            self.old = {k: v for k, v in self.old.items() if not k.startswith(self._MARKDOWN)}
        self._digest = digest  # each page's key continues it (see key)
        self._sha = hashlib.sha1
        self.docs: Path | None = None  # where the list pages' Markdown is (kept_markdown), set by render
        self.blocks: PackWriter | None = None  # the blocks pack being written (kept_markdown), set by render
        self._record_keys: dict[int, tuple[object, str]] = {}  # id(record facts) -> (them, their page's key)
        self.record_keys: dict[tuple[str, str], str] = {}  # (kind, record id) -> its page's key (RenderResult)

    def key(self, path: str, template: str, title: str, context: dict, *, source: tuple | None = None,
            record_refs: bool = False) -> str:
        """The page's key: the common digest continued with the pickle of the page's own inputs.

        A record page (source): the record as validation made it and its history view,
        (model records and tuples of strings, dates, Decimals: a third of the pickle of its
        facts). Its facts are derive's function of that record and of inputs the common digest
        holds (derive.derive_commitment, derive_arrears, derive_finding: as-of date, site
        settings, calendar, departments), and its page a function of those facts, the history
        view, and the common inputs (as-of date, site settings, links): equal keys, equal
        pages. Other pages: the pickle of their context (frozen dataclasses, tuples, dates,
        Decimals, strings, Markup).

        Exact: a pickle loads back into an equal object graph, so two inputs that differ in
        any value (or type) give different bytes. Pickle also writes how objects are shared
        (its memo), which could make equal inputs give different bytes; that only costs a
        cache miss (the page is rendered), never a wrong page. In practice the same data
        gives the same keys in every process: the inputs hold no sets (whose order would
        follow the string hash seed) and are built the same way each time.

        Every key continues the common digest, so it stands for its page's inputs on its own:
        the letters' cache (extras._letter_keys) keys a record's letter by it. A record page's
        key stands for its record's facts in a department page's key (record_refs): a
        department carries all its records, and pickling them again cost as much as all record
        pages' keys together. A record keyed before is written as its page key; any other
        object is pickled as it is.
        """
        if source is not None:
            raw = pickle.dumps((path, template, title, source), protocol=5)
        elif record_refs:
            buf = io.BytesIO()
            _RecordRefPickler(buf, self._record_keys).dump((path, template, title, sorted(context.items())))
            raw = buf.getvalue()
        else:
            raw = pickle.dumps((path, template, title, sorted(context.items())), protocol=5)
        digest = self._digest.copy()
        digest.update(raw)
        key = digest.hexdigest()
        if not record_refs:
            for value in context.values():
                if value.__class__ in _RECORD_FACTS:
                    self._record_keys[id(value)] = (value, key)  # the value kept: its id stays its own
        return key

    #: The record lists' pages (Markdown, _Site.page keyed): their entries' names.
    _MARKDOWN = "md:"

    def kept_markdown(self, rel: str, key: str) -> tuple[str, bool] | None:
        """(Markdown, whether it has blocks) of the list page rel as the last render wrote it, when
        its key matches and its file under docs (and its entry in the last blocks pack) are still
        what that render left; else None (the page is rendered)."""
        entry = self.old.get(self._MARKDOWN + rel, "").split("|")
        if len(entry) != 3 or entry[0] != key or self.docs is None:
            return None
        has_blocks = entry[2] == "b"
        if has_blocks and (self.blocks is None or not self.blocks.has(rel)):
            return None
        try:
            data = (self.docs / rel).read_bytes()
        except OSError:
            return None
        if self._sha(data).hexdigest() != entry[1]:
            return None
        self.new[self._MARKDOWN + rel] = "|".join(entry)
        return data.decode("utf-8"), has_blocks

    def rendered_markdown(self, rel: str, key: str, text: str, has_blocks: bool) -> None:
        self.new[self._MARKDOWN + rel] = f"{key}|{self._sha(text.encode('utf-8')).hexdigest()}|{'b' if has_blocks else '-'}"


#: Beside the page cache: each record's lookup entry by its page key (_LookupEntries).
LOOKUP_CACHE = "lookup-entries.marshal"


class _LookupEntries:
    """Each record's entry of the lookup index (citizen.lookup_entries) as the last render made
    it, by its record's page key (_PageCache.key: it stands for everything the record's facts are
    made from, and every key holds the package's code, citizen.py's included): equal keys, equal
    entries, so a rebuild makes only the changed records' (8,300 entries' lookup keys at 10,000
    records). A marshal file of plain values; a damaged or foreign one is not used. Only this
    render's entries are kept."""

    _FORMAT = 1

    def __init__(self, path: Path, keys: dict[tuple[str, str], str]):
        self.path, self.keys = path, keys
        self.old: dict[str, list] = {}
        self.new: dict[str, list] = {}
        try:
            saved = marshal.loads(path.read_bytes())
            if isinstance(saved, dict) and saved.get("format") == self._FORMAT and isinstance(saved.get("entries"), dict):
                self.old = saved["entries"]
        except (OSError, EOFError, ValueError, TypeError):
            pass

    def __call__(self, kind: str, record_id: str, make: Callable[[], list]) -> list:
        key = self.keys.get((kind, record_id))
        if key is None:
            return make()
        entry = self.old.get(key)
        if type(entry) is not list or len(entry) != 5:
            entry = make()
        self.new[key] = entry
        return entry

    def save(self) -> None:
        if self.new.keys() != self.old.keys():
            write_if_changed(self.path, marshal.dumps({"format": self._FORMAT, "entries": self.new}))


_RECORD_FACTS = (CommitmentFacts, ArrearsFacts, FindingFacts)
#: Facts that many pages' contexts hold (every department page holds the tasks it leads or
#: shares, and the evaluations twice): each is pickled once a render and then written as the
#: digest of that pickle (_RecordRefPickler), not pickled again for every page.
_SHARED_FACTS = (TaskFacts, EvaluationFacts)


def _record_page_key(key: str) -> str:
    """What a record stands for in a department page's cache key (never called: nothing is unpickled)."""
    return key


def _shared_facts_digest(digest: str) -> str:
    """What a shared object (_SHARED_FACTS) stands for in a page's cache key (never called either)."""
    return digest


class _RecordRefPickler(pickle.Pickler):
    """Pickles a page context with each record already keyed written as its page key (see
    _PageCache.key), and each shared object (_SHARED_FACTS) as the SHA-1 of its own pickle of
    this kind, made the first time it is met and kept in `record_keys` (by id, with the object,
    whose id stays its own meanwhile) for every later page: equal digests, equal objects.

    reducer_override is the pickle module's documented hook; it is consulted only for objects
    of classes without a built-in fast path (dataclasses, dates, Decimals), never for str or tuples."""

    def __init__(self, file, record_keys: dict[int, tuple[object, str]], whole: object = None):
        super().__init__(file, protocol=5)
        self.record_keys = record_keys
        self.whole = whole  # the shared object being digested: pickled as it is

    def reducer_override(self, obj):
        entry = self.record_keys.get(id(obj))
        if entry is not None and entry[0] is obj:
            return (_record_page_key if obj.__class__ in _RECORD_FACTS else _shared_facts_digest), (entry[1],)
        if obj.__class__ in _SHARED_FACTS and obj is not self.whole:
            buf = io.BytesIO()
            _RecordRefPickler(buf, self.record_keys, obj).dump(obj)
            digest = hashlib.sha1(buf.getvalue()).hexdigest()
            self.record_keys[id(obj)] = (obj, digest)
            return _shared_facts_digest, (digest,)
        return NotImplemented


def render(facts: Facts, build_dir: Path, *, history: History | None = None,
           content_dir: Path | None = None, templates_dir: Path = DEFAULT_TEMPLATES_DIR,
           cache_file: Path | None = None) -> RenderResult:
    """Write build_dir/docs/** (Markdown pages, content, assets), build_dir/pages.pack (record and
    department pages as HTML, with their titles, URLs, contents, search text) and
    build_dir/blocks.pack (the list pages' tables, see split_html_blocks).

    With a cache_file, record and department pages whose inputs did not change since
    the render that wrote the cache (and whose files are as that render left them)
    are not rendered again (see _PageCache).

    The objects alive when render starts (the facts: millions at 100,000 records) live
    through it, so the cyclic garbage collector leaves them out of its full collections
    meanwhile (gc.freeze; they are handed back at the end): at 10,000 records those scans
    cost about 2 s of a 20 s render.
    """
    gc.freeze()
    try:
        return _render(facts, build_dir, history, content_dir, templates_dir, cache_file)
    finally:
        # The templates import _macros.j2 "with context": each page leaves a cycle (the imported
        # module's Context, its macros) holding the page's context, the facts among it. Collected
        # here, where the collector sees only what render made (the frozen objects are left out:
        # a few hundredths of a second), the facts die with their last reference (publish.build_site's
        # `del facts`) instead of living on into the engine stage until a full collection of
        # everything (0.3 s at 10,000 records, and their memory meanwhile).
        gc.collect()
        gc.unfreeze()


def _render(facts: Facts, build_dir: Path, history: History | None, content_dir: Path | None, templates_dir: Path,
            cache_file: Path | None) -> RenderResult:
    build_dir = Path(build_dir)
    docs = build_dir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    _remove_legacy(build_dir)
    writer = _Writer()
    pages: list[str] = []

    # The packs are written page by page and put in place when everything is written;
    # on an error the last ones stay as they were.
    with PackWriter(build_dir / PAGES_PACK) as pack, PackWriter(build_dir / BLOCKS_PACK) as blocks:
        cache = _PageCache(Path(cache_file), facts, history, Path(templates_dir), pack) if cache_file else None
        templates = _template_cache(Path(cache_file).parent) if cache_file else None
        site = _Site(facts, history, make_environment(Path(templates_dir), bytecode_cache=templates), cache)
        if cache is not None:
            cache.docs, cache.blocks = docs, blocks
        # Record pages first: their keys stand for their records in the list pages' keys.
        for page in site.html_pages():
            if page.body is None:  # unchanged, says the cache
                pack.copy(page.url)
            else:
                # The shell first, then the key: the engine reads both from the front (build._shell_of, _key_of).
                meta = {"shell": page.shell, "key": page.key} if page.key is not None else {"shell": page.shell}
                meta.update(title=page.title, toc=[list(t) for t in page.toc], search=page.search)
                pack.add(page.url, meta, page.body.encode("utf-8"))
            pages.append(page.path)

        for rel, text in site.markdown_pages():
            writer.put(docs / rel, text.encode("utf-8"))
            pages.append(rel)
            page_blocks = site.blocks.pop(rel, None)  # handed over now: never all pages' blocks at once
            figures = site.figures.pop(rel, None)
            if page_blocks is KEPT_BLOCKS:
                blocks.copy(rel)
            elif page_blocks or figures:
                data = [b.encode("utf-8") for b in page_blocks or ()]
                meta = {"sizes": [len(b) for b in data], "figures": figures} if figures else {"sizes": [len(b) for b in data]}
                blocks.add(rel, meta, b"".join(data))

        content_dir = Path(content_dir) if content_dir is not None else sitefiles.content_dir()
        for src in sorted(content_dir.glob("*.md")) if content_dir.is_dir() else ():
            if src.name in pages:
                raise ValueError(f"content/{src.name} would replace a generated page")
            writer.put(docs / src.name, src.read_bytes())
            pages.append(src.name)

        assets = Path(templates_dir) / "assets"
        if assets.is_dir():
            for src in sorted(p for p in assets.rglob("*") if p.is_file()):
                writer.put(docs / "assets" / src.relative_to(assets), sitefiles.asset_bytes(src))

        # The lookup index: fetched by the lookup box only when a reader starts typing.
        lookup = _LookupEntries(Path(cache_file).with_name(LOOKUP_CACHE), cache.record_keys) if cache is not None else None
        writer.put(docs / citizen.LOOKUP_FILE, citizen.lookup_json(facts, lookup))
        if lookup is not None:
            lookup.save()

        for path in writer.produced:
            if _is_foreign(path.relative_to(docs)):
                raise ValueError(f"render must not write {path}: it belongs to the open-data stage")
        removed = _remove_stale(docs, writer.produced)
    if cache is not None:
        cache.save()
    packs = (pack, blocks)
    return RenderResult(writer.written + sum(p.changed for p in packs), writer.unchanged + sum(p.unchanged for p in packs),
                        removed + sum(p.removed for p in packs), sorted(pages),
                        cache.record_keys if cache is not None else None)


def _remove_legacy(build_dir: Path) -> None:
    """A build folder of an earlier version: its page files and manifests are not read any more."""
    import shutil

    for name in _LEGACY:
        path = build_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
