"""Printable, pre-filled objection letters: one static page per published record.

A static site takes no form posts, so the reader prints the letter (or saves it
as PDF), fills in the blanks and hands it in. Written at build time into the
docs folder (served at /letters/):

    letters/<record id>.html   the letter: the record's facts as published, blanks for
                               the applicant, where and how to submit, the reply deadline
    letters/letter.css         print-first styles
    letters/letter.js          recomputes the reply deadline for the filing date the reader picks
    letters/workdays.js        the working-day table (official holidays and 调休) exported at build

Who decides: an objection to a dishonesty finding goes to its deciding authority
(认定机关, 实施意见五（三）); one to a commitment or an arrears record goes to the
department that made the promise or owes the money, which keeps that record. The
contact details come from data/departments.csv; where they are missing the
letter names the site's publisher, who forwards it.

Only records in `Facts` get a letter: findings off display are already gone, so
no letter can name them; a letter whose record left the site is removed.

Deadlines: the page is built with the as-of date as the filing date, so the
reply deadline is right without JavaScript for a letter handed in today; the
script recomputes it, from the same table, for another date. Beyond the years
the official calendar covers, Monday to Friday count as working days and the
result is marked as an estimate (Python and JavaScript alike).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import jinja2
from markupsafe import Markup, escape

from generator import model
from generator.derive import ArrearsFacts, CommitmentFacts, Facts, FindingFacts
from generator.schema import load_package

LETTERS = "letters"
TEMPLATES = Path(__file__).with_name("templates")
WEEKDAYS = "一二三四五六日"
#: Years of the working-day table before the as-of year (objections filed late last year) …
TABLE_YEARS_BEFORE = 1
#: … and at most this many after it (only years the official calendar covers are exported).
TABLE_YEARS_AFTER = 3

KIND_NAMES = {"commitments": "政府承诺", "arrears": "拖欠中小企业账款", "findings": "政务失信记录"}
_EVIDENCE = {
    "commitments": "承诺兑现的证明（如拨付凭证、批复文件），依法变更或终止承诺的决定等",
    "arrears": "合同、验收单、发票、付款凭证、银行回单、对账单等",
    "findings": "认定决定被撤销或变更的文书、整改完成的证明、已履行义务的凭证等",
}


def letter_path(record_id: str) -> str:
    """Docs-relative path of a record's letter (ids are validated: no path can escape)."""
    return f"{LETTERS}/{record_id}.html"


# --- the working-day table -------------------------------------------------------------


@dataclass(frozen=True)
class WorkdayTable:
    """Working days from `start` (inclusive) as a string of 1 (working) and 0 (rest), one per day."""

    start: date
    days: str

    @property
    def end(self) -> date:  # last day covered
        return self.start + timedelta(days=len(self.days) - 1)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(working day?, estimated?): outside the table Monday to Friday count, as an estimate."""
        offset = (day - self.start).days
        if 0 <= offset < len(self.days):
            return self.days[offset] == "1", False
        return day.weekday() < 5, True

    def add_workdays(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day after `start` (start itself never counts), and whether it is an estimate."""
        day, counted, estimated = start, 0, False
        while counted < n:
            day += timedelta(days=1)
            working, guess = self.is_workday(day)
            estimated |= guess
            counted += working
        return day, estimated

    def script(self) -> str:
        payload = json.dumps({"start": self.start.isoformat(), "days": self.days}, separators=(",", ":"))
        return ("// 工作日表：法定节假日和调休按国务院办公厅通知（chinese-calendar 与 data/calendar.yaml），"
                "由网站生成器导出。1 为工作日，0 为休息日。\n"
                f"window.ZQ_WORKDAYS = {payload};\n")


def workday_table(calendar, as_of: date) -> WorkdayTable:
    """The table the letters use: the covered years around the as-of date, contiguous."""
    first = as_of.year - TABLE_YEARS_BEFORE
    while not calendar.covers(first) and first <= as_of.year:
        first += 1
    if not calendar.covers(first):
        return WorkdayTable(as_of, "")  # no official calendar at all: weekdays only, estimates
    last = first
    while last + 1 <= as_of.year + TABLE_YEARS_AFTER and calendar.covers(last + 1):
        last += 1
    start, end = date(first, 1, 1), date(last, 12, 31)
    days = "".join("1" if calendar.is_workday(start + timedelta(days=k)) else "0"
                   for k in range((end - start).days + 1))
    return WorkdayTable(start, days)


def weekday_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


# --- the letters -----------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Where an objection is handed in."""

    name: str  # the deciding authority or department
    registered: bool  # its contact details are on file (data/departments.csv)
    office: str | None
    phone: str | None
    address: str | None
    hours: str | None


def contact_of(name: str, department: model.Department | None) -> Contact:
    if department is None:
        return Contact(name, False, None, None, None, None)
    return Contact(department.name, department.has_contact, department.contact_office, department.contact_phone,
                   department.contact_address, department.contact_hours)


def handler_contact(kind: str, item) -> Contact:
    """The authority that decides an objection to `item`, and how to reach it."""
    if kind == "findings":
        return contact_of(item.record.decision_authority, item.handler)
    if kind == "commitments":
        return contact_of(item.department_name, item.handler)
    return contact_of(item.debtor_name, item.handler)


@lru_cache(maxsize=None)  # the schema is loaded once (load_package is cached); a letter asks ~10 titles
def _title(resource: str, field: str) -> str:
    return load_package().resource(resource).field(field).title


def _yuan(value) -> str:
    return f"{value:,.2f} 元"


def published_facts(kind: str, item, as_of: date) -> list[tuple[str, str]]:
    """The record's facts as the site publishes them, label first (the letter's section 一)."""
    if kind == "findings":
        x: FindingFacts = item
        r = x.record
        rows = [(_title("findings", "subject"), x.subject_name), (_title("findings", "subject_kind"), r.subject_kind)]
        if r.person:
            rows.append((_title("findings", "person"), r.person))
        rows += [
            (_title("findings", "severity"), r.severity), (_title("findings", "category"), r.category),
            (_title("findings", "summary"), r.summary), (_title("findings", "decision_authority"), r.decision_authority),
            (_title("findings", "decision_doc_no"), r.decision_doc_no),
            (_title("findings", "decision_decided_on"), r.decision_decided_on.isoformat()),
            (_title("findings", "decision_basis"), r.decision_basis),
        ]
        if r.measures:
            rows.append((_title("findings", "measures"), r.measures))
        rows += [(_title("findings", "published_on"), r.published_on.isoformat() if r.published_on else ""),
                 ("公示截止", x.disclosure_end.isoformat()), ("异议情况", x.objection_state)]
        return rows
    if kind == "commitments":
        c: CommitmentFacts = item
        r = c.record
        rows = [(_title("commitments", "title"), r.title), (_title("commitments", "category"), r.category),
                (_title("commitments", "department"), c.department_name)]
        if c.counterparty_shown:
            rows.append((_title("commitments", "counterparty"), c.counterparty_shown))
        rows += [(_title("commitments", "promised_on"), r.promised_on.isoformat()),
                 (_title("commitments", "source"), r.source),
                 (_title("commitments", "deadline"), r.deadline.isoformat()),
                 ("履行情况", "、".join(b.label for b in c.badges))]
        if r.fulfilled_on and r.fulfilled_on <= as_of:
            rows.append((_title("commitments", "fulfilled_on"), r.fulfilled_on.isoformat()))
        return rows
    a: ArrearsFacts = item
    r = a.record
    return [
        (_title("arrears", "debtor"), a.debtor_name), (_title("arrears", "creditor"), r.creditor),
        (_title("arrears", "project"), r.project), (_title("arrears", "contract_no"), r.contract_no or ""),
        ("欠款金额", _yuan(r.amount)), ("已清偿", _yuan(a.repaid)), ("未清偿", _yuan(a.outstanding)),
        ("清偿状态", "、".join(b.label for b in a.badges)),
        (_title("arrears", "delivered_on"), r.delivered_on.isoformat()),
        (_title("arrears", "due_on"), r.due_on.isoformat()),
    ]


def _record_title(kind: str, item) -> str:
    if kind == "findings":
        return f"{item.subject_name}：{item.record.category}"
    if kind == "commitments":
        return item.record.title
    return f"{item.debtor_name}：{item.record.project}"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, auto_reload=False,
    )
    env.filters["weekday_date"] = weekday_date
    return env


def record_page_url(kind: str, record_id: str) -> str:
    """The record page, relative to the letter (letters/X.html → ../findings/X/)."""
    return f"../{kind}/{record_id}/"


@lru_cache(maxsize=None)
def _row_head(label: str) -> str:  # a few dozen field titles, ~10^5 rows a build
    return f'<tr><th scope="row">{escape(label)}</th><td>'


def fact_rows(rows: list[tuple[str, str]]) -> Markup:
    """The table rows of published_facts(), label and value escaped."""
    return Markup("".join(f"{_row_head(label)}{escape(value)}</td></tr>\n" for label, value in rows))


def _record_values(kind: str, item, facts: Facts) -> dict[str, Markup]:
    """What differs between two letters to the same authority (escaped, as the template would)."""
    record = item.record
    return {
        "record_id": escape(record.id), "record_title": escape(_record_title(kind, item)),
        "fact_rows": fact_rows(published_facts(kind, item, facts.as_of)),
        "record_url": escape(record_page_url(kind, record.id)),
        "absolute_url": escape(facts.site.base_url + f"{kind}/{record.id}/"),
    }


def _render(facts: Facts, kind: str, contact: Contact, record: dict, due: tuple[date, bool]) -> str:
    site = facts.site
    return _environment().get_template("letter.html.j2").render(
        site=site, as_of_iso=facts.as_of.isoformat(), kind=kind, kind_name=KIND_NAMES[kind], contact=contact,
        evidence=_EVIDENCE[kind], workdays=site.rules.objection_reply_workdays, due=due[0], estimated=due[1],
        contact_site=site.contact, **record,
    )


def letter_html(facts: Facts, kind: str, item, table: WorkdayTable,
                due: tuple[date, bool] | None = None) -> str:
    """The letter; `due`: the reply deadline for a filing on the as-of date, when the caller has it."""
    if due is None:
        due = table.add_workdays(facts.as_of, facts.site.rules.objection_reply_workdays)
    return _render(facts, kind, handler_contact(kind, item), _record_values(kind, item, facts), due)


#: Letters to one authority differ only in the record: the template is rendered once per
#: authority and kind with these slots, which each letter fills with its escaped values
#: (the same text the template writes: test_letters checks every letter both ways).
_SLOTS = {name: Markup(f"\x00{name}\x00") for name in
          ("record_id", "record_title", "fact_rows", "record_url", "absolute_url")}
_SLOT = re.compile("\x00(" + "|".join(_SLOTS) + ")\x00")


#: What markupsafe.escape replaces in text (the same five characters, & first).
_ESCAPES = (("&", "&amp;"), (">", "&gt;"), ("<", "&lt;"), ("'", "&#39;"), ('"', "&#34;"))


def _escaped(texts: list) -> list[str]:
    """str(escape(t)) of each value: plain texts joined and escaped at once (one pass per
    letter instead of a Markup object per value); anything else goes through escape()."""
    if set(map(type, texts)) <= {str}:
        joined = "\x00".join(texts)
        if joined.count("\x00") == len(texts) - 1:  # NUL in no text: it separates them
            for char, entity in _ESCAPES:
                if char in joined:
                    joined = joined.replace(char, entity)
            return joined.split("\x00")
    return [str(escape(t)) for t in texts]


def _record_texts(kind: str, item, facts: Facts) -> dict[str, str]:
    """_record_values as plain strings, escaped together."""
    record = item.record
    rows = published_facts(kind, item, facts.as_of)
    texts = _escaped([record.id, _record_title(kind, item), record_page_url(kind, record.id),
                      f"{facts.site.base_url}{kind}/{record.id}/", *[value for _, value in rows]])
    return {"record_id": texts[0], "record_title": texts[1], "record_url": texts[2], "absolute_url": texts[3],
            "fact_rows": "".join([f"{_row_head(label)}{value}</td></tr>\n" for (label, _), value in zip(rows, texts[4:])])}


class _Letters:
    def __init__(self, facts: Facts, due: tuple[date, bool]) -> None:
        self.facts, self.due = facts, due
        self.shells: dict[tuple[str, Contact], str] = {}

    def letter(self, kind: str, item) -> str:
        contact = handler_contact(kind, item)
        shell = self.shells.get((kind, contact))
        if shell is None:
            # split() alternates text and slot names: every odd part is a slot, made a %(slot)s
            # of a template the letter's values fill in one step (its text's % doubled).
            parts = _SLOT.split(_render(self.facts, kind, contact, _SLOTS, self.due))
            shell = self.shells[(kind, contact)] = "".join(
                part.replace("%", "%%") if i % 2 == 0 else f"%({part})s" for i, part in enumerate(parts))
        return shell % _record_texts(kind, item, self.facts)


def _items(facts: Facts):
    yield from (("commitments", c) for c in facts.commitments)
    yield from (("arrears", a) for a in facts.arrears)
    yield from (("findings", f) for f in facts.findings)  # on display only


def letter_files(facts: Facts) -> dict[str, bytes]:
    """Every letter and its support files, by docs-relative path."""
    return dict(iter_letter_files(facts))


def iter_letter_files(facts: Facts) -> Iterator[tuple[str, bytes]]:
    """letter_files() one file at a time (65 MB of letters at 10,000 records: never all in memory)."""
    made = LetterMaker(facts)
    yield from made.support
    for rel, kind, item in made.letters():
        yield rel, made.letter(kind, item)


class LetterMaker:
    """The letters one by one, each made only when asked for (a rebuild takes an unchanged
    record's letter from the last build: see extras.write_extras).

    support: the support files, (path, bytes); due: the reply deadline every letter names;
    letters(): (path, kind, record facts) of each letter; letter(kind, item): its bytes.
    Besides the record's facts, a letter depends on these, the site settings, the as-of
    date, the schema's field titles and this module's code and templates only."""

    def __init__(self, facts: Facts) -> None:
        if facts.calendar is None:
            raise ValueError("Facts without a working-day calendar: derive() sets it")
        table = workday_table(facts.calendar, facts.as_of)
        self.facts = facts
        self.support = [(f"{LETTERS}/workdays.js", table.script().encode("utf-8")),
                        (f"{LETTERS}/letter.js", (TEMPLATES / "letter.js").read_bytes()),
                        (f"{LETTERS}/letter.css", (TEMPLATES / "letter.css").read_bytes())]
        self.due = table.add_workdays(facts.as_of, facts.site.rules.objection_reply_workdays)  # the same for every letter
        self._letters = _Letters(facts, self.due)

    def letters(self) -> Iterator[tuple[str, str, object]]:
        for kind, item in _items(self.facts):
            yield letter_path(item.record.id), kind, item

    def letter(self, kind: str, item) -> bytes:
        return self._letters.letter(kind, item).encode("utf-8")
