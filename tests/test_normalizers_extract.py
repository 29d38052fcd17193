"""Title, body and attachments of saved pages, with and without plugin selectors."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from normalizers.encoding import decode_html
from normalizers.extract import (
    extract_attachments,
    extract_body,
    extract_title,
    find_body,
    find_title,
    post_heading,
    select,
)
from normalizers.text import html_to_text

PAGES = Path(__file__).parent / "pages"


def saved(name: str):
    return lxml.html.document_fromstring(decode_html((PAGES / name).read_bytes()).text)


def doc(html: str):
    return lxml.html.document_fromstring(html)


# ------------------------------------------------------------------------------------ select

def test_select_takes_css():
    assert [el.tag for el in select(saved("php_bureau_notice.html"), "div#zoom")] == ["div"]


def test_select_takes_xpath_when_it_starts_with_a_slash_or_parenthesis():
    root = saved("php_bureau_notice.html")
    assert select(root, "//h1/text()") == ["关于公布2024年第3批就业见习基地名单的通知"]
    assert len(select(root, "(//table)[1]")) == 1


def test_select_supports_parsel_pseudo_elements():
    assert select(saved("php_bureau_notice.html"), "h1::text") == ["关于公布2024年第3批就业见习基地名单的通知"]


def test_an_invalid_selector_raises_value_error():
    with pytest.raises(ValueError):
        select(doc("<p>x</p>"), "div[[")


# ------------------------------------------------------------------------------------- title

def test_title_hint_wins():
    assert extract_title(saved("php_bureau_notice.html"), "div.position a") == "首页"


def test_title_is_the_h1_matching_the_title_tag_minus_the_site_name():
    assert extract_title(saved("php_bureau_notice.html")) == "关于公布2024年第3批就业见习基地名单的通知"


def test_trs_title_matches_the_article_title_meta_not_the_column_or_site():
    assert extract_title(saved("trs_policy.html")) == "北仑区就业创业补助资金管理办法（2024年修订）"


def test_hanweb_title_is_the_title_cell_when_the_title_tag_is_only_the_site_name():
    assert extract_title(saved("hanweb_art.html")) == "关于2023年度物业服务企业信用评价结果的公示"


def test_old_layout_title_is_the_bold_cell_that_matches_the_title_tag():
    assert extract_title(saved("asp_word_cruft.html")) == "大碶街道关于做好2019年防汛防台工作的通知"


def test_the_site_name_in_a_logo_heading_is_never_the_title():
    root = doc("<html><head><title>北仑区人力资源和社会保障局</title><meta name='SiteName' content='北仑区人力资源和社会保障局'>"
               "</head><body><h1 class='logo'>北仑区人力资源和社会保障局</h1><h2>通知公告</h2>"
               "<div class='title'>关于举办2024年北仑区春风行动招聘会的公告</div></body></html>")
    assert extract_title(root, exclude=["政务公开", "通知公告"]) == "关于举办2024年北仑区春风行动招聘会的公告"


def test_a_truncated_list_title_gives_way_to_the_full_page_title():
    root = doc("<html><head><title>关于开展2024年春季职业技能培训补贴申领工作的通知</title></head>"
               "<body><h1>关于开展2024年春季职业技能培训补贴申领工作的通知</h1></body></html>")
    assert extract_title(root, list_title="关于开展2024年春季职业技能…") == "关于开展2024年春季职业技能培训补贴申领工作的通知"


def test_a_truncated_page_title_gives_way_to_the_full_list_title():
    root = doc("<html><head><title>站点</title></head><body><h1>关于开展2024年春季职业技能...</h1></body></html>")
    full = "关于开展2024年春季职业技能培训补贴申领工作的通知"
    assert extract_title(root, list_title=full) == full


def test_no_title_anywhere_gives_none():
    assert extract_title(doc("<html><body><p>只有正文。</p></body></html>")) is None


# -------------------------------------------------------------------------------------- body

def test_body_hint_wins():
    body = extract_body(saved("php_bureau_notice.html"), "div.info")
    assert html_to_text(body).startswith("发布时间")


def test_php_body_is_the_zoom_div():
    text = html_to_text(extract_body(saved("php_bureau_notice.html")))
    assert text.startswith("各街道（镇）、区级各有关单位：") and text.endswith("2024年1月3日")


def test_trs_body_is_the_trs_editor_without_its_style_block():
    text = html_to_text(extract_body(saved("trs_policy.html")))
    assert text.startswith("第一章 总则") and "margin-top" not in text


def test_hanweb_body_is_the_zoom_div():
    assert html_to_text(extract_body(saved("hanweb_art.html"))).startswith("根据《宁波市物业服务企业信用评价管理办法》")


def test_density_heuristic_finds_the_body_cell_of_an_old_layout_page():
    text = html_to_text(extract_body(saved("asp_word_cruft.html")))
    assert text.startswith("各村、社区，街道各办、中心：") and text.endswith("大碶街道办事处")
    assert "街道概况" not in text and "通知公告" not in text  # the link-heavy menu cell


@pytest.mark.parametrize("boilerplate", ["打印本页", "关闭窗口", "字号", "上一篇", "下一篇", "相关链接", "分享到",
                                         "主办单位", "网站标识码", "浙ICP备", "政策解读", "责任编辑"])
def test_boilerplate_is_dropped_from_a_density_found_body(boilerplate):
    root = doc("<html><body><div class='nav'><a href='/'>首页</a><a href='/a'>政务公开</a></div><div class='con'>"
               "<p>第一条 为规范管理，提高资金使用效益，根据有关规定，结合本区实际，制定本办法。</p>"
               "<p>第二条 本办法适用于本区行政区域内依法登记注册的各类用人单位。</p>"
               "<p>第三条 区人力社保部门负责组织实施，区财政部门负责资金保障。</p>"
               "<p>（责任编辑：李娜）</p>"
               "<div class='tool'>【<a href='javascript:window.print()'>打印本页</a>】【<a href='#'>关闭窗口</a>】"
               "【字号：<a>大</a> <a>中</a> <a>小</a>】</div>"
               "<div class='bdsharebuttonbox'><a>分享到：</a><a>微信</a></div>"
               "<div><p>上一篇：<a href='/1'>关于印发某某办法的通知</a></p><p>下一篇：<a href='/3'>某某公告</a></p></div>"
               "<h3>相关链接</h3><ul><li><a href='/j'>《办法》政策解读</a></li></ul>"
               "<div>主办单位：北仑区人民政府 网站标识码：3302060001 浙ICP备05008888号</div>"
               "</div></body></html>")
    text = html_to_text(extract_body(root))
    assert text.startswith("第一条") and "第三条" in text
    assert boilerplate not in text


def test_remove_selectors_and_exclude_elements_are_dropped_from_the_copy_only():
    root = saved("php_bureau_notice.html")
    zoom = select(root, "#zoom")[0]
    first = zoom[0]
    body = extract_body(root, "#zoom", remove=["table"], exclude=[first])
    text = html_to_text(body)
    assert "序号" not in text and "各街道（镇）" not in text
    assert "序号" in html_to_text(zoom) and first.getparent() is zoom  # the page tree is unchanged


def test_of_two_zoom_elements_the_one_with_text_is_the_body():
    root = doc("<html><body><h1>区统计局发布统计公报</h1><div class='info'>发布日期：2024-03-22 "
               "<span id='zoom'>字体：<a href='javascript:setSize(18)'>大</a> <a href='#'>小</a></span></div>"
               "<div id='zoom' class='pic'><a href='/big.jpg'><img src='/small.jpg'></a></div>"
               "<div id='zoom'><p>2023年全区实现地区生产总值2856.3亿元，比上年增长6.8%。</p></div></body></html>")
    assert html_to_text(extract_body(root)).startswith("2023年全区实现地区生产总值")


def test_a_hidden_or_share_copy_of_the_title_is_not_the_title_element():
    root = doc("<html><head><title>区市场监管局开展专项检查_部门动态</title></head><body>"
               "<div class='bdsharebuttonbox'><h2 class='share-title'>区市场监管局开展专项检查</h2></div>"
               "<div class='art-tit'>区市场监管局开展专项检查</div><div class='art-text'><p>4月下旬以来，"
               "区市场监管局开展春季校园食品安全专项检查，共检查学校食堂86家。</p></div>"
               "<div id='wxpop' style='display:none'><h1>区市场监管局开展专项检查</h1></div>"
               "<div hidden><h1>区市场监管局开展专项检查</h1></div>"
               "<div class='fixed-top d-none'><h1>区市场监管局开展专项检查</h1></div></body></html>")
    title = find_title(root)
    assert title is not None and title.element is not None and title.element.get("class") == "art-tit"


def test_a_short_text_beats_a_longer_list_of_comments():
    comments = "".join(f"<li class='cmt'><span>网友{i}</span><span>2024-05-21 09:{i:02d}</span><p>这次停水"
                       f"时间太长了，希望以后能提前三天通知，并且把具体的小区名单都列出来，方便大家准备。</p></li>"
                       for i in range(8))
    root = doc(f"<html><body><h1>临时停水通知</h1><div class='ntext'><p>因管网改造，5月22日小港部分区域临时停水，"
               f"请提前储水。</p></div><ul class='comments'>{comments}</ul></body></html>")
    title = find_title(root)
    assert html_to_text(find_body(root, after=title.element)).startswith("因管网改造")


def test_a_page_of_several_posts_is_its_first_post():
    posts = "".join(f"<div class='post'><h2 class='post-title'><a href='/p/{i}'>驻村日记{i}</a></h2>"
                    f"<h6 class='post-date'>发表于 2023-08-{12 - i} 21:15</h6><div class='post-body'>"
                    + f"<p>第{i}篇日记的正文，记录村里的变化和乡亲们的生活。</p>" * (1 + 3 * (i == 2)) + "</div></div>"
                    for i in range(1, 4))
    root = doc(f"<html><head><title>第一书记的驻村日记</title></head><body><h1>第一书记的驻村日记</h1>"
               f"<div id='main'>{posts}</div></body></html>")
    title = find_title(root)
    body = find_body(root, after=title.element)
    assert html_to_text(body).startswith("第1篇日记的正文") and "第2篇" not in html_to_text(body)
    heading = post_heading(body, title.element)
    assert heading is not None and heading.text_content() == "驻村日记1"


def test_prose_mentioning_closing_is_kept():
    root = doc("<html><body><div id='zoom'><p>关闭窗口期间，请各单位做好数据备份，确保系统安全运行。</p></div></body></html>")
    assert "关闭窗口期间" in html_to_text(extract_body(root))


# ------------------------------------------------------------------------------- attachments

def test_php_attachments_are_absolute_named_by_link_text_in_order():
    found = extract_attachments(saved("php_bureau_notice.html"), "http://rsj.bl.gov.cn/show.php?id=103")
    assert [(a.name, str(a.url), a.file_type) for a in found] == [
        ("附件1：2024年第3批就业见习基地名单.pdf", "http://rsj.bl.gov.cn/uploadfile/2024/0105/20240105142932123.pdf", "pdf"),
        ("附件2：岗位信息一览表.xls", "http://rsj.bl.gov.cn/uploadfile/2024/0105/20240105142932456.xls", "xls"),
    ]


def test_trs_relative_attachment_resolves_against_the_page_directory():
    found = extract_attachments(select(saved("trs_policy.html"), ".TRS_Editor")[0],
                                "http://www.bl.gov.cn/zwgk/zcwj/qzfwj/202403/t20240318_123456.html")
    assert [str(a.url) for a in found] == ["http://www.bl.gov.cn/zwgk/zcwj/qzfwj/202403/P020240318512345678902.pdf"]


def test_download_script_links_take_the_type_from_the_query_or_the_link_text():
    found = extract_attachments(saved("hanweb_art.html"), "http://zjj.bl.gov.cn/art/2023/11/6/art_1229015_4823001.html")
    assert [(a.name, a.file_type) for a in found] == [
        ("2023年度物业服务企业信用评价结果.docx", "docx"), ("附件2：信用评价评分细则（PDF版）.pdf", "pdf")]


def test_download_php_with_an_extension_in_the_link_text():
    found = extract_attachments(doc("<html><body><a href='download.php?id=3'>申报表.doc</a>"
                                    "<a href='show.php?id=4'>通知.doc</a></body></html>"), "http://x.gov.cn/a/")
    assert [(str(a.url), a.file_type) for a in found] == [("http://x.gov.cn/a/download.php?id=3", "doc")]


def test_images_count_only_when_the_link_text_says_attachment():
    found = extract_attachments(doc("<html><body><a href='/p/1.jpg'>现场照片</a><a href='/p/2.png'>附件3：流程图</a>"
                                    "</body></html>"), "http://x.gov.cn/")
    assert [(a.name, a.file_type) for a in found] == [("附件3：流程图", "png")]


def test_duplicates_are_dropped_and_empty_link_text_falls_back_to_the_file_name():
    found = extract_attachments(doc("<html><body><a href='/f/%E8%A1%A8.xlsx'><img src='i.gif'></a>"
                                    "<a href='/f/%E8%A1%A8.xlsx'>表</a></body></html>"), "http://x.gov.cn/")
    assert [(a.name, a.file_type) for a in found] == [("表.xlsx", "xlsx")]


def test_non_document_links_and_javascript_are_not_attachments():
    found = extract_attachments(doc("<html><body><a href='javascript:void(0)'>附件.doc</a><a href='/a.html'>附件</a>"
                                    "<a href='/b.asp?id=1'>下载</a></body></html>"), "http://x.gov.cn/")
    assert found == []


def test_footer_links_are_not_attachments():
    found = extract_attachments(doc("<html><body><div class='footer'><a href='/guide.pdf'>网站使用指南.pdf</a></div>"
                                    "</body></html>"), "http://x.gov.cn/")
    assert found == []


def test_attachment_hint_limits_the_scope():
    root = doc("<html><body><div class='fj'><a href='/a.pdf'>甲.pdf</a></div><a href='/b.pdf'>乙.pdf</a></body></html>")
    assert [a.name for a in extract_attachments(root, "http://x.gov.cn/", "div.fj")] == ["甲.pdf"]


def test_a_body_selector_matching_an_empty_element_first_takes_the_one_with_text():
    root = lxml.html.fromstring(
        "<html><body><h1>关于加强道路挖掘管理的通知</h1>"
        "<div class='TRS_Editor'><style>.TRS_Editor P{margin-top:0;line-height:1.8}</style></div>"
        "<div class='TRS_Editor'><p>各街道：为加强城市道路挖掘管理，现就有关事项通知如下。</p></div>"
        "<span id='zoom'>字体：大 中 小</span><div id='zoom'><p>正文在此，请各单位遵照执行。</p></div></body></html>")
    assert "为加强城市道路挖掘管理" in find_body(root, ".TRS_Editor").text_content()
    assert "正文在此" in find_body(root, "#zoom").text_content()
    # one empty match and nothing else: it is still the body the selector names
    assert find_body(root, "h1 + div").get("class") == "TRS_Editor"
