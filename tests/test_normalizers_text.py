"""clean_text, fullwidth_to_ascii and html_to_text."""

from __future__ import annotations

import lxml.html

from normalizers.text import clean_text, fullwidth_to_ascii, html_to_text


def fragment(html: str):
    return lxml.html.fragment_fromstring(html, create_parent="div")


def test_nbsp_ideographic_and_other_unicode_spaces_become_one_space():
    assert clean_text("\u3000\u3000各有关单位：\u00a0\u00a0\u2002现将\t\n有关事项") == "各有关单位： 现将 有关事项"


def test_literal_double_escaped_nbsp_is_a_space():
    assert clean_text("&nbsp;&nbsp;通知&nbsp;") == "通知"


def test_zero_width_characters_are_removed():
    assert clean_text("社\u200b保\ufeff卡\u200d") == "社保卡"


def test_chinese_punctuation_and_fullwidth_digits_are_kept():
    assert clean_text("关于（２０２４年）通知：一、二。") == "关于（２０２４年）通知：一、二。"


def test_empty_and_none_give_empty_string():
    assert clean_text(None) == "" and clean_text("\u3000 \u00a0") == ""


def test_fullwidth_to_ascii_converts_digits_and_letters_only():
    assert fullwidth_to_ascii("２０２４年ＡＢｃ，（１）") == "2024年ABc，（1）"


def test_paragraphs_are_separated_by_a_blank_line():
    assert html_to_text(fragment("<p>第一段</p><p>第二段</p><div>第三段</div>")) == "第一段\n\n第二段\n\n第三段"


def test_br_ends_a_paragraph_and_inline_tags_do_not():
    assert html_to_text(fragment("一、<b>加强</b>领导<br>二、落实<span>责任</span>")) == "一、加强领导\n\n二、落实责任"


def test_list_items_and_headings_are_paragraphs():
    assert html_to_text(fragment("<h2>标题</h2><ul><li>甲</li><li>乙</li></ul>")) == "标题\n\n甲\n\n乙"


def test_data_table_rows_are_lines_with_cells_joined():
    html = "<table><tr><td>序号</td><td>姓名</td></tr><tr><td>1</td><td><p>王镕</p></td></tr></table>"
    assert html_to_text(fragment(html)) == "序号 | 姓名\n\n1 | 王镕"


def test_layout_table_cells_are_not_joined_into_one_line():
    html = ("<table><tr><td><div>正文第一段</div><div>正文第二段</div></td>"
            "<td><table><tr><td>x</td></tr></table></td></tr></table>")
    assert html_to_text(fragment(html)) == "正文第一段\n\n正文第二段\n\nx"


def test_a_one_cell_layout_table_keeps_a_short_bodys_paragraphs():
    # DedeCMS's article template wraps the body in <table width='100%'><tr><td>
    assert html_to_text(fragment("<table width='100%'><tr><td><p>第一段。</p><p>第二段。</p></td></tr></table>")) == \
        "第一段。\n\n第二段。"
    assert html_to_text(fragment("<table><tr><td>第一段。<br>第二段。</td></tr></table>")) == "第一段。\n\n第二段。"


def test_script_style_and_comments_are_dropped():
    html = "<p>正文<script>var a='脚本';</script></p><style>p{}</style><!-- 注释 --><p>结束</p>"
    assert html_to_text(fragment(html)) == "正文\n\n结束"


def test_empty_paragraphs_are_dropped():
    assert html_to_text(fragment("<p>&nbsp;</p><p>\u3000</p><p>内容</p><p></p>")) == "内容"
