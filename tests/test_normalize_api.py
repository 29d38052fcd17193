"""The one-call normalizer: bytes + URL (+ hints) → an item of the right kind, no Scrapy, store or network."""

from pathlib import Path

import pytest

from normalizers import normalize
from normalizers.models import Article, ArticleKind, Category, Letter, Organisation, ServiceGuide
from normalizers.page import ExtractionHints

PAGES = Path(__file__).resolve().parent / "pages"


def test_article_with_column_gets_site_code_path_and_kind():
    item = normalize((PAGES / "rsj_show_102.html").read_bytes(), "http://rsj.bl.gov.cn/show.php?id=102",
                     column="通知公告")
    assert isinstance(item, Article)
    assert (item.site_code, item.column_path, item.category, item.kind) == (
        "rsj", ["政务公开", "通知公告"], Category.GOVERNMENT_INFORMATION, ArticleKind.NOTICE)
    assert item.title == "关于做好2020年度社会保险缴费基数调整工作的通知"
    assert item.summary and item.summary in " ".join(item.body_text.split())


@pytest.mark.parametrize("name,model,category", [
    ("guide_zjzwfw_tables.html", ServiceGuide, Category.ONLINE_SERVICES),
    ("letter_mailbox_blocks.html", Letter, Category.INTERACTION),
    ("org_leaders_photos.html", Organisation, Category.GOVERNMENT_INFORMATION),
])
def test_the_kind_of_page_is_detected_without_a_column(name, model, category):
    item = normalize((PAGES / "items" / name).read_bytes(), "http://zjj.bl.gov.cn/x/1.html")
    assert isinstance(item, model) and item.category == category and item.site_code == "zjj"


def test_mirror_url_and_hints():
    body = (PAGES / "rsj_show_102.html").read_bytes()
    item = normalize(body, "http://127.0.0.1:8080/show.php?id=102", ExtractionHints(title="h1", body="#zoom"),
                     public_url="http://rsj.bl.gov.cn/show.php?id=102", column="通知公告")
    assert str(item.source_url) == "http://rsj.bl.gov.cn/show.php?id=102"
    assert all(str(a.url).startswith("http://rsj.bl.gov.cn/") for a in item.attachments)


def test_images_and_date_precision():
    page = """<html><head><meta charset="utf-8"><title>图片新闻</title></head><body>
    <h1>区领导调研春晓街道安全生产工作</h1><div class="info">发布时间：2024年5月6日 15:20</div>
    <div id="zoom"><p><img src="/images/spacer.gif" width="1" height="1"></p>
    <p><img src="/uploadfile/2024/0506/photo1.jpg" alt="调研现场"></p>
    <p>5月6日，区领导一行来到春晓街道，实地调研安全生产工作，详细了解企业安全管理情况。</p>
    <p><img src="http://127.0.0.1:8080/uploadfile/2024/0506/photo2.jpg"></p></div></body></html>"""
    item = normalize(page.encode("utf-8"), "http://127.0.0.1:8080/show.php?id=9",
                     public_url="http://ajj.bl.gov.cn/show.php?id=9", column="工作动态")
    assert [(str(i.url), i.alt) for i in item.images] == [
        ("http://ajj.bl.gov.cn/uploadfile/2024/0506/photo1.jpg", "调研现场"),
        ("http://ajj.bl.gov.cn/uploadfile/2024/0506/photo2.jpg", None)]
    assert item.published_precision == "minute" and item.published_at.hour == 15
    assert item.kind == ArticleKind.NEWS
