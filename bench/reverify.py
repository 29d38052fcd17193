"""Rolling re-verification: what finding in-place edits costs, over simulated daily runs.

    python bench/reverify.py [--articles 120] [--days 45] [--refetch-days 30] [--edits 6]

The TRS fixture subsite (static pages with ETag and 304, editable on disk) is generated, served
on loopback and crawled once. Then each simulated day moves the store one day back in time (the
documents' verification times and the runs' starts: as if a day had passed), sometimes edits
one stored page's body in place (its title and list entry unchanged, so the lists say nothing),
and runs an ordinary incremental crawl. Prints, per run, the requests and the re-verification's
share of them, then: the extra requests per run against the first run's requests (goal: at most
5 %), how many days each edit took to be found (goal: within the refetch window), and the
oldest verification age seen (every page re-checked within the window). Politeness delays are
switched off (they do not change request counts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def main() -> int:
    from sqlalchemy import select

    from fixture_sites.legacy_sites import generate_trs, trs_server
    from gateway.store.models import CrawlRun, Document
    from gateway.store.session import Store

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=120)
    ap.add_argument("--days", type=int, default=45)
    ap.add_argument("--refetch-days", type=float, default=30)
    ap.add_argument("--edits", type=int, default=6, help="pages edited in place over the simulated days")
    args = ap.parse_args()
    rng = random.Random(7)
    day = dt.timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="blgw-bench-reverify-") as tmp:
        data = generate_trs(Path(tmp) / "fgj", seed=2024, n_articles=args.articles)
        truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
        env = {**os.environ, "BLGW_DATA_DIR": str(Path(tmp) / "data"), "BLGW_REFETCH_DAYS": str(args.refetch_days)}
        store = Store(f"sqlite:///{Path(tmp) / 'data' / 'gateway.sqlite'}")
        edit_days = set(rng.sample(range(1, max(2, args.days - int(args.refetch_days))), args.edits))
        edits: dict[str, int] = {}  # document URL → the day it was edited
        found: dict[str, int] = {}
        with trs_server(data) as url:
            def crawl() -> CrawlRun:
                out = subprocess.run([sys.executable, "-m", "gateway.cli", "crawl", "fgj", "--origin", f"fgj={url}",
                                      *FAST], cwd=REPO, env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    raise SystemExit(f"crawl failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
                with store.session() as s:
                    return s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()

            first = crawl()
            print(f"first run: {first.requests} requests, {first.items_new} items")
            extra, oldest = [], dt.timedelta(0)
            for d in range(1, args.days + 1):
                with store.session() as s:  # a day passes
                    for doc in s.scalars(select(Document)):
                        doc.last_seen_at -= day
                    for run in s.scalars(select(CrawlRun)):
                        run.started_at -= day
                        if run.finished_at:
                            run.finished_at -= day
                    now = dt.datetime.now(dt.UTC)
                    ages = [now - seen for seen in s.scalars(select(Document.last_seen_at))]
                    oldest = max(oldest, *ages)
                    stored = list(s.scalars(select(Document.url)))
                if d in edit_days:
                    target = rng.choice([u for u in stored if u not in edits])
                    article = next(a for a in truth["articles"] if target.endswith(a["path"]))
                    page = data / "www" / article["path"].lstrip("/")
                    marker = article["body_paragraphs"][0].encode("utf-8")
                    page.write_bytes(page.read_bytes().replace(marker, marker + f"（第{d}天修改）".encode(), 1))
                    os.utime(page, (page.stat().st_atime + 10, page.stat().st_mtime + 10))
                    edits[target] = d
                run = crawl()
                reverified = int((run.stats or {}).get("blgw/reverify/requests", 0))
                extra.append(reverified)
                with store.session() as s:
                    for target, edited in edits.items():
                        if target not in found:
                            doc = s.scalars(select(Document).where(Document.url == target)).one()
                            if f"（第{edited}天修改）" in doc.item["body_text"]:
                                found[target] = d
                print(f"day {d:3}: {run.requests:4} requests, {reverified:3} re-verified "
                      f"({100 * reverified / first.requests:4.1f} % of the first run's), {run.items_changed} changed")
        store.dispose()
    share = max(extra) / first.requests
    print(f"\nextra requests per run: mean {sum(extra) / len(extra):.1f}, max {max(extra)} "
          f"= {100 * share:.1f} % of the first run's {first.requests} (goal <= 5 %)")
    delays = [found[t] - edits[t] if t in found else None for t in edits]
    print(f"edits found after (days): {delays} (goal: within {args.refetch_days:g})")
    print(f"oldest verification age seen: {oldest.total_seconds() / 86400:.1f} days")
    ok = share <= 0.05 and all(x is not None and x <= args.refetch_days for x in delays)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
