"""Detail pages normalized in a worker process (``spiders.normalize_pool``): the worker's item is
the one the crawl process would make, the normalizer's own errors come back as themselves, and a
worker that dies or an argument that does not pickle costs nothing but the worker (the page is
normalized in the crawl process instead)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pickle
import signal

import pytest

from normalizers.article import NormalizationError
from normalizers.items import normalize_item
from normalizers.links import links_from_body
from normalizers.models import Category
from normalizers.page import PageContext, RawPage
from spiders.normalize_pool import NormalizePool, default_workers, shared_pool

PAGE = ("<html><head><title>关于做好2024年度社会保险工作的通知</title></head><body>"
        "<h1>关于做好2024年度社会保险工作的通知</h1><div class='info'>发布时间：2024-03-05 10:20</div>"
        "<div id='zoom'><p>为进一步做好社会保险工作，现就有关事项通知如下。</p>"
        "<p>各单位要高度重视，认真组织实施。</p></div>"
        "<a href='/files/1.pdf'>附件1：申报表.pdf</a><a href='http://www.zj.gov.cn/'>浙江省政府</a>"
        "</body></html>").encode("gbk")
URL = "http://rsj.bl.gov.cn/art/2024/3/5/art_1_1.html"


def _args(body: bytes = PAGE) -> tuple:
    page = RawPage(url=URL, body=body, content_type="text/html; charset=gbk",
                   fetched_at=dt.datetime(2024, 3, 6, tzinfo=dt.UTC))
    context = PageContext(site_code="rsj", column_path=("通知公告",), category=Category.GOVERNMENT_INFORMATION,
                          public_url=URL)
    return page, context, None, "article"


@pytest.fixture
def pool():
    pool = NormalizePool(1)
    yield pool
    pool.close()


def _worker_pids(pool: NormalizePool) -> list[int]:
    executor = pool._executor
    assert executor is not None
    return list(executor._processes)


def test_the_workers_item_and_links_are_the_crawl_processes(pool):
    item = asyncio.run(pool.call(normalize_item, *_args()))
    assert item == normalize_item(*_args())
    assert item.title == "关于做好2024年度社会保险工作的通知" and "认真组织实施" in item.body_text
    pids = _worker_pids(pool)
    assert pids and os.getpid() not in pids  # it ran elsewhere
    links = asyncio.run(pool.call(links_from_body, PAGE, "text/html; charset=gbk", URL))
    assert links == links_from_body(PAGE, "text/html; charset=gbk", URL)
    assert {link.url for link in links} == {"http://rsj.bl.gov.cn/files/1.pdf", "http://www.zj.gov.cn/"}


def test_the_normalizers_error_comes_back_as_itself(pool):
    error = pickle.loads(pickle.dumps(NormalizationError("no title", field="title", url=URL)))
    assert (error.field, error.url, str(error)) == ("title", URL, f"no title (title) at {URL}")
    with pytest.raises(NormalizationError) as raised:
        asyncio.run(pool.call(normalize_item, *_args(b"<html><body><p></p></body></html>")))
    assert raised.value.field == "title" and raised.value.url == URL


def test_a_killed_worker_costs_the_worker_not_the_page(pool, caplog):
    asyncio.run(pool.call(normalize_item, *_args()))  # the worker is up
    (pid,) = _worker_pids(pool)
    os.kill(pid, signal.SIGKILL)
    item = asyncio.run(pool.call(normalize_item, *_args()))
    assert item == normalize_item(*_args())
    again = asyncio.run(pool.call(normalize_item, *_args()))  # a new worker serves the next page
    assert again == item and pid not in _worker_pids(pool)


def test_an_argument_that_does_not_pickle_is_run_here(pool, caplog):
    here = os.getpid()
    assert asyncio.run(pool.call(lambda: os.getpid())) == here
    assert "normalized in the crawl process" in caplog.text


def test_no_pool_without_workers_one_per_count_otherwise():
    assert shared_pool(0) is None
    assert shared_pool(3) is shared_pool(3) and shared_pool(3).workers == 3
    assert default_workers() == (1 if len(os.sched_getaffinity(0)) >= 2 else 0)
