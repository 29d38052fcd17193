"""The portal pages in a real browser (Playwright + the system Chromium) against uvicorn on a
free loopback port: search, filter by site, page through results, suggestions, the navigation
map, and a screenshot."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from test_api import N_JYJ, N_RSJ, populate

CHROMIUM = Path("/usr/bin/chromium")


def _require_chromium() -> None:
    if CHROMIUM.exists() or shutil.which("chromium"):
        return
    if os.environ.get("BLGW_REQUIRE_FIXTURES"):
        pytest.fail("/usr/bin/chromium is missing but BLGW_REQUIRE_FIXTURES is set")
    pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium); bootstrap.sh installs it")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_chromium()
    import uvicorn

    from gateway.api import create_app
    from gateway.settings import GatewaySettings
    from gateway.store.session import Store

    tmp = tmp_path_factory.mktemp("portal")
    store = Store(f"sqlite:///{tmp / 'store.sqlite'}")
    store.migrate()
    index_url = f"sqlite:///{tmp / 'index.sqlite'}"
    populate(store, index_url)
    _ingest_logs(store, tmp)
    store.dispose()
    app = create_app(GatewaySettings(data_dir=tmp, database_url=store.url, index_url=index_url,
                                     plugin_dirs=[], load_plugins=[]))
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


def _ingest_logs(store, tmp: Path) -> None:
    """Two days of rsj's access logs (the generated scenario: humans, bots, 404s, a scan, a flood)."""
    import datetime as dt

    from fixture_sites.access_logs import scenario, write_combined
    from gateway.ops.accesslog.ingest import LogSite, ingest_paths

    log = tmp / "access.log"
    write_combined(log, scenario(3, dt.date(2026, 11, 20), 3000, "http://rsj.bl.gov.cn/"), xff=True)
    ingest_paths(store, LogSite("rsj", "http://rsj.bl.gov.cn/"), [log], key=b"portal-test")


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def test_search_filter_page_and_navigate(server, page, tmp_path):
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    logo = page.locator("header a.logo")
    assert logo.get_attribute("href") == "http://www.bl.gov.cn/"
    assert "北仑区政府网站群" in logo.inner_text()

    # search from the keyboard
    page.get_by_label("搜索关键词").fill("社保")
    page.get_by_label("搜索关键词").press("Enter")
    page.wait_for_load_state()
    assert f"找到 {N_RSJ + N_JYJ} 条结果" in page.locator(".summary").inner_text()
    assert page.locator("li.hit").count() == 10
    assert page.locator("li.hit mark").first.inner_text() == "社保"

    # filter by site with the select and the 搜索 button
    page.get_by_label("站点").select_option("jyj")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_load_state()
    assert f"找到 {N_JYJ} 条结果" in page.locator(".summary").inner_text()
    assert set(page.locator("li.hit .site").all_inner_texts()) == {"北仑区教育局"}

    # back to every site, then page through the results
    page.get_by_label("站点").select_option("")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_load_state()
    titles = page.locator("li.hit h3").all_inner_texts()
    pages = 1
    while page.get_by_role("link", name="下一页").count():
        page.get_by_role("link", name="下一页").click()
        page.wait_for_load_state()
        titles += page.locator("li.hit h3").all_inner_texts()
        pages += 1
    assert pages == 3
    assert len(titles) == len(set(titles)) == N_RSJ + N_JYJ
    assert page.get_by_role("link", name="上一页").count() == 1

    # the navigation map
    page.get_by_role("link", name="网站导航").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "网站导航"
    assert page.locator("#site-rsj h2").inner_text().startswith("北仑区人力资源和社会保障局")
    assert page.locator("#site-jyj a").count() >= 2

    shot = tmp_path / "navigation.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_suggestions_and_facets(server, page):
    page.goto(server + "/")
    box = page.get_by_label("搜索关键词")
    box.press_sequentially("jyj社保", delay=20)
    first = page.locator("#suggestions a").first
    first.wait_for(timeout=5000)
    assert first.inner_text().startswith("jyj社保")
    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent").startswith("jyj社保")

    page.goto(server + "/?q=%E7%A4%BE%E4%BF%9D")
    facet = page.locator("aside.facets a", has_text="北仑区教育局")
    facet.click()
    page.wait_for_load_state()
    assert f"找到 {N_JYJ} 条结果" in page.locator(".summary").inner_text()


def test_xss_title_is_text_in_the_browser(server, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/?q=%E5%8C%BB%E4%BF%9D")  # 医保
    assert "<script>" in page.locator("li.hit h3").inner_text()
    page.goto(server + "/?q=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    page.get_by_label("搜索关键词").press_sequentially("医保<img src=x onerror=alert(2)>", delay=5)
    page.wait_for_timeout(500)
    assert dialogs == []


def test_the_site_health_pages_render_with_their_chart(server, page, tmp_path):
    """The district roll-up (检查指标) draws its chart as inline SVG (no CDN, no script), links
    each site's card; the card lists every indicator with its status and evidence."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server}/site-health")
    assert page.get_by_role("heading", level=1).inner_text() == "网站健康度（检查指标）"
    chart = page.locator("figure.chart svg")
    assert chart.is_visible() and chart.bounding_box()["width"] > 300
    assert page.locator("figure.chart rect").count() >= 3
    rows = page.locator("table.health-rollup tbody tr")
    assert rows.count() == 2  # rsj and jyj, the sites in the store
    shot = tmp_path / "site-health.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.get_by_role("link", name="北仑区人力资源和社会保障局").first.click()
    page.wait_for_url(f"{server}/site-health/rsj")
    card = page.locator("table.health-card")
    assert "空白栏目" in card.inner_text() and "站点无法访问" in card.inner_text()
    assert card.locator("tbody tr").count() == 10
    page.screenshot(path=str(tmp_path / "site-health-rsj.png"), full_page=True)
    if os.environ.get("BLGW_SCREENSHOTS"):  # keep the screenshots (for a note or a review)
        for name in ("site-health.png", "site-health-rsj.png"):
            shutil.copy(tmp_path / name, Path(os.environ["BLGW_SCREENSHOTS"]) / name)
    assert all(u.startswith(server) for u in requests)  # nothing from outside the portal


def test_the_access_log_pages_render_with_their_charts(server, page, tmp_path):
    """The district's and a site's access-log pages (访问统计) draw their charts as inline SVG with
    nothing fetched from outside the portal."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server}/logs?start=2026-11-20&end=2026-11-21")
    assert page.get_by_role("heading", level=1).inner_text().startswith("访问统计")
    assert page.locator("figure.chart svg").first.is_visible()
    page.screenshot(path=str(tmp_path / "logs.png"), full_page=True)
    page.goto(f"{server}/logs/rsj?start=2026-11-20&end=2026-11-21")
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 2 and charts.first.bounding_box()["width"] > 300
    assert "Baiduspider" in page.content()
    page.screenshot(path=str(tmp_path / "logs-rsj.png"), full_page=True)
    if os.environ.get("BLGW_SCREENSHOTS"):
        for name in ("logs.png", "logs-rsj.png"):
            shutil.copy(tmp_path / name, Path(os.environ["BLGW_SCREENSHOTS"]) / name)
    assert all(u.startswith(server) for u in requests)
