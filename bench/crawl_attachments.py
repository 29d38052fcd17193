"""A crawl with its attachments: wall time and peak RSS of ``blgw crawl`` on the attachment fixture
subsite, beside a bare Scrapy spider fetching the same URLs (pages and files) in the same run.

    python bench/crawl_attachments.py [--seeds 3] [--cap-mb 50] [--no-hostile]

The site is ``fixture_sites.attachment_site`` (the seeded attachment set: PDFs, DOCX, RTF, XLSX,
OFD, ZIP, HTML-as-.doc, a PDF bomb, an endless download, a truncated one) served by ``--seeds``
servers at once, crawled one after the other. Ours: ``blgw crawl sfj`` into a fresh data dir (the
pages normalized and stored, every file fetched, kept by SHA-256 and read in limited worker
processes, the items re-exported), per-site delay and AutoThrottle off, the global cap
``--cap-mb``. The baseline: a bare Scrapy spider (the same Scrapy, concurrency 2, no delay,
``DOWNLOAD_MAXSIZE`` the same cap) that GETs every page and file URL of the same site and keeps
nothing. ``--no-hostile``: the site without its bomb, endless and truncated files (each of which
costs ours its budget by design: the bomb the reader's CPU limit, the truncated file its retries
with backoff). Also ours with attachments off (``BLGW_ATTACHMENTS_ENABLED=false``): what the files add.
Peak RSS is GNU time's maximum resident set size of the crawl command (its largest process: the
crawl; the reader processes are far smaller). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fixture_sites.attachment_site import attachment_server, build_site  # noqa: E402

BLGW = str(Path(sys.executable).with_name("blgw"))
FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "DOWNLOAD_DELAY_JITTER=0"]

BARE = textwrap.dedent('''
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = json.load(open(sys.argv[1]))

    class Bare(scrapy.Spider):
        name = "bare"
        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True, errback=lambda f: None)
        def parse(self, response):
            return None

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "DOWNLOAD_DELAY": 0,
                              "ROBOTSTXT_OBEY": False, "RETRY_TIMES": 3, "DOWNLOAD_MAXSIZE": int(sys.argv[2]),
                              "DOWNLOAD_WARNSIZE": 0, "TELNETCONSOLE_ENABLED": False,
                              "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
    process.crawl(Bare)
    process.start()
''')


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of a command, through GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *args], env=env,
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        peak = int(Path(out.name).read_text().split()[-1])
    return seconds, peak, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cap-mb", type=int, default=50)
    parser.add_argument("--no-hostile", action="store_true")
    args = parser.parse_args()
    cap = args.cap_mb * 1024 * 1024
    rows: dict[str, list[tuple[float, int]]] = {"bare scrapy": [], "blgw, attachments off": [], "blgw": []}
    files = kept = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            with attachment_server(site=build_site(seed, hostile=not args.no_hostile)) as (url, site):
                truth = site.truth(url)
                urls = [f"{url}/", f"{url}/col/zcwj.jsp", f"{url}/col/zcwj.jsp?page=2"]
                urls += [a["url"] for a in truth["articles"]]
                urls += list(dict.fromkeys(f["url"] for a in truth["articles"] for f in a["attachments"]))
                files += len({f["url"] for a in truth["articles"] for f in a["attachments"]})
                listing = Path(tmp, f"urls{seed}.json")
                listing.write_text(json.dumps(urls))
                script = Path(tmp, "bare.py")
                script.write_text(BARE)
                seconds, peak, _ = _timed([sys.executable, str(script), str(listing), str(cap)], dict(os.environ))
                rows["bare scrapy"].append((seconds, peak))
                for label, enabled in (("blgw, attachments off", "false"), ("blgw", "true")):
                    data = Path(tmp, f"data-{seed}-{enabled}")
                    env = {**os.environ, "BLGW_DATA_DIR": str(data), "BLGW_ATTACHMENTS_ENABLED": enabled,
                           "BLGW_ATTACHMENT_MAX_BYTES": str(cap)}
                    seconds, peak, code = _timed([BLGW, "crawl", "sfj", "--origin", f"sfj={url}", *FAST], env)
                    if code not in (0, 1):
                        raise SystemExit(f"blgw crawl failed (exit {code})")
                    rows[label].append((seconds, peak))
                    if enabled == "true":
                        kept += sum(1 for p in (data / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp")
    bare = sum(s for s, _ in rows["bare scrapy"])
    print(f"{'':<24}{'seconds':>9}{'vs bare':>9}{'peak RSS MiB':>14}")
    summary: dict[str, object] = {"seeds": args.seeds, "files": files, "kept": kept, "cap_mb": args.cap_mb,
                                  "hostile": not args.no_hostile}
    for label, values in rows.items():
        seconds = sum(s for s, _ in values)
        peak = max(p for _, p in values) / 1024
        print(f"{label:<24}{seconds:>9.2f}{seconds / bare:>9.2f}{peak:>14.1f}")
        summary[label] = {"seconds": round(seconds, 2), "ratio": round(seconds / bare, 2), "peak_rss_mib": round(peak, 1)}
    print(f"{files} attachment URLs, {kept} distinct files kept")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
