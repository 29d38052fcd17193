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
