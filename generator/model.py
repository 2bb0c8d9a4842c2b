"""The domain model: typed records as the validator hands them to the rest of the pipeline.

Everything here is immutable and already checked: dates are `date`, money is
`Decimal` (never float), lists are tuples in the order staff wrote them.
"""

from __future__ import annotations

import calendar as _calendar
from collections import deque
from dataclasses import MISSING, dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Any, Callable, NamedTuple

from generator.workdays import WorkdayCalendar


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 29 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def period_end(start: date, months: int) -> date:
    """Last day of a period of `months` months that starts with the event on `start`.

    民法典 第二百零一条: the day of the event does not count, counting starts the next
    day; 第二百零二条: the period ends on the corresponding day of the last month, or on
    that month's last day when it has no corresponding day. Decided 2024-04-15, 12
    months → the period's last day is 2025-04-15; decided 2024-01-31, 1 month → 2024-02-29.
    """
    return add_months(start, months)


# --- site settings ---------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """How long one severity of finding is disclosed under one regime, in months from the decision."""

    min_months: int
    max_months: int
    published: bool  # False: "normally not published" (轻微 under the 2025 rules)


@dataclass(frozen=True)
class Regime:
    """A set of national disclosure rules, applying to decisions made from `effective_from` on."""

    name: str
    effective_from: date
    periods: dict[str, Period]
    source: str = ""  # the full citation
    effective_until: date | None = None  # the day before the next regime takes effect

    def last_day(self, decided_on: date, severity: str, bound: str = "max") -> date:
        """Last day of display for a decision, at the regime's minimum or maximum period.

        Periods follow 民法典 201/202 (see period_end): decided 2024-04-15,
        12 months → shown through 2025-04-15.
        """
        period = self.periods[severity]
        months = period.max_months if bound == "max" else period.min_months
        return period_end(decided_on, months)

    def repair_from(self, decided_on: date, severity: str) -> date:
        """Repair may be asked for once the minimum period has passed: the day after its last day."""
        return period_end(decided_on, self.periods[severity].min_months) + timedelta(days=1)


@dataclass(frozen=True)
class SanctionRules:
    """A civil servant's sanction period (公职人员政务处分法 第八条), in months from the decision."""

    source: str
    effective_from: date
    months: dict[str, int]  # 警告 → 6 …; a sanction without a period (开除) is absent


@dataclass(frozen=True)
class PaymentRegime:
    """A version of the SME payment regulation, applying to contracts (and annual notices) from `effective_from`."""

    name: str
    source: str
    effective_from: date
    articles: dict[str, str]  # term | dispute | interest | notice → 第九条 …; absent when the version has none
    effective_until: date | None = None

    def cite(self, key: str) -> str:
        article = self.articles.get(key)
        return f"{self.source}{article}" if article else self.source


@dataclass(frozen=True)
class PaymentRules:
    regulation: str
    default_term_days: int
    max_term_days: int
    default_daily_rate: Decimal  # percent a day: 0.05 means 0.05 % (万分之五)
    annual_notice_due: tuple[int, int]  # (month, day)


#: 区直各部门 are the district government's departments: not Party organs (incl. the 纪委监委), not the court.
DEFAULT_GROUP_KINDS = {"区直各部门": ("区直部门",), "各街道办事处": ("街道办事处",)}


@dataclass(frozen=True)
class AmountRange:
    """Plausible amounts (yuan) for one kind of debt; outside them validate warns (site.yaml rules.plausible_amounts)."""

    kind: str  # 工程款 …
    keywords: tuple[str, ...]  # words of the project name that make a debt this kind; () matches any
    minimum: Decimal | None
    maximum: Decimal | None

    def matches(self, project: str | None) -> bool:
        return not self.keywords or any(k in (project or "") for k in self.keywords)


@dataclass(frozen=True)
class Rules:
    serious_publish_workdays: int
    objection_reply_workdays: int
    regimes: tuple[Regime, ...]  # oldest first
    payment: PaymentRules
    sanctions: SanctionRules | None = None
    periods_source: str = ""
    serious_publish_source: str = ""
    objection_reply_source: str = ""
    payment_regimes: tuple[PaymentRegime, ...] = ()  # oldest first
    deadline_rest_day_source: str = ""
    lpr_source: str = ""
    lpr: dict[str, Decimal] | None = None  # YYYY-MM → one-year LPR, percent a year
    # group token (区直各部门 …) → the department kinds it covers
    group_kinds: dict[str, tuple[str, ...]] | None = None
    group_source: str = ""
    forbidden_reasons: tuple[str, ...] = ()
    forbidden_reasons_source: str = ""
    # Where each month's LPR was checked: month → reference key, and key → the reference (title and address).
    lpr_refs: dict[str, str] | None = None
    lpr_references: dict[str, str] | None = None

    def token_covers(self, token: str, kind: str) -> bool:
        kinds = (self.group_kinds or DEFAULT_GROUP_KINDS).get(token)
        return kind in kinds if kinds else False

    def payment_regime_on(self, day: date) -> PaymentRegime | None:
        found = None
        for regime in self.payment_regimes:
            if regime.effective_from <= day:
                found = regime
        return found

    def lpr_floor(self, day: date) -> Decimal | None:
        """The lower of the LPR quoted in `day`'s month and the month before (quotes come on the 20th).

        None when unknown: neither month is in the table, or `day` is on or after the 20th of a month
        whose quote is not in it yet (that quote may be the one in force).
        """
        if not self.lpr:
            return None
        this = f"{day.year}-{day.month:02d}"
        if this not in self.lpr and day.day >= 20:
            return None
        prev_year, prev_month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        rates = [r for r in (self.lpr.get(this), self.lpr.get(f"{prev_year}-{prev_month:02d}")) if r is not None]
        return min(rates) if rates else None
    plausible_amounts: tuple[AmountRange, ...] = ()  # first match wins

    def regime_on(self, day: date) -> Regime | None:
        """The regime in force on `day` (the decision date)."""
        found = None
        for regime in self.regimes:
            if regime.effective_from <= day:
                found = regime
        return found


@dataclass(frozen=True)
class Site:
    site_name: str
    publisher: str
    region: str
    sample: bool
    timezone: str
    base_url: str
    licence: dict[str, str]
    contact: dict[str, str]
    identifiers: dict[str, str]
    policy: dict[str, str]
    rules: Rules


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    kind: str
    sort: int
    active: bool
    contact_office: str | None = None
    contact_phone: str | None = None
    contact_address: str | None = None
    contact_hours: str | None = None

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_office or self.contact_phone or self.contact_address)


@dataclass(frozen=True)
class Note:
    date: date
    note: str


@dataclass(frozen=True)
class TaskUnit:
    role: str  # 牵头 | 配合 | 责任
    unit: str  # department id or a group token


@dataclass(frozen=True)
class Task:
    id: str
    section: str
    title: str
    summary: str
    status: str
    units: tuple[TaskUnit, ...]
    progress: tuple[Note, ...]
    source: str


@dataclass(frozen=True)
class ChangeEntry:
    """One entry of a record's change log: a published value changed, with its reason."""

    date: date
    fields: tuple[str, ...]  # field names (deadline, amount, repayments, status …)
    field_titles: tuple[str, ...]  # the same, as the site names them
    what: str
    reason: str
    basis: str
    document: str | None


@dataclass(frozen=True)
class Withdrawal:
    """A published record withdrawn: it keeps its page as a tombstone."""

    date: date
    reason: str
    document: str | None


@dataclass(frozen=True)
class RectificationStep:
    step: str
    due: date
    done_on: date | None


@dataclass(frozen=True)
class Commitment:
    id: str
    title: str
    category: str
    department: str
    partners: tuple[str, ...]
    counterparty: str | None
    counterparty_masked: bool
    promised_on: date
    source: str
    content: str
    deadline: date
    status: str
    fulfilled_on: date | None
    change_decided_on: date | None
    change_basis: str | None
    change_compensation: str | None
    progress: tuple[Note, ...]
    rectification: tuple[RectificationStep, ...]
    file: str
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None
    withdrawal_document: str | None = None
    changes: tuple[ChangeEntry, ...] = ()  # oldest first

    @property
    def withdrawal(self) -> Withdrawal | None:
        if self.status != "已撤回" or self.withdrawn_on is None:
            return None
        return Withdrawal(self.withdrawn_on, self.withdrawal_reason or "", self.withdrawal_document)


# A ledger's instalments and repayments are named tuples, not frozen dataclasses: the same
# fields, order, keywords, defaults, repr and immutability, made from the ledger's columns at C
# speed (tuple.__new__ over zip, no __init__ and no __dict__ per row): a 100,000-row ledger has
# 270,000 of them, and building them as dataclasses cost as much as validating the ledger's cells.


class Instalment(NamedTuple):
    due_on: date
    amount: Decimal


class Repayment(NamedTuple):
    paid_on: date
    amount: Decimal
    note: str | None
    seq: int = 1  # the n-th payment of the debt on that day (with arrears_id and paid_on: the key)


class ArrearsItem(NamedTuple):
    """One debt of the arrears ledger. A named tuple, as its instalments and repayments (above):
    the same fields, order, keywords, defaults, repr, hash and immutability as the frozen
    dataclass it was, made from the ledger's columns in C (from_columns) with no __dict__ per
    record: a big ledger has 100,000 of them, and their dicts cost a tenth of its validation
    and 1 KB each. A changed copy is `item._replace(field=value)`."""

    id: str
    debtor: str
    creditor: str
    creditor_code: str | None
    creditor_size: str
    project: str
    contract_no: str
    amount: Decimal
    delivered_on: date
    due_on: date
    found_on: date
    agreed_daily_rate: Decimal | None
    disputed: bool
    resolution: str | None
    note: str | None
    plan: tuple[Instalment, ...]  # by due date
    repayments: tuple[Repayment, ...]  # by payment date
    signed_on: date | None = None
    due_kind: str | None = None  # 期间 (default) | 固定日期
    disputed_amount: Decimal | None = None
    interest_state: str | None = None  # 已支付 | 已免除 | 未支付
    withdrawal: Withdrawal | None = None
    changes: tuple[ChangeEntry, ...] = ()  # oldest first


@dataclass(frozen=True)
class Objection:
    filed_on: date
    summary: str
    decided_on: date | None
    outcome: str | None


@dataclass(frozen=True)
class Finding:
    id: str
    subject: str
    subject_kind: str
    person: str | None
    severity: str
    category: str
    summary: str
    decision_authority: str
    decision_doc_no: str
    decision_decided_on: date
    decision_basis: str
    published_on: date | None
    disclosure_until: date | None
    measures: str | None
    rectification_due: date | None
    rectification_done_on: date | None
    repair_applied_on: date | None
    repair_decided_on: date | None
    repair_outcome: str | None
    related: tuple[str, ...]
    objections: tuple[Objection, ...]
    file: str
    uploaded_on: date | None = None  # uploaded to the credit information platform (实施意见五（一）)
    sanction: str | None = None  # a civil servant's 政务处分 (警告 …)
    changes: tuple[ChangeEntry, ...] = ()  # correction notes, oldest first


@dataclass(frozen=True)
class Evaluation:
    year: int
    department: str
    evaluator: str
    method: str
    score: Decimal
    grade: str
    published_on: date
    report: str | None
    objection: str | None
    objection_outcome: str | None


@dataclass(frozen=True)
class Dataset:
    """Everything the validator accepted, typed; the input of the derive stage."""

    site: Site
    calendar: WorkdayCalendar
    departments: tuple[Department, ...]  # by sort order
    tasks: tuple[Task, ...]
    commitments: tuple[Commitment, ...]  # by id
    arrears: tuple[ArrearsItem, ...]  # by id
    findings: tuple[Finding, ...]  # by id
    evaluations: tuple[Evaluation, ...]  # by year, department

    def department(self, dept_id: str) -> Department:
        for d in self.departments:
            if d.id == dept_id:
                return d
        raise KeyError(dept_id)



def maker(cls: type) -> Callable[[dict[str, Any]], Any]:
    """A constructor of the frozen dataclass `cls` from a dict of field values: the same
    instance as `cls(**values)` (missing fields take their defaults; an unknown or a
    missing field without default is a TypeError), without the object.__setattr__ call
    per field that a frozen dataclass's __init__ makes (the cost the dataclasses
    documentation names): the instance's __dict__ is filled at once, as copy and pickle
    restore one. For the validator's hundreds of thousands of records and payments."""
    if hasattr(cls, "_fields"):  # a named tuple: its own constructor is made in C
        return lambda values: cls(**values)
    specs = fields(cls)
    if "__post_init__" in vars(cls) or "__slots__" in vars(cls) or not all(
            f.init and f.default_factory is MISSING for f in specs):
        raise TypeError(f"{cls.__name__}: needs its own __init__")  # pragma: no cover - a model change
    template = {f.name: None if f.default is MISSING else f.default for f in specs}
    required = frozenset(f.name for f in specs if f.default is MISSING)
    size = len(template)
    new = object.__new__

    def make(values: dict[str, Any]) -> Any:
        state = template.copy()
        state.update(values)  # known keys keep the fields' order
        if len(state) != size or not required <= values.keys():
            cls(**values)  # raises the TypeError __init__ would raise
        obj = new(cls)
        obj.__dict__.update(state)
        return obj

    return make


def from_columns(cls: type, columns: dict[str, list[Any]]) -> list[Any]:
    """[cls(**row) for each row of `columns`] (field name → the values in row order; every field
    of the frozen dataclass `cls` given, no other): the same instances, each one's __dict__ made
    at once in the fields' order and set whole, as maker fills it, without a dict per row to
    merge into a copy of the defaults. For the validator's 100,000 debts of a big ledger.
    A named tuple `cls`: tuple.__new__ over the zipped columns, in C."""
    if hasattr(cls, "_fields"):
        if set(columns) != set(cls._fields):
            raise TypeError(f"{cls.__name__}: columns {sorted(set(columns) ^ set(cls._fields))} missing or unknown")
        return list(map(tuple.__new__, repeat(cls), zip(*(columns[n] for n in cls._fields))))
    specs = fields(cls)
    if "__post_init__" in vars(cls) or "__slots__" in vars(cls) or not all(f.init for f in specs):
        raise TypeError(f"{cls.__name__}: needs its own __init__")  # pragma: no cover - a model change
    names = tuple(f.name for f in specs)
    if set(columns) != set(names):
        raise TypeError(f"{cls.__name__}: columns {sorted(set(columns) ^ set(names))} missing or unknown")
    # each __dict__ a copy of one dict of the fields (made at its full size at once: a dict built
    # key by key grows twice on the way to 23 keys), then given the row's values
    count = min(map(len, columns.values()), default=0)  # (zip stops at the shortest column too)
    states = list(map(dict.copy, repeat(dict.fromkeys(names), count)))
    deque(map(dict.update, states, map(zip, repeat(names), zip(*(columns[n] for n in names)))), maxlen=0)
    out = list(map(object.__new__, repeat(cls, count)))
    # object's own __setattr__ (the frozen class's refuses any attribute), called from C: no
    # Python step per instance
    deque(map(object.__setattr__, out, repeat("__dict__"), states), maxlen=0)
    return out
