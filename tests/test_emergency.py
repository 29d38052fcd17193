"""The emergency copy (issue 6 item 5): the store keeps the last GOOD version of every document,
``blgw restore`` rebuilds the index from the store alone (after the index file was deleted or
corrupted) and search answers as before, and the API serves a read-only copy of an article
(``/cached/{id}``) and a link that survives a dead subsite (``/go/{id}``).

Everything runs on a real store and a real embedded index; the subsites are real loopback
HTTP servers (or a closed loopback port); nothing leaves the machine."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import socket
import subprocess
import warnings
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR, make_article
from sqlalchemy import select, update
from test_api import N_JYJ, N_RSJ, XSS, populate

from fixture_sites.servers import threaded_http_server
from gateway.store.models import CrawlError, CrawlRun, Document, IndexOutbox, Site
from gateway.store.repository import (
    Outcome,
    count_outbox,
    degradation,
    mark_gone,
    start_run,
    upsert_article,
)
from index.base import SearchQuery
from index.factory import open_index
from normalizers.models import Category, DisclosureMetadata, FieldError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient warns about httpx
    from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parent.parent
ACTIVE = N_RSJ + N_JYJ + 1  # populate(): two sites' articles, the XSS one; one more is gone


@pytest.fixture
def store_url(request, tmp_path) -> str:
    """SQLite, or (tests marked BOTH) each backend in turn; PostgreSQL is the throwaway server
    of conftest's ``postgres_database``."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_database")  # skips loudly (or fails in CI) without PostgreSQL


@pytest.fixture
def store(store_url):
    """A migrated store at ``store_url``."""
    from gateway.store.session import Store

    s = Store(store_url)
    s.migrate()
    yield s
    s.dispose()


BOTH = pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def index_path(tmp_path) -> Path:
    return tmp_path / "index" / "index.sqlite"


@pytest.fixture
def blgw(tmp_path, store, index_path, monkeypatch):
    """Run ``blgw …`` in this process against this test's store and index."""
    from click.testing import CliRunner

    from gateway.cli import main
    from gateway.settings import get_settings

    monkeypatch.setenv("BLGW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLGW_DATABASE_URL", store.url)
    monkeypatch.setenv("BLGW_INDEX_URL", f"sqlite:///{index_path}")
    monkeypatch.delenv("BLGW_ORIGINS", raising=False)
    get_settings.cache_clear()

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield run
    get_settings.cache_clear()


QUERIES = [
    SearchQuery(q="社保", size=50),
    SearchQuery(q="社保", size=5, page=2, order="date"),
    SearchQuery(q="政策解读", site_codes=["jyj"]),
    SearchQuery(q="社保", column="办事指南", size=50),
    SearchQuery(q="社保", date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31)),
    SearchQuery(q="医保"),
    SearchQuery(q='"第1号"'),
    SearchQuery(q="已撤下"),  # the gone document: no hit, before and after
]


def answers(index_url: str) -> list[dict]:
    """What search answers: ids in order, totals, facets, highlights; plus suggestions."""
    with open_index(index_url) as index:
        out = []
        for query in QUERIES:
            result = index.search(query)
            out.append({"ids": [h.id for h in result.hits], "total": result.total,
                        "titles": [h.title_html for h in result.hits],
                        "facets": {k: [(v.value, v.count) for v in vs] for k, vs in result.facets.items()}})
        out.append({"suggest": [s.id for s in index.suggest("rsj社保", size=20)]})
        return out


def remove_index(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def garbage(path: Path) -> bytes:
    data = b"\x00not an index\xff" * 4096
    path.write_bytes(data)
    return data


def half(path: Path) -> bytes:
    data = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(data)
    return data


def outbox_ids(store) -> list[str]:
    with store.session() as s:
        return list(s.scalars(select(IndexOutbox.document_id).order_by(IndexOutbox.id)))


# --- blgw restore ----------------------------------------------------------------------------


@BOTH
def test_restore_on_a_deleted_index_brings_back_every_document_and_the_same_answers(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    facts = populate(store, index_url)
    before = answers(index_url)
    assert before[0]["total"] == N_RSJ + N_JYJ and before[-2]["total"] == 0  # sanity: real answers
    remove_index(index_path)

    result = blgw("restore")
    assert result.exit_code == 0, result.output
    assert f"indexed {ACTIVE} documents" in result.output
    assert f"store {ACTIVE} active documents (1 gone), index {ACTIVE} documents" in result.output
    assert "restore OK" in result.output
    assert answers(index_url) == before
    with open_index(index_url) as index:
        assert index.get(facts["gone_id"]) is None
    assert outbox_ids(store) == []
    check = blgw("restore", "--check")
    assert check.exit_code == 0 and "check OK" in check.output, check.output


@pytest.mark.parametrize("damage", [garbage, half])
def test_restore_moves_an_unreadable_index_file_aside_and_rebuilds_it(store, index_path, blgw, damage):
    index_url = f"sqlite:///{index_path}"
    populate(store, index_url)
    before = answers(index_url)
    damaged = damage(index_path)
    Path(str(index_path) + "-wal").write_bytes(b"stale wal")  # must not be replayed into the new file

    result = blgw("restore")
    assert result.exit_code == 0, result.output
    assert "moved it aside to" in result.output
    aside = {p.name: p for p in index_path.parent.glob("index.sqlite.corrupt-*")}
    main = min(aside, key=len)
    assert re.fullmatch(r"index\.sqlite\.corrupt-\d{8}T\d{6}Z", main), sorted(aside)
    assert set(aside) - {main + "-shm"} == {main, main + "-wal"}
    assert aside[main].read_bytes() == damaged  # kept, not deleted
    assert aside[main + "-wal"].read_bytes() == b"stale wal"
    assert not Path(str(index_path) + "-wal").exists() or Path(str(index_path) + "-wal").read_bytes() != b"stale wal"
    assert answers(index_url) == before


def test_restore_from_the_command_line_on_a_garbage_index_file(store, tmp_path, index_path):
    """The real ``blgw`` entry point in a fresh process, as an operator runs it."""
    index_url = f"sqlite:///{index_path}"
    populate(store, index_url)
    before = answers(index_url)
    garbage(index_path)
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path), "BLGW_DATABASE_URL": store.url,
           "BLGW_INDEX_URL": index_url}
    env.pop("BLGW_ORIGINS", None)
    run = subprocess.run([*BLGW, "restore"], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"indexed 24 documents from the store in [\d.]+ s", run.stdout), run.stdout
    assert re.search(r"restore OK in [\d.]+ s", run.stdout)
    assert answers(index_url) == before
    assert len(list(index_path.parent.glob("index.sqlite.corrupt-*"))) == 1


def test_restore_on_an_empty_index_file(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    populate(store, index_url)
    before = answers(index_url)
    remove_index(index_path)
    index_path.write_bytes(b"")
    result = blgw("restore", "--index-url", index_url)
    assert result.exit_code == 0, result.output
    assert not list(index_path.parent.glob("*.corrupt-*"))  # empty is not corrupt
    assert answers(index_url) == before


@BOTH
def test_check_detects_documents_missing_from_the_index_and_writes_nothing(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    facts = populate(store, index_url)
    with open_index(index_url) as index:
        assert index.delete(facts["ids"][:2]) == 2
    check = blgw("restore", "--check", "--sample", "100")
    assert check.exit_code == 1
    assert f"the index holds {ACTIVE - 2} documents, the store {ACTIVE} active ones (-2)" in check.output
    assert "2 of 24 sampled documents are not in the index" in check.output
    with open_index(index_url) as index:
        assert index.count() == ACTIVE - 2  # --check wrote nothing
    fixed = blgw("restore")
    assert fixed.exit_code == 0, fixed.output
    assert blgw("restore", "--check").exit_code == 0


def test_check_detects_changed_and_gone_documents_with_equal_counts(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    facts = populate(store, index_url)
    with open_index(index_url) as index:
        stale = index.get(facts["ids"][0]).model_copy(update={"title": "旧标题"})
        index.upsert([stale])
        gone = make_article("http://jyj.bl.gov.cn/show.php?id=gone", site_code="jyj", title="已撤下的页面")
        index.delete([facts["ids"][1]])
        index.upsert([gone])  # a withdrawn page still searchable, in place of a missing one
    check = blgw("restore", "--check", "--sample", "100")
    assert check.exit_code == 1, check.output
    assert "sampled documents differ in the index from the store: " + facts["ids"][0] in check.output
    assert "1 gone documents are still in the index" in check.output
    assert "the index holds" not in check.output  # the counts agree; the sample finds it


def test_check_on_a_missing_or_unreadable_index_file_fails_without_touching_it(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    populate(store, index_url)
    remove_index(index_path)
    missing = blgw("restore", "--check")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not index_path.exists()
    data = garbage(index_path)
    bad = blgw("restore", "--check")
    assert bad.exit_code == 1 and "cannot be read" in bad.output and "run `blgw restore`" in bad.output
    assert index_path.read_bytes() == data and not list(index_path.parent.glob("*.corrupt-*"))


def test_restore_refuses_a_database_that_is_not_a_search_index(store, tmp_path, blgw):
    populate(store, f"sqlite:///{tmp_path / 'index.sqlite'}")
    store_file = store.url.removeprefix("sqlite:///")
    before = Path(store_file).stat().st_size
    result = blgw("restore", "--index-url", store.url)  # a slip: the store's own file
    assert result.exit_code == 3  # failed: nothing restored
    assert "is not a search index" in result.output
    assert not list(tmp_path.glob("*.corrupt-*"))
    with store.session() as s:
        assert s.scalar(select(Document.id).limit(1)) is not None
    assert Path(store_file).stat().st_size >= before


@BOTH
def test_restore_clears_the_outbox_and_indexes_what_was_not_synced_yet(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    populate(store, index_url)
    late = make_article("http://rsj.bl.gov.cn/show.php?id=late", title="尚未同步的社保通知")
    with store.session() as s:
        upsert_article(s, late, fetch_url=str(late.source_url), raw_body=b"<html></html>",
                       content_type="text/html", http_status=200, run_id=None)
    assert outbox_ids(store) == [late.id]
    remove_index(index_path)
    result = blgw("restore")
    assert result.exit_code == 0, result.output
    assert "outbox: 1 rows covered and cleared" in result.output
    assert outbox_ids(store) == []
    with open_index(index_url) as index:
        assert index.get(late.id) == late and index.count() == ACTIVE + 1


def test_restore_reports_a_stored_item_that_cannot_be_read(store, index_path, blgw):
    index_url = f"sqlite:///{index_path}"
    facts = populate(store, index_url)
    broken = facts["ids"][3]
    with store.session() as s:
        s.execute(update(Document).where(Document.id == broken).values(item={"item_type": "article", "oops": 1}))
    result = blgw("restore")
    assert result.exit_code == 1
    assert f"skipped {broken}: the stored item cannot be read" in result.output
    assert f"the index holds {ACTIVE - 1} documents, the store {ACTIVE} active ones" in result.output
    with open_index(index_url) as index:
        assert index.count() == ACTIVE - 1  # every other document is back


@BOTH
def test_restore_index_reads_the_store_in_batches(store, tmp_path):
    from gateway.ops.emergency import restore_index, verify_index
    from index.embedded import EmbeddedIndex

    populate(store, f"sqlite:///{tmp_path / 'old.sqlite'}")
    reads = []

    class Counting(EmbeddedIndex):
        def rebuild(self, documents):
            def watch():
                for n, doc in enumerate(documents):
                    reads.append(n)
                    yield doc
            return super().rebuild(watch())

    with Counting(tmp_path / "new.sqlite") as index:
        report = restore_index(store, index, batch=5)
        assert report.indexed == ACTIVE and report.skipped == []
        check = verify_index(store, index, sample=ACTIVE)
        assert check.ok and len(check.sampled) == ACTIVE and check.gone_sampled == 1
    assert len(reads) == ACTIVE


def test_move_aside_never_overwrites_an_earlier_copy(tmp_path):
    from gateway.ops.emergency import move_aside

    when = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    path = tmp_path / "index.sqlite"
    path.write_bytes(b"one")
    first = move_aside(path, when)
    path.write_bytes(b"two")
    second = move_aside(path, when)
    assert first.name == "index.sqlite.corrupt-20260301T080000Z"
    assert second.name == "index.sqlite.corrupt-20260301T080000Z-1"
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two") and not path.exists()


# --- the last good version -------------------------------------------------------------------


GOOD_BODY = "各参保单位：\n\n为做好社保缴费基数调整工作，现将有关事项通知如下。请各单位于规定时间内完成申报。"


@pytest.fixture
def site_store(store):
    with store.session() as s:
        s.add(Site(code="rsj", name="北仑区人力资源和社会保障局", base_url="http://rsj.bl.gov.cn/"))
    return store


def save(store, article, *, raw: bytes = b"<html>good</html>", status: int = 200, run_id=None,
         seen_at: dt.datetime | None = None) -> Outcome:
    with store.session() as s:
        return upsert_article(s, article, fetch_url=str(article.source_url), raw_body=raw,
                              content_type="text/html", http_status=status, run_id=run_id, seen_at=seen_at)


def stored(store, doc_id: str) -> dict:
    with store.session() as s:
        d = s.get(Document, doc_id)
        return {"item": d.item, "hash": d.content_hash, "raw": zlib.decompress(d.raw_page), "title": d.title,
                "status": d.status, "last_seen_at": d.last_seen_at, "http_status": d.http_status}


def normalized(html: str, *, list_title: str | None, encoding: str = "utf-8"):
    """What the crawl makes of a page (the real normalizer)."""
    from normalizers.article import normalize_article
    from normalizers.page import PageContext, RawPage

    url = "http://rsj.bl.gov.cn/show.php?id=1"
    page = RawPage(url=url, body=html.encode(encoding), content_type=f"text/html; charset={encoding}", status=200)
    context = PageContext(site_code="rsj", column_path=("政务公开", "通知公告"), category=Category.GOVERNMENT_INFORMATION,
                          public_url=url, list_title=list_title)
    return normalize_article(page, context)


def asp_alert_page() -> str:
    from fixture_sites.legacy_sites import _asp_soft_error

    return _asp_soft_error("找不到指定的文章！")


TITLE = "关于做好2024年度社会保险缴费基数调整工作的通知"
WORSE = {
    "CMS '信息不存在' page": lambda: normalized(
        '<html><head><meta charset="utf-8"><title>北仑区人力社保局</title></head><body>'
        '<div class="main"><p>对不起，信息不存在或已被删除！</p><a href="/">返回首页</a></div></body></html>',
        list_title=TITLE),
    "empty body": lambda: normalized("", list_title=TITLE),
    "classic ASP alert() page": lambda: normalized(asp_alert_page(), list_title=TITLE, encoding="gbk"),
    "title lost": lambda: make_article(title="各参保单位：为做好社保", body_text="各参保单位：为做好社保缴费基数调整工作",
                                       field_errors=[FieldError(field="title", message="no title; the first words stand in",
                                                                raw="各参保单位：为做好社保")]),
    "error title": lambda: make_article(title="404 Not Found", body_text="The requested URL was not found on this server."),
}


@BOTH
@pytest.mark.parametrize("case", sorted(WORSE))
def test_a_worse_page_never_replaces_the_last_good_version(site_store, case):
    good = make_article(body_text=GOOD_BODY, disclosure=DisclosureMetadata(publisher="区人力社保局"))
    first = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    assert save(site_store, good, seen_at=first) is Outcome.NEW
    before = stored(site_store, good.id)
    with site_store.session() as s:
        run_id = start_run(s, "rsj").id
    outbox_before = count_outbox_rows(site_store)

    worse = WORSE[case]()
    assert worse.id == good.id
    assert save(site_store, worse, raw=b"<html>error</html>", run_id=run_id) is Outcome.KEPT
    assert stored(site_store, good.id) == before  # item, hash, raw page, status, times: untouched
    assert count_outbox_rows(site_store) == outbox_before  # nothing for the index
    with site_store.session() as s:
        errors = list(s.scalars(select(CrawlError).where(CrawlError.run_id == run_id)))
        run = s.get(CrawlRun, run_id)
        assert [(e.kind, e.url) for e in errors] == [("degraded", str(good.source_url))]
        assert "kept the last good version (fetched 2026-01-05 02:00 UTC)" in errors[0].message
        assert run.error_count == 1 and (run.items_new, run.items_changed, run.items_unchanged) == (0, 0, 0)


def count_outbox_rows(store) -> int:
    with store.session() as s:
        return count_outbox(s)


def test_real_pages_of_the_worse_cases_are_what_the_guard_sees():
    """The normalizer really turns these pages into items: no exception, the list title kept."""
    for case in ("CMS '信息不存在' page", "empty body", "classic ASP alert() page"):
        item = WORSE[case]()
        assert item.title == TITLE, case
    assert "信息不存在" in WORSE["CMS '信息不存在' page"]().body_text
    assert WORSE["empty body"]().body_text == "" and WORSE["classic ASP alert() page"]().body_text == ""


def test_an_http_error_status_is_never_stored_over_a_good_version(site_store):
    good = make_article(body_text=GOOD_BODY)
    save(site_store, good)
    before = stored(site_store, good.id)
    edited = make_article(body_text=GOOD_BODY + "（已更新）")
    assert save(site_store, edited, status=503) is Outcome.KEPT
    assert stored(site_store, good.id) == before
    assert degradation(good, edited, 503) == "HTTP 503"


@BOTH
def test_real_edits_still_replace_the_stored_version(site_store):
    good = make_article(body_text=GOOD_BODY)
    save(site_store, good)
    shorter = make_article(title=TITLE + "（更正）", body_text="此通知已废止。")  # short, but not an error page
    assert save(site_store, shorter) is Outcome.CHANGED
    assert stored(site_store, good.id)["item"]["body_text"] == "此通知已废止。"
    back = make_article(body_text=GOOD_BODY)
    assert save(site_store, back) is Outcome.CHANGED
    long_text = GOOD_BODY + "如页面不存在请联系我们。" + "附：办理流程说明。" * 60  # long: real content
    assert save(site_store, make_article(body_text=long_text)) is Outcome.CHANGED


def test_an_error_page_may_be_replaced_and_a_new_one_is_stored(site_store):
    error_first = make_article(title="信息不存在", body_text="信息不存在")
    assert save(site_store, error_first) is Outcome.NEW  # nothing better is known
    good = make_article(body_text=GOOD_BODY)
    assert save(site_store, good) is Outcome.CHANGED  # the good version replaces the error page
    assert stored(site_store, good.id)["title"] == TITLE


def test_a_gone_document_stays_gone_when_its_url_answers_with_an_error_page(site_store):
    good = make_article(body_text=GOOD_BODY)
    save(site_store, good)
    with site_store.session() as s:
        mark_gone(s, good.id)
    before = stored(site_store, good.id)
    assert save(site_store, WORSE["CMS '信息不存在' page"]()) is Outcome.KEPT
    assert stored(site_store, good.id) == before and before["status"] == "gone"
    assert save(site_store, good) is Outcome.CHANGED  # the real page back: active again
    assert stored(site_store, good.id)["status"] == "active"


class MutableSite(BaseHTTPRequestHandler):
    """A tiny subsite whose pages (path → (status, body)) the test changes between crawls."""

    pages: dict[str, tuple[int, bytes]] = {}

    def do_GET(self):
        status, body = self.pages.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


SITE_PLUGIN = """[site]
code = "zjj"
name = "北仑区住房和城乡建设局"
base_url = "http://zjj.bl.gov.cn/"
obey_robots = false
[list]
item = "ul.news li"
[detail]
title = "h1"
body = "#zoom"
[[columns]]
name = "通知公告"
url = "/list.html"
"""

ARTICLE_PAGE = ('<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1>'
                '<div class="info">发布时间：2024-03-0{n} 09:30</div><div id="zoom"><p>{body}</p></div></body></html>')


def test_a_recrawl_that_meets_errors_keeps_the_last_good_pages(tmp_path):
    """End to end through the spider and the pipeline: HTTP 500 goes to the errback (nothing
    stored); a 200 '信息不存在' page, an empty 200 and an alert() page are kept out by the guard;
    a real edit still goes through."""
    titles = {n: f"关于第{n}号住房公积金事项的通知" for n in range(1, 6)}
    listing = "".join(f'<li><a href="/a{n}.html">{t}</a></li>' for n, t in titles.items())
    good = {f"/a{n}.html": (200, ARTICLE_PAGE.format(title=t, n=n, body=f"第{n}号通知正文：请各单位按时办理住房公积金业务。")
                            .encode()) for n, t in titles.items()}
    MutableSite.pages = {"/list.html": (200, f'<html><body><ul class="news">{listing}</ul></body></html>'.encode()),
                         **good}
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "zjj.toml").write_text(SITE_PLUGIN, encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    for key in ("BLGW_DATABASE_URL", "BLGW_INDEX_URL", "BLGW_ORIGINS"):
        env.pop(key, None)
    from gateway.store.session import Store

    store = Store(f"sqlite:///{tmp_path / 'data' / 'gateway.sqlite'}")

    def crawl(base: str) -> None:
        run = subprocess.run(
            [*BLGW, "crawl", "zjj", "--origin", f"zjj={base}", "-q",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_ENABLED=False",
             "-s", "BLGW_REFETCH_DAYS=0", "-s", "BLGW_FULL_EVERY_DAYS=0"],
            cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode in (0, 1), run.stderr[-3000:]

    def snapshot() -> dict[str, tuple]:
        with store.session() as s:
            return {d.url.rsplit("/", 1)[-1]: (d.content_hash, d.item["body_text"], zlib.decompress(d.raw_page))
                    for d in s.scalars(select(Document))}

    handler = functools.partial(MutableSite)
    with threaded_http_server(handler, label="mutable") as base:
        crawl(base)
        first = snapshot()
        assert sorted(first) == [f"a{n}.html" for n in range(1, 6)]
        MutableSite.pages.update({
            "/a1.html": (500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"),
            "/a2.html": (200, '<html><head><meta charset="utf-8"><title>提示</title></head><body>'
                              '<div class="msg">信息不存在！</div></body></html>'.encode()),
            "/a3.html": (200, b""),
            "/a4.html": (200, asp_alert_page().encode("gbk")),
            "/a5.html": (200, good["/a5.html"][1].replace("请各单位".encode(), "现更正：请各单位".encode())),
        })
        crawl(base)
    second = snapshot()
    store.dispose()
    for page in ("a1.html", "a2.html", "a3.html", "a4.html"):
        assert second[page] == first[page], page  # the last good version: item and raw page
    assert "现更正" in second["a5.html"][1]  # the second crawl did fetch the pages again
    report = json.loads(subprocess.run([*BLGW, "report", "--json"], cwd=WORKDIR, env=env,
                                       capture_output=True, text=True, check=True).stdout)
    kinds = {(e["url"].rsplit("/", 1)[-1], e["kind"]) for e in report["errors"]["first"]}
    assert ("a1.html", "http") in kinds
    assert {("a2.html", "degraded"), ("a3.html", "degraded"), ("a4.html", "degraded")} <= kinds, kinds


# --- /cached and /go ---------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_emergency_client(tmp_path, store, origins: dict[str, str] | None = None, probe=None):
    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    index_url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    facts = populate(store, index_url)
    settings = GatewaySettings(data_dir=tmp_path, database_url=store.url, index_url=index_url,
                               plugin_dirs=[], load_plugins=[], origins=origins or {})
    app = create_app(settings)
    if probe is not None:
        app.state.site_probe = probe
    client = TestClient(app, follow_redirects=False)
    client.facts = facts
    return client


@pytest.fixture
def web(tmp_path, store):
    with make_emergency_client(tmp_path, store) as client:
        yield client


def rich_article():
    from normalizers.models import Attachment

    return make_article(
        "http://rsj.bl.gov.cn/show.php?id=rich", title=f"社保<b>通知</b>{XSS}",
        body_text="各参保单位：请按时申报。",
        body_html='<p>各参保单位：<strong>请按时申报</strong>。</p><table><tr><td colspan="2">表格</td></tr></table>',
        disclosure=DisclosureMetadata(index_number="002948120/2024-00123", publisher="区人力社保局",
                                      document_number="仑人社发〔2024〕5号", written_date=dt.date(2024, 1, 3)),
        published_at=dt.datetime(2024, 1, 5, 14, 29, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        published_precision="minute",
        attachments=[Attachment(name="附件1：申报表<x>.doc", url="http://rsj.bl.gov.cn/files/a.doc", file_type="doc")],
    )


def save_rich(store) -> str:
    article = rich_article()
    with store.session() as s:
        upsert_article(s, article, fetch_url=str(article.source_url), raw_body=b"<script>raw()</script>",
                       content_type="text/html", http_status=200, run_id=None,
                       seen_at=dt.datetime(2026, 2, 1, 0, 30, tzinfo=dt.UTC))
    return article.id


def test_cached_copy_shows_banner_title_metadata_body_and_attachments(web, store):
    doc_id = save_rich(store)
    response = web.get(f"/cached/{doc_id}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="zh-CN">' in page and "北仑区政府网站群" in page
    assert "此页面为北仑区网站群应急副本，原网站暂时无法访问" in page
    assert '最后抓取时间：<time datetime="2026-02-01T08:30:00+08:00">2026-02-01 08:30</time>' in page
    assert '原文地址：<a href="http://rsj.bl.gov.cn/show.php?id=rich"' in page
    # the title is text: its markup is escaped, never live
    assert "<script>alert" not in page and "<b>通知</b>" not in page and "<img src=x" not in page
    assert "社保&lt;b&gt;通知&lt;/b&gt;&lt;script&gt;alert(" in page
    for label, value in (("索引号", "002948120/2024-00123"), ("发布机构", "区人力社保局"),
                         ("发文字号", "仑人社发〔2024〕5号"), ("成文日期", "2024-01-03"),
                         ("发布日期", "2024-01-05 14:29"), ("来源网站", "北仑区人力资源和社会保障局"),
                         ("所属栏目", "政务公开 › 通知公告")):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page, label
    # the sanitized body is HTML; the raw page never appears
    assert "<p>各参保单位：<strong>请按时申报</strong>。</p>" in page and '<td colspan="2">表格</td>' in page
    assert "raw()" not in page
    assert '<a href="http://rsj.bl.gov.cn/files/a.doc" rel="nofollow noopener">附件1：申报表&lt;x&gt;.doc</a>' in page
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no scripts
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert "<script" not in page.split("</main>")[0].split("<main")[1]


def test_cached_copy_sanitizes_a_stored_body_again(web, store):
    doc_id = save_rich(store)
    with store.session() as s:  # a body stored by an older, laxer normalizer (or tampered with)
        doc = s.get(Document, doc_id)
        doc.item = {**doc.item, "body_html": '<p onclick="evil()">正文</p><script>evil(1)</script><a href="javascript:evil()">链接</a>'}
    page = web.get(f"/cached/{doc_id}").text
    assert "<p>正文</p>" in page and "链接" in page
    assert "evil" not in page and "onclick" not in page and "javascript:" not in page


HOSTILE_BODIES = [  # what a defaced subsite plants in a body (and a laxer normalizer might keep)
    '<svg onload="evil()"><circle r="1"/></svg>',
    '<iframe srcdoc="&lt;script&gt;evil()&lt;/script&gt;"></iframe>',
    '<img src="javascript:evil()">',
    '<a href="  JaVaScRiPt:evil()">大小写</a>',
    '<a href="&#106;avascript:evil()">实体</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5ldmlsKCk8L3NjcmlwdD4=">数据</a>',
    '<form action="javascript:evil()"><button>提交</button></form>',
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.2/evil">',
    '<base href="http://127.0.0.2/evil/">',
    '<object data="http://127.0.0.2/evil.swf"></object><embed src="http://127.0.0.2/evil.swf">',
    '<style>@import url(http://127.0.0.2/evil.css); body { background: url(javascript:evil()) }</style>',
    '<p style="background-image: expression(evil())">样式</p>',
    '<math><mtext><table><mglyph><style><img src=x onerror=evil()></style></mglyph></table></mtext></math>',
    '<noscript><p title="</noscript><img src=x onerror=evil()>"></noscript>',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_cached_copy_defuses_planted_markup(web, store, body):
    doc_id = save_rich(store)
    with store.session() as s:
        doc = s.get(Document, doc_id)
        doc.item = {**doc.item, "body_html": f"<p>正文</p>{body}"}
    response = web.get(f"/cached/{doc_id}")
    body_part = response.text.split('<div class="doc-body">', 1)[1].split('<section class="attachments"', 1)[0]
    assert "<p>正文</p>" in body_part
    for bad in ("evil", "javascript:", "onload", "onerror", "srcdoc", "<iframe", "<object", "<embed", "<base",
                "<meta", "<style", "expression(", "127.0.0.2"):
        assert bad not in body_part.lower(), (bad, body_part)
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_cached_copy_of_an_article_without_html_shows_its_text(web, store):
    article = make_article("http://rsj.bl.gov.cn/show.php?id=text", title="纯文本", body_text="第一段<i>\n\n第二段",
                           body_html="", disclosure=DisclosureMetadata())
    with store.session() as s:
        upsert_article(s, article, fetch_url=str(article.source_url), raw_body=b"", content_type=None,
                       http_status=200, run_id=None)
    page = web.get(f"/cached/{article.id}").text
    assert "<p>第一段&lt;i&gt;</p>" in page and "<p>第二段</p>" in page


def test_cached_copy_of_an_unknown_or_gone_document(web):
    missing = web.get("/cached/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404 and "未找到应急副本" in missing.text
    odd = web.get("/cached/<script>x</script>")
    assert odd.status_code == 404 and "<script>x" not in odd.text
    assert web.get("/cached/" + "a" * 65).status_code == 422
    gone = web.get(f"/cached/{web.facts['gone_id']}")
    assert gone.status_code == 410
    assert "信息已撤下" in gone.text and "已撤下的页面" not in gone.text  # withdrawn: not shown again
    assert web.get(f"/go/{web.facts['gone_id']}").status_code == 410
    assert web.get("/go/0123456789abcdef0123456789abcdef").status_code == 404


def test_search_page_links_each_hit_to_its_cached_copy(web):
    page = web.get("/", params={"q": "医保"}).text
    assert f'href="/cached/{web.facts["xss_id"]}"' in page and "应急副本" in page


class Answering(BaseHTTPRequestHandler):
    """The subsite up: HEAD / answers 200; every request is counted."""

    requests: list[tuple[str, str]] = []

    def do_HEAD(self):
        Answering.requests.append(("HEAD", self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


class NoHead(Answering):
    """An old server that rejects HEAD (501) but serves GET."""

    def do_HEAD(self):
        Answering.requests.append(("HEAD", self.path))
        self.send_response(501)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        Answering.requests.append(("GET", self.path))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.mark.parametrize("handler", [Answering, NoHead])
def test_go_redirects_to_the_original_page_while_the_subsite_answers(tmp_path, store, handler):
    Answering.requests = []
    with threaded_http_server(handler, label="rsj") as base, \
            make_emergency_client(tmp_path, store, origins={"rsj": base}) as client:
        doc_id = client.facts["ids"][0]
        response = client.get(f"/go/{doc_id}")
        assert response.status_code == 302
        assert response.headers["location"] == "http://rsj.bl.gov.cn/show.php?id=0"  # the public URL
        assert response.headers["cache-control"] == "no-store"
        client.get(f"/go/{client.facts['ids'][1]}")  # same site within a minute: no second probe
    assert Answering.requests[0] == ("HEAD", "/")  # the site's home page on its fetch origin
    assert len([r for r in Answering.requests if r[0] == "HEAD"]) == 1
    if handler is NoHead:
        assert Answering.requests == [("HEAD", "/"), ("GET", "/")]


def test_go_serves_the_copy_while_nothing_answers_on_the_sites_origin(tmp_path, store):
    from gateway.api.emergency import SiteProbe

    now = [1000.0]
    probe = SiteProbe(ttl=60, timeout=2, clock=lambda: now[0])
    dead = f"http://127.0.0.1:{closed_port()}"
    with make_emergency_client(tmp_path, store, origins={"rsj": dead, "jyj": dead}, probe=probe) as client:
        doc_id = client.facts["ids"][0]
        response = client.get(f"/go/{doc_id}")
        assert response.status_code == 200
        assert "此页面为北仑区网站群应急副本" in response.text and "rsj社保政策解读第0号" in response.text
        assert response.headers["cache-control"] == "no-store"
        assert probe.checks == 1
        client.get(f"/go/{client.facts['ids'][2]}")
        assert probe.checks == 1  # remembered for the site
        now[0] += 61
        client.get(f"/go/{doc_id}")
        assert probe.checks == 2  # asked again after a minute


def test_go_uses_the_public_origin_when_no_fetch_origin_is_configured(tmp_path, store):
    from gateway.api.emergency import _probe_url

    facts = {"site_code": "rsj", "url": "http://rsj.bl.gov.cn/show.php?id=1", "base_url": "http://rsj.bl.gov.cn/"}
    assert _probe_url(facts, {}) == "http://rsj.bl.gov.cn/"
    assert _probe_url(facts, {"rsj": "http://127.0.0.1:8080"}) == "http://127.0.0.1:8080/"
    assert _probe_url({**facts, "base_url": None}, {"jyj": "http://127.0.0.1:1"}) == "http://rsj.bl.gov.cn/"


def test_openapi_documents_the_emergency_endpoints(web):
    paths = web.get("/openapi.json").json()["paths"]
    assert "/cached/{doc_id}" in paths and "/go/{doc_id}" in paths
