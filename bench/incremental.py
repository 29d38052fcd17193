"""Incremental efficiency: requests of a second run over an unchanged site, as a share of the
first run's, on each fixture subsite (real servers: PHP via `php -S`, ASP.NET on Mono, classic
ASP, TRS with ETag/304, Hanweb dataproxy.jsp, and the JavaScript app in Chromium).

    python bench/incremental.py [--articles 120] [--sites rsj,jtj,dqjd,fgj,jyj,wlj]

Each site is generated (seeded), served on loopback, crawled once (the first run of a site is
full), then crawled again unchanged (incremental: known items are not fetched again, paging
stops at the first list page holding only known items, conditional GET where the server
supports it), then once more with --full (every list page read, no known detail page
fetched). Prints requests per run and the ratios; politeness delays are switched off (they do
not change request counts). Goal (issue 6): second run <= 10 % of the first.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def fixtures():
    from fixture_sites import aspnet_generator, generator, legacy_sites, modern_sites
    from fixture_sites.aspnet_server import aspnet_server, mono_available
    from fixture_sites.servers import php_bureau_server

    return {
        "rsj": ("PHP", generator.generate, php_bureau_server, shutil.which("php") is not None),
        "jtj": ("ASP.NET WebForms", aspnet_generator.generate, aspnet_server, mono_available()),
        "dqjd": ("classic ASP", legacy_sites.generate_asp, legacy_sites.asp_server, True),
        "fgj": ("TRS (ETag/304)", legacy_sites.generate_trs, legacy_sites.trs_server, True),
        "jyj": ("Hanweb", modern_sites.generate_hanweb, modern_sites.hanweb_server, True),
        "wlj": ("JavaScript (Chromium)", modern_sites.generate_jsapp, modern_sites.jsapp_server,
                Path("/usr/bin/chromium").exists()),
    }


def runs(db: Path, code: str) -> list[tuple[int, int, int, int]]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT requests, items_new, items_changed, items_unchanged FROM crawl_runs "
                         "WHERE site_code = ? ORDER BY id", (code,)).fetchall()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=120)
    ap.add_argument("--sites", default="rsj,jtj,dqjd,fgj,jyj,wlj")
    args = ap.parse_args()
    table = fixtures()
    rows = []
    with tempfile.TemporaryDirectory(prefix="blgw-bench-incr-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "BLGW_DATA_DIR": str(tmp / "data")}
        db = tmp / "data" / "gateway.sqlite"
        for code in args.sites.split(","):
            label, generate, server, available = table[code]
            if not available:
                print(f"{code:5} {label:22} skipped: its runtime is not installed")
                continue
            data = generate(tmp / f"site-{code}", seed=2024, n_articles=args.articles)
            with contextlib.ExitStack() as stack:
                url = stack.enter_context(server(data))
                for extra in ([], [], ["--full"]):
                    out = subprocess.run([sys.executable, "-m", "gateway.cli", "crawl", code, "--origin",
                                          f"{code}={url}", *FAST, *extra], cwd=REPO, env=env,
                                         capture_output=True, text=True)
                    if out.returncode != 0:
                        print(f"{code}: crawl failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
                        return 1
            (r1, n1, *_), (r2, n2, c2, _), (r3, _, _, u3) = runs(db, code)
            rows.append((code, label, r1, n1, r2, r3, u3))
            print(f"{code:5} {label:22} first {r1:5} requests ({n1} new items) | second {r2:4} requests "
                  f"= {100 * r2 / r1:5.1f} % ({n2} new, {c2} changed) | full {r3:5} requests "
                  f"= {100 * r3 / r1:5.1f} % ({u3} unchanged)")
    if rows:
        first, second = sum(r[2] for r in rows), sum(r[4] for r in rows)
        print(f"all   {'':22} first {first:5} requests | second {second:4} = {100 * second / first:.1f} % "
              f"(goal <= 10 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
