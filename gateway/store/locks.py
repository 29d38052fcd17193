"""One crawl per site: the ``site_locks`` rows, who holds them, and whether the holder lives.

A lock names its holder (host, pid, a random tag) and is refreshed by a heartbeat. A holder
that died (``kill -9``, power loss) is taken over: on the same host when its process is gone
(or a zombie), on another host when its heartbeat is older than ``BLGW_LOCK_STALE_SECONDS``.
The crawl (taking a lock) and the scheduler (skipping a site that is being crawled) decide
liveness with the same :func:`lock_alive`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store.models import JobLock, Site, SiteLock, utcnow

__all__ = ["LOCK_HOLDER_ENV", "JobBusy", "SiteBusy", "acquire_job_lock", "acquire_lock", "claim_lock",
           "heartbeat_job_lock", "heartbeat_lock", "lock_alive", "release_job_lock", "release_lock"]

LOCK_HOLDER_ENV = "BLGW_" + "LOCK_HOLDER"  # the setting lock_holder (gateway.settings)
"""The environment variable naming the lock a scheduler claimed for the crawl it starts: the
crawl adopts it (:func:`acquire_lock`) instead of taking a new one."""

log = logging.getLogger(__name__)


class SiteBusy(Exception):
    """Another live process holds the site's lock."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is dead for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def lock_alive(lock: SiteLock | JobLock, now: dt.datetime, stale: dt.timedelta, hostname: str | None = None) -> bool:
    """Whether the holder of a ``site_locks`` row still runs: its process, when it is on this
    host; else a heartbeat younger than ``stale``."""
    if lock.hostname == (hostname or socket.gethostname()):
        return _pid_alive(lock.pid)
    return now - (lock.heartbeat_at or lock.acquired_at) <= stale


def acquire_lock(session: Session, site_code: str, *, holder: str, hostname: str, pid: int,
                 stale: dt.timedelta) -> None:
    """Take the site's lock for ``holder`` or raise :class:`SiteBusy` naming the live holder; a
    dead holder's lock is taken over (with a warning)."""
    now = utcnow()
    lock = session.get(SiteLock, site_code, with_for_update=True)
    if lock is not None and lock.holder == holder:  # claimed for us by the scheduler: adopted
        lock.hostname, lock.pid, lock.heartbeat_at = hostname, pid, now
        session.flush()
        return
    if lock is not None:
        same_host = lock.hostname == hostname
        if lock_alive(lock, now, stale, hostname) and lock.pid != pid:
            raise SiteBusy(f"site {site_code} is being crawled by {lock.hostname} pid {lock.pid}"
                           f" (run {lock.run_id}, since {lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC)")
        log.warning("site %s: taking over the lock of %s pid %s (%s)", site_code, lock.hostname,
                    lock.pid, "process gone" if same_host else "heartbeat stale")
        session.delete(lock)
        session.flush()
    session.add(SiteLock(site_code=site_code, holder=holder, hostname=hostname, pid=pid,
                         acquired_at=now, heartbeat_at=now))
    try:
        session.flush()
    except IntegrityError as exc:  # another process inserted it between our read and write
        raise SiteBusy(f"site {site_code} was locked by another process just now") from exc


def claim_lock(session: Session, site_code: str, *, hostname: str, pid: int, stale: dt.timedelta) -> str:
    """Claim the site's lock for a crawl about to be started (by a scheduler, ``pid`` its own):
    return the holder name the crawl adopts (:data:`LOCK_HOLDER_ENV`), or raise
    :class:`SiteBusy` when a live holder (another worker, another crawl) has it."""
    holder = f"{hostname}:{pid}:claim-{uuid.uuid4().hex[:8]}"
    if session.get(Site, site_code) is None:  # a site never crawled: its row, filled in by the crawl
        session.add(Site(code=site_code, name=site_code, base_url=""))
        try:
            session.flush()
        except IntegrityError as exc:  # another worker claims it at this moment
            raise SiteBusy(f"site {site_code} was claimed by another worker just now") from exc
    acquire_lock(session, site_code, holder=holder, hostname=hostname, pid=pid, stale=stale)
    return holder


def heartbeat_lock(session: Session, site_code: str, holder: str, run_id: int | None) -> None:
    """Refresh the holder's heartbeat (and record the run it works on)."""
    session.execute(update(SiteLock).where(SiteLock.site_code == site_code, SiteLock.holder == holder)
                    .values(heartbeat_at=utcnow(), run_id=run_id))


def release_lock(session: Session, site_code: str, holder: str) -> None:
    """Drop the site's lock if ``holder`` still holds it."""
    lock = session.get(SiteLock, site_code)
    if lock is not None and lock.holder == holder:
        session.delete(lock)


class JobBusy(Exception):
    """Another live process runs the job; ``purpose`` says what it does (``rebuild``…)."""

    def __init__(self, message: str, purpose: str) -> None:
        super().__init__(message)
        self.purpose = purpose


def acquire_job_lock(session: Session, name: str, purpose: str, *, holder: str, hostname: str, pid: int,
                     stale: dt.timedelta) -> None:
    """Take the job lock ``name`` for ``holder`` (doing ``purpose``) or raise :class:`JobBusy`
    naming the live holder; a dead holder's lock is taken over (with a warning)."""
    now = utcnow()
    lock = session.get(JobLock, name, with_for_update=True)
    if lock is not None and lock.holder != holder:
        if lock_alive(lock, now, stale, hostname):
            raise JobBusy(f"{lock.purpose} by {lock.hostname} pid {lock.pid} is running "
                          f"(since {lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC)", lock.purpose)
        log.warning("job %s: taking over the lock of %s pid %s (%s, %s)", name, lock.hostname, lock.pid,
                    lock.purpose, "process gone" if lock.hostname == hostname else "heartbeat stale")
        session.delete(lock)
        session.flush()
        lock = None
    if lock is None:
        session.add(JobLock(name=name, purpose=purpose, holder=holder, hostname=hostname, pid=pid,
                            acquired_at=now, heartbeat_at=now))
    else:
        lock.purpose, lock.heartbeat_at = purpose, now
    try:
        session.flush()
    except IntegrityError as exc:  # another process inserted it between our read and write
        raise JobBusy(f"job {name} was started by another process just now", "unknown") from exc


def heartbeat_job_lock(session: Session, name: str, holder: str) -> None:
    session.execute(update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
                    .values(heartbeat_at=utcnow()))


def release_job_lock(session: Session, name: str, holder: str) -> None:
    lock = session.get(JobLock, name)
    if lock is not None and lock.holder == holder:
        session.delete(lock)
