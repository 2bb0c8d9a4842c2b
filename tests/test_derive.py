"""Derived facts at their edges: dates, working days, money and the legal display rules."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from generator import model
from generator.derive import (
    annual_notices, arrears_totals, cents, clearing_curve, derive, derive_arrears, derive_commitment, derive_finding, late_interest, mask_name,
    today,
)
from generator.load import load
from generator.validate import validate
from tests.conftest import DEMO_DATA


def replace(record, **changes):
    """A changed copy of a record: dataclasses.replace, or a named tuple's _replace (model.ArrearsItem)."""
    return record._replace(**changes) if isinstance(record, tuple) else dataclasses.replace(record, **changes)

DEMO = validate(load(DEMO_DATA)).dataset
SITE = DEMO.site
CAL = DEMO.calendar
NAMES = {d.id: d.name for d in DEMO.departments}
D = date.fromisoformat


# --- as-of date ---------------------------------------------------------------------------

@pytest.mark.parametrize("utc, beijing", [
    ("2026-11-25T23:30:00+00:00", "2026-11-26"),  # CI at 23:30 UTC: already tomorrow in Beijing
    ("2026-11-25T15:59:59+00:00", "2026-11-25"),
    ("2026-11-25T16:00:00+00:00", "2026-11-26"),
    ("2026-12-31T16:00:00+00:00", "2027-01-01"),
])
def test_today_is_computed_in_beijing(utc: str, beijing: str):
    assert today("Asia/Shanghai", datetime.fromisoformat(utc)) == D(beijing)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        today("Asia/Shanghai", datetime(2026, 1, 1))


# --- findings -----------------------------------------------------------------------------

def finding(**changes) -> model.Finding:
    base = model.Finding(
        id="DF-2025-101", subject="fgj", subject_kind="政府机构", person=None, severity="一般", category="拖欠账款",
        summary="测试", decision_authority="区发改局", decision_doc_no="站发改〔2025〕1号", decision_decided_on=D("2024-04-15"),
        decision_basis="测试", published_on=D("2024-04-18"), disclosure_until=None, measures=None,
        rectification_due=None, rectification_done_on=None, repair_applied_on=None, repair_decided_on=None,
        repair_outcome=None, related=(), objections=(), file="findings/DF-2025-101.yaml")
    return replace(base, **changes)


def shown(f: model.Finding, as_of: str) -> tuple[bool, str | None]:
    facts = derive_finding(f, D(as_of), NAMES, SITE, CAL)
    return facts.on_display, facts.hidden_reason


@pytest.mark.parametrize("as_of, expected", [
    ("2024-04-17", (False, "未公示")),        # decided, not yet published
    ("2024-04-18", (True, None)),             # the day of publication
    # 民法典 201/202: decided 2024-04-15 (order 58: at most 3 years), 36 months run from 04-16
    # and end on the corresponding day.
    ("2027-04-15", (True, None)),             # the last day of the 36-month period: still shown
    ("2027-04-16", (False, "公示期届满")),     # the day after: gone
])
def test_disclosure_period_edges(as_of: str, expected):
    assert shown(finding(), as_of) == expected


@pytest.mark.parametrize("decided, months, last", [
    ("2024-04-15", 12, "2025-04-15"),
    ("2024-01-31", 1, "2024-02-29"),   # no corresponding day: the month's last day (202)
    ("2023-01-31", 1, "2023-02-28"),
    ("2024-08-31", 6, "2025-02-28"),
    ("2024-12-31", 3, "2025-03-31"),
])
def test_month_periods_follow_the_civil_code(decided, months, last):
    assert model.period_end(D(decided), months) == D(last)


# Each regime at its edges: the last decision day before it and its first day.
# 527: general 3 months – 1 year, serious 6 months – 3 years. Order 58: every published penalty
# 3 months – 3 years, no general/serious split. Order 36: general 3 months – 1 year, serious 1 – 3 years.
@pytest.mark.parametrize("severity, decided, regime, repair_from, end", [
    ("严重", "2023-04-30", "发改办财金〔2019〕527号", "2023-10-31", "2026-04-30"),
    ("严重", "2023-05-01", "国家发展改革委令第58号", "2023-08-02", "2026-05-01"),
    ("严重", "2026-03-31", "国家发展改革委令第58号", "2026-07-01", "2029-03-31"),
    ("严重", "2026-04-01", "国办发〔2025〕22号、国家发展改革委令第36号", "2027-04-02", "2029-04-01"),
    ("一般", "2023-04-30", "发改办财金〔2019〕527号", "2023-07-31", "2024-04-30"),
    ("一般", "2023-05-01", "国家发展改革委令第58号", "2023-08-02", "2026-05-01"),
    ("一般", "2026-03-31", "国家发展改革委令第58号", "2026-07-01", "2029-03-31"),
    ("一般", "2026-04-01", "国办发〔2025〕22号、国家发展改革委令第36号", "2026-07-02", "2027-04-01"),
])
def test_finding_regime_edges(severity, decided, regime, repair_from, end):
    facts = derive_finding(finding(severity=severity, decision_decided_on=D(decided), published_on=D(decided)),
                           D(decided), NAMES, SITE, CAL)
    assert facts.regime == regime
    assert facts.repair_from == D(repair_from) and facts.disclosure_end == D(end)
    assert facts.regime_source  # every regime carries its citation


@pytest.mark.parametrize("as_of, shown_expected", [("2026-05-01", True), ("2026-05-02", False)])
def test_order_58_maximum_ends_display_after_three_years(as_of, shown_expected):
    f = finding(severity="一般", decision_decided_on=D("2023-05-01"), published_on=D("2023-05-05"))
    assert shown(f, as_of)[0] is shown_expected


def test_demo_repair_of_DF_2024_002_respects_order_58():
    f = next(f for f in DEMO.findings if f.id == "DF-2024-002")
    facts = derive_finding(f, D("2026-11-26"), NAMES, SITE, CAL)
    assert facts.regime == "国家发展改革委令第58号" and facts.repair_from == D("2024-09-21")
    assert f.repair_applied_on >= facts.repair_from


def test_demo_general_finding_of_2024_is_shown_for_three_years_under_order_58():
    f = next(f for f in DEMO.findings if f.id == "DF-2024-001")
    facts = derive_finding(f, D("2026-11-30"), NAMES, SITE, CAL)
    assert facts.regime == "国家发展改革委令第58号" and facts.disclosure_end == D("2027-04-12")


@pytest.mark.parametrize("sanction, last", [("警告", "2026-06-10"), ("记过", "2026-12-10"), ("记大过", "2027-06-10"),
                                            ("降级", "2027-12-10"), ("撤职", "2027-12-10")])
def test_civil_servant_sanction_period_follows_article_8(sanction, last):
    f = finding(subject_kind="公务员", person="张某", sanction=sanction, decision_decided_on=D("2025-12-10"),
                published_on=D("2025-12-16"))
    facts = derive_finding(f, D("2025-12-20"), NAMES, SITE, CAL)
    assert facts.disclosure_end == D(last) and facts.repair_from is None
    assert "政务处分" in facts.regime and "第八条" in facts.regime_source
    assert shown(f, last) == (True, None)
    assert shown(f, str(D(last) + (D("2000-01-02") - D("2000-01-01")))) == (False, "公示期届满")


def test_civil_servant_warning_in_the_demo_is_shown_six_months():
    f = next(f for f in DEMO.findings if f.id == "DF-2025-003")
    assert f.sanction == "警告"
    assert shown(f, "2026-06-10") == (True, None) and shown(f, "2026-06-11") == (False, "公示期届满")


def test_override_ends_display_early():
    f = finding(disclosure_until=D("2024-08-31"))
    assert shown(f, "2024-08-31") == (True, None)
    assert shown(f, "2024-09-01") == (False, "公示期届满")


def test_revoked_after_objection_disappears_only_once_decided():
    objection = model.Objection(D("2024-05-06"), "认定事实有误", D("2024-05-20"), "撤销")
    f = finding(objections=(objection,))
    assert shown(f, "2024-05-19")[0] is True
    facts = derive_finding(f, D("2024-05-19"), NAMES, SITE, CAL)
    assert facts.objection_state == "异议处理中"
    assert shown(f, "2024-05-20") == (False, "已撤销")


def test_maintained_objection_keeps_the_record():
    f = finding(objections=(model.Objection(D("2024-05-06"), "理由", D("2024-05-20"), "维持"),))
    facts = derive_finding(f, D("2024-06-01"), NAMES, SITE, CAL)
    assert facts.on_display and facts.objection_state == "维持"


def test_granted_repair_ends_display_refused_does_not():
    granted = finding(repair_applied_on=D("2024-08-01"), repair_decided_on=D("2024-08-10"), repair_outcome="准予修复")
    refused = replace(granted, repair_outcome="不予修复")
    assert shown(granted, "2024-08-09")[0] is True
    assert shown(granted, "2024-08-10") == (False, "已修复")
    assert shown(refused, "2024-08-10") == (True, None)


@pytest.mark.parametrize("uploaded, delay, late", [
    ("2025-10-13", 7, False),  # decided Fri 26 Sep 2025; 国庆 1–8 Oct; Sun 28 Sep and Sat 11 Oct are make-up days
    ("2025-10-14", 8, True),
    ("2025-09-30", 3, False),  # Sun 28 Sep (make-up day), Mon 29, Tue 30
])
def test_late_upload_counts_working_days_across_national_day(uploaded: str, delay: int, late: bool):
    # The event measured is the upload to the credit platform, not publication on this site.
    f = finding(severity="严重", decision_decided_on=D("2025-09-26"), published_on=D("2025-12-01"), uploaded_on=D(uploaded))
    facts = derive_finding(f, D("2025-12-01"), NAMES, SITE, CAL)
    assert facts.upload_delay == delay and facts.upload_late is late
    assert facts.upload_due == D("2025-10-13")
    assert facts.upload_state == ("逾期上传" if late else "按期上传")
    blamed = [b.label for b in facts.badges if "逾期上传" in b.label]
    assert blamed == ([f"区发改局逾期上传（认定后第 {delay} 个工作日）"] if late else [])


def test_unknown_upload_date_is_said_not_guessed():
    f = finding(severity="严重", decision_decided_on=D("2025-09-26"), published_on=D("2025-11-30"))
    facts = derive_finding(f, D("2025-12-01"), NAMES, SITE, CAL)
    assert facts.upload_state == "上传日期未登记" and facts.upload_delay is None and facts.upload_late is False


def test_general_finding_has_no_upload_duty():
    f = finding(decision_decided_on=D("2025-09-26"), published_on=D("2025-11-30"), uploaded_on=D("2025-11-30"))
    facts = derive_finding(f, D("2025-12-01"), NAMES, SITE, CAL)
    assert facts.upload_late is False and facts.upload_state is None


def test_objection_reply_deadline_across_spring_festival():
    # filed Fri 2025-01-24; 春节 holiday 28 Jan – 4 Feb; Sun 26 Jan and Sat 8 Feb are working days
    f = finding(decision_decided_on=D("2025-01-02"), published_on=D("2025-01-03"),
                objections=(model.Objection(D("2025-01-24"), "理由", None, None),))
    facts = derive_finding(f, D("2025-02-20"), NAMES, SITE, CAL)
    [objection] = facts.objections
    assert objection.reply_due == CAL.add_workdays(D("2025-01-24"), 15) == D("2025-02-20")
    assert objection.overdue is False
    later = derive_finding(f, D("2025-02-21"), NAMES, SITE, CAL)
    assert later.objections[0].overdue is True


def test_derive_drops_hidden_findings_and_keeps_only_counts():
    facts = derive(DEMO, D("2026-11-26"))
    ids = {f.record.id for f in facts.findings}
    # DF-2025-003: a civil servant's 警告, shown for its six-month sanction period (ended 2026-06-10).
    # DF-2024-001 (一般, decided 2024-04-12) is shown: order 58 publishes up to three years (to 2027-04-12).
    hidden = {"DF-2024-002", "DF-2025-001", "DF-2025-003", "DF-2026-004"}
    assert hidden.isdisjoint(ids) and "DF-2024-001" in ids
    assert facts.hidden_findings == type(facts.hidden_findings)(expired=1, revoked=1, repaired=1, unpublished=1)
    assert all(f.on_display for f in facts.findings)
    assert all(c.record_id not in hidden for c in facts.changes)
    for dept in facts.departments:
        assert all(f.on_display for f in dept.findings)


# --- commitments --------------------------------------------------------------------------

def commitment(**changes) -> model.Commitment:
    base = DEMO.commitments[0]
    return replace(base, **changes)


@pytest.mark.parametrize("status, deadline, fulfilled, as_of, overdue, days, fulfilment", [
    ("履行中", "2024-06-30", None, "2024-06-30", False, 0, None),   # due today: not yet overdue
    ("履行中", "2024-06-30", None, "2024-07-01", True, 1, None),
    ("未兑现", "2024-06-30", None, "2024-12-31", True, 184, None),
    ("已终止", "2024-06-30", None, "2024-12-31", False, 0, None),
    ("已兑现", "2024-06-30", "2024-06-30", "2024-12-31", False, 0, "按期兑现"),
    ("已兑现", "2024-06-30", "2024-07-03", "2024-12-31", False, 0, "逾期兑现"),
])
def test_commitment_overdue(status, deadline, fulfilled, as_of, overdue, days, fulfilment):
    c = commitment(status=status, deadline=D(deadline), fulfilled_on=D(fulfilled) if fulfilled else None,
                   promised_on=D("2024-01-01"), rectification=())
    facts = derive_commitment(c, D(as_of), NAMES)
    assert (facts.overdue, facts.days_overdue, facts.fulfilment) == (overdue, days, fulfilment)


def test_second_default_when_a_rectification_step_runs_late():
    steps = (model.RectificationStep("制定方案", D("2024-03-31"), D("2024-03-20")),
             model.RectificationStep("拨付资金", D("2024-06-30"), None))
    c = commitment(status="未兑现", rectification=steps, promised_on=D("2024-01-01"))
    assert derive_commitment(c, D("2024-06-30"), NAMES).second_default is False
    late = derive_commitment(c, D("2024-07-01"), NAMES)
    assert late.second_default is True and [s.overdue for s in late.steps] == [False, True]
    assert any(b.label == "二次失信" for b in late.badges)


def test_counterparty_masking():
    assert mask_name("营口某某机械有限公司") == "营口某某有限公司"
    assert mask_name("张三") == "张某某"


# --- arrears ------------------------------------------------------------------------------

PAY = SITE.rules.payment


def debt(amount="100000.00", due="2024-03-31", repayments=(), plan=(), rate=None) -> model.ArrearsItem:
    return replace(DEMO.arrears[0], amount=Decimal(amount), delivered_on=D("2024-03-01"), due_on=D(due),
                   found_on=D("2024-04-10"), repayments=tuple(repayments), plan=tuple(plan), agreed_daily_rate=rate)


def pay(day: str, amount: str) -> model.Repayment:
    return model.Repayment(D(day), Decimal(amount), None)


def test_status_and_sums():
    item = derive_arrears(debt(repayments=[pay("2024-05-01", "30000.00")]), D("2024-06-01"), NAMES, PAY)
    assert (item.repaid, item.outstanding, item.status) == (Decimal("30000.00"), Decimal("70000.00"), "部分清偿")
    assert item.share_cleared == Decimal("0.3000") and item.days_past_due == 62
    cleared = derive_arrears(debt(repayments=[pay("2024-05-01", "100000.00")]), D("2024-06-01"), NAMES, PAY)
    assert cleared.status == "已清偿" and cleared.cleared_on == D("2024-05-01") and cleared.days_past_due == 31
    assert derive_arrears(debt(), D("2024-06-01"), NAMES, PAY).status == "未清偿"


def test_repayments_after_the_as_of_date_do_not_count():
    item = derive_arrears(debt(repayments=[pay("2024-07-01", "100000.00")]), D("2024-06-01"), NAMES, PAY)
    assert item.status == "未清偿" and item.repayments == ()


def test_late_interest_default_and_agreed_rate():
    # 100,000 unpaid 10 days past due at 0.05 % a day = 500.00
    assert late_interest(debt(), (), D("2024-04-10"), Decimal("0.05")) == Decimal("500.00")
    # 40,000 paid 5 days late, 60,000 still unpaid after 10 days, at an agreed 0.03 %
    item = debt(repayments=[pay("2024-04-05", "40000.00")], rate=Decimal("0.03"))
    facts = derive_arrears(item, D("2024-04-10"), NAMES, PAY)
    assert facts.interest == Decimal("60.00") + Decimal("180.00") and facts.rate_agreed


def test_payment_on_the_due_date_bears_no_interest():
    assert late_interest(debt(), [pay("2024-03-31", "100000.00")], D("2024-12-31"), Decimal("0.05")) == 0


def test_overdue_instalments_and_shortfall():
    plan = [model.Instalment(D("2024-05-31"), Decimal("50000.00")), model.Instalment(D("2024-08-31"), Decimal("50000.00"))]
    item = derive_arrears(debt(plan=plan, repayments=[pay("2024-05-30", "30000.00")]), D("2024-09-10"), NAMES, PAY)
    first, second = item.instalments
    assert (first.paid, first.shortfall, first.overdue, first.days_overdue) == (Decimal("30000.00"), Decimal("20000.00"), True, 102)
    assert (second.paid, second.shortfall, second.overdue) == (Decimal("0"), Decimal("50000.00"), True)
    assert item.overdue_instalments == 2


def test_term_beyond_the_legal_maximum_is_flagged():
    item = derive_arrears(replace(debt(), due_on=D("2024-05-30")), D("2024-06-01"), NAMES, PAY)
    assert item.term_days == 90 and item.term_exceeds_max


def test_many_small_amounts_add_up_exactly():
    payments = [pay("2024-04-01", "0.10")] * 1000 + [pay("2024-04-02", "0.07")] * 1000
    item = derive_arrears(debt(amount="170.00", repayments=payments), D("2024-06-01"), NAMES, PAY)
    assert item.outstanding == Decimal("0") and item.status == "已清偿"
    assert sum(0.1 for _ in range(1000)) + sum(0.07 for _ in range(1000)) != 170.0  # floats would get this wrong


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(1, 10**10), paid=st.lists(st.integers(1, 10**8), max_size=6), days=st.integers(0, 2000))
def test_money_invariants(amount: int, paid: list[int], days: int):
    fen = lambda n: Decimal(n) / 100  # noqa: E731
    repayments, total = [], 0
    for i, p in enumerate(paid):
        if total + p > amount:
            break
        total += p
        repayments.append(model.Repayment(date(2024, 4, 1 + i), fen(p), None))
    as_of = date(2024, 4, 10) + (date(2024, 1, 2) - date(2024, 1, 1)) * days
    facts = derive_arrears(debt(amount=str(fen(amount)), repayments=repayments), as_of, NAMES, PAY)
    assert facts.repaid + facts.outstanding == fen(amount)
    assert facts.interest >= 0 and facts.interest == facts.interest.quantize(Decimal("0.01"))
    assert Decimal(0) <= facts.share_cleared <= 1


def test_clearing_curve_and_annual_notice():
    facts = [derive_arrears(debt(repayments=[pay("2024-06-15", "40000.00"), pay("2025-02-01", "60000.00")]),
                            D("2025-03-01"), NAMES, PAY)]
    curve = clearing_curve(facts, D("2025-03-01"))
    assert curve[0].month == "2024-04" and curve[0].outstanding == Decimal("100000.00")
    assert [p.outstanding for p in curve if p.month in ("2024-06", "2025-02")] == [Decimal("60000.00"), Decimal("0.00")]
    notices = annual_notices(tuple(facts), DEMO.departments, D("2025-03-01"), PAY)
    mine = [n for n in notices if n.department == DEMO.arrears[0].debtor]
    assert [(n.year, n.count, n.amount, n.publish_by) for n in mine] == [(2024, 1, Decimal("60000.00"), D("2025-03-31"))]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(2019, 2025), st.integers(0, 2), st.sampled_from(["", "part", "whole"]),
                          st.lists(st.tuples(st.integers(2019, 2026), st.integers(1, 4)), max_size=3),
                          st.one_of(st.none(), st.integers(2019, 2026)), st.booleans()), min_size=1, max_size=6))
def test_annual_notices_follow_their_definition(debts):
    """Each department's notice for year Y counts the debts due by 31 December Y (the date used),
    entered by the as-of date, not wholly disputed, not withdrawn by that day and still unpaid on
    their undisputed part then, with what was unpaid: the statement itself, checked year by year."""
    as_of = D("2026-06-30")
    departments = DEMO.departments[:3]
    items = []
    for n, (year, dept, dispute, payments, withdrawn, late) in enumerate(debts):
        paid = sorted(pay(f"{y}-0{q * 2}-10", "20000.00") for y, q in payments)
        record = replace(debt(due=f"{year}-06-30", repayments=paid if n % 2 else paid[::-1]),  # (in date order or not)
            id=f"AR-2019-{n + 1:03d}", debtor=departments[dept].id, delivered_on=D(f"{year}-06-01"),
            found_on=D("2026-07-01") if late else D(f"{year}-07-10"), disputed=bool(dispute),
            disputed_amount=Decimal("30000.00") if dispute == "part" else None,
            withdrawal=model.Withdrawal(D(f"{withdrawn}-03-01"), "重复录入", None) if withdrawn else None)
        items.append(derive_arrears(record, as_of, NAMES, PAY, CAL, SITE.rules))
    notices = annual_notices(tuple(items), departments, as_of, PAY, SITE.rules)
    first = min(f.due_used.year for f in items)
    assert [(n.year, n.department) for n in notices] == [(y, d.id) for y in range(first, 2026) for d in departments]
    for notice in notices:
        end = date(notice.year, 12, 31)
        expected = []
        for f in items:
            if (f.record.debtor != notice.department or f.due_used > end or f.record.found_on > as_of
                    or f.wholly_disputed or (f.withdrawal is not None and f.withdrawal.date <= end)):
                continue
            unpaid = min(f.record.amount - sum((r.amount for r in f.repayments if r.paid_on <= end), Decimal(0)),
                         f.undisputed)
            if unpaid > 0:
                expected.append((f.record.id, unpaid))
        assert notice.items == tuple(i for i, _ in expected) and notice.count == len(expected)
        assert notice.amount == sum((v for _, v in expected), Decimal(0))


def test_department_totals_add_up_with_their_rows():
    facts = derive(DEMO, D("2026-11-26"))
    for dept in facts.departments:
        assert dept.arrears_totals.outstanding == sum((a.outstanding for a in dept.arrears), Decimal(0))
    assert facts.arrears_totals.owed == sum((d.arrears_totals.owed for d in facts.departments), Decimal(0))


def test_same_inputs_same_facts():
    assert derive(DEMO, D("2026-11-26")) == derive(DEMO, D("2026-11-26"))


def test_evaluation_ranks_share_ties():
    from generator.derive import derive_evaluations

    evals = tuple(model.Evaluation(2025, d, "机构", "第三方评价", Decimal(s), "良好", D("2026-03-01"), None, None, None)
                  for d, s in (("a", "90"), ("b", "85"), ("c", "85"), ("d", "80")))
    ranks = {e.record.department: e.rank for e in derive_evaluations(evals, {})}
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}


# --- issue 11: the right due date, disputes, interest state, regulation by date ----------------

RULES = SITE.rules


def full(item: model.ArrearsItem, as_of: str):
    return derive_arrears(item, D(as_of), NAMES, PAY, CAL, RULES)


@pytest.mark.parametrize("due_kind, due_used, moved", [
    (None, "2026-02-24", True),          # 交付后 60 日 ends in the 2026 Spring Festival (15–23 Feb): next working day
    ("期间", "2026-02-24", True),
    ("固定日期", "2026-02-18", False),    # a calendar date agreed as such does not move
])
def test_due_date_on_spring_festival_2026(due_kind, due_used, moved):
    item = replace(debt(), delivered_on=D("2025-12-20"), due_on=D("2026-02-18"), found_on=D("2026-03-20"), due_kind=due_kind)
    facts = full(item, "2026-03-01")
    assert facts.due_used == D(due_used) and facts.due_moved is moved and not facts.due_estimated
    assert facts.days_past_due == (D("2026-03-01") - D(due_used)).days
    assert facts.interest == cents(Decimal("100000.00") * Decimal("0.0005") * facts.days_past_due)


def test_due_date_in_an_uncovered_year_is_an_estimate():
    # legal due 2027-01-02 (a Saturday in a year no schedule covers): moved to Monday 2027-01-04 on weekdays alone
    item = replace(debt(), delivered_on=D("2026-11-03"), due_on=D("2027-01-02"), found_on=D("2027-01-10"))
    facts = full(item, "2027-01-10")
    assert facts.due_used == D("2027-01-04") and facts.due_estimated


@pytest.mark.parametrize("delivered, due, legal, used", [
    ("2023-12-20", "2024-03-19", "2024-02-18", "2024-02-18"),  # 90 days; day 60 is Sunday 18 Feb 2024, a make-up working day
    ("2024-03-01", "2024-05-30", "2024-04-30", "2024-04-30"),  # 90 days; day 60 a Tuesday
    ("2024-03-04", "2024-06-02", "2024-05-03", "2024-05-06"),  # 90 days; day 60 in the 劳动节 holiday (1–5 May)
])
def test_ninety_day_term_is_measured_from_the_legal_maximum(delivered, due, legal, used):
    item = replace(debt(), delivered_on=D(delivered), due_on=D(due), found_on=D(due))
    facts = full(item, "2024-07-01")
    assert facts.term_days == 90 and facts.term_exceeds_max
    assert facts.legal_due == D(legal) and facts.due_used == D(used)
    assert facts.days_past_due == (D("2024-07-01") - D(used)).days  # more than from the contract's own date


def test_wholly_disputed_debt_is_not_overdue():
    item = replace(debt(), disputed=True, resolution="诉讼", disputed_amount=Decimal("100000.00"))
    facts = full(item, "2024-12-31")
    assert facts.wholly_disputed and facts.days_past_due == 0 and facts.interest == 0
    assert not any(b.label.startswith("逾期") for b in facts.badges)
    # a dispute whose size is not recorded counts as whole (validation warns)
    unknown = full(replace(item, disputed_amount=None), "2024-12-31")
    assert unknown.wholly_disputed and unknown.disputed_amount == Decimal("100000.00")


def test_partly_disputed_debt_is_overdue_on_the_undisputed_part_only():
    item = replace(debt(), disputed=True, resolution="协商", disputed_amount=Decimal("40000.00"))
    facts = full(item, "2024-04-10")  # due 2024-03-31 (Sunday) → Monday 2024-04-01; 9 days
    assert facts.undisputed == Decimal("60000.00") and not facts.wholly_disputed
    assert facts.due_used == D("2024-04-01") and facts.days_past_due == 9
    assert facts.interest == Decimal("270.00")  # 60,000 × 0.05 % × 9
    paid = full(replace(item, repayments=(pay("2024-04-05", "60000.00"),)), "2024-12-31")
    assert paid.settled_on == D("2024-04-05") and paid.days_past_due == 4 and paid.interest == Decimal("120.00")
    assert paid.status == "部分清偿" and not any(b.label.startswith("逾期 ") for b in paid.badges)


@pytest.mark.parametrize("state, note", [(None, "本金已清偿，逾期利息未支付"), ("未支付", "本金已清偿，逾期利息未支付"),
                                         ("已支付", None), ("已免除", None)])
def test_cleared_principal_with_owed_interest_is_qualified(state, note):
    facts = full(replace(debt(), interest_state=state, repayments=(pay("2024-05-01", "100000.00"),)), "2024-06-01")
    assert facts.status == "已清偿" and facts.interest > 0
    assert facts.status_note == note and facts.interest_state == (state or "未支付")


# Article numbers as checked against both texts (order 728 of 2020, order 802 of 2025).
@pytest.mark.parametrize("signed, regulation, interest_article, term_article", [
    ("2025-05-31", "国务院令第728号", "第十五条", "第八条"),
    ("2025-06-01", "国务院令第802号", "第十七条", "第九条"),
])
def test_regulation_applies_by_contract_date(signed, regulation, interest_article, term_article):
    facts = full(replace(debt(), signed_on=D(signed)), "2025-07-01")
    assert facts.regulation == regulation and facts.interest_article.endswith(interest_article)
    assert facts.term_article.endswith(term_article)


@pytest.mark.parametrize("day, notice, dispute", [
    ("2025-05-31", "第十六条", None),        # order 728: art. 16 is the annual notice; no undisputed-part article
    ("2025-06-01", "第十八条", "第十五条"),  # order 802: art. 18 notice, art. 15 undisputed part
])
def test_payment_regulation_articles_at_the_edge(day, notice, dispute):
    regime = SITE.rules.payment_regime_on(D(day))
    assert regime.cite("notice").endswith(notice)
    assert regime.articles.get("dispute") == dispute


def test_annual_notice_cites_the_regulation_in_force_when_due():
    facts = derive(DEMO, D("2026-11-26"))
    by_year = {n.year: n.regulation for n in facts.notices}
    assert "728号" in by_year[2024] and by_year[2024].endswith("第十六条")  # published by 2025-03-31
    assert "802号" in by_year[2025] and by_year[2025].endswith("第十八条")  # published by 2026-03-31


def test_annual_notice_counts_from_the_legal_maximum_and_skips_wholly_disputed_debts():
    facts = derive(DEMO, D("2026-11-26"))
    notice = {(n.department, n.year): n for n in facts.notices}
    assert "AR-2023-007" not in notice[("gxj", 2023)].items  # wholly disputed (诉讼)
    assert "AR-2023-006" in notice[("czj", 2023)].items and notice[("czj", 2023)].amount == Decimal("113400.00")


def test_district_departments_token_covers_government_departments_only():
    facts = derive(DEMO, D("2026-11-26"))
    dept = {d.department.id: d for d in facts.departments}
    token_tasks = {t.record.id for t in facts.tasks
                   if any(u.unit == "区直各部门" for u in t.record.units)}
    assert token_tasks
    covered = lambda d: {t.record.id for t in d.tasks_partner} & token_tasks  # noqa: E731
    assert covered(dept["fgj"]) or any(t.record.id in token_tasks for t in dept["fgj"].tasks_lead)
    assert covered(dept["zjj"]) == token_tasks - {t.record.id for t in dept["zjj"].tasks_lead}
    for not_government in ("jwjw", "fy", "zzb", "zrzy"):  # 纪委监委, court, Party organ, city's stationed unit
        named = {t.record.id for t in facts.tasks if any(u.unit == not_government for u in t.record.units)}
        assert covered(dept[not_government]) <= named, not_government


def test_missed_instalment_is_a_second_default_and_counts_in_the_total():
    plan = [model.Instalment(D("2024-05-31"), Decimal("50000.00")), model.Instalment(D("2024-08-31"), Decimal("50000.00"))]
    item = derive_arrears(debt(plan=plan), D("2024-06-01"), NAMES, PAY)
    assert item.second_default and any(b.label == "二次失信" for b in item.badges)
    assert not derive_arrears(debt(plan=plan), D("2024-05-31"), NAMES, PAY).second_default
    facts = derive(DEMO, D("2026-11-26"))
    s = facts.summary
    assert s.second_defaults == s.second_defaults_commitments + s.second_defaults_arrears
    assert s.second_defaults_arrears == sum(a.overdue_instalments > 0 for a in facts.arrears) > 0


@pytest.mark.parametrize("done, as_of, overdue", [
    (None, "2024-09-30", False), (None, "2024-10-01", True),        # due 2024-09-30, not done
    ("2024-09-30", "2024-12-01", False), ("2024-10-01", "2024-12-01", True),  # done on time / late
])
def test_serious_finding_rectification_overdue(done, as_of, overdue):
    f = finding(severity="严重", rectification_due=D("2024-09-30"), rectification_done_on=D(done) if done else None)
    facts = derive_finding(f, D(as_of), NAMES, SITE, CAL)
    assert facts.rectification_overdue is overdue and any(b.label == "整改逾期" for b in facts.badges) is overdue
    general = derive_finding(replace(f, severity="一般"), D(as_of), NAMES, SITE, CAL)
    assert general.rectification_overdue is False


# --- withdrawal and change logs (issue 16) ----------------------------------------------------


def test_withdrawn_debt_is_a_tombstone_in_no_total_curve_or_notice():
    plan = [model.Instalment(D("2024-05-31"), Decimal("50000.00"))]
    withdrawn = replace(debt(plan=plan), withdrawal=model.Withdrawal(D("2024-12-20"), "重复录入", "站财〔2024〕1号"))
    before = derive_arrears(withdrawn, D("2024-12-19"), NAMES, PAY)  # the day before: still owed, overdue
    assert before.status == "未清偿" and before.withdrawal is None and before.second_default
    assert any("逾期" in b.label for b in before.badges)
    after = derive_arrears(withdrawn, D("2024-12-20"), NAMES, PAY)
    assert after.status == "已撤回" and after.withdrawal.reason == "重复录入"
    assert [b.label for b in after.badges] == ["已撤回"] and not after.second_default
    assert any(e.label == "撤回" and e.date == D("2024-12-20") for e in after.timeline)
    owed = derive_arrears(debt(amount="30000.00"), D("2024-12-20"), NAMES, PAY)
    totals = arrears_totals([after, owed])
    assert (totals.count, totals.owed) == (1, Decimal("30000.00"))
    assert clearing_curve([after, owed], D("2024-12-20"))[-1].outstanding == Decimal("30000.00")
    # the 2024 notice (end of 2024): withdrawn by then, not counted; a notice of 2024 for a debt
    # withdrawn in 2025 still counts it (it was owed at the end of that year)
    notices = annual_notices((after, owed), DEMO.departments, D("2025-06-01"), PAY)
    mine = next(n for n in notices if n.department == DEMO.arrears[0].debtor and n.year == 2024)
    assert (mine.count, mine.amount) == (1, Decimal("30000.00"))
    later = derive_arrears(replace(withdrawn, withdrawal=model.Withdrawal(D("2025-01-02"), "重复录入", None)),
                           D("2025-06-01"), NAMES, PAY)
    notices = annual_notices((later, owed), DEMO.departments, D("2025-06-01"), PAY)
    mine = next(n for n in notices if n.department == DEMO.arrears[0].debtor and n.year == 2024)
    assert mine.count == 2


def test_withdrawn_debt_stays_in_the_months_before_its_withdrawal():
    """The curve shows each month as it was published: a debt withdrawn in December 2024
    counts from its ledger month (April) to November and leaves the curve in December."""
    repaid = [pay("2024-06-15", "20000.00")]
    withdrawn = replace(debt(repayments=repaid), withdrawal=model.Withdrawal(D("2024-12-20"), "重复录入", None))
    owed = derive_arrears(debt(amount="30000.00"), D("2025-01-31"), NAMES, PAY)
    curve = {p.month: p for p in clearing_curve([derive_arrears(withdrawn, D("2025-01-31"), NAMES, PAY), owed],
                                                D("2025-01-31"))}
    assert (curve["2024-05"].owed, curve["2024-05"].outstanding) == (Decimal("130000.00"), Decimal("130000.00"))
    assert (curve["2024-11"].owed, curve["2024-11"].repaid) == (Decimal("130000.00"), Decimal("20000.00"))
    assert (curve["2024-12"].owed, curve["2024-12"].repaid, curve["2024-12"].outstanding) == (
        Decimal("30000.00"), Decimal("0.00"), Decimal("30000.00"))
    assert curve["2025-01"].outstanding == Decimal("30000.00")
    # seen on the day before the withdrawal, the same debt is simply owed
    before = derive_arrears(withdrawn, D("2024-12-19"), NAMES, PAY)
    assert clearing_curve([before, owed], D("2024-12-19"))[-1].owed == Decimal("130000.00")


def test_change_log_is_cut_at_the_as_of_date_and_a_hidden_finding_has_none():
    entry = model.ChangeEntry(D("2024-05-10"), ("decision_basis",), ("认定依据",), "更正条款序号", "笔误", "更正录入错误", None)
    f = finding(changes=(entry,))
    assert derive_finding(f, D("2024-05-09"), NAMES, SITE, CAL).changes == ()
    assert derive_finding(f, D("2024-05-10"), NAMES, SITE, CAL).changes == (entry,)
    revoked = replace(f, objections=(model.Objection(D("2024-05-06"), "认定事实有误", D("2024-05-20"), "撤销"),))
    hidden = derive_finding(revoked, D("2024-05-20"), NAMES, SITE, CAL)
    assert not hidden.on_display and hidden.changes == ()
