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


def test_a_ledgers_keys_as_integers_repeat_exactly_where_the_tuples_repeat():
    """_ledger_keys_distinct (debt row * 2**30 + day number * 100 + seq) says "distinct" only where
    no two rows share (arrears_id, paid_on, seq) or (arrears_id, due_on), and says it on most such
    ledgers: random ledgers with repeated keys, empty and unknown debts, empty days and seqs."""
    from generator.validate import _all_distinct, _ledger_keys_distinct

    rng = random.Random(18)
    said = 0
    for _ in range(3000):
        odd = rng.random() < 0.5
        ids = [f"AR-2024-{k:03d}" for k in range(rng.randint(1, 6))]
        keys = ids + ([None, "AR-2024-999"] if odd and rng.random() < 0.3 else [])
        day = lambda: None if odd and rng.random() < 0.03 else date(2024, 1, 1) + timedelta(days=rng.randint(0, 4))  # noqa: E731
        seq = lambda: None if odd and rng.random() < 0.03 else rng.randint(1, 3 if odd else 99)  # noqa: E731
        rows = {"arrears": [{"id": i} for i in (ids if rng.random() < 0.9 else ids + ids[:1])],
                "arrears_repayments": [{"arrears_id": rng.choice(keys), "paid_on": day(), "seq": seq(), "amount": None,
                                        "note": None} for _ in range(rng.randint(0, 12))],
                "arrears_plan": [{"arrears_id": rng.choice(keys), "due_on": day(), "amount": None}
                                 for _ in range(rng.randint(0, 8))]}
        ctx = _context(rows, True)
        for table, key in (("arrears_repayments", ("arrears_id", "paid_on", "seq")), ("arrears_plan", ("arrears_id", "due_on"))):
            if _ledger_keys_distinct(ctx, table):
                said += 1
                assert _all_distinct(ctx.columns[table], key), rows[table]
            elif all(r[k] is not None and r["arrears_id"] in ids for r in rows[table] for k in key) and \
                    len(ids) == len(rows["arrears"]):
                assert not _all_distinct(ctx.columns[table], key), rows[table]  # nothing unusual: a key repeats
    assert said > 1500


def test_the_arrears_row_screen_never_hides_a_problem():
    """arrears_dates_and_dispute checks only the rows _arrears_rows_to_check picks (column by
    column); on random ledgers (empty, early and late dates, disputes with and without amounts,
    resolutions, agreed rates under and over the LPR, wrong codes) it reports exactly what its
    checks report over every row."""
    from types import SimpleNamespace

    from generator.privacy import uscc_check_char, uscc_is_valid
    from generator.validate import _arrears_rows, arrears_dates_and_dispute

    good_code = "91210802MA0QW1234" + uscc_check_char("91210802MA0QW1234")

    floor = lambda day: None if day.month == 12 else Decimal("3.45")  # noqa: E731 - no LPR for December
    site = SimpleNamespace(rules=SimpleNamespace(payment=SimpleNamespace(max_term_days=60), lpr={"2024-01": 1},
                                                 lpr_floor=floor))
    rng = random.Random(19)
    checked = reported = 0
    for _ in range(1500):
        odd = rng.random() < 0.5
        day = lambda: None if odd and rng.random() < 0.03 else date(2024, 1, 1) + timedelta(days=rng.randint(0, 400))  # noqa: E731
        rows = []
        for k in range(rng.randint(1, 20)):
            delivered = day()
            disputed = rng.random() < (0.4 if odd else 0.05)
            rows.append({"id": f"AR-2024-{k:03d}", "delivered_on": delivered,
                         "due_on": day() if odd and rng.random() < 0.3 else (delivered + timedelta(days=rng.randint(0, 70)) if delivered else None),
                         "found_on": day() if odd and rng.random() < 0.3 else (delivered + timedelta(days=90) if delivered else None),
                         "disputed": None if odd and rng.random() < 0.05 else disputed,
                         "amount": rng.choice([None, Decimal(100), Decimal(500)]),
                         "disputed_amount": rng.choice([None, Decimal(0), Decimal(200)]) if disputed or rng.random() < 0.05 else None,
                         "agreed_daily_rate": rng.choice([None, None, Decimal("0.005"), Decimal("0.03")]),
                         "signed_on": day() if rng.random() < 0.2 else None,
                         "resolution": rng.choice([None, "协商"]) if disputed or rng.random() < 0.05 else None,
                         "creditor_code": rng.choice([None, good_code, "91210802MA0QW1234X"])})
        for the_site in (None, site):
            ctx = _context({"arrears": rows, "arrears_repayments": [], "arrears_plan": []}, rng.random() < 0.8)
            ctx.site = the_site
            ctx.tables["arrears"].cell = lambda i, field, _rows=rows: _rows[i][field]
            found = sorted(arrears_dates_and_dispute(ctx))
            columns = [[r[k] for r in rows] for k in ("due_on", "delivered_on", "found_on", "disputed", "amount", "disputed_amount",
                                                      "agreed_daily_rate", "signed_on", "resolution", "creditor_code")]
            bad = {c for c in columns[-1] if c and not uscc_is_valid(c)}
            everything = sorted(_arrears_rows(ctx, columns, range(len(rows)), 60, the_site is not None, bad))
            assert found == everything
            checked += 1
            reported += bool(found)
    assert reported > 1000


def test_the_plausibility_screen_reports_what_every_row_reports():
    """amounts_are_plausible looks only at the rows whose amount is outside its project's range
    (found column by column); on random ledgers (empty amounts and projects, ranges with one or both
    bounds, projects no range matches) it warns about exactly the rows a check of every row warns about."""
    from types import SimpleNamespace

    from generator.model import AmountRange
    from generator.validate import amounts_are_plausible

    ranges = (AmountRange("工程款", ("工程", "施工"), Decimal(10000), Decimal(500000000)),
              AmountRange("服务费", ("服务",), None, Decimal(2000000)), AmountRange("货款", ("采购",), Decimal(500), None))
    rng = random.Random(20)
    warned = 0
    for _ in range(2000):
        rows = [{"id": f"AR-2024-{k:03d}",
                 "amount": None if rng.random() < 0.05 else Decimal(rng.choice([1, 300, 5000, 20000, 3000000, 900000000])),
                 "project": rng.choice([None, "道路施工", "保洁服务", "设备采购", "其他", "工程服务"])}
                for k in range(rng.randint(1, 15))]
        ctx = _context({"arrears": rows, "arrears_repayments": [], "arrears_plan": []}, rng.random() < 0.8)
        ctx.site = SimpleNamespace(rules=SimpleNamespace(plausible_amounts=ranges[:rng.randint(1, 3)]))
        expected = []
        for i, row in enumerate(rows):  # every row, as before the screen
            found = next((r for r in ctx.site.rules.plausible_amounts if r.matches(row["project"])), None)
            if row["amount"] is None or found is None:
                continue
            if (found.minimum is not None and row["amount"] < found.minimum) or \
                    (found.maximum is not None and row["amount"] > found.maximum):
                expected.append(i + 2)
        got = sorted(amounts_are_plausible(ctx))
        assert [p.line for p in got] == expected
        warned += bool(got)
    assert warned > 500
