"""Nothing lost silently (issue 14), through the normalizers' entry point: text after an element
libxml2 misreads stays in the body, dates that cannot be right are reported, pathological pages
are read within bounds and say so, lossy decoding is counted."""

from __future__ import annotations

import datetime as dt

import pytest

from normalizers import normalize_article
from normalizers.models import SHANGHAI, Category
from normalizers.page import PageContext, RawPage

URL = "http://rsj.bl.gov.cn/show.php?id=9"
FETCHED = dt.datetime(2024, 2, 1, 8, 0, tzinfo=SHANGHAI)
TITLE = "关于开展2024年度用人单位劳动保障书面审查工作的通知"
FIRST = "各用人单位：根据有关规定，现将年度书面审查工作有关事项通知如下。"
LAST = "请各单位认真贯彻执行，确保各项工作落到实处。"


def page(body: str, head: str = "", *, charset: str = "utf-8") -> bytes:
    return (f"<html><head><meta charset='{charset}'><title>{TITLE}-人社局</title>{head}</head>"
            f"<body><h1>{TITLE}</h1>{body}</body></html>").encode(charset)


def normalize(body: bytes, *, content_type: str | None = None, fetched_at: dt.datetime = FETCHED, **context):
    raw = RawPage(url=URL, body=body, content_type=content_type, fetched_at=fetched_at)
    ctx = PageContext(site_code="rsj", column_path=("政务公开", "通知公告"), category=Category.GOVERNMENT_INFORMATION,
                      public_url=URL, **context)
    return normalize_article(raw, ctx)


# --------------------------------------------------------------------- no element truncates

@pytest.mark.parametrize("element", ["<embed src=flash/banner.swf>", "<wbr>", "<source src=a.mp4>",
                                     "<track src=a.vtt>", "<keygen>", "<bgsound src=a.mid>"])
def test_the_body_goes_on_after_a_void_element_libxml2_does_not_know(element):
    art = normalize(page(f"<div id='zoom'><p>{FIRST}</p>{element}<p>{LAST}</p></div>"))
    assert FIRST in art.body_text and LAST in art.body_text
    assert LAST in art.body_html


def test_the_body_goes_on_after_a_stray_end_of_document():
    # a pasted document inside the body: its </body></html> end nothing (libxml2 stopped there)
    art = normalize(page(f"<div id='zoom'><p>{FIRST}</p></body></html><p>{LAST}</p></div>"))
    assert FIRST in art.body_text and LAST in art.body_text
