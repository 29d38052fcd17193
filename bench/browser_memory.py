"""Peak RSS of the browser processes over a ~550-page JavaScript crawl (500 articles + lists).

    python bench/browser_memory.py [--filler 440] [--recycle 100]

Runs the JavaScript fixture site (every list and article rendered by script) and crawls it
twice with `blgw crawl` in a subprocess, sampling the resident memory of every Chromium
process below it every 0.2 s from /proc: once with the gateway's browser recycling (restart
after --recycle pages) and once without (the baseline: one browser for the whole crawl, what
plain scrapy-playwright does). Prints pages, wall time, peak and final browser RSS for both,
and the ratio. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fixture_sites.modern_sites import generate_jsapp, jsapp_server  # noqa: E402

PLUGIN = """\
[site]
code = "wljbench"
name = "文旅局 (benchmark copy)"
base_url = "http://wlj.bl.gov.cn/"
platform = "js"

[list]
item = "#newsList li"
date = "span.date"
paging = {{ type = "next_link", next = "a.next::attr(href)", max_pages = 1000 }}
wait_for = "#app[data-state='loaded'], #app[data-state='error']"

[detail]
title = "#title"
published_at = "#pubdate"
body = "#content"
wait_for = "#app[data-state='loaded'], #app[data-state='error']"
{columns}
"""


def _children(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/task/{current}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        found += kids
        stack += kids
    return found


def _memory_kib(pid: int) -> tuple[str, int, int]:
    """(command name, RSS, PSS) of one process; PSS splits shared pages among the processes
    sharing them, so summing PSS over Chromium's processes does not count shared code twice."""
    name, rss, pss = "", 0, 0
    try:
        with open(f"/proc/{pid}/comm") as f:
            name = f.read().strip()
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return name, rss, pss


def crawl(base_url: str, plugin_dir: Path, recycle: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="blgw-bench-data-"))
    env = {**os.environ, "BLGW_DATA_DIR": str(data), "BLGW_PLUGIN_DIRS": str(plugin_dir)}
    cmd = [sys.executable, "-m", "gateway.cli", "crawl", "wljbench", "--origin", f"wljbench={base_url}", "-q",
           "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
           "-s", f"BLGW_BROWSER_RECYCLE_PAGES={recycle}", "-s", "LOG_LEVEL=ERROR"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0
    samples = []
    while proc.poll() is None:
        rows = [m for m in map(_memory_kib, _children(proc.pid)) if "chrom" in m[0].lower()]
        browser = sum(r[1] for r in rows)
        peak = max(peak, browser)
        peak_pss = max(peak_pss, sum(r[2] for r in rows))
        samples.append(browser)
        time.sleep(0.2)
    out, err = proc.communicate()
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{out}\n{err[-3000:]}")
    stats = json.loads(subprocess.run([sys.executable, "-m", "gateway.cli", "report", "--json"], cwd=REPO, env=env,
                                      capture_output=True, text=True, check=True).stdout)
    import sqlite3

    with sqlite3.connect(data / "gateway.sqlite") as con:
        run_stats = json.loads(con.execute("SELECT stats FROM crawl_runs ORDER BY id DESC").fetchone()[0])
    nonzero = [s for s in samples if s]
    tail = nonzero[-len(nonzero) // 4:] if nonzero else [0]
    return {"restarts": run_stats.get("blgw/browser_restarts", 0), "pages": stats["pages_fetched"], "items": stats["items"]["new"], "seconds": elapsed,
            "peak_mib": peak / 1024, "peak_pss_mib": peak_pss / 1024, "last_quarter_mean_mib": sum(tail) / len(tail) / 1024,
            "first_quarter_mean_mib": (sum(nonzero[: len(nonzero) // 4 or 1]) / (len(nonzero) // 4 or 1)) / 1024
            if nonzero else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filler", type=int, default=440, help="extra articles (default 440: 500 articles)")
    parser.add_argument("--recycle", type=int, default=100, help="restart the browser after this many pages")
    args = parser.parse_args()
    site = generate_jsapp(Path(tempfile.mkdtemp(prefix="blgw-bench-js-")), seed=2024, n_filler=args.filler)
    truth = json.loads((site / "truth.json").read_text(encoding="utf-8"))
    columns = "".join(f'\n[[columns]]\nname = "{c["name"]}"\nurl = "{c["url"]}"\n' for c in truth["columns"])
    plugin_dir = Path(tempfile.mkdtemp(prefix="blgw-bench-plugins-"))
    (plugin_dir / "wljbench.toml").write_text(PLUGIN.format(columns=columns), encoding="utf-8")
    print(f"JavaScript fixture: {len(truth['articles'])} articles in {len(truth['columns'])} columns")
    with jsapp_server(site) as base_url:
        ours = crawl(base_url, plugin_dir, args.recycle)
        baseline = crawl(base_url, plugin_dir, 10**9)
    for label, r in ((f"gateway (recycle every {args.recycle} pages)", ours), ("baseline (one browser, no recycling)", baseline)):
        print(f"{label}: {r['pages']} pages, {r['items']} items in {r['seconds']:.1f} s "
              f"({r['pages'] / r['seconds']:.1f} pages/s), {r['restarts']} browser restarts; browser RSS peak {r['peak_mib']:.0f} MiB "
              f"(PSS {r['peak_pss_mib']:.0f} MiB), "
              f"mean first quarter {r['first_quarter_mean_mib']:.0f} MiB, last quarter {r['last_quarter_mean_mib']:.0f} MiB")
    print(f"peak ratio gateway/baseline: {ours['peak_mib'] / baseline['peak_mib']:.2f}; "
          f"speed ratio: {(ours['pages'] / ours['seconds']) / (baseline['pages'] / baseline['seconds']):.2f}")


if __name__ == "__main__":
    main()
