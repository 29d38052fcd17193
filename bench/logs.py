"""Access-log ingest throughput and memory, beside GoAccess on the same files in the same run.

    python bench/logs.py [--lines 2000000] [--formats combined,w3c,common,iis] [--keep DIR]

For each format:

1. Writes a log of ``--lines`` requests (``fixture_sites.access_logs.big_log``: a week of
   traffic, ~3,500 URLs, ~350 User-Agents, 30,000 client addresses; W3C with IIS's default
   ``#Fields`` so GoAccess's predefined ``W3C`` format reads it) and one of a quarter of that.
2. Runs ``blgw``'s ingest (``gateway.ops.accesslog.ingest.ingest_paths``, default batch size,
   into a fresh SQLite store: parse, classify, count, commit) in a child process on each file, and
   GoAccess (Debian's ``goaccess``, ``--log-format=COMBINED|COMMON|W3C``, JSON report to a file,
   no progress) on the big one. GoAccess cannot read the IIS native format: ours only.
3. Prints lines/s and peak RSS (the child's ``ru_maxrss``, from ``os.wait4``) of each, the ratio
   ours/GoAccess of lines/s, and the ratio of our peak RSS on the big file to the quarter file
   (1.0 = memory flat with file size).

Prints numbers only; nothing is asserted. The machine is shared: compare ratios of one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixture_sites.access_logs import big_log  # noqa: E402

GOACCESS_FORMATS = {"combined": "COMBINED", "common": "COMMON", "w3c": "W3C"}
OURS = """
import sys
from pathlib import Path
from gateway.ops.accesslog.ingest import LogSite, ingest_paths
from gateway.store.session import Store
from plugins.spec import LogRules
store = Store(f"sqlite:///{sys.argv[1]}")
store.migrate()
summary = ingest_paths(store, LogSite("bench", "http://bench.bl.gov.cn/", LogRules(format=sys.argv[3])),
                       [Path(sys.argv[2])], key=b"bench-key")
print(summary.requests, summary.malformed)
"""


def ours(work: Path, log: Path, fmt: str) -> tuple[float, int, str]:
    store = work / f"store-{log.stem}.sqlite"
    store.unlink(missing_ok=True)
    return measured([sys.executable, "-c", OURS, str(store), str(log), fmt])


def goaccess(work: Path, log: Path, fmt: str) -> tuple[float, int, str]:
    return measured(["goaccess", str(log), f"--log-format={GOACCESS_FORMATS[fmt]}", "--no-global-config",
                     "--no-progress", "-o", str(work / "goaccess.json")])


def measured(command: list[str]) -> tuple[float, int, str]:
    """Run a child and read its own peak RSS with wait4 (not the maximum over all children)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read()
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): {err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss, out.decode(errors="replace").strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--formats", default="combined,w3c,common,iis")
    parser.add_argument("--keep", type=Path, help="Keep the generated logs and stores in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="blgw-logs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    has_goaccess = shutil.which("goaccess") is not None
    print(f"{args.lines:,} lines per format; GoAccess: "
          + (subprocess.run(["goaccess", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
             if has_goaccess else "not installed (apt-get install goaccess)"))
    print(f"{'format':<9} {'ours lines/s':>13} {'ours MiB':>9} {'quarter MiB':>12} {'RSS ratio':>9} "
          f"{'goaccess lines/s':>17} {'goaccess MiB':>13} {'ours/goaccess':>14}")
    try:
        for fmt in args.formats.split(","):
            big, small = work / f"{fmt}.log", work / f"{fmt}-quarter.log"
            if not big.exists():
                big_log(big, fmt, args.lines, seed=1)
            if not small.exists():
                big_log(small, fmt, args.lines // 4, seed=1)
            seconds, rss, out = ours(work, big, fmt)
            counted = int(out.split()[0])
            _, rss_small, _ = ours(work, small, fmt)
            rate = args.lines / seconds
            line = (f"{fmt:<9} {rate:>13,.0f} {rss / 1024:>9.0f} {rss_small / 1024:>12.0f} "
                    f"{rss / max(rss_small, 1):>9.2f}")
            if has_goaccess and fmt in GOACCESS_FORMATS:
                g_seconds, g_rss, _ = goaccess(work, big, fmt)
                g_rate = args.lines / g_seconds
                line += f" {g_rate:>17,.0f} {g_rss / 1024:>13.0f} {rate / g_rate:>14.2f}"
            else:
                line += f" {'-':>17} {'-':>13} {'-':>14}"
            print(line + ("" if counted == args.lines else f"   (counted {counted:,} of {args.lines:,})"),
                  flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
