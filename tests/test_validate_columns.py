"""The validator's fast paths give exactly what the cell-by-cell path gives.

cast_values types a column once per distinct text when every cell is good and falls back
to the cell-by-cell path (which reports each bad cell, in row order) as soon as one is not;
model.maker builds the records the way their frozen dataclass's __init__ would."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal

import pytest

from generator import model
from generator.privacy import might_hide_characters, strip_invisible
from generator.schema import Field
from generator.validate import cast_values


def cast(cells, f):
    reports = []
    values = cast_values(list(cells), f, lambda i, message, hint: reports.append((i, message, hint)))
    return values, reports


def one_by_one(cells, f):
    """Each cell typed alone: the values and messages a column of that one cell gets."""
    values, reports = [], []
    for i, cell in enumerate(cells):
        [value], found = cast([cell], f)
        values.append(value)
        reports += [(i, message, hint) for _, message, hint in found]
    return values, reports


FIELDS = [
    (Field("d", "交付日期", "date", "交付日期", required=True),
     ["2024-03-01", "2024-03-01", "2024-02-29", "2023-02-29", "2024-3-1", "2024-03-01", "2024年3月1日"]),
    (Field("a", "金额", "number", "金额（元）", required=True, minimum=0.01, decimals=2),
     ["12.50", "12.50", "0", "12.345", "1,000", "12.5", "3万", "12.50", None]),
    (Field("n", "序号", "integer", "序号", minimum=1, maximum=9), ["1", "1", "2", "1.5", "10", None, "0", "2"]),
    (Field("b", "是否有争议", "boolean", "是否有争议"), ["true", "false", "是", "TRUE", "0", None, "true"]),
    (Field("s", "规模", "string", "企业规模", enum=("中型", "小型", "微型")), ["小型", "小型", "小形", "中型", None]),
    (Field("c", "代码", "string", "代码", pattern=r"[A-Z]{2}-[0-9]{3}"), ["AB-123", "AB-123", "ab-123", None, "CD-001"]),
    (Field("t", "备注", "string", "备注", max_length=4), ["很好", "很好", "太长了太长了", "很\u200b好", None, "很\u200b好"]),
]


@pytest.mark.parametrize("f, cells", FIELDS, ids=[f.type + (f.enum and "-enum" or f.pattern and "-pattern" or "")
                                                    for f, _ in FIELDS])
def test_a_column_with_bad_cells_gets_what_each_cell_gets_alone(f, cells):
    values, reports = cast(cells, f)
    assert reports, "each column above has at least one bad cell"
    alone_values, alone_reports = one_by_one(cells, f)
    assert values == alone_values
    assert sorted(reports) == sorted(alone_reports)


@pytest.mark.parametrize("f, cells", FIELDS, ids=[f.type for f, _ in FIELDS])
def test_a_column_of_good_cells_is_typed_as_each_cell_alone(f, cells):
    good = [c for c in cells if c is not None and not one_by_one([c], f)[1]] * 3
    values, reports = cast(good, f)
    assert reports == []
    assert values == one_by_one(good, f)[0]
    assert [type(v) for v in values] == [type(v) for v in one_by_one(good, f)[0]]


def test_repeated_text_with_invisible_characters_is_stripped_everywhere():
    f = Field("t", "备注", "string", "备注")
    values, reports = cast(["很\u200b好", "很好", "很\u200b好", "\u202e好"], f)
    assert reports == [] and values == ["很好", "很好", "很好", "好"]


def test_a_required_column_with_an_empty_cell_reports_it():
    f = Field("d", "交付日期", "date", "交付日期", required=True)
    values, reports = cast(["2024-03-01", None, "2024-03-01"], f)
    assert values == [date(2024, 3, 1), None, date(2024, 3, 1)]
    assert reports == [(1, "必填项“交付日期”没有填写", "交付日期")]


def test_the_cheap_test_for_invisible_characters_misses_none():
    for c in map(chr, range(0x10000)):
        for text in (c, f"a{c}b", f"👨{c}👩"):
            if strip_invisible(text) != text:
                assert might_hide_characters(text), hex(ord(c))
    assert not might_hide_characters("普通文字 plain text 123")


def test_maker_builds_what_init_builds():
    values = dict(id="AR-2024-001", debtor="d", creditor="c", creditor_code=None, creditor_size="小型", project="p",
                  contract_no="n", amount=Decimal("12.50"), delivered_on=date(2024, 1, 2), due_on=date(2024, 2, 1),
                  found_on=date(2024, 3, 1), agreed_daily_rate=None, disputed=False, resolution=None, note=None,
                  plan=(model.Instalment(date(2024, 4, 1), Decimal("1")),), repayments=(), disputed_amount=Decimal(1))
    made = model.maker(model.ArrearsItem)(values)
    built = model.ArrearsItem(**values)
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert list(vars(made).items()) == list(vars(built).items())  # the fields' order, defaults included
    assert pickle.dumps(made) == pickle.dumps(built)
    with pytest.raises(FrozenInstanceError):
        made.amount = Decimal(0)  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing"):
        model.maker(model.ArrearsItem)({k: v for k, v in values.items() if k != "debtor"})
    with pytest.raises(TypeError, match="unexpected"):
        model.maker(model.ArrearsItem)({**values, "debt": 1})


# --- the fast path's checks against the cell-by-cell path's, on random text -------------

_NUMBER_PIECES = list("0123456789") + ["0", "00", ".", "+", "-", "１", "٠", ",", "e", " ", "万", "..", "5."]
_DATE_PIECES = list("0123456789") + ["-", "20", "19", "02", "29", "30", "31", "12", "13", "1677", "2262", "/", "１", "09-22",
                                     "04-11", "04-12"]


def _random_text(rng, pieces, longest):
    if pieces is _DATE_PIECES and rng.random() < 0.7:  # mostly date-shaped, often real
        year = rng.choice(["2024", "2023", "1677", "1600", "2262", "2263", "0001", "２０２４", "24"])
        month, day = rng.choice(["01", "02", "09", "04", "12", "13", "00", "1", "０２"]), rng.choice(
            ["01", "11", "12", "21", "22", "28", "29", "30", "31", "32", "1"])
        return rng.choice(["-", "-", "-", "/", ""]).join((year, month, day)) + rng.choice(["", "", "", " ", "日"])
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, longest)))


@pytest.mark.parametrize("f, pieces", [
    (Field("a", "金额", "number", "金额（元）", minimum=0.01, decimals=2), _NUMBER_PIECES),
    (Field("r", "利率", "number", "利率", minimum=0, maximum=1, decimals=4), _NUMBER_PIECES),
    (Field("x", "数", "number", "数"), _NUMBER_PIECES),
    (Field("n", "序号", "integer", "序号", minimum=1, maximum=99), _NUMBER_PIECES),
    (Field("d", "日期", "date", "日期"), _DATE_PIECES),
], ids=["money", "rate", "number", "integer", "date"])
def test_the_fast_path_accepts_exactly_the_cells_the_cell_by_cell_path_passes(f, pieces):
    """_cast_distinct types a cell only when the cell-by-cell path reports nothing for it, and then
    to the same value (a column with one certainly bad cell forces the cell-by-cell path)."""
    import random

    from generator.validate import _cast_distinct

    rng = random.Random(f.name)
    bad = "不是数字"
    accepted = 0
    for _ in range(3000):
        cell = _random_text(rng, pieces, 7 if f.type == "date" else 9)
        fast = _cast_distinct([cell], f)
        values, reports = cast([cell, bad], f)
        mine = [r for r in reports if r[0] == 0]
        if fast is None:
            assert mine, cell
        else:
            accepted += 1
            assert not mine and fast == values[:1] and type(fast[0]) is type(values[0]), cell
    assert accepted > 100  # the random cells above include good ones


def test_from_columns_builds_what_init_builds():
    """model.from_columns: the instances cls(**row) gives, field for field, in pickle too."""
    rows = [dict(id=f"AR-2024-00{k}", debtor="dept-0001", creditor="某公司", creditor_code=None, creditor_size="小型",
                 project="工程", contract_no=f"ZQ-{k}", amount=Decimal("12.50") * k, delivered_on=date(2024, 1, k + 1),
                 due_on=date(2024, 2, k + 1), found_on=date(2024, 3, 1), agreed_daily_rate=None, disputed=bool(k % 2),
                 resolution=None, note=None, plan=(model.Instalment(date(2024, 4, 1), Decimal(1)),) * k,
                 repayments=(), signed_on=None, due_kind=None, disputed_amount=None, interest_state=None,
                 withdrawal=None, changes=()) for k in range(4)]
    columns = {name: [row[name] for row in rows] for name in reversed(list(rows[0]))}  # any column order
    made = model.from_columns(model.ArrearsItem, columns)
    expected = [model.ArrearsItem(**row) for row in rows]
    assert made == expected
    assert [pickle.dumps(m) for m in made] == [pickle.dumps(e) for e in expected]
    assert [list(vars(m)) for m in made] == [list(vars(e)) for e in expected]
    with pytest.raises(FrozenInstanceError):
        made[0].id = "x"
    assert model.from_columns(model.ArrearsItem, {name: [] for name in rows[0]}) == []
    with pytest.raises(TypeError):
        model.from_columns(model.ArrearsItem, {name: columns[name] for name in list(columns)[1:]})


def test_a_column_of_numbers_is_matched_as_each_text_alone():
    """validate._all_fullmatch (one match over the texts joined by line feeds) says what
    all(map(pattern.fullmatch, texts)) says, for each number pattern cast_values uses: random
    texts of digits (ASCII, full-width, Arabic-Indic, superscript), points, signs, zeros, spaces,
    letters and line feeds."""
    import random

    from generator.validate import _INT_FULL, _NUM_FULL, _all_fullmatch, _places_pattern

    rng = random.Random(17)
    pieces = ["0", "1", "5", "9", "00", "12", "3", "٣", "²", "½", ".", ".", "-", "+", " ", "e", "0", "0", "\n"]
    said_yes = 0
    for _ in range(20000):
        texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, 4))]
        for pattern in (_NUM_FULL, _INT_FULL, *map(_places_pattern, (0, 1, 2, 4))):
            expected = all(map(pattern.fullmatch, texts))
            assert _all_fullmatch(pattern, texts) == expected, (texts, pattern)
            said_yes += expected
    assert said_yes > 5000
    assert _all_fullmatch(_places_pattern(2), ["12.50", "3", "4.", "١٢.٥٠"])
    assert not _all_fullmatch(_places_pattern(2), ["12.505"]) and not _all_fullmatch(_places_pattern(2), ["1\n2"])
    # a text's digits can be read several ways ("1.000": \d{0,2} then 0*): a late bad text must not
    # make the match try them all again for every text before it (it would take forever)
    assert not _all_fullmatch(_places_pattern(2), ["1.000"] * 5000 + ["1.005"])
    assert _all_fullmatch(_places_pattern(2), ["1.000"] * 5000 + ["1.5"])
