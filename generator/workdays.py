"""Chinese official working days (工作日), for deadlines such as "认定后七个工作日内".

The State Council publishes each year's holidays and make-up working days (调休上班)
late in the preceding year. chinese-calendar ships them; a year it does not know yet
can be supplied from data/calendar.yaml. A year known to neither is computed on
weekdays alone (Monday to Friday) and every date that touches it is an *estimate*:
`estimated()` says so, derive carries the flag to the page and the open data, and
validation warns, naming data/calendar.yaml. It never stops the build, because the
daily rebuild is what takes expired, repaired and revoked findings off the site.
`strict=True` restores the old behaviour (raise MissingCalendarYear) for callers that
must not estimate.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta

import chinese_calendar

__all__ = [
    "MissingCalendarYear",
    "WorkdayCalendar",
    "YearSchedule",
    "parse_calendar_data",
]


class MissingCalendarYear(Exception):
    """No holiday schedule is known for `year`."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"缺少 {year} 年的节假日安排：chinese-calendar 尚未收录该年份，"
            "请在 data/calendar.yaml 中按国务院办公厅通知补充。"
        )


@dataclass(frozen=True)
class YearSchedule:
    """One year's schedule as published in the State Council notice.

    `holidays` are the days off (including rest days created by 调休; listing a weekend
    day is harmless); `workdays` are the weekend days that are make-up working days.
    """

    notice: str
    holidays: frozenset[date]
    workdays: frozenset[date]


class WorkdayCalendar:
    """Working-day arithmetic over chinese-calendar plus years supplied as data."""

    def __init__(self, extra_years: Mapping[int, YearSchedule] | None = None, strict: bool = False):
        self._extra = dict(extra_years or {})
        self._strict = strict
        self._library_covers: dict[int, bool] = {}
        # Per year, the sorted ordinals of its working days: membership and counting
        # then cost one bisect, which keeps deadline checks over many records cheap.
        self._ordinals: dict[int, tuple[int, ...]] = {}
        self._sets: dict[int, frozenset[int]] = {}

    def identity(self) -> str:
        """Everything the answers depend on, as text (for cache keys): the years supplied as
        data, strictness, and chinese-calendar's version and schedule tables."""
        import hashlib
        from pathlib import Path

        tables = Path(chinese_calendar.__file__).with_name("constants.py")
        library = hashlib.sha1(tables.read_bytes()).hexdigest() if tables.is_file() else ""
        years = sorted((y, s.notice, sorted(s.holidays), sorted(s.workdays)) for y, s in self._extra.items())
        return repr((self._strict, years, getattr(chinese_calendar, "__version__", ""), library))

    def covers(self, year: int) -> bool:
        if year in self._extra:
            return True
        if year not in self._library_covers:
            self._library_covers[year] = _library_covers(year)
        return self._library_covers[year]

    def estimated(self, start: date, end: date | None = None) -> bool:
        """Whether a date computed over start..end relies on a year no schedule covers."""
        end = end or start
        if start.year == end.year:  # (the usual case: a deadline in its event's year)
            return not self.covers(start.year)
        low, high = min(start, end), max(start, end)
        return not all(self.covers(y) for y in range(low.year, high.year + 1))

    def uncovered_years(self, start: date, end: date) -> tuple[int, ...]:
        low, high = min(start, end), max(start, end)
        return tuple(y for y in range(low.year, high.year + 1) if not self.covers(y))

    def is_workday(self, day: date) -> bool:
        self._year_ordinals(day.year)
        return day.toordinal() in self._sets[day.year]

    def add_workdays(self, start: date, n: int) -> date:
        """Return the date of the n-th working day after `start`.

        `start` itself never counts, even when it is a working day: "认定后七个工作日内"
        runs from the next day, so a finding on a Monday with no holidays is due the
        Wednesday of the following week (n=7). This is the convention stated on the
        site's methodology page. Requires n >= 1.
        """
        if n < 1:
            raise ValueError(f"工作日天数应为正整数，实际为 {n}。")
        after = start.toordinal() + 1
        year = date.fromordinal(after).year
        ordinals = self._year_ordinals(year)
        index = bisect_left(ordinals, after) + n - 1
        while index >= len(ordinals):
            index -= len(ordinals)
            year += 1
            ordinals = self._year_ordinals(year)
        return date.fromordinal(ordinals[index])

    def workdays_between(self, start: date, end: date) -> int:
        """Count working days d with start < d <= end (0 when end <= start).

        The inverse of add_workdays: end <= add_workdays(start, n) exactly when
        workdays_between(start, end) <= n.
        """
        if end <= start:
            return 0
        first = start + timedelta(days=1)
        low, high = first.toordinal(), end.toordinal()
        count = 0
        for year in range(first.year, end.year + 1):
            ordinals = self._year_ordinals(year)
            count += bisect_right(ordinals, high) - bisect_left(ordinals, low)
        return count

    def _year_ordinals(self, year: int) -> tuple[int, ...]:
        cached = self._ordinals.get(year)
        if cached is not None:
            return cached
        if not self.covers(year):
            if self._strict:
                raise MissingCalendarYear(year)
            is_working = _weekday_rule  # an estimate: see estimated()
        else:
            schedule = self._extra.get(year)
            is_working = _library_is_workday if schedule is None else _schedule_rule(schedule)
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        ordinals = tuple(
            o for o in range(first, last + 1) if is_working(date.fromordinal(o))
        )
        self._ordinals[year] = ordinals
        self._sets[year] = frozenset(ordinals)
        return ordinals


def _library_covers(year: int) -> bool:
    if not MINYEAR <= year <= MAXYEAR:
        return False
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _library_is_workday(day: date) -> bool:
    """chinese_calendar.is_workday(day) for a day of a year the library covers, read from its
    public tables (its __all__: `workdays`, the make-up working days; `holidays`, the days off)
    as is_workday reads them, without is_workday's check of the day's year, which takes the
    least and greatest of every holiday on each call: a year's 365 days cost 8 ms that way,
    and a build asks for every year from the oldest record's on (tests/test_workdays.py
    holds the two equal on every day the library covers)."""
    return day in _LIBRARY_WORKDAYS or (day.weekday() <= 4 and day not in _LIBRARY_HOLIDAYS)


_LIBRARY_WORKDAYS = chinese_calendar.workdays
_LIBRARY_HOLIDAYS = chinese_calendar.holidays


def _weekday_rule(day: date) -> bool:
    return day.weekday() < 5


def _schedule_rule(schedule: YearSchedule):
    def is_working(day: date) -> bool:
        if day.weekday() >= 5:
            return day in schedule.workdays
        return day not in schedule.holidays

    return is_working


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")


def parse_calendar_data(raw: Mapping) -> dict[int, YearSchedule]:
    """Build the extra years from the parsed content of data/calendar.yaml.

    Keys and dates may be strings (the loader keeps YAML scalars as text), ints or
    dates. Anything doubtful raises ValueError naming the year and the value, because
    a wrong holiday silently shifts every deadline that crosses it.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("节假日安排文件的内容应为映射，顶层应有 years。")
    years = raw.get("years")
    if years in (None, ""):
        return {}
    if not isinstance(years, Mapping):
        raise ValueError("years 应为按年份分组的映射，例如 years: {2027: {...}}。")
    result: dict[int, YearSchedule] = {}
    for key, entry in years.items():
        year = _parse_year(key)
        if year in result:
            raise ValueError(f"{year} 年的节假日安排重复出现。")
        result[year] = _parse_year_entry(year, entry)
    return result


def _parse_year(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        year = key
    elif isinstance(key, str) and _YEAR.fullmatch(key.strip()):
        year = int(key.strip())
    else:
        raise ValueError(f"年份“{key}”无效：应为四位数字年份，例如 2027。")
    if not 1900 <= year <= 2100:
        raise ValueError(f"年份“{key}”无效：应在 1900 至 2100 年之间。")
    return year


def _parse_year_entry(year: int, entry: object) -> YearSchedule:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{year} 年的节假日安排应为映射，包含 notice、holidays、workdays。")
    unknown = sorted(str(k) for k in entry if k not in ("notice", "holidays", "workdays"))
    if unknown:
        raise ValueError(f"{year} 年的节假日安排含有未知字段：{'、'.join(unknown)}。")
    notice = entry.get("notice")
    if not isinstance(notice, str) or not notice.strip():
        raise ValueError(f"{year} 年缺少 notice：请填写国务院办公厅通知的标题和文号。")
    holidays = _parse_dates(year, "holidays", entry)
    if not holidays:
        raise ValueError(f"{year} 年的 holidays 为空：请按通知列出全部放假日期。")
    workdays = _parse_dates(year, "workdays", entry)
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise ValueError(
                f"{year} 年 workdays 中的 {day.isoformat()} 不是周末："
                "这里只列调休上班的周六、周日。"
            )
    both = sorted(holidays & workdays)
    if both:
        raise ValueError(
            f"{year} 年的 {both[0].isoformat()} 同时出现在 holidays 和 workdays 中。"
        )
    return YearSchedule(notice=notice.strip(), holidays=holidays, workdays=workdays)


def _parse_dates(year: int, field: str, entry: Mapping) -> frozenset[date]:
    if field not in entry:
        hint = "（没有调休上班日时写 workdays: []）" if field == "workdays" else ""
        raise ValueError(f"{year} 年缺少 {field}{hint}。")
    values = entry[field]
    if values is None:
        values = []
    if isinstance(values, (str, bytes, date)) or not isinstance(values, (list, tuple)):
        raise ValueError(f"{year} 年的 {field} 应为日期列表，实际为“{values}”。")
    days = set()
    for value in values:
        day = _parse_date(value)
        if day is None:
            raise ValueError(
                f"{year} 年 {field} 中的“{value}”不是有效日期，应写成 {year}-01-01 的格式。"
            )
        if day.year != year:
            raise ValueError(f"{year} 年 {field} 中的 {day.isoformat()} 不在 {year} 年内。")
        days.add(day)
    return frozenset(days)


def _parse_date(value: object) -> date | None:
    if isinstance(value, date):
        # datetime is a date subclass; a time of day means nothing here.
        return date(value.year, value.month, value.day)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
