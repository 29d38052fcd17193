"""Bad values on real pages: each becomes a per-field error in the run report, and the rest of
the item is kept (nothing is dropped silently). Served by a real HTTP server from files."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from conftest import BLGW, WORKDIR

from fixture_sites.servers import threaded_http_server

REPO = Path(__file__).resolve().parent.parent

PAGE = """<html><head><meta charset="utf-8"><title>{head_title}</title></head><body>
<div class="nav"><a href="list.html">首页</a> | <a href="list.html">通知公告</a></div>
{heading}
<div class="info">{date_line} 来源：区住建局</div>
{table}
<div id="zoom"><p>{body}</p><p>第二段：请各单位认真贯彻执行，确保各项工作落到实处。</p></div>
<div class="footer">主办：北仑区住房和城乡建设局 浙ICP备05011234号</div>
</body></html>"""

GOOD_TABLE = """<table class="xxgk"><tr><td>索引号</td><td>002948120/2024-00123</td><td>发文字号</td>
<td>仑建发〔2024〕5号</td></tr><tr><td>成文日期</td><td>2024年03月01日</td><td>发布机构</td><td>区住建局</td></tr></table>"""
BROKEN_TABLE = """<table class="xxgk"><tr><td>索引号</td><td>002948120/2024-00124</td><td>发文字号</td></tr>
<tr><td>成文日期</td><td>另行通知</td><td>发布机构</td><td>区住建局</td></tr></table>"""

PLUGIN = """[site]
code = "zjj"
name = "北仑区住房和城乡建设局"
base_url = "http://zjj.bl.gov.cn/"
obey_robots = false
[list]
item = "ul.news li"
[detail]
body = "#zoom"
disclosure_table = "table.xxgk"
[[columns]]
name = "通知公告"
url = "/list.html"
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _site(root: Path) -> None:
    (root / "list.html").write_text(
        '<html><head><meta charset="utf-8"></head><body><ul class="news">'
        '<li><a href="a1.html" title="关于做好住房公积金年度结算工作的通知">关于做好住房公积金年度结算工作的通知</a></li>'
        '<li><a href="a2.html" title="关于开展建筑工地安全生产大检查的通知">关于开展建筑工地安全生产大检查的通知</a></li>'
        '<li><a href="a3.html"><img src="new.gif"></a></li></ul></body></html>', encoding="utf-8")
    (root / "a1.html").write_text(PAGE.format(
        head_title="关于做好住房公积金年度结算工作的通知", heading="<h1>关于做好住房公积金年度结算工作的通知</h1>",
        date_line="发布时间：2024-03-05 09:30", table=GOOD_TABLE, body="各有关单位：现将住房公积金年度结算工作通知如下。"),
        encoding="utf-8")
    (root / "a2.html").write_text(PAGE.format(
        head_title="关于开展建筑工地安全生产大检查的通知", heading="<h1>关于开展建筑工地安全生产大检查的通知</h1>",
        date_line="发布时间：2024年13月45日", table=BROKEN_TABLE, body="各建设单位：为进一步加强建筑工地安全生产管理，决定开展大检查。"),
        encoding="utf-8")
    (root / "a3.html").write_text(PAGE.format(
        head_title="", heading="", date_line="发布时间：2024-03-07", table="",
        body="各物业服务企业：请于三月底前完成消防设施检查，并将检查情况报区住建局物业科。"), encoding="utf-8")


def test_bad_values_are_reported_per_field_and_the_items_kept(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    _site(root)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "zjj.toml").write_text(PLUGIN, encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    handler = functools.partial(QuietHandler, directory=str(root))
    with threaded_http_server(handler, label="static") as base:
        crawl = subprocess.run([*BLGW, "crawl", "zjj", "--origin", f"zjj={base}", "-q",
                                "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
                               cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=300)
    assert crawl.returncode == 1, crawl.stderr[-3000:]  # finished with errors: the field errors
    report = json.loads(subprocess.run([*BLGW, "report", "--json"], cwd=WORKDIR, env=env,
                                       capture_output=True, text=True, check=True).stdout)
    assert report["items"]["new"] == 3  # nothing dropped
    errors = {(e["url"].rsplit("/", 1)[-1], e["field"]): e["message"] for e in report["errors"]["first"]}
    assert ("a2.html", "published_at") in errors and "2024年13月45日" in errors[("a2.html", "published_at")]
    assert ("a2.html", "disclosure.written_date") in errors and "另行通知" in errors[("a2.html", "disclosure.written_date")]
    assert ("a3.html", "title") in errors
    assert not any(url == "a1.html" for url, _ in errors)
    assert "field" in report["errors"]["by_kind"]
    text = crawl.stdout
    assert "[published_at]" in text and "a2.html" in text

    out = tmp_path / "zjj.jsonl"
    subprocess.run([*BLGW, "export", "zjj", "-o", str(out)], cwd=WORKDIR, env=env,
                   check=True, capture_output=True)
    items = {json.loads(line)["source_url"].rsplit("/", 1)[-1]: json.loads(line)
             for line in out.read_text(encoding="utf-8").splitlines()}
    broken = items["a2.html"]
    assert broken["title"] == "关于开展建筑工地安全生产大检查的通知" and broken["published_at"] is None
    assert broken["disclosure"]["index_number"] == "002948120/2024-00124" and "大检查" in broken["body_text"]
    untitled = items["a3.html"]
    assert untitled["title"] and "消防设施检查" in untitled["body_text"]
    assert untitled["published_at"].startswith("2024-03-07")
    assert {e["field"] for e in untitled["field_errors"]} == {"title"}
