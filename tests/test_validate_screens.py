"""The column screens in front of the validator's row-by-row rules skip only what would find nothing.

repayments_within_debt first asks _payments_fit, in C loops over the columns, whether any
repayment or instalment could be reported; the rule's own loop runs whenever it could. On
random ledgers (empty and negative amounts, unknown and duplicate debts, early dates) the
rule with the screen reports exactly what it reports without it."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from generator.validate import Context, _payments_fit, repayments_within_debt


class _Where:
    def where(self, index, field=None):
        return "t.csv", index + 2


def _ledger(rng: random.Random) -> dict[str, list[dict]]:
    odd = rng.random() < 0.6  # else a ledger most likely without a problem, as real ones are
    day = lambda: date(2024, 1, 1) + timedelta(days=rng.randint(0 if odd else 40, 60))  # noqa: E731
    money = lambda: rng.choice(([None, Decimal("-5.00"), Decimal(0)] if odd else [])  # noqa: E731
                               + [Decimal(rng.randint(1, 500 if odd else 80)) / 4] * 20)
    ids = [f"AR-2024-{k:03d}" for k in range(rng.randint(1, 8))]
    arrears = [{"id": rng.choice(ids + [None]) if odd and rng.random() < 0.05 else i,
                "delivered_on": None if odd and rng.random() < 0.03 else day() - timedelta(days=0 if odd else 40),
                "amount": None if odd and rng.random() < 0.03 else Decimal(rng.randint(50, 400))} for i in ids]
    keys = ids + (["AR-2024-999", None] if odd else [])
    repayments = [{"arrears_id": rng.choice(keys), "paid_on": None if odd and rng.random() < 0.02 else day(), "amount": money(),
                   "seq": 1, "note": None} for _ in range(rng.randint(0, 12))]
    plan = [{"arrears_id": rng.choice(keys), "due_on": None if odd and rng.random() < 0.02 else day(), "amount": money()}
            for _ in range(rng.randint(0, 8))]
    return {"arrears": arrears, "arrears_repayments": repayments, "arrears_plan": plan}


def _context(rows, with_columns: bool) -> Context:
    columns = {name: {k: [r[k] for r in table] for k in (table[0] if table else {})} for name, table in rows.items()}
    for name, fields in (("arrears_repayments", ("arrears_id", "paid_on", "amount", "seq", "note")),
                         ("arrears_plan", ("arrears_id", "due_on", "amount"))):
        for k in fields:
            columns[name].setdefault(k, [])
    return Context(None, {name: _Where() for name in rows}, rows, None, None, None,
                   columns if with_columns else None, None)


def test_the_payment_screen_never_hides_a_problem():
    rng = random.Random(15)
    screened = reported = 0
    for _ in range(4000):
        rows = _ledger(rng)
        plain = sorted(repayments_within_debt(_context(rows, False)))
        assert sorted(repayments_within_debt(_context(rows, True))) == plain
        if _payments_fit(_context(rows, True)):
            screened += 1
            assert plain == []
        reported += bool(plain)
    assert screened > 400 and reported > 400  # both sides of the screen are exercised


def test_a_debts_repayments_and_plan_from_the_columns_are_in_their_order():
    """_children from the typed columns (one sort of the whole table, _children_by_debt) gives each debt
    the repayments and instalments the rows give it, in payment order (date, then the day's
    sequence number) and due order: the ledger's file order is any order."""
    from generator import model
    from generator.validate import _children, _children_by_debt

    rng = random.Random(16)
    for _ in range(1000):
        keys = [f"AR-2024-{k:03d}" for k in range(rng.randint(1, 6))]
        days = [date(2024, 1, 1) + timedelta(days=d) for d in range(rng.randint(1, 5))]
        paid = {(rng.choice(keys), rng.choice(days), rng.randint(1, 3)) for _ in range(rng.randint(0, 15))}
        due = {(rng.choice(keys), rng.choice(days)) for _ in range(rng.randint(0, 10))}
        rows = {"arrears": [{"id": k} for k in rng.sample(keys, len(keys))],
                "arrears_repayments": [{"arrears_id": k, "paid_on": d, "seq": s, "amount": Decimal(rng.randint(1, 99)),
                                        "note": rng.choice([None, "财政资金"])} for k, d, s in rng.sample(sorted(paid), len(paid))],
                "arrears_plan": [{"arrears_id": k, "due_on": d, "amount": Decimal(rng.randint(1, 99))}
                                 for k, d in rng.sample(sorted(due), len(due))]}
        for table, cls, fields, order in (("arrears_repayments", model.Repayment, ("paid_on", "amount", "note", "seq"),
                                           lambda r: (r.paid_on, r.seq)),
                                          ("arrears_plan", model.Instalment, ("due_on", "amount"), lambda r: r.due_on)):
            expected = {}
            for r in rows[table]:  # file order, then each debt's own order
                expected.setdefault(r["arrears_id"], []).append(cls(*(r[f] for f in fields)))
            expected = {k: tuple(sorted(v, key=order)) for k, v in expected.items()}
            assert dict(_children(_context(rows, True), table, cls, fields)) == expected
            assert dict(_children(_context(rows, False), table, cls, fields)) == expected
            by_debt = _children_by_debt(_context(rows, True), table, cls, fields)
            assert by_debt == [expected.get(a["id"], ()) for a in rows["arrears"]]
            assert all(type(item) is cls for items in by_debt for item in items)
