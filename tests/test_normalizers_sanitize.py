"""sanitize_html: structure kept; scripts, handlers, styles and Word cruft gone; URLs absolute."""

from __future__ import annotations

import re

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from normalizers.sanitize import REMOVED_WITH_CONTENT, VOID_ELEMENTS, sanitize_html
from normalizers.text import clean_text

BASE = "http://rsj.bl.gov.cn/show.php?id=103"


def test_structure_is_kept():
    html = ("<h2>一</h2><p>段<strong>粗</strong><em>斜</em><u>线</u><br>下</p><ul><li>甲</li></ul>"
            "<table><tr><th colspan='2'>表</th></tr><tr><td rowspan='2'>1</td><td>2</td></tr></table>")
    out = sanitize_html(html, BASE)
    for piece in ("<h2>一</h2>", "<strong>粗</strong>", "<em>斜</em>", "<u>线</u>", "<br>", "<li>甲</li>",
                  '<th colspan="2">', '<td rowspan="2">'):
        assert piece in out


def test_scripts_styles_and_their_content_are_removed():
    out = sanitize_html("<p>正文</p><script>alert('x')</script><style>p{color:red}</style>", BASE)
    assert out == "<p>正文</p>"


def test_event_handlers_style_class_and_id_are_removed():
    out = sanitize_html('<p id="a" class="MsoNormal" style="color:red" onclick="go()" onmouseover="x()">文</p>', BASE)
    assert out == "<p>文</p>"


def test_word_cruft_is_removed():
    html = ('<!--[if gte mso 9]><xml><w:WordDocument>junk</w:WordDocument></xml><![endif]-->'
            '<p class="MsoListParagraph" style="mso-list:l0 level1 lfo1"><![if !supportLists]><span>一、</span>'
            '<![endif]><span style="mso-spacerun:yes">正文</span><span lang="EN-US"><o:p></o:p></span></p>'
            '<p class="MsoNormal"><span lang="EN-US"><o:p>&nbsp;</o:p></span></p>'
            '<st1:chsdate year="2019" month="5" day="17">2019</st1:chsdate>')
    out = sanitize_html(html, BASE)
    assert "mso" not in out and "o:p" not in out and "xml" not in out and "junk" not in out
    assert "<![" not in out and "<!--" not in out and "st1" not in out and "lang=" not in out
    assert "一、" in out and "正文" in out and "2019" in out


def test_empty_spans_are_dropped():
    assert sanitize_html('<p>甲<span style="x"></span><span> </span>乙</p>', BASE) == "<p>甲 乙</p>"


def test_links_and_images_are_made_absolute():
    html = '<a href="uploadfile/a.pdf">甲</a><img src="../img/b.jpg" alt="图">'
    out = sanitize_html(html, "http://x.gov.cn/a/b/c.html")
    assert 'href="http://x.gov.cn/a/b/uploadfile/a.pdf"' in out
    assert 'src="http://x.gov.cn/a/img/b.jpg"' in out and 'alt="图"' in out


def test_only_http_https_and_mailto_links_survive():
    out = sanitize_html('<a href="javascript:alert(1)">j</a><a href="ftp://h/f">f</a><a href="mailto:a@b.cn">m</a>'
                        '<a href="https://h/x">s</a>', BASE)
    assert "javascript" not in out and "ftp:" not in out
    assert 'href="mailto:a@b.cn"' in out and 'href="https://h/x"' in out


def test_url_map_moves_links_to_the_public_origin():
    out = sanitize_html('<a href="/f.pdf">f</a>', "http://127.0.0.1:8080/show.php?id=1",
                        url_map=lambda u: u.replace("http://127.0.0.1:8080", "http://rsj.bl.gov.cn"))
    assert 'href="http://rsj.bl.gov.cn/f.pdf"' in out


def test_iframes_forms_and_hidden_elements_are_removed():
    out = sanitize_html('<iframe src="http://ads"></iframe><div style="display:none">关键词堆砌</div><p>文</p>', BASE)
    assert out == "<p>文</p>"


def test_empty_input_gives_empty_output():
    assert sanitize_html("", BASE) == "" and sanitize_html("   ", BASE) == ""


# --- no element truncates the text ----------------------------------------------------------

@pytest.mark.parametrize("void", sorted(VOID_ELEMENTS))
def test_a_void_element_keeps_what_follows_it(void):
    out = sanitize_html(f"<p>前文</p><{void} src=x.swf><p>后文</p>尾", BASE)
    assert "前文" in out and "后文" in out and "尾" in out


def test_an_embedded_flash_movie_goes_and_the_text_after_it_stays():
    out = sanitize_html("<p>before</p><embed src=x.swf><p>after</p>", BASE)
    assert out == "<p>before</p><p>after</p>"


@pytest.mark.parametrize("tag", ["font color=red", "center", "marquee", "nobr", "blink", "layer", "ilayer",
                                 "nolayer", "spacer", "multicol", "big", "tt", "strike", "acronym", "o:p",
                                 "st1:chsdate year=2019", "st1:place", "w:sdt", "foo", "x-widget"])
def test_an_unclosed_legacy_or_unknown_element_keeps_what_follows_it(tag):
    out = sanitize_html(f"<p>前文<{tag}>中间<p>后文</p>尾", BASE)
    assert all(piece in out for piece in ("前文", "中间", "后文", "尾")), out


def test_stray_document_end_tags_do_not_end_the_text():
    out = sanitize_html("<p>正文</p></body></html><p>后文</p></HTML >尾", BASE)
    assert "正文" in out and "后文" in out and "尾" in out


@pytest.mark.parametrize("tag", ["xmp", "plaintext", "listing", "noembed", "noframes"])
def test_raw_text_legacy_elements_keep_their_text_once_escaped(tag):
    out = sanitize_html(f"<{tag}>a <b> & c</{tag}>后", BASE)
    assert visible_text(out) == visible_text(f"<{tag}>a <b> & c</{tag}>后") and "后" in out


def test_an_unterminated_conditional_comment_hides_only_itself():
    out = sanitize_html("<p>甲</p><!--[if gte mso 9]>隐藏--><p>可见</p><!--[if x]><![endif]--><p>乙</p>", BASE)
    assert "可见" in out and "隐藏" not in out


# The property: whatever the tag soup, the sanitized HTML shows the same text as its input, but
# for what the sanitizer removes on purpose. "Visible text" is lxml's parse of the fragment
# (both sides read the same way) with the two rules of HTML5 libxml2 lacks: a void element holds
# nothing (what the parser put in one follows it), and </body>, </html> end nothing. Removed on
# purpose: the elements of REMOVED_WITH_CONTENT with all they hold, hidden elements
# (display:none, visibility:hidden), VML drawings (v:*), comments.
_END_OF_DOCUMENT = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _removes(el) -> bool:
    tag = el.tag if isinstance(el.tag, str) else None
    if tag is None:  # comments, processing instructions
        return True
    tag = tag.lower()
    if tag in VOID_ELEMENTS:
        return False
    return tag in REMOVED_WITH_CONTENT or tag.startswith("v:") or bool(_HIDDEN.search(el.get("style") or ""))


def visible_text(fragment: str) -> str:
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(_END_OF_DOCUMENT.sub("", fragment), create_parent="div")
    shown: list[str] = []

    def visible(owner) -> bool:  # no element from owner up to the root removes its content
        return not any(_removes(a) for a in [owner, *owner.iterancestors()] if a is not root)

    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event == "start" and el.text and visible(el):
            shown.append(el.text)
        elif event != "start" and el is not root and el.tail and visible(el.getparent()):
            shown.append(el.tail)  # after the element (or the comment)
    return "".join(clean_text(" ".join(shown)).split())


_TEXT = st.lists(st.one_of(
    st.text(alphabet="北仑区人力资源社会保障局通知公告，。：（）abcXYZ0129 \u3000\u00a0", min_size=1, max_size=8),
    st.sampled_from(["&nbsp;", "&amp;", "&lt;", "&gt;", "&quot;", "&#20013;", "&#x6587;", "&copy;", "&foo;",
                     "& ", "1 < 2", "a > b", "&#12288;"]),
), min_size=1, max_size=4).map("".join)
_CONTAINERS = ["p", "div", "span", "b", "i", "strong", "em", "u", "h1", "h3", "ul", "ol", "li", "blockquote",
               "pre", "a href=x.html", "font color=red", "font face=宋体 size=3", "center", "marquee", "nobr",
               "blink", "layer", "ilayer", "nolayer", "big", "tt", "strike", "s", "acronym", "dir", "menu",
               "multicol", "o:p", "st1:chsdate year=2019", "st1:place", "w:sdt", "foo", "x-widget", "custom-el",
               "section", "article", "label", "sub", "sup", "small", "abbr", "q", "cite", "address",
               "span style=display:none", "div style='visibility: hidden'", "v:shape", "script", "style", "select",
               "textarea", "iframe", "noscript", "object", "button", "xml", "template"]
_VOIDS = ["embed src=x.swf", "img src=a.jpg alt=图", "br", "hr", "input type=text value=v", "wbr",
          "source src=a.mp4", "track src=a.vtt", "param name=movie value=x.swf", "area href=x", "col span=2",
          "base href=/", "link rel=stylesheet href=a.css", "meta charset=gbk", "keygen", "bgsound src=a.mid",
          "embed src=x.swf /", "foo /", "o:p /", "v:imagedata src=a.png /"]
_LEAVES = st.one_of(
    _TEXT,
    st.sampled_from(_VOIDS).map(lambda tag: f"<{tag}>"),
    st.sampled_from(["<!-- 注释 -->", "<!--[if gte mso 9]><xml>隐藏</xml><![endif]-->",
                     "<![if !supportLists]>一、<![endif]>", "</body>", "</html>", "</p>", "</div>", "</font>",
                     "</span>", "</foo>"]),
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def build(tag: str, inner: list[str], closed: bool) -> str:
        name = tag.split()[0]
        return f"<{tag}>{''.join(inner)}" + (f"</{name}>" if closed else "")

    return st.builds(build, st.sampled_from(_CONTAINERS), st.lists(children, max_size=4), st.booleans())


TAG_SOUP = st.lists(st.recursive(_LEAVES, _element, max_leaves=24), min_size=1, max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(TAG_SOUP)
def test_sanitizing_tag_soup_loses_no_visible_text(html):
    assert visible_text(sanitize_html(html, BASE)) == visible_text(html)
