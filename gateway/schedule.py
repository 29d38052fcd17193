"""When sites are crawled: each plugin's ``schedule``, which sites are due, and the scheduler.

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

A site is *due* when it never ran, or when a fire time of its cron expression lies after the
start of its last run and not after now (a missed fire time is caught up once, not once per
missed time); an interval site when ``last start + interval <= now``.

``blgw crawl --due`` crawls the due sites once (for cron or a systemd timer);
``blgw scheduler`` (:class:`Scheduler`) does the same every tick in a long-running process,
one ``blgw crawl`` subprocess per site (Scrapy's reactor cannot restart in one process).
"""

from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
import logging
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

import click

__all__ = [
    "SHANGHAI",
    "CronSchedule",
    "Decision",
    "IntervalSchedule",
    "ManualSchedule",
    "Schedule",
    "ScheduleError",
    "Scheduler",
    "decide",
    "due_at",
    "due_codes",
    "format_summary",
    "is_due",
    "next_fire",
    "parse_schedule",
    "previous_fire",
    "scheduler_command",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
# a valid expression fires at least once in any 28-year weekday cycle (plus the 2100 gap)
_SEARCH_YEARS = 60

logger = logging.getLogger("blgw.scheduler")


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
_FIELDS = (
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


def _first_of_next_month(t: dt.datetime) -> dt.datetime:
    return dt.datetime(t.year + t.month // 12, t.month % 12 + 1, 1)


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
    return previous_fire(schedule, now) > last_started


def due_at(schedule: Schedule | str | None, last_started: dt.datetime | None) -> dt.datetime | None:
    """When a site whose last run started at ``last_started`` becomes due (None: never, for
    ``manual``; never run: the Unix epoch, i.e. already)."""
    schedule = _coerce(schedule)
    if schedule is None or isinstance(schedule, ManualSchedule):
        return None
    if last_started is None:
        return dt.datetime.fromtimestamp(0, SHANGHAI)
    return next_fire(schedule, last_started)


# --- which sites are due ------------------------------------------------------------------



def _show(when: dt.datetime | None) -> str:
    return when.astimezone(SHANGHAI).isoformat(sep=" ", timespec="minutes") if when else "—"


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether one site is crawled now, and why."""

    code: str
    schedule: str
    due: bool  # due and nobody crawls it now: crawl it
    reason: str
    last_started: dt.datetime | None = None
    next_at: dt.datetime | None = None  # when it is (or was) due; None for 'manual'
    running: str | None = None  # who holds the site's lock

    @property
    def state(self) -> str:
        if self.due:
            return "due"
        if self.running:
            return "running"
        return "manual" if self.next_at is None else "not due"

    def line(self) -> str:
        return f"{self.state:<8} {self.code:<8} {self.reason}"


def _resumed_start(run) -> dt.datetime | None:
    """When the last process of a resumed run started (its Scrapy stats), else None."""
    if not getattr(run, "resumes", 0) or not isinstance(run.stats, dict):
        return None
    try:
        when = dt.datetime.fromisoformat(str(run.stats.get("start_time")))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class Unfinished:
    """A site's last run that did not complete: ``interrupted`` (SIGTERM, Ctrl-C) or left
    ``running`` by a process that died; the next crawl of the site continues it."""

    run_id: int
    status: str
    since: dt.datetime  # when it stopped (interrupted) or last started (died)


def store_state(store, now: dt.datetime) -> tuple[dict[str, dt.datetime], dict[str, str], dict[str, Unfinished]]:
    """From the store: each site's last run start (a resumed run: when it was resumed), who
    holds a live lock on each site, and the sites whose last run did not complete."""
    from sqlalchemy import func, select

    from gateway.store.models import CrawlRun, SiteLock
    from spiders.crawlstate import lock_alive

    with store.session() as session:
        starts = dict(session.execute(select(CrawlRun.site_code, func.max(CrawlRun.started_at))
                                      .group_by(CrawlRun.site_code)).all())
        locks = {lock.site_code: f"{lock.holder} since {_show(lock.acquired_at)}"
                 for lock in session.scalars(select(SiteLock)) if lock_alive(lock, now)}
        last_ids = select(func.max(CrawlRun.id)).group_by(CrawlRun.site_code)
        unfinished = {}
        for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(last_ids))):
            resumed = _resumed_start(run)
            if resumed and resumed > starts[run.site_code]:
                starts[run.site_code] = resumed
            if run.status == "interrupted":
                unfinished[run.site_code] = Unfinished(run.id, run.status, run.finished_at or starts[run.site_code])
            elif run.status == "running" and run.site_code not in locks:
                unfinished[run.site_code] = Unfinished(run.id, run.status, starts[run.site_code])
    return starts, locks, unfinished


def decide(sites: Iterable, last_started: dict[str, dt.datetime], now: dt.datetime, *,
           locks: dict[str, str] | None = None, unfinished: dict[str, Unfinished] | None = None) -> list[Decision]:
    """A :class:`Decision` for each site plugin (``SiteSpec``), from the last run starts, the
    live locks and the unfinished runs. A site whose last run did not complete is due at once
    (to continue it) unless a crawl was started after it stopped (``last_started`` later than
    its ``since``: the scheduler counts its own attempts), so a crawl that keeps dying is
    retried at its schedule, not in a loop."""
    locks, unfinished = locks or {}, unfinished or {}
    out = []
    for site in sites:
        code, text = site.code, site.site.schedule
        schedule = parse_schedule(text)
        last = last_started.get(code)
        if isinstance(schedule, ManualSchedule):
            out.append(Decision(code, text, False, "schedule 'manual': crawled only when named", last))
            continue
        when = due_at(schedule, last)
        due = is_due(schedule, last, now)
        kind = "cron" if isinstance(schedule, CronSchedule) else "interval"
        left = unfinished.get(code)
        if left is not None and (last is None or left.since >= last) and not due:
            due, when = True, left.since
            what = "was interrupted" if left.status == "interrupted" else "died (no live lock holds the site)"
            reason = f"run {left.run_id} {what} at {_show(left.since)}: the crawl continues it"
        elif last is None:
            reason = f"never crawled ({kind} {text!r})"
        elif due and isinstance(schedule, CronSchedule):
            reason = (f"fired at {_show(previous_fire(schedule, now))} ({kind} {text!r}); "
                      f"last run started {_show(last)}")
        elif due:
            reason = f"last run started {_show(last)}, {text} ago or more"
        else:
            reason = f"next at {_show(when)} ({kind} {text!r}); last run started {_show(last)}"
        holder = locks.get(code)
        if holder:
            reason += f"; running now (lock held by {holder})"
        out.append(Decision(code, text, due and not holder, reason, last, when, holder))
    return out


def due_codes(registry, store, codes: Iterable[str] | None = None, *, now: dt.datetime | None = None,
              echo: Callable[[str], None] = click.echo) -> list[str]:
    """``blgw crawl --due``: print a decision line per site (of ``codes``, default every site)
    and return the codes to crawl."""
    now = now or dt.datetime.now(dt.UTC)
    wanted = set(codes) if codes else None
    sites = [s for s in registry if wanted is None or s.code in wanted]
    starts, locks, unfinished = store_state(store, now)
    decisions = decide(sites, starts, now, locks=locks, unfinished=unfinished)
    for decision in decisions:
        echo(decision.line())
    chosen = [d.code for d in decisions if d.due]
    echo(f"due now: {', '.join(chosen)}" if chosen else "nothing is due")
    return chosen


# --- the end-of-crawl summary -------------------------------------------------------------


def format_summary(session, run_ids: Sequence[int], codes: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The end of a crawl's output: one line per site (status, pages, items new/changed/
    unchanged/gone, errors by kind, duration) and a last line naming each failed site and why
    (:func:`gateway.reports.failure_reason`). A code of ``codes`` without a run failed too (the
    crawl never started, e.g. another process holds the site's lock). Returns (text, failed)."""
    from sqlalchemy import func, select

    from gateway.reports import failure_reason
    from gateway.store.models import CrawlError, CrawlRun

    lines, failed, seen = ["summary:"], [], set()
    for run_id in run_ids:
        run = session.get(CrawlRun, run_id)
        if run is None:
            continue
        seen.add(run.site_code)
        by_kind = dict(session.execute(select(CrawlError.kind, func.count()).where(CrawlError.run_id == run_id)
                                       .group_by(CrawlError.kind)).all())
        errors = f"errors {run.error_count}" + (
            " (" + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) + ")" if by_kind else "")
        duration = (f"{(run.finished_at - run.started_at).total_seconds():.1f} s"
                    if run.finished_at else "still running")
        why = failure_reason(run)
        status = run.status if why is None else run.status.upper()
        line = (f"  {run.site_code:<8} {status:<9} run {run.id:<5} pages {run.pages_fetched:<5} "
                f"new {run.items_new} changed {run.items_changed} unchanged {run.items_unchanged} "
                f"gone {run.items_gone or 0}  {errors}  {duration}")
        if why is not None:
            failed.append(f"{run.site_code} ({why})")
            line += f"  — {why}"
        lines.append(line)
    for code in codes:
        if code not in seen:
            failed.append(f"{code} (no run was recorded: the crawl did not start)")
            lines.append(f"  {code:<8} NO RUN    the crawl did not start (see the messages above)")
    if failed:
        lines.append(f"FAILED: {len(failed)} of {len(seen | set(codes))} site(s): " + "; ".join(failed))
    else:
        lines.append(f"ok: {len(seen)} site(s) crawled")
    return "\n".join(lines), failed


# --- the long-running scheduler -----------------------------------------------------------


class Scheduler:
    """Every ``tick`` seconds: find the due sites and start ``blgw crawl CODE`` for each in a
    subprocess (at most ``max_parallel`` at once; never a site that is already being crawled by
    a child of ours or by anyone holding its lock); when crawls end, ``blgw index sync``.

    :meth:`stop` (the SIGTERM/SIGINT handler) forwards the signal to the running crawls (Scrapy
    then closes its spiders cleanly; the runs are recorded ``interrupted`` and the next crawl
    continues them); :meth:`run` waits for them and returns."""

    def __init__(self, *, sites: Callable[[], Iterable], store, tick: float = 60.0, max_parallel: int = 2,
                 crawl_args: Sequence[str] = (), codes: Iterable[str] | None = None,
                 command: Sequence[str] | None = None, env: dict[str, str] | None = None,
                 clock: Callable[[], dt.datetime] | None = None, poll: float = 0.5):
        self.sites = sites
        self.store = store
        self.tick = tick
        self.max_parallel = max(1, max_parallel)
        self.crawl_args = list(crawl_args)
        self.codes = set(codes) if codes else None
        self.command = list(command or [sys.executable, "-m", "gateway.cli"])
        self.env = env
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.poll = poll
        self.children: dict[str, subprocess.Popen] = {}
        # a crawl that died before recording its run still counts as a start (no crash loop)
        self.attempted: dict[str, dt.datetime] = {}
        self.failed: list[str] = []
        self.stopping: int | None = None
        self._ended = 0  # crawls ended since the last index sync
        self._noted: dict[str, tuple] = {}

    def decisions(self) -> list[Decision]:
        now = self.clock()
        sites = [s for s in self.sites() if self.codes is None or s.code in self.codes]
        starts, locks, unfinished = store_state(self.store, now)
        for code, when in self.attempted.items():
            if starts.get(code) is None or starts[code] < when:
                starts[code] = when
        return decide(sites, starts, now, locks=locks, unfinished=unfinished)

    def _note(self, decision: Decision, message: str, *args) -> None:
        """Log a decision at INFO when it differs from the site's previous one, else at DEBUG
        (a quiet site does not write a line per tick)."""
        key = (decision.state, decision.next_at, decision.running, decision.code in self.children)
        level = logging.DEBUG if self._noted.get(decision.code) == key else logging.INFO
        self._noted[decision.code] = key
        logger.log(level, message, *args)

    def tick_once(self) -> list[Decision]:
        """Log a decision per site; start the due ones while there are free slots; return the
        due ones left waiting for a slot. Nothing starts once :meth:`stop` was called."""
        waiting = []
        if self.stopping is not None:
            return waiting
        for decision in self.decisions():
            if decision.code in self.children:
                self._note(decision, "%-8s being crawled by our pid %s", decision.code,
                           self.children[decision.code].pid)
            elif not decision.due:
                self._note(decision, "%-8s %s: %s", decision.code, decision.state, decision.reason)
            elif len(self.children) >= self.max_parallel:
                logger.info("%-8s due (%s), waiting: %d crawls run already (--max-parallel)",
                            decision.code, decision.reason, len(self.children))
                waiting.append(decision)
            else:
                self.start(decision)
        return waiting

    def start(self, decision: Decision) -> None:
        # --due: the crawl re-checks (a lock taken meanwhile) and runs as a scheduled one
        args = [*self.command, "crawl", decision.code, "--due", "--no-index", "-q", *self.crawl_args]
        # its own session: a Ctrl-C in a terminal reaches the scheduler only, which forwards it once
        child = subprocess.Popen(args, env=self.env, start_new_session=True)
        self.children[decision.code] = child
        self.attempted[decision.code] = self.clock()
        logger.info("%-8s due (%s): started `blgw crawl %s` as pid %s", decision.code, decision.reason,
                    decision.code, child.pid)

    def reap(self) -> None:
        """Note the crawls that ended."""
        for code, child in list(self.children.items()):
            status = child.poll()
            if status is None:
                continue
            del self.children[code]
            self._ended += 1
            if status == 0:
                logger.info("%-8s crawl finished (exit 0)", code)
            else:
                self.failed.append(code)
                logger.error("%-8s crawl FAILED (exit %s); its summary is above", code, status)

    def sync(self) -> None:
        """``blgw index sync``, when crawls ended since the last one."""
        if not self._ended:
            return
        self._ended = 0
        result = subprocess.run([*self.command, "index", "sync"], check=False, env=self.env)
        if result.returncode:
            self.failed.append("index sync")
            logger.error("index sync FAILED (exit %s)", result.returncode)
        else:
            logger.info("index synced")

    def stop(self, signum: int, _frame=None) -> None:
        """Signal handler: forward the signal to every running crawl and start no new one (a
        second signal is forwarded too: Scrapy then stops at once)."""
        first = self.stopping is None
        self.stopping = signum
        name = signal.Signals(signum).name
        logger.warning("%s received: %s", name, "no new crawls; waiting for the running ones" if first
                       else "forwarded again")
        for code, child in self.children.items():
            if child.poll() is None:
                logger.info("%-8s forwarding %s to pid %s", code, name, child.pid)
                try:
                    child.send_signal(signum)
                except ProcessLookupError:
                    pass

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.stopping is None and time.monotonic() < end:
            time.sleep(min(self.poll, max(0.0, end - time.monotonic())))
            self.reap()

    def run(self, *, once: bool = False) -> int:
        """Tick until stopped, or (``once``) crawl the sites due now, ``max_parallel`` at a time.
        Returns the exit status: 1 when a crawl or the index sync failed (``once``), else 0."""
        if once:
            waiting = self.tick_once()
            while self.stopping is None and (self.children or waiting):
                self._sleep(self.poll)
                while waiting and len(self.children) < self.max_parallel and self.stopping is None:
                    self.start(waiting.pop(0))
            self._wait_children()
            if not self.attempted:
                logger.info("nothing is due")
            self.sync()
            return 1 if self.failed else 0
        while self.stopping is None:
            self.reap()
            self.sync()
            self.tick_once()
            self._sleep(self.tick)
        self._wait_children()
        self.sync()
        logger.info("scheduler stopped")
        return 0

    def _wait_children(self) -> None:
        while self.children:
            time.sleep(self.poll)
            self.reap()


@click.command("scheduler")
@click.option("--tick", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between looks at the schedules.")
@click.option("--once", is_flag=True, help="One tick: crawl the sites due now, sync the index, exit "
                                            "with 1 when a crawl failed.")
@click.option("--max-parallel", default=2, show_default=True, type=click.IntRange(1),
              help="Crawls (one subprocess per site) running at once.")
@click.option("--site", "sites_", multiple=True, help="Only these sites (default: every site plugin).")
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL", help="Passed to each `blgw crawl`.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Passed to each `blgw crawl`.")
def scheduler_command(tick: float, once: bool, max_parallel: int, sites_: tuple[str, ...],
                      origins: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Crawl each site when its schedule says (cron or interval, in its plugin), in one
    long-running process: every --tick seconds the due sites are crawled, each by a `blgw crawl
    CODE` subprocess, then the index is synced. SIGTERM or SIGINT stops it after forwarding the
    signal to the running crawls. Decisions are logged to stderr."""
    from gateway import cli

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s scheduler %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    registry = cli._registry()
    for code in sites_:
        if code not in registry.sites:
            raise click.BadParameter(f"no site plugin {code!r} (see `blgw sites`)", param_hint="--site")
    cli._origins(origins)  # validate now rather than in every crawl
    cli._overrides(overrides)
    crawl_args = [arg for origin in origins for arg in ("--origin", origin)]
    crawl_args += [arg for item in overrides for arg in ("-s", item)]

    from plugins.manager import BUILTIN_SITES_DIR, registry_from_settings

    loaded = {"stamp": None, "sites": list(registry)}

    def sites() -> list:
        """The site plugins, re-read when a plugin file changed: an edited schedule applies
        without a restart (entry-point plugins need one)."""
        stamp = []
        for folder in (BUILTIN_SITES_DIR, *cli._settings().plugin_dirs):
            try:
                stamp += [(str(p), p.stat().st_mtime_ns) for p in folder.iterdir() if p.suffix in (".toml", ".py")]
            except OSError:  # a folder or file removed meanwhile: re-read next time
                stamp.append((str(folder), None))
        stamp.sort(key=str)
        if loaded["stamp"] is None:
            loaded["stamp"] = stamp
        elif stamp != loaded["stamp"]:
            loaded["stamp"], loaded["sites"] = stamp, list(registry_from_settings(cli._settings()))
            logger.info("site plugins changed: re-read (%d sites)", len(loaded["sites"]))
        return loaded["sites"]

    scheduler = Scheduler(sites=sites, store=cli._store(), tick=tick, max_parallel=max_parallel,
                          crawl_args=crawl_args, codes=sites_ or None)
    previous = {sig: signal.signal(sig, scheduler.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    logger.info("scheduler started: %s, tick %ss, at most %d crawls at once",
                "one tick" if once else "until stopped", tick, max_parallel)
    try:
        status = scheduler.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(status)
