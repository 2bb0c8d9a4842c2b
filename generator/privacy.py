"""Personal identifiers that must never appear on the published site.

Records name companies and offices, never private persons' numbers. A 居民身份证号,
手机号码 or 银行卡号 that slips into a record (a contact line, a pasted ledger row)
must be caught before publication. Detection relies on checksums and structure,
not on digit counts alone, so that dates, amounts, file numbers and 统一社会信用代码,
which records legitimately contain, are left alone.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = [
    "KIND_LABELS",
    "IdentifierMatch",
    "find_identifiers",
    "id_card_check_char",
    "luhn_is_valid",
    "scan_text_files",
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


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise ValueError(
            f"统一社会信用代码前 17 位应由数字和大写字母（不含 I、O、Z、S、V）组成，"
            f"实际为“{first17}”。"
        )
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """Whether `code` is a well-formed 统一社会信用代码 (upper case, as issued)."""
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
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


# --- detection ---------------------------------------------------------------

# Chinese documents often type numbers in full-width forms; mapping them one to one
# keeps match positions valid in the original text.
_NARROW = str.maketrans(
    {
        **{chr(0xFF10 + i): chr(0x30 + i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "\uff0b": "+",
        "\uff0d": "-",
        "\u3000": " ",
        "\u00a0": " ",
    }
)

# Digits that belong to a decimal number are an amount, whatever their checksum.
_AFTER_NO_POINT = r"(?<![0-9]\.)"
_BEFORE_NO_POINT = r"(?!\.[0-9])"

_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])" + _AFTER_NO_POINT
    + r"(?:[0-9]{17}[0-9Xx]|[0-9]{6}(?P<s>[ -])[0-9]{8}(?P=s)[0-9]{3}[0-9Xx])"
    + r"(?![0-9A-Za-z])" + _BEFORE_NO_POINT,
    re.ASCII,
)

_MOBILE_RE = re.compile(
    r"(?<![0-9])" + _AFTER_NO_POINT
    + r"(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?P<s>[ -]?)[0-9]{4}(?P=s)[0-9]{4}"
    + r"(?![0-9])" + _BEFORE_NO_POINT,
    re.ASCII,
)

# Bank cards start with 2–6 (ISO/IEC 7812 banking and financial issuers) or 9 (older
# domestic cards such as 9558…). Excluding 0, 1, 7 and 8 keeps millisecond timestamps
# and serial numbers out, since Luhn alone passes one number in ten. A run glued to
# Latin letters or hyphenated onto a code is part of that code. Grouped numbers are
# 4-4-4-(1..4) or 4-4-4-4-(1..3), one separator throughout.
_BANK_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)" + _AFTER_NO_POINT
    + r"(?:[2-69][0-9]{12,18}"
    + r"|(?<![0-9] )[2-69][0-9]{3}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)"
    + r"(?:[0-9]{4}(?P=s)[0-9]{1,3}|[0-9]{1,4}))"
    + r"(?![0-9A-Za-z])(?!-[0-9A-Za-z])(?!(?P=s)[0-9])" + _BEFORE_NO_POINT,
    re.ASCII,
)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c in "Xx")


def _is_id_card(candidate: str) -> bool:
    number = _digits(candidate).upper()
    if id_card_check_char(number[:17]) != number[17]:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100


def _is_bank_card(candidate: str) -> bool:
    number = _digits(candidate)
    if not 13 <= len(number) <= 19 or not luhn_is_valid(number):
        return False
    # All-digit 统一社会信用代码 are 18 digits too, and public by law.
    return not (len(number) == 18 and number == candidate and uscc_is_valid(number))


_DETECTORS = (
    ("id_card", _ID_RE, _is_id_card),
    ("mobile", _MOBILE_RE, None),
    ("bank_card", _BANK_RE, _is_bank_card),
)


#: A hexadecimal digest (git commit id, sha256): 40 or 64 hex digits standing alone. Its digits
#: are random, so a run of them can look like a mobile number; it is never an identifier.
_DIGEST_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-f]{64}|[0-9a-f]{40})(?![0-9A-Za-z])", re.ASCII)
_HEX_HINT = re.compile(r"[0-9a-f]{40}", re.ASCII)


def find_identifiers(text: str) -> list[IdentifierMatch]:
    """Every personal identifier in `text`, ordered by position, never overlapping.

    Recognised: 18-character 居民身份证号 (GB 11643 check character and a real birth
    date; also written 6-8-4 with spaces or hyphens), mainland mobile numbers
    (1[3-9] + 9 digits, optionally 3-4-4 with spaces or hyphens, optionally +86/86/0086),
    and 13–19 digit bank card numbers passing Luhn (optionally in groups of four).
    None of them may be part of a longer run of digits, of a decimal number or of a
    40- or 64-digit hexadecimal digest (a commit id, a sha256 checksum). Bank
    cards must also start with 2–6 or 9, stand apart from Latin letters and hyphenated
    codes, and not be an all-digit valid 统一社会信用代码. Full-width digits count.
    """
    narrow = text.translate(_NARROW)
    digests = [m.span() for m in _DIGEST_RE.finditer(narrow)] if _HEX_HINT.search(narrow) else []
    taken: list[IdentifierMatch] = []  # kept sorted by start; never overlapping
    for kind, pattern, is_valid in _DETECTORS:
        for found in pattern.finditer(narrow):
            start, end = found.span()
            if is_valid is not None and not is_valid(found.group()):
                continue
            if digests and any(d_start <= start and end <= d_end for d_start, d_end in digests):
                continue  # digits inside a commit id or a sha256 digest (the publication manifest, the footer)
            index = bisect_left(taken, start, key=lambda m: m.start)
            if index > 0 and taken[index - 1].end > start:
                continue
            if index < len(taken) and taken[index].start < end:
                continue
            taken.insert(index, IdentifierMatch(kind, start, end))
    return taken


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
