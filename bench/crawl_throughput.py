"""Crawl throughput and memory of the full pipeline, beside a bare Scrapy spider on the SAME site.

    python bench/crawl_throughput.py [--pages 20000] [--skip-scrapy-bench] [--profile FILE]

Serves a large synthetic legacy site (GBK list pages with 下一页 paging and detail pages with a
disclosure table, generated on the fly by a threaded stdlib server on loopback) and crawls it:

1. a bare Scrapy spider (the tightest baseline): it follows exactly the same list and detail
   links with the same concurrency (16 in flight, no delay, no AutoThrottle, robots off, the
   same asyncio reactor), and does nothing else: no parsing beyond the two link selectors, no
   storage;
2. `blgw crawl` (fetch, parse, normalize, store in SQLite, index in the embedded index), with
   politeness switched off the same way, sampling the crawl process's RSS every 0.5 s;
3. the bare spider again; the baseline is the mean of 1 and 3 (the machine is shared and
   noisy: the gateway is measured between two baselines of the same run).

Prints pages/s of each, the ratio gateway / bare Scrapy (goal >= 0.70), the RSS peak and the RSS
slope in KB per page (least squares over the samples after the first 20 % of the crawl; goal
about 0). `scrapy bench` (Scrapy's own benchmark, another site and server) stays as a second
reference unless --skip-scrapy-bench. ``--profile FILE`` runs the gateway's crawl under
cProfile and writes the stats to FILE (slower: not for the figures).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fixture_sites.servers import threaded_http_server  # noqa: E402

PER_PAGE = 20
WORDS = ("社会保险", "就业创业", "人才引进", "劳动关系", "职业技能", "工伤保险", "养老保险", "医疗保险",
         "失业登记", "公共服务", "安全生产", "城市建设", "交通运输", "文化旅游", "教育培训", "卫生健康")

PLUGIN = """[site]
code = "bench"
name = "性能测试站点"
base_url = "http://bench.bl.gov.cn/"
obey_robots = false

[list]
item = "ul.list li"
date = "span"
paging = { type = "next_link", next = "//a[.='下一页']/@href", max_pages = 100000 }

[detail]
title = "h1"
body = "#zoom"
disclosure_table = "table.xxgk"

[[columns]]
name = "通知公告"
url = "/list?page=1"
"""


def make_handler(total: int) -> type[BaseHTTPRequestHandler]:
    pages = (total + PER_PAGE - 1) // PER_PAGE

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, html: str) -> None:
            body = html.encode("gbk")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=gbk")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if m := re.match(r"^/list\?page=(\d+)$", self.path):
                n = int(m.group(1))
                first = (n - 1) * PER_PAGE
                items = "".join(
                    f'<li><a href="/show?id={i}" title="{_title(i)}">{_title(i)}</a><span>{_date(i)}</span></li>'
                    for i in range(first, min(first + PER_PAGE, total)))
                nxt = f'<a href="/list?page={n + 1}">下一页</a>' if n < pages else "下一页"
                self._send(f"<html><head><title>通知公告</title></head><body><div class='nav'>首页 通知公告</div>"
                           f"<ul class='list'>{items}</ul><div class='pages'>{nxt}</div></body></html>")
            elif m := re.match(r"^/show\?id=(\d+)$", self.path):
                i = int(m.group(1))
                paragraphs = "".join(f"<p>{_sentence(i, k)}</p>" for k in range(6))
                self._send(
                    f"<html><head><title>{_title(i)}</title></head><body><div class='nav'>首页 &gt; 通知公告</div>"
                    f"<table class='xxgk'><tr><td>索引号</td><td>002948120/2024-{i:05d}</td><td>发布机构</td>"
                    f"<td>区人力社保局</td></tr><tr><td>成文日期</td><td>{_date(i)}</td><td>发文字号</td>"
                    f"<td>仑人社〔2024〕{i % 90 + 1}号</td></tr></table><h1>{_title(i)}</h1>"
                    f"<div class='info'>发布时间：{_date(i)} 10:{i % 60:02d}</div><div id='zoom'>{paragraphs}</div>"
                    f"<div class='attach'><a href='/files/{i}.pdf'>附件1：申报表.pdf</a></div>"
                    f"<div class='footer'>北仑区人力资源和社会保障局 版权所有 浙ICP备05011234号</div></body></html>")
            else:
                self.send_error(404)

    return Handler


def _title(i: int) -> str:
    return f"关于做好{2015 + i % 10}年度{WORDS[i % len(WORDS)]}工作的通知（第{i}号）"


def _date(i: int) -> str:
    return f"{2015 + i % 10}-{i % 12 + 1:02d}-{i % 28 + 1:02d}"


def _sentence(i: int, k: int) -> str:
    w = WORDS[(i + k) % len(WORDS)]
    return (f"为进一步做好{w}工作，根据上级有关文件精神，结合我区实际，现就第{i}号事项第{k + 1}条通知如下，"
            f"各单位要高度重视，认真组织实施，确保{w}各项任务落到实处。")


def rss_kib(pid: int) -> int:
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


BARE_SPIDER = r"""
import sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

class Bare(scrapy.Spider):
    name = "bare"
    custom_settings = {
        "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }
    pages = 0

    async def start(self):
        yield scrapy.Request(sys.argv[1] + "/list?page=1", callback=self.parse_list)

    def parse_list(self, response):
        type(self).pages += 1
        for href in response.css("ul.list li a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_detail)
        for href in response.xpath("//a[.='下一页']/@href").getall():
            yield response.follow(href, callback=self.parse_list)

    def parse_detail(self, response):
        type(self).pages += 1

started = time.monotonic()
process = CrawlerProcess()
process.crawl(Bare)
process.start()
print(f"bare {Bare.pages} {time.monotonic() - started:.3f}")
"""


def run_bare_scrapy(base_url: str) -> dict:
    """Pages/s of the bare spider on the same site (its own process, like the gateway's)."""
    folder = Path(tempfile.mkdtemp(prefix="blgw-bench-bare-"))
    script = folder / "bare_spider.py"  # a file: Scrapy reads its callbacks' source
    script.write_text(BARE_SPIDER, encoding="utf-8")
    cpu = _cpu_seconds()
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(script), base_url], capture_output=True, text=True,
                            timeout=3600, cwd=folder)
    elapsed = time.monotonic() - started
    crawler_cpu, server_cpu = (after - before for after, before in zip(_cpu_seconds(), cpu, strict=True))
    match = re.search(r"^bare (\d+) ([\d.]+)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"the bare Scrapy spider failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    pages = int(match.group(1))
    return {"pages": pages, "seconds": elapsed, "pages_per_s": pages / elapsed,
            "crawler_ms": crawler_cpu * 1000 / pages, "server_ms": server_cpu * 1000 / pages}


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) used so far by the finished children (the crawlers) and by
    this process (the site's server threads, and the RSS sampling)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime, own.ru_utime + own.ru_stime


def rss_slope_kb_per_page(samples: list[tuple[float, int]], elapsed: float, pages: int,
                          until: float = 0.9) -> float:
    """Least-squares slope of RSS (KiB) over the crawl's progress in pages, between 20 % and 90 %
    of the run (before: start-up, imports, caches filling; after: the end of the crawl and the
    index sync of everything it stored, a separate step); progress is taken as proportional to
    time (the crawl runs at a steady rate once warm)."""
    rate = pages / elapsed if elapsed else 0.0
    points = [(t * rate, kib) for t, kib in samples if elapsed * 0.2 < t < elapsed * until]
    if len(points) < 3:
        return float("nan")
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return float("nan")
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var * 1.024  # KiB → KB


def run_gateway(base_url: str, total: int, profile: str | None = None) -> dict:
    data = Path(tempfile.mkdtemp(prefix="blgw-bench-crawl-"))
    plugins = data / "plugins"
    plugins.mkdir()
    (plugins / "bench.toml").write_text(PLUGIN, encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(data / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    python = [sys.executable, "-m", "cProfile", "-o", profile] if profile else [sys.executable]
    cmd = [*python, "-m", "gateway.cli", "crawl", "bench", "--origin", f"bench={base_url}", "-q",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=ERROR"]
    cpu = _cpu_seconds()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, int]] = []
    while proc.poll() is None:
        samples.append((time.monotonic() - started, rss_kib(proc.pid)))
        time.sleep(0.5)
    out, err = proc.communicate()
    elapsed = time.monotonic() - started
    crawler_cpu, server_cpu = (after - before for after, before in zip(_cpu_seconds(), cpu, strict=True))
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed:\n{out}\n{err[-3000:]}")
    pages = int(re.search(r"pages\s+(\d+) fetched", out).group(1))
    items = int(re.search(r"items\s+(\d+) new", out).group(1))
    peak = max(r for _, r in samples) / 1024
    warm = [r for t, r in samples if t > elapsed * 0.2]
    return {"pages": pages, "items": items, "seconds": elapsed, "pages_per_s": pages / elapsed,
            "peak_mib": peak, "rss_at_20pct_mib": warm[0] / 1024 if warm else peak,
            "rss_end_mib": samples[-1][1] / 1024 if samples else 0,
            "slope_kb_per_page": rss_slope_kb_per_page(samples, elapsed, pages),
            "slope_with_sync": rss_slope_kb_per_page(samples, elapsed, pages, until=1.01),
            "crawler_ms": crawler_cpu * 1000 / pages, "server_ms": server_cpu * 1000 / pages}


def run_scrapy_bench(seconds: float) -> float:
    """Pages per second of `scrapy bench` (Scrapy's own local benchmark) over ``seconds``."""
    result = subprocess.run([sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={int(seconds)}",
                             "-s", "LOG_LEVEL=INFO"], cwd=tempfile.mkdtemp(), capture_output=True, text=True,
                            timeout=seconds + 120)
    rates = [int(x) for x in re.findall(r"\(at (\d+) pages/min\)", result.stderr)]
    rates = rates[1:] or rates  # the first report covers start-up
    if not rates:
        raise SystemExit(f"scrapy bench printed no rate:\n{result.stderr[-2000:]}")
    return sorted(rates)[len(rates) // 2] / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20000, help="detail pages of the synthetic site")
    parser.add_argument("--skip-scrapy-bench", action="store_true")
    parser.add_argument("--profile", metavar="FILE", help="run the gateway's crawl under cProfile, stats to FILE")
    args = parser.parse_args()
    with threaded_http_server(make_handler(args.pages), label="bench") as base_url:
        before = run_bare_scrapy(base_url)
        ours = run_gateway(base_url, args.pages, args.profile)
        after = run_bare_scrapy(base_url)
    bare = (before["pages_per_s"] + after["pages_per_s"]) / 2
    print(f"bare Scrapy, same site: {before['pages']} pages at {before['pages_per_s']:.1f} pages/s before, "
          f"{after['pages_per_s']:.1f} after; mean {bare:.1f} pages/s")
    print(f"gateway: {ours['pages']} pages ({ours['items']} items) in {ours['seconds']:.1f} s = "
          f"{ours['pages_per_s']:.1f} pages/s; RSS peak {ours['peak_mib']:.0f} MiB, "
          f"at 20% {ours['rss_at_20pct_mib']:.0f} MiB, at end {ours['rss_end_mib']:.0f} MiB; "
          f"RSS slope {ours['slope_kb_per_page']:.3f} KB/page (goal about 0, < 0.05; "
          f"{ours['slope_with_sync']:.3f} with the index sync at the end)")
    print(f"ratio gateway / bare Scrapy: {ours['pages_per_s'] / bare:.2f} (goal >= 0.70)")
    print("CPU per page (ms; the machine's cores are shared by the crawler and the site's server): "
          + "; ".join(f"{name} crawler {run['crawler_ms']:.2f} + server {run['server_ms']:.2f}"
                      for name, run in (("bare before", before), ("gateway", ours), ("bare after", after))))
    if not args.skip_scrapy_bench:
        rate = run_scrapy_bench(min(60.0, max(20.0, ours["seconds"])))
        print(f"scrapy bench (another site and server; a second reference): {rate:.1f} pages/s; "
              f"gateway / scrapy bench {ours['pages_per_s'] / rate:.2f}")


if __name__ == "__main__":
    main()
