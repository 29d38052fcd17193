"""Nothing lost silently (issue 14), through the normalizers' entry point: text after an element
libxml2 misreads stays in the body, dates that cannot be right are reported, pathological pages
are read within bounds and say so, lossy decoding is counted."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import lxml.html
import pytest

from normalizers import normalize_article
from normalizers.api import normalize as normalize_page
from normalizers.extract import MAX_DEPTH, MAX_ELEMENTS, MAX_PAGE_CHARS, flatten_deep_markup, truncate_tree
from normalizers.models import SHANGHAI, SITE_CODE_PATTERN, Category, FieldError
from normalizers.page import PageContext, RawPage

REPO = Path(__file__).resolve().parent.parent
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


# ------------------------------------------------------------------- a one-letter host label

@pytest.mark.parametrize("host,code", [("j.example.com", "j"), ("x.bl.gov.cn", "x"), ("9.example.com", "s9"),
                                       ("a" * 63 + ".example.com", "a" * 31)])
def test_normalize_takes_any_valid_first_host_label_as_the_site_code(host, code):
    item = normalize_page(page(f"<div id='zoom'><p>{FIRST}</p></div>"), f"http://{host}/show.php?id=9")
    assert item.site_code == code and item.title == TITLE


def test_a_one_letter_site_code_is_valid_in_the_standard_and_its_schema():
    schema = json.loads((REPO / "schema" / "article.schema.json").read_text(encoding="utf-8"))
    assert re.match(schema["properties"]["site_code"]["pattern"], "j")
    assert re.match(SITE_CODE_PATTERN, "j") and not re.match(SITE_CODE_PATTERN, "9")


# ------------------------------------------------------------- undecodable bytes are counted

def test_undecodable_bytes_are_a_warning_naming_how_many_characters_were_replaced():
    body = page(f"<div id='zoom'><p>{FIRST}</p><p>{LAST}</p></div>", charset="gbk")
    at = body.index(LAST.encode("gbk"))
    art = normalize(body[:at] + b"\xff\xff\xff" + body[at:])
    warnings = [e for e in art.field_errors if e.severity == "warning"]
    assert [(e.field, e.severity) for e in warnings] == [("encoding", "warning")]
    assert "3 character(s)" in warnings[0].message and "\ufffd" in (warnings[0].raw or "")
    assert LAST in art.body_text


def test_a_cleanly_decoded_page_has_no_warning_and_old_errors_read_as_errors():
    art = normalize(page(f"<div id='zoom'><p>{FIRST}</p></div>", charset="gbk"))
    assert art.field_errors == []
    assert FieldError.model_validate({"field": "title", "message": "m"}).severity == "error"


def test_other_item_kinds_carry_the_warning_too():
    body = ("<html><head><meta charset='utf-8'><title>信件</title></head><body><table>"
            "<tr><td>信件标题</td><td>关于小区停车难的问题</td></tr><tr><td>来信时间</td><td>2024-03-01</td></tr>"
            "<tr><td>来信内容</td><td>小区停车位不足，希望解决。</td></tr><tr><td>回复内容</td><td>已转交处理。</td></tr>"
            "</table></body></html>").encode() + b"\xff"
    item = normalize_page(body, "http://zjj.bl.gov.cn/xx/1.html", item_type="letter")
    assert [(e.field, e.severity) for e in item.field_errors if e.severity == "warning"] == [("encoding", "warning")]


# ----------------------------------------------------------- dates that cannot be right

def _date_errors(art) -> list[tuple[str, str | None, str]]:
    return [(e.field, e.raw, e.message) for e in art.field_errors if e.field.endswith(("published_at", "_date"))]


def test_an_impossible_page_date_is_a_field_error_naming_the_field_the_value_and_the_fallback():
    art = normalize(page(f"<div class='info'>发布时间：9999年13月45日</div><div id='zoom'><p>{FIRST}</p></div>"),
                    list_date="2024-03-07")
    assert art.published_at == dt.datetime(2024, 3, 7, tzinfo=SHANGHAI)  # the list date, but reported
    [(field, raw, message)] = _date_errors(art)
    assert field == "published_at" and "9999年13月45日" in raw
    assert "no such date" in message and "the list page used instead" in message


@pytest.mark.parametrize("line", ["日期：2024-02-30", "时间：1948-12-31", "2023-02-29"])
def test_an_impossible_date_after_any_label_or_alone_on_its_line_is_reported(line):
    art = normalize(page(f"<div class='info'>{line}</div><div id='zoom'><p>{FIRST}</p></div>"),
                    list_date="2024-03-07")
    assert art.published_at == dt.datetime(2024, 3, 7, tzinfo=SHANGHAI)
    assert [field for field, _, _ in _date_errors(art)] == ["published_at"]


@pytest.mark.parametrize("printed, why", [("2099-01-01", "more than a year after the page was fetched (2024-02-01)"),
                                          ("1949-09-30", "before 1949-10-01")])
def test_a_date_out_of_the_sane_range_is_a_field_error_and_the_next_source_is_used(printed, why):
    art = normalize(page(f"<div class='info'>发布时间：{printed}</div><div id='zoom'><p>{FIRST}</p></div>",
                         head="<meta name='PubDate' content='2024-01-30 09:00'>"))
    assert art.published_at == dt.datetime(2024, 1, 30, 9, 0, tzinfo=SHANGHAI)
    [(_, raw, message)] = _date_errors(art)
    assert printed in raw and why in message


def test_an_implausible_list_date_is_reported_and_not_used():
    art = normalize(page(f"<div id='zoom'><p>{FIRST}</p></div>"), list_date="2031-05-01")
    assert art.published_at is None
    assert [(f, raw) for f, raw, _ in _date_errors(art)] == [("published_at", "2031-05-01")]


def test_implausible_disclosure_dates_are_field_errors_and_left_empty():
    table = ("<table><tr><td>索引号</td><td>002948120/2024-00123</td><td>成文日期</td><td>2088-01-01</td></tr>"
             "<tr><td>发布机构</td><td>区人社局</td><td>发布日期</td><td>2024-01-20</td></tr></table>")
    art = normalize(page(f"{table}<div id='zoom'><p>{FIRST}</p></div>"))
    assert art.disclosure.written_date is None and art.disclosure.published_date == dt.date(2024, 1, 20)
    assert [(f, raw) for f, raw, _ in _date_errors(art)] == [("disclosure.written_date", "2088-01-01")]


def test_a_plausible_page_date_gives_no_error():
    art = normalize(page(f"<div class='info'>发布时间：2024-01-31 10:00</div><div id='zoom'><p>{FIRST}</p></div>"),
                    list_date="2024-01-31")
    assert art.field_errors == [] and art.published_at == dt.datetime(2024, 1, 31, 10, 0, tzinfo=SHANGHAI)


# --------------------------------------------------------------- bounded-cost extraction

PARAGRAPH = "<p>北仑区人力资源和社会保障局关于做好就业见习工作的通知，现予以公布，请认真贯彻执行。</p>\n"


def _timed(body: bytes):
    started = time.monotonic()
    art = normalize(body)
    return art, time.monotonic() - started


def _bound_errors(art) -> list[str]:
    return [e.message for e in art.field_errors if e.field == "extraction"]


def test_a_10_mb_page_is_read_up_to_the_size_bound_in_seconds_and_says_so():
    body = page("<div class='content'>" + PARAGRAPH * (10_000_000 // len(PARAGRAPH.encode())) + "</div>")
    assert len(body) > 9_900_000
    art, took = _timed(body)
    assert took < 10, f"{took:.1f} s"
    assert art.body_text.startswith("北仑区人力资源和社会保障局") and len(art.body_text) > 100_000
    [message] = _bound_errors(art)
    assert URL in message and f"MAX_PAGE_CHARS ({MAX_PAGE_CHARS:,})" in message


def test_a_page_nested_200000_deep_is_read_in_seconds_and_says_so():
    body = page(f"<div id='zoom'><p>{FIRST}</p>" + "<div>" * 200_000 + "最深处的正文" + "</div>" * 200_000
                + f"<p>{LAST}</p></div>")
    art, took = _timed(body)
    assert took < 10, f"{took:.1f} s"
    assert FIRST in art.body_text
    messages = " ".join(_bound_errors(art))
    assert URL in messages and f"MAX_DEPTH ({MAX_DEPTH})" in messages


def test_a_deep_page_within_the_size_bound_keeps_all_its_text():
    # libxml2 stops at depth 256 and drops the rest: flattened past MAX_DEPTH, nothing is lost
    body = page(f"<div id='zoom'><p>{FIRST}</p>" + "<div><span>" * 300 + "最深处的正文" + "</span></div>" * 300
                + f"<p>{LAST}</p></div><div class='footer'>主办：北仑区人力资源和社会保障局</div>")
    art = normalize(body)
    assert FIRST in art.body_text and "最深处的正文" in art.body_text and LAST in art.body_text
    assert any(f"MAX_DEPTH ({MAX_DEPTH})" in m for m in _bound_errors(art))


def test_a_page_with_more_elements_than_the_bound_is_read_up_to_it_and_says_so():
    body = page(f"<div id='zoom'><p>{FIRST}</p><p>" + "<b>字</b>" * (MAX_ELEMENTS + 5_000) + f"</p><p>{LAST}</p></div>")
    art = normalize(body)
    assert FIRST in art.body_text and LAST not in art.body_text  # cut, but reported
    assert any(f"MAX_ELEMENTS ({MAX_ELEMENTS:,})" in m for m in _bound_errors(art))


def test_a_large_inline_image_does_not_count_against_the_size_bound():
    body = page(f"<div id='zoom'><p>{FIRST}</p><img src='data:image/png;base64,{'A' * (MAX_PAGE_CHARS + 10)}'>"
                f"<p>{LAST}</p></div>")
    art = normalize(body)
    assert LAST in art.body_text and _bound_errors(art) == []


def test_flattening_keeps_the_text_in_order_and_the_depth_within_the_bound():
    markup = "<div>" * 10 + "a<br>b<img src=x>" + "<p>c" + "</div>" * 10 + "<i>d</i>"
    flat = lxml.html.fragment_fromstring(flatten_deep_markup(markup, max_depth=3), create_parent="div")
    assert flat.text_content() == "abcd"
    assert max(len(list(el.iterancestors())) for el in flat.iter()) <= 4


def test_truncating_a_tree_keeps_the_first_elements_in_document_order():
    root = lxml.html.fragment_fromstring("<div><p>1<b>2</b>t</p><p>3</p></div><p>4</p>", create_parent="div")
    assert truncate_tree(root, max_elements=3) == 6
    assert [el.tag for el in root.iter()] == ["div", "div", "p"] and root.text_content() == "1"
