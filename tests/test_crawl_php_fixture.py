"""End to end on the real PHP fixture subsite: crawl → store → index → search → export.

The crawl runs the real ``blgw`` command in a subprocess (Scrapy's reactor runs once per
process), with a deliberately broken plugin beside the good ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import BLGW, WORKDIR

from gateway.store.models import CrawlRun, Document
from gateway.store.session import Store
from normalizers.models import Article

REPO = Path(__file__).resolve().parent.parent

PUBLIC = "http://rsj.bl.gov.cn"
# what plugins/sites/rsj.toml declares
COLUMN_PATHS = {
    "通知公告": ["政务公开", "通知公告"],
    "政策法规": ["政务公开", "政策法规"],
    "工作动态": ["政务公开", "政务信息", "工作动态"],
    "人事任免": ["政务公开", "人事任免"],
    "年度工作目标": ["政务公开", "年度工作目标和执行情况"],
}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def blgw(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*BLGW, *args], cwd=WORKDIR, env=env,
        capture_output=True, text=True, timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"blgw {' '.join(args)} exited {result.returncode}\n"
                             f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}")
    return result


@pytest.fixture(scope="module")
def crawled(php_site, tmp_path_factory):
    base_url, _data_dir, truth = php_site
    data = tmp_path_factory.mktemp("gateway-data")
    plugins = tmp_path_factory.mktemp("more-plugins")
    broken = plugins / "zjj.toml"
    broken.write_text('[site]\ncode = "zjj"\nname = "住建局"\nbase_url = "http://zjj.bl.gov.cn/"\n'
                      '[list]\nitme = "li"\n[[columns]]\nname = "通知公告"\nurl = "/tzgg/"\n', encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(data), "BLGW_PLUGIN_DIRS": str(plugins)}
    first = blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *FAST)
    second = blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *FAST)
    third = blgw(env, "crawl", "rsj", "--full", "--origin", f"rsj={base_url}", *FAST)
    store = Store(f"sqlite:///{data / 'gateway.sqlite'}")
    yield {"env": env, "truth": truth, "first": first, "second": second, "third": third, "store": store,
           "broken": broken, "base_url": base_url}
    store.dispose()


def _articles(store: Store) -> dict[str, Article]:
    with store.session() as s:
        docs = s.query(Document).filter_by(site_code="rsj").all()
        return {urlsplit(d.url).path + "?" + urlsplit(d.url).query: Article.model_validate(d.item) for d in docs}


def test_broken_plugin_is_named_and_the_others_still_run(crawled):
    err = crawled["first"].stderr
    assert str(crawled["broken"]) in err and "list.itme" in err and "did you mean 'item'" in err


def test_crawl_yields_exactly_the_generated_articles(crawled):
    truth = crawled["truth"]["articles"]
    stored = _articles(crawled["store"])
    assert sorted(stored) == sorted(a["path"] for a in truth)
    assert len(stored) == len(truth) >= 150


def test_titles_dates_index_numbers_and_attachments_equal_the_truth(crawled):
    stored = _articles(crawled["store"])
    mismatches = []
    for t in crawled["truth"]["articles"]:
        a = stored[t["path"]]
        expected_published = dt.datetime.fromisoformat(t["published_at"])
        got = {
            "title": a.title,
            "published_at": a.published_at,
            "index_number": a.disclosure.index_number,
            "document_number": a.disclosure.document_number,
            "written_date": a.disclosure.written_date.isoformat() if a.disclosure.written_date else None,
            "attachments": [(x.name, str(x.url), x.file_type) for x in a.attachments],
            "column_path": a.column_path,
        }
        want = {
            "title": t["title"],
            "published_at": expected_published,
            "index_number": t["index_number"],
            "document_number": t["document_number"],
            "written_date": t["written_date"],
            "attachments": [(x["name"], PUBLIC + x["path"], x["file_type"]) for x in t["attachments"]],
            "column_path": COLUMN_PATHS[t["column"]],
        }
        for key in want:
            if got[key] != want[key]:
                mismatches.append(f"{t['path']} {key}: got {got[key]!r}, want {want[key]!r}")
    assert not mismatches, "\n".join(mismatches[:30]) + f"\n({len(mismatches)} mismatches)"


def test_body_text_has_the_paragraphs_and_no_boilerplate(crawled):
    stored = _articles(crawled["store"])
    for t in crawled["truth"]["articles"]:
        body = stored[t["path"]].body_text
        for paragraph in t["body_paragraphs"]:
            assert paragraph in body, (t["path"], paragraph)
        for boilerplate in ("打印本页", "关闭窗口", "网站标识码", "浙ICP备", "上一篇", "当前位置"):
            assert boilerplate not in body, (t["path"], boilerplate)


def test_first_run_reports_all_new_and_later_runs_change_nothing(crawled):
    total = len(crawled["truth"]["articles"])
    columns = len({a["column"] for a in crawled["truth"]["articles"]})
    with crawled["store"].session() as s:
        first, second, third = s.query(CrawlRun).order_by(CrawlRun.id).all()
        assert (first.status, first.items_new, first.items_changed, first.items_unchanged) == (
            "finished", total, 0, 0)
        assert first.full and not second.full and third.full  # the first run of a site is full
        assert first.pages_fetched > total  # list pages and robots.txt come on top
        # incremental: each column's first list page holds only known items, so paging stops there
        assert (second.status, second.items_new, second.items_changed) == ("finished", 0, 0)
        assert 0 < second.items_unchanged < total
        assert second.requests <= columns + 2  # one list page per column, robots.txt, the home page
        assert second.requests <= 0.10 * first.requests, (second.requests, first.requests)
        # a full run lists every item again but fetches no known detail page
        assert (third.status, third.items_new, third.items_changed, third.items_unchanged) == (
            "finished", 0, 0, total)
        assert third.requests < first.requests - total + columns
    assert f"{total} new, 0 changed, 0 unchanged" in crawled["first"].stdout
    assert f"0 new, 0 changed, {total} unchanged" in crawled["third"].stdout


def test_progress_is_shown_while_crawling(crawled):
    assert re.search(r"\[rsj\] pages \d+ \| lists \d+ \| items new \d+", crawled["first"].stderr)


def _unique_word(truth: dict) -> tuple[str, dict]:
    """A two-character word in exactly one article's title and nowhere else."""
    def text(a: dict) -> str:
        return a["title"] + "".join(a["body_paragraphs"]) + "".join(x["name"] for x in a["attachments"])

    bigrams = Counter()
    for a in truth["articles"]:
        bigrams.update({text(a)[i:i + 2] for i in range(len(text(a)) - 1)})
    for a in truth["articles"]:
        for i in range(len(a["title"]) - 1):
            word = a["title"][i:i + 2]
            if re.fullmatch(r"[\u4e00-\u9fff]{2}", word) and bigrams[word] == 1:
                return word, a
    raise AssertionError("the generator wrote no title with a unique two-character word")


def test_search_for_a_two_character_word_returns_its_article_first_highlighted(crawled):
    word, article = _unique_word(crawled["truth"])
    out = blgw(crawled["env"], "search", word, "--json").stdout
    result = json.loads(out)
    assert result["total"] >= 1
    top = result["hits"][0]
    assert top["url"] == PUBLIC + article["path"]
    assert f"<mark>{word}</mark>" in top["title_html"]


def test_common_word_search_ranks_title_matches_and_highlights_snippets(crawled):
    result = json.loads(blgw(crawled["env"], "search", "社保", "--json", "--size", "5").stdout)
    assert result["total"] > 1
    assert all("<mark>社保</mark>" in h["title_html"] + h["snippet_html"] for h in result["hits"])
    text = blgw(crawled["env"], "search", "社保").stdout
    assert re.match(r"\d+ results for '社保'", text)


def test_export_writes_every_item_in_the_exchange_standard(crawled, tmp_path):
    out = tmp_path / "rsj.jsonl"
    blgw(crawled["env"], "export", "rsj", "-o", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(crawled["truth"]["articles"])
    items = [Article.model_validate_json(line) for line in lines]
    assert all(i.site_code == "rsj" and str(i.source_url).startswith(PUBLIC) for i in items)
    assert all(json.loads(line)["content_hash"] == i.content_hash for line, i in zip(lines, items, strict=True))


def test_report_command_shows_the_last_run(crawled):
    out = blgw(crawled["env"], "report", "--site", "rsj").stdout
    assert "site rsj · finished" in out and "0 new, 0 changed" in out
    data = json.loads(blgw(crawled["env"], "report", "--json").stdout)
    assert data["site_code"] == "rsj" and data["items"]["new"] == 0


def test_sites_command_lists_good_plugins_and_warns_about_the_broken_one(crawled):
    result = blgw(crawled["env"], "sites")
    assert any(line.startswith("rsj ") for line in result.stdout.splitlines())
    assert "zjj.toml" in result.stderr and "list.itme" in result.stderr
    assert blgw(crawled["env"], "plugin", "validate", check=False).returncode == 1


def test_every_link_seen_is_recorded_and_checked_for_the_dead_link_report(crawled):
    """The crawl records the links of list and detail pages; `blgw links check` checks them
    politely through the fixture's origin; the report names no broken link on a healthy site
    and names one once the server stops serving an attachment."""
    from gateway.store.models import LinkSource, LinkTarget

    truth = crawled["truth"]
    with crawled["store"].session() as s:
        sources = {row.source_url for row in s.query(LinkSource).filter_by(site_code="rsj")}
        targets = {t.url for t in s.query(LinkTarget)}
    detail = "http://rsj.bl.gov.cn" + truth["articles"][0]["path"]
    assert detail in sources  # a detail page's links
    assert any("list.php" in u for u in sources)  # a list page's links
    attachments = [a for a in truth["articles"] if a["attachments"]]
    assert attachments and any(attachments[0]["attachments"][0]["path"] in t for t in targets)

    env = crawled["env"]
    checked = blgw(env, "links", "check", "rsj", "--origin", f"rsj={crawled['base_url']}", "--delay", "0")
    assert "rsj" in checked.stdout
    report = json.loads(blgw(env, "links", "report", "rsj", "--json").stdout)
    internal_broken = [b for b in report["broken"] if b["url"].startswith("http://rsj.bl.gov.cn")]
    assert internal_broken == [], internal_broken[:3]
