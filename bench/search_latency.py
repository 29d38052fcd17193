"""Search latency of the embedded index: bulk load, then a fixed query mix.

    python bench/search_latency.py [--docs 100000] [--repeat 3] [--http-requests 2000] [--keep DIR]
    python bench/search_latency.py --index DIR/index.sqlite [--repeat 3] [--http-requests 0]

1. Generates N realistic Chinese documents (seeded; government-notice titles and bodies from
   word lists below, 8 sites, 5 columns each, years 2012–2025, 3 % undated, 3 categories).
2. Bulk-loads them into a fresh EmbeddedIndex (``rebuild``, one transaction) and prints docs/s.
3. Runs a fixed mix of queries (2-character words, one character, longer words, phrases,
   filters, date order, deep pages; every search also computes the facets) ``--repeat`` times
   and prints p50/p95/p99 of ``search``, and of ``suggest`` on title prefixes.
4. If ``gateway.api`` imports (FastAPI installed) and has ``create_app``: serves it with uvicorn
   on 127.0.0.1 and sends the same mix through HTTP from 16 concurrent httpx clients, printing
   p50/p95 and requests/s. Otherwise says why it skipped that part.

``--index FILE`` skips 1 and 2 and measures an existing index file as it is (read-only: no
upsert step), e.g. one kept with ``--keep``: the way to compare two versions of the code on
the same data. ``--http-requests 0`` skips 4.

Prints numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.base import SearchQuery
from index.embedded import EmbeddedIndex
from normalizers.models import SHANGHAI, Article, Category, document_id

SITES = ["rsj", "wjw", "zjj", "jyj", "mzj", "sfj", "fgj", "ylj"]
COLUMNS = [("政务公开", "通知公告"), ("政务公开", "政策法规"), ("政务公开", "工作动态"),
           ("政民互动", "咨询回复"), ("网上服务", "办事指南")]
CATEGORY_OF = {"政务公开": Category.GOVERNMENT_INFORMATION, "政民互动": Category.INTERACTION,
               "网上服务": Category.ONLINE_SERVICES}
TOWNS = ["新碶", "小港", "大碶", "霞浦", "柴桥", "戚家山", "春晓", "梅山", "白峰", "郭巨"]
TOPICS = ["社会保险", "社保缴费基数", "医疗保险", "养老保险", "就业创业", "职业技能培训", "人才引进",
          "劳动关系", "工资支付", "爱国卫生运动", "疫苗接种", "食品安全", "建筑工地扬尘治理",
          "住房公积金", "义务教育招生", "学前教育", "低保救助", "养老服务", "法律援助", "人民调解",
          "城乡规划", "农村公路", "防汛防台", "安全生产", "垃圾分类", "营商环境", "数字化改革",
          "政务公开", "信访工作", "双减政策", "医保报销", "退役军人优待", "残疾人补贴", "消防安全"]
TITLE_FORMS = [
    "关于{y}年度{t}工作的通知", "关于开展{y}年{t}专项检查的公告", "北仑区{t}管理办法",
    "关于印发《{t}实施方案》的通知", "{z}街道{t}工作动态", "{y}年第{n}季度{t}情况公示",
    "关于{t}有关问题的答复", "{t}办事指南", "关于做好{t}工作的意见", "区{t}工作领导小组会议纪要",
    "{y}年{t}政策解读", "关于{z}{t}试点工作的批复",
]
SENTENCES = [
    "为进一步做好{t}工作，根据上级有关文件精神，结合本区实际，现将有关事项通知如下。",
    "各街道（镇）、区级各有关单位要高度重视，切实加强组织领导，明确责任分工。",
    "{z}街道在{t}方面积极探索，形成了一批可复制可推广的经验做法。",
    "请各单位于{y}年{m}月{d}日前将工作开展情况报送至区{t}工作领导小组办公室。",
    "本办法自发布之日起施行，由区有关部门负责解释。",
    "对工作中发现的问题，要立行立改，确保各项措施落到实处。",
    "群众可通过政务服务网、政务服务中心窗口或拨打咨询电话办理相关业务。",
    "{y}年全区共完成{t}相关任务{n}项，群众满意度持续提升。",
    "附件：{t}申报表（PDF格式），请下载后填写。",
    "联系人：区{t}科，联系电话：0574-8678{n}。",
]


def documents(n: int, seed: int = 7) -> Iterator[Article]:
    rng = random.Random(seed)
    fetched = dt.datetime(2025, 6, 1, tzinfo=SHANGHAI)
    for i in range(n):
        site = SITES[i % len(SITES)] if rng.random() < 0.5 else rng.choice(SITES)
        column = rng.choice(COLUMNS)
        t, z = rng.choice(TOPICS), rng.choice(TOWNS)
        y = rng.randint(2012, 2025)
        published = None if rng.random() < 0.03 else dt.datetime(
            y, rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 18), rng.randint(0, 59), tzinfo=SHANGHAI)
        fill = {"t": t, "z": z, "y": y, "n": rng.randint(1, 99), "m": rng.randint(1, 12), "d": rng.randint(1, 28)}
        title = rng.choice(TITLE_FORMS).format(**fill)
        paras = []
        for _ in range(rng.randint(2, 6)):
            fill["t"] = t if rng.random() < 0.6 else rng.choice(TOPICS)
            fill["n"] = rng.randint(1, 999)
            paras.append("".join(rng.choice(SENTENCES).format(**fill) for _ in range(rng.randint(1, 4))))
        url = f"http://{site}.bl.gov.cn/art/{y}/{i}.html"
        yield Article(id=document_id(url), site_code=site, column_path=list(column),
                      category=CATEGORY_OF[column[0]], title=title, published_at=published,
                      body_text="\n\n".join(paras), body_html="", source_url=url, fetched_at=fetched)


# name, SearchQuery keyword arguments
QUERIES: list[tuple[str, dict]] = [
    ("2-char 社保", {"q": "社保"}),
    ("2-char 医保", {"q": "医保"}),
    ("2-char 公示", {"q": "公示"}),
    ("2-char 通知 (very common)", {"q": "通知"}),
    ("1-char 险", {"q": "险"}),
    ("word 养老保险", {"q": "养老保险"}),
    ("word 爱国卫生运动", {"q": "爱国卫生运动"}),
    ("two terms 社保 申报", {"q": "社保 报送"}),
    ("phrase \"职业技能培训\"", {"q": "\"职业技能培训\""}),
    ("phrase \"垃圾分类\" date order", {"q": "\"垃圾分类\"", "order": "date"}),
    ("site filter 就业 @rsj", {"q": "就业", "site_codes": ["rsj"]}),
    ("column filter 通知公告", {"q": "工作", "column": "通知公告"}),
    ("category 网上服务", {"q": "办理", "categories": [Category.ONLINE_SERVICES]}),
    ("dates 2024", {"q": "安全", "date_from": dt.date(2024, 1, 1), "date_to": dt.date(2024, 12, 31)}),
    ("all filters", {"q": "工作", "site_codes": ["wjw", "zjj"], "column": "政务公开",
                     "date_from": dt.date(2020, 1, 1), "date_to": dt.date(2023, 12, 31)}),
    ("page 10 of 医疗", {"q": "医疗", "page": 10}),
    ("ascii pdf", {"q": "pdf"}),
    ("rare 戚家山 公路", {"q": "戚家山 公路"}),
]
SUGGEST_PREFIXES = ["关", "关于", "关于开展", "北仑区", "20", "2024年", "新碶", "社会保险办事", "不存在的标题",
                    "区安全生产"]


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:7.2f} ms   p95 {q[94]:7.2f} ms   p99 {q[98]:7.2f} ms   (n={len(ms)}, max {ms[-1]:.1f} ms)"


FLOORS = {
    "count": "SELECT count(*) FROM fts WHERE fts MATCH ?",
    "bm25 top 10": "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 5.0, 1.0) LIMIT 10",
}
"""The same-run baselines, on the same file through their own read-only connection (the
readers' pragmas): the raw FTS5 count of the query's MATCH expression (the floor of finding
the matches), and its top 10 by the index's bm25 (the floor of ranking every match, which a
relevance page needs). Neither applies the filters nor computes facets."""


def bench_direct(index: EmbeddedIndex, repeat: int) -> None:
    from index.embedded import fts5_query
    from index.tokenize import parse_query

    queries = [(name, SearchQuery(**kw)) for name, kw in QUERIES]
    raw = sqlite3.connect(f"file:{index.path}?mode=ro", uri=True, isolation_level=None)
    raw.execute(f"PRAGMA mmap_size={256 * 1024 * 1024}")
    for _, q in queries:  # warm the page cache
        index.search(q)
    all_times: list[float] = []
    print(f"\nsearch (direct, {repeat} rounds of {len(queries)} queries; facets included), and the same-run "
          f"FTS5 floors ({', '.join(FLOORS)}) of each query's MATCH:")
    times: dict[str, list[float]] = {name: [] for name, _ in queries}
    floors: dict[str, dict[str, list[float]]] = {f: {name: [] for name, _ in queries} for f in FLOORS}
    totals: dict[str, int] = {}
    for _ in range(repeat):  # round by round, so that a noisy moment hits every query alike
        for name, q in queries:
            t0 = time.perf_counter()
            result = index.search(q)
            times[name].append(time.perf_counter() - t0)
            totals[name] = result.total
            match = fts5_query(parse_query(q.q))
            for floor, sql in FLOORS.items():
                t0 = time.perf_counter()
                raw.execute(sql, (match,)).fetchall()
                floors[floor][name].append(time.perf_counter() - t0)
    floor_all: dict[str, list[float]] = {f: [] for f in FLOORS}
    for name, _ in queries:
        all_times.extend(times[name])
        for f in FLOORS:
            floor_all[f].extend(floors[f][name])
        print(f"  {name:32s} total {totals[name]:6d}  median {statistics.median(times[name]) * 1000:7.2f} ms"
              f"  min {min(times[name]) * 1000:7.2f} ms  | floor "
              + "  ".join(f"{f} {statistics.median(floors[f][name]) * 1000:6.2f}" for f in FLOORS))
    print(f"  ALL search   {percentiles(all_times)}")
    for f in FLOORS:
        print(f"  floor {f:12s} {percentiles(floor_all[f])}")
    s_times = []
    s_floor = []
    for _ in range(repeat * 3):
        for p in SUGGEST_PREFIXES:
            t0 = time.perf_counter()
            index.suggest(p, size=8)
            s_times.append(time.perf_counter() - t0)
            # The floor of a suggestion: the first 8 titles of the prefix in the title index
            # (no order by date).
            t0 = time.perf_counter()
            raw.execute("SELECT title FROM documents WHERE title LIKE ? ESCAPE '\\' LIMIT 8",
                        (p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",)).fetchall()
            s_floor.append(time.perf_counter() - t0)
    print(f"  ALL suggest  {percentiles(s_times)}")
    print(f"  floor suggest (first 8 titles of the prefix, any order) {percentiles(s_floor)}")
    raw.close()


def bench_http(index_path: Path, data_dir: Path, requests: int, clients: int = 16) -> None:
    """The HTTP mix twice: with the API's result cache switched off (every request computed:
    the cold figure), then with it on (the mix repeats, so all but the first request of each
    kind are hits: the warm figure)."""
    for cached in (False, True):
        _bench_http(index_path, data_dir, requests, clients, cached)


def _bench_http(index_path: Path, data_dir: Path, requests: int, clients: int, cached: bool) -> None:
    try:
        import httpx
        import uvicorn

        from gateway import api
        from gateway.settings import GatewaySettings
    except ImportError as exc:
        print(f"\nHTTP: skipped ({exc}; install the project's api dependencies: fastapi, uvicorn, httpx)")
        return
    if not hasattr(api, "create_app"):
        print("\nHTTP: skipped (gateway.api has no create_app)")
        return
    settings = GatewaySettings(data_dir=data_dir, index_url=f"sqlite:///{index_path}")
    app = api.create_app(settings)
    cache = getattr(app.state.resources, "results", None)
    if cache is None:
        if cached:
            print("\nHTTP with the result cache: skipped (this version has none)")
            return
    else:
        cache.enabled = cached
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            print("\nHTTP: skipped (uvicorn did not start)")
            return
        time.sleep(0.05)

    def params(kw: dict) -> list[tuple[str, str]]:
        out = [("q", kw["q"])]
        for key, name in (("site_codes", "site"), ("categories", "category")):
            out += [(name, str(v)) for v in kw.get(key, [])]
        for key in ("column", "date_from", "date_to", "page", "order"):
            if key in kw:
                out.append((key, str(kw[key])))
        return out

    plan = [("/api/search", params(kw)) for _, kw in QUERIES] + \
           [("/api/suggest", [("prefix", p)]) for p in SUGGEST_PREFIXES]

    async def run() -> tuple[dict[str, list[float]], float, int]:
        times: dict[str, list[float]] = {"/api/search": [], "/api/suggest": []}
        errors = 0
        counter = iter(range(requests))

        async def client() -> None:
            nonlocal errors
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
                for i in counter:
                    path, p = plan[i % len(plan)]
                    t0 = time.perf_counter()
                    r = await c.get(path, params=p)
                    times[path].append(time.perf_counter() - t0)
                    errors += r.status_code != 200

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return times, time.perf_counter() - t0, errors

    try:
        times, elapsed, errors = asyncio.run(run())
    finally:
        server.should_exit = True
        thread.join(10)
    label = (f"result cache ON, warm: {cache.hits} hits, {cache.misses} misses" if cache is not None and cached
             else "result cache OFF: every request computed, the cold figure")
    print(f"\nHTTP ({clients} concurrent clients, {requests} requests, uvicorn on 127.0.0.1; {label}):")
    for path, samples in times.items():
        if samples:
            print(f"  {path:13s} {percentiles(samples)}")
    print(f"  throughput   {requests / elapsed:8.1f} requests/s   non-200 responses: {errors}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--http-requests", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="keep the index in this folder (default: a temp dir)")
    parser.add_argument("--index", type=Path, help="measure this existing index file instead of "
                        "generating and loading one (--docs and --keep are then ignored)")
    args = parser.parse_args(argv)
    if args.index is not None:
        return bench_existing(args.index, args.repeat, args.http_requests)

    with tempfile.TemporaryDirectory(prefix="blgw-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        index_path = folder / "index.sqlite"
        print(f"sqlite {__import__('sqlite3').sqlite_version}, {args.docs} documents, index {index_path}")
        t0 = time.perf_counter()
        docs = list(documents(args.docs))
        t_gen = time.perf_counter() - t0
        print(f"generated {len(docs)} documents in {t_gen:.1f} s "
              f"(avg title {statistics.mean(len(d.title) for d in docs):.0f}, "
              f"body {statistics.mean(len(d.body_text) for d in docs):.0f} characters)")
        with EmbeddedIndex(index_path) as index:
            t0 = time.perf_counter()
            n = index.rebuild(docs)
            t_load = time.perf_counter() - t0
            print(f"bulk load (rebuild): {n} documents in {t_load:.1f} s = {n / t_load:,.0f} docs/s; "
                  f"file {index_path.stat().st_size / 1e6:.0f} MB")
            t0 = time.perf_counter()
            index.upsert(docs[:5000])
            t_up = time.perf_counter() - t0
            print(f"upsert (replace) of 5000 documents: {5000 / t_up:,.0f} docs/s")
            bench_direct(index, args.repeat)
        if args.http_requests > 0:
            bench_http(index_path, folder, args.http_requests)
    return 0


def bench_existing(index_path: Path, repeat: int, http_requests: int) -> int:
    if not index_path.is_file():
        print(f"{index_path}: no such file", file=sys.stderr)
        return 2
    with EmbeddedIndex(index_path) as index:
        print(f"sqlite {sqlite3.sqlite_version}, existing index {index_path} "
              f"({index_path.stat().st_size / 1e6:.0f} MB, {index.count()} documents)")
        bench_direct(index, repeat)
    if http_requests > 0:
        with tempfile.TemporaryDirectory(prefix="blgw-bench-") as tmp:
            bench_http(index_path, Path(tmp), http_requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
