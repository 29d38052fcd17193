"""The text of office documents from their bytes (``normalizers.documents``): DOCX and RTF in
code page 936, as WPS and Word save them on district subsites (the builders of the files are
``fixture_sites.attachment_files``'s, shared with the attachment fidelity test)."""

from __future__ import annotations

import io
import zipfile

import pytest

from fixture_sites.attachment_files import docx, ofd, rtf_escaped, xlsx
from normalizers.documents import DocumentError, docx_text, rtf_text

TITLE = "关于印发《北仑区2024年就业补助资金管理办法》的通知"
PARAS = ["各街道（镇）人力社保所：", "现将《管理办法》印发给你们，请认真贯彻执行。", "附件：1.申报表"]


def test_rtf_in_code_page_936_decodes_gbk_byte_pairs():
    body = "\\par\n".join(rtf_escaped(p) for p in PARAS)
    rtf = ("{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 " + rtf_escaped("宋体") + ";}}"
           "{\\colortbl;\\red0\\green0\\blue0;}{\\info{\\title " + rtf_escaped(TITLE) + "}{\\author admin}}"
           "{\\*\\generator WPS Office;}\\f0\\fs24 " + body + "\\par}")
    doc = rtf_text(rtf.encode("ascii"))
    assert doc.title == TITLE
    assert doc.text.split("\n") == PARAS  # no font name, no author, no generator in the text


def test_rtf_unicode_escapes_skip_their_fallbacks():
    # Word writes \uN followed by \ucN fallback characters (here one \'xx byte each)
    rtf = "{\\rtf1\\ansi\\ansicpg936\\uc1 " + "".join(f"\\u{ord(c)}\\'3f" for c in "社会保险") + " 2024\\par}"
    assert rtf_text(rtf.encode()).text == "社会保险 2024"


def test_rtf_text_is_cut_at_the_limit_and_says_so():
    rtf = "{\\rtf1\\ansi " + "x" * 10_000 + "}"
    doc = rtf_text(rtf.encode(), max_chars=100)
    assert len(doc.text) == 100 and doc.truncated


def test_a_file_that_is_not_rtf_is_named():
    with pytest.raises(DocumentError, match="not an RTF"):
        rtf_text(b"%PDF-1.4")


def test_docx_paragraphs_tables_and_title():
    doc = docx_text(docx(PARAS, title=TITLE, table=[["姓名", "单位"], ["张三", "区人力社保局"]]))
    assert doc.title == TITLE
    lines = doc.text.split("\n")
    assert lines[:3] == PARAS  # runs of one paragraph joined without a gap
    assert "张三\t区人力社保局" in doc.text


def test_a_docx_bomb_is_refused_before_it_is_inflated():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<a>" + b" " * (300 * 1024 * 1024) + b"</a>")
    with pytest.raises(DocumentError, match=r"zip bomb|larger than"):
        docx_text(out.getvalue())


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 truncated", "not a readable zip|damaged"),
    (b"not a zip at all", "not a readable zip"),
])
def test_damaged_docx_files_are_named(data, message):
    with pytest.raises(DocumentError, match=message):
        docx_text(data)


def test_a_docx_without_its_document_is_named():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DocumentError, match=r"word/document\.xml"):
        docx_text(out.getvalue())


def test_xlsx_every_sheet_in_order_a_line_per_row():
    from normalizers.documents import xlsx_text

    doc = xlsx_text(xlsx({"任免名单": [["姓名", "职务"], ["王镕", "劳动关系科科长"]], "统计": [["年度", 2024]]}))
    assert doc.text.split("\n") == ["任免名单", "姓名\t职务", "王镕\t劳动关系科科长", "", "统计", "年度\t2024"]


def test_ofd_pages_in_order_text_objects_on_one_baseline_make_one_line():
    from normalizers.documents import ofd_text

    per_character = [(ch, 25 + 4 * i) for i, ch in enumerate(PARAS[0])]  # one TextObject per character
    doc = ofd_text(ofd([[per_character, [(PARAS[1], 25)]], [[(PARAS[2][:3], 25), (PARAS[2][3:], 40)]]], TITLE))
    assert (doc.title, doc.pages) == (TITLE, 2)
    assert [line for line in doc.text.split("\n") if line] == PARAS


def test_an_ofd_without_its_document_is_named():
    from normalizers.documents import ofd_text

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody><ofd:DocRoot>"
                              "Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
    with pytest.raises(DocumentError, match=r"Doc_0/Document\.xml"):
        ofd_text(out.getvalue())
