"""The 政府信息公开 metadata block in its CMS shapes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import lxml.html

from normalizers.disclosure import find_disclosure_block, parse_disclosure
from normalizers.encoding import decode_html

PAGES = Path(__file__).parent / "pages"


def saved(name: str):
    return lxml.html.document_fromstring(decode_html((PAGES / name).read_bytes()).text)


def doc(body: str):
    return lxml.html.document_fromstring(f"<html><body>{body}<div id='zoom'><p>正文。</p></div></body></html>")


def test_php_xxgk_table_with_two_label_value_pairs_per_row():
    meta, errors = parse_disclosure(saved("php_bureau_notice.html"), "table.xxgk_table")
    assert errors == []
    assert meta.index_number == "002948120/2024-00123"
    assert meta.publisher == "北仑区人力资源和社会保障局"
    assert meta.topic == "劳动、人事、监察\\劳动就业"
    assert meta.written_date == dt.date(2024, 1, 3)
    assert meta.published_date == dt.date(2024, 1, 5)
    assert meta.document_number == "仑人社发〔2024〕3号"


def test_the_block_is_found_without_a_selector():
    block = find_disclosure_block(saved("php_bureau_notice.html"))
    assert block is not None and block.get("class") == "xxgk_table"


def test_trs_th_td_table_with_keywords_and_an_unknown_label():
    meta, _ = parse_disclosure(saved("trs_policy.html"))
    assert meta.index_number == "BL0206-0102-2024-0041"
    assert (meta.genre, meta.validity, meta.disclosure_mode) == ("通知", "有效", "主动公开")
    assert meta.keywords == ["就业", "创业", "补助", "资金"]
    assert meta.extra == {"统一编号": "ZJBC01-2024-0003"}


def test_hanweb_list_items_with_spaced_labels_and_wu_as_empty():
    meta, _ = parse_disclosure(saved("hanweb_art.html"))
    assert meta.index_number == "002948120/2023-00577"
    assert meta.topic == "综合政务\\通知公告"
    assert meta.written_date == dt.date(2023, 11, 2)
    assert meta.document_number is None  # printed as 无
    assert meta.extra["生效日期"] == "2023-11-06"


def test_label_and_value_in_one_cell():
    meta, _ = parse_disclosure(doc(
        "<table><tr><td>索引号：000014349/2017-00110</td><td>发文机关：国务院办公厅</td></tr>"
        "<tr><td>成文日期：2017年05月15日</td><td>发文字号：国办发〔2017〕47号</td></tr></table>"))
    assert meta.index_number == "000014349/2017-00110"
    assert meta.publisher == "国务院办公厅"
    assert meta.written_date == dt.date(2017, 5, 15)
    assert meta.document_number == "国办发〔2017〕47号"


def test_full_width_colons_and_spaces_inside_labels():
    meta, _ = parse_disclosure(doc(
        "<div class='info'><p>索\u3000引\u3000号 ：20191202-189769</p><p>发 布 机 构：区财政局</p></div>"))
    assert (meta.index_number, meta.publisher) == ("20191202-189769", "区财政局")


def test_several_pairs_on_one_line():
    meta, _ = parse_disclosure(doc("<div class='meta'>索引号：A-1　发布机构：区财政局　文号：仑财〔2024〕5号</div>"))
    assert (meta.index_number, meta.publisher, meta.document_number) == ("A-1", "区财政局", "仑财〔2024〕5号")


def test_dl_definition_list():
    meta, _ = parse_disclosure(doc("<dl><dt>索引号</dt><dd>X/2024-1</dd><dt>公开方式</dt><dd>依申请公开</dd></dl>"))
    assert (meta.index_number, meta.disclosure_mode) == ("X/2024-1", "依申请公开")


def test_empty_dash_and_wu_values_are_none():
    meta, _ = parse_disclosure(doc(
        "<table><tr><td>索引号</td><td>A</td><td>发文字号</td><td></td></tr>"
        "<tr><td>有效性</td><td>-</td><td>主题分类</td><td>无</td></tr></table>"))
    assert meta.index_number == "A"
    assert (meta.document_number, meta.validity, meta.topic) == (None, None, None)


def test_an_unparseable_date_is_a_field_error_and_the_rest_is_kept():
    meta, errors = parse_disclosure(doc(
        "<table><tr><td>索引号</td><td>A</td><td>成文日期</td><td>二〇二四年一月</td></tr></table>"))
    assert meta.index_number == "A" and meta.written_date is None
    assert [(e.field, e.raw) for e in errors] == [("disclosure.written_date", "二〇二四年一月")]


def test_the_index_number_is_never_taken_as_a_date():
    meta, errors = parse_disclosure(doc(
        "<table><tr><td>索引号</td><td>002948120/2024-00123</td><td>发布机构</td><td>区人社局</td></tr></table>"))
    assert meta.index_number == "002948120/2024-00123"
    assert meta.published_date is None and meta.written_date is None and errors == []


def test_extra_labels_map_site_specific_labels_to_fields():
    meta, _ = parse_disclosure(doc("<table><tr><td>信息编号</td><td>N-7</td><td>发布机构</td><td>区人社局</td></tr></table>"),
                               extra_labels={"信息编号": "index_number"})
    assert meta.index_number == "N-7" and "信息编号" not in meta.extra


def test_a_page_without_a_block_gives_empty_metadata():
    meta, errors = parse_disclosure(doc("<div class='info'>发布日期：2024-01-05　来源：区人社局</div>"))
    assert meta.is_empty() and errors == []


def test_prose_mentioning_labels_does_not_pull_the_body_in():
    root = doc("<table class='t'><tr><td>索引号</td><td>A</td><td>发布机构</td><td>区人社局</td></tr></table>"
               "<div class='text'>" + "<p>本办法所称主题词：就业。各单位应当认真执行，确保各项工作落到实处。</p>" * 10 + "</div>")
    assert find_disclosure_block(root).get("class") == "t"


def test_the_older_hanweb_labels_need_no_plugin_lines():
    """发布单位 and 文　　号 (ideographic spaces inside the label), 公开日期: the older template."""
    meta, _ = parse_disclosure(doc(
        "<table class='xxgk'><tr><td>索 引 号：</td><td>11330206002948120T/2024-00031</td>"
        "<td>发布单位：</td><td>北仑区教育局</td></tr>"
        "<tr><td>文　　号：</td><td>仑教〔2024〕12号</td><td>公开日期：</td><td>2024-03-05</td></tr></table>"))
    assert (meta.index_number, meta.publisher, meta.document_number, meta.published_date) == (
        "11330206002948120T/2024-00031", "北仑区教育局", "仑教〔2024〕12号", dt.date(2024, 3, 5))
