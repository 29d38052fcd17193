"""Run reports: what a crawl did, for the terminal (text) and for machines (JSON).

Errors are counted by kind. A failed request has the kind of its cause (``spiders.errors``:
``http``, ``timeout``, ``connection``, ``dns``, ``tls``, ``truncated``, ``redirect``,
``too-large``, ``robots``, ``offsite``, ``network``); the spider adds ``paging-cap`` (a column
stopped at its list-page cap) and ``paging``, the pipeline ``extraction``, ``field``,
``plugin`` and ``site`` (the site could not be crawled at all). Each run also gets a one-line
summary: for a failed run, why; a crawl of several sites ends with :func:`format_summary`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.store.models import CrawlError, CrawlRun


def _shown(errors: list[CrawlError], limit: int) -> list[CrawlError]:
    """At most ``limit`` errors, the first of every kind among them (so a kind with one error
    is never hidden behind a hundred of another), in the order they happened."""
    first_of_kind: dict[str, CrawlError] = {}
    for e in errors:
        first_of_kind.setdefault(e.kind, e)
    chosen = {e.id for e in list(first_of_kind.values())[:limit]}
    for e in errors:
        if len(chosen) >= limit:
            break
        chosen.add(e.id)
    return [e for e in errors if e.id in chosen]


OUTCOMES = ("finished", "finished with errors", "failed", "interrupted", "running")
"""A run's outcome (:func:`outcome`): ``finished`` (every page it scheduled was stored or found
unchanged, and no error was recorded), ``finished with errors`` (it ran to its end, and the
errors of its report name what it did not get: the next run fetches those pages again),
``failed`` (it could not do its work: no page of the site could be fetched, the store failed, it
was stopped), ``interrupted`` (stopped by a signal; the next crawl continues it) or ``running``."""


def outcome(run: CrawlRun) -> str:
    """The run's outcome, one of :data:`OUTCOMES`."""
    if run.status == "finished":
        return "finished with errors" if run.error_count else "finished"
    return run.status if run.status in OUTCOMES else "failed"


def failure_reason(run: CrawlRun) -> str | None:
    """Why a run failed, in one line; None when it did not (finished, or still running)."""
    if run.status in ("finished", "running"):
        return None
    why = []
    if run.finish_reason not in (None, "finished"):
        why.append(f"stopped: {run.finish_reason}")
    site = [e.message for e in run.errors if e.kind == "site"]
    why.extend(site)
    if not run.pages_fetched and not site:
        why.append("no page could be fetched from the site")
    others = Counter(e.kind for e in run.errors if e.kind != "site")
    if others:
        kind, n = others.most_common(1)[0]
        example = next(e for e in run.errors if e.kind == kind)
        why.append(f"{n} {kind} error{'s' * (n != 1)}, e.g. {example.url}: {example.message}")
    return "; ".join(why) or f"status {run.status}"


def headline(run: CrawlRun) -> str:
    """The run in one line: a failed site and why, or what a finished run did."""
    reason = failure_reason(run)
    if reason is not None:
        return f"{run.site_code}: FAILED — {reason}"
    by_kind = Counter(e.kind for e in run.errors)
    errors = (f"{run.error_count} error{'s' * (run.error_count != 1)} ("
              + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) + ")") if run.error_count else "no errors"
    return (f"{run.site_code}: {outcome(run)} — {run.pages_fetched} pages, {run.items_new} new, "
            f"{run.items_changed} changed, {run.items_unchanged} unchanged, "
            f"{getattr(run, 'items_gone', 0) or 0} gone; {errors}")


def run_summary(run: CrawlRun, max_errors: int = 20) -> dict[str, Any]:
    """A run as a JSON-ready dict."""
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    by_kind = Counter(e.kind for e in run.errors)
    return {
        "run_id": run.id,
        "site_code": run.site_code,
        "status": run.status,
        "outcome": outcome(run),
        "finish_reason": run.finish_reason,
        "failed": failure_reason(run),
        "summary": headline(run),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round(duration, 1) if duration is not None else None,
        "pages_fetched": run.pages_fetched,
        "items": {"new": run.items_new, "changed": run.items_changed, "unchanged": run.items_unchanged,
                  "gone": getattr(run, "items_gone", 0) or 0},
        "attachments": _attachments(run.stats or {}),
        # the rolling re-verification's extra requests (stored pages fetched again, oldest-verified first)
        "reverified": int((run.stats or {}).get("blgw/reverify/requests", 0) or 0),
        "requests": getattr(run, "requests", 0) or 0,
        "errors": {
            "total": run.error_count,
            "by_kind": dict(sorted(by_kind.items())),
            "first": [
                {"kind": e.kind, "url": e.url, "field": e.field, "message": e.message}
                for e in _shown(list(run.errors), max_errors)
            ],
        },
    }


def _attachments(stats: dict[str, Any]) -> dict[str, int]:
    """What the run did with attachment files (from its crawl statistics)."""
    prefix = "blgw/attachments/"
    return {key[len(prefix):]: int(value) for key, value in sorted(stats.items())
            if key.startswith(prefix) and isinstance(value, int | float)}


def format_run(run: CrawlRun, max_errors: int = 20) -> str:
    """A run as text for the terminal."""
    s = run_summary(run, max_errors)
    lines = [
        f"Run {s['run_id']} · site {s['site_code']} · {s['outcome']}"
        + (f" ({s['finish_reason']})" if s["finish_reason"] not in (None, "finished") else ""),
        f"  summary   {s['summary']}",
        f"  started   {s['started_at']}",
        f"  duration  {s['duration_seconds']} s" if s["duration_seconds"] is not None else "  duration  (running)",
        f"  pages     {s['pages_fetched']} fetched",
        f"  items     {s['items']['new']} new, {s['items']['changed']} changed, "
        f"{s['items']['unchanged']} unchanged" + (f", {s['items']['gone']} gone" if s["items"]["gone"] else ""),
        *([f"  files     {a.get('stored', 0)} kept ({a.get('bytes', 0):,} bytes; {a.get('new', 0)} new, "
             f"{a.get('changed', 0)} changed), "
             f"{a.get('not_modified', 0)} unchanged, {a.get('failed', 0)} failed, {a.get('too_large', 0)} too large"]
          if (a := s["attachments"]) else []),
        *([f"  verify    {s['reverified']} stored page(s) fetched again to find edits "
             f"({s['reverified'] / s['requests']:.1%} of {s['requests']} requests)"]
          if s["reverified"] and s["requests"] else []),
        f"  errors    {s['errors']['total']}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in s["errors"]["by_kind"].items()) + ")"
           if s["errors"]["by_kind"] else ""),
    ]
    for e in s["errors"]["first"]:
        field = f" [{e['field']}]" if e["field"] else ""
        lines.append(f"    - {e['kind']}{field} {e['url']}: {e['message']}")
    if s["errors"]["total"] > len(s["errors"]["first"]):
        lines.append(f"    … {s['errors']['total'] - len(s['errors']['first'])} more")
    return "\n".join(lines)


def format_summary(session: Session, run_ids: Sequence[int], codes: Sequence[str] = (),
                   still_running: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The end of a crawl's output: one line per site (status, pages, items new/changed/
    unchanged/gone, errors by kind, duration) and a last line naming each failed site and why
    (:func:`failure_reason`). A code of ``codes`` without a run failed too (the
    crawl never started, e.g. another process holds the site's lock), and so did a run still
    ``running`` once its crawl ended (it could not be closed: the store failed), unless its site
    is in ``still_running``. Returns (text, failed)."""
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
        if run.status == "running" and run.site_code not in still_running:
            why = "the run could not be closed in the store (see the messages above); the next crawl continues it"
        status = outcome(run) if why is None else run.status.upper()
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


