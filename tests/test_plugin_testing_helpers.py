"""The pytest fixtures integrators use to test a plugin on saved pages (plugins/testing.py).

The saved pages are from the PHP fixture subsite (seed 2024); the expected values are the
generator's ground truth for them.
"""

import datetime as dt
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "pages"


def test_plugin_list_reads_entries_and_next_page(plugin_list):
    page = plugin_list("rsj", "通知公告", PAGES / "rsj_list_1.html", "http://rsj.bl.gov.cn/list.php?catid=1")
    assert len(page.entries) == 15
    assert all(e.url.startswith("http://rsj.bl.gov.cn/show.php?id=") for e in page.entries)
    assert all(e.title and e.date for e in page.entries)
    assert page.next_pages == ["http://rsj.bl.gov.cn/list.php?catid=1&page=2"]


def test_plugin_page_normalizes_a_saved_detail_page_like_a_crawl(plugin_page):
    article = plugin_page("rsj", "通知公告", PAGES / "rsj_show_102.html", "http://rsj.bl.gov.cn/show.php?id=102")
    assert article.title == "关于做好2020年度社会保险缴费基数调整工作的通知"
    assert article.published_at.date() == dt.date(2020, 3, 3)
    assert article.disclosure.index_number == "20200312-763331"
    assert article.disclosure.document_number == "仑人社〔2020〕2号"
    assert article.disclosure.written_date == dt.date(2020, 2, 25)
    assert [(a.name, str(a.url)) for a in article.attachments] == [
        ("附件1：补贴申请表.doc", "http://rsj.bl.gov.cn/uploadfile/2020/0303/20200303173551846.doc")]
    assert article.column_path == ["政务公开", "通知公告"]
    assert "打印本页" not in article.body_text


def test_site_registry_fixture_has_the_builtin_site(site_registry):
    assert "rsj" in {site.code for site in site_registry}
    assert site_registry.get("rsj").site.platform == "php"
