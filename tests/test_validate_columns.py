"""The validator's fast paths give exactly what the cell-by-cell path gives.

cast_values types a column once per distinct text when every cell is good and falls back
to the cell-by-cell path (which reports each bad cell, in row order) as soon as one is not;
model.maker builds the records the way their frozen dataclass's __init__ would."""

from __future__ import annotations

import pickle
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
    assert list(made._asdict().items()) == list(built._asdict().items())  # the fields' order, defaults included
    assert pickle.dumps(made) == pickle.dumps(built)
    with pytest.raises(AttributeError):
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
    assert [list(m._asdict()) for m in made] == [list(e._asdict()) for e in expected]
    assert all(type(m) is model.ArrearsItem for m in made)
    with pytest.raises(AttributeError):
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


@pytest.mark.parametrize("f, pieces", [
    (Field("a", "金额", "number", "金额（元）", required=True, minimum=0.01, decimals=2), _NUMBER_PIECES),
    (Field("n", "序号", "integer", "序号", minimum=1, maximum=99), _NUMBER_PIECES),
    (Field("d", "日期", "date", "日期", required=True), _DATE_PIECES),
    (Field("d", "日期", "date", "日期"), _DATE_PIECES),
    (Field("b", "是否", "boolean", "是否"), ["true", "false", "True", "0", "1", "是", "t", "TRUE", "no"]),
    (Field("c", "代码", "string", "代码", pattern=r"^[A-Z]{2}-[0-9]{3}$", max_length=6),
     ["AB-", "123", "CD-", "001", "ab", "\u200b", "-", "9", "1234"]),
    (Field("s", "规模", "string", "企业规模", enum=("中型", "小型", "微型"), required=True), ["中型", "小型", "微", "型", "小形"]),
    (Field("t", "备注", "string", "备注", max_length=5), ["很好", "太长了", "\u200b", "\u202e", "a", " "]),
], ids=["money", "integer", "date-required", "date", "boolean", "pattern", "enum", "text"])
def test_a_column_typed_at_once_hides_no_problem_of_its_cells(f, pieces):
    """_cast_distinct over random columns (repeated texts, empty cells, good and bad texts mixed,
    each distinct text typed when first met): it types a column only when the cell-by-cell path
    (forced by one more cell, a list) reports nothing for any of its cells, and then to the
    same values in every row."""
    import random

    from generator.validate import _cast_distinct

    rng = random.Random(f.name + f.type + str(f.required))
    typed = failed = 0
    for _ in range(1500):
        pool = [_random_text(rng, pieces, 7 if f.type == "date" else 4) for _ in range(rng.randint(1, 6))]
        if f.type == "date" and rng.random() < 0.6:  # real days are rare among random texts
            pool.append(rng.choice(["2024-03-01", "2024-02-29", "2262-04-11", "1677-09-22"]))
        if f.pattern and rng.random() < 0.6:  # and so are codes
            pool.append(rng.choice(["AB-123", "CD-001"]))
        good = [t for t in pool if not cast([t], f)[1]]
        choices = (good if good and rng.random() < 0.5 else good * 3 + pool) + ([None] if rng.random() < 0.3 else [])
        cells = [rng.choice(choices) for _ in range(rng.randint(1, 12))]
        fast = _cast_distinct(list(cells), f)
        values, reports = cast(cells + [["x"]], f)  # a cell no fast path takes (a list): the cell-by-cell path
        values, reports = values[:-1], [r for r in reports if r[0] < len(cells)]
        if fast is None:  # left to the cell-by-cell path: a problem, or text it cleans of invisible characters
            failed += 1
            assert reports or any(c is not None and strip_invisible(c) != c for c in cells), cells
        else:
            typed += 1
            assert not reports and fast == values and list(map(type, fast)) == list(map(type, values)), cells
    assert typed > 150 and failed > 150  # both sides exercised


def test_a_schema_pattern_over_joined_texts_says_what_each_text_alone_says():
    """validate._all_match_schema (the texts joined by line feeds, the pattern's matches counted)
    never says yes where all(map(fullmatch, texts)) says no, whatever the pattern (one that could
    match across lines or looks at the text's edges: [^,], \\s, .*, \\A, \\Z, \\b, ^ and $ inside,
    alternatives, lookarounds); for a pattern that never takes a line feed it says the same."""
    import random
    import re

    from generator.validate import _all_match_schema

    patterns = [r"^AR-[0-9]{4}-[0-9]{3,}$", r"[^,]+", r"[a-z\s]+", r"\s*[a-z]+\s*", r".*", r"a|a\nb", r"\Aab\Z",
                r"\ba\b.*", r"(a|b)+\1?", r"^a$|b", r"[ab]*c?", r"(?!index$)[a-z]+", r"(?<=\n)a", r"a(?=\nb)?b?"]
    pieces = ["a", "b", "c", "AR-", "2024", "-", "001", ",", " ", "\n", "index", "ab"]
    rng = random.Random(21)
    said_yes = 0
    for _ in range(6000):
        texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 5))]
        for pattern in patterns:
            expected = all(map(re.compile(pattern).fullmatch, texts))
            got = _all_match_schema(pattern, texts)
            assert expected or not got, (pattern, texts)
            if pattern in (patterns[0], r"(a|b)+\1?", r"^a$|b", r"[ab]*c?", r"(?!index$)[a-z]+"):
                assert got == expected, (pattern, texts)
            said_yes += got
    assert said_yes > 3000
