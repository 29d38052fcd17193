"""When a site is crawled, as its plugin's ``schedule`` says: parsing and fire times (pure).

A schedule is one of

* a five-field cron expression, ``minute hour day-of-month month day-of-week``, evaluated in
  Beijing time (Asia/Shanghai, the district's; no daylight saving time since 1991). Each field
  is ``*``, a number, a range ``1-5``, a step ``*/15`` / ``1-10/2`` / ``5/15`` (= ``5-max/15``),
  or a comma list of those; months take ``jan``–``dec`` and weekdays ``sun``–``sat``, Sunday is
  0 or 7. As in Vixie cron (Debian's cron), when both day-of-month and day-of-week are
  restricted (neither starts with ``*``) a day matches when *either* does; otherwise both must.
  The macros ``@hourly @daily @midnight @weekly @monthly @yearly @annually`` are accepted.
* an interval, ``every 6h``, ``every 30m``, ``every 2d``, ``every 1h30m``: due when the last
  run started at least that long ago.
* ``manual``: never due; the site is crawled only when named (``blgw crawl CODE``).

A site is *due* (:func:`is_due`) when it never ran, or when a fire time of its cron expression
lies after the start of its last run and not after now (a missed fire time is caught up once,
not once per missed time); an interval site when ``last start + interval <= now``. Which sites
are due now, and the scheduler that crawls them, are :mod:`gateway.ops.scheduling`.
"""

from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import overload
from zoneinfo import ZoneInfo

__all__ = [
    "SHANGHAI",
    "CronSchedule",
    "IntervalSchedule",
    "ManualSchedule",
    "Schedule",
    "ScheduleError",
    "due_at",
    "is_due",
    "next_fire",
    "parse_schedule",
    "previous_fire",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
# a valid expression fires at least once in any 28-year weekday cycle (plus the 2100 gap)
_SEARCH_YEARS = 60


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message names the bad field."""


# --- the schedule types ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression: the allowed values of each field (weekdays 0-6, Sunday 0)."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: tuple[int, ...]
    weekdays: frozenset[int]
    day_star: bool  # the day-of-month field starts with '*' (not restricted, for the OR rule)
    weekday_star: bool

    def __str__(self) -> str:
        return self.text

    def matches_day(self, day: dt.date) -> bool:
        """Whether cron would run on this (Shanghai) date, months aside."""
        in_month = day.day in self.days
        in_week = day.isoweekday() % 7 in self.weekdays
        if self.day_star or self.weekday_star:
            return in_month and in_week
        return in_month or in_week

    def matches(self, when: dt.datetime) -> bool:
        """Whether the minute of ``when`` (aware; any zone) is a fire time."""
        local = _local(when)
        return (local.minute in self.minutes and local.hour in self.hours
                and local.month in self.months and self.matches_day(local.date()))


@dataclasses.dataclass(frozen=True)
class IntervalSchedule:
    """``every 6h``: due when the last run started at least ``every`` ago."""

    text: str
    every: dt.timedelta

    def __str__(self) -> str:
        return self.text


@dataclasses.dataclass(frozen=True)
class ManualSchedule:
    """``manual``: never due; only explicit crawls."""

    text: str = "manual"

    def __str__(self) -> str:
        return self.text


Schedule = CronSchedule | IntervalSchedule | ManualSchedule


# --- parsing ------------------------------------------------------------------------------

MONTH_NAMES = {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
WEEKDAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
# (name in messages, lowest, highest, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, MONTH_NAMES),
    ("day-of-week", 0, 7, WEEKDAY_NAMES),
)
MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_MAX_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_INTERVAL = re.compile(r"every\s+(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?")
_HELP = ("expected a cron expression with 5 fields (minute hour day-of-month month day-of-week, "
         "e.g. '0 2 * * *'), an interval ('every 6h', 'every 30m', 'every 2d', 'every 1h30m') "
         "or 'manual'")


def parse_schedule(text: str) -> Schedule:
    """Read a plugin's ``schedule``; :class:`ScheduleError` names the bad field."""
    if not isinstance(text, str):
        raise ScheduleError(f"a schedule is a string, not {type(text).__name__}")
    normal = " ".join(text.split())
    lower = normal.lower()
    if lower == "manual":
        return ManualSchedule()
    if lower.startswith("every"):
        return _parse_interval(normal)
    if lower.startswith("@"):
        if lower not in MACROS:
            raise ScheduleError(f"unknown cron macro {normal!r} (known: {', '.join(MACROS)})")
        return _parse_cron(MACROS[lower], text=lower)
    return _parse_cron(normal, text=normal)


def _parse_interval(text: str) -> IntervalSchedule:
    match = _INTERVAL.fullmatch(text.lower())
    if not match or not any(match.groups()):
        raise ScheduleError(f"interval {text!r} is not valid: write 'every' and a duration in days, "
                            "hours and minutes, in that order (every 6h, every 30m, every 2d, every 1h30m)")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    every = dt.timedelta(days=days, hours=hours, minutes=minutes)
    if every < MINUTE:
        raise ScheduleError(f"interval {text!r}: an interval must be at least 1 minute")
    normal = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return IntervalSchedule(text=f"every {normal}", every=every)


def _parse_cron(expression: str, *, text: str) -> CronSchedule:
    parts = expression.split(" ")
    if len(parts) != 5:
        raise ScheduleError(f"{_HELP}; got {len(parts)} field{'s' * (len(parts) != 1)} in {text!r}")
    values = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = values
    weekdays = {0 if d == 7 else d for d in weekdays}
    day_star, weekday_star = parts[2].startswith("*"), parts[4].startswith("*")
    if (day_star or weekday_star) and not any(d <= _MAX_DAYS[m] for m in months for d in days):
        raise ScheduleError(f"cron day-of-month field {parts[2]!r} never occurs in month field "
                            f"{parts[3]!r}: the schedule {text!r} would never fire")
    return CronSchedule(text=text, minutes=tuple(sorted(minutes)), hours=tuple(sorted(hours)),
                        days=frozenset(days), months=tuple(sorted(months)), weekdays=frozenset(weekdays),
                        day_star=day_star, weekday_star=weekday_star)


def _parse_field(field: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    def bad(why: str) -> ScheduleError:
        return ScheduleError(f"cron {name} field {field!r}: {why}")

    def number(token: str) -> int:
        if token.isdigit():
            value = int(token)
        elif token.lower() in names:
            return names[token.lower()]
        else:
            known = f" or a name ({', '.join(names)})" if names else ""
            raise bad(f"{token!r} is not a number{known}")
        if not low <= value <= high:
            raise bad(f"{value} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for item in field.split(","):
        if not item:
            raise bad("empty list element")
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise bad(f"step {step_text!r} must be a whole number of at least 1")
            step = int(step_text)
        if base == "*":
            first, last = low, high
            if name == "day-of-week":
                last = 6  # '*' means every day once; 7 is Sunday again
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = number(start), number(end)
            if first > last:
                raise bad(f"range {base!r} goes backwards")
        else:
            first = number(base)
            last = high if slash else first
        values.update(range(first, last + 1, step))
    return values


# --- fire times ---------------------------------------------------------------------------


@overload
def _coerce(schedule: Schedule | str) -> Schedule: ...
@overload
def _coerce(schedule: Schedule | str | None) -> Schedule | None: ...
def _coerce(schedule: Schedule | str | None) -> Schedule | None:
    return parse_schedule(schedule) if isinstance(schedule, str) else schedule


def _aware(when: dt.datetime, name: str) -> dt.datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {when!r}")
    return when


def _local(when: dt.datetime) -> dt.datetime:
    """Shanghai wall-clock time of ``when``, naive, seconds dropped."""
    return _aware(when, "time").astimezone(SHANGHAI).replace(tzinfo=None, second=0, microsecond=0)


def _after(values: Sequence[int], current: int) -> int | None:
    i = bisect.bisect_right(values, current)
    return values[i] if i < len(values) else None


def _before(values: Sequence[int], current: int) -> int | None:
    i = bisect.bisect_left(values, current)
    return values[i - 1] if i else None


def next_fire(schedule: Schedule | str, after: dt.datetime) -> dt.datetime | None:
    """The first fire time strictly after ``after`` (aware), in Shanghai time. For an interval,
    ``after + interval`` (when a site whose last run started at ``after`` is due again); None
    for ``manual``."""
    schedule = _coerce(schedule)
    _aware(after, "after")
    if isinstance(schedule, IntervalSchedule):
        return (after + schedule.every).astimezone(SHANGHAI)
    if isinstance(schedule, ManualSchedule) or schedule is None:
        return None
    t = _local(after) + MINUTE
    limit = t.year + _SEARCH_YEARS
    while t.year <= limit:
        if t.month not in schedule.months:
            month = _after(schedule.months, t.month)
            t = dt.datetime(t.year, month, 1) if month else dt.datetime(t.year + 1, schedule.months[0], 1)
        elif not schedule.matches_day(t.date()):
            t = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time())
        elif t.hour not in schedule.hours:
            hour = _after(schedule.hours, t.hour)
            t = t.replace(hour=hour, minute=0) if hour is not None else \
                dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time())
        elif t.minute not in schedule.minutes:
            minute = _after(schedule.minutes, t.minute)
            t = t.replace(minute=minute) if minute is not None else t.replace(minute=0) + dt.timedelta(hours=1)
        else:
            return t.replace(tzinfo=SHANGHAI)
    raise ScheduleError(f"cron {schedule.text!r} does not fire within {_SEARCH_YEARS} years of {after}")


def previous_fire(schedule: Schedule | str, now: dt.datetime) -> dt.datetime | None:
    """The latest fire time at or before ``now`` (aware), in Shanghai time; None for intervals
    and ``manual``, which have no fire times of their own (see :func:`is_due`)."""
    schedule = _coerce(schedule)
    _aware(now, "now")
    if not isinstance(schedule, CronSchedule):
        return None
    t = _local(now)
    limit = t.year - _SEARCH_YEARS
    while t.year >= limit:
        if t.month not in schedule.months:
            month = _before(schedule.months, t.month)
            year = t.year if month else t.year - 1
            month = month or schedule.months[-1]
            t = dt.datetime(year, month, calendar.monthrange(year, month)[1], 23, 59)
        elif not schedule.matches_day(t.date()):
            t = dt.datetime.combine(t.date(), dt.time()) - MINUTE
        elif t.hour not in schedule.hours:
            hour = _before(schedule.hours, t.hour)
            t = t.replace(hour=hour, minute=59) if hour is not None else \
                dt.datetime.combine(t.date(), dt.time()) - MINUTE
        elif t.minute not in schedule.minutes:
            minute = _before(schedule.minutes, t.minute)
            t = t.replace(minute=minute) if minute is not None else t.replace(minute=0) - MINUTE
        else:
            return t.replace(tzinfo=SHANGHAI)
    raise ScheduleError(f"cron {schedule.text!r} did not fire within {_SEARCH_YEARS} years before {now}")


def is_due(schedule: Schedule | str | None, last_started: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a site should be crawled now: never run, or a cron fire time after its last
    run's start and not after ``now``, or ``last start + interval <= now``. A site without a
    schedule (None, ``manual``) is never due."""
    schedule = _coerce(schedule)
    _aware(now, "now")
    if schedule is None or isinstance(schedule, ManualSchedule):
        return False
    if last_started is None:
        return True
    _aware(last_started, "last_started")
    if isinstance(schedule, IntervalSchedule):
        return last_started + schedule.every <= now
    fired = previous_fire(schedule, now)
    assert fired is not None  # a cron schedule has fire times (or previous_fire raises)
    return fired > last_started


def due_at(schedule: Schedule | str | None, last_started: dt.datetime | None) -> dt.datetime | None:
    """When a site whose last run started at ``last_started`` becomes due (None: never, for
    ``manual``; never run: the Unix epoch, i.e. already)."""
    schedule = _coerce(schedule)
    if schedule is None or isinstance(schedule, ManualSchedule):
        return None
    if last_started is None:
        return dt.datetime.fromtimestamp(0, SHANGHAI)
    return next_fire(schedule, last_started)
