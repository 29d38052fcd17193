"""decode_html: BOM, HTTP charset, <meta>, fallbacks, and wrong declarations on GBK pages."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizers.encoding import decode_html, normalize_charset, plausibility

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


def _plausibility_reference(text: str) -> float:
    """The character-by-character definition ``plausibility`` computes with one translate."""
    from normalizers.encoding import _CJK_PUNCT, _COMMON_HANZI, _SAMPLE_CHARS

    good = bad = total = 0.0
    for ch in text[:_SAMPLE_CHARS]:
        code = ord(ch)
        if code < 0x80:
            continue
        total += 1
        if ch in _COMMON_HANZI or ch in _CJK_PUNCT:
            good += 1
        elif 0x4E00 <= code <= 0x9FFF:
            good += 0.15
        elif 0xFF01 <= code <= 0xFF5E:
            good += 0.5
        elif code <= 0x9F or 0xE000 <= code <= 0xF8FF or code == 0xFFFD or 0xD800 <= code <= 0xDFFF:
            bad += 1
    return 1.0 if total == 0 else (good - bad) / total


@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF,
                                      exclude_categories=()), max_size=300)
       | st.text(alphabet="的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"))
@settings(max_examples=300)
def test_plausibility_is_the_character_by_character_definition(text: str) -> None:
    assert plausibility(text) == pytest.approx(_plausibility_reference(text))
