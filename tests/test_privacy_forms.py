"""Issue 12, item 3: personal identifiers in odd forms, masked names, names after titles.

Each attack below passed validation and reached pages and downloads before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.load import load
from generator.privacy import (
    find_identifiers,
    find_titled_names,
    id_card_check_char,
    luhn_is_valid,
    masked_suggestion,
    scan_form,
    strip_invisible,
)
from generator.problems import WARNING
from generator.validate import validate
from tests.conftest import edit, problems_of

ID_X = "11010519491231002X"  # the example: a valid GB 11643 number ending in X
assert id_card_check_char(ID_X[:17]) == "X"
CARD = next("622202123456789012" + d for d in "0123456789" if luhn_is_valid("622202123456789012" + d))
ZW = "\u200b"

FOUND = [
    # ID cards
    (f"当事人ID{ID_X}", "id_card"),
    (f"证件号 110105 1949 1231 002X", "id_card"),
    (f"证件号 110105-1949-1231-002X", "id_card"),
    (f"证件号 1101 0519 4912 3100 2X", "id_card"),
    (f"证件号 110105{ZW}19491231002X", "id_card"),
    (f"证件号 110105\u200d1949\u20601231\ufeff002X", "id_card"),
    ("证件号 ID110105491231002 已核实", "id_card"),  # old 15-digit number, glued to letters
    ("证件号 110105491231002", "id_card"),
    ("证件号 110105194912310021", "id_card"),  # wrong check character: still an ID
    ("证件号 １１０１０５１９４９１２３１００２Ｘ", "id_card"),  # full width
    ("证件号 110105\u20131949\u20131231\u2013002X", "id_card"),  # en-dashes
    # Mobiles
    ("电话 138 1234-5678", "mobile"),
    ("电话 1381 234 5678", "mobile"),
    ("电话 138\u20131234\u20135678", "mobile"),
    ("电话 138\u201412345678", "mobile"),
    (f"电话 138{ZW}1234{ZW}5678", "mobile"),
    ("电话 1\u200b3\u200b8\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7\u200b8", "mobile"),
    ("电话 138\u00a01234\u30005678", "mobile"),  # no-break and ideographic spaces
    ("电话 138\u202e1234\u202c5678", "mobile"),  # bidi controls inside
    # Bank cards
    (f"卡号 {CARD[:4]} {CARD[4:8]}-{CARD[8:12]} {CARD[12:16]} {CARD[16:]}", "bank_card"),
    (f"卡号 {CARD[:6]} {CARD[6:]}", "bank_card"),
    (f"收款账户No{CARD}", "bank_card"),
    (f"收款账户NO.{CARD}", "bank_card"),
    (f"卡号 {CARD[:4]}{ZW}{CARD[4:]}", "bank_card"),
]


@pytest.mark.parametrize(("text", "kind"), FOUND)
def test_odd_forms_are_found(text, kind):
    matches = find_identifiers(text)
    assert [m.kind for m in matches] == [kind], text
    # The span covers the whole identifier in the original text, invisible characters included.
    span = text[matches[0].start:matches[0].end]
    assert span[0].isalnum() and span[-1].isalnum()
    assert scan_form(span)[0].replace(" ", "").replace("-", "").upper().lstrip("NO.").isalnum()


@pytest.mark.parametrize("text", [
    "2024-03-01 至 2025-12-31",
    "合同编号 ZQCG-2024-0012，金额 1234567.89 元",
    "统一社会信用代码 912108020000000260",
    "文号 营站采〔2024〕15号，共 13 200 300 400 元",  # numbers in groups that are not a phone
    "报表序号 202411010001000123",  # 18 digits, but no province 20 and no birth date
    "HT6222021234567890128",  # a card-like run glued to a contract code
    "订单 9912 3456 7890 1234 5678 999",  # too many digits for any card
])
def test_ordinary_numbers_stay_quiet(text):
    assert find_identifiers(text) == []


def test_fix_suggestion_matches_the_kind():
    assert masked_suggestion("id_card", "110105 1949 1231 002x") == "110105********002X"
    assert masked_suggestion("mobile", "+86 138-1234-5678") == "138****5678"
    assert masked_suggestion("bank_card", CARD) == CARD[:4] + "*" * 11 + CARD[-4:]


def test_validation_reports_each_form_with_its_own_suggestion(data_dir: Path):
    cm = data_dir / "commitments" / "CM-2024-001.yaml"
    edit(cm, "note: 企业开办“一网通办”系统完成联调测试。",
         f"note: 联系人身份证ID{ID_X[:6]}{ZW}{ID_X[6:]}，电话138\u20131234\u20135678，卡号No{CARD}")
    found = sorted((p.field, p.message, p.hint) for p in problems_of(data_dir))
    assert [f for f, _, _ in found] == ["note", "note", "note"]
    hints = {m[4:m.index("，")]: h for _, m, h in found}
    assert "110105********002X" in hints["居民身份证号"]
    assert "138****5678" in hints["手机号码"]
    assert CARD[:4] + "*" * 11 + CARD[-4:] in hints["银行卡号"]


@pytest.mark.parametrize("person,ok", [("张某", True), ("张某某", True), ("欧阳某", True), ("王芳某", False),
                                       ("王芳", False), ("刘德华某", False), ("某", False)])
def test_masked_name_is_a_surname_and_mou(data_dir: Path, person, ok):
    edit(data_dir / "findings" / "DF-2025-003.yaml", "person: 张某", f"person: {person}")
    problems = [p for p in problems_of(data_dir) if p.field == "person"]
    assert (problems == []) is ok, problems


@pytest.mark.parametrize("text,names", [
    ("经研究，由副主任刘德华负责落实。", ["刘德华"]),
    ("联系人：李娜，电话 12345。", ["李娜"]),
    ("由副局长赵刚牵头，主任科员陈晓明具体承办。", ["赵刚", "陈晓明"]),
    ("副主任王某负责落实。", []),
    ("区发改局局长办公会研究决定。", []),
    ("召开主任会议，负责人为区财政局。", []),
])
def test_full_names_after_titles(text, names):
    assert find_titled_names(text) == names


def test_full_name_after_a_title_is_a_warning_naming_file_line_field(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-001.yaml", "note: 企业开办“一网通办”系统完成联调测试。",
         "note: 系统由副主任刘德华组织完成联调测试。")
    report = validate(load(data_dir))
    assert report.errors == []
    [warning] = [p for p in report.problems if p.code == "personal-name"]
    assert warning.severity == WARNING and warning.field == "note" and warning.line == 17
    assert "刘德华" not in warning.text()  # the report itself does not repeat the name
    assert "刘**" in warning.message and "刘某" in warning.hint


def test_invisible_and_bidi_characters_are_removed_from_published_text(data_dir: Path):
    edit(data_dir / "commitments" / "CM-2024-001.yaml", "note: 企业开办“一网通办”系统完成联调测试。",
         "note: 企业开办\u202e试测调联成完统系\u202c，\u200b一网\u2066通办\u2069。")
    edit(data_dir / "site.yaml", "address: 辽宁省营口市站前区（演示地址）", "address: 辽宁省\u202e区前站\u202c")
    dataset = validate(load(data_dir)).dataset
    note = next(c for c in dataset.commitments if c.id == "CM-2024-001").progress[0].note
    assert note == "企业开办试测调联成完统系，一网通办。"
    assert dataset.site.contact["address"] == "辽宁省区前站"
    assert strip_invisible("a\u202eb\u200bc\ufeffd\u2067e") == "abcde"
