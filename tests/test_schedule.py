"""Schedules (plugins/cron.py, gateway/ops/scheduling.py): cron and interval parsing, fire times against a brute-force
reference, due decisions, and `blgw crawl --due` / `blgw scheduler` end to end on the classic
ASP (dqjd) and TRS (fgj) fixture subsites."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gateway.ops.scheduling import decide
from plugins.cron import (
    SHANGHAI,
    CronSchedule,
    IntervalSchedule,
    ManualSchedule,
    ScheduleError,
    due_at,
    is_due,
    next_fire,
    parse_schedule,
    previous_fire,
)

REPO = Path(__file__).resolve().parent.parent
UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    """A Beijing-time instant."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "field", "words"), [
    ("61 * * * *", "minute", "61 is outside 0-59"),
    ("0 24 * * *", "hour", "24 is outside 0-23"),
    ("0 0 0 * *", "day-of-month", "0 is outside 1-31"),
    ("0 0 * 13 *", "month", "13 is outside 1-12"),
    ("0 0 * * 8", "day-of-week", "8 is outside 0-7"),
    ("0 0 * foo *", "month", "'foo' is not a number or a name"),
    ("0 0 * * mon-xyz", "day-of-week", "'xyz' is not a number"),
    ("30-10 * * * *", "minute", "range '30-10' goes backwards"),
    ("*/0 * * * *", "minute", "step '0'"),
    ("1-5/x * * * *", "minute", "step 'x'"),
    ("0 1,,2 * * *", "hour", "empty list element"),
    ("0 0 * * fri-mon", "day-of-week", "goes backwards"),
    ("0 0 30 feb *", "day-of-month", "never"),
    ("0 0 31 4,6 *", "day-of-month", "never"),
])
def test_cron_errors_name_the_field(text, field, words):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    message = str(info.value)
    assert f"cron {field} field" in message and words in message


@pytest.mark.parametrize("text", ["daily", "0 2 * *", "0 2 * * * *", "", "@reboot", "every", "every 5x",
                                  "every 0h", "every 0m", "every 30m 2h", "every -1h"])
def test_other_errors(text):
    with pytest.raises(ScheduleError):
        parse_schedule(text)


def test_a_schedule_error_is_a_value_error_for_pydantic():
    assert issubclass(ScheduleError, ValueError)


def test_fields_expand_to_their_values():
    s = parse_schedule("0,30 8-18/2 1,15 jan,JUL-sep mon-fri")
    assert isinstance(s, CronSchedule)
    assert s.minutes == (0, 30) and s.hours == (8, 10, 12, 14, 16, 18)
    assert s.days == {1, 15} and s.months == (1, 7, 8, 9) and s.weekdays == {1, 2, 3, 4, 5}
    assert not s.day_star and not s.weekday_star


@pytest.mark.parametrize(("field", "weekdays"), [
    ("0", {0}), ("7", {0}), ("sun", {0}), ("SUN,7", {0}), ("5-7", {5, 6, 0}), ("*", set(range(7))),
    ("*/2", {0, 2, 4, 6}), ("1-7/3", {1, 4, 0}), ("6/1", {6, 0}),
])
def test_sunday_is_0_and_7(field, weekdays):
    assert parse_schedule(f"0 0 * * {field}").weekdays == weekdays


def test_steps():
    assert parse_schedule("*/15 * * * *").minutes == (0, 15, 30, 45)
    assert parse_schedule("1-10/2 * * * *").minutes == (1, 3, 5, 7, 9)
    assert parse_schedule("50/5 * * * *").minutes == (50, 55)  # N/step: N-max/step
    assert parse_schedule("0 */7 * * *").hours == (0, 7, 14, 21)


def test_macros_and_whitespace():
    daily, midnight, zero_two = parse_schedule("@daily"), parse_schedule("@midnight"), parse_schedule("0 0 * * *")
    assert daily.text == "@daily" and dict(vars(daily), text="") == dict(vars(midnight), text="") \
        == dict(vars(zero_two), text="")
    assert parse_schedule("  0   2 *  * * ").text == "0 2 * * *"
    assert parse_schedule("@HOURLY").minutes == (0,) and len(parse_schedule("@hourly").hours) == 24
    assert parse_schedule("@weekly").weekdays == {0}


@pytest.mark.parametrize(("text", "every", "normal"), [
    ("every 6h", dt.timedelta(hours=6), "every 6h"),
    ("every 30m", dt.timedelta(minutes=30), "every 30m"),
    ("every 2d", dt.timedelta(days=2), "every 2d"),
    ("every 1h30m", dt.timedelta(minutes=90), "every 1h30m"),
    ("Every  1d 12h", dt.timedelta(hours=36), "every 1d12h"),
    ("every 90m", dt.timedelta(minutes=90), "every 90m"),
])
def test_intervals(text, every, normal):
    s = parse_schedule(text)
    assert isinstance(s, IntervalSchedule) and s.every == every and s.text == normal


def test_manual():
    assert isinstance(parse_schedule("manual"), ManualSchedule)
    assert parse_schedule(" Manual ").text == "manual"


def test_plugin_validation_reports_a_bad_schedule_with_file_line_and_field():
    from plugins.declarative import PluginError, parse_site_toml

    text = ('[site]\ncode = "zjj"\nname = "住建局"\nbase_url = "http://zjj.bl.gov.cn/"\n'
            'schedule = "0 2 31 2 *"\n[list]\nitem = "li"\n[[columns]]\nname = "通知公告"\nurl = "/a/"\n')
    with pytest.raises(PluginError) as info:
        parse_site_toml(text, "plugins.d/zjj.toml")
    (problem,) = info.value.problems
    assert problem.field == "site.schedule" and problem.line == 5
    assert "day-of-month" in problem.message and "never" in problem.message
    assert str(problem).startswith("plugins.d/zjj.toml:5:")
    ok = parse_site_toml(text.replace("0 2 31 2 *", "every 1h30m"), "zjj.toml")
    assert ok.site.schedule == "every 1h30m"


# --- fire times -----------------------------------------------------------------------------


def test_fire_times_by_example():
    now = at(2024, 5, 1, 10, 7, 30)  # a Wednesday
    cases = {
        "0 2 * * *": (at(2024, 5, 1, 2, 0), at(2024, 5, 2, 2, 0)),
        "*/15 * * * 1-5": (at(2024, 5, 1, 10, 0), at(2024, 5, 1, 10, 15)),
        "7 10 * * *": (at(2024, 5, 1, 10, 7), at(2024, 5, 2, 10, 7)),
        "0 0 29 2 *": (at(2024, 2, 29), at(2028, 2, 29)),
        "0 0 1 1 *": (at(2024, 1, 1), at(2025, 1, 1)),
        "30 1 * * sun": (at(2024, 4, 28, 1, 30), at(2024, 5, 5, 1, 30)),
        # both day fields restricted: the 13th OR a Friday (Vixie cron)
        "0 0 13 * 5": (at(2024, 4, 26), at(2024, 5, 3)),
        # day-of-month starts with '*': the 1st AND a Monday
        "0 0 */29 2 1": (at(2021, 2, 1), at(2027, 2, 1)),
    }
    for text, (previous, following) in cases.items():
        assert previous_fire(text, now) == previous, text
        assert next_fire(text, now) == following, text


def test_next_fire_is_strictly_after_and_previous_fire_includes_now():
    on_the_minute = at(2024, 5, 1, 2, 0)
    assert previous_fire("0 2 * * *", on_the_minute) == on_the_minute
    assert next_fire("0 2 * * *", on_the_minute) == at(2024, 5, 2, 2, 0)
    assert next_fire("0 2 * * *", on_the_minute - dt.timedelta(microseconds=1)) == on_the_minute


def test_times_are_beijing_time_whatever_the_zone_of_the_input():
    utc_now = dt.datetime(2024, 5, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2 May in Beijing
    fire = next_fire("0 2 * * *", utc_now)
    assert fire == dt.datetime(2024, 5, 1, 18, 0, tzinfo=UTC)
    assert fire.utcoffset() == dt.timedelta(hours=8)


def test_shanghai_has_no_daylight_saving_time():
    """'0 2 * * *' is 18:00 UTC on every day of the year (no spring-forward gap, no doubled hour)."""
    t = dt.datetime(2025, 1, 1, tzinfo=UTC)
    seen = 0
    while t.year == 2025:
        t = next_fire("0 2 * * *", t)
        assert (t.astimezone(UTC).hour, t.astimezone(UTC).minute) == (18, 0)
        seen += 1
    assert seen == 365


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire("0 2 * * *", dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_due("every 1h", dt.datetime(2024, 1, 1), at(2024, 1, 2))


# The reference: an independent reading of each generated field, and a minute-by-minute scan
# (days that cannot match are skipped whole; every minute of a matching day is tried).

FIELD_SPECS = {  # name: (low, high, names)
    "minute": (0, 59, None), "hour": (0, 23, None), "dom": (1, 31, None),
    "month": (1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
    "dow": (0, 7, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),  # 7 has no name: 'sun' is 0
}


@st.composite
def cron_field(draw, name):
    low, high, names = FIELD_SPECS[name]

    def token(v):
        if names and v - low < len(names) and draw(st.booleans()):
            return names[v - low].upper() if draw(st.booleans()) else names[v - low]
        return str(v)

    parts, values = [], set()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["star", "one", "range", "open"]))
        step = draw(st.one_of(st.none(), st.integers(1, high - low + 2)))
        if kind == "star":
            parts.append("*" + (f"/{step}" if step else ""))
            values |= set(range(low, high + 1, step or 1))
        elif kind == "one":
            v = draw(st.integers(low, high))
            parts.append(token(v))
            values.add(v)
        elif kind == "range":
            a = draw(st.integers(low, high))
            b = draw(st.integers(a, high))
            parts.append(f"{token(a)}-{token(b)}" + (f"/{step}" if step else ""))
            values |= set(range(a, b + 1, step or 1))
        else:
            a = draw(st.integers(low, high))
            step = step or 1
            parts.append(f"{token(a)}/{step}")
            values |= set(range(a, high + 1, step))
    if name == "dow":
        values = {v % 7 for v in values}
    return ",".join(parts), values


@st.composite
def cron_expression(draw):
    fields = {name: draw(cron_field(name)) for name in FIELD_SPECS}
    text = " ".join(fields[name][0] for name in FIELD_SPECS)
    return text, {name: values for name, (_, values) in fields.items()}, \
        fields["dom"][0].startswith("*") or fields["dow"][0].startswith("*")


def reference_day(sets, and_rule: bool, day: dt.date) -> bool:
    in_month, in_week = day.day in sets["dom"], (day.weekday() + 1) % 7 in sets["dow"]
    return day.month in sets["month"] and ((in_month and in_week) if and_rule else (in_month or in_week))


def reference_minutes(sets, day: dt.date, reverse: bool):
    minutes = range(24 * 60 - 1, -1, -1) if reverse else range(24 * 60)
    for m in minutes:
        if m // 60 in sets["hour"] and m % 60 in sets["minute"]:
            yield dt.datetime.combine(day, dt.time(m // 60, m % 60), tzinfo=SHANGHAI)


def reference_next(sets, and_rule, after: dt.datetime) -> dt.datetime:
    day = after.astimezone(SHANGHAI).date()
    for _ in range(366 * 40):
        if reference_day(sets, and_rule, day):
            for t in reference_minutes(sets, day, reverse=False):
                if t > after:
                    return t
        day += dt.timedelta(days=1)
    raise AssertionError("no fire time in 40 years")


def reference_previous(sets, and_rule, now: dt.datetime) -> dt.datetime:
    day = now.astimezone(SHANGHAI).date()
    for _ in range(366 * 40):
        if reference_day(sets, and_rule, day):
            for t in reference_minutes(sets, day, reverse=True):
                if t <= now:
                    return t
        day -= dt.timedelta(days=1)
    raise AssertionError("no fire time in 40 years")


MAX_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
ZONES = st.sampled_from([UTC, SHANGHAI, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=13))])
INSTANTS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 12, 31), timezones=ZONES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cron_expression(), INSTANTS)
def test_fire_times_equal_the_brute_force_reference(expression, instant):
    text, sets, and_rule = expression
    possible = any(d <= MAX_DAYS[m] for m in sets["month"] for d in sets["dom"])
    if and_rule and not possible:
        with pytest.raises(ScheduleError, match="never"):
            parse_schedule(text)
        return
    schedule = parse_schedule(text)
    assert (schedule.minutes, schedule.hours, schedule.months) == tuple(
        tuple(sorted(sets[n])) for n in ("minute", "hour", "month"))
    assert (schedule.days, schedule.weekdays) == (sets["dom"], sets["dow"])
    assert next_fire(schedule, instant) == reference_next(sets, and_rule, instant)
    assert previous_fire(schedule, instant) == reference_previous(sets, and_rule, instant)


@settings(max_examples=200, deadline=None)
@given(cron_expression(), INSTANTS, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)))
def test_is_due_means_a_fire_time_since_the_last_start(expression, last, elapsed):
    text, sets, and_rule = expression
    try:
        schedule = parse_schedule(text)
    except ScheduleError:
        assume(False)
    now = last + elapsed
    expected = reference_next(sets, and_rule, last) <= now
    assert is_due(schedule, last, now) is expected
    assert (due_at(schedule, last) <= now) is expected
    assert is_due(schedule, None, now) is True


def test_is_due_cron_cases():
    nightly = "0 2 * * *"
    assert is_due(nightly, None, at(2024, 5, 1, 12))  # never run
    assert not is_due(nightly, at(2024, 5, 1, 2, 0, 5), at(2024, 5, 1, 12))  # ran after 02:00
    assert not is_due(nightly, at(2024, 5, 1, 2, 0, 5), at(2024, 5, 2, 1, 59))
    assert is_due(nightly, at(2024, 5, 1, 2, 0, 5), at(2024, 5, 2, 2, 0))  # the next fire time
    assert is_due(nightly, at(2024, 4, 20, 2), at(2024, 5, 2, 12))  # missed days: due once
    assert is_due(nightly, at(2024, 5, 1, 1, 59), at(2024, 5, 1, 2, 0))
    # a run that started exactly at the fire time covers it
    assert not is_due(nightly, at(2024, 5, 1, 2, 0), at(2024, 5, 1, 2, 0, 30))


def test_is_due_interval_cases():
    assert is_due("every 6h", None, at(2024, 5, 1))
    assert not is_due("every 6h", at(2024, 5, 1, 0, 0), at(2024, 5, 1, 5, 59, 59))
    assert is_due("every 6h", at(2024, 5, 1, 0, 0), at(2024, 5, 1, 6, 0))
    assert is_due("every 1h30m", at(2024, 5, 1, 0, 0), at(2024, 5, 1, 1, 30))
    assert not is_due("every 1h30m", at(2024, 5, 1, 0, 0), at(2024, 5, 1, 1, 29))
    assert next_fire("every 1h30m", at(2024, 5, 1, 0, 10)) == at(2024, 5, 1, 1, 40)
    assert previous_fire("every 6h", at(2024, 5, 1)) is None


def test_no_schedule_is_never_due():
    assert not is_due(None, None, at(2024, 5, 1))
    assert not is_due("manual", None, at(2024, 5, 1))
    assert not is_due("manual", at(2000, 1, 1), at(2024, 5, 1))
    assert due_at("manual", None) is None and next_fire("manual", at(2024, 5, 1)) is None


class FakeSite:
    def __init__(self, code, schedule):
        self.code = code
        self.site = type("Info", (), {"schedule": schedule})()


def test_decide_explains_each_site():
    from gateway.ops.scheduling import Unfinished

    now = at(2024, 5, 1, 12)
    sites = [FakeSite("a", "0 2 * * *"), FakeSite("b", "0 2 * * *"), FakeSite("c", "every 6h"),
             FakeSite("d", "manual"), FakeSite("e", "every 1d"), FakeSite("f", "every 1h"),
             FakeSite("g", "0 2 * * *"), FakeSite("h", "0 2 * * *"), FakeSite("k", "0 2 * * *")]
    starts = {"a": at(2024, 4, 30, 2), "b": at(2024, 5, 1, 2, 1), "c": at(2024, 5, 1, 9),
              "d": at(2024, 1, 1), "f": at(2024, 5, 1, 10), "g": at(2024, 5, 1, 2), "h": at(2024, 5, 1, 11),
              "k": at(2024, 5, 1, 2)}
    unfinished = {"g": Unfinished(8, "interrupted", at(2024, 5, 1, 2, 30)),
                  "h": Unfinished(9, "interrupted", at(2024, 5, 1, 2, 30)),  # tried again since
                  "k": Unfinished(10, "running", at(2024, 5, 1, 2))}
    decisions = {d.code: d for d in decide(sites, starts, now, locks={"f": "host:1:x since …"},
                                            unfinished=unfinished)}
    assert decisions["a"].due and "fired at 2024-05-01 02:00+08:00" in decisions["a"].reason
    assert not decisions["b"].due and decisions["b"].next_at == at(2024, 5, 2, 2)
    assert "next at 2024-05-02 02:00+08:00" in decisions["b"].reason
    assert not decisions["c"].due and decisions["c"].next_at == at(2024, 5, 1, 15)
    assert not decisions["d"].due and decisions["d"].state == "manual"
    assert decisions["e"].due and "never crawled" in decisions["e"].reason
    assert not decisions["f"].due and decisions["f"].state == "running" and "lock held by" in decisions["f"].reason
    assert decisions["g"].due and "run 8 was interrupted at 2024-05-01 02:30+08:00" in decisions["g"].reason
    assert not decisions["h"].due and "next at 2024-05-02" in decisions["h"].reason
    assert decisions["k"].due and "run 10 died" in decisions["k"].reason
    assert decisions["a"].line().startswith("due      a ")


# --- the store: last starts and locks ---------------------------------------------------------


def _site(session, code):
    from gateway.store.models import Site

    if session.get(Site, code) is None:
        session.add(Site(code=code, name=code, base_url=f"http://{code}.bl.gov.cn/"))
        session.flush()


def add_run(store, code, started_at, status="finished", **fields):
    from gateway.store.models import CrawlRun

    with store.session() as session:
        _site(session, code)
        run = CrawlRun(site_code=code, started_at=started_at, status=status, stats=fields.pop("stats", {}),
                       finished_at=None if status == "running" else started_at + dt.timedelta(minutes=5),
                       **fields)
        session.add(run)
        session.flush()
        return run.id


def test_store_state_reads_last_starts_live_locks_and_unfinished_runs(store):
    from gateway.ops.scheduling import store_state
    from gateway.store.models import SiteLock

    now = dt.datetime.now(UTC)
    add_run(store, "rsj", now - dt.timedelta(days=2))
    add_run(store, "rsj", now - dt.timedelta(days=1))
    add_run(store, "fgj", now - dt.timedelta(days=3), status="running")
    add_run(store, "jyj", now - dt.timedelta(days=3), resumes=1,
            stats={"start_time": (now - dt.timedelta(hours=1)).isoformat()})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.session() as session:
        _site(session, "dqjd")
        _site(session, "wlj")
        session.add(SiteLock(site_code="fgj", holder="me", hostname=socket.gethostname(), pid=os.getpid()))
        session.add(SiteLock(site_code="dqjd", holder="dead", hostname=socket.gethostname(), pid=dead.pid))
        session.add(SiteLock(site_code="wlj", holder="far", hostname="elsewhere", pid=1,
                             heartbeat_at=now - dt.timedelta(hours=1)))
    starts, locks, unfinished = store_state(store, now)
    assert abs(starts["rsj"] - (now - dt.timedelta(days=1))) < dt.timedelta(seconds=1)
    assert abs(starts["jyj"] - (now - dt.timedelta(hours=1))) < dt.timedelta(seconds=1)  # resumed an hour ago
    assert set(locks) == {"fgj"} and "me since" in locks["fgj"]  # dead pid, stale heartbeat: not held
    assert unfinished == {}  # fgj's running run has a live lock
    with store.session() as session:
        session.query(SiteLock).filter_by(site_code="fgj").delete()
    _starts, _locks, unfinished = store_state(store, now)
    assert set(unfinished) == {"fgj"} and unfinished["fgj"].status == "running"


# --- end to end: blgw crawl --due, blgw scheduler ---------------------------------------------

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
BUNDLED = tuple(p.stem for p in sorted((Path(__file__).resolve().parent.parent / "plugins" / "sites").glob("*.toml")))
"""The bundled sites' codes (every plugins/sites/*.toml)."""


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """The classic ASP (dqjd) and TRS (fgj) fixture subsites, 10 articles each."""
    from fixture_sites.legacy_sites import (
        asp_server,
        generate_asp,
        generate_trs,
        trs_server,
    )

    root = tmp_path_factory.mktemp("legacy")
    asp = generate_asp(root / "asp", seed=7, n_articles=10)
    trs = generate_trs(root / "trs", seed=7, n_articles=10)
    with asp_server(asp) as asp_url, trs_server(trs) as trs_url:
        yield {"dqjd": asp_url, "fgj": trs_url}


@pytest.fixture
def gateway_env(tmp_path):
    from gateway.store.session import Store

    data = tmp_path / "data"
    store = Store(f"sqlite:///{data / 'gateway.sqlite'}")
    store.migrate()
    env = {**os.environ, "BLGW_DATA_DIR": str(data)}
    env.pop("BLGW_DATABASE_URL", None)
    env.pop("BLGW_INDEX_URL", None)
    yield env, store
    store.dispose()


def blgw(env, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, *args], cwd=WORKDIR, env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)


def runs_of(store) -> dict[str, list]:
    from gateway.store.models import CrawlRun

    out: dict[str, list] = {}
    with store.session() as session:
        for run in session.query(CrawlRun).order_by(CrawlRun.id):
            out.setdefault(run.site_code, []).append((run.id, run.status))
    return out


def test_crawl_due_crawls_only_the_due_site_then_nothing(legacy, gateway_env):
    env, store = gateway_env
    add_run(store, "fgj", dt.datetime.now(UTC) - dt.timedelta(minutes=5))  # fgj: nightly, ran just now
    origins = ["--origin", f"dqjd={legacy['dqjd']}", "--origin", f"fgj={legacy['fgj']}"]
    first = blgw(env, "crawl", "--due", "dqjd", "fgj", *origins, "-q", *FAST)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert re.search(r"^due +dqjd +never crawled \(interval 'every 12h'\)", first.stdout, re.MULTILINE)
    assert re.search(r"^not due +fgj +next at \S+ 03:00\+08:00 \(cron '0 3 \* \* \*'\)", first.stdout, re.MULTILINE)
    assert re.search(r"^  dqjd +finished +run \d+ +pages \d+ +new 10 changed 0 unchanged 0 gone 0", first.stdout, re.MULTILINE)
    assert "ok: 1 site(s) crawled" in first.stdout and "index:" in first.stdout
    runs = runs_of(store)
    assert [status for _, status in runs["dqjd"]] == ["finished"] and len(runs["fgj"]) == 1

    second = blgw(env, "crawl", "--due", "dqjd", "fgj", *origins, "-q", *FAST)
    assert second.returncode == 0, second.stderr[-3000:]
    assert re.search(r"^not due +dqjd +next at ", second.stdout, re.MULTILINE)
    assert "nothing is due" in second.stdout
    assert runs_of(store) == runs


def test_scheduler_once_crawls_the_due_site_and_syncs_the_index(legacy, gateway_env):
    env, store = gateway_env
    now = dt.datetime.now(UTC)
    for code in BUNDLED:
        if code != "dqjd":  # every other bundled site ran a minute ago
            add_run(store, code, now - dt.timedelta(minutes=1))
    args = ["scheduler", "--once", "--origin", f"dqjd={legacy['dqjd']}", *FAST]
    first = blgw(env, *args)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert re.search(r"dqjd +due \(never crawled.*started `blgw crawl dqjd` as pid \d+", first.stderr)
    assert re.search(r"fgj +not due: next at ", first.stderr)
    assert "dqjd     crawl finished (exit 0)" in first.stderr and "index synced" in first.stderr
    assert "index: 10 upserted" in first.stdout
    assert [status for _, status in runs_of(store)["dqjd"]] == ["finished"]

    second = blgw(env, *args)
    assert second.returncode == 0 and "nothing is due" in second.stderr
    assert len(runs_of(store)["dqjd"]) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_site_makes_a_non_zero_exit_and_a_summary_naming_it(legacy, gateway_env):
    env, store = gateway_env
    args = ["scheduler", "--once", "--site", "fgj", "--site", "dqjd", "--max-parallel", "1",
            "--origin", f"fgj=http://127.0.0.1:{_closed_port()}", "--origin", f"dqjd={legacy['dqjd']}",
            "-s", "RETRY_TIMES=0", *FAST]
    result = blgw(env, *args)
    assert result.returncode == 3, result.stdout + result.stderr[-3000:]  # failed (README, exit statuses)
    assert re.search(r"fgj +crawl FAILED \(exit 3\)", result.stderr)
    assert re.search(r"dqjd +crawl finished \(exit 0\)", result.stderr)
    assert re.search(r"^  fgj +FAILED +run \d+ +pages 0 .*errors \d+ \(.*site 1.*\).*— no page could be fetched",
                     result.stdout, re.MULTILINE)
    assert re.search(r"^FAILED: 1 of 1 site\(s\): fgj \(no page could be fetched from the site", result.stdout, re.MULTILINE)
    assert [s for _, s in runs_of(store)["fgj"]] == ["failed"]
    assert [s for _, s in runs_of(store)["dqjd"]] == ["finished"]


def test_crawl_summary_and_exit_status_for_a_failed_site(gateway_env):
    env, _store = gateway_env
    result = blgw(env, "crawl", "fgj", "--origin", f"fgj=http://127.0.0.1:{_closed_port()}", "-q",
                  "-s", "RETRY_TIMES=0", *FAST)
    assert result.returncode == 3
    assert "summary:" in result.stdout
    assert re.search(r"^FAILED: 1 of 1 site\(s\): fgj \(no page could be fetched from the site; "
                     r"\d+ \w+ errors?, e\.g\. ", result.stdout, re.MULTILINE)


@pytest.fixture(scope="module")
def stopped_scheduler(legacy, tmp_path_factory):
    """A long-running scheduler sent SIGTERM while its crawl of dqjd runs: (returncode, stderr, run)."""
    from gateway.store.models import CrawlRun
    from gateway.store.session import Store

    data = tmp_path_factory.mktemp("sigterm")
    store = Store(f"sqlite:///{data / 'gateway.sqlite'}")
    store.migrate()
    env = {**os.environ, "BLGW_DATA_DIR": str(data)}
    env.pop("BLGW_DATABASE_URL", None)
    env.pop("BLGW_INDEX_URL", None)
    proc = subprocess.Popen(
        [*BLGW, "scheduler", "--tick", "0.5", "--site", "dqjd",
         "--origin", f"dqjd={legacy['dqjd']}", "-s", "DOWNLOAD_DELAY=2", "-s", "AUTOTHROTTLE_ENABLED=False"],
        cwd=WORKDIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the crawl has opened its run: Scrapy handles signals now
            with store.session() as session:
                if session.query(CrawlRun).filter_by(site_code="dqjd").count():
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the scheduler started no crawl")
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    with store.session() as session:
        (run,) = session.query(CrawlRun).filter_by(site_code="dqjd").all()
    store.dispose()
    return proc.returncode, err, run, env


def test_scheduler_forwards_sigterm_to_the_crawl_and_stops(stopped_scheduler):
    returncode, err, run, _env = stopped_scheduler
    assert returncode == 0, err[-3000:]
    assert "SIGTERM received" in err and re.search(r"dqjd +forwarding SIGTERM to pid \d+", err)
    assert "scheduler stopped" in err
    # the crawl stopped early and closed its run (not left 'running')
    assert run.status != "running" and run.finished_at is not None and run.items_new < 10


def test_a_crawl_stopped_by_sigterm_is_recorded_as_interrupted(stopped_scheduler):
    # interrupted, not failed: the next crawl of the site continues this run from its frontier
    _returncode, _err, run, _env = stopped_scheduler
    assert (run.status, run.finish_reason) == ("interrupted", "shutdown")


def test_the_next_due_crawl_continues_an_interrupted_run(stopped_scheduler, legacy):
    from gateway.store.models import CrawlRun
    from gateway.store.session import Store

    _returncode, _err, run, env = stopped_scheduler
    result = blgw(env, "crawl", "--due", "dqjd", "--origin", f"dqjd={legacy['dqjd']}", "-q", *FAST)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert re.search(rf"^due +dqjd +run {run.id} was interrupted at .*: the crawl continues it", result.stdout,
                     re.MULTILINE)
    store = Store(env_url(env))
    with store.session() as session:
        runs = session.query(CrawlRun).filter_by(site_code="dqjd").all()
        assert [(r.id, r.status, r.resumes) for r in runs] == [(run.id, "finished", 1)]
    store.dispose()
    again = blgw(env, "crawl", "--due", "dqjd", "--origin", f"dqjd={legacy['dqjd']}", "-q", *FAST)
    assert again.returncode == 0 and "nothing is due" in again.stdout


def env_url(env) -> str:
    return f"sqlite:///{Path(env['BLGW_DATA_DIR']) / 'gateway.sqlite'}"


# --- the scheduler loop, with a stand-in for `blgw` ---------------------------------------------

FAKE_BLGW = """
import sys, time
log = sys.argv[1]
args = sys.argv[2:]
with open(log, "a") as f:
    f.write(f"start {' '.join(args[:2])} {time.monotonic()}\\n")
if args[0] == "crawl":
    time.sleep(0.4)
with open(log, "a") as f:
    f.write(f"end {' '.join(args[:2])} {time.monotonic()}\\n")
sys.exit(3 if args[:2] == ["crawl", "bad"] else 0)
"""


def fake_scheduler(tmp_path, store, codes, **kwargs):
    from gateway.ops.scheduling import Scheduler

    script, log = tmp_path / "fake_blgw.py", tmp_path / "calls.log"
    script.write_text(FAKE_BLGW, encoding="utf-8")
    sites = [FakeSite(code, "every 1h") for code in codes]
    scheduler = Scheduler(sites=lambda: sites, store=store, command=[sys.executable, str(script), str(log)],
                          poll=0.05, **kwargs)
    return scheduler, log


def calls(log: Path) -> list[tuple[str, str, float]]:
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        event, *args, when = line.split()
        out.append((event, " ".join(args), float(when)))
    return out


def test_scheduler_once_runs_every_due_site_at_most_max_parallel_at_once(tmp_path, store):
    scheduler, log = fake_scheduler(tmp_path, store, ["a", "b", "c"], max_parallel=2)
    assert scheduler.run(once=True) == 0
    events = calls(log)
    crawls = sorted(args for event, args, _ in events if event == "start" and args.startswith("crawl"))
    assert crawls == ["crawl a", "crawl b", "crawl c"]
    running, most = 0, 0
    for event, args, _ in sorted(events, key=lambda e: (e[2], e[0] == "start")):
        if args.startswith("crawl"):
            running += 1 if event == "start" else -1
            most = max(most, running)
    assert most == 2
    assert [args for event, args, _ in events if event == "start" and args == "index sync"] == ["index sync"]
    assert events[-1][1] == "index sync"  # after the crawls
    # the attempts count as starts: nothing is due any more in this process
    assert not [d for d in scheduler.decisions() if d.due]


def test_scheduler_skips_a_site_whose_lock_is_held_and_reports_a_failed_crawl(tmp_path, store):
    from gateway.store.models import SiteLock

    with store.session() as session:
        _site(session, "held")
        session.add(SiteLock(site_code="held", holder="other", hostname=socket.gethostname(), pid=os.getpid()))
    scheduler, log = fake_scheduler(tmp_path, store, ["held", "bad", "ok"])
    assert scheduler.run(once=True) == 3
    assert scheduler.failed == ["bad"]
    started = {args for event, args, _ in calls(log) if event == "start"}
    assert started == {"crawl bad", "crawl ok", "index sync"}


def test_scheduler_stop_forwards_the_signal_and_starts_nothing_more(tmp_path, store):
    scheduler, log = fake_scheduler(tmp_path, store, ["a", "b"], max_parallel=1)
    scheduler.tick_once()
    (code, child), = scheduler.children.items()
    deadline = time.monotonic() + 10
    while not (log.exists() and "start crawl" in log.read_text(encoding="utf-8")) and time.monotonic() < deadline:
        time.sleep(0.02)
    scheduler.stop(signal.SIGTERM)
    assert child.wait(timeout=10) == -signal.SIGTERM  # the stand-in has no handler: the signal reached it
    assert scheduler.run(once=True) == 3 and scheduler.tick_once() == [] and not scheduler.children
    assert scheduler.failed == [code]
    assert {args for event, args, _ in calls(log) if event == "start"} == {f"crawl {code}", "index sync"}
