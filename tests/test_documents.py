"""The text of office documents from their bytes (``normalizers.documents``): DOCX and RTF in
code page 936, as WPS and Word save them on district subsites, and the OLE binary formats (Word
97-2003 and its Kingsoft twin WPS, Excel BIFF8 and its twin ET); the builders of the files are
``fixture_sites.attachment_files``'s, shared with the attachment fidelity test."""

from __future__ import annotations

import datetime
import io
import time
import zipfile

import olefile
import pytest

from fixture_sites.attachment_files import (
    FIELD_BEGIN,
    FIELD_END,
    FIELD_SEPARATOR,
    cfb,
    docx,
    hyperlink,
    ofd,
    rtf_escaped,
    summary_information,
    word97,
    xls,
    xlsx,
)
from normalizers import documents
from normalizers.documents import DocumentError, doc_text, docx_text, rtf_text, xls_text
from normalizers.filetypes import sniff

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


# ------------------------------------------------------------------ Word 97-2003 and WPS

NOTICE = [TITLE, "仑人社〔2024〕12号", *PARAS, "联系电话：0574-86712345，网址：www.bl.gov.cn。",
          [["单位名称", "联系人"], ["区人力社保局", "王镕"]], "宁波市北仑区人力资源和社会保障局", "2024年3月12日"]
NOTICE_LINES = [TITLE, "仑人社〔2024〕12号", *PARAS, "联系电话：0574-86712345，网址：www.bl.gov.cn。",
                "单位名称\t联系人", "区人力社保局\t王镕", "宁波市北仑区人力资源和社会保障局", "2024年3月12日"]


def _streams(data: bytes) -> dict[str, bytes]:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        return {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}


def _pieces(data: bytes) -> list[tuple[int, bool]]:
    """(characters, compressed) of each piece of a document written by ``word97``."""
    streams = _streams(data)
    fib, table = streams["WordDocument"], streams["1Table"]
    clx = int.from_bytes(fib[0x1A2:0x1A6], "little")
    assert table[clx] == 0x01 and table[clx + 6] == 0x02  # a Prc, then the Pcdt
    size = int.from_bytes(table[clx + 7:clx + 11], "little")
    count, plc = (size - 4) // 12, clx + 11
    cps = [int.from_bytes(table[plc + 4 * i:plc + 4 * i + 4], "little") for i in range(count + 1)]
    fcs = [int.from_bytes(table[plc + 4 * (count + 1) + 8 * i + 2:plc + 4 * (count + 1) + 8 * i + 6], "little")
           for i in range(count)]
    return [(cps[i + 1] - cps[i], bool(fcs[i] & 0x40000000)) for i in range(count)]


def test_the_word_writer_makes_a_compound_file_olefile_reads():
    data = word97(NOTICE, title=TITLE)
    assert data[:8] == olefile.MAGIC and len(data) % 512 == 0
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        assert sorted(ole.listdir()) == [["\x05SummaryInformation"], ["1Table"], ["WordDocument"]]
        assert all(ole.get_size(name) >= 4096 for name in ("WordDocument", "1Table"))  # no mini stream
        fib = ole.openstream("WordDocument").read(0x1AA)
        assert fib[:4] == b"\xec\xa5\xc1\x00"  # wIdent 0xA5EC, nFib 0x00C1
        assert ole.get_metadata().title == TITLE.encode("gbk") and ole.get_metadata().codepage == 936
    assert sniff(data, filename="通知.doc").family == sniff(data, filename="通知.wps").family == "word-binary"


def test_doc_text_reads_utf16_and_compressed_pieces_tables_and_the_title():
    data = word97(NOTICE, title=TITLE)
    kinds = _pieces(data)
    assert any(compressed for _, compressed in kinds) and not all(compressed for _, compressed in kinds)
    doc = doc_text(data)
    assert doc.title == TITLE and not doc.truncated
    assert doc.text.split("\n") == NOTICE_LINES


def test_many_small_utf16_pieces_as_wps_writes_them_read_as_one_text():
    data = word97(NOTICE, compress=False, piece_chars=5)
    assert len(_pieces(data)) > 30 and not any(compressed for _, compressed in _pieces(data))
    assert doc_text(data).text.split("\n") == NOTICE_LINES
    assert doc_text(data).title is None  # no SummaryInformation


def test_a_compressed_piece_maps_the_0x80_0x9f_bytes_as_ms_doc_says():
    line = "Quotes “like this” – and ‘these’ — Œuvre, Ÿ, café, 50%"
    data = word97([line])
    assert _pieces(data) == [(len(line) + 1, True)]
    assert b"\x93like this\x94 \x96 and \x91these\x92 \x97 \x8cuvre, \x9f, caf\xe9" in _streams(data)["WordDocument"]
    assert doc_text(data).text == line


def test_field_codes_are_dropped_and_their_results_kept():
    nested_in_code = f"{FIELD_BEGIN} HYPERLINK \"http://www.bl.gov.cn/\" {FIELD_BEGIN} PAGE {FIELD_SEPARATOR}3{FIELD_END}" \
                     f" {FIELD_SEPARATOR}区政府网站{FIELD_END}"
    nested_in_result = f"{FIELD_BEGIN} REF 附件 {FIELD_SEPARATOR}附件{FIELD_BEGIN} SEQ {FIELD_SEPARATOR}2{FIELD_END}{FIELD_END}"
    no_result = f"{FIELD_BEGIN} NUMPAGES {FIELD_END}"
    data = word97([f"详见{nested_in_code}。", f"见{nested_in_result}：申报表", f"共{no_result}页",
                   "详见：" + hyperlink("http://www.bl.gov.cn/")])
    assert doc_text(data).text.split("\n") == ["详见区政府网站。", "见附件2：申报表", "共页", "详见：http://www.bl.gov.cn/"]


def test_word_control_characters_become_breaks_or_nothing():
    # a line break, a page break, a picture anchor, a non-breaking and an optional hyphen
    data = word97(["第一行\x0b第二行\x0c第三页\x01图", "电话0574\x1e86712345，自动\x1f换行"], compress=False)
    assert doc_text(data).text.split("\n") == ["第一行", "第二行", "第三页图", "电话0574-86712345，自动换行"]


def test_doc_text_is_cut_at_the_limit_and_says_so():
    data = word97(["通知正文" * 5000, "ASCII text " * 2000])
    doc = doc_text(data, max_chars=100)
    assert doc.text == ("通知正文" * 25) and doc.truncated
    assert not doc_text(data).truncated


def _rebuilt(data: bytes, **changes: bytes | None) -> bytes:
    streams = _streams(data)
    for name, value in changes.items():
        if value is None:
            del streams[name]
        else:
            streams[name] = value
    return cfb(streams)


def _patched(data: bytes, stream: str, at: int, value: int, size: int = 4) -> bytes:
    raw = bytearray(_streams(data)[stream])
    raw[at:at + size] = value.to_bytes(size, "little")
    return _rebuilt(data, **{stream: bytes(raw)})


def _clx(data: bytes) -> int:
    return int.from_bytes(_streams(data)["WordDocument"][0x1A2:0x1A6], "little")


def test_the_title_in_the_code_page_the_property_set_names():
    data = _rebuilt(word97(PARAS, title=TITLE), **{"\x05SummaryInformation": summary_information(TITLE, 65001)})
    assert doc_text(data).title == TITLE


def test_a_damaged_property_set_costs_the_title_at_most():
    data = word97(PARAS, title=TITLE)
    # four billion properties declared (olefile's get_metadata would loop over them all)
    started = time.monotonic()
    doc = doc_text(_patched(data, "\x05SummaryInformation", 48 + 4, 0xFFFFFFFF))
    assert time.monotonic() - started < 1 and doc.text.split("\n") == PARAS and doc.title == TITLE
    assert doc_text(_patched(data, "\x05SummaryInformation", 44, 0xFFFFFF)).title is None  # its section nowhere
    assert doc_text(_rebuilt(data, **{"\x05SummaryInformation": b"\xff" * 64})).title is None


def test_an_encrypted_word_document_is_named():
    with pytest.raises(DocumentError, match="encrypted"):
        doc_text(word97(PARAS, encrypted=True))


@pytest.mark.parametrize(("data", "message"), [
    (b"not an OLE file at all", "not an OLE compound file"),
    (b"PK\x03\x04 a docx", "not an OLE compound file"),
    (olefile.MAGIC + b"\x00" * 600, "damaged"),
    (word97(PARAS)[:1536], "damaged"),  # cut after the directory: the streams' sectors are missing
    (cfb({"Workbook": b"\x09\x08"}), "no WordDocument stream"),
])
def test_files_that_are_no_word_documents_are_named(data, message):
    with pytest.raises(DocumentError, match=message):
        doc_text(data)


def test_damaged_word_documents_are_named(monkeypatch):
    data = word97(PARAS)
    plc = _clx(data) + 6 + 5  # after the Prc and the Pcdt's type and size
    cases = [
        (_patched(data, "WordDocument", 0, 0x1234, 2), r"wIdent 0x1234"),
        (_patched(data, "WordDocument", 2, 0x0068, 2), r"Word 6\.0/95"),
        (_rebuilt(data, **{"1Table": None}), r"1Table stream, which is missing"),
        (_patched(data, "WordDocument", 0x1A6, 0), r"no piece table \(lcbClx 0\)"),
        (_patched(data, "WordDocument", 0x1A2, 10_000_000), r"beyond the 1Table stream"),
        (_patched(data, "1Table", _clx(data) + 6, 0x05, 1), r"no Pcdt"),
        (_patched(data, "1Table", plc - 4, 14), r"not 4 \+ 12 per piece"),
        (_patched(data, "1Table", plc + 4, 10_000_000), r"piece 0 .* beyond the WordDocument stream"),
        (_patched(data, "1Table", plc + 8 + 2, 0x00FFFFF0), r"piece 0 .* beyond the WordDocument stream"),
    ]
    for damaged, message in cases:
        with pytest.raises(DocumentError, match=message):
            doc_text(damaged)
    monkeypatch.setattr(documents, "MAX_PIECES", 3)
    with pytest.raises(DocumentError, match=r"lists \d+ pieces \(more than 3\)"):
        doc_text(word97(NOTICE, compress=False, piece_chars=5))


# ---------------------------------------------------------------- Excel 97-2003 and ET


def test_xls_every_sheet_in_order_numbers_as_written_and_dates_in_iso():
    data = xls({"任免名单": [["姓名", "职务", "公示日期"], ["王镕", "劳动关系科科长", datetime.date(2024, 3, 12)]],
                "预算": [["科目", "金额（万元）", "人数", "已审核"], ["工资福利支出", 1234.56, 12, True],
                         [], ["合计", 1234.56, 12.0, False]]})
    assert sniff(data, filename="名单.et").family == "excel-binary"
    doc = xls_text(data)
    assert doc.text.split("\n") == ["任免名单", "姓名\t职务\t公示日期", "王镕\t劳动关系科科长\t2024-03-12", "",
                                    "预算", "科目\t金额（万元）\t人数\t已审核", "工资福利支出\t1234.56\t12\tTRUE",
                                    "合计\t1234.56\t12\tFALSE"]
    assert not doc.truncated


def test_xls_text_is_cut_at_the_limit_and_says_so():
    doc = xls_text(xls({"名单": [[f"第{i}行", "北仑区人力资源和社会保障局"] for i in range(500)]}), max_chars=100)
    assert len(doc.text) == 100 and doc.truncated


def test_an_encrypted_workbook_is_named():
    stream = bytearray(_streams(xls({"名单": [["姓名"]]}))["Workbook"])
    bof = 4 + int.from_bytes(stream[2:4], "little")
    filepass = b"\x2f\x00\x06\x00" + b"\x00\x00\x01\x00\x01\x00"  # FILEPASS after the BOF: XOR obfuscation
    with pytest.raises(DocumentError, match="encrypted"):
        xls_text(cfb({"Workbook": bytes(stream[:bof]) + filepass + bytes(stream[bof:])}))


@pytest.mark.parametrize(("data", "message"), [
    (b"not a workbook at all", "not a readable Excel 97-2003 workbook"),
    (xlsx({"名单": [["姓名"]]}), "not a readable Excel 97-2003 workbook.*xlsx"),
    (word97(PARAS), "not a readable Excel 97-2003 workbook"),  # an OLE file without a Workbook stream
    (xls({"名单": [["姓名", "职务"]] * 200})[:3000], "not a readable Excel 97-2003 workbook|damaged"),
])
def test_files_that_are_no_readable_workbooks_are_named(data, message):
    with pytest.raises(DocumentError, match=message):
        xls_text(data)
