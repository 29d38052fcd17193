"""decode_html: BOM, HTTP charset, <meta>, fallbacks, and wrong declarations on GBK pages."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from normalizers.encoding import decode_html, normalize_charset

PAGES = Path(__file__).parent / "pages"
GBK_PAGE = PAGES / "php_bureau_notice.html"  # GBK bytes declaring gb2312, with 镕/堃/珺
ARTICLE = "<html><head>{meta}</head><body><p>北仑区人力资源和社会保障局关于王镕、李堃、陈珺同志任职的通知，现予以公布。</p></body></html>"


def page(meta: str, encoding: str) -> bytes:
    return ARTICLE.format(meta=meta).encode(encoding)


def test_gb2312_declaration_is_decoded_as_gb18030_so_gbk_only_characters_survive():
    decoded = decode_html(GBK_PAGE.read_bytes())
    assert decoded.encoding == "gb18030" and decoded.source == "meta"
    assert all(name in decoded.text for name in ("王镕", "李堃", "陈珺"))
    assert "\ufffd" not in decoded.text


@pytest.mark.parametrize("alias", ["gb2312", "GBK", "gb_2312-80", "x-gbk", "cp936", "GB18030"])
def test_every_gb_alias_means_gb18030(alias):
    assert normalize_charset(alias) == "gb18030"


def test_bom_wins_over_every_declaration():
    body = codecs.BOM_UTF8 + page('<meta charset="gbk">', "utf-8")
    decoded = decode_html(body, "text/html; charset=gb2312")
    assert decoded.source == "bom" and "王镕" in decoded.text and not decoded.text.startswith("\ufeff")


def test_http_charset_is_used_when_the_page_declares_nothing():
    decoded = decode_html(page("", "gbk"), "text/html; charset=GBK")
    assert (decoded.encoding, decoded.source) == ("gb18030", "http")


def test_meta_http_equiv_content_charset_is_read():
    decoded = decode_html(page('<meta http-equiv="Content-Type" content="text/html; charset=gbk">', "gbk"))
    assert (decoded.encoding, decoded.source) == ("gb18030", "meta")


def test_meta_charset_beyond_the_first_4kb_is_ignored():
    body = b"<html><head><!--" + b"x" * 5000 + b'--><meta charset="big5"></head></html>'
    assert decode_html(body).source == "fallback"


def test_utf8_declared_on_gbk_bytes_is_detected():
    decoded = decode_html(page('<meta charset="utf-8">', "gbk"))
    assert decoded.encoding == "gb18030" and "王镕" in decoded.text


def test_saved_asp_page_declaring_utf8_over_gbk_bytes_decodes_cleanly():
    decoded = decode_html((PAGES / "asp_word_cruft.html").read_bytes())
    assert decoded.encoding == "gb18030" and "大碶街道" in decoded.text and not decoded.lossy


@pytest.mark.parametrize("wrong", ["iso-8859-1", "big5", "windows-1252", "shift_jis", "euc-kr"])
def test_a_wrong_http_charset_on_gbk_bytes_does_not_give_mojibake(wrong):
    decoded = decode_html(GBK_PAGE.read_bytes(), f"text/html; charset={wrong}")
    assert decoded.encoding == "gb18030"
    assert "关于公布2024年第3批就业见习基地名单的通知" in decoded.text


def test_gbk_declared_on_utf8_bytes_is_read_as_utf8():
    decoded = decode_html(page('<meta charset="gb2312">', "utf-8"))
    assert decoded.encoding == "utf-8" and "王镕" in decoded.text


def test_a_real_big5_page_stays_big5():
    text = "<meta charset='big5'><p>這是臺灣的繁體中文網頁，我們說明政府資訊公開的規定與申請方式。</p>"
    decoded = decode_html(text.encode("big5"))
    assert decoded.text == text


def test_a_real_latin1_page_stays_latin1():
    decoded = decode_html("<p>Café, déjà vu</p>".encode("latin-1"), "text/html; charset=iso-8859-1")
    assert decoded.text == "<p>Café, déjà vu</p>"


def test_undeclared_utf8_is_tried_before_gb18030():
    decoded = decode_html(page("", "utf-8"))
    assert (decoded.encoding, decoded.source) == ("utf-8", "fallback")


def test_undeclared_gbk_falls_back_to_gb18030():
    decoded = decode_html(page("", "gbk"))
    assert decoded.encoding == "gb18030" and "李堃" in decoded.text


def test_damaged_bytes_decode_with_replacement_and_say_so():
    body = GBK_PAGE.read_bytes()
    decoded = decode_html(body[:3000] + b"\xff\x81" + body[3000:])
    assert decoded.encoding == "gb18030" and decoded.lossy
    assert "陈珺" in decoded.text and "\ufffd" in decoded.text


def test_empty_body_decodes_to_empty_text():
    assert decode_html(b"").text == ""


def test_random_bytes_never_raise():
    rng = random.Random(7)
    for _ in range(300):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(400)))
        header = rng.choice([None, "text/html; charset=gbk", "charset=utf-16", "charset=no-such", "charset=big5", ""])
        assert isinstance(decode_html(body, header).text, str)


# --- UTF-16 and UTF-32 ----------------------------------------------------------------------

WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
_BOMS_BY_CODEC = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
                  "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}


@pytest.mark.parametrize("codec", WIDE)
def test_a_wide_page_with_a_bom_decodes_by_it(codec):
    text = ARTICLE.format(meta="")
    decoded = decode_html(_BOMS_BY_CODEC[codec] + text.encode(codec))
    assert decoded.text == text and decoded.source == "bom" and decoded.replacements == 0


@pytest.mark.parametrize("codec", WIDE)
def test_a_wide_page_without_a_bom_declared_in_the_http_header_decodes(codec):
    text = ARTICLE.format(meta="")
    decoded = decode_html(text.encode(codec), f"text/html; charset={codec.rsplit('-', 1)[0].upper()}")
    assert (decoded.text, decoded.encoding, decoded.source) == (text, codec, "http")


@pytest.mark.parametrize("codec", WIDE)
def test_a_wide_page_without_a_bom_declared_by_its_meta_charset_decodes(codec):
    text = ARTICLE.format(meta=f'<meta charset="{codec.rsplit("-", 1)[0]}">')
    decoded = decode_html(text.encode(codec))
    assert (decoded.text, decoded.encoding, decoded.source) == (text, codec, "meta")


@pytest.mark.parametrize("codec", WIDE)
def test_wide_bytes_win_over_an_8_bit_declaration(codec):
    # an editor saved a GBK template as UTF-16: the bytes cannot be GBK text
    text = ARTICLE.format(meta='<meta charset="gb2312">')
    decoded = decode_html(text.encode(codec), "text/html; charset=gbk")
    assert decoded.text == text and decoded.encoding == codec


def test_utf16_declared_on_ascii_compatible_bytes_is_read_as_utf8():
    decoded = decode_html(page('<meta charset="utf-16">', "utf-8"), "text/html; charset=utf-16")
    assert decoded.encoding == "utf-8" and "王镕" in decoded.text


# --- replacement characters are counted ------------------------------------------------------

def test_every_undecodable_byte_sequence_is_counted():
    body = page("", "gbk")
    at = body.index("王镕".encode("gbk"))
    decoded = decode_html(body[:at] + b"\xff" + body[at:at + 10] + b"\xff" + body[at + 10:])
    assert decoded.encoding == "gb18030" and decoded.replacements == 2 and decoded.lossy


def test_a_u_fffd_the_page_really_has_is_not_counted():
    decoded = decode_html(page("<meta charset='utf-8'>", "utf-8").replace("王".encode(), "\ufffd".encode()))
    assert decoded.encoding == "utf-8" and "\ufffd" in decoded.text and decoded.replacements == 0


def test_a_lone_surrogate_in_utf16_is_counted():
    text = ARTICLE.format(meta="")
    raw = text.encode("utf-16-le")
    at = raw.index("王".encode("utf-16-le"))
    decoded = decode_html(raw[:at] + b"\x00\xd8" + raw[at:], "text/html; charset=utf-16")
    assert decoded.encoding == "utf-16-le" and decoded.replacements == 1 and "王镕" in decoded.text


def test_bytes_damaged_behind_a_bom_are_counted():
    decoded = decode_html(codecs.BOM_UTF8 + page("", "utf-8") + b"\xff\xfe")
    assert decoded.source == "bom" and decoded.replacements == 2
