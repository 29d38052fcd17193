"""Run reports: what a crawl did, for the terminal (text) and for machines (JSON)."""

from __future__ import annotations

from collections import Counter

from gateway.store.models import CrawlRun


def run_summary(run: CrawlRun, max_errors: int = 20) -> dict:
    """A run as a JSON-ready dict."""
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "run_id": run.id,
        "site_code": run.site_code,
        "status": run.status,
        "finish_reason": run.finish_reason,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round(duration, 1) if duration is not None else None,
        "pages_fetched": run.pages_fetched,
        "items": {"new": run.items_new, "changed": run.items_changed, "unchanged": run.items_unchanged},
        "errors": {
            "total": run.error_count,
            "by_kind": dict(Counter(e.kind for e in run.errors)),
            "first": [
                {"kind": e.kind, "url": e.url, "field": e.field, "message": e.message}
                for e in run.errors[:max_errors]
            ],
        },
    }


def format_run(run: CrawlRun, max_errors: int = 20) -> str:
    """A run as text for the terminal."""
    s = run_summary(run, max_errors)
    lines = [
        f"Run {s['run_id']} · site {s['site_code']} · {s['status']}"
        + (f" ({s['finish_reason']})" if s["finish_reason"] not in (None, "finished") else ""),
        f"  started   {s['started_at']}",
        f"  duration  {s['duration_seconds']} s" if s["duration_seconds"] is not None else "  duration  (running)",
        f"  pages     {s['pages_fetched']} fetched",
        f"  items     {s['items']['new']} new, {s['items']['changed']} changed, "
        f"{s['items']['unchanged']} unchanged",
        f"  errors    {s['errors']['total']}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(s["errors"]["by_kind"].items())) + ")"
           if s["errors"]["by_kind"] else ""),
    ]
    for e in s["errors"]["first"]:
        field = f" [{e['field']}]" if e["field"] else ""
        lines.append(f"    - {e['kind']}{field} {e['url']}: {e['message']}")
    if s["errors"]["total"] > len(s["errors"]["first"]):
        lines.append(f"    … {s['errors']['total'] - len(s['errors']['first'])} more")
    return "\n".join(lines)
