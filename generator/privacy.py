"""Personal identifiers that must never appear on the published site.

Records name companies and offices, never private persons' numbers. A 居民身份证号,
手机号码 or 银行卡号 that slips into a record (a contact line, a pasted ledger row)
must be caught before publication. Detection relies on checksums and structure,
not on digit counts alone, so that dates, amounts, file numbers and 统一社会信用代码,
which records legitimately contain, are left alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import accumulate, compress, repeat
from operator import add, mul
from pathlib import Path

from generator import ids

__all__ = [
    "REDACTED",
    "HistoryFilter",
    "Redaction",
    "load_redactions",
    "value_sha256",
    "KIND_LABELS",
    "IdentifierMatch",
    "find_identifiers",
    "find_titled_names",
    "id_card_check_char",
    "luhn_is_valid",
    "masked_suggestion",
    "might_hold_identifier",
    "might_hold_titled_name",
    "texts_with_possible_identifiers",
    "texts_with_possible_titled_names",
    "scan_form",
    "scan_text_files",
    "strip_invisible",
    "uscc_check_char",
    "uscc_is_valid",
]

KIND_LABELS = {
    "id_card": "居民身份证号",
    "mobile": "手机号码",
    "bank_card": "银行卡号",
}


@dataclass(frozen=True)
class IdentifierMatch:
    """An identifier found at text[start:end]."""

    kind: str
    start: int
    end: int


# --- checksums ---------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_card_check_char(first17: str) -> str:
    """The GB 11643 check character ("0"–"9" or "X") for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"身份证号码前 17 位应为 17 个数字，实际为“{first17}”。")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


_USCC_VALUES = {c: i for i, c in enumerate(_USCC_ALPHABET)}
#: 17 and 18 characters of the alphabet (a ledger has thousands of creditors' codes to check)
_USCC_17 = re.compile(f"[{_USCC_ALPHABET}]{{17}}")
_USCC_18 = re.compile(f"[{_USCC_ALPHABET}]{{18}}")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    if _USCC_17.fullmatch(first17) is None:
        raise ValueError(
            f"统一社会信用代码前 17 位应由数字和大写字母（不含 I、O、Z、S、V）组成，"
            f"实际为“{first17}”。"
        )
    total = sum(map(mul, map(_USCC_VALUES.__getitem__, first17), _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """Whether `code` is a well-formed 统一社会信用代码 (upper case, as issued)."""
    if _USCC_18.fullmatch(code) is None:
        return False
    return uscc_check_char(code[:17]) == code[17]


def luhn_is_valid(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812) check that every bank card number passes."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# --- normalisation -----------------------------------------------------------

#: Characters that show nothing (zero-width spaces and joiners, soft hyphen, BOM, variation
#: selectors, Hangul fillers) or reorder what is shown (bidirectional controls, U+202E
#: among them). They hide identifiers from a scan and disguise text on a page, so the
#: scan ignores them and published text drops them (strip_invisible).
INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
             "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0")
#: The scan also ignores variation selectors; published text keeps them (emoji presentation: 🏛️).
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}\ufe00-\ufe0f]")
_EMOJI = "\u2600-\u27bf\ufe0f\U0001f000-\U0001faff"
#: Published text keeps a zero-width joiner only inside an emoji sequence (👨‍👩‍👧).
_UNPUBLISHED_RE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f"
                             "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0]"
                             f"|(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])")


_DASHES = set("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


#: Every character _UNPUBLISHED_RE can remove, as one plain class: a search for it is a
#: fast scan, where the joiner's lookarounds make _UNPUBLISHED_RE slow over long text.
_MAYBE_UNPUBLISHED_RE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                                   "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0]")


def might_hide_characters(text: str) -> bool:
    """False when strip_invisible(text) is certainly text itself (no character it could remove)."""
    return _MAYBE_UNPUBLISHED_RE.search(text) is not None


def strip_invisible(text: str) -> str:
    """`text` without invisible and bidirectional control characters (see INVISIBLE;
    a zero-width joiner between emoji stays)."""
    return _UNPUBLISHED_RE.sub("", text)


class _ScanForm(dict):
    """str.translate table for scanning, filled on first use of each character: invisible
    characters go, dashes become "-", and a character whose NFKC form is one ASCII letter,
    digit, space or "+" (full-width digits, ideographic space, circled digits …) becomes it."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        value: int | None = code
        if _INVISIBLE_RE.match(char):
            value = None
        elif char in _DASHES:
            value = ord("-")
        elif code > 127:
            nfkc = unicodedata.normalize("NFKC", char)
            if len(nfkc) == 1 and nfkc.isascii() and (nfkc.isalnum() or nfkc in " +-"):
                value = ord(nfkc)
        self[code] = value
        return value


_SCAN_FORM = _ScanForm({c: c for c in range(128)})


def scan_form(text: str) -> tuple[str, list[int] | None]:
    """The text a scan looks at, and for each of its characters the index in `text`
    (None when nothing was dropped: the indexes are the same)."""
    normal = text.translate(_SCAN_FORM)
    if len(normal) == len(text):
        return normal, None
    return normal, [i for i, c in enumerate(text) if _SCAN_FORM[ord(c)] is not None]


# --- detection ---------------------------------------------------------------

# Digits that belong to a decimal number are an amount, whatever their checksum.
_AFTER_NO_POINT = r"(?<![0-9]\.)"
_BEFORE_NO_POINT = r"(?!\.[0-9])"
_SEP = r"[ -]?"  # one optional space or hyphen between digits (dashes and odd spaces are mapped)

# 居民身份证号: 18 characters (or the older 15 digits), glued to letters or not ("ID…"),
# whole or in groups of at least three characters (the last may be two: "…2X") split by
# spaces or hyphens: 6-8-4, 6-4-4-4, 4-4-4-4-2 … What makes a candidate an ID is its
# shape (a province code, a real birth date), not its check character: a mistyped
# number is still someone's number. Runs of such groups are cut into candidates by
# _id_candidates (a run may hold an ID next to a phone number).
_GROUP_RUN = re.compile(r"(?<![0-9])[0-9]+[Xx]?(?:[ -][0-9]+[Xx]?)*", re.ASCII)
_GROUP = re.compile(r"[0-9]+[Xx]?", re.ASCII)
#: First two digits of the administrative division code (GB/T 2260) of a 居民身份证号.
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                        50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83})

# Mobiles: 1[3-9] and 9 more digits, written 11, 3-4-4, 3-8, 4-3-4, 4-7 or 7-4, with
# spaces or hyphens (mixed, too), optionally after +86 / 86 / 0086.
_MOBILE_RE = re.compile(
    r"(?<![0-9])" + _AFTER_NO_POINT
    + r"(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:" + _SEP + r"[0-9]{4}" + _SEP + r"[0-9]{4}|[0-9]"
    + _SEP + r"[0-9]{3}" + _SEP + r"[0-9]{4})"
    + r"(?![0-9])" + _BEFORE_NO_POINT,
    re.ASCII,
)

# Bank cards start with 2–6 (ISO/IEC 7812 banking and financial issuers) or 9 (older
# domestic cards such as 9558…). Excluding 0, 1, 7 and 8 keeps millisecond timestamps
# and serial numbers out, since Luhn alone passes one number in ten. A run glued to
# Latin letters or hyphenated onto a code is part of that code — except after "No"
# ("No6222…", "No.6222…"). Grouped numbers are 4-4-4-(1..4), 4-4-4-4-(1..3) or
# 6-(7..13), with spaces or hyphens.
_BANK_RE = re.compile(
    r"(?:(?<=[Nn][Oo])|(?<![0-9A-Za-z])(?<![0-9A-Za-z]-))" + _AFTER_NO_POINT
    + r"(?:[2-69][0-9]{12,18}"
    + r"|(?<![0-9] )[2-69][0-9]{3}[ -][0-9]{4}[ -][0-9]{4}[ -](?:[0-9]{4}[ -][0-9]{1,3}|[0-9]{1,4})"
    + r"|(?<![0-9] )[2-69][0-9]{5}[ -][0-9]{7,13})"
    + r"(?![0-9A-Za-z])(?!-[0-9A-Za-z])(?![ -][0-9])" + _BEFORE_NO_POINT,
    re.ASCII,
)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c in "Xx")


def _born(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100


def _id_candidates(text: str):
    """(start, end) of every run of digit groups that could be one 18- or 15-character ID."""
    for run in _GROUP_RUN.finditer(text):
        if run.end() - run.start() < 15:
            continue
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, run.start(), run.end())]
        for first in range(len(groups)):
            start = groups[first][0]
            if first == 0 and start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
                continue  # the decimals of an amount
            length = 0
            for last in range(first, min(len(groups), first + 6)):
                g_start, g_end = groups[last]
                size = g_end - g_start
                if last > first and (groups[last - 1][1] - groups[last - 1][0] < 3 or size < 2):
                    break  # in a grouped number, only the last group may be shorter than three
                length += size
                if length > 18:
                    break
                if length not in (15, 18):
                    continue
                if text[g_end - 1] in "Xx" and length == 15 or "X" in text[start:g_end - 1].upper():
                    continue
                if last == len(groups) - 1 and text[g_end:g_end + 1] == "." and text[g_end + 1:g_end + 2].isdigit():
                    continue
                yield start, g_end


def _is_id_card(candidate: str) -> bool:
    number = _digits(candidate).upper()
    if len(number) != 18 or "X" in number[:17] or int(number[:2]) not in _PROVINCES:
        return False
    return _born(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _is_old_id_card(candidate: str) -> bool:
    number = _digits(candidate)
    if len(number) != 15 or int(number[:2]) not in _PROVINCES:
        return False
    return _born(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))


def _is_bank_card(candidate: str) -> bool:
    number = _digits(candidate)
    if not 13 <= len(number) <= 19 or not luhn_is_valid(number):
        return False
    # All-digit 统一社会信用代码 are 18 digits too, and public by law.
    return not (len(number) == 18 and number == candidate and uscc_is_valid(number))


class _IdCandidates:
    """The finditer() of _id_candidates, for the detector table."""

    @staticmethod
    def finditer(text: str):
        for start, end in _id_candidates(text):
            yield _Span(text, start, end)


@dataclass(frozen=True)
class _Span:
    text: str
    start_: int
    end_: int

    def span(self) -> tuple[int, int]:
        return self.start_, self.end_

    def group(self) -> str:
        return self.text[self.start_:self.end_]


def _is_any_id_card(candidate: str) -> bool:
    return _is_id_card(candidate) if len(_digits(candidate)) == 18 else _is_old_id_card(candidate)


_DETECTORS = (
    ("id_card", _IdCandidates, _is_any_id_card),
    ("mobile", _MOBILE_RE, None),
    ("bank_card", _BANK_RE, _is_bank_card),
)


#: A hexadecimal digest (git commit id, sha256): 40 or 64 hex digits standing alone. Its digits
#: are random, so a run of them can look like a mobile number; it is never an identifier.
_DIGEST_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-f]{64}|[0-9a-f]{40})(?![0-9A-Za-z])", re.ASCII)
_HEX_HINT = re.compile(r"[0-9a-f]{40}", re.ASCII)


def find_identifiers(text: str) -> list[IdentifierMatch]:
    """Every personal identifier in `text`, ordered by position, never overlapping.

    The text is scanned in its scan_form: invisible and bidirectional control
    characters ignored, full-width and other compatibility forms read as ASCII,
    dashes as hyphens; positions refer to `text` itself.

    Recognised: 居民身份证号 of 18 characters (a province code, a real birth date from
    1900 to 2100, a last character 0–9 or X — a wrong check character still counts) or
    the older 15 digits (province code, birth date), grouped by spaces or hyphens in any
    way and also glued to letters; mainland mobile numbers (1[3-9] + 9 digits, in the
    usual groups, optionally +86/86/0086); 13–19 digit bank card numbers passing Luhn
    (optionally in groups, also right after "No"). None of them may be part of a longer
    run of digits, of a decimal number or of a 40- or 64-digit hex digest (a commit id, a sha256). Bank cards must also start with 2–6 or 9,
    stand apart from Latin letters and hyphenated codes, and not be an all-digit valid
    统一社会信用代码.
    """
    narrow, origin = scan_form(text)
    if _MAYBE_IDENTIFIER.search(narrow) is None:
        return []
    return _identifiers_in(narrow, origin)


#: What every identifier above has in its scan form: 13 digits or more with at most one space or
#: hyphen between two digits (ID cards, bank cards), or a mobile's digits as _MOBILE_RE groups them
#: (1[3-9]x, then 4 and 4 or 1, 3 and 4 digits, at most one space or hyphen between groups; the same
#: groups as _MOBILE_RE without its prefix and its look-arounds, so every mobile it finds is found here).
#: Contract numbers such as ZQ-D1000-2025-050 or ZQ-D1300-2019-070 have neither (the latter has a
#: 1[3-9]x and 8 digits more, but grouped 4-4-3), and are not scanned further.
#: Written to be fast over a whole column: 13 such digits exist in a text exactly when they exist from
#: the first digit of a run (a digit neither after a digit nor after a digit and one space or hyphen),
#: so only run starts are tried, and only digits at all. Equivalent, for search(), to
#: r"[0-9](?:[ -]?[0-9]){12}|1[3-9][0-9](?:[ -]?[0-9]{4}[ -]?[0-9]{4}|[0-9][ -]?[0-9]{3}[ -]?[0-9]{4})"
#: (tests/test_privacy_prefilter.py).
_MAYBE_IDENTIFIER = re.compile(r"(?=[0-9])(?:(?<![0-9])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12}"
                               r"|1[3-9][0-9](?:[ -]?[0-9]{4}[ -]?[0-9]{4}|[0-9][ -]?[0-9]{3}[ -]?[0-9]{4}))",
                               re.ASCII)


def _identifiers_in(narrow: str, origin: list[int] | None) -> list[IdentifierMatch]:
    """find_identifiers in a text's scan form (see scan_form)."""
    digests = [m.span() for m in _DIGEST_RE.finditer(narrow)] if _HEX_HINT.search(narrow) else []
    taken: list[IdentifierMatch] = []  # kept sorted by start; never overlapping
    for kind, pattern, is_valid in _DETECTORS:
        for found in pattern.finditer(narrow):
            start, end = found.span()
            if is_valid is not None and not is_valid(found.group()):
                continue
            if digests and any(d_start <= start and end <= d_end for d_start, d_end in digests):
                continue  # digits inside a commit id or a sha256 digest (the publication manifest, the footer)
            overlapping = [m for m in taken if m.start < end and start < m.end]
            if overlapping:
                # The longest valid reading wins: a grouped 19-digit card holds a run that
                # reads as an old 15-digit ID, but the reader sees one card number.
                if not all(start <= m.start and m.end <= end for m in overlapping) or \
                        sum(m.end - m.start for m in overlapping) >= end - start:
                    continue
                taken = [m for m in taken if m not in overlapping]
            index = bisect_left(taken, start, key=lambda m: m.start)
            taken.insert(index, IdentifierMatch(kind, start, end))
    if origin is not None:
        taken = [IdentifierMatch(m.kind, origin[m.start], origin[m.end - 1] + 1) for m in taken]
    return taken


def masked_suggestion(kind: str, identifier: str) -> str:
    """How the identifier may be shown instead, by kind: 110105********002X, 138****5678, 6222***********1234."""
    number = _digits(identifier).upper()
    if kind == "mobile":
        number = number[-11:]  # without +86
        return number[:3] + "****" + number[-4:]
    if kind == "id_card":
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def texts_with_possible_identifiers(texts: list[str]) -> list[str]:
    """The texts among `texts` that find_identifiers could find something in, in their order;
    for every other text it returns [] (its own first step is this test, on one text).

    A column of a 100,000-row ledger (contract numbers: most have 11 digits or more) is
    put into its scan form in one translation and searched in C, instead of one Python
    call per text. The scan form is made character by character and "\\0" is its own
    scan form and never part of a match, so the joined texts split back exactly."""
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:  # a text holds "\0" itself (the loader refuses such files)
        return [t for t in texts if _MAYBE_IDENTIFIER.search(scan_form(t)[0])]
    if any(_SCAN_FORM[ord(c)] != ord(c) for c in set(joined)):
        normal = joined.translate(_SCAN_FORM)
        lengths = list(map(len, normal.split("\0")))
    else:  # every character is its own scan form (the usual case): no translation
        normal, lengths = joined, list(map(len, texts))
    # where each text starts in `normal`; a match never crosses a "\0", so it lies in one text
    starts = list(accumulate(map(add, lengths, repeat(1)), initial=0))
    hits = {bisect_right(starts, m.start()) - 1 for m in _MAYBE_IDENTIFIER.finditer(normal)}
    return [texts[i] for i in sorted(hits)]


def might_hold_identifier(text: str) -> bool:
    """A cheap test that is True for every text find_identifiers could find something in:
    an identifier has at least 11 digits (full-width and other digits count)."""
    return len(text) >= 11 and sum(map(str.isdigit, text)) >= 11


# --- names -------------------------------------------------------------------

#: Titles and roles after which a person's full name is usually written (副主任刘德华,
#: 联系人：张伟). A cheap first signal: only text that has one is segmented.
_TITLES = ("主任科员|主任|局长|科长|处长|书记|区长|县长|市长|镇长|乡长|部长|股长|所长|站长|队长|组长|院长|庭长|"
           "检察长|秘书长|主席|经理|董事长|负责人|法定代表人|联系人|经办人|承办人|经手人|审判员|检察官|法官|民警|科员|"
           "委员|干部|职工|同志|先生|女士")
#: Common surnames (single and compound): a name follows a title only if one of them does.
_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
                "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
                "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
                "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄"
                "窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池"
                "查麻苑迟邝")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                      "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "呼延", "澹台", "闻人", "万俟", "申屠", "钟离")
_TITLE_THEN_NAME = re.compile(f"(?:{_TITLES})[：:　 ]?(?=[\u4e00-\u9fff]{{2}})")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")


def might_hold_titled_name(text: str) -> bool:
    """A cheap test that is True for every text find_titled_names could find something in."""
    return _TITLE_THEN_NAME.search(text) is not None


def texts_with_possible_titled_names(texts: list[str]) -> list[str]:
    """The texts among `texts` for which might_hold_titled_name is True, in their order (C loops:
    a match never crosses the "\\0" joining them, so one search tells whether any text has one)."""
    if _TITLE_THEN_NAME.search("\0".join(texts)) is None:
        return []
    return list(compress(texts, map(_TITLE_THEN_NAME.search, texts)))


def _jieba_posseg():
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary otherwise
    return jieba.posseg


class WordTags:
    """jieba.posseg.cut(window) as (word, flag) pairs, kept in a file between runs.

    Loading jieba's dictionary and word tags costs about two seconds of CPU in every run,
    for the few windows of text a title is followed by a surname in (the policy text of
    tasks.yaml holds one: 负责人和直接责任人). The tagger's answer for a window depends only
    on the window, jieba's version and its dictionary (the generator loads no user
    dictionary), so each answer is appended to a file named after the version and the
    dictionary file's size and time; jieba is loaded only for a window the file lacks.
    The file lives in the user's cache folder, as jieba keeps its own dictionary cache
    in the temporary folder.

    The windows are the very texts that may name a person, so the file holds none of
    their text: a line is the window's SHA-256 and its words' lengths and flags. A line
    that is not that, or whose lengths do not add up to its window's, is ignored (the
    window is tagged again); a cache that cannot be read or written only costs the load.
    """

    def __init__(self, folder: Path | None = None):
        self._folder = folder
        self._memo: dict[str, tuple[tuple[int, str], ...]] | None = None
        self._file: Path | None = None
        self._posseg = None

    def cut(self, window: str) -> tuple[tuple[str, str], ...]:
        if self._memo is None:
            self._memo = self._read()
        key = hashlib.sha256(window.encode("utf-8")).hexdigest()
        spans = self._memo.get(key)
        if spans is not None and sum(n for n, _ in spans) == len(window):
            tags, at = [], 0
            for n, flag in spans:
                tags.append((window[at:at + n], flag))
                at += n
            return tuple(tags)
        if self._posseg is None:
            self._posseg = _jieba_posseg()
        tags = tuple((w.word, w.flag) for w in self._posseg.cut(window))
        spans = self._memo[key] = tuple((len(word), flag) for word, flag in tags)
        self._append(key, spans)
        return tags

    def _path(self) -> Path | None:
        import importlib.metadata
        import importlib.util

        try:
            spec = importlib.util.find_spec("jieba")
            locations = spec.submodule_search_locations if spec is not None else None
            if not locations:
                return None
            stat = (Path(next(iter(locations))) / "dict.txt").stat()
            version = importlib.metadata.version("jieba")
        except (OSError, ValueError, importlib.metadata.PackageNotFoundError):
            return None
        if self._folder is not None:
            folder = self._folder
        else:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
            folder = Path(base) / "zhanqian-integrity-publisher"
        return folder / f"jieba-tags-{version}-{stat.st_size}-{stat.st_mtime_ns}.jsonl"

    def _read(self) -> dict[str, tuple[tuple[int, str], ...]]:
        import json

        self._file = self._path()
        memo: dict[str, tuple[tuple[int, str], ...]] = {}
        if self._file is None:
            return memo
        try:
            with open(self._file, encoding="utf-8") as fh:
                lines = fh.readlines()
        except (OSError, UnicodeDecodeError):
            return memo
        for line in lines:
            try:
                key, pairs = json.loads(line)
                spans = tuple((n, flag) for n, flag in pairs)
            except (ValueError, TypeError):
                continue
            if isinstance(key, str) and _SHA256.fullmatch(key) and spans and all(
                    type(n) is int and n > 0 and isinstance(f, str) for n, f in spans):
                memo[key] = spans
        return memo

    def _append(self, key: str, spans: tuple[tuple[int, str], ...]) -> None:
        import json

        if self._file is None:
            return
        line = json.dumps([key, [list(s) for s in spans]]) + "\n"
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            # one write in append mode per line: runs side by side add whole lines
            with open(self._file, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError:
            self._file = None


_SHA256 = re.compile(r"[0-9a-f]{64}")


#: The tagger of find_titled_names (one per process).
WORD_TAGS = WordTags()


def find_titled_names(text: str) -> list[str]:
    """Full names of persons written right after a title or role (副主任刘德华 → 刘德华).

    A warning-level signal, not proof: a title followed by a common surname is the cheap
    test; then jieba's part-of-speech tagger must tag the word after the title as a
    person's name (``nr``). Masked forms (王某, 张某某) are not names.
    """
    names: list[str] = []
    for m in _TITLE_THEN_NAME.finditer(text):
        after = text[m.end():m.end() + 4]
        if not (after[:1] in _SURNAMES or after[:2] in _COMPOUND_SURNAMES) or after[1:2] == "某" or after[2:3] == "某":
            continue
        window = text[m.start():m.end() + 5]
        offset = m.start()
        for word, flag in WORD_TAGS.cut(window):
            start = text.find(word, offset)
            offset = start + len(word) if start >= 0 else offset
            if start == m.end() and flag.startswith("nr") and "某" not in word and _HAN_NAME.fullmatch(word):
                names.append(word)
                break
            if start > m.end():
                break
    return names


# --- revision history ----------------------------------------------------------

#: What the revision history shows instead of a past value that must not be published.
REDACTED = "（已删除）"
#: The reviewed list of past values staff suppress (data/redactions.yaml).
REDACTIONS_FILE = "redactions.yaml"
_RECORD_ID = re.compile(ids.RECORD_ID.pattern + r"|[0-9]+(?:\.[0-9]+)+")  # a record, or a task (3.1)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Redaction:
    """One past value of one record that the history never shows (data/redactions.yaml)."""

    record: str  # the record's id at HEAD
    field: str | None  # the schema field name (note, content …); None: any field of the record
    value_sha256: str  # SHA-256 of the value as written (UTF-8, line ends \n, outer white space trimmed)
    reason: str
    approved_by: str
    approved_on: date


def value_sha256(value: str) -> str:
    """The hash a redaction names a past value by (see Redaction.value_sha256)."""
    import hashlib

    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_redactions(data_dir: Path, field_names: set[str] | None = None) -> tuple[list[Redaction], list]:
    """The redaction list of `data_dir` (absent: none) and the problems found in it.

    Every entry needs record, value_sha256, reason, approved_by and approved_on (a
    reviewed list: who approved it, and when); field is optional and, when given,
    must be a field of the schema (`field_names`)."""
    from generator.load import read_yaml
    from generator.problems import Problem

    problems: list = []
    path = Path(data_dir) / REDACTIONS_FILE
    if not os.path.lexists(path):
        return [], problems
    doc = read_yaml(path, Path(data_dir), problems)
    if doc is None:
        return [], problems
    if doc.value is None:
        return [], problems
    items = doc.value.get("redactions", ()) if isinstance(doc.value, dict) else ...
    if items is None:
        items = ()
    if not isinstance(items, (list, tuple)):
        problems.append(Problem(REDACTIONS_FILE, doc.line(("redactions",)), "redactions", "应为“redactions:”下的列表",
                                "格式见文件开头的说明", code="redactions"))
        return [], problems
    out: list[Redaction] = []
    for k, item in enumerate(items or ()):
        where = ("redactions", k)

        def bad(key: str, message: str, hint: str) -> None:
            problems.append(Problem(REDACTIONS_FILE, doc.line(where + (key,)), key, message, hint, code="redactions"))

        if not isinstance(item, dict):
            bad("record", f"第 {k + 1} 项应为“键: 值”的映射", "每项写 record、value_sha256、reason、approved_by、approved_on")
            continue
        text = {key: (item.get(key).strip() if isinstance(item.get(key), str) else None)
                for key in ("record", "field", "value_sha256", "reason", "approved_by", "approved_on")}
        ok = True
        if not text["record"] or not _RECORD_ID.fullmatch(text["record"]):
            bad("record", f"记录编号“{text['record'] or ''}”格式不对", "如 CM-2024-001，任务写 3.1")
            ok = False
        if item.get("field") is not None and (not text["field"] or (field_names is not None and text["field"] not in field_names)):
            bad("field", f"字段“{item.get('field')}”不存在", "写数据字典中的字段名（如 note、content），或删去此项表示该记录的任何字段")
            ok = False
        if not text["value_sha256"] or not _SHA256.fullmatch(text["value_sha256"]):
            bad("value_sha256", "value_sha256 应为 64 位小写十六进制", "计算方法：printf '%s' '旧值原文' | sha256sum")
            ok = False
        for key, label in (("reason", "删除原因"), ("approved_by", "审核人")):
            if not text[key]:
                bad(key, f"缺少{label}（{key}）", "删除清单须经审核：写明原因和审核人")
                ok = False
        approved_on = None
        try:
            approved_on = date.fromisoformat(text["approved_on"] or "")
        except ValueError:
            bad("approved_on", f"审核日期“{text['approved_on'] or ''}”格式不对", "日期格式为 YYYY-MM-DD")
            ok = False
        if ok and approved_on is not None:
            out.append(Redaction(text["record"], text["field"], text["value_sha256"], text["reason"],
                                 text["approved_by"], approved_on))
    return out, problems


class HistoryFilter:
    """Applied to every past and present value the revision history shows.

    A value is shown as REDACTED when it fails the checks current data must pass —
    a personal identifier in any form (find_identifiers), a full name after a title
    (find_titled_names), a person field that is not in masked form (the schema
    pattern) — or when the redaction list names it. Other values lose invisible and
    bidirectional control characters, as published text does.
    """

    def __init__(self, redactions: "tuple[Redaction, ...] | list[Redaction]" = ()):
        self._cache: dict[tuple[str, str, str], str] = {}
        self._redacted: dict[tuple[str, str], set[str | None]] = {}
        for r in redactions:
            self._redacted.setdefault((r.record, r.value_sha256), set()).add(r.field)

    def __call__(self, record_id: str, field, value: str | None) -> str | None:
        """The value to show for `field` (a schema Field) of record `record_id`."""
        if not value:
            return value
        key = (record_id, field.name, value)  # a value recurs in every version of its record
        shown = self._cache.get(key)
        if shown is None:
            shown = self._cache[key] = self._shown(record_id, field, value)
        return shown

    def _shown(self, record_id: str, field, value: str) -> str:
        if self._redacted:
            fields = self._redacted.get((record_id, value_sha256(value)))
            if fields is not None and (None in fields or field.name in fields):
                return REDACTED
        if might_hold_identifier(value) and find_identifiers(value):
            return REDACTED
        if field.name == "person" and field.pattern and not re.fullmatch(field.pattern, strip_invisible(value)):
            return REDACTED
        if might_hold_titled_name(value) and find_titled_names(value):
            return REDACTED
        return strip_invisible(value)


# --- site scan ---------------------------------------------------------------

_EXCERPT_CONTEXT = 20


def scan_text_files(
    root: Path,
    suffixes: tuple[str, ...] = (".html", ".json", ".csv", ".xml", ".txt", ".md"),
) -> list[tuple[Path, IdentifierMatch, str]]:
    """Scan every text file under `root` (a built site) for personal identifiers.

    HTML is scanned as raw text, so numbers hidden in attributes are found too.
    Returns (path, match, excerpt) sorted by path and position. The excerpt masks the
    identifier: the report ends up in CI logs, which must not republish it.
    """
    wanted = {s.lower() for s in suffixes}
    findings = []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or path.suffix.lower() not in wanted:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        matches = find_identifiers(text)
        # Mask all of them first: a neighbour may fall inside another's excerpt.
        pieces, done = [], 0
        for match in matches:
            pieces += [text[done : match.start], _mask(text[match.start : match.end])]
            done = match.end
        masked = "".join(pieces) + text[done:]
        for match in matches:
            findings.append((path, match, _excerpt(masked, match)))
    return findings


def _excerpt(masked: str, match: IdentifierMatch) -> str:
    excerpt = masked[max(0, match.start - _EXCERPT_CONTEXT) : match.end + _EXCERPT_CONTEXT]
    return " ".join(excerpt.split())


def _mask(identifier: str) -> str:
    # Keep the first three and last four characters, as Chinese banks and
    # government sites do, so staff can still recognise which number it was.
    positions = [i for i, c in enumerate(identifier) if c.isalnum()]
    hidden = set(positions[3:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(identifier))
