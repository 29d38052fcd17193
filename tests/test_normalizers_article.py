"""normalize_article on saved pages of several CMS families: the one public entry point."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from normalizers import NormalizationError, normalize_article
from normalizers.models import SHANGHAI, Category, document_id
from normalizers.page import ExtractionHints, PageContext, RawPage

PAGES = Path(__file__).parent / "pages"
FETCHED = dt.datetime(2024, 2, 1, 8, 0, tzinfo=SHANGHAI)
RSJ_HINTS = ExtractionHints(title="h1", body="#zoom", disclosure_table="table.xxgk_table")  # plugins/sites/rsj.toml
MIRROR = "http://127.0.0.1:8765"
PUBLIC = "http://rsj.bl.gov.cn"


def normalize(name: str, public_url: str, fetch_url: str | None = None, hints: ExtractionHints | None = None,
              content_type: str | None = None, body: bytes | None = None, **context):
    page = RawPage(url=fetch_url or public_url, body=body if body is not None else (PAGES / name).read_bytes(),
                   content_type=content_type, fetched_at=FETCHED)
    ctx = PageContext(site_code=context.pop("site_code", "rsj"), column_path=("政务公开", "通知公告"),
                      category=Category.GOVERNMENT_INFORMATION, public_url=public_url, **context)
    return normalize_article(page, ctx, hints)


@pytest.fixture(scope="module")
def php():
    """The PHP bureau page fetched from a mirror, with the rsj plugin's selectors."""
    return normalize("php_bureau_notice.html", f"{PUBLIC}/show.php?id=103", f"{MIRROR}/show.php?id=103", RSJ_HINTS,
                     content_type="text/html")


# ------------------------------------------------------------------------------ PHP bureau page

def test_identity_comes_from_the_public_url(php):
    assert php.id == document_id(f"{PUBLIC}/show.php?id=103")
    assert str(php.source_url) == f"{PUBLIC}/show.php?id=103"
    assert (php.site_code, php.column_path, php.fetched_at) == ("rsj", ["政务公开", "通知公告"], FETCHED)


def test_title_decoded_from_gbk(php):
    assert php.title == "关于公布2024年第3批就业见习基地名单的通知"


def test_published_at_comes_from_the_info_line_with_its_precision(php):
    assert php.published_at == dt.datetime(2024, 1, 5, 14, 29, tzinfo=SHANGHAI)


def test_disclosure_metadata_is_read(php):
    d = php.disclosure
    assert (d.index_number, d.document_number, d.written_date) == (
        "002948120/2024-00123", "仑人社发〔2024〕3号", dt.date(2024, 1, 3))


def test_attachments_are_rebased_from_the_mirror_to_the_public_origin(php):
    assert [(a.name, str(a.url), a.file_type) for a in php.attachments] == [
        ("附件1：2024年第3批就业见习基地名单.pdf", f"{PUBLIC}/uploadfile/2024/0105/20240105142932123.pdf", "pdf"),
        ("附件2：岗位信息一览表.xls", f"{PUBLIC}/uploadfile/2024/0105/20240105142932456.xls", "xls"),
    ]


def test_body_text_has_every_paragraph_including_gbk_only_characters(php):
    for paragraph in ("各街道（镇）、区级各有关单位：",
                      "确定宁波王镕机械有限公司等12家单位为2024年第3批北仑区就业见习基地，现予以公布。",
                      "各见习基地要严格按照见习协议做好见习人员管理，切实保障见习人员合法权益。",
                      "咨询电话：0574-86781234，联系人：陈珺。", "北仑区人力资源和社会保障局", "2024年1月3日"):
        assert paragraph in php.body_text
    assert "\n\n" in php.body_text and "\ufffd" not in php.body_text


@pytest.mark.parametrize("boilerplate", ["打印本页", "关闭窗口", "主办单位", "网站标识码", "浙ICP备", "上一篇", "下一篇",
                                         "当前位置", "浏览次数", "发布时间", "索引号", "附件1", "浏览统计", "doZoom"])
def test_boilerplate_and_page_furniture_are_not_in_body_text(php, boilerplate):
    assert boilerplate not in php.body_text


def test_body_text_starts_with_the_content_not_the_title(php):
    assert php.body_text.startswith("各街道（镇）") and php.title not in php.body_text


@pytest.mark.parametrize("gone", ["<script", "onclick", "onmouseover", "style=", "class=", "o:p", "mso-",
                                  "document.write"])
def test_body_html_is_sanitized(php, gone):
    assert gone not in php.body_html


def test_body_html_keeps_the_table(php):
    assert "<table>" in php.body_html and "<td>宁波王镕机械有限公司</td>" in php.body_html


def test_no_field_errors_on_a_clean_page(php):
    assert php.field_errors == []


def test_heuristics_alone_give_the_same_item_as_the_plugin_selectors(php):
    bare = normalize("php_bureau_notice.html", f"{PUBLIC}/show.php?id=103", f"{MIRROR}/show.php?id=103")
    assert bare.content_hash == php.content_hash


def test_same_page_twice_gives_the_same_content_hash(php):
    again = normalize("php_bureau_notice.html", f"{PUBLIC}/show.php?id=103", f"{MIRROR}/show.php?id=103", RSJ_HINTS)
    assert again.content_hash == php.content_hash


def test_a_wrong_http_charset_does_not_garble_the_item(php):
    wrong = normalize("php_bureau_notice.html", f"{PUBLIC}/show.php?id=103", f"{MIRROR}/show.php?id=103", RSJ_HINTS,
                      content_type="text/html; charset=iso-8859-1")
    assert wrong.content_hash == php.content_hash


# ----------------------------------------------------------------------------- other CMS pages

TRS_URL = "http://www.bl.gov.cn/zwgk/zcwj/qzfwj/202403/t20240318_123456.html"


@pytest.fixture(scope="module")
def trs():
    return normalize("trs_policy.html", TRS_URL, site_code="www")


def test_trs_page_title_and_pubdate_meta(trs):
    assert trs.title == "北仑区就业创业补助资金管理办法（2024年修订）"
    assert trs.published_at == dt.datetime(2024, 3, 18, 9, 30, tzinfo=SHANGHAI)


def test_trs_body_excludes_the_disclosure_table_share_widget_and_related_links(trs):
    assert trs.body_text.startswith("第一章 总则")
    for gone in ("索引号", "BL0206", "分享到", "相关链接", "政策解读", "打印此页", "字号"):
        assert gone not in trs.body_text
    assert "第七条 本办法自2024年4月18日起施行" in trs.body_text


def test_trs_attachment_is_the_body_pdf_not_the_sidebar_form(trs):
    assert [(a.name, str(a.url)) for a in trs.attachments] == [
        ("北仑区就业创业补助资金管理办法.pdf", "http://www.bl.gov.cn/zwgk/zcwj/qzfwj/202403/P020240318512345678902.pdf")]


def test_trs_body_html_has_the_absolute_image(trs):
    image = "http://www.bl.gov.cn/zwgk/zcwj/qzfwj/202403/W020240318512345678901.jpg"
    assert f'<img src="{image}" alt="办事流程图">' in trs.body_html


def test_hanweb_page_date_line_metadata_and_download_links():
    art = normalize("hanweb_art.html", "http://zjj.bl.gov.cn/art/2023/11/6/art_1229015_4823001.html", site_code="zjj")
    assert art.title == "关于2023年度物业服务企业信用评价结果的公示"
    assert art.published_at == dt.datetime(2023, 11, 6, tzinfo=SHANGHAI)
    assert art.disclosure.index_number == "002948120/2023-00577"
    assert [a.file_type for a in art.attachments] == ["docx", "pdf"]
    # the 公文 layout's attachment lines are the document's text: kept, after the contact line
    assert art.body_text.endswith("联系电话：0574-86782233\n\n附件：2023年度物业服务企业信用评价结果.docx"
                                  "\n\n附件2：信用评价评分细则（PDF版）.pdf")
    assert "分享到" not in art.body_text and "打印本页" not in art.body_text and "网站标识码" not in art.body_text


def test_old_asp_page_with_word_cruft_and_a_wrong_utf8_declaration():
    art = normalize("asp_word_cruft.html", "http://dq.bl.gov.cn/ShowArticle.asp?ArticleID=1234", site_code="dq")
    assert art.title == "大碶街道关于做好2019年防汛防台工作的通知"
    assert art.published_at == dt.datetime(2019, 5, 17, tzinfo=SHANGHAI)
    assert "联系人：周玥。" in art.body_text and "版权所有" not in art.body_text and "点击数" not in art.body_text
    assert "mso" not in art.body_html and "<o:p>" not in art.body_html and "xml" not in art.body_html
    assert art.disclosure.is_empty()


# -------------------------------------------------------------------------------- fallbacks

def page_html(head: str = "", body: str = "") -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>关于开展2024年度用人单位劳动保障书面审查工作的通知-人社局</title>{head}"
            f"</head><body><h1>关于开展2024年度用人单位劳动保障书面审查工作的通知</h1>{body}"
            "<div id='zoom'><p>各用人单位：根据有关规定，现将年度书面审查工作有关事项通知如下。</p></div></body></html>").encode()


def test_published_at_hint_selector_wins():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(body="<span class='d'>2024-03-02</span>"
                                                                       "<div>发布时间：2024-03-01 10:00</div>"),
                    hints=ExtractionHints(published_at="span.d"))
    assert art.published_at == dt.datetime(2024, 3, 2, tzinfo=SHANGHAI)


def test_an_unparseable_date_from_the_hint_is_a_field_error_and_the_next_source_is_used():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(body="<span class='d'>近日</span>"
                                                                       "<div>发布时间：2024-03-01 10:00</div>"),
                    hints=ExtractionHints(published_at="span.d"))
    assert art.published_at == dt.datetime(2024, 3, 1, 10, 0, tzinfo=SHANGHAI)
    assert [(e.field, e.raw) for e in art.field_errors] == [("published_at", "近日")]


def test_pubdate_meta_is_used_when_there_is_no_date_line():
    head = "<meta name='PubDate' content='2024-03-05 08:00:00'>"
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(head=head))
    assert art.published_at == dt.datetime(2024, 3, 5, 8, 0, tzinfo=SHANGHAI)


def test_disclosure_published_date_is_used_before_the_list_date_and_the_index_number_never():
    table = ("<table><tr><td>索引号</td><td>002948120/2024-00123</td><td>发布日期</td><td>2024-03-06</td></tr></table>")
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(body=table), list_date="[2024-03-07]")
    assert art.published_at == dt.datetime(2024, 3, 6, tzinfo=SHANGHAI)
    assert "索引号" not in art.body_text


def test_the_list_date_is_the_last_resort():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(), list_date="(2024年03月07日)")
    assert art.published_at == dt.datetime(2024, 3, 7, tzinfo=SHANGHAI)


def test_an_index_number_alone_gives_no_publication_date():
    table = "<table><tr><td>索引号</td><td>002948120/2024-00123</td><td>发布机构</td><td>区人社局</td></tr></table>"
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(body=table))
    assert art.published_at is None and art.disclosure.index_number == "002948120/2024-00123"


def test_an_unparseable_date_line_is_a_field_error_not_an_exception():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(body="<div>发布时间：二〇二四年三月</div>"))
    assert art.published_at is None
    assert [e.field for e in art.field_errors] == ["published_at"]


def test_a_page_without_a_title_uses_the_list_title():
    body = "<html><body><div id='zoom'><p>正文内容。</p></div></body></html>".encode()
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=body, list_title="关于某事项的通知")
    assert art.title == "关于某事项的通知" and art.body_text == "正文内容。"


def test_a_page_and_list_without_a_title_raise_normalization_error_with_field_and_url():
    with pytest.raises(NormalizationError) as info:
        normalize("", f"{PUBLIC}/show.php?id=9", body="<html><body><p>正文。</p></body></html>".encode())
    assert (info.value.field, info.value.url) == ("title", f"{PUBLIC}/show.php?id=9")


@pytest.mark.parametrize("body", [b"", b"\x00\x01\xff\xfe garbage \x81", b"<?xml version='1.0' encoding='gbk'?><html>",
                                  "<html><body><p>不完整".encode("gbk")])
def test_broken_bytes_never_raise_when_a_list_title_exists(body):
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=body, list_title="列表标题")
    assert art.title == "列表标题"


def test_an_invalid_plugin_selector_is_a_field_error_and_heuristics_take_over():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(), hints=ExtractionHints(body="div[[", title="h1"))
    assert art.body_text.startswith("各用人单位") and [e.field for e in art.field_errors] == ["body_text"]


def test_plugin_selectors_that_match_nothing_are_reported_and_heuristics_take_over():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=page_html(),
                    hints=ExtractionHints(title="h1.gone", body="#gone", disclosure_table="table.xxgk_table"))
    assert art.title.startswith("关于开展2024年度") and art.body_text.startswith("各用人单位")
    assert [(e.field, e.raw) for e in art.field_errors] == [("title", "h1.gone"), ("body_text", "#gone")]


def test_remove_selectors_from_the_plugin_apply_to_the_body():
    art = normalize("php_bureau_notice.html", f"{PUBLIC}/show.php?id=103",
                    hints=ExtractionHints(title="h1", body="#zoom", remove=("table",)))
    assert "序号" not in art.body_text and "各街道（镇）" in art.body_text


DEDE_BODY = ("<html><head><meta charset='utf-8'><title>北仑区召开安全生产工作会议</title></head><body>"
             "<h1>北仑区召开安全生产工作会议</h1><div class='content'><p>会议强调，要压实安全生产责任。</p>"
             "<p>会议要求各部门认真落实。</p>(责任编辑：admin)</div></body></html>").encode()
DEDE_STRIP = r"[（(]责任编辑[：:][^）)]*[）)]"  # DedeCMS's bare text node at the end of every body


def test_strip_text_patterns_cut_boilerplate_no_selector_reaches():
    plain = normalize("", f"{PUBLIC}/show.php?id=9", body=DEDE_BODY, hints=ExtractionHints(body="div.content"))
    assert "责任编辑" in plain.body_text  # a bare text node: no remove selector can reach it
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=DEDE_BODY,
                    hints=ExtractionHints(body="div.content", strip_text=(DEDE_STRIP,)))
    assert "责任编辑" not in art.body_text and "责任编辑" not in art.body_html
    assert art.body_text == "会议强调，要压实安全生产责任。\n\n会议要求各部门认真落实。"
    assert not art.field_errors


def test_a_pubdate_meta_gives_the_time_of_a_date_line_printed_to_the_day():
    """Hanweb prints 发布日期：2024-03-05 in the page and the minute in <meta name="PubDate">."""
    body = ("<html><head><meta charset='utf-8'><meta name='PubDate' content='2024-03-05 10:21'></head><body>"
            "<h1>北仑区召开安全生产工作会议</h1><div>发布日期：2024-03-05　来源：区应急管理局</div>"
            "<div class='content'><p>会议强调，要压实安全生产责任，确保全区安全形势稳定。</p></div></body></html>").encode()
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=body, hints=ExtractionHints(body="div.content"))
    assert (art.published_at, art.published_precision) == (dt.datetime(2024, 3, 5, 10, 21, tzinfo=SHANGHAI), "minute")
    other_day = body.replace(b"2024-03-05 10:21", b"2024-03-04 10:21")  # another day: the page's date stands
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=other_day, hints=ExtractionHints(body="div.content"))
    assert (art.published_at, art.published_precision) == (dt.datetime(2024, 3, 5, tzinfo=SHANGHAI), "day")


def test_a_remove_selector_that_selects_a_text_node_cuts_it():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=DEDE_BODY, hints=ExtractionHints(
        body="div.content", remove=("//div[@class='content']/text()[contains(., '责任编辑')]",)))
    assert "责任编辑" not in art.body_text and art.body_text.endswith("会议要求各部门认真落实。")


def test_a_body_selector_that_matches_several_elements_is_a_warning():
    body = ("<html><head><meta charset='utf-8'></head><body><h1>北仑区召开安全生产工作会议</h1>"
            "<div class='content'><p>会议强调，要压实安全生产责任，确保全区安全形势稳定。</p></div>"
            "<div class='content'><p>相关链接：区应急管理局</p></div></body></html>").encode()
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=body, hints=ExtractionHints(body="div.content"))
    assert art.body_text.startswith("会议强调")
    assert [(e.field, e.severity, e.raw) for e in art.field_errors] == [("body_text", "warning", "div.content")]
    assert "2 separate elements" in art.field_errors[0].message


def test_a_br_in_a_title_joins_chinese_without_a_space():
    body = ("<html><head><meta charset='utf-8'></head><body><h1 class='t'>关于印发《北仑区见习补贴<br>管理办法》的通知"
            "<br/>(2024 Annual<br>Report)</h1><div class='content'><p>现将办法印发给你们，请认真贯彻执行。</p></div>"
            "</body></html>").encode()
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=body, hints=ExtractionHints(title="h1.t", body="div.content"))
    assert art.title == "关于印发《北仑区见习补贴管理办法》的通知(2024 Annual Report)"


def test_a_strip_text_pattern_that_does_not_compile_is_a_field_error():
    art = normalize("", f"{PUBLIC}/show.php?id=9", body=DEDE_BODY,
                    hints=ExtractionHints(body="div.content", strip_text=("(责任编辑",)))
    assert "责任编辑" in art.body_text
    assert [(e.field, e.raw) for e in art.field_errors] == [("body_text", "(责任编辑")]


def test_fetched_at_defaults_to_now_in_shanghai():
    page = RawPage(url=f"{PUBLIC}/show.php?id=9", body=page_html())
    ctx = PageContext(site_code="rsj", column_path=("政务公开",), category=Category.GOVERNMENT_INFORMATION,
                      public_url=f"{PUBLIC}/show.php?id=9")
    art = normalize_article(page, ctx)
    assert abs(art.fetched_at - dt.datetime.now(SHANGHAI)) < dt.timedelta(minutes=1)


# --------------------------------------------------- a page saved from the PHP fixture subsite

def test_saved_fixture_page_without_any_charset_declaration_matches_its_ground_truth():
    # fixture_sites/php_bureau/show.php?id=272 (seed 2024): no charset in HTTP or markup,
    # 张喆 is GBK-only, the disclosure table sits above the h1.
    art = normalize("php_fixture_show_272_nocharset.html", f"{PUBLIC}/show.php?id=272", f"{MIRROR}/show.php?id=272",
                    content_type="text/html")
    assert art.title == "北仑区人力资源和社会保障局关于王志明同志试用期满正式任职的通知"
    assert art.published_at == dt.datetime(2024, 10, 14, 12, 49, tzinfo=SHANGHAI)
    assert (art.disclosure.index_number, art.disclosure.document_number, art.disclosure.written_date) == (
        "002948120/2024-00109", "仑人社干〔2024〕1号", dt.date(2024, 10, 2))
    assert art.body_text == "\n\n".join([
        "经局党组研究决定：", "任命叶洋同志为区就业管理中心主任（试用期一年）；", "任命张喆同志为区劳动监察大队大队长；",
        "免去石洋同志区就业管理中心主任职务。", "以上同志任职时间自2024年12月24日起计算。",
        "北仑区人力资源和社会保障局", "2024年10月2日"])
    assert [(a.name, str(a.url)) for a in art.attachments] == [
        ("附件1：任免人员名单.pdf", f"{PUBLIC}/uploadfile/2024/1014/20241014124904175.pdf")]
    assert art.field_errors == []


ATTACHMENT_LAYOUTS = (
    "<html><head><meta charset='utf-8'></head><body><h1>关于做好防汛工作的通知</h1><div id='zoom'>"
    "<p>各街道：现将有关事项通知如下，请遵照执行。请各单位认真组织，按时报送材料。</p>{tail}</div></body></html>")


@pytest.mark.parametrize("tail, ends", [
    # the 公文 layout: the label and numbered lines are part of the text
    ("<p>附件：1.<a href='/u/a.doc'>防汛责任人名单.doc</a></p><p>2.<a href='/u/b.xls'>物资清单.xls</a></p>",
     "按时报送材料。\n\n附件：1.防汛责任人名单.doc\n\n2.物资清单.xls"),
    # a download widget: left out, and never its bare label
    ("<p>附件下载：</p><p><a href='/u/a.doc'>防汛责任人名单.doc</a></p>", "按时报送材料。"),
    ("<p>附件：</p><ul><li><a href='/u/a.doc'>a.doc</a></li><li><a href='/u/b.doc'>b.doc</a></li></ul>", "按时报送材料。"),
    ("<div class='fj'>相关附件：<a href='/u/a.doc'>防汛责任人名单.doc</a></div>", "按时报送材料。"),
])
def test_attachment_lines_of_the_document_stay_and_download_chrome_goes(tail, ends):
    body = ATTACHMENT_LAYOUTS.format(tail=tail).encode()
    art = normalize("", f"{PUBLIC}/show.php?id=77", body=body, hints=ExtractionHints(body="#zoom"))
    assert art.body_text.endswith(ends), art.body_text
    assert not art.body_text.rstrip().endswith(("附件：", "附件下载："))
    assert [a.file_type for a in art.attachments][:1] in (["doc"],)
