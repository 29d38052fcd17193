"""Which sites are crawled now, and the long-running scheduler that crawls them.

Each site plugin's ``schedule`` (:mod:`plugins.cron`: cron in Beijing time, an interval, or
``manual``) and the store's runs and locks give a :class:`Decision` per site (:func:`decide`):
due (never crawled, a fire time passed since its last start, its last run did not complete)
or not, and why. ``blgw crawl --due`` crawls the due sites once (:func:`due_codes`, for cron
or a systemd timer); ``blgw scheduler`` (:class:`Scheduler`) does the same every tick in a
long-running process, one ``blgw crawl`` subprocess per site (Scrapy's reactor cannot restart
in one process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from types import FrameType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.ops.exits import EXIT_ERRORS, EXIT_FAILED, EXIT_OK
from gateway.ops.health import snapshot_due
from gateway.ops.probes import probe_due
from gateway.settings import get_settings
from gateway.store.locks import LOCK_HOLDER_ENV, SiteBusy, claim_lock, lock_alive, release_lock
from gateway.store.models import CrawlRun, SiteLock
from gateway.store.session import Store
from plugins.cron import (
    SHANGHAI,
    CronSchedule,
    ManualSchedule,
    due_at,
    is_due,
    parse_schedule,
    previous_fire,
)
from plugins.spec import SiteSpec

__all__ = ["Decision", "Scheduler", "Unfinished", "decide", "due_codes", "store_state"]

logger = logging.getLogger("blgw.scheduler")


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


def _resumed_start(run: CrawlRun) -> dt.datetime | None:
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


def store_state(store: Store, now: dt.datetime, *, lock_stale: dt.timedelta | None = None,
                ) -> tuple[dict[str, dt.datetime], dict[str, str], dict[str, Unfinished]]:
    """From the store: each site's last run start (a resumed run: when it was resumed), who
    holds a live lock on each site (another host's lock is live while its heartbeat is younger
    than ``lock_stale``, default ``BLGW_LOCK_STALE_SECONDS``: the crawl's own rule), and the
    sites whose last run did not complete."""
    stale = lock_stale if lock_stale is not None else dt.timedelta(seconds=get_settings().lock_stale_seconds)
    worker = get_settings().worker
    ours = get_settings().lock_holder or None  # the claim a scheduler made for this crawl is no other holder
    with store.session() as session:
        starts = dict(session.execute(select(CrawlRun.site_code, func.max(CrawlRun.started_at))
                                      .group_by(CrawlRun.site_code)).all())
        locks = {lock.site_code: f"{lock.holder} since {_show(lock.acquired_at)}"
                 for lock in session.scalars(select(SiteLock))
                 if lock.holder != ours and lock_alive(lock, now, stale, worker)}
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


def decide(sites: Iterable[SiteSpec], last_started: dict[str, dt.datetime], now: dt.datetime, *,
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


def due_codes(registry: Iterable[SiteSpec], store: Store, codes: Iterable[str] | None = None, *,
              now: dt.datetime | None = None, echo: Callable[[str], None] = print,
              lock_stale: dt.timedelta | None = None) -> list[str]:
    """``blgw crawl --due``: print a decision line per site (of ``codes``, default every site)
    and return the codes to crawl."""
    now = now or dt.datetime.now(dt.UTC)
    wanted = set(codes) if codes else None
    sites = [s for s in registry if wanted is None or s.code in wanted]
    starts, locks, unfinished = store_state(store, now, lock_stale=lock_stale)
    decisions = decide(sites, starts, now, locks=locks, unfinished=unfinished)
    for decision in decisions:
        echo(decision.line())
    chosen = [d.code for d in decisions if d.due]
    echo(f"due now: {', '.join(chosen)}" if chosen else "nothing is due")
    return chosen




class Scheduler:
    """Every ``tick`` seconds: find the due sites and start ``blgw crawl CODE`` for each in a
    subprocess (at most ``max_parallel`` at once; never a site that is already being crawled by
    a child of ours or by anyone holding its lock); when crawls end, ``blgw index sync``.

    :meth:`stop` (the SIGTERM/SIGINT handler) forwards the signal to the running crawls (Scrapy
    then closes its spiders cleanly; the runs are recorded ``interrupted`` and the next crawl
    continues them); :meth:`run` waits for them and returns."""

    def __init__(self, *, sites: Callable[[], Iterable[SiteSpec]], store: Store, tick: float = 60.0,
                 max_parallel: int = 2, crawl_args: Sequence[str] = (), codes: Iterable[str] | None = None,
                 command: Sequence[str] | None = None, env: dict[str, str] | None = None,
                 clock: Callable[[], dt.datetime] | None = None, poll: float = 0.5,
                 lock_stale: dt.timedelta | None = None, worker: str | None = None,
                 probe_args: Sequence[str] | None = None) -> None:
        self.sites = sites
        # availability probes: `blgw probe` started when a round is due (None: no probes)
        self.probe_args = list(probe_args) if probe_args is not None else None
        self.prober: subprocess.Popen[bytes] | None = None
        self.snapshotter: subprocess.Popen[bytes] | None = None  # `blgw health --record`, hourly
        self.log_reader: subprocess.Popen[bytes] | None = None  # `blgw logs ingest --watched`
        self.logs_read_at: float | None = None  # monotonic time the last one started
        self.store = store
        self.tick = tick
        self.max_parallel = max(1, max_parallel)
        self.crawl_args = list(crawl_args)
        self.codes = set(codes) if codes else None
        self.command = list(command or [sys.executable, "-m", "gateway.cli"])
        self.env = env
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.poll = poll
        self.lock_stale = lock_stale  # None: BLGW_LOCK_STALE_SECONDS
        self.worker = worker or get_settings().worker  # this worker's name in the locks (BLGW_HOST_ID)
        self.claims: dict[str, str] = {}  # site code -> the lock holder claimed for its crawl
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        # a crawl that died before recording its run still counts as a start (no crash loop)
        self.attempted: dict[str, dt.datetime] = {}
        self.failed: list[str] = []
        self.with_errors: list[str] = []
        self.stopping: int | None = None
        self._ended = 0  # crawls ended since the last index sync
        self._noted: dict[str, tuple[str, dt.datetime | None, str | None, bool]] = {}  # the last of each site

    def decisions(self) -> list[Decision]:
        now = self.clock()
        sites = self._scheduled()
        starts, locks, unfinished = store_state(self.store, now, lock_stale=self.lock_stale)
        for code, when in self.attempted.items():
            if starts.get(code) is None or starts[code] < when:
                starts[code] = when
        return decide(sites, starts, now, locks=locks, unfinished=unfinished)

    def _note(self, decision: Decision, message: str, *args: object) -> None:
        """Log a decision at INFO when it differs from the site's previous one, else at DEBUG
        (a quiet site does not write a line per tick)."""
        key = (decision.state, decision.next_at, decision.running, decision.code in self.children)
        level = logging.DEBUG if self._noted.get(decision.code) == key else logging.INFO
        self._noted[decision.code] = key
        logger.log(level, message, *args)

    def tick_once(self) -> list[Decision]:
        """Log a decision per site; start the due ones while there are free slots; return the
        due ones left waiting for a slot. Nothing starts once :meth:`stop` was called."""
        waiting: list[Decision] = []
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

    def start(self, decision: Decision) -> bool:
        """Claim the site's lock for a crawl and start it (it adopts the lock); False when
        another worker claimed or crawls the site meanwhile (several schedulers on one store
        split the due sites so)."""
        stale = self.lock_stale or dt.timedelta(seconds=get_settings().lock_stale_seconds)
        try:
            with self.store.session() as session:
                holder = claim_lock(session, decision.code, hostname=self.worker, pid=os.getpid(), stale=stale)
        except SiteBusy as exc:
            logger.info("%-8s due, but taken by another worker: %s", decision.code, exc)
            return False
        # --due: the crawl re-checks (a lock taken meanwhile) and runs as a scheduled one
        args = [*self.command, "crawl", decision.code, "--due", "--no-index", "-q", *self.crawl_args]
        env = {**(self.env if self.env is not None else os.environ), LOCK_HOLDER_ENV: holder}
        # its own session: a Ctrl-C in a terminal reaches the scheduler only, which forwards it once
        child = subprocess.Popen(args, env=env, start_new_session=True)
        self.claims[decision.code] = holder
        self.children[decision.code] = child
        self.attempted[decision.code] = self.clock()
        logger.info("%-8s due (%s): started `blgw crawl %s` as pid %s", decision.code, decision.reason,
                    decision.code, child.pid)
        return True

    def reap(self) -> None:
        """Note the crawls that ended."""
        for code, child in list(self.children.items()):
            status = child.poll()
            if status is None:
                continue
            del self.children[code]
            self._release_claim(code)
            self._ended += 1
            if status == EXIT_OK:
                logger.info("%-8s crawl finished (exit 0)", code)
            elif status == EXIT_ERRORS:  # its report names the pages; the next run fetches them again
                self.with_errors.append(code)
                logger.warning("%-8s crawl finished with errors (exit 1); its summary is above", code)
            else:
                self.failed.append(code)
                logger.error("%-8s crawl FAILED (exit %s); its summary is above", code, status)

    def _release_claim(self, code: str) -> None:
        """Drop the claim of an ended crawl when it still holds it (the crawl died before adopting
        it, or did not release it); a crawl's own lock is released by the crawl."""
        holder = self.claims.pop(code, None)
        if holder is None:
            return
        try:
            with self.store.session() as session:
                release_lock(session, code, holder)
        except Exception as exc:  # noqa: BLE001 - the claim goes stale and is taken over
            logger.error("%-8s the claim of the site's lock could not be dropped: %s", code, exc)

    def sync(self) -> None:
        """``blgw index sync``, when crawls ended since the last one."""
        if not self._ended:
            return
        self._ended = 0
        result = subprocess.run([*self.command, "index", "sync"], check=False, env=self.env)
        if result.returncode == EXIT_ERRORS:  # synced; quarantined or refused rows named above
            self.with_errors.append("index sync")
            logger.warning("index synced with errors (exit 1): see its output above")
        elif result.returncode:
            self.failed.append("index sync")
            logger.error("index sync FAILED (exit %s)", result.returncode)
        else:
            logger.info("index synced")

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
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
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signum)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.stopping is None and time.monotonic() < end:
            time.sleep(min(self.poll, max(0.0, end - time.monotonic())))
            self.reap()

    def run(self, *, once: bool = False) -> int:
        """Tick until stopped, or (``once``) crawl the sites due now, ``max_parallel`` at a time.
        Returns the exit status (``once``; :mod:`gateway.ops.exits`): 3 when a crawl or the index
        sync failed, 1 when a crawl finished with errors, else 0."""
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
            return EXIT_FAILED if self.failed else EXIT_ERRORS if self.with_errors else EXIT_OK
        while self.stopping is None:
            self.reap()
            self.sync()
            self.tick_once()
            self.probe()
            self.snapshot()
            self.read_logs()
            self._sleep(self.tick)
        self._wait_children()
        for helper in (self.prober, self.snapshotter, self.log_reader):
            if helper is not None:
                helper.wait()
        self.sync()
        logger.info("scheduler stopped")
        return 0

    def _scheduled(self) -> list[SiteSpec]:
        """The site plugins this scheduler looks after (all, or --site's)."""
        return [s for s in self.sites() if self.codes is None or s.code in self.codes]

    def _store_says(self, question: Callable[[Session], bool], what: str) -> bool:
        """The store's answer (probe or snapshot due); False when it cannot be read (next tick
        asks again; the crawls report the store's outage)."""
        try:
            with self.store.session() as session:
                return question(session)
        except Exception as exc:  # noqa: BLE001 - the store is down: try next tick
            logger.error("%s not started: %s", what, exc)
            return False

    def probe(self) -> None:
        """Start an availability probe round (`blgw probe`, its own process: a hanging site
        never holds up the schedule) when one is due by the store's last round and none runs."""
        if self.probe_args is None:
            return
        if self.prober is not None:
            if self.prober.poll() is None:
                return
            if self.prober.returncode not in (EXIT_OK, EXIT_ERRORS):
                logger.error("probe round FAILED (exit %s)", self.prober.returncode)
            self.prober = None
        codes = [s.code for s in self._scheduled()]  # the sites this scheduler crawls
        if codes and self._store_says(lambda s: probe_due(s, self.clock(), get_settings().probes_per_day),
                                      "probe round"):
            self.prober = subprocess.Popen([*self.command, "probe", *codes, *self.probe_args], env=self.env,
                                           start_new_session=True)
            logger.info("availability probe round started as pid %s", self.prober.pid)

    def snapshot(self) -> None:
        """Every hour, `blgw health --record` keeps the sites' score cards: the day's trend square (its
        last record of the day) and the figures `/metrics` serves."""
        codes = [s.code for s in self._scheduled()]
        if not codes or (self.snapshotter is not None and self.snapshotter.poll() is None):
            return
        if self._store_says(lambda s: snapshot_due(s, self.clock()), "site health snapshot"):
            wanted = codes if self.codes is not None else []  # none: every site the store knows
            self.snapshotter = subprocess.Popen([*self.command, "health", *wanted, "--record", "--max-evidence", "0"],
                                                env=self.env, start_new_session=True, stdout=subprocess.DEVNULL)
            logger.info("site health snapshot started as pid %s", self.snapshotter.pid)

    def read_logs(self) -> None:
        """Every BLGW_LOG_INGEST_MINUTES, `blgw logs ingest --watched` reads the [logs] folders
        of the site plugins that declare one (its own process; an ingest is incremental, so one
        that overruns simply continues the next time)."""
        if self.log_reader is not None:
            if self.log_reader.poll() is None:
                return
            if self.log_reader.returncode not in (EXIT_OK, EXIT_ERRORS):
                logger.error("log ingest FAILED (exit %s)", self.log_reader.returncode)
            self.log_reader = None
        if not any(s.logs.folder for s in self.sites()):
            return
        now = time.monotonic()
        if self.logs_read_at is not None and now - self.logs_read_at < get_settings().log_ingest_minutes * 60:
            return
        self.logs_read_at = now
        self.log_reader = subprocess.Popen([*self.command, "logs", "ingest", "--watched"], env=self.env,
                                           start_new_session=True, stdout=subprocess.DEVNULL)
        logger.info("access-log ingest started as pid %s", self.log_reader.pid)

    def _wait_children(self) -> None:
        while self.children:
            time.sleep(self.poll)
            self.reap()
