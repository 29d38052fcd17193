"""Crawl throughput and memory of the full pipeline, beside `scrapy bench` on the same machine.

    python bench/crawl_throughput.py [--pages 20000] [--skip-scrapy-bench]

Serves a large synthetic legacy site (GBK list pages with 下一页 paging and detail pages with a
disclosure table, generated on the fly by a threaded stdlib server on loopback), crawls it with
`blgw crawl` (fetch, parse, normalize, store in SQLite, index in the embedded index), politeness
switched off for the benchmark (16 requests in flight, no delay), and samples the crawl
process's RSS every 0.5 s. Then runs `scrapy bench` (Scrapy's own link-following benchmark,
which does no parsing or storage) for the same wall time and prints both rates and the ratio.
"""

from __future__ import annotations

import argparse
import os
import re
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


def run_gateway(base_url: str, total: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="blgw-bench-crawl-"))
    plugins = data / "plugins"
    plugins.mkdir()
    (plugins / "bench.toml").write_text(PLUGIN, encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(data / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    cmd = [sys.executable, "-m", "gateway.cli", "crawl", "bench", "--origin", f"bench={base_url}", "-q",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=ERROR"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, int]] = []
    while proc.poll() is None:
        samples.append((time.monotonic() - started, rss_kib(proc.pid)))
        time.sleep(0.5)
    out, err = proc.communicate()
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed:\n{out}\n{err[-3000:]}")
    pages = int(re.search(r"pages\s+(\d+) fetched", out).group(1))
    items = int(re.search(r"items\s+(\d+) new", out).group(1))
    peak = max(r for _, r in samples) / 1024
    warm = [r for t, r in samples if t > elapsed * 0.2]
    return {"pages": pages, "items": items, "seconds": elapsed, "pages_per_s": pages / elapsed,
            "peak_mib": peak, "rss_at_20pct_mib": warm[0] / 1024 if warm else peak,
            "rss_end_mib": samples[-1][1] / 1024 if samples else 0}


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
    args = parser.parse_args()
    with threaded_http_server(make_handler(args.pages), label="bench") as base_url:
        ours = run_gateway(base_url, args.pages)
    print(f"gateway: {ours['pages']} pages ({ours['items']} items) in {ours['seconds']:.1f} s = "
          f"{ours['pages_per_s']:.1f} pages/s; RSS peak {ours['peak_mib']:.0f} MiB, "
          f"at 20% {ours['rss_at_20pct_mib']:.0f} MiB, at end {ours['rss_end_mib']:.0f} MiB")
    if not args.skip_scrapy_bench:
        rate = run_scrapy_bench(min(60.0, max(20.0, ours["seconds"])))
        print(f"scrapy bench: {rate:.1f} pages/s (median of its per-minute reports)")
        print(f"ratio gateway/scrapy bench: {ours['pages_per_s'] / rate:.2f} (goal >= 0.70)")


if __name__ == "__main__":
    main()
