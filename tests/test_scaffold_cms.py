"""``blgw plugin new`` on each CMS fixture site of :mod:`fixture_sites.cms_sites`, served on loopback
as a mirror of its public host (``--base-url``): the platform, every list column (DedeCMS's
sub-columns behind its 频道封面 cover page included), the single pages as ``layout = "page"``, never
a hub as a column, the columns named as their pages name themselves; on a PHPCMS install whose
pages link to the public host, the links are mapped back to the mirror; with no column found,
nothing is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.cms_sites import GENERATORS, IDENTITIES, cms_server
from fixture_sites.servers import threaded_http_server
from plugins.declarative import load_site_file
from plugins.detect import classify_column

HUBS = {"dedecms": ["/a/zwgk/"]}  # the cover page of 政策文件 and 人事任免


def _plugin_new(home: str, public: str, out, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, "plugin", "new", home, "--base-url", public, "--out", str(out)], cwd=WORKDIR,
                          env=env or os.environ, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def scaffolded(request, tmp_path_factory):
    if shutil.which("php") is None:
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail("php-cli is missing but BLGW_REQUIRE_FIXTURES is set (.ci/run sets it)")
        pytest.skip("php-cli is not installed (apt-get install php-cli php-mbstring)")
    cms = request.param
    ident = IDENTITIES[cms]
    root = tmp_path_factory.mktemp(f"scaffold-{cms}")
    options = {"app_path": ident.origin + "/"} if cms == "phpcms" else {}  # links at the public host
    data_dir = GENERATORS[cms](root / "site", **options)
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    with cms_server(cms, data_dir) as base_url:
        result = _plugin_new(base_url + "/", ident.origin + "/", root)
    assert result.returncode == 0, result.stdout + result.stderr
    spec = load_site_file(root / f"{ident.code}.toml")
    yield {"cms": cms, "truth": truth, "spec": spec, "text": (root / f"{ident.code}.toml").read_text(encoding="utf-8")}


def test_the_platform_and_the_site(scaffolded):
    spec, site = scaffolded["spec"], scaffolded["truth"]["site"]
    assert (spec.site.platform, spec.code, spec.site.base_url) == (site["platform"], site["code"], site["origin"] + "/")


def test_every_list_column_is_found_with_its_name(scaffolded):
    found = {(c.name, c.url, c.layout) for c in scaffolded["spec"].columns}
    want = {(c["name"], c["url"], "list") for c in scaffolded["truth"]["columns"]}
    assert want <= found, scaffolded["text"]


def test_single_pages_are_page_columns(scaffolded):
    pages = {(c.name, c.url) for c in scaffolded["spec"].columns if c.layout == "page"}
    assert pages == {(p["column"], p["path"]) for p in scaffolded["truth"]["single_pages"]}, scaffolded["text"]


def test_nothing_else_and_never_a_hub(scaffolded):
    want = {c["url"] for c in scaffolded["truth"]["columns"]} | {p["path"] for p in scaffolded["truth"]["single_pages"]}
    urls = [c.url for c in scaffolded["spec"].columns]
    assert sorted(urls) == sorted(want), scaffolded["text"]
    for hub in HUBS.get(scaffolded["cms"], []):
        assert hub not in urls and hub in scaffolded["text"]  # named in a comment, as followed


def test_a_cover_pages_sub_columns_sit_under_it(scaffolded):
    paths = {c.name: c.path for c in scaffolded["spec"].columns if c.path}
    assert paths == ({"政策文件": ["政务公开", "政策文件"], "人事任免": ["政务公开", "人事任免"]}
                     if scaffolded["cms"] == "dedecms" else {}), scaffolded["text"]


def test_no_column_found_writes_nothing(tmp_path):
    class Bare(BaseHTTPRequestHandler):
        def do_GET(self):
            body = "<html><head><title>建设中</title></head><body><p>网站建设中</p></body></html>".encode()
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with threaded_http_server(Bare) as base_url:
        result = _plugin_new(base_url + "/", "http://zjj.bl.gov.cn/", tmp_path)
    assert result.returncode != 0 and "no column found" in result.stderr
    assert not list(tmp_path.glob("*.toml"))


def test_navigation_items_are_not_list_entries():
    nav = "".join(f'<li><a href="/col/col{n}/index.html">栏目{n}号</a></li>' for n in range(10))
    html = f'<html><body><ul class="nav">{nav}</ul><div class="content"><p>{"本局主要职责是拟订规划。" * 4}</p>' \
           f'<p>{"内设办公室、业务科。" * 3}</p></div></body></html>'
    found = classify_column("http://x.bl.gov.cn/col/col9/index.html", html)
    assert (found.kind, found.entries) == ("page", 0)


def test_a_column_is_named_as_its_page_names_itself():
    rows = "".join(f'<li><a href="/art/2024/1/{n}/art_1229_{n}.html">区局召开第{n}次工作会议</a><span>2024-01-0{n}</span></li>'
                   for n in range(1, 6))
    html = ('<html><body><ul class="nav"><li><a href="/col/col1229/index.html">动态</a></li></ul>'
            '<div class="bt-position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col1229/index.html">工作动态</a></div>'
            f'<ul class="list">{rows}</ul></body></html>')
    found = classify_column("http://x.bl.gov.cn/col/col1229/index.html", html)
    assert (found.kind, found.name, found.entries) == ("list", "工作动态", 5)
