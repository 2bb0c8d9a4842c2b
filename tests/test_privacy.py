"""Detection of personal identifiers, and leaving alone what records legitimately hold."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from generator.privacy import (
    KIND_LABELS,
    IdentifierMatch,
    find_identifiers,
    id_card_check_char,
    luhn_is_valid,
    scan_text_files,
    uscc_check_char,
    uscc_is_valid,
)


def id_card(first17: str) -> str:
    return first17 + id_card_check_char(first17)


def wrong_check(number: str) -> str:
    """The same number with a different, invalid last character."""
    correct = number[-1]
    return number[:-1] + ("1" if correct != "1" else "2")


def luhn_card(prefix: str) -> str:
    """Complete `prefix` with the one digit that makes it pass Luhn."""
    return next(prefix + d for d in "0123456789" if luhn_is_valid(prefix + d))


def non_luhn_card(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if not luhn_is_valid(prefix + d))


def group4(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def kinds(text: str) -> list[str]:
    return [m.kind for m in find_identifiers(text)]


def spans(text: str) -> list[str]:
    return [text[m.start : m.end] for m in find_identifiers(text)]


ID_BEIJING = id_card("11010519900101123")  # check character is a digit
ID_WITH_X = id_card("32010219850710006")  # check character is X
CARD_19 = luhn_card("622202123456789012")
CARD_16 = luhn_card("622848001234567")
CARD_13 = luhn_card("402400712345")


# --- checksum helpers --------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        # The worked examples printed in GB 11643-1999.
        ("11010519491231002", "X"),
        ("44052418800101001", "4"),
        ("32010219850710006", "X"),
    ],
)
def test_id_card_check_char(first17, expected):
    assert id_card_check_char(first17) == expected


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310021", "1101051949123100X"])
def test_id_card_check_char_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        id_card_check_char(bad)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
        (CARD_19, True),
        (CARD_16, True),
        (non_luhn_card("622202123456789012"), False),
        ("", False),
        ("6222 0212", False),
        ("12a4", False),
    ],
)
def test_luhn_is_valid(digits, expected):
    assert luhn_is_valid(digits) is expected


USCC_DEMO = "91210802MA0QW1234" + uscc_check_char("91210802MA0QW1234")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("91330100716105852F", True),  # published codes of two well-known companies
        ("9144030071526726XG", True),
        (USCC_DEMO, True),
        (USCC_DEMO[:-1] + ("0" if USCC_DEMO[-1] != "0" else "1"), False),
        (USCC_DEMO[:4] + ("9" if USCC_DEMO[4] != "9" else "8") + USCC_DEMO[5:], False),
        (USCC_DEMO.lower(), False),
        (USCC_DEMO[:-1], False),
        (USCC_DEMO + "0", False),
        ("91210802MA0XXXXXX", False),  # a placeholder, not a code
        ("91210802MI0QW12340", False),  # I is not in the alphabet
        ("", False),
    ],
)
def test_uscc_is_valid(code, expected):
    assert uscc_is_valid(code) is expected


@pytest.mark.parametrize("bad", ["9121080", "91210802MA0QW123O", "91210802ma0qw1234"])
def test_uscc_check_char_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        uscc_check_char(bad)


def test_kind_labels_are_chinese():
    assert KIND_LABELS == {"id_card": "居民身份证号", "mobile": "手机号码", "bank_card": "银行卡号"}


# --- identifiers that must be found ------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        # ID cards
        (f"身份证号码{ID_BEIJING}。", "id_card", ID_BEIJING),
        (f"身份证号码{ID_WITH_X}，", "id_card", ID_WITH_X),
        (f"身份证号码{ID_WITH_X.lower()}，", "id_card", ID_WITH_X.lower()),
        (f"证件号：{ID_BEIJING[:6]} {ID_BEIJING[6:14]} {ID_BEIJING[14:]}", "id_card",
         f"{ID_BEIJING[:6]} {ID_BEIJING[6:14]} {ID_BEIJING[14:]}"),
        (f"<td>{ID_BEIJING}</td>", "id_card", ID_BEIJING),
        (f"id,{ID_WITH_X}\n", "id_card", ID_WITH_X),
        ("11010519491231002X", "id_card", "11010519491231002X"),
        # issue 12: a mistyped check character is still someone's number; glued to letters too
        (f"号码{wrong_check(ID_BEIJING)}。", "id_card", wrong_check(ID_BEIJING)),
        (f"号码{wrong_check(ID_WITH_X)}。", "id_card", wrong_check(ID_WITH_X)),
        ("A" + ID_BEIJING, "id_card", ID_BEIJING),
        ("电话 138 12345678，", "mobile", "138 12345678"),
        # Mobiles
        ("联系人电话13812345678请", "mobile", "13812345678"),
        ("电话：19987654321。", "mobile", "19987654321"),
        ("电话 138 1234 5678，", "mobile", "138 1234 5678"),
        ("电话 138-1234-5678，", "mobile", "138-1234-5678"),
        ("电话+8613812345678", "mobile", "+8613812345678"),
        ("电话 +86 138 1234 5678", "mobile", "+86 138 1234 5678"),
        ("电话 +86-138-1234-5678", "mobile", "+86-138-1234-5678"),
        ("电话8613812345678", "mobile", "8613812345678"),
        ("电话 008613812345678", "mobile", "008613812345678"),
        ('<a href="tel:13812345678">联系我们</a>', "mobile", "13812345678"),
        ("电话１３８１２３４５６７８", "mobile", "１３８１２３４５６７８"),  # full-width digits
        # Bank cards
        (f"收款账号{CARD_19}，", "bank_card", CARD_19),
        (f"卡号：{CARD_16}", "bank_card", CARD_16),
        (f"卡号 {CARD_13}", "bank_card", CARD_13),
        (f"卡号 {group4(CARD_19)}，开户行", "bank_card", group4(CARD_19)),
        (f"卡号 {group4(CARD_16)}。", "bank_card", group4(CARD_16)),
        (f"卡号 {group4(CARD_19, '-')}。", "bank_card", group4(CARD_19, "-")),
        (f"卡号 {group4(CARD_13)}。", "bank_card", group4(CARD_13)),
        (f'<input value="{CARD_16}">', "bank_card", CARD_16),
    ],
)
def test_identifier_is_found(text, kind, found):
    matches = find_identifiers(text)
    assert len(matches) == 1, matches
    assert matches[0].kind == kind
    assert text[matches[0].start : matches[0].end] == found


def test_several_identifiers_in_order_without_overlap():
    text = f"张某，身份证{ID_WITH_X}，电话138 1234 5678，卡号{group4(CARD_19)}；另电话13912345678。"
    matches = find_identifiers(text)
    assert [m.kind for m in matches] == ["id_card", "mobile", "bank_card", "mobile"]
    assert all(a.end <= b.start for a, b in zip(matches, matches[1:]))
    assert spans(text) == [ID_WITH_X, "138 1234 5678", group4(CARD_19), "13912345678"]


def test_an_id_card_is_not_also_a_bank_card():
    # Find a real-looking ID number that also passes Luhn: it must be reported once.
    number = next(
        n
        for n in (id_card(f"42010619880214{i:03d}") for i in range(1000))
        if luhn_is_valid(n)
    )
    assert find_identifiers(number) == [IdentifierMatch("id_card", 0, 18)]


# --- things that must not be reported ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Dates, money, file and contract numbers, codes, postcodes, hotlines
        "2024-03-01",
        "2024年3月1日至2024年12月31日",
        "合同金额 1234567.89 元",
        "欠款 3800000 元",
        "金额 13812345678.50 元",  # an amount, even though it looks like a mobile
        f"金额 {CARD_16}.00 元",  # an amount, even though it passes Luhn
        f"比例 0.{CARD_16}",
        "合同编号 ZQCG-2024-0012",
        "营站采〔2024〕15号",
        "统一社会信用代码 91210802MA0XXXXXX",
        f"统一社会信用代码 {USCC_DEMO}",
        "统一社会信用代码 912108020000000260",  # all digits, valid, and passes Luhn too
        "邮编 116000",
        "投诉请拨打 12345 政务服务便民热线",
        "电话 0411-82345678",
        "金额 1,234,567.89 元",
        # Near misses
        ID_BEIJING[:6] + "19901301" + ID_BEIJING[14:17] + id_card(ID_BEIJING[:6] + "19901301" + ID_BEIJING[14:17])[-1],
        id_card("11010518990101123"),  # born before 1900
        ID_BEIJING + "5",  # part of a longer run
        "12812345678",  # no such mobile prefix
        "1381234567",  # too short
        "138123456789",  # too long
        "21381234567",
        non_luhn_card("622202123456789012"),
        group4(non_luhn_card("622202123456789012")),
        CARD_19 + "7",  # 20 digits
        f"HT{CARD_16}",  # glued to a code
        f"ZQCG-{CARD_16}",
        f"{CARD_16}-A",
        luhn_card("170925120000"),  # a millisecond timestamp shape
        f"<svg><path d=\"M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10\"/></svg>",
    ],
)
def test_no_false_positive(text):
    assert find_identifiers(text) == []


def test_a_typical_record_is_clean():
    record = (
        "大连市甘井子区某街道办事处（统一社会信用代码 "
        f"{USCC_DEMO}）于2024-03-01与某建筑公司签订合同（ZQCG-2024-0012，"
        "营站采〔2024〕15号），合同金额 1234567.89 元，已付 3800000 元，邮编 116000，"
        "如有疑问请拨打 12345。"
    )
    assert find_identifiers(record) == []


# --- properties --------------------------------------------------------------

region = st.sampled_from(["110105", "210211", "320102", "440305", "650102"])
birth = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
sequence = st.integers(min_value=0, max_value=999)


@given(region=region, born=birth, seq=sequence)
def test_every_valid_id_card_is_found(region, born, seq):
    number = id_card(f"{region}{born:%Y%m%d}{seq:03d}")
    text = f"当事人身份证号{number}，住址不详"
    assert find_identifiers(text) == [IdentifierMatch("id_card", 7, 25)]
    # issue 12: a wrong check character does not make it someone else's business
    assert kinds(f"当事人身份证号{wrong_check(number)}，住址不详") == ["id_card"]


@given(
    body=st.text(alphabet="0123456789", min_size=11, max_size=17),
    first=st.sampled_from("23456"),
    grouped=st.booleans(),
)
def test_every_luhn_card_is_found(body, first, grouped):
    number = luhn_card(first + body)
    # Documented exception: an all-digit valid 统一社会信用代码 is public, not a card.
    assume(grouped or not (len(number) == 18 and uscc_is_valid(number)))
    shown = group4(number) if grouped else number
    text = f"收款卡号：{shown}。"
    found = find_identifiers(text)
    assert [m.kind for m in found] in (["bank_card"], ["id_card"])
    assert text[found[0].start : found[0].end] == shown


# --- scanning a built site ---------------------------------------------------


def test_scan_text_files(tmp_path):
    (tmp_path / "records" / "2024").mkdir(parents=True)
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<p>详见 2024-03-01 公告</p><a data-contact="13812345678">联系</a>', encoding="utf-8"
    )
    (tmp_path / "records" / "2024" / "a.json").write_text(
        f'{{"身份证": "{ID_WITH_X}", "金额": "1234567.89"}}', encoding="utf-8"
    )
    (tmp_path / "records" / "data.CSV").write_text(
        f"单位,账号\n某公司,{group4(CARD_19)}\n", encoding="utf-8"
    )
    (tmp_path / "records" / "clean.md").write_text("欠款 3800000 元", encoding="utf-8")
    (tmp_path / "assets" / "app.js").write_text("var t = '13812345678';", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG 13812345678")

    findings = scan_text_files(tmp_path)

    assert [(p.relative_to(tmp_path).as_posix(), m.kind) for p, m, _ in findings] == [
        ("index.html", "mobile"),
        ("records/2024/a.json", "id_card"),
        ("records/data.CSV", "bank_card"),
    ]
    for path, match, excerpt in findings:
        raw = path.read_text(encoding="utf-8")[match.start : match.end]
        assert raw not in excerpt  # the report must not republish the number
        assert "*" in excerpt
    assert "138****5678" in findings[0][2]
    assert "data-contact" in findings[0][2]


def test_scan_masks_neighbours_in_excerpts(tmp_path):
    (tmp_path / "a.txt").write_text("电话13812345678或13912345678", encoding="utf-8")
    findings = scan_text_files(tmp_path)
    assert len(findings) == 2
    for _, _, excerpt in findings:
        assert "13812345678" not in excerpt and "13912345678" not in excerpt


def test_scan_respects_suffixes(tmp_path):
    (tmp_path / "a.txt").write_text("电话13812345678", encoding="utf-8")
    (tmp_path / "b.js").write_text("电话13812345678", encoding="utf-8")
    assert [p.name for p, _, _ in scan_text_files(tmp_path, suffixes=(".js",))] == ["b.js"]
    assert scan_text_files(tmp_path / "missing") == []


def test_digits_inside_a_commit_id_or_sha256_digest_are_no_identifier():
    from generator.privacy import find_identifiers

    digest = "56cc" + "13912345678" + "c" * 49  # 64 hex digits: a sha256 in the publication manifest
    commit = "ab" + "13912345678" + "d" * 27  # 40 hex digits: a commit id in the footer
    assert len(digest) == 64 and len(commit) == 40
    assert find_identifiers(f'"index.html": "{digest}"') == []
    assert find_identifiers(f"提交 {commit} 生成") == []
    # the same number outside a digest, or in a hex run of another length, is still found
    assert [m.kind for m in find_identifiers("联系电话 13912345678")] == ["mobile"]
    assert [m.kind for m in find_identifiers("ab13912345678dd")] == ["mobile"]
    assert [m.kind for m in find_identifiers("13912345678" + "a" * 53 + "x")] == ["mobile"]


def test_a_grouped_card_is_not_read_as_an_old_id_inside_it():
    # Found by test_every_luhn_card_is_found: the last 15 digits of this 19-digit card
    # read as an old ID (province 21, born 1941-09-30); the whole card number must win.
    text = "收款卡号：3521 2162 2341 0930 937。"
    found = find_identifiers(text)
    assert [(m.kind, text[m.start:m.end]) for m in found] == [("bank_card", "3521 2162 2341 0930 937")]


def test_the_code_checks_say_what_a_character_by_character_reading_says():
    """uscc_is_valid / uscc_check_char (patterns and map since round 7) against the plain reading of
    GB 32100 they replaced, on random codes: letters outside the alphabet (I O S V Z, lower case),
    full-width digits, line feeds, 17 to 19 characters, a right check character now and then."""
    import random

    from generator.privacy import _USCC_ALPHABET, _USCC_VALUES, _USCC_WEIGHTS

    def check(first17):
        if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
            raise ValueError(first17)
        return _USCC_ALPHABET[(31 - sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS)) % 31) % 31]

    def valid(code):
        return len(code) == 18 and all(c in _USCC_ALPHABET for c in code) and check(code[:17]) == code[17]

    rng = random.Random(32100)
    right = 0
    for _ in range(50_000):
        code = "".join(rng.choice(_USCC_ALPHABET + "IOSVZa\n０") if rng.random() < 0.05 else rng.choice(_USCC_ALPHABET)
                       for _ in range(rng.choice((17, 18, 18, 18, 19))))
        if rng.random() < 0.3 and all(c in _USCC_ALPHABET for c in code[:17]) and len(code) >= 17:
            code = code[:17] + check(code[:17])
        assert uscc_is_valid(code) is valid(code), code
        right += valid(code)
        try:
            expected = check(code[:17])
        except ValueError:
            with pytest.raises(ValueError):
                uscc_check_char(code[:17])
        else:
            assert uscc_check_char(code[:17]) == expected
    assert right > 5_000
