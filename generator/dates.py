"""The range of as-of dates the generator accepts: 2000-01-01 to 2099-12-31.

Outside it the working-day calendar has no holiday schedules, ZIP files (the XLSX
download) cannot carry the date, and month arithmetic leaves four-digit years; a date
outside the range is refused with a message instead of failing deep inside a stage.
"""

from __future__ import annotations

from datetime import date

from generator.problems import GeneratorError

AS_OF_MIN = date(2000, 1, 1)
AS_OF_MAX = date(2099, 12, 31)
RANGE_TEXT = f"{AS_OF_MIN.isoformat()} 至 {AS_OF_MAX.isoformat()}"


class DateOutOfRange(GeneratorError):
    """An as-of date outside AS_OF_MIN..AS_OF_MAX (exit 2)."""


def check_as_of(day: date, what: str = "--as-of") -> date:
    """`day`, or DateOutOfRange naming the accepted range."""
    if not AS_OF_MIN <= day <= AS_OF_MAX:
        raise DateOutOfRange(f"{what} {day.isoformat()} 超出支持的日期范围（{RANGE_TEXT}），请给出这个范围内的日期")
    return day
