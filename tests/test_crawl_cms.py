"""The four CMS presets end to end: on each fixture site of :mod:`fixture_sites.cms_sites` (PbootCMS,
DedeCMS, PHPCMS v9, EmpireCMS served by ``php -S`` as the CMS serves them), a plugin of at most ten
lines that names only the site and its columns, crawled twice with the real ``blgw crawl`` through
``--origin`` (public URL → loopback), yields every article with its title, date and body exactly as
the site's truth says, stored at the URL the site serves, and the incremental second run asks for at
most 5 % of the first run's requests.

Multi-page articles (DedeCMS ``73_2.html``, PHPCMS ``&page=2``, EmpireCMS ``123_2.html``) are whole
only where the plugin format has ``[detail] pages``; before it, their bodies are not asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.cms_sites import GENERATORS, IDENTITIES, cms_server, read_counters
from gateway.store.models import CrawlRun, Document
from gateway.store.session import Store
from normalizers.models import Article

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
CMSES = sorted(GENERATORS)


def plugin_text(truth: dict) -> str:
    """The integrator's plugin: the site's identity, platform and schedule, and its list columns."""
    site = truth["site"]
    columns = ",\n           ".join(f'{{ name = "{c["name"]}", url = "{c["url"]}" }}' for c in truth["columns"])
    return (f"columns = [{columns}]\n[site]\ncode = \"{site['code']}\"\nname = \"{site['name']}\"\n"
            f"base_url = \"{site['origin']}/\"\nplatform = \"{site['platform']}\"\nschedule = \"every 12h\"\n")


def _crawl(env: dict, code: str, base_url: str) -> subprocess.CompletedProcess:
    out = subprocess.run([*BLGW, "crawl", code, "--origin", f"{code}={base_url}", *FAST],
                         cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module", params=CMSES)
def crawled(request, tmp_path_factory):
    if shutil.which("php") is None:
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail("php-cli is missing but BLGW_REQUIRE_FIXTURES is set (.ci/run sets it)")
        pytest.skip("php-cli is not installed (apt-get install php-cli php-mbstring)")
    cms = request.param
    code = IDENTITIES[cms].code
    root = tmp_path_factory.mktemp(cms)
    data_dir = GENERATORS[cms](root / "site")
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    plugins = root / "plugins"
    plugins.mkdir()
    plugin = plugin_text(truth)
    (plugins / f"{code}.toml").write_text(plugin, encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(root / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    with cms_server(cms, data_dir) as base_url:
        _crawl(env, code, base_url)
        _crawl(env, code, base_url)
    store = Store(f"sqlite:///{root / 'data' / 'gateway.sqlite'}")
    with store.session() as s:
        runs = s.query(CrawlRun).order_by(CrawlRun.id).all()
        docs = {d.url: Article.model_validate(d.item) for d in s.query(Document).filter_by(site_code=code)}
        s.expunge_all()
    store.dispose()
    yield {"cms": cms, "truth": truth, "plugin": plugin, "runs": runs, "docs": docs, "data_dir": data_dir, "env": env}


def test_the_plugin_is_ten_lines_at_most(crawled):
    assert len(crawled["plugin"].splitlines()) <= 10, crawled["plugin"]


def test_every_article_is_stored_at_the_url_the_site_serves(crawled):
    origin = crawled["truth"]["site"]["origin"]
    want = sorted(origin + a["path"] for a in crawled["truth"]["articles"])
    assert sorted(crawled["docs"]) == want
    assert all(str(a.source_url) == url for url, a in crawled["docs"].items())
    if crawled["cms"] == "pbootcms":  # the route is a bare query key: never written as key=
        assert all("=" not in url for url in crawled["docs"])


def test_titles_and_dates_equal_the_truth(crawled):
    origin = crawled["truth"]["site"]["origin"]
    mismatches = []
    for t in crawled["truth"]["articles"]:
        a = crawled["docs"][origin + t["path"]]
        got = (a.title, a.published_at)
        want = (t["title"], dt.datetime.fromisoformat(t["published_at"]))
        if got != want:
            mismatches.append(f"{t['path']}: got {got}, want {want}")
    assert not mismatches, "\n".join(mismatches)


def test_bodies_equal_the_truth(crawled):
    origin = crawled["truth"]["site"]["origin"]
    mismatches = []
    for t in crawled["truth"]["articles"]:
        body = crawled["docs"][origin + t["path"]].body_text
        if body.split("\n\n") != t["body_blocks"]:
            mismatches.append(f"{t['path']} ({len(t['parts'])} pages): got {body[-120:]!r}, "
                              f"want {t['body_blocks'][-1]!r}")
    assert not mismatches, "\n".join(mismatches)


def test_multi_page_articles_are_one_item_with_every_page(crawled):
    multi = [t for t in crawled["truth"]["articles"] if len(t["parts"]) > 1]
    if crawled["cms"] == "pbootcms":
        assert not multi  # PbootCMS has no page breaks in articles
        return
    assert len(multi) >= 5
    origin = crawled["truth"]["site"]["origin"]
    for t in multi:
        assert crawled["docs"][origin + t["path"]].body_text.split("\n\n") == t["body_blocks"], t["path"]
        for part in t["parts"][1:]:
            assert origin + part not in crawled["docs"]


def test_the_incremental_run_asks_for_five_percent_of_the_first(crawled):
    first, second = crawled["runs"]
    total = len(crawled["truth"]["articles"])
    assert (first.items_new, second.items_new, second.items_changed) == (total, 0, 0)
    assert second.requests <= 0.05 * first.requests, (second.requests, first.requests)


def test_the_crawl_never_hits_the_view_counters(crawled):
    assert read_counters(crawled["data_dir"]) == {"count": {}}



def test_a_phpcms_install_linking_its_public_host_crawls_whole(tmp_path):
    # PHPCMS prints every link with its configured app_path: the public host, also when served elsewhere
    if shutil.which("php") is None:
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail("php-cli is missing but BLGW_REQUIRE_FIXTURES is set (.ci/run sets it)")
        pytest.skip("php-cli is not installed (apt-get install php-cli php-mbstring)")
    data_dir = GENERATORS["phpcms"](tmp_path / "site", app_path=IDENTITIES["phpcms"].origin + "/")
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "fl.toml").write_text(plugin_text(truth), encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    with cms_server("phpcms", data_dir) as base_url:
        _crawl(env, "fl", base_url)
    store = Store(f"sqlite:///{tmp_path / 'data' / 'gateway.sqlite'}")
    with store.session() as s:
        assert s.query(Document).filter_by(site_code="fl").count() == len(truth["articles"])
    store.dispose()


def test_site_health_on_the_crawled_site_matches_its_truth(crawled):
    """``blgw health`` over what the crawl stored: each column's newest item from the site's
    truth against its window, on a day 20 days after the site's newest article (so 动态 columns
    are stale, 通知公告/政策文件 ones are not unless their newest is old), and no blank column."""
    import datetime as dt

    from gateway.ops.health import SHANGHAI, Thresholds, column_window

    truth = crawled["truth"]
    dates = {c["name"]: max(dt.datetime.fromisoformat(a["published_at"]) for a in truth["articles"]
                            if a["column"] == c["name"]) for c in truth["columns"]}
    at = max(dates.values()) + dt.timedelta(days=20)
    at = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)
    stale = set()
    for name, newest in dates.items():
        newest = newest if newest.tzinfo else newest.replace(tzinfo=SHANGHAI)
        if (at - newest).total_seconds() / 86400 > column_window(name, [], Thresholds())[1]:
            stale.add(name)
    out = subprocess.run([*BLGW, "health", truth["site"]["code"], "--json", "--at", at.isoformat()], cwd=WORKDIR,
                         env=crawled["env"], capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    card = json.loads(out.stdout)[0]
    by_key = {i["key"]: i for i in card["indicators"]}
    assert {e.split(" (")[0] for e in by_key["stale_columns"]["evidence"]} == stale
    assert by_key["blank_columns"]["value"] == 0
    assert by_key["home_update"]["value"] == 20.0 and by_key["home_update"]["status"] == "veto"


def test_the_access_logs_join_finds_the_never_crawled_pages_and_the_unvisited_columns(crawled, tmp_path):
    """Logs of the crawled site, written as its Apache/nginx would: every column but the last
    and its articles viewed (some paths in GBK escapes, as old servers log them), planted
    pages the plugin does not reach viewed, and the last column fetched by bots only. The join
    with the store names exactly the planted pages and the last column."""
    import datetime as dt

    from gateway.ops.accesslog.ingest import LogSite, ingest_paths
    from gateway.ops.accesslog.report import site_traffic
    from normalizers.urls import canonicalize_url
    from plugins.declarative import parse_site_toml

    truth = crawled["truth"]
    spec = parse_site_toml(crawled["plugin"], source="plugin.toml")
    origin = truth["site"]["origin"]
    browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    bot = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
    planted = ["/about/jgzn.html", "/index.php?s=/zt/2026/", "/%B9%D8%D3%DA%CE%D2%C3%C7.html"]  # the last: 关于我们, GBK
    lines = []

    def hit(n: int, target: str, agent: str = browser) -> None:
        lines.append(f'10.1.{n % 7}.{n % 250} - - [01/Dec/2026:{9 + n // 3600 % 12:02d}:{n // 60 % 60:02d}:'
                     f'{n % 60:02d} +0800] "GET {target} HTTP/1.1" 200 4096 "-" "{agent}"\n')

    columns = truth["columns"]
    viewed = [a for a in truth["articles"] if a["column"] != columns[-1]["name"]]  # nothing of the last column
    for n, article in enumerate(viewed):
        hit(n, article["path"])
    for n, column in enumerate(columns[:-1]):
        hit(1000 + n, column["url"])
    for n, path in enumerate(planted):
        hit(2000 + n, path)
        hit(2100 + n, path)
    hit(3000, columns[-1]["url"], bot)  # a bot's visit is no visit
    log = tmp_path / "access.log"
    log.write_text("".join(lines), encoding="utf-8")
    store = Store(f"sqlite:///{Path(crawled['env']['BLGW_DATA_DIR']) / 'gateway.sqlite'}")
    try:
        summary = ingest_paths(store, LogSite(spec.code, spec.site.base_url), [log], key=b"k")
        assert summary.malformed == 0
        with store.session() as session:
            report = site_traffic(session, spec, dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    finally:
        store.dispose()
    want = {canonicalize_url(origin + p.replace("%B9%D8%D3%DA%CE%D2%C3%C7", "关于我们")) for p in planted}
    assert {row["url"] for row in report["never_crawled"]} == want
    assert [c["name"] for c in report["unvisited_columns"]] == [columns[-1]["name"]]
    assert report["totals"]["pageviews"] == len(viewed) + len(columns) - 1 + 2 * len(planted)
    assert report["old_content"]["pageviews_documents"] == len(viewed)  # each matched its document
