"""Working-day arithmetic, checked against the published 2024–2026 schedules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.workdays import (
    MissingCalendarYear,
    WorkdayCalendar,
    YearSchedule,
    parse_calendar_data,
)

CAL = WorkdayCalendar()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 2, 4), True),  # Sunday, 调休 before 春节
        (date(2024, 2, 10), False),  # 春节 (Saturday)
        (date(2024, 2, 12), False),  # 春节 (Monday)
        (date(2024, 2, 18), True),  # Sunday, 调休 after 春节
        (date(2024, 9, 29), True),  # Sunday, 调休 before 国庆
        (date(2024, 10, 7), False),  # 国庆 (Monday)
        (date(2024, 10, 12), True),  # Saturday, 调休 after 国庆
        (date(2024, 10, 13), False),  # ordinary Sunday
        (date(2025, 1, 1), False),  # 元旦
        (date(2025, 1, 26), True),  # Sunday, 调休 before 春节
        (date(2025, 2, 8), True),  # Saturday, 调休 after 春节
        (date(2025, 5, 5), False),  # 劳动节 (Monday)
        (date(2025, 9, 28), True),  # Sunday, 调休 before 国庆
        (date(2025, 10, 8), False),  # 国庆 (Wednesday)
        (date(2025, 10, 9), True),  # first day back after 国庆
        (date(2025, 10, 11), True),  # Saturday, 调休 after 国庆
        (date(2026, 1, 2), False),  # 元旦 (Friday)
        (date(2026, 1, 4), True),  # Sunday, 调休 after 元旦
        (date(2026, 2, 14), True),  # Saturday, 调休 before 春节
        (date(2026, 2, 23), False),  # 春节 (Monday)
        (date(2026, 2, 28), True),  # Saturday, 调休 after 春节
        (date(2026, 9, 20), True),  # Sunday, 调休 before 国庆
        (date(2026, 10, 10), True),  # Saturday, 调休 after 国庆
        (date(2026, 3, 4), True),  # ordinary Wednesday
        (date(2026, 3, 7), False),  # ordinary Saturday
    ],
)
def test_is_workday_matches_official_schedule(day, expected):
    assert CAL.is_workday(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # A Friday before a 调休 weekend day: the next working day is that weekend day.
        (date(2024, 2, 2), 1, date(2024, 2, 4)),
        (date(2024, 9, 27), 1, date(2024, 9, 29)),
        (date(2025, 9, 26), 1, date(2025, 9, 28)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        (date(2026, 10, 9), 1, date(2026, 10, 10)),
        # Counting across 国庆: 9-28 (Sun), 9-29, 9-30, 10-9, 10-10, 10-11 (Sat), 10-13.
        (date(2025, 9, 26), 7, date(2025, 10, 13)),
        (date(2024, 9, 30), 7, date(2024, 10, 15)),
        (date(2026, 9, 25), 7, date(2026, 10, 12)),
        # Counting across 春节.
        (date(2024, 2, 9), 1, date(2024, 2, 18)),
        (date(2024, 2, 9), 7, date(2024, 2, 26)),
        (date(2025, 1, 24), 7, date(2025, 2, 10)),
        (date(2026, 2, 6), 7, date(2026, 2, 24)),
        (date(2026, 2, 13), 3, date(2026, 2, 25)),
        # A start on 31 December, across 元旦.
        (date(2024, 12, 31), 1, date(2025, 1, 2)),
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        (date(2025, 12, 31), 3, date(2026, 1, 6)),
        # A start on a holiday.
        (date(2025, 10, 1), 1, date(2025, 10, 9)),
        (date(2025, 1, 28), 1, date(2025, 2, 5)),
        (date(2024, 5, 1), 1, date(2024, 5, 6)),
        (date(2026, 1, 1), 1, date(2026, 1, 4)),
        # A start on a weekend.
        (date(2024, 10, 13), 1, date(2024, 10, 14)),
        (date(2026, 1, 3), 1, date(2026, 1, 4)),
        # A start on a 调休 working day does not count itself.
        (date(2024, 10, 12), 1, date(2024, 10, 14)),
        (date(2024, 2, 4), 1, date(2024, 2, 5)),
        # Ordinary weeks: Monday + 7 is Wednesday of the following week.
        (date(2026, 3, 2), 7, date(2026, 3, 11)),
        (date(2026, 12, 30), 1, date(2026, 12, 31)),
    ],
)
def test_add_workdays(start, n, expected):
    assert CAL.add_workdays(start, n) == expected
    assert CAL.workdays_between(start, expected) == n


@pytest.mark.parametrize("n", [0, -1])
def test_add_workdays_rejects_non_positive_n(n):
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2025, 3, 3), n)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2025, 3, 3), date(2025, 3, 3), 0),  # same day: start excluded
        (date(2025, 3, 4), date(2025, 3, 3), 0),  # end before start
        (date(2025, 3, 3), date(2025, 3, 4), 1),  # end included
        (date(2025, 3, 7), date(2025, 3, 9), 0),  # Friday to Sunday
        (date(2025, 3, 7), date(2025, 3, 10), 1),
        (date(2025, 9, 30), date(2025, 10, 8), 0),  # whole 国庆 holiday
        (date(2025, 9, 26), date(2025, 10, 12), 6),
        (date(2025, 9, 26), date(2025, 10, 13), 7),
        (date(2024, 12, 31), date(2025, 1, 1), 0),
        (date(2024, 12, 31), date(2025, 1, 2), 1),
        (date(2025, 12, 31), date(2026, 1, 4), 1),
        (date(2023, 12, 31), date(2026, 12, 31), 251 + 248 + 248),
    ],
)
def test_workdays_between(start, end, expected):
    assert CAL.workdays_between(start, end) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # weekdays − weekday holidays + make-up weekend days, counted from the notices:
        (2024, 262 - 19 + 8),
        (2025, 261 - 18 + 5),
        (2026, 261 - 19 + 6),
    ],
)
def test_whole_years_have_official_working_day_counts(year, expected):
    assert CAL.workdays_between(date(year - 1, 12, 31), date(year, 12, 31)) == expected


def test_accepts_datetime():
    assert CAL.is_workday(datetime(2024, 2, 4, 9, 30)) is True


@pytest.mark.parametrize("year", [2027, 1999])
def test_strict_calendar_raises_for_an_uncovered_year(year):
    cal = WorkdayCalendar(strict=True)
    assert not cal.covers(year)
    with pytest.raises(MissingCalendarYear) as info:
        cal.is_workday(date(year, 6, 1))
    assert info.value.year == year
    assert f"{year} 年" in str(info.value)
    assert "data/calendar.yaml" in str(info.value)


def test_strict_counting_into_an_uncovered_year_raises():
    strict = WorkdayCalendar(strict=True)
    with pytest.raises(MissingCalendarYear) as info:
        strict.add_workdays(date(2026, 12, 31), 1)
    assert info.value.year == 2027
    with pytest.raises(MissingCalendarYear):
        strict.workdays_between(date(2026, 12, 1), date(2027, 1, 5))


@pytest.mark.parametrize(("start", "n", "expected", "estimated"), [
    # The case: an objection filed on Friday 2026-12-18, 15 working days to reply.
    # 2026 is covered (no holiday left after 12-18); 2027 is not: weekdays only, an estimate.
    (date(2026, 12, 18), 15, date(2027, 1, 8), True),
    (date(2026, 12, 30), 1, date(2026, 12, 31), False),  # last working day of a covered year
    (date(2026, 12, 31), 1, date(2027, 1, 1), True),  # 元旦 2027 would be a holiday: only a guess
    (date(2027, 6, 4), 1, date(2027, 6, 7), True),  # Friday → Monday, weekends skipped
])
def test_uncovered_year_is_estimated_on_weekdays(start, n, expected, estimated):
    cal = WorkdayCalendar()
    due = cal.add_workdays(start, n)
    assert due == expected
    assert cal.estimated(start, due) is estimated
    assert cal.workdays_between(start, due) == n


def test_estimated_names_the_uncovered_years():
    assert CAL.uncovered_years(date(2026, 12, 1), date(2028, 1, 5)) == (2027, 2028)
    assert CAL.uncovered_years(date(2025, 1, 1), date(2026, 12, 31)) == ()
    assert not CAL.estimated(date(2026, 5, 1))
    assert CAL.estimated(date(2027, 5, 1))


def test_covers_probes_the_library_once_per_year(monkeypatch):
    import chinese_calendar

    calls = []
    real = chinese_calendar.is_workday

    def spy(day):
        calls.append(day)
        return real(day)

    monkeypatch.setattr(chinese_calendar, "is_workday", spy)
    cal = WorkdayCalendar()
    assert cal.covers(2025) and cal.covers(2025) and cal.covers(2025)
    assert len(calls) == 1


def test_library_years_agree_with_chinese_calendar_on_every_day():
    """The years the library covers are read from its public tables (workdays._library_is_workday),
    not through is_workday day by day: the same answer on every day of every year it knows."""
    import chinese_calendar

    cal = WorkdayCalendar()
    years = [y for y in range(1990, 2100) if cal.covers(y)]
    assert len(years) >= 20
    for year in years:
        day = date(year, 1, 1)
        while day.year == year:
            assert cal.is_workday(day) is chinese_calendar.is_workday(day), day
            day += timedelta(days=1)


# A made-up 2030 schedule: distinct enough that a weekend-only guess would disagree.
SCHEDULE_2030 = YearSchedule(
    notice="国务院办公厅关于2030年部分节假日安排的通知（测试数据）",
    holidays=frozenset({date(2030, 1, 1), date(2030, 10, 1), date(2030, 10, 2), date(2030, 10, 5)}),
    workdays=frozenset({date(2030, 9, 29)}),  # a Sunday
)


def test_extra_years_supply_a_missing_year():
    cal = WorkdayCalendar({2030: SCHEDULE_2030}, strict=True)
    assert cal.covers(2030)
    assert not cal.covers(2031)
    assert cal.is_workday(date(2030, 9, 29)) is True  # make-up Sunday
    assert cal.is_workday(date(2030, 10, 1)) is False  # weekday holiday
    assert cal.is_workday(date(2030, 10, 5)) is False  # holiday on a Saturday
    assert cal.is_workday(date(2030, 10, 6)) is False  # ordinary Sunday
    assert cal.is_workday(date(2030, 10, 3)) is True
    # Friday 9-27 → Sunday 9-29, Monday 9-30, then 10-3.
    assert cal.add_workdays(date(2030, 9, 27), 3) == date(2030, 10, 3)
    assert cal.workdays_between(date(2030, 9, 27), date(2030, 10, 3)) == 3
    with pytest.raises(MissingCalendarYear) as info:
        cal.is_workday(date(2031, 1, 2))
    assert info.value.year == 2031
    assert "2031 年" in str(info.value)
    with pytest.raises(MissingCalendarYear):
        cal.add_workdays(date(2030, 12, 31), 1)


def test_extra_years_override_the_library():
    overriding = YearSchedule(
        notice="测试：覆盖程序库数据",
        holidays=frozenset({date(2025, 3, 3)}),
        workdays=frozenset(),
    )
    cal = WorkdayCalendar({2025: overriding})
    assert cal.is_workday(date(2025, 3, 3)) is False
    assert cal.is_workday(date(2025, 10, 1)) is True  # the library's 国庆 is replaced
    assert cal.is_workday(date(2025, 9, 28)) is False  # and so is its make-up Sunday


# --- parse_calendar_data -----------------------------------------------------


def test_parse_calendar_data_from_strings():
    raw = {
        "years": {
            "2030": {
                "notice": " 国务院办公厅关于2030年部分节假日安排的通知 ",
                "holidays": ["2030-01-01", "2030-10-01", "2030-10-02", "2030-10-05"],
                "workdays": ["2030-09-29"],
            }
        }
    }
    parsed = parse_calendar_data(raw)
    assert parsed == {
        2030: YearSchedule(
            notice="国务院办公厅关于2030年部分节假日安排的通知",
            holidays=SCHEDULE_2030.holidays,
            workdays=SCHEDULE_2030.workdays,
        )
    }
    assert WorkdayCalendar(parsed).add_workdays(date(2030, 9, 27), 3) == date(2030, 10, 3)


def test_parse_calendar_data_from_native_values():
    raw = {
        "years": {
            2030: {
                "notice": "通知",
                "holidays": [date(2030, 1, 1), datetime(2030, 10, 1, 0, 0)],
                "workdays": [],
            }
        }
    }
    parsed = parse_calendar_data(raw)
    assert parsed[2030].holidays == frozenset({date(2030, 1, 1), date(2030, 10, 1)})
    assert parsed[2030].workdays == frozenset()


@pytest.mark.parametrize("raw", [{"years": {}}, {"years": None}, {"years": ""}, {}, None])
def test_parse_calendar_data_empty(raw):
    assert parse_calendar_data(raw) == {}


def _year(**fields):
    entry = {"notice": "通知", "holidays": ["2030-01-01"], "workdays": []}
    entry.update(fields)
    return {"years": {"2030": {k: v for k, v in entry.items() if v is not ...}}}


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ({"years": {"二〇三〇": {}}}, ["二〇三〇"]),
        ({"years": {"30": {}}}, ["30"]),
        ({"years": {"2030": "放假"}}, ["2030"]),
        ({"years": ["2030"]}, ["years"]),
        ("years: {}", []),
        (_year(notice=""), ["2030", "notice"]),
        (_year(notice=...), ["2030", "notice"]),
        (_year(holidays=...), ["2030", "holidays"]),
        (_year(workdays=...), ["2030", "workdays"]),
        (_year(holidays=[]), ["2030", "holidays"]),
        (_year(holidays="2030-01-01"), ["2030", "2030-01-01"]),
        (_year(holidays=["2030-02-30"]), ["2030", "2030-02-30"]),
        (_year(holidays=["2030/01/01"]), ["2030", "2030/01/01"]),
        (_year(holidays=["20300101"]), ["2030", "20300101"]),
        (_year(holidays=[20300101]), ["2030", "20300101"]),
        (_year(holidays=["2031-01-01"]), ["2030", "2031-01-01"]),
        (_year(workdays=["2030-10-08"]), ["2030", "2030-10-08"]),  # a Tuesday
        (_year(holidays=["2030-09-29"], workdays=["2030-09-29"]), ["2030", "2030-09-29"]),
        (_year(holiday=["2030-01-01"]), ["2030", "holiday"]),
        ({"years": {"2030": _year()["years"]["2030"], 2030: _year()["years"]["2030"]}}, ["2030"]),
    ],
)
def test_parse_calendar_data_rejects_bad_input(raw, fragments):
    with pytest.raises(ValueError) as info:
        parse_calendar_data(raw)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


# --- properties and speed ----------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 11, 15)),  # 2027 is not published yet
    n=st.integers(min_value=1, max_value=30),
)
def test_add_workdays_and_workdays_between_agree(start, n):
    due = CAL.add_workdays(start, n)
    assert CAL.is_workday(due)
    assert due > start
    assert CAL.workdays_between(start, due) == n
    assert CAL.workdays_between(start, due - timedelta(days=1)) == n - 1


def test_many_calls_are_fast():
    import time

    cal = WorkdayCalendar()
    began = time.perf_counter()
    for i in range(100_000):
        cal.add_workdays(date(2024, 1, 1) + timedelta(days=i % 900), 1 + i % 30)
    assert time.perf_counter() - began < 2.0  # generous for slow CI; ~0.2 s locally
