"""The fault suite: a fault-injecting fixture subsite (``sjj``, fixture_sites/faults.py) and a
healthy one (``fgj``, TRS) crawled together in ONE ``blgw crawl``, with short timeouts.

Acceptance: the crawl completes, the healthy site is unaffected (its ground truth, no error),
every healthy page of the fault site is stored with the right text (wrong charsets included, the
503-then-200 page after its retries), and the run report names each fault by a distinct kind
with its URL: http (500), timeout, connection (reset), truncated (data loss), redirect (loop),
too-large (50 MB instead of a page), paging-cap (the infinite calendar).

Exit status: page errors do not fail a run (the report lists them, ``blgw crawl`` exits 0); a
site that could not be crawled at all (no page fetched) fails its run and ``blgw crawl`` exits 1
with a one-line FAILED summary naming the site and why.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import BLGW, WORKDIR
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived, _DataLoss

from fixture_sites.faults import (
    CALENDAR_MAX_PAGES,
    CALENDAR_START,
    GROUND_TRUTH,
    PUBLIC_ORIGIN,
    TRANSIENT_FAILURES,
    faults_server,
    write_plugin,
)
from fixture_sites.legacy_sites import TRS_ORIGIN, generate_trs, trs_server
from fixture_sites.servers import free_port
from gateway.store.models import CrawlRun, Document
from gateway.store.session import Store
from normalizers.models import Article
from normalizers.urls import canonicalize_url
from spiders.downloadermiddlewares.pagesize import PageSizeLimitMiddleware
from spiders.downloadermiddlewares.redirect import RedirectLoopMiddleware
from spiders.errors import KINDS, RedirectLoop, classify

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 2  # DOWNLOAD_TIMEOUT of the crawl: the hanging page waits 3 s, the slow one 1 s
RETRIES = 2  # the 503 page fails twice, so it needs both
FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-s", f"RETRY_TIMES={RETRIES}",
        "-s", "BLGW_RETRY_BACKOFF_BASE=0.1", "-s", "BLGW_RETRY_BACKOFF_MAX=0.5"]
EXPECTED_KINDS = {"http": 1, "timeout": 1, "connection": 1, "truncated": 1, "redirect": 1, "too-large": 2,
                  "paging-cap": 1}


def blgw(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, *args], cwd=WORKDIR, env=env,
                          capture_output=True, text=True, timeout=300)


def _report(env: dict, run_id: int) -> dict:
    result = blgw(env, "report", str(run_id), "--json", "--max-errors", "100")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    write_plugin(tmp / "plugins")  # never into plugins/sites/, which holds the district's real sites
    trs_dir = generate_trs(tmp / "fgj", seed=2024, n_articles=30)
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp / "data"), "BLGW_PLUGIN_DIRS": str(tmp / "plugins")}
    requests: list[str] = []
    with faults_server(hang=TIMEOUT + 1.0, slow=TIMEOUT / 2, log=requests) as sjj, trs_server(trs_dir) as fgj:
        started = time.monotonic()
        crawl = blgw(env, "crawl", "sjj", "fgj", "--origin", f"sjj={sjj}", "--origin", f"fgj={fgj}", *FAST)
        elapsed = time.monotonic() - started
    store = Store(f"sqlite:///{tmp / 'data' / 'gateway.sqlite'}")
    with store.session() as s:
        runs = {r.site_code: r.id for r in s.query(CrawlRun).all()}
    yield {"crawl": crawl, "elapsed": elapsed, "env": env, "store": store, "runs": runs, "requests": requests,
           "fgj_truth": json.loads((trs_dir / "truth.json").read_text(encoding="utf-8")),
           "reports": {code: _report(env, run_id) for code, run_id in runs.items()}}
    store.dispose()


def _stored(store: Store, code: str) -> dict[str, Article]:
    with store.session() as s:
        return {d.url: Article.model_validate(d.item) for d in s.query(Document).filter_by(site_code=code)}


def test_the_crawl_completes_in_time_and_page_errors_do_not_fail_it(crawled):
    crawl = crawled["crawl"]
    # page errors do not fail the run: finished with errors, exit 1 (README, "exit statuses")
    assert crawl.returncode == 1, crawl.stdout[-4000:] + crawl.stderr[-4000:]
    assert set(crawled["runs"]) == {"sjj", "fgj"}
    assert {r["status"] for r in crawled["reports"].values()} == {"finished"}
    assert {code: r["outcome"] for code, r in crawled["reports"].items()} == {
        "sjj": "finished with errors", "fgj": "finished"}
    assert crawled["elapsed"] < 45, f"the fault crawl took {crawled['elapsed']:.1f} s"
    assert "Traceback" not in crawl.stderr


def test_the_healthy_site_crawled_alongside_is_unaffected(crawled):
    truth = crawled["fgj_truth"]["articles"]
    stored = _stored(crawled["store"], "fgj")
    want = {canonicalize_url(TRS_ORIGIN + a["path"]): a for a in truth}
    assert sorted(stored) == sorted(want)
    for url, t in want.items():
        assert stored[url].title == t["title"], url
        assert stored[url].published_at == dt.datetime.fromisoformat(t["published_at"]), url
    report = crawled["reports"]["fgj"]
    assert report["errors"]["total"] == 0, report["errors"]
    assert report["items"]["new"] == len(truth)


def test_every_healthy_page_of_the_fault_site_is_stored_with_the_right_text(crawled):
    stored = _stored(crawled["store"], "sjj")
    healthy = {canonicalize_url(PUBLIC_ORIGIN + h["path"]): h for h in GROUND_TRUTH["healthy"]}
    assert sorted(stored) == sorted(healthy)  # and nothing from a failed page (the truncated one…)
    for url, h in healthy.items():
        article = stored[url]
        assert article.title == h["title"], (h["charset"], url)
        for paragraph in h["paragraphs"]:
            assert paragraph in article.body_text, (h["charset"], url, paragraph)
        assert article.published_at.date().isoformat() == h["date"]
        assert "\ufffd" not in article.title + article.body_text
        assert not article.field_errors, (url, article.field_errors)
    assert {h["charset"] for h in healthy.values()} >= {"gbk_says_utf8", "utf8_says_gb2312"}


def test_the_transient_503_page_is_stored_after_its_retries(crawled):
    path = GROUND_TRUTH["transient"][0]["path"]
    assert crawled["requests"].count(path) == TRANSIENT_FAILURES + 1
    assert canonicalize_url(PUBLIC_ORIGIN + path) in _stored(crawled["store"], "sjj")
    assert not [e for e in crawled["reports"]["sjj"]["errors"]["first"] if e["url"].endswith(path)]


def test_each_fault_is_named_by_its_kind_and_url(crawled):
    errors = crawled["reports"]["sjj"]["errors"]
    assert errors["by_kind"] == EXPECTED_KINDS, errors
    assert errors["total"] == sum(EXPECTED_KINDS.values())
    found = {(e["kind"], urlsplit(e["url"]).path + "?" + urlsplit(e["url"]).query): e for e in errors["first"]}
    for fault in GROUND_TRUTH["faults"]:
        error = found.get((fault["kind"], fault["path"]))
        assert error, f"{fault['what']}: no {fault['kind']} error for {fault['path']} in {errors['first']}"
        assert error["url"] == PUBLIC_ORIGIN + fault["path"]  # the public URL, as stored items have
        assert fault["kind"] in KINDS or fault["kind"] == "paging-cap"
    messages = {kind: e["message"] for (kind, _), e in found.items()}
    assert messages["http"].startswith("HTTP 500 Internal Server Error at http://127.0.0.1:")
    assert f"within {TIMEOUT} s" in messages["timeout"] and f"after {RETRIES} retries" in messages["timeout"]
    assert "reset" in messages["connection"]
    assert "Content-Length" in messages["truncated"]
    assert "go.php?id=a → " in messages["redirect"] and messages["redirect"].endswith("go.php?id=a")
    assert "max_pages" in messages["paging-cap"] and str(CALENDAR_MAX_PAGES) in messages["paging-cap"]
    too_large = sorted(e["message"] for e in errors["first"] if e["kind"] == "too-large")
    assert "Content-Length 50.0 MB" in too_large[0] and "10.0 MB page limit" in too_large[0]
    assert "outgrew the 10.0 MB page limit" in too_large[1]


def test_the_text_report_lists_each_fault(crawled):
    out = crawled["crawl"].stdout
    assert "sjj: finished with errors — " in out and "fgj: finished — " in out
    for fault in GROUND_TRUTH["faults"]:
        assert f"- {fault['kind']} {PUBLIC_ORIGIN}{fault['path']}: " in out, fault


def test_the_infinite_calendar_stops_at_max_pages_and_failures_are_not_refetched_forever(crawled):
    requests = crawled["requests"]
    days = [p for p in requests if p.startswith("/calendar.php")]
    assert days == [f"/calendar.php?date={CALENDAR_START + dt.timedelta(days=i)}" for i in range(CALENDAR_MAX_PAGES)]
    assert requests.count("/show.php?id=102") == RETRIES + 1  # 500: retried, then reported
    assert requests.count("/show.php?id=105") == RETRIES + 1  # timeout: likewise
    assert requests.count("/download.php?id=1") == 1  # too large: refused at once, never retried
    assert requests.count("/go.php?id=a") == 1 and requests.count("/go.php?id=b") == 1


def test_a_site_that_cannot_be_crawled_fails_with_a_clear_summary(tmp_path):
    write_plugin(tmp_path / "plugins")
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(tmp_path / "plugins")}
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = blgw(env, "crawl", "sjj", "--origin", f"sjj={down}", *FAST)
    assert result.returncode == 3, result.stdout + result.stderr[-3000:]
    summary = next(line for line in result.stdout.splitlines() if line.strip().startswith("summary "))
    assert "sjj: FAILED — no page could be fetched from the site" in summary
    assert "connection refused at " + down in summary


def test_a_site_answering_only_errors_fails_too(tmp_path):
    write_plugin(tmp_path / "plugins")
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(tmp_path / "plugins")}
    with faults_server(all_500=True) as broken:
        result = blgw(env, "crawl", "sjj", "--origin", f"sjj={broken}", *FAST)
    assert result.returncode == 3 and "sjj: FAILED" in result.stdout


# --- classification, without a crawl ------------------------------------------------------------------

URL = "http://127.0.0.1:8080/show.php?id=5"


def _request(**meta) -> Request:
    return Request(URL, meta=meta)


def _failure(exc: BaseException, request: Request) -> Failure:
    failure = Failure(exc)
    failure.request = request  # as Scrapy sets it for errbacks
    return failure


def _cause(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


CASES = [
    ("http", "HTTP 500 Internal Server Error at " + URL + " (gave up after 2 retries)",
     lambda r: HttpError(Response(URL, status=500, request=r), "Ignoring non-200 response"), {"retry_times": 2}),
    ("http", "HTTP 404 Not Found at " + URL, lambda r: HttpError(Response(URL, status=404, request=r)), {}),
    ("timeout", "no complete answer within 2 s at " + URL + " (gave up after 1 retry)",
     lambda r: DownloadTimeoutError(f"Getting {URL} took longer than 2 seconds."),
     {"download_timeout": 2, "retry_times": 1}),
    ("timeout", "timed out at " + URL, lambda r: TxTimeoutError(), {}),
    ("connection", "connection reset: lost before a complete answer at " + URL,
     lambda r: _cause(DownloadFailedError("x"), ResponseNeverReceived([Failure(ConnectionLost())])), {}),
    ("connection", "the server closed the connection without answering at " + URL,
     lambda r: _cause(DownloadFailedError("x"), ResponseNeverReceived([Failure(ConnectionDone())])), {}),
    ("connection", "connection refused at " + URL, lambda r: DownloadConnectionRefusedError("refused"), {}),
    ("truncated", "body cut short: the connection closed before the announced Content-Length was received at " + URL,
     lambda r: _cause(ResponseDataLossError(), ResponseFailed([Failure(_DataLoss())])), {}),
    ("redirect", f"redirect loop: {URL} → http://127.0.0.1:8080/b → {URL}",
     lambda r: RedirectLoop([URL, "http://127.0.0.1:8080/b", URL]), {}),
    ("redirect", f"too many redirects (10): http://127.0.0.1:8080/r1 → {URL}",
     lambda r: IgnoreRequest("max redirections reached"),
     {"redirect_urls": ["http://127.0.0.1:8080/r1"], "redirect_times": 10}),
    ("too-large", f"refused: Content-Length 50.0 MB is over the 10.0 MB page limit (BLGW_MAX_PAGE_BYTES); "
                  f"not downloaded at {URL}",
     lambda r: DownloadCancelledError(f"Expected to receive 52428800 bytes which is larger than download max size "
                                      f"(10485760) in request {r}."), {}),
    ("too-large", f"refused: the body outgrew the 10.0 MB page limit (BLGW_MAX_PAGE_BYTES); download stopped at {URL}",
     lambda r: DownloadCancelledError(""), {"download_maxsize": 10 * 1024 * 1024}),
    ("dns", f"host name does not resolve at {URL}: no such host", lambda r: CannotResolveHostError("no such host"), {}),
    ("robots", f"forbidden by robots.txt at {URL}", lambda r: IgnoreRequest("Forbidden by robots.txt"), {}),
    ("network", f"ValueError: odd at {URL}", lambda r: ValueError("odd"), {}),
]


@pytest.mark.parametrize("kind,message,make,meta", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_classify_names_the_kind_and_the_url(kind, message, make, meta):
    request = _request(**meta)
    problem = classify(_failure(make(request), request))
    assert (problem.kind, problem.message) == (kind, message)
    assert problem.url == (meta.get("redirect_urls") or [URL])[0]
    assert classify(make(request), request) == problem  # a bare exception reads the same
    assert kind in KINDS


def test_redirect_loop_middleware_fails_a_redirect_back_into_the_chain():
    mw = RedirectLoopMiddleware()
    b = Request("http://127.0.0.1:8080/go.php?id=b", meta={"redirect_urls": ["http://127.0.0.1:8080/go.php?id=a"]})
    back = Response(b.url, status=302, headers={"Location": "go.php?id=a"}, request=b)
    with pytest.raises(RedirectLoop) as caught:
        mw.process_response(b, back)
    assert caught.value.chain == ["http://127.0.0.1:8080/go.php?id=a", b.url, "http://127.0.0.1:8080/go.php?id=a"]
    onwards = Response(b.url, status=302, headers={"Location": "/go.php?id=c"}, request=b)
    assert mw.process_response(b, onwards) is onwards
    # A redirect to itself is asked again once (servers set state and send the client back);
    # the same answer to the repeated request is a loop.
    itself = Request("http://127.0.0.1:8080/x")
    again = mw.process_response(itself, Response(itself.url, status=301, headers={"Location": "/x#top"},
                                                 request=itself))
    assert isinstance(again, Request) and again.url == itself.url and again.dont_filter
    assert again.meta["redirect_urls"] == [itself.url]
    with pytest.raises(RedirectLoop):
        mw.process_response(again, Response(again.url, status=301, headers={"Location": "/x#top"}, request=again))
    kept = Request("http://127.0.0.1:8080/x", meta={"dont_redirect": True})
    assert mw.process_response(kept, Response(kept.url, status=301, headers={"Location": "/x"}, request=kept))


def test_page_size_limit_applies_to_pages_not_attachments():
    mw = PageSizeLimitMiddleware.from_crawler(get_crawler(settings_dict={"BLGW_MAX_PAGE_BYTES": 1000,
                                                                         "DOWNLOAD_MAXSIZE": 5000}))
    page, attachment, own = Request(URL), Request(URL, meta={"blgw_attachment": True}), \
        Request(URL, meta={"download_maxsize": 200})
    for request in (page, attachment, own):
        mw.process_request(request)
    assert page.meta["download_maxsize"] == 1000
    assert "download_maxsize" not in attachment.meta  # DOWNLOAD_MAXSIZE applies
    assert own.meta["download_maxsize"] == 200
    capped = PageSizeLimitMiddleware.from_crawler(get_crawler(settings_dict={"BLGW_MAX_PAGE_BYTES": 10**9,
                                                                             "DOWNLOAD_MAXSIZE": 5000}))
    assert capped.limit == 5000
