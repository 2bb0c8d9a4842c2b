"""The calendar of coming deadlines (iCalendar, RFC 5545), served at /feeds/deadlines.ics.

One all-day event (DTSTART;VALUE=DATE) per deadline on or after the as-of date:

- a commitment still open (履行中, 部分兑现, 未兑现): its 兑现期限;
- an instalment of an arrears plan not yet paid in full: its due date;
- an objection to a finding not yet decided: its reply deadline (working days);
- a finding on display: the last day of its disclosure period.

Deterministic: DTSTAMP is midnight of the as-of date in the site's zone (as UTC),
UIDs derive from the record id and what is due, events come in date order.
Findings off display are not in `Facts`, so the calendar cannot name them.
Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from generator import __version__
from generator.derive import OPEN_COMMITMENT, Facts

FOLD_OCTETS = 75


@dataclass(frozen=True)
class Deadline:
    day: date
    uid: str  # unique within the calendar, stable across builds
    summary: str
    description: str
    url: str
    category: str  # 承诺兑现期限 | 分期清偿 | 异议答复期限 | 公示截止


def _money(value) -> str:
    return f"{value:,.2f} 元"


def deadlines(facts: Facts) -> list[Deadline]:
    """Every deadline on or after the as-of date, earliest first (ties by uid)."""
    as_of, base = facts.as_of, facts.site.base_url
    out: list[Deadline] = []
    for c in facts.commitments:
        r = c.record
        if r.status in OPEN_COMMITMENT and r.deadline >= as_of:
            out.append(Deadline(r.deadline, f"{r.id}/deadline", f"承诺兑现期限：{r.title}",
                                f"{r.id}，{c.department_name}作出的承诺，当前状态：{r.status}。",
                                f"{base}commitments/{r.id}/", "承诺兑现期限"))
    for a in facts.arrears:
        r = a.record
        for k, inst in enumerate(a.instalments, 1):
            i = inst.instalment
            if inst.shortfall > 0 and i.due_on >= as_of:
                out.append(Deadline(i.due_on, f"{r.id}/plan/{i.due_on.isoformat()}/{k}",
                                    f"分期清偿到期：{a.debtor_name}（{r.id}）",
                                    f"{r.project}，按清偿计划第 {k} 期应付 {_money(i.amount)}，尚差 {_money(inst.shortfall)}。",
                                    f"{base}arrears/{r.id}/", "分期清偿"))
    for f in facts.findings:  # on display only
        r = f.record
        for k, o in enumerate(f.objections, 1):
            decided = o.objection.decided_on is not None and o.objection.decided_on <= as_of
            if not decided and o.objection.filed_on <= as_of and o.reply_due >= as_of:
                out.append(Deadline(o.reply_due, f"{r.id}/objection/{o.objection.filed_on.isoformat()}/{k}",
                                    f"异议答复期限：{f.subject_name}{r.category}（{r.id}）",
                                    f"{o.objection.filed_on.isoformat()} 提出的异议，应于本日前书面答复。",
                                    f"{base}findings/{r.id}/", "异议答复期限"))
        if f.disclosure_end >= as_of:
            out.append(Deadline(f.disclosure_end, f"{r.id}/disclosure-end", f"公示截止：{f.subject_name}{r.category}（{r.id}）",
                                f"{r.severity}失信记录，本日为公示的最后一天，期满后自动停止公示。",
                                f"{base}findings/{r.id}/", "公示截止"))
    return sorted(out, key=lambda d: (d.day, d.uid))


def escape_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with a space), never inside a UTF-8 character."""
    if len(line) * 4 <= FOLD_OCTETS:  # fits: most lines
        return line
    data = line.encode("utf-8")
    if len(data) <= FOLD_OCTETS:
        return line
    # Cut the octets (not the characters): at most `limit` octets a piece, moved back over
    # continuation octets (10xxxxxx) to the start of the character they belong to.
    pieces, start, limit = [], 0, FOLD_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:
            end -= 1
        pieces.append(data[start:end])
        start, limit = end, FOLD_OCTETS - 1  # the leading space counts
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8")


def _stamp(facts: Facts) -> str:
    midnight = datetime.combine(facts.as_of, time(), tzinfo=ZoneInfo(facts.site.timezone))
    return midnight.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ics_bytes(facts: Facts) -> bytes:
    site = facts.site
    host = urlsplit(site.base_url).hostname or "localhost"
    sample = "【演示数据】" if site.sample else ""
    stamp = _stamp(facts)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(site.publisher)}//zhanqian-integrity-publisher {__version__}//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(sample + site.site_name + ' 截止日期')}",
        f"X-WR-CALDESC:{escape_text(sample + '即将到期的事项：承诺兑现期限、分期清偿、异议答复期限、失信记录公示截止。数据截至 ' + facts.as_of.isoformat() + '。')}",
        f"X-WR-TIMEZONE:{site.timezone}",
        "REFRESH-INTERVAL;VALUE=DURATION:P1D",
        "X-PUBLISHED-TTL:P1D",
    ]
    for d in deadlines(facts):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(d.uid)}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{d.day.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(d.day + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{escape_text(sample + d.summary)}",
            f"DESCRIPTION:{escape_text(d.description + ' ' + d.url)}",
            f"URL:{d.url}",
            f"CATEGORIES:{escape_text(d.category)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
