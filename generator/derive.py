"""Stage 3 — derive: the facts the site shows, as of one date, computed once.

Templates never compute: every status, sum, deadline and display decision is
made here, in exact decimal arithmetic and on the official working-day
calendar. Findings that are not on public display are dropped here, before
rendering, so that no page, search index, sitemap, feed or download can see
them; only anonymous counts pass on.

Conventions (stated on the methodology page as well):
- the as-of date is today in the site's time zone (Asia/Shanghai), never the
  build machine's, unless fixed with --as-of;
- N working days after an event run from the next day (see workdays.py);
- a disclosure period of N months from the decision ends the day before the
  same date N months later, and the record is still shown on that last day;
- events dated after the as-of date are not counted (a build for a past date
  shows the past).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Iterable, NamedTuple
from zoneinfo import ZoneInfo

from generator import collector, model
from generator.schema import GROUP_TOKENS

CENT = Decimal("0.01")
ZERO = Decimal("0")
OPEN_COMMITMENT = ("履行中", "部分兑现", "未兑现")


def today(timezone: str, now: datetime | None = None) -> date:
    """Today's date in `timezone` (CI runs in UTC: at 20:00 UTC it is already tomorrow in Beijing)."""
    now = now or datetime.now(tz=ZoneInfo("UTC"))
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- shared view pieces ---------------------------------------------------------------


# A badge and a timeline entry are named tuples (the same fields, keywords, defaults, repr and
# immutability as frozen dataclasses; read by attribute only): a million of them at 100,000
# records, each made in one C call instead of a frozen dataclass's __init__ that sets every field
# through object.__setattr__.


class Badge(NamedTuple):
    label: str
    tone: str  # ok | warn | bad | muted


class Event(NamedTuple):
    """One dated entry of a record's timeline."""

    date: date
    label: str
    text: str = ""


@dataclass(frozen=True)
class Change:
    """A recent change for the home page and the Atom feed."""

    date: date
    kind: str  # new | status | repayment | progress
    record_id: str
    record_kind: str  # commitments | arrears | findings
    title: str
    text: str


# --- commitments ------------------------------------------------------------------------


@dataclass(frozen=True)
class StepFacts:
    step: model.RectificationStep
    overdue: bool  # unfinished past its due date, or finished late: a second default
    days_late: int


@dataclass(frozen=True)
class CommitmentFacts:
    record: model.Commitment
    department_name: str
    partner_names: tuple[str, ...]
    counterparty_shown: str | None
    overdue: bool
    days_overdue: int
    fulfilment: str | None  # 按期兑现 | 逾期兑现
    days_late: int
    second_default: bool
    steps: tuple[StepFacts, ...]
    badges: tuple[Badge, ...]
    timeline: tuple[Event, ...]
    handler: model.Department | None = None  # who answers an objection: the department that made the promise
    changes: tuple[model.ChangeEntry, ...] = ()  # the change log as of the as-of date, oldest first
    withdrawal: model.Withdrawal | None = None  # withdrawn by the as-of date: the page is a tombstone


_STATUS_TONE = {"已兑现": "ok", "履行中": "warn", "部分兑现": "warn", "未兑现": "bad", "依法变更": "muted", "已终止": "muted",
                "已撤回": "muted"}


def mask_name(name: str) -> str:
    """营口某某机械有限公司 → 营口某某有限公司: the first two characters and the legal-form suffix stay."""
    for suffix in ("股份有限公司", "有限责任公司", "有限公司", "集团", "合作社", "公司", "中心", "厂"):
        if name.endswith(suffix) and len(name) > len(suffix) + 2:
            return name[:2] + "某某" + suffix
    return name[:1] + "某某"


def derive_commitment(c: model.Commitment, as_of: date, names: dict[str, str],
                      handler: model.Department | None = None) -> CommitmentFacts:
    open_ = c.status in OPEN_COMMITMENT
    overdue = open_ and c.deadline < as_of
    fulfilment, days_late = None, 0
    if c.status == "已兑现" and c.fulfilled_on:
        days_late = max(0, (c.fulfilled_on - c.deadline).days)
        fulfilment = "逾期兑现" if days_late else "按期兑现"
    steps = []
    for s in c.rectification:
        if s.done_on is not None:
            late = max(0, (s.done_on - s.due).days)
        else:
            late = max(0, (as_of - s.due).days)
        steps.append(StepFacts(s, late > 0, late))
    second_default = any(s.overdue for s in steps)
    badges = [Badge(c.status, _STATUS_TONE[c.status])]
    if overdue:
        badges.append(Badge(f"逾期 {(as_of - c.deadline).days} 天", "bad"))
    if fulfilment:
        badges.append(Badge(fulfilment, "ok" if not days_late else "warn"))
    if second_default:
        badges.append(Badge("二次失信", "bad"))
    timeline = [Event(c.promised_on, "作出承诺", c.source)]
    timeline += [Event(n.date, "履行进展", n.note) for n in c.progress]
    for s in c.rectification:
        if s.done_on:
            timeline.append(Event(s.done_on, "整改完成", s.step))
    if c.change_decided_on:
        timeline.append(Event(c.change_decided_on, "依法终止" if c.status == "已终止" else "依法变更", c.change_basis or ""))
    if c.fulfilled_on:
        timeline.append(Event(c.fulfilled_on, "全部兑现", ""))
    if c.withdrawal:
        timeline.append(Event(c.withdrawal.date, "撤回", c.withdrawal.reason))
    timeline.append(Event(c.deadline, "兑现期限", ""))
    return _commitment_facts({
        "record": c,
        "department_name": names.get(c.department, c.department),
        "partner_names": tuple(names.get(p, p) for p in c.partners),
        "counterparty_shown": (mask_name(c.counterparty) if c.counterparty_masked else c.counterparty) if c.counterparty else None,
        "overdue": overdue,
        "days_overdue": (as_of - c.deadline).days if overdue else 0,
        "fulfilment": fulfilment,
        "days_late": days_late,
        "second_default": second_default,
        "steps": tuple(steps),
        "badges": tuple(badges),
        "timeline": tuple(sorted([e for e in timeline if e.date <= as_of or e.label == "兑现期限"], key=_DATE)),
        "handler": handler,
        "changes": tuple(e for e in c.changes if e.date <= as_of),
        "withdrawal": c.withdrawal if c.withdrawal and c.withdrawal.date <= as_of else None,
    })


#: CommitmentFacts(**values) without a frozen dataclass's setattr per field (model.maker)
_commitment_facts = model.maker(CommitmentFacts)
_DATE = attrgetter("date")  # a timeline's order: by date alone, ties in the order the entries were made


# --- arrears ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalmentFacts:
    instalment: model.Instalment
    paid: Decimal  # repayments allocated to this instalment, oldest instalment first
    shortfall: Decimal
    overdue: bool
    days_overdue: int


@dataclass(frozen=True)
class ArrearsFacts:
    record: model.ArrearsItem
    debtor_name: str
    repayments: tuple[model.Repayment, ...]  # those made by the as-of date
    repaid: Decimal
    outstanding: Decimal
    share_cleared: Decimal  # 0..1, four decimals
    status: str  # 未清偿 | 部分清偿 | 已清偿 (of the principal) | 已撤回 (withdrawn: a tombstone, in no total)
    cleared_on: date | None
    days_past_due: int  # outstanding undisputed part: days since due_used; cleared: days late at clearing
    term_days: int
    term_exceeds_max: bool
    daily_rate: Decimal  # percent a day
    rate_agreed: bool
    interest: Decimal  # late-payment interest accrued by the as-of date, to the cent
    instalments: tuple[InstalmentFacts, ...]
    overdue_instalments: int
    badges: tuple[Badge, ...]
    timeline: tuple[Event, ...]
    legal_due: date  # delivery + the legal maximum term (60 days)
    due_base: date  # the contract's date, or the legal maximum when the contract's term is longer
    due_used: date  # due_base, moved past rest days when it ends a period (民法典 第二百零三条)
    due_moved: bool  # due_used differs from due_base because of a rest day
    due_estimated: bool  # the rest-day check fell in a year no holiday schedule covers
    disputed_amount: Decimal  # 0 when undisputed; the whole amount when the dispute's size is not recorded
    undisputed: Decimal  # amount - disputed_amount: the part that must be paid on time
    wholly_disputed: bool
    interest_state: str | None  # 已支付 | 已免除 | 未支付; None when no interest accrued
    status_note: str | None  # e.g. 本金已清偿，逾期利息未支付
    regulation: str  # the version of the payment regulation that applies (by contract date)
    regulation_source: str
    interest_article: str  # citation of the interest rule in that version
    term_article: str
    dispute_article: str | None
    settled_on: date | None  # the day the part that had to be paid on time was fully paid
    second_default: bool = False  # an agreed instalment missed: 二次失信 (实施意见四（一）)
    handler: model.Department | None = None  # who answers an objection: the debtor department
    changes: tuple[model.ChangeEntry, ...] = ()  # the change log as of the as-of date, oldest first
    withdrawal: model.Withdrawal | None = None  # withdrawn by the as-of date: the page is a tombstone


def late_interest(item: model.ArrearsItem, repayments: Iterable[model.Repayment], as_of: date, daily_rate: Decimal,
                  due: date | None = None, principal: Decimal | None = None) -> Decimal:
    """Interest on each yuan for every day it stayed unpaid after the due date.

    A payment on day d stops interest from d on: money paid on the due date or
    before bears none; the outstanding balance bears interest through the as-of date.
    `due` is the date the debt fell due (default: the contract's); `principal` the part
    that bears interest (default: the whole amount; a disputed part bears none, and
    payments go to the undisputed part first).
    """
    due = due or item.due_on
    principal = item.amount if principal is None else principal
    rate = daily_rate / 100
    total = ZERO
    balance = principal
    for r in repayments:
        if balance <= 0:
            break
        part = min(r.amount, balance)
        days = (r.paid_on - due).days
        if days > 0:
            total += part * rate * days
        balance -= part
    if balance > 0 and as_of > due:
        total += balance * rate * (as_of - due).days
    return cents(total)


def _next_workday(day: date, calendar) -> date:
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return day


_ARREARS_TONE = {"已清偿": "ok", "部分清偿": "warn", "未清偿": "bad", "已撤回": "muted"}
_SHARE = Decimal("0.0001")


def derive_arrears(a: model.ArrearsItem, as_of: date, names: dict[str, str], rules: model.PaymentRules,
                   calendar=None, site_rules: model.Rules | None = None,
                   handler: model.Department | None = None) -> ArrearsFacts:
    # (5,500 debts at 10,000 records, 100,000 in a big ledger: no generator or closure per
    # debt where a loop or a list does, and no work for an empty plan, payment list or dispute)
    repayments = tuple([r for r in a.repayments if r.paid_on <= as_of]) if a.repayments else ()
    amount = a.amount
    if repayments:
        repaid = ZERO
        for r in repayments:
            repaid += r.amount
    else:
        repaid = ZERO
    outstanding = amount - repaid
    status = "已清偿" if outstanding == 0 else ("未清偿" if repaid == 0 else "部分清偿")
    cleared_on = repayments[-1].paid_on if status == "已清偿" else None
    withdrawal = a.withdrawal
    withdrawn = withdrawal is not None and withdrawal.date <= as_of
    if withdrawn:
        status = "已撤回"  # a tombstone: no longer owed, left out of every total
    rate_agreed = a.agreed_daily_rate is not None
    daily_rate = a.agreed_daily_rate if rate_agreed else rules.default_daily_rate
    term_days = (a.due_on - a.delivered_on).days
    exceeds = term_days > rules.max_term_days

    # The due date used: the legal maximum when the contract's term is longer (条例: at most 60 days);
    # a date that ends a period and falls on a rest day moves to the next working day (民法典 203).
    legal_due = a.delivered_on + timedelta(days=rules.max_term_days)
    due_base = legal_due if exceeds else a.due_on
    is_period = exceeds or (a.due_kind or "期间") == "期间"
    if calendar is not None and is_period:
        due_used = _next_workday(due_base, calendar)
        due_estimated = calendar.estimated(due_base, due_used)
    else:
        due_used, due_estimated = due_base, False
    due_moved = due_used != due_base

    # Disputes: the undisputed part must be paid on time; a wholly disputed debt is not overdue.
    disputed = a.disputed
    if disputed:
        disputed_amount = a.disputed_amount if a.disputed_amount is not None else amount
    else:
        disputed_amount = ZERO
    undisputed = amount - disputed_amount
    wholly = disputed and undisputed <= 0
    undisputed_cleared_on = None
    if undisputed > 0 and repaid >= undisputed:  # payments go to the undisputed part first
        running = ZERO
        for r in repayments:
            running += r.amount
            if running >= undisputed:
                undisputed_cleared_on = r.paid_on
                break
    if wholly:
        days_past_due = 0
    elif undisputed_cleared_on:
        days_past_due = max(0, (undisputed_cleared_on - due_used).days)
    else:
        days_past_due = max(0, (as_of - due_used).days)
    interest = ZERO if wholly else late_interest(a, repayments, as_of, daily_rate, due_used, undisputed)

    regime = site_rules.payment_regime_on(a.signed_on or a.delivered_on) if site_rules else None
    if regime:
        regulation, regulation_source = regime.name, regime.source
        interest_article, term_article = regime.cite("interest"), regime.cite("term")
        dispute_article = regime.cite("dispute") if regime.articles.get("dispute") else None
    else:
        regulation = regulation_source = interest_article = term_article = rules.regulation
        dispute_article = None

    if interest > 0:
        interest_state = a.interest_state or "未支付"
    else:
        interest_state = a.interest_state
    status_note = None
    if status == "已清偿" and interest > 0 and interest_state == "未支付":
        status_note = "本金已清偿，逾期利息未支付"

    instalments = []
    overdue_instalments = 0
    if a.plan:
        remaining = repaid
        for inst in a.plan:
            paid = min(inst.amount, remaining)
            remaining -= paid
            shortfall = inst.amount - paid
            overdue = shortfall > 0 and inst.due_on < as_of
            if overdue:
                overdue_instalments += 1
            instalments.append(InstalmentFacts(inst, paid, shortfall, overdue, (as_of - inst.due_on).days if overdue else 0))

    if withdrawn:
        status_note, overdue_instalments = None, 0
    badges = [Badge(status, _ARREARS_TONE[status])]
    if status_note:
        badges.append(Badge("逾期利息未支付", "bad"))
    if status not in ("已清偿", "已撤回") and days_past_due and not undisputed_cleared_on:
        badges.append(Badge(f"逾期 {days_past_due} 天", "bad"))
    if overdue_instalments:
        badges.append(Badge(f"{overdue_instalments} 期未按计划清偿", "bad"))
        badges.append(Badge("二次失信", "bad"))
    if disputed:
        label = "全部有争议" if wholly else "部分有争议"
        badges.append(Badge(f"{label}（{a.resolution}）" if a.resolution else label, "muted"))
    if exceeds:
        badges.append(Badge(f"约定期限 {term_days} 天，超过法定上限", "warn"))

    # The timeline: events after the as-of date are left out, but for the two due dates.
    timeline = [Event(a.delivered_on, "交付（验收）", a.project)] if a.delivered_on <= as_of else []
    timeline.append(Event(a.due_on, "约定付款日期", ""))
    if a.found_on <= as_of:
        timeline.append(Event(a.found_on, "认定为拖欠并纳入台账", ""))
    if due_used != a.due_on:
        timeline.append(Event(due_used, "计算逾期所用的付款期限", ""))
    for r in repayments:
        timeline.append(Event(r.paid_on, "清偿", f"{r.amount}"))
    for i in a.plan:
        if i.due_on <= as_of:
            timeline.append(Event(i.due_on, "计划清偿", f"{i.amount}"))
    if withdrawn:
        timeline.append(Event(withdrawal.date, "撤回", withdrawal.reason))
    timeline.sort(key=_DATE)
    return _arrears_facts({
        "record": a, "debtor_name": names.get(a.debtor, a.debtor), "repayments": repayments, "repaid": repaid,
        "outstanding": outstanding, "share_cleared": (repaid / amount).quantize(_SHARE, rounding=ROUND_HALF_UP),
        "status": status, "cleared_on": cleared_on, "days_past_due": days_past_due, "term_days": term_days,
        "term_exceeds_max": exceeds, "daily_rate": daily_rate, "rate_agreed": rate_agreed,
        "interest": interest, "instalments": tuple(instalments),
        "overdue_instalments": overdue_instalments, "badges": tuple(badges), "timeline": tuple(timeline),
        "legal_due": legal_due, "due_base": due_base, "due_used": due_used, "due_moved": due_moved,
        "due_estimated": due_estimated, "disputed_amount": disputed_amount, "undisputed": undisputed,
        "wholly_disputed": wholly, "interest_state": interest_state, "status_note": status_note,
        "regulation": regulation, "regulation_source": regulation_source, "interest_article": interest_article,
        "term_article": term_article, "dispute_article": dispute_article, "settled_on": undisputed_cleared_on,
        "second_default": overdue_instalments > 0, "handler": handler,
        "changes": tuple([e for e in a.changes if e.date <= as_of]) if a.changes else (),
        "withdrawal": withdrawal if withdrawn else None,
    })


#: ArrearsFacts(**values) without a frozen dataclass's setattr per field (model.maker): 41 fields, 5,500 debts.
_arrears_facts = model.maker(ArrearsFacts)


@dataclass(frozen=True)
class CurvePoint:
    month: str  # YYYY-MM
    owed: Decimal  # cumulative amount entered in the ledger by the month's end
    repaid: Decimal  # cumulative repayments
    outstanding: Decimal


def clearing_curve(items: Iterable[ArrearsFacts], as_of: date) -> tuple[CurvePoint, ...]:
    """The district's monthly clearing curve.

    A debt counts as owed from the month it entered the ledger (found_on); a
    repayment counts in its month, or in the debt's ledger month if it was paid
    earlier, so that outstanding never dips below zero. A withdrawn debt (entered in
    error: a duplicate, not arrears) counts as it was published until the month of its
    withdrawal and leaves the curve then, so the curve ends at the totals without
    rewriting the months readers already saw.
    """
    owed_by_month: dict[str, Decimal] = defaultdict(Decimal)
    repaid_by_month: dict[str, Decimal] = defaultdict(Decimal)
    names: dict[int, str] = {}  # a month's "YYYY-MM", made once (strftime per payment: 15,000 at 10,000 records)

    def month_of(day: date) -> str:
        number = day.year * 12 + day.month
        name = names.get(number)
        if name is None:
            name = names[number] = day.strftime("%Y-%m")
        return name

    for f in items:
        start = f.record.found_on
        if start > as_of:
            continue
        owed_by_month[month_of(start)] += f.record.amount
        for r in f.repayments:
            repaid_by_month[month_of(max(r.paid_on, start))] += r.amount
        if f.withdrawal is not None:
            gone = max(f.withdrawal.date, start)
            owed_by_month[month_of(gone)] -= f.record.amount
            for r in f.repayments:
                repaid_by_month[month_of(max(r.paid_on, gone))] -= r.amount
    if not owed_by_month:
        return ()
    first = min(owed_by_month)
    # months counted as integers (year * 12 + month - 1): comparing "YYYY-MM" strings never
    # ends once the year has five digits ("10000-01" < "9999-12")
    index, last = int(first[:4]) * 12 + int(first[5:7]) - 1, as_of.year * 12 + as_of.month - 1
    points, owed, repaid = [], ZERO, ZERO
    while index <= last:
        month = f"{index // 12:04d}-{index % 12 + 1:02d}"
        owed += owed_by_month.get(month, ZERO)
        repaid += repaid_by_month.get(month, ZERO)
        points.append(CurvePoint(month, owed, repaid, owed - repaid))
        index += 1
    return tuple(points)


@dataclass(frozen=True)
class AnnualNotice:
    """The statutory notice a department publishes by 31 March (SME payment regulation: art. 16 of order 728, art. 18 of order 802)."""

    department: str
    department_name: str
    year: int  # the year reported on
    publish_by: date
    count: int
    amount: Decimal  # outstanding at the end of `year` on contracts overdue by then
    items: tuple[str, ...]  # arrears ids, for the reader who wants to check
    regulation: str = ""  # the version of the regulation in force on publish_by, with its article


def annual_notices(items: tuple[ArrearsFacts, ...], departments: tuple[model.Department, ...],
                   as_of: date, rules: model.PaymentRules, site_rules: model.Rules | None = None) -> tuple[AnnualNotice, ...]:
    """One notice per department and per year the ledger covers whose deadline has come.

    A contract counts for year Y when it was due by 31 December Y and still
    (partly) unpaid at the end of that day; the amount is what was then outstanding.
    A debt withdrawn by that day was no longer owed and does not count.
    """
    if not items:
        return ()
    month, day = rules.annual_notice_due
    first = min(f.due_used.year for f in items)
    years = range(first, as_of.year)
    # Debt by debt, the years it counts for, in order: from the year it fell due (due_used by
    # 31 December) to the year before its withdrawal (a debt withdrawn by 31 December is not
    # counted for that year). Each year's entries are then in the debts' order, as when the
    # debts were scanned year by year (5,500 debts times the years since the oldest, before).
    per_year: list[dict[str, list[tuple[str, Decimal]]]] = [defaultdict(list) for _ in years]
    year_ends = [date(year, 12, 31) for year in years]
    for f in items:
        a = f.record
        # overdue from the date used (legal maximum, rest days), on the undisputed part only
        if a.found_on > as_of or f.wholly_disputed:
            continue
        stop = len(years) if f.withdrawal is None else min(len(years), f.withdrawal.date.year - first)
        repayments, undisputed = f.repayments, f.undisputed
        unpaid = None if repayments else min(a.amount - ZERO, undisputed)  # the same every year
        # Payments in date order (as the ledger keeps them): those made by a year's end are the
        # first ones, and their sum that of the year before plus the next ones, added in the same
        # order as summing them afresh adds them.
        ordered = all(r.paid_on <= s.paid_on for r, s in zip(repayments, repayments[1:]))
        paid, counted = ZERO, 0
        for k in range(f.due_used.year - first, stop):
            if repayments:
                year_end = year_ends[k]
                if ordered:
                    while counted < len(repayments) and repayments[counted].paid_on <= year_end:
                        paid += repayments[counted].amount
                        counted += 1
                    unpaid = min(a.amount - paid, undisputed)
                    if counted == len(repayments) and unpaid <= 0:
                        break  # every payment counted: the later years' unpaid part is this one too
                else:
                    unpaid = min(a.amount - sum((r.amount for r in repayments if r.paid_on <= year_end), ZERO), undisputed)
            if unpaid > 0:
                per_year[k][a.debtor].append((a.id, unpaid))
    notices = []
    for year, per_dept in zip(years, per_year):
        publish_by = date(year + 1, month, day)
        regime = site_rules.payment_regime_on(publish_by) if site_rules else None
        regulation = regime.cite("notice") if regime else rules.regulation
        for d in departments:
            rows = per_dept.get(d.id, [])
            notices.append(AnnualNotice(d.id, d.name, year, publish_by, len(rows), sum((v for _, v in rows), ZERO),
                                        tuple(i for i, _ in rows), regulation))
    return tuple(notices)


# --- findings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionFacts:
    objection: model.Objection
    reply_due: date
    overdue: bool  # undecided past its reply deadline, or decided after it
    reply_due_estimated: bool  # the deadline falls in a year no holiday schedule covers yet


@dataclass(frozen=True)
class FindingFacts:
    record: model.Finding
    subject_name: str
    regime: str  # the rule the display period follows: a disclosure regime, or the sanction rule
    regime_source: str  # its full citation
    disclosure_end: date  # last day on display
    disclosure_end_overridden: bool
    repair_from: date | None  # None: a civil servant's sanction ends by itself (no repair)
    publication_delay: int | None  # working days from the decision to publication on this site
    upload_due: date  # last day for the deciding authority to upload a serious finding
    upload_due_estimated: bool  # upload_due (or the count to the upload) falls in a year no schedule covers
    upload_delay: int | None  # working days from the decision to the upload; None: upload date unknown
    upload_state: str | None  # 按期上传 | 逾期上传 | 上传日期未登记 | None (not a serious finding)
    upload_late: bool  # uploaded after upload_due (the deciding authority is late)
    objection_state: str  # 无异议 | 异议处理中 | 维持 | 更正 | 撤销
    objections: tuple[ObjectionFacts, ...]
    on_display: bool
    hidden_reason: str | None  # 未公示 | 公示期届满 | 已撤销 | 已修复
    badges: tuple[Badge, ...]
    timeline: tuple[Event, ...]
    estimated: bool  # some working-day date here falls in a year no holiday schedule covers yet
    rectification_overdue: bool = False  # serious finding not rectified by its due date (实施意见五（二）)
    # The deciding authority (认定机关) when it is a registered department (matched by name):
    # it decides objections to its finding; None sends readers to the site's publisher.
    handler: model.Department | None = None
    # Correction notes as of the as-of date, on display only: a finding the law takes down
    # (revoked, repaired, past its period) takes its notes with it.
    changes: tuple[model.ChangeEntry, ...] = ()


def finding_period(f: model.Finding, rules: model.Rules) -> tuple[str, str, date, date | None]:
    """(rule name, citation, last day on display, repair-from date) for a finding.

    A civil servant's finding with a 政务处分 that has a period is shown for that period
    (公职人员政务处分法 第八条), which ends by itself; everything else follows the disclosure
    regime in force on the decision date. Months count per 民法典 201/202 (model.period_end).
    """
    decided = f.decision_decided_on
    sanctions = rules.sanctions
    if (f.subject_kind == "公务员" and f.sanction and sanctions is not None and f.sanction in sanctions.months
            and decided >= sanctions.effective_from):
        return (f"政务处分期间（{f.sanction} {sanctions.months[f.sanction]} 个月）", sanctions.source,
                model.period_end(decided, sanctions.months[f.sanction]), None)
    regime = rules.regime_on(decided)
    assert regime is not None  # the validator guarantees a regime for every decision
    return regime.name, regime.source, regime.last_day(decided, f.severity), regime.repair_from(decided, f.severity)


def derive_finding(f: model.Finding, as_of: date, names: dict[str, str], site: model.Site, calendar,
                   handler: model.Department | None = None) -> FindingFacts:
    rules = site.rules
    decided = f.decision_decided_on
    rule_name, rule_source, rule_end, repair_from = finding_period(f, rules)
    overridden = f.disclosure_until is not None
    end = f.disclosure_until if overridden else rule_end
    delay = calendar.workdays_between(decided, f.published_on) if f.published_on else None
    upload_due = calendar.add_workdays(decided, rules.serious_publish_workdays)
    upload_delay = calendar.workdays_between(decided, f.uploaded_on) if f.uploaded_on and f.uploaded_on <= as_of else None
    serious = f.severity == "严重"
    late = serious and upload_delay is not None and upload_delay > rules.serious_publish_workdays
    if not serious:
        upload_state = None
    elif upload_delay is None:
        upload_state = "上传日期未登记"
    else:
        upload_state = "逾期上传" if late else "按期上传"
    upload_estimated = serious and calendar.estimated(decided, max(upload_due, f.uploaded_on or upload_due))

    objections = []
    for o in f.objections:
        due = calendar.add_workdays(o.filed_on, rules.objection_reply_workdays)
        overdue = (o.decided_on > due) if o.decided_on else as_of > due
        objections.append(ObjectionFacts(o, due, overdue, calendar.estimated(o.filed_on, due)))
    decided_objections = [o for o in f.objections if o.decided_on and o.decided_on <= as_of]
    pending = [o for o in f.objections if not o.decided_on or o.decided_on > as_of]
    revoked = any(o.outcome == "撤销" for o in decided_objections)
    repaired = f.repair_outcome == "准予修复" and f.repair_decided_on is not None and f.repair_decided_on <= as_of
    if revoked:
        state = "撤销"
    elif pending:
        state = "异议处理中"
    elif decided_objections:
        state = decided_objections[-1].outcome or "无异议"
    else:
        state = "无异议"

    if revoked:
        hidden = "已撤销"
    elif repaired:
        hidden = "已修复"
    elif f.published_on is None or f.published_on > as_of:
        hidden = "未公示"
    elif as_of > end:
        hidden = "公示期届满"
    else:
        hidden = None

    badges = [Badge(f.severity, {"严重": "bad", "一般": "warn", "轻微": "muted"}[f.severity])]
    if late:
        badges.append(Badge(f"{f.decision_authority}逾期上传（认定后第 {upload_delay} 个工作日）", "bad"))
    if state == "异议处理中":
        badges.append(Badge("异议处理中", "warn"))
    elif state == "更正":
        badges.append(Badge("已更正", "muted"))
    done = f.rectification_done_on if f.rectification_done_on and f.rectification_done_on <= as_of else None
    rect_overdue = (serious and f.rectification_due is not None
                    and ((done is None and as_of > f.rectification_due) or (done is not None and done > f.rectification_due)))
    if rect_overdue:
        badges.append(Badge("整改逾期", "bad"))
    if any(o.overdue for o in objections if not o.objection.decided_on):
        badges.append(Badge("异议答复逾期", "bad"))

    timeline = [Event(decided, "作出认定", f"{f.decision_authority} {f.decision_doc_no}")]
    if f.uploaded_on:
        timeline.append(Event(f.uploaded_on, "上传信用信息平台", f"认定后第 {upload_delay} 个工作日" if upload_delay is not None else ""))
    if f.published_on:
        timeline.append(Event(f.published_on, "本站公示", f"认定后第 {delay} 个工作日" if delay is not None else ""))
    for o in objections:
        timeline.append(Event(o.objection.filed_on, "提出异议", o.objection.summary))
        if o.objection.decided_on:
            timeline.append(Event(o.objection.decided_on, f"异议处理：{o.objection.outcome}", ""))
    if f.rectification_done_on:
        timeline.append(Event(f.rectification_done_on, "整改完成", ""))
    if f.repair_applied_on:
        timeline.append(Event(f.repair_applied_on, "申请信用修复", ""))
    if f.repair_decided_on:
        timeline.append(Event(f.repair_decided_on, f"信用修复：{f.repair_outcome}", ""))
    return FindingFacts(
        handler=handler,
        record=f, subject_name=names.get(f.subject, f.subject), regime=rule_name, regime_source=rule_source, disclosure_end=end,
        disclosure_end_overridden=overridden, repair_from=repair_from, publication_delay=delay,
        upload_due=upload_due, upload_due_estimated=upload_estimated, upload_delay=upload_delay, upload_state=upload_state, upload_late=late,
        objection_state=state, objections=tuple(objections),
        on_display=hidden is None, hidden_reason=hidden, badges=tuple(badges),
        timeline=tuple(sorted((e for e in timeline if e.date <= as_of), key=lambda e: e.date)),
        estimated=upload_estimated or any(o.reply_due_estimated for o in objections),
        rectification_overdue=rect_overdue,
        changes=tuple(e for e in f.changes if e.date <= as_of) if hidden is None else (),
    )


# --- evaluations ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationFacts:
    record: model.Evaluation
    department_name: str
    rank: int  # within its year and method; equal scores share a rank (1, 2, 2, 4)
    of: int
    change: Decimal | None  # score change against the previous year, same method


def derive_evaluations(evals: tuple[model.Evaluation, ...], names: dict[str, str]) -> tuple[EvaluationFacts, ...]:
    groups: dict[tuple[int, str], list[model.Evaluation]] = defaultdict(list)
    for e in evals:
        groups[(e.year, e.method)].append(e)
    scores = {(e.year, e.method, e.department): e.score for e in evals}
    out = []
    for (year, method), group in sorted(groups.items()):
        ordered = sorted(group, key=lambda e: (-e.score, e.department))
        first_at: dict[Decimal, int] = {}  # a score's first place in the order: 1 + how many scored higher
        for i, e in enumerate(ordered):
            first_at.setdefault(e.score, i + 1)
        for e in ordered:
            rank = first_at[e.score]
            prev = scores.get((year - 1, method, e.department))
            out.append(EvaluationFacts(e, names.get(e.department, e.department), rank, len(group),
                                       e.score - prev if prev is not None else None))
    return tuple(out)


# --- departments and the whole site -----------------------------------------------------


@dataclass(frozen=True)
class Totals:
    count: int
    owed: Decimal
    repaid: Decimal
    outstanding: Decimal
    interest: Decimal

    @property
    def share_cleared(self) -> Decimal:
        return (self.repaid / self.owed).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if self.owed else ZERO


def arrears_totals(items: Iterable[ArrearsFacts]) -> Totals:
    """Sums of the rows themselves, so a page's totals add up to the cent with its rows (withdrawn items left out)."""
    items = [f for f in items if f.status != "已撤回"]
    return Totals(len(items), sum((f.record.amount for f in items), ZERO), sum((f.repaid for f in items), ZERO),
                  sum((f.outstanding for f in items), ZERO), sum((f.interest for f in items), ZERO))


@dataclass(frozen=True)
class TaskFacts:
    record: model.Task
    lead_names: tuple[str, ...]
    partner_names: tuple[str, ...]
    responsible_names: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentFacts:
    department: model.Department
    commitments: tuple[CommitmentFacts, ...]
    commitment_counts: tuple[tuple[str, int], ...]  # status → count, in the schema's order
    overdue_commitments: int
    arrears: tuple[ArrearsFacts, ...]
    arrears_totals: Totals
    findings: tuple[FindingFacts, ...]  # on display only
    evaluations: tuple[EvaluationFacts, ...]  # oldest first
    tasks_lead: tuple[TaskFacts, ...]
    tasks_partner: tuple[TaskFacts, ...]  # named as partner or responsible, or covered by a group token
    notices: tuple[AnnualNotice, ...]  # newest first


@dataclass(frozen=True)
class HiddenFindings:
    """What left public view, as anonymous counts only."""

    expired: int
    revoked: int
    repaired: int
    unpublished: int


@dataclass(frozen=True)
class Summary:
    commitments: int
    commitments_by_status: tuple[tuple[str, int], ...]
    commitments_kept: int
    commitments_overdue: int
    second_defaults: int  # commitments with a late rectification step + arrears with a missed instalment
    second_defaults_arrears: int
    second_defaults_commitments: int
    rectifications_overdue: int  # serious findings on display not rectified in time
    arrears: Totals
    arrears_by_status: tuple[tuple[str, int], ...]
    findings_on_display: int
    findings_by_severity: tuple[tuple[str, int], ...]
    late_uploads: int  # serious findings on display uploaded late by the deciding authority
    latest_evaluation_year: int | None
    latest_grades: tuple[tuple[str, int], ...]
    tasks_by_status: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Facts:
    """Everything the renderer needs; findings not on display are already gone."""

    as_of: date
    site: model.Site
    departments: tuple[DepartmentFacts, ...]
    department_names: dict[str, str]
    tasks: tuple[TaskFacts, ...]
    commitments: tuple[CommitmentFacts, ...]
    arrears: tuple[ArrearsFacts, ...]
    arrears_totals: Totals
    curve: tuple[CurvePoint, ...]
    notices: tuple[AnnualNotice, ...]
    findings: tuple[FindingFacts, ...]
    hidden_findings: HiddenFindings
    evaluations: tuple[EvaluationFacts, ...]
    summary: Summary
    changes: tuple[Change, ...]  # newest first
    calendar: object = None  # the working-day calendar (workdays.WorkdayCalendar) the deadlines were computed on
    drift: tuple["DriftEntry", ...] = ()  # changes of a deadline or an amount after publication, newest first


@dataclass(frozen=True)
class DriftEntry:
    """A published deadline or amount changed: one change-log entry of a commitment or an arrears item."""

    record_kind: str  # commitments | arrears
    record_id: str
    title: str
    department_name: str
    entry: model.ChangeEntry


COMMITMENT_STATUSES = ("履行中", "已兑现", "部分兑现", "未兑现", "依法变更", "已终止", "已撤回")
ARREARS_STATUSES = ("未清偿", "部分清偿", "已清偿", "已撤回")
#: Change-log fields whose change readers most need to see (the 期限与金额变更 page and the feed).
DRIFT_FIELDS = {"commitments": ("deadline",), "arrears": ("amount", "due_on", "plan")}
SEVERITIES = ("严重", "一般", "轻微")
GRADES = ("优秀", "良好", "合格", "不合格")
TASK_STATUSES = ("未启动", "推进中", "已完成", "常态化")


def _counts(values: Iterable[str], order: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    counter = Counter(values)
    return tuple((k, counter.get(k, 0)) for k in order)


def _covered_by_token(token: str, dept: model.Department, rules: model.Rules | None = None) -> bool:
    """Whether a group token of the policy (区直各部门, 各街道办事处) covers a department, by its kind.

    区直各部门 means the district government's departments: not the Party's organs (the
    纪委监委 among them), not the court, not units stationed here by the city (rules.group_tokens)."""
    if rules is not None:
        return rules.token_covers(token, dept.kind)
    return dept.kind in model.DEFAULT_GROUP_KINDS.get(token, ())


def _drift(commitments, arrears, as_of: date) -> tuple[DriftEntry, ...]:
    out = []
    for c in commitments:
        for e in c.changes:  # already cut at the as-of date
            if set(e.fields) & set(DRIFT_FIELDS["commitments"]):
                out.append(DriftEntry("commitments", c.record.id, c.record.title, c.department_name, e))
    for a in arrears:
        for e in a.changes:
            if set(e.fields) & set(DRIFT_FIELDS["arrears"]):
                out.append(DriftEntry("arrears", a.record.id, a.record.project, a.debtor_name, e))
    return tuple(sorted(out, key=lambda d: (d.entry.date, d.record_id, d.entry.what), reverse=True))


def _changes(commitments, arrears, findings, as_of: date, drift: tuple[DriftEntry, ...] = ()) -> tuple[Change, ...]:
    out: list[Change] = []
    for c in commitments:
        r = c.record
        out.append(Change(r.promised_on, "new", r.id, "commitments", r.title, f"{c.department_name}作出承诺"))
        if r.fulfilled_on:
            out.append(Change(r.fulfilled_on, "status", r.id, "commitments", r.title, "状态：已兑现"))
        if r.change_decided_on:
            out.append(Change(r.change_decided_on, "status", r.id, "commitments", r.title, f"状态：{r.status if r.status == '已终止' else '依法变更'}"))
        for n in r.progress:
            out.append(Change(n.date, "progress", r.id, "commitments", r.title, n.note))
        if r.withdrawal:
            out.append(Change(r.withdrawal.date, "withdrawn", r.id, "commitments", r.title, f"撤回：{r.withdrawal.reason}"))
    for a in arrears:
        r = a.record
        out.append(Change(r.found_on, "new", r.id, "arrears", r.project, f"{a.debtor_name}拖欠账款纳入台账"))
        for p in a.repayments:
            text = "全部清偿" if a.cleared_on == p.paid_on else "部分清偿"
            out.append(Change(p.paid_on, "repayment", r.id, "arrears", r.project, f"{a.debtor_name}{text}"))
        if r.withdrawal:
            out.append(Change(r.withdrawal.date, "withdrawn", r.id, "arrears", r.project, f"撤回：{r.withdrawal.reason}"))
    for f in findings:  # on display only
        r = f.record
        if r.published_on:
            out.append(Change(r.published_on, "new", r.id, "findings", f"{f.subject_name}{r.category}", "公示失信记录"))
        for o in f.objections:
            if o.objection.decided_on:
                out.append(Change(o.objection.decided_on, "status", r.id, "findings", f"{f.subject_name}{r.category}",
                                  f"异议处理结果：{o.objection.outcome}"))
    for d in drift:
        out.append(Change(d.entry.date, "drift", d.record_id, d.record_kind, d.title,
                          f"{'、'.join(d.entry.field_titles)}变更：{d.entry.what}（原因：{d.entry.reason}）"))
    out = [c for c in out if c.date <= as_of]
    # Newest first; ties in a stable order so that two builds give the same bytes. (attrgetter
    # makes the same key tuples in C: 25,000 changes at 10,000 records.)
    return tuple(sorted(out, key=_CHANGE_ORDER, reverse=True))


_CHANGE_ORDER = attrgetter("date", "record_id", "kind", "text")



def _grouped(items, key) -> dict:
    """{key: tuple of the items with that key, in their order}."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return {k: tuple(v) for k, v in groups.items()}

def derive(dataset: model.Dataset, as_of: date) -> Facts:
    """The facts of `dataset` as of `as_of` (see the module docstring)."""
    # Hundreds of thousands of facts, events and badges, none of them in a reference cycle and
    # all alive until the site is written: the cyclic garbage collector would scan them (and the
    # dataset) again and again, full collections among them, for nothing (as in validate).
    with collector.paused():
        return _derive(dataset, as_of)


def _derive(dataset: model.Dataset, as_of: date) -> Facts:
    site = dataset.site
    names = {d.id: d.name for d in dataset.departments}
    names.update({t: t for t in GROUP_TOKENS})
    by_id = {d.id: d for d in dataset.departments}
    by_name = {d.name: d for d in dataset.departments}
    # each record's facts made once, with who answers for it (not made, then copied by replace():
    # a frozen dataclass of 40 fields, 100,000 times)
    commitments = tuple(derive_commitment(c, as_of, names, by_id.get(c.department))
                        for c in dataset.commitments if c.promised_on <= as_of)
    arrears = tuple(derive_arrears(a, as_of, names, site.rules.payment, dataset.calendar, site.rules, by_id.get(a.debtor))
                    for a in dataset.arrears if a.found_on <= as_of)
    all_findings = tuple(derive_finding(f, as_of, names, site, dataset.calendar,
                                        by_name.get(" ".join(f.decision_authority.split())))
                         for f in dataset.findings)
    reasons = Counter(f.hidden_reason for f in all_findings)
    hidden = HiddenFindings(reasons["公示期届满"], reasons["已撤销"], reasons["已修复"], reasons["未公示"])
    # From here on only findings on display exist: nothing downstream can leak the others.
    findings = tuple(f for f in all_findings if f.on_display)
    del all_findings
    evaluations = derive_evaluations(tuple(e for e in dataset.evaluations if e.published_on <= as_of), names)
    tasks = tuple(
        TaskFacts(t, *(tuple(names.get(u.unit, u.unit) for u in t.units if u.role == role) for role in ("牵头", "配合", "责任")))
        for t in dataset.tasks
    )
    notices = annual_notices(arrears, dataset.departments, as_of, site.rules.payment, site.rules)

    # Each department's records, in the order above; grouped once (a scan per department
    # is quadratic: larger areas have more departments).
    by_department = _grouped(commitments, lambda c: c.record.department)
    by_debtor = _grouped(arrears, lambda a: a.record.debtor)
    by_subject = _grouped(findings, lambda f: f.record.subject)
    evaluations_of = _grouped(evaluations, lambda e: e.record.department)
    notices_of = _grouped(notices, lambda n: n.department)
    departments = []
    for d in dataset.departments:
        mine = by_department.get(d.id, ())
        debts = by_debtor.get(d.id, ())
        lead = tuple(t for t in tasks if any(u.unit == d.id and u.role == "牵头" for u in t.record.units))
        partner = tuple(t for t in tasks if t not in lead and any(
            (u.unit == d.id) or (u.unit in GROUP_TOKENS and _covered_by_token(u.unit, d, site.rules)) for u in t.record.units))
        departments.append(DepartmentFacts(
            department=d, commitments=mine, commitment_counts=_counts((c.record.status for c in mine), COMMITMENT_STATUSES),
            overdue_commitments=sum(c.overdue for c in mine), arrears=debts, arrears_totals=arrears_totals(debts),
            findings=by_subject.get(d.id, ()),
            evaluations=tuple(sorted(evaluations_of.get(d.id, ()), key=lambda e: (e.record.year, e.record.method))),
            tasks_lead=lead, tasks_partner=partner,
            notices=tuple(sorted(notices_of.get(d.id, ()), key=lambda n: -n.year)),
        ))

    drift = _drift(commitments, arrears, as_of)
    latest_year = max((e.record.year for e in evaluations), default=None)
    summary = Summary(
        commitments=len(commitments),
        commitments_by_status=_counts((c.record.status for c in commitments), COMMITMENT_STATUSES),
        commitments_kept=sum(c.record.status == "已兑现" for c in commitments),
        commitments_overdue=sum(c.overdue for c in commitments),
        second_defaults=sum(c.second_default for c in commitments) + sum(a.second_default for a in arrears),
        second_defaults_arrears=sum(a.second_default for a in arrears),
        second_defaults_commitments=sum(c.second_default for c in commitments),
        rectifications_overdue=sum(f.rectification_overdue for f in findings),
        arrears=arrears_totals(arrears),
        arrears_by_status=_counts((a.status for a in arrears), ARREARS_STATUSES),
        findings_on_display=len(findings),
        findings_by_severity=_counts((f.record.severity for f in findings), SEVERITIES),
        late_uploads=sum(f.upload_late for f in findings),
        latest_evaluation_year=latest_year,
        latest_grades=_counts((e.record.grade for e in evaluations if e.record.year == latest_year), GRADES),
        tasks_by_status=_counts((t.record.status for t in tasks), TASK_STATUSES),
    )
    return Facts(
        as_of=as_of, site=site, departments=tuple(departments), department_names=names, tasks=tasks,
        commitments=commitments, arrears=arrears, arrears_totals=summary.arrears, curve=clearing_curve(arrears, as_of),
        notices=notices, findings=findings, hidden_findings=hidden, evaluations=evaluations, summary=summary,
        changes=_changes(commitments, arrears, findings, as_of, drift), calendar=dataset.calendar, drift=drift,
    )
