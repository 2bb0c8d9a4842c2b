"""The cheap tests in front of the personal-data scans skip only text the full scan finds nothing in."""

from __future__ import annotations

import random

from generator.privacy import _identifiers_in, find_identifiers, id_card_check_char, luhn_is_valid, scan_form

# Digits, separators of every kind the scan form maps (full-width digits, dashes, odd spaces,
# invisible characters), the check character X, a decimal point, "+86" and "No".
_PIECES = list("0123456789") + [" ", "-", "–", "\u3000", "\u200b", "X", "x", ".", "+86", "No", "号", "ZQ-",
                                   "１", "３", "８", "/", "  ", "--"]


def _number(rng: random.Random) -> str:
    """A mobile, an ID card (18 or 15 digits) or a Luhn-valid card number, or random digits."""
    kind = rng.randrange(4)
    if kind == 0:
        return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    if kind == 1:
        first17 = "110105" + str(rng.randint(1930, 2010)) + f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + "123"
        return first17 + id_card_check_char(first17) if rng.random() < 0.8 else first17[:6] + first17[8:17]
    if kind == 2:
        while True:
            card = rng.choice("234569") + "".join(rng.choice("0123456789") for _ in range(rng.randint(12, 18)))
            if luhn_is_valid(card):
                return card
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(9, 20)))


def _text(rng: random.Random) -> str:
    """Noise, then a number cut into groups by random separators, then noise."""
    number = _number(rng)
    grouped = ""
    for digit in number:
        grouped += digit
        if rng.random() < 0.12:
            grouped += rng.choice([" ", "-", "–", "\u3000", "\u200b", "  ", "--", "."])
    if rng.random() < 0.3:
        grouped = grouped.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    noise = lambda: "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8)))  # noqa: E731
    return noise() + grouped + noise()


def test_the_identifier_prefilter_never_hides_an_identifier():
    rng = random.Random(15)
    found = 0
    for _ in range(10_000):
        text = _text(rng)
        full = _identifiers_in(*scan_form(text))
        assert find_identifiers(text) == full, text
        found += bool(full)
    assert found > 500  # the texts above do hold identifiers of every kind (755 of them)
    for text in ("联系电话 138-1234-5678", "身份证 110105 19491231 002X", "卡号 6222 0212 3456 7890 128",
                 "手机+86 139 0000 1111", "ID１１０１０５１９４９１２３１００２Ｘ"):
        assert find_identifiers(text), text


def test_contract_numbers_are_not_scanned_further():
    from generator.privacy import _MAYBE_IDENTIFIER

    assert find_identifiers("ZQ-D1000-2025-050") == []
    assert _identifiers_in(*scan_form("ZQ-D1000-2025-050")) == []
    # 1[3-9]x and 8 digits more, but grouped 4-4-3: no mobile's grouping, not scanned in full
    for text in ("ZQ-D1300-2019-070", "ZQ-D1593-2024-118", "合同 1380-2019-001"):
        assert _MAYBE_IDENTIFIER.search(scan_form(text)[0]) is None, text
        assert _identifiers_in(*scan_form(text)) == []
    for text in ("ZQ-D138-0013-8000", "1380 013 8000", "138 0013 8000", "+86 13800138000"):
        assert find_identifiers(text), text
        assert _MAYBE_IDENTIFIER.search(scan_form(text)[0]) is not None, text


#: The quick filter before round 7: any 1[3-9]x followed by 8 digits, however grouped.
_OLD_MAYBE_IDENTIFIER = r"[0-9](?:[ -]?[0-9]){12}|1[3-9][0-9](?:[ -]?[0-9]){8}"


def _mobile_like(rng: random.Random) -> str:
    """Text around 11 to 14 digits that start 1[3-9] (mobile numbers, contract and serial numbers),
    cut into groups of random sizes by every separator the scan form maps, with prefixes (+86, 0086,
    letters, codes) and neighbours (digits, points, letters) that decide whether it is a mobile."""
    digits = "1" + rng.choice("3456789" if rng.random() < 0.9 else "0123456789") + "".join(
        rng.choice("0123456789") for _ in range(rng.choice((9, 9, 9, 8, 10, 11, 12))))
    grouped = ""
    for k, digit in enumerate(digits):
        grouped += digit
        if k < len(digits) - 1 and rng.random() < 0.3:
            grouped += rng.choice([" ", "-", "–", "\u3000", "\u200b", "  ", "--", ".", "/"])
    if rng.random() < 0.2:
        grouped = grouped.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    before = rng.choice(["", "", "ZQ-D", "电话", "+86", "86 ", "0086-", "No", "7", "3.", "A", "号", "（", "ZQ-D13"])
    after = rng.choice(["", "", "号", "-070", "5", ".5", "A", "）", " 2019", "-1"])
    return before + grouped + after


def test_the_tighter_quick_filter_finds_what_the_old_one_let_through():
    """Round 7 made the mobile half of the quick filter follow _MOBILE_RE's groupings: for every text
    the old filter let through (and the full scan then looked at), the screen finds the same."""
    import re

    from generator.privacy import _MAYBE_IDENTIFIER

    old = re.compile(_OLD_MAYBE_IDENTIFIER, re.ASCII)
    rng = random.Random(157)
    let_through = found = spared = 0
    for k in range(40_000):
        text = _mobile_like(rng) if k % 2 else _text(rng)
        narrow = scan_form(text)[0]
        before = _identifiers_in(*scan_form(text)) if old.search(narrow) else []
        assert find_identifiers(text) == before, repr(text)
        let_through += old.search(narrow) is not None
        spared += old.search(narrow) is not None and _MAYBE_IDENTIFIER.search(narrow) is None
        found += bool(before)
    # the texts hold identifiers, and the new filter spares many texts the full scan
    assert let_through > 15_000 and found > 1_500 and spared > 1_000, (let_through, found, spared)


def test_the_identifier_pretest_finds_what_the_plain_pattern_finds():
    """privacy._MAYBE_IDENTIFIER tries only the first digit of a run: for search() it is the plain pattern."""
    import re

    from generator.privacy import _MAYBE_IDENTIFIER

    plain = re.compile(r"[0-9](?:[ -]?[0-9]){12}|1[3-9][0-9](?:[ -]?[0-9]{4}[ -]?[0-9]{4}|[0-9][ -]?[0-9]{3}[ -]?[0-9]{4})",
                       re.ASCII)
    rng = random.Random(151)
    pieces = list("0123456789") + ["1", "13", "18", " ", "-", "  ", "--", " -", "x", "\n", "\0"]
    found = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        expected = plain.search(text) is not None
        assert (_MAYBE_IDENTIFIER.search(text) is not None) == expected, repr(text)
        found += expected
    assert found > 500  # 872 of the texts above have such digits


def test_a_column_is_screened_as_each_text_alone():
    """texts_with_possible_identifiers / _titled_names over a whole column = the one-text tests."""
    from generator.privacy import (
        _MAYBE_IDENTIFIER,
        might_hold_titled_name,
        texts_with_possible_identifiers,
        texts_with_possible_titled_names,
    )

    rng = random.Random(152)
    names = ["副主任刘德华", "联系人：张伟", "经办人王某", "局长和直接", "主任", "刘德华", "科长 李"]
    columns = []
    for _ in range(300):
        column = list({_text(rng) if rng.random() < 0.6 else rng.choice(names) + _text(rng)[:6]
                       for _ in range(rng.randint(1, 40))})
        columns.append(column)
    columns += [[], [""], ["a\0b", "138 1234 5678"], ["０１２３４５６７８９０１２３"], ["ZQ-D1320-2023-013"]]
    for column in columns:
        assert texts_with_possible_identifiers(column) == [
            t for t in column if _MAYBE_IDENTIFIER.search(scan_form(t)[0])], column
        assert texts_with_possible_titled_names(column) == [t for t in column if might_hold_titled_name(t)], column
    # every text the one-text scan finds something in is kept
    for column in columns:
        kept = set(texts_with_possible_identifiers(column))
        assert all(t in kept for t in column if find_identifiers(t)), column
