"""Plugins are untrusted input and fail alone, early (docs/security.md): validation refuses URLs
that are not the site's own, naming file, line and field; a plugin module that raises anything at
import (``sys.exit()`` too) or whose ``register_sites`` raises is named while the others load; a
regular expression that backtracks for ever costs its time budget on each page while the other
site in the same crawl finishes as if alone."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time

import pytest
from conftest import BLGW, WORKDIR

from plugins.declarative import PluginError, parse_site_toml
from plugins.manager import build_registry

SITE = """\
[site]
code = "{code}"
name = "测试站点 {code}"
base_url = "http://{code}.bl.gov.cn/"
{site_extra}
[list]
item = "ul li"

[[columns]]
name = "通知公告"
url = "{url}"
"""


def toml(code: str = "zz", url: str = "list.php?catid=1", site_extra: str = "") -> str:
    return SITE.format(code=code, url=url, site_extra=site_extra)


@pytest.mark.parametrize("url, field, line, says", [
    ("javascript:alert(1)", "columns[0].url", 11, "path relative to base_url or an http(s) URL"),
    ("ftp://zz.bl.gov.cn/list", "columns[0].url", 11, "path relative to base_url or an http(s) URL"),
    ("file:///etc/passwd", "columns[0].url", 11, "path relative to base_url or an http(s) URL"),
    ("http://10.0.0.5/admin/", "columns[0].url", 11, "outside the site's origins"),
    ("http://zz.bl.gov.cn:8081/list.php", "columns[0].url", 11, "outside the site's origins"),
    ("http://zz.bl.gov.cn@127.0.0.1/list", "columns[0].url", 11, "credentials in the URL"),
])
def test_validation_refuses_column_urls_out_of_the_site(url, field, line, says):
    with pytest.raises(PluginError) as caught:
        parse_site_toml(toml(url=url), "plugins.d/zz.toml")
    (problem,) = caught.value.problems
    assert (problem.source, problem.line, problem.field) == ("plugins.d/zz.toml", line, field)
    assert says in problem.message


def test_validation_refuses_start_urls_out_of_the_site():
    text = toml(site_extra='start_urls = ["/", "file:///etc/passwd", "http://127.0.0.1:9200/"]\n')
    with pytest.raises(PluginError) as caught:
        parse_site_toml(text, "zz.toml")
    fields = {(p.field, p.line) for p in caught.value.problems}
    assert ("site.start_urls[1]", 5) in fields


def test_extra_origins_are_exact_and_allow_what_they_name():
    text = toml(url="https://cdn.zz.gov.cn/list.html", site_extra='allowed_origins = ["https://cdn.zz.gov.cn"]\n')
    spec = parse_site_toml(text, "zz.toml")
    assert spec.scope().allows("https://cdn.zz.gov.cn/file.pdf")
    assert not spec.scope().allows("https://cdn.zz.gov.cn:8443/file.pdf")
    with pytest.raises(PluginError, match="allowed_origins"):
        parse_site_toml(toml(site_extra='allowed_origins = ["https://cdn.zz.gov.cn/files/"]\n'), "zz.toml")


def test_a_javascript_column_no_longer_breaks_the_navigation_map(tmp_path):
    (tmp_path / "bad.toml").write_text(toml("bad", url="javascript:void(0)"), encoding="utf-8")
    (tmp_path / "good.toml").write_text(toml("good"), encoding="utf-8")
    registry = build_registry([tmp_path], include_builtin=False)
    assert sorted(registry.sites) == ["good"]
    assert "bad.toml:11: field 'columns[0].url'" in str(registry.errors[0])


def test_a_plugin_that_exits_or_raises_at_import_is_named_and_the_others_load(tmp_path):
    (tmp_path / "good.toml").write_text(toml("good"), encoding="utf-8")
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n", encoding="utf-8")
    (tmp_path / "interrupts.py").write_text("raise SystemExit('bye')\n", encoding="utf-8")
    (tmp_path / "registers_badly.py").write_text(textwrap.dedent("""
        from plugins import hookimpl

        @hookimpl
        def register_sites(register):
            raise RuntimeError("no sites today")
    """), encoding="utf-8")
    registry = build_registry([tmp_path], include_builtin=False)
    assert sorted(registry.sites) == ["good"]
    text = "\n".join(str(e) for e in registry.errors)
    assert "exits.py" in text and "SystemExit(3)" in text
    assert "interrupts.py" in text and "SystemExit('bye')" in text
    assert "register_sites failed: RuntimeError('no sites today')" in text
    # and the command line still works with such a folder
    env = {**os.environ, "BLGW_PLUGIN_DIRS": str(tmp_path), "BLGW_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([*BLGW, "sites", "--json"], cwd=WORKDIR, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "good" in {s["code"] for s in json.loads(out.stdout)}
    assert "plugin not loaded" in out.stderr and "exits.py" in out.stderr


# --- the time budget of regular expressions ---------------------------------------------------

SLOW = """\
[site]
code = "slow"
name = "回溯站"
base_url = "http://slow.bl.gov.cn/"
obey_robots = false

[list]
item = "//ul/li[re:test(., '^(a+)+$')]"

[[columns]]
name = "通知公告"
url = "/list.html"

[[columns]]
name = "工作动态"
url = "/list2.html"
"""


@pytest.fixture
def slow_site():
    from http.server import BaseHTTPRequestHandler

    from fixture_sites.servers import threaded_http_server

    page = ("<html><body><ul>" + "".join(f"<li><a href='/a/{i}.html'>{'a' * 32}b</a></li>" for i in range(3))
            + "</ul></body></html>").encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    with threaded_http_server(Handler, label="slow") as url:
        yield url


def test_a_backtracking_selector_costs_its_budget_and_the_other_site_finishes(slow_site, tmp_path):
    from fixture_sites.legacy_sites import generate_trs, trs_server

    plugins = tmp_path / "plugins.d"
    plugins.mkdir()
    (plugins / "slow.toml").write_text(SLOW, encoding="utf-8")
    data = generate_trs(tmp_path / "fgj", seed=3, n_articles=20)
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k.startswith("BLGW_TEST")}
    env.update(BLGW_DATA_DIR=str(tmp_path / "data"), BLGW_PLUGIN_DIRS=str(plugins), BLGW_SELECTOR_BUDGET_SECONDS="1")
    fast = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    with trs_server(data) as trs:
        started = time.monotonic()
        both = subprocess.run([*BLGW, "crawl", "fgj", "slow", "--origin", f"fgj={trs}", "--origin", f"slow={slow_site}",
                               *fast], cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=600)
        took = time.monotonic() - started
    # (a re.search of '^(a+)+$' over 32 a's and a b takes hours; each list page costs its 1 s budget)
    assert took < 60, took
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "gateway.sqlite") as con:
        runs = {code: (status, new) for code, status, new in con.execute(
            "SELECT site_code, status, items_new FROM crawl_runs")}
        errors = con.execute("SELECT e.url, e.kind, e.message FROM crawl_errors e JOIN crawl_runs r ON r.id = e.run_id "
                             "WHERE r.site_code = 'slow'").fetchall()
    assert runs["fgj"] == ("finished", len(truth["articles"])), (runs, both.stderr[-3000:])
    assert {(url.rsplit("/", 1)[-1], kind) for url, kind, _ in errors} == {("list.html", "extraction"),
                                                                            ("list2.html", "extraction")}
    assert all("BLGW_SELECTOR_BUDGET_SECONDS" in message for _, _, message in errors)
