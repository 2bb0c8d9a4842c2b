"""The domain model: typed records as the validator hands them to the rest of the pipeline.

Everything here is immutable and already checked: dates are `date`, money is
`Decimal` (never float), lists are tuples in the order staff wrote them.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from generator.workdays import WorkdayCalendar


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 29 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


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

    def last_day(self, decided_on: date, severity: str, bound: str = "max") -> date:
        """Last day of display for a decision, at the regime's minimum or maximum period.

        A period of N months from the decision date ends the day before the same
        date N months later: decided 2024-04-15, 12 months → shown through 2025-04-14.
        """
        period = self.periods[severity]
        months = period.max_months if bound == "max" else period.min_months
        return add_months(decided_on, months) - timedelta(days=1)

    def repair_from(self, decided_on: date, severity: str) -> date:
        """Repair may be asked for once the minimum period has passed."""
        return add_months(decided_on, self.periods[severity].min_months)


@dataclass(frozen=True)
class PaymentRules:
    regulation: str
    default_term_days: int
    max_term_days: int
    default_daily_rate: Decimal  # percent a day: 0.05 means 0.05 % (万分之五)
    annual_notice_due: tuple[int, int]  # (month, day)


@dataclass(frozen=True)
class Rules:
    serious_publish_workdays: int
    objection_reply_workdays: int
    regimes: tuple[Regime, ...]  # oldest first
    payment: PaymentRules

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


@dataclass(frozen=True)
class Instalment:
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class Repayment:
    paid_on: date
    amount: Decimal
    note: str | None
    seq: int = 1  # the n-th payment of the debt on that day (with arrears_id and paid_on: the key)


@dataclass(frozen=True)
class ArrearsItem:
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
