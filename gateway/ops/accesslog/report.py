"""Access-log reports (访问日志报表): the counters of ``log_counts`` and ``log_visitors`` read back
for a site and an inclusive range of days (Asia/Shanghai), and joined with the crawl.

:func:`site_traffic` is one site's report (a dict, the API's JSON as it is):

- ``totals``: hits, human / bot / crawler hits, page views (PV), downloads, bytes sent, ``uv``
  (the unique visitors of each day, summed), ``visitors`` (distinct visitors over the range),
  ``notfound`` (404 answers to non-crawler requests) and ``security`` (requests or flood minutes);
- ``daily``: a row per day of the range (days without logs included, at 0);
- ``status``, ``status_classes`` (2xx…5xx), ``methods``, ``devices``, ``os``, ``browsers``,
  ``bots``, ``referrers`` (hosts), ``keyphrases`` (engine, phrase);
- ``top_pages`` (each marked document, column, home or other, with its stored title), ``columns``
  (every plugin column: its list page's views plus its documents', a document counting for every
  column that lists it), ``top_columns``, ``unvisited_columns`` (list columns with no view),
  ``top_downloads`` (with the stored attachment when there is one);
- ``notfound_urls``: 404s by URL and referrer, ``internal`` when the referrer is on the site's own
  host(s) (a dead link on the site) and not when it is elsewhere or none (a candidate redirect);
- ``time``: p50 / p90 / p99 of the time taken, each the upper bound in ms of the bucket holding
  it (``"inf"``: beyond the last bound), None when no time was logged;
- ``security``: the scan, injection and flood lists and their counts;
- the join with the crawl: ``gone_requested`` (documents the store marks gone that got page views
  or 404s), ``never_crawled`` (pages with views that are neither a stored document, a column page
  nor the home page, most viewed first), ``old_content`` (the share of page views that reached
  documents published more than 365 days before the day of the view).

A page key is a canonical URL (:func:`normalizers.urls.canonicalize_url`): a document matches it
when ``document_id(key) == Document.id``, a column when its URL canonicalized against the base URL
is the key, an attachment when its URL's canonical form is. :func:`district_traffic` is the
roll-up (a row per site), :func:`traffic_workbook` the XLSX, :func:`format_traffic` the text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from gateway.ops.accesslog.ingest import TIME_BUCKETS as INGEST_BUCKETS
from gateway.store.models import AttachmentFile, Document, DocumentListing, LogCount, LogVisitor
from normalizers.models import SHANGHAI, document_id
from normalizers.urls import canonicalize_url
from plugins.spec import SiteSpec

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "OLD_DAYS",
    "SIGNALS",
    "TIME_BUCKETS",
    "default_range",
    "district_rollup",
    "district_traffic",
    "format_traffic",
    "report_range",
    "site_traffic",
    "today_shanghai",
    "traffic_workbook",
]

DEFAULT_DAYS = 30  # the default range: the 30 days up to yesterday
MAX_DAYS = 366  # the longest range a report reads
OLD_DAYS = 365  # a document published more than this many days before a view is old content
LIST_LIMIT = 1000  # the most rows of the long lists (404s, never crawled, security) a report carries
TIME_BUCKETS = (*(str(bound) for bound in INGEST_BUCKETS), "inf")  # the ingest's bucket keys
SIGNALS = ("scan", "injection", "flood")
_CHUNK = 500  # ids per IN (…) query


def today_shanghai(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(SHANGHAI).date()


def default_range(today: dt.date, days: int = DEFAULT_DAYS) -> tuple[dt.date, dt.date]:
    """The ``days`` complete days up to yesterday."""
    end = today - dt.timedelta(days=1)
    return end - dt.timedelta(days=days - 1), end


def report_range(start: dt.date | None, end: dt.date | None, today: dt.date, days: int | None = None,
                 ) -> tuple[dt.date, dt.date]:
    """The range a request or a command asks for: ``start`` and ``end`` (inclusive), else
    ``days`` days (default 30) up to ``end`` or yesterday. ValueError, saying why, when the range
    is reversed, longer than :data:`MAX_DAYS` or ends after today."""
    count = DEFAULT_DAYS if days is None else days
    if count < 1:
        raise ValueError("days must be at least 1")
    if count > MAX_DAYS:
        raise ValueError(f"{count} days: a report covers at most {MAX_DAYS}")
    try:
        return _range(start, end, today, days, count)
    except OverflowError as exc:  # a date near year 1 or 9999
        raise ValueError(f"the range {start} – {end} is out of the calendar") from exc


def _range(start: dt.date | None, end: dt.date | None, today: dt.date, days: int | None,
           count: int) -> tuple[dt.date, dt.date]:
    if start is None and end is None:
        start, end = default_range(today, count)
    elif start is None:
        assert end is not None
        start = end - dt.timedelta(days=count - 1)
    elif end is None:
        end = start + dt.timedelta(days=count - 1) if days is not None else max(start, today - dt.timedelta(days=1))
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if end > today:
        raise ValueError(f"end {end} is after today ({today}, Asia/Shanghai)")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError(f"{(end - start).days + 1} days: a report covers at most {MAX_DAYS}")
    return start, end


def _days(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for n in range(0, len(values), _CHUNK):
        yield list(values[n:n + _CHUNK])


def _ranked(counts: dict[str, int], limit: int | None = None) -> list[tuple[str, int]]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked if limit is None else ranked[:limit]


def _percentiles(buckets: dict[str, int]) -> dict[str, Any]:
    """p50/p90/p99 from the ``time`` buckets: the upper bound of the bucket holding the nearest
    rank (an int in ms, ``"inf"`` beyond the last bound); None without any logged time."""
    total = sum(buckets.values())
    out: dict[str, Any] = {"count": total,
                           "buckets": [{"le": b, "hits": buckets.get(b, 0)} for b in TIME_BUCKETS]}
    def bound(name: str) -> float:
        try:
            return float(name)  # "inf" too
        except ValueError:
            return math.inf
    order = sorted({*TIME_BUCKETS, *buckets}, key=bound)  # a bound the ingester adds is read in its place
    for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        if not total:
            out[name] = None
            continue
        rank, seen = max(1, math.ceil(share * total)), 0
        for edge in order:
            seen += buckets.get(edge, 0)
            if seen >= rank:
                out[name] = int(bound(edge)) if math.isfinite(bound(edge)) else "inf"
                break
    return out


def _published(value: object) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI).date()


def _host(value: str) -> str | None:
    if not value or value == "-":
        return None
    text = value if "://" in value else f"http://{value}"
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def site_traffic(session: Session, spec: SiteSpec, start: dt.date, end: dt.date, top: int = 20) -> dict[str, Any]:
    """One site's report over ``start``–``end`` (inclusive days, Asia/Shanghai); see the module doc."""
    code, first, last = spec.code, start.isoformat(), end.isoformat()
    in_range = (LogCount.site_code == code, LogCount.day >= first, LogCount.day <= last)
    # every counter but the pages, summed over the range; the pages and the traffic per day
    summed: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for kind, key, hits, sent in session.execute(
            select(LogCount.kind, LogCount.key, func.sum(LogCount.hits), func.sum(LogCount.bytes))
            .where(*in_range, LogCount.kind != "page").group_by(LogCount.kind, LogCount.key)):
        summed[kind][key] = (int(hits or 0), int(sent or 0))
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    for day, key, hits, sent in session.execute(
            select(LogCount.day, LogCount.key, LogCount.hits, LogCount.bytes).where(*in_range, LogCount.kind == "traffic")):
        per_day[day][key] = int(hits or 0)
        if key == "hits":
            per_day[day]["bytes"] = int(sent or 0)
    page_days: dict[str, dict[str, int]] = defaultdict(dict)
    page_bytes: dict[str, int] = defaultdict(int)
    for day, key, hits, sent in session.execute(
            select(LogCount.day, LogCount.key, LogCount.hits, LogCount.bytes).where(*in_range, LogCount.kind == "page")):
        page_days[key][day] = int(hits or 0)
        page_bytes[key] += int(sent or 0)
    pages = {key: sum(days.values()) for key, days in page_days.items()}
    uv_by_day = dict(session.execute(
        select(LogVisitor.day, func.count()).where(LogVisitor.site_code == code, LogVisitor.day >= first,
                                                   LogVisitor.day <= last).group_by(LogVisitor.day)).all())
    visitors = session.scalar(select(func.count(distinct(LogVisitor.visitor))).where(
        LogVisitor.site_code == code, LogVisitor.day >= first, LogVisitor.day <= last)) or 0

    def hits_of(kind: str) -> dict[str, int]:
        return {k: h for k, (h, _) in summed.get(kind, {}).items()}

    traffic = hits_of("traffic")
    totals = {name: traffic.get(name, 0) for name in ("hits", "human", "bot", "crawler", "pageviews", "downloads")}
    totals["bytes"] = summed.get("traffic", {}).get("hits", (0, 0))[1]
    totals["uv"] = sum(int(n) for n in uv_by_day.values())
    totals["visitors"] = int(visitors)
    daily = [{"day": day, "pageviews": per_day[day].get("pageviews", 0), "uv": int(uv_by_day.get(day, 0)),
              "hits": per_day[day].get("hits", 0), "human": per_day[day].get("human", 0),
              "bot": per_day[day].get("bot", 0), "crawler": per_day[day].get("crawler", 0),
              "bytes": per_day[day].get("bytes", 0)} for day in _days(start, end)]

    status = hits_of("status")
    classes: dict[str, int] = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "other": 0}
    for key, n in status.items():
        group = f"{key[0]}xx" if len(key) == 3 and key[0] in "2345" and key.isdigit() else "other"
        classes[group] += n

    # the 404s: URL<TAB>referrer, internal when the referrer is on the site's own hosts
    own_hosts = {h.lower() for h in spec.allowed_domains()}
    notfound_rows: list[dict[str, Any]] = []
    notfound_by_url: dict[str, int] = defaultdict(int)
    for key, n in hits_of("notfound").items():
        url, _, referrer = key.partition("\t")
        referrer = referrer or "-"
        host = _host(referrer)
        source = "none" if host is None else "internal" if host in own_hosts else "external"
        notfound_rows.append({"url": url, "referrer": referrer, "hits": n, "source": source,
                              "internal": source == "internal"})
        notfound_by_url[url] += n
    notfound_rows.sort(key=lambda r: (-r["hits"], r["url"], r["referrer"]))
    totals["notfound"] = sum(r["hits"] for r in notfound_rows)

    security: dict[str, Any] = {s: [] for s in SIGNALS}
    signal_counts = dict.fromkeys(SIGNALS, 0)
    for key, n in _ranked(hits_of("security")):
        signal, _, what = key.partition("\t")
        security.setdefault(signal, [])
        signal_counts[signal] = signal_counts.get(signal, 0) + n
        if len(security[signal]) < LIST_LIMIT:
            security[signal].append({"key": what, "hits": n})
    security["counts"] = signal_counts
    totals["security"] = sum(signal_counts.values())

    # the join with the crawl: the stored documents the page and 404 keys name
    base = spec.site.base_url
    home = canonicalize_url(base)
    column_pages = {c.name: canonicalize_url(c.url, base) for c in spec.columns}
    page_of_column = {url: name for name, url in column_pages.items()}
    ids = {document_id(url): url for url in [*pages, *notfound_by_url]}
    docs: dict[str, dict[str, Any]] = {}
    listed: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(sorted(ids)):
        for doc_id, url, title, state, column, reason, published in session.execute(
                select(Document.id, Document.url, Document.title, Document.status, Document.column,
                       Document.gone_reason, Document.item["published_at"].as_string())
                .where(Document.id.in_(chunk), Document.site_code == code)):
            docs[doc_id] = {"url": url, "title": title, "status": state, "column": column, "gone_reason": reason,
                            "published": _published(published)}
            if column:
                listed[doc_id].add(column)
        for doc_id, column in session.execute(select(DocumentListing.document_id, DocumentListing.column)
                                              .where(DocumentListing.document_id.in_(chunk),
                                                     DocumentListing.site_code == code)):
            listed[doc_id].add(column)

    def kind_of(key: str) -> str:
        if key == home:
            return "home"
        if key in page_of_column:
            return "column"
        return "document" if document_id(key) in docs else "other"

    top_pages = []
    for key, n in _ranked(pages, top):
        doc = docs.get(document_id(key))
        top_pages.append({"url": key, "pageviews": n, "bytes": page_bytes[key], "kind": kind_of(key),
                          "title": doc["title"] if doc else page_of_column.get(key),
                          "column": doc["column"] if doc else page_of_column.get(key)})

    columns: list[dict[str, Any]] = []
    for order, column in enumerate(spec.columns):
        list_key = column_pages[column.name]
        list_id = document_id(list_key)
        viewed = {doc_id: pages.get(ids[doc_id], 0) for doc_id, names in listed.items()
                  if column.name in names and doc_id != list_id and ids.get(doc_id) in pages}
        list_views = pages.get(list_key, 0)
        document_views = sum(viewed.values())
        columns.append({"name": column.name, "url": list_key, "layout": column.layout, "list_views": list_views,
                        "document_views": document_views, "documents_viewed": sum(1 for v in viewed.values() if v),
                        "views": list_views + document_views, "order": order})
    columns.sort(key=lambda c: (-c["views"], c["order"]))
    for c in columns:
        del c["order"]
    unvisited = [{"name": c["name"], "url": c["url"]} for c in columns if c["layout"] == "list" and not c["views"]]

    gone: list[dict[str, Any]] = []
    for doc_id, doc in docs.items():
        if doc["status"] != "gone":
            continue
        url = ids[doc_id]
        views, missing = pages.get(url, 0), notfound_by_url.get(url, 0)
        if views or missing:
            gone.append({"url": doc["url"], "title": doc["title"], "gone_reason": doc["gone_reason"],
                         "pageviews": views, "notfound": missing})
    gone.sort(key=lambda g: (-(g["pageviews"] + g["notfound"]), g["url"]))

    never = [{"url": key, "pageviews": n} for key, n in _ranked(pages) if n and kind_of(key) == "other"]

    old = document_views_total = 0
    for key, days in page_days.items():
        doc = docs.get(document_id(key))
        if doc is None or key == home or key in page_of_column:
            continue
        document_views_total += sum(days.values())
        published = doc["published"]
        if published is None:
            continue
        old += sum(n for day, n in days.items() if (dt.date.fromisoformat(day) - published).days > OLD_DAYS)
    denominator = totals["pageviews"] or sum(pages.values())

    downloads = hits_of("download")
    download_bytes = {k: b for k, (_, b) in summed.get("download", {}).items()}
    files: dict[str, dict[str, Any]] = {}
    if downloads:
        for att_id, url, name, title, state in session.execute(
                select(AttachmentFile.id, AttachmentFile.url, AttachmentFile.name, AttachmentFile.title,
                       AttachmentFile.status).where(AttachmentFile.site_code == code)):
            files[canonicalize_url(url)] = {"id": att_id, "name": name, "title": title, "status": state}
    top_downloads = [{"url": key, "hits": n, "bytes": download_bytes.get(key, 0), "attachment": files.get(key)}
                     for key, n in _ranked(downloads, top)]

    def listing(kind: str, label: str = "key", limit: int | None = None) -> list[dict[str, Any]]:
        return [{label: k, "hits": n} for k, n in _ranked(hits_of(kind), limit)]

    keyphrases = []
    for key, n in _ranked(hits_of("keyphrase"), top):
        engine, _, phrase = key.partition("\t")
        keyphrases.append({"engine": engine, "phrase": phrase, "hits": n})

    return {
        "code": code, "name": spec.site.name, "start": first, "end": last, "days": (end - start).days + 1,
        "totals": totals,
        "daily": daily,
        "status": sorted(listing("status"), key=lambda r: r["key"]),
        "status_classes": classes,
        "methods": listing("method"),
        "top_pages": top_pages,
        "columns": columns,
        "top_columns": [c for c in columns if c["views"]][:top],
        "unvisited_columns": unvisited,
        "top_downloads": top_downloads,
        "referrers": listing("referrer", "host", top),
        "keyphrases": keyphrases,
        "notfound_urls": notfound_rows[:LIST_LIMIT],
        "notfound_internal": sum(r["hits"] for r in notfound_rows if r["internal"]),
        "notfound_external": sum(r["hits"] for r in notfound_rows if not r["internal"]),
        "devices": listing("device"),
        "os": listing("os", limit=top),
        "browsers": listing("browser", limit=top),
        "bots": [{"name": k, "hits": h, "bytes": b} for k, (h, b) in
                 sorted(summed.get("bot", {}).items(), key=lambda kv: (-kv[1][0], kv[0]))],
        "time": _percentiles(hits_of("time")),
        "security": security,
        "gone_requested": gone,
        "never_crawled": never[:LIST_LIMIT],
        "never_crawled_count": len(never),
        "old_content": {"share": round(old / denominator, 4) if denominator else None, "pageviews_old": old,
                        "pageviews_documents": document_views_total, "pageviews": denominator},
    }


SUMMARY_KEYS = ("hits", "human", "bot", "crawler", "pageviews", "downloads", "bytes", "uv", "visitors", "notfound",
                "security")


def district_rollup(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A row per site (its totals and the join's counts) and the district's sums (visitors are
    summed per site: one client on two sites counts twice)."""
    rows = []
    for r in reports:
        rows.append({"code": r["code"], "name": r["name"], **{k: r["totals"][k] for k in SUMMARY_KEYS},
                     "notfound_internal": r["notfound_internal"], "unvisited_columns": len(r["unvisited_columns"]),
                     "gone_requested": len(r["gone_requested"]), "never_crawled": r["never_crawled_count"],
                     "old_content_share": r["old_content"]["share"], "p90_ms": r["time"]["p90"]})
    totals = {k: sum(row[k] for row in rows) for k in (*SUMMARY_KEYS, "notfound_internal", "unvisited_columns",
                                                      "gone_requested", "never_crawled")}
    start = reports[0]["start"] if reports else None
    end = reports[0]["end"] if reports else None
    return {"start": start, "end": end, "sites": rows, "totals": totals}


def district_traffic(session: Session, specs: Iterable[SiteSpec], start: dt.date, end: dt.date) -> dict[str, Any]:
    """The district roll-up over ``specs`` for the range (:func:`district_rollup`)."""
    out = district_rollup([site_traffic(session, s, start, end) for s in specs])
    out.update(start=start.isoformat(), end=end.isoformat())
    return out


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def format_traffic(report: dict[str, Any], *, lines: int = 10) -> str:
    """One site's report as text."""
    t = report["totals"]
    tm = report["time"]
    out = [f"{report['code']} {report['name']}: {report['start']} – {report['end']} ({report['days']} day(s))",
           f"  PV {t['pageviews']}  UV {t['uv']} (distinct {t['visitors']})  downloads {t['downloads']}  "
           f"hits {t['hits']} (human {t['human']}, bot {t['bot']}, crawler {t['crawler']})  bytes {t['bytes']}",
           f"  404 {t['notfound']} (dead links {report['notfound_internal']})  security {t['security']}  "
           + (f"time p50/p90/p99 {tm['p50']}/{tm['p90']}/{tm['p99']} ms  " if tm["count"] else "time not logged  ")
           + f"old content {_share(report['old_content']['share'])}"]

    def block(title: str, rows: list[str], total: int | None = None) -> None:
        if not rows:
            return
        out.append(f"  {title}:")
        out.extend(f"    {r}" for r in rows[:lines])
        more = (total if total is not None else len(rows)) - min(lines, len(rows))
        if more > 0:
            out.append(f"    … and {more} more")

    block("top pages", [f"{p['pageviews']:>7}  {p['url']}  [{p['kind']}]" for p in report["top_pages"]])
    block("columns", [f"{c['views']:>7}  {c['name']} (list {c['list_views']}, documents {c['document_views']})"
                      for c in report["top_columns"]])
    block("unvisited columns", [f"{c['name']}  {c['url']}" for c in report["unvisited_columns"]])
    block("top downloads", [f"{d['hits']:>7}  {d['url']}" + ("" if d["attachment"] else "  (not stored)")
                            for d in report["top_downloads"]])
    block("referrers", [f"{r['hits']:>7}  {r['host']}" for r in report["referrers"]])
    block("search phrases", [f"{k['hits']:>7}  {k['engine']}: {k['phrase']}" for k in report["keyphrases"]])
    block("404", [f"{n['hits']:>7}  {n['url']}  ← {n['referrer']}  "
                  f"({'dead link' if n['internal'] else 'candidate redirect'})" for n in report["notfound_urls"]])
    block("gone documents still requested", [f"{g['pageviews']:>7} PV {g['notfound']:>5} 404  {g['url']}"
                                             for g in report["gone_requested"]])
    block("never crawled", [f"{p['pageviews']:>7}  {p['url']}" for p in report["never_crawled"]],
          report["never_crawled_count"])
    block("devices", [f"{d['hits']:>7}  {d['key']}" for d in report["devices"]])
    block("bots", [f"{b['hits']:>7}  {b['name']}" for b in report["bots"]])
    for signal in SIGNALS:
        block(f"security: {signal}", [f"{s['hits']:>7}  {s['key']}" for s in report["security"][signal]])
    return "\n".join(out)


SUMMARY_COLUMNS = {"code": "站点代码", "name": "站点名称", "hits": "请求数", "human": "用户请求", "bot": "爬虫请求",
                   "crawler": "本网关请求", "pageviews": "浏览量（PV）", "downloads": "下载次数", "bytes": "流量（字节）",
                   "uv": "访客数（UV，按日累计）", "visitors": "访客数（去重）", "notfound": "404 次数",
                   "notfound_internal": "站内死链 404", "security": "安全事件", "unvisited_columns": "零访问栏目",
                   "gone_requested": "已删除仍被访问", "never_crawled": "未收录页面", "old_content_share": "旧内容占比",
                   "p90_ms": "响应时间 P90（毫秒）"}

SOURCE_ZH = {"internal": "站内（死链）", "external": "站外（可设重定向）", "none": "无来源（可设重定向）"}


def traffic_workbook(reports: Sequence[dict[str, Any]]) -> bytes:
    """The site reports as an XLSX workbook (openpyxl): 汇总 (a row per site), 每日, 页面 (top
    pages), 栏目 (every column's views), 下载, 来源 (referring hosts and search phrases), 404,
    终端 (devices, systems, browsers, bots, status codes, methods), 安全, 已删除仍被访问, 未收录页面."""
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    summary.append([*SUMMARY_COLUMNS.values(), "起始日", "截止日"])
    for row in district_rollup(reports)["sites"]:
        summary.append([*(row[k] for k in SUMMARY_COLUMNS), reports[0]["start"], reports[0]["end"]])
    sheets: dict[str, list[str]] = {
        "每日": ["站点代码", "日期", "浏览量（PV）", "访客数（UV）", "请求数", "用户请求", "爬虫请求", "本网关请求", "流量（字节）"],
        "页面": ["站点代码", "页面", "类型", "标题", "栏目", "浏览量（PV）"],
        "栏目": ["站点代码", "栏目", "栏目页", "栏目页浏览量", "文章浏览量", "被浏览文章数", "合计浏览量", "零访问"],
        "下载": ["站点代码", "文件", "下载次数", "流量（字节）", "已收录附件", "附件状态"],
        "来源": ["站点代码", "类型", "来源网站 / 搜索引擎", "搜索词", "浏览量（PV）"],
        "404": ["站点代码", "地址", "来源页", "来源类型", "次数"],
        "终端": ["站点代码", "维度", "值", "次数"],
        "安全": ["站点代码", "类型", "路径 / 访客", "次数"],
        "已删除仍被访问": ["站点代码", "地址", "标题", "删除原因", "浏览量（PV）", "404 次数"],
        "未收录页面": ["站点代码", "页面", "浏览量（PV）"],
    }
    made = {}
    for title, header in sheets.items():
        made[title] = book.create_sheet(title)
        made[title].append(header)
    kind_zh = {"home": "首页", "column": "栏目页", "document": "文章", "other": "未收录"}
    for r in reports:
        code = r["code"]
        for d in r["daily"]:
            made["每日"].append([code, d["day"], d["pageviews"], d["uv"], d["hits"], d["human"], d["bot"],
                               d["crawler"], d["bytes"]])
        for p in r["top_pages"]:
            made["页面"].append([code, p["url"], kind_zh[p["kind"]], p["title"], p["column"], p["pageviews"]])
        unvisited = {c["name"] for c in r["unvisited_columns"]}
        for c in r["columns"]:
            made["栏目"].append([code, c["name"], c["url"], c["list_views"], c["document_views"], c["documents_viewed"],
                               c["views"], "是" if c["name"] in unvisited else ""])
        for d in r["top_downloads"]:
            att = d["attachment"] or {}
            made["下载"].append([code, d["url"], d["hits"], d["bytes"], att.get("title") or att.get("name") or "",
                               att.get("status", "未收录")])
        for ref in r["referrers"]:
            made["来源"].append([code, "引荐网站", ref["host"], None, ref["hits"]])
        for k in r["keyphrases"]:
            made["来源"].append([code, "搜索引擎", k["engine"], k["phrase"], k["hits"]])
        for n in r["notfound_urls"]:
            made["404"].append([code, n["url"], n["referrer"], SOURCE_ZH[n["source"]], n["hits"]])
        for label, rows in (("设备", r["devices"]), ("操作系统", r["os"]), ("浏览器", r["browsers"]),
                            ("状态码", r["status"]), ("请求方法", r["methods"])):
            for row in rows:
                made["终端"].append([code, label, row["key"], row["hits"]])
        for b in r["bots"]:
            made["终端"].append([code, "爬虫", b["name"], b["hits"]])
        for signal, label in (("scan", "扫描"), ("injection", "注入"), ("flood", "高频访问（分钟数）")):
            for s in r["security"][signal]:
                made["安全"].append([code, label, s["key"], s["hits"]])
        for g in r["gone_requested"]:
            made["已删除仍被访问"].append([code, g["url"], g["title"], g["gone_reason"], g["pageviews"], g["notfound"]])
        for p in r["never_crawled"]:
            made["未收录页面"].append([code, p["url"], p["pageviews"]])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
