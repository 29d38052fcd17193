"""Availability probes (站点无法访问): each site's home page and a few key pages, one GET each.

A round probes a control target first (``BLGW_PROBE_CONTROL_URL``, e.g. the portal); when it
fails, the gateway's own network is down: the round is recorded as discarded and no site is
probed.  Without a control target, a round in which every probe of three or more sites fails is
discarded the same way.  A probe is one request (redirects are not followed: a 3xx is an
answer), read for at most 64 KB, failed on a connection error, a status of 400 or more, or an
answer slower than the timeout (15 s).  A site's probes are sent one after the other with the
crawl's delay between them; after one gets no answer, the site's other pages are not requested in
that round (a hung server still works on the request given up) and count as failed; sites are
probed side by side.

:func:`availability` turns the stored probes into the indicator: the share of failed probes
over the last week, a veto at 5 % (configurable).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models import Probe, ProbeRound, utcnow
from gateway.store.session import Store
from normalizers.urls import rebase
from plugins.spec import SiteSpec

__all__ = ["ProbeResult", "ProbeTarget", "RoundResult", "availability_share", "probe_due", "probe_targets", "run_round"]

READ_LIMIT = 64 * 1024


@dataclass(frozen=True)
class ProbeTarget:
    site_code: str
    url: str  # public URL (what is recorded)
    fetch_url: str  # where it is requested (the site's --origin, else the public URL)


@dataclass(frozen=True)
class ProbeResult:
    target: ProbeTarget
    at: dt.datetime
    ok: bool
    status: int | None
    elapsed_ms: int | None
    error: str | None


@dataclass
class RoundResult:
    round_id: int
    control_ok: bool
    control_error: str | None
    results: list[ProbeResult]


def probe_targets(spec: SiteSpec, pages: int, origins: Mapping[str, str] | None = None) -> list[ProbeTarget]:
    """The home page and the first ``pages`` columns' pages of a site, each once."""
    base = spec.site.base_url
    urls = [base]
    for column in spec.columns:
        if len(urls) > pages:
            break
        url = urljoin(base, column.url)
        if url not in urls:
            urls.append(url)
    override = (origins or {}).get(spec.code)
    return [ProbeTarget(spec.code, u, rebase(u, base, override) if override else u) for u in urls]


def _probe(client: httpx.Client, target: ProbeTarget, timeout: float) -> ProbeResult:
    at = utcnow()
    start = time.monotonic()
    try:
        with client.stream("GET", target.fetch_url) as response:
            read = 0
            for chunk in response.iter_bytes():
                read += len(chunk)
                if read >= READ_LIMIT or time.monotonic() - start > timeout:
                    break
            status = response.status_code
    except httpx.TimeoutException:
        return ProbeResult(target, at, False, None, round((time.monotonic() - start) * 1000),
                           f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return ProbeResult(target, at, False, None, round((time.monotonic() - start) * 1000),
                           f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__)
    elapsed = time.monotonic() - start
    if elapsed > timeout:
        return ProbeResult(target, at, False, status, round(elapsed * 1000), f"answered in {elapsed:.1f} s "
                                                                             f"(over {timeout:g} s)")
    ok = status < 400
    return ProbeResult(target, at, ok, status, round(elapsed * 1000), None if ok else f"HTTP {status}")


def _probe_site(targets: list[ProbeTarget], timeout: float, delay: float, user_agent: str) -> list[ProbeResult]:
    results = []
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                      headers={"User-Agent": user_agent}) as client:
        hung = None
        for n, target in enumerate(targets):
            if hung is not None:  # never pile requests onto a server still busy with the last one
                results.append(ProbeResult(target, utcnow(), False, None, None,
                                           f"not sent: {hung.target.url} got no answer in this round"))
                continue
            if n:
                time.sleep(delay)  # the crawl's politeness: one request at a time, spaced
            result = _probe(client, target, timeout)
            results.append(result)
            if result.status is None and result.error and result.error.startswith("no answer"):
                hung = result
    return results


def run_round(store: Store, targets: Iterable[ProbeTarget], *, control_url: str = "", timeout: float = 15.0,
              delay: float = 1.0, user_agent: str = "blgw", max_sites: int = 8) -> RoundResult:
    """One probe round over ``targets``, recorded in the store."""
    by_site: dict[str, list[ProbeTarget]] = {}
    for t in targets:
        by_site.setdefault(t.site_code, []).append(t)
    started = utcnow()
    control_error = None
    if control_url:
        control = _probe_site([ProbeTarget("", control_url, control_url)], timeout, 0, user_agent)[0]
        control_error = None if control.ok else f"control {control_url}: {control.error}"
    results: list[ProbeResult] = []
    if control_error is None and by_site:
        with ThreadPoolExecutor(max_workers=max(1, min(max_sites, len(by_site)))) as pool:
            for found in pool.map(lambda ts: _probe_site(ts, timeout, delay, user_agent), by_site.values()):
                results += found
        if not control_url and len(by_site) >= 3 and not any(r.ok for r in results):
            control_error = f"every probe of {len(by_site)} sites failed: taken as the gateway's own network"
    with store.session() as session, session.begin():
        row = ProbeRound(started_at=started, control_url=control_url or None, control_ok=control_error is None,
                         control_error=control_error)
        session.add(row)
        session.flush()
        session.add_all(Probe(round_id=row.id, site_code=r.target.site_code, url=r.target.url, at=r.at, ok=r.ok,
                              status=r.status, elapsed_ms=r.elapsed_ms, error=r.error) for r in results)
        round_id = row.id
    return RoundResult(round_id, control_error is None, control_error, results)


def probe_due(session: Session, now: dt.datetime, per_day: int) -> bool:
    """Whether a round is due: none yet, or the last started a day / ``per_day`` ago or more
    (rounds spread evenly over the day)."""
    last = session.scalar(select(ProbeRound.started_at).order_by(ProbeRound.started_at.desc()).limit(1))
    return last is None or now - last >= dt.timedelta(days=1) / per_day


def availability_share(session: Session, code: str, at: dt.datetime, days: float = 7,
                       ) -> tuple[int, int, list[str]]:
    """Probes of the site in the ``days`` before ``at`` (rounds whose control answered):
    (failed, total, evidence lines of the failures, newest first)."""
    since = at - dt.timedelta(days=days)
    rows = session.execute(
        select(Probe.at, Probe.url, Probe.ok, Probe.error).join(ProbeRound, Probe.round_id == ProbeRound.id)
        .where(Probe.site_code == code, ProbeRound.control_ok.is_(True), Probe.at >= since, Probe.at <= at)
        .order_by(Probe.at.desc())).all()
    failed = [r for r in rows if not r.ok]
    return len(failed), len(rows), [f"{r.at.isoformat(timespec='minutes')} {r.url}: {r.error}" for r in failed]
