"""sanitize_html: structure kept; scripts, handlers, styles and Word cruft gone; URLs absolute."""

from __future__ import annotations

from normalizers.sanitize import sanitize_html

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
