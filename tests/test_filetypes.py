"""Attachment types sniffed from their bytes, and their names read from the response
(``normalizers.filetypes``).

The OLE compound files are built here byte by byte after MS-CFB (version 3, 512-byte sectors,
one FAT sector, one directory sector, the streams in regular sectors), so each test file holds
exactly the streams a Word, Excel, PowerPoint or encrypted-OOXML file has at its root; the zip
packages are written with ``zipfile`` with the members each format requires.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from normalizers.filetypes import attachment_name, sniff

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, *, left: int = NOSTREAM, right: int = NOSTREAM, child: int = NOSTREAM,
               start: int = END, size: int = 0) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\x00") + struct.pack("<HBB3I", len(encoded), kind, 1, left, right, child)
            + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16 + struct.pack("<IQ", start, size))


def ole_file(*streams: str) -> bytes:
    """An OLE compound file whose root holds ``streams`` (each 4096 bytes: regular sectors)."""
    assert 1 <= len(streams) <= 3
    per = 8  # 4096-byte streams: 8 sectors of 512 each
    fat = [FATSECT, END]
    for i in range(len(streams)):
        first = 2 + i * per
        fat += [*range(first + 1, first + per), END]
    fat += [FREE] * (128 - len(fat))
    entries = [_dir_entry("Root Entry", 5, child=1)]
    for i, name in enumerate(streams):
        entries.append(_dir_entry(name, 2, right=i + 2 if i + 1 < len(streams) else NOSTREAM,
                                  start=2 + i * per, size=4096))
    entries += [_dir_entry("", 0)] * (4 - len(entries))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIII", 0, 1, 1, 0, 4096, END, 0, END) + struct.pack("<I", 0)
              + struct.pack("<I", 0) + struct.pack("<109I", 0, *([FREE] * 108))[4:])
    assert len(header) == 512, len(header)
    body = struct.pack("<128I", *fat) + b"".join(entries)
    return header + body + b"\x00" * (4096 * len(streams))


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("data", "filename", "ext", "family"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", None, "pdf", "pdf"),
    (b"\r\n  %PDF-1.4\n", "x.doc", "pdf", "pdf"),  # junk before the header, a wrong extension
    (ole_file("WordDocument", "1Table"), "通知.doc", "doc", "word-binary"),
    (ole_file("WordDocument"), "通知.wps", "wps", "word-binary"),  # Kingsoft Writer: Word's format
    (ole_file("Workbook"), "名单.xls", "xls", "excel-binary"),
    (ole_file("Book"), "old.xls", "xls", "excel-binary"),  # Excel 5/95
    (ole_file("Workbook"), "名单.et", "et", "excel-binary"),
    (ole_file("PowerPoint Document"), "汇报.ppt", "ppt", "powerpoint-binary"),
    (ole_file("EncryptionInfo", "EncryptedPackage"), "加密.docx", "docx", "encrypted"),
    (ole_file("Contents"), "x.bin", "bin", "unknown"),
    (zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}), "a.zip", "docx",
     "ooxml-word"),
    (zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}), None, "xlsx", "ooxml-excel"),
    (zip_of({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}), None, "pptx",
     "ooxml-powerpoint"),
    (zip_of({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), None, "odt",
     "opendocument"),
    (zip_of({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"}), "公文.zip", "ofd", "ofd"),
    (zip_of({"附件1.pdf": b"%PDF-1.4", "附件2.doc": b"{\\rtf1}"}), "附件.rar", "zip", "zip"),
    (b"PK\x03\x04truncated", None, "zip", "zip"),  # damaged: still a zip, its reader says what is wrong
    (b"{\\rtf1\\ansi\\ansicpg936 {\\f0 \\'cd\\'a8\\'d6\\'aa}}", "通知.doc", "rtf", "rtf"),  # a .doc that is RTF
    (b"\xef\xbb\xbf{\\rtf1 }", None, "rtf", "rtf"),
    ("<html><head><meta charset=gbk></head><body>通知</body></html>".encode("gbk"), "名单.xls", "html", "html"),
    (b"<!DOCTYPE html>\n<html lang=zh>", "x.doc", "html", "html"),
    (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n", "x.doc", "mht", "mhtml"),
    (b"<?xml version='1.0'?><root/>", None, "xml", "xml"),
    ("关于做好2024年度工作的通知\r\n各单位：".encode("gbk"), "x.txt", "txt", "text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "scan.pdf", "png", "image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", None, "jpg", "image"),
    (b"Rar!\x1a\x07\x00", None, "rar", "archive"),
    (b"\x00\x01\x02\x03\x04\x05\x06\x07" * 8, "x.doc", "bin", "unknown"),
    (b"", "x.pdf", "bin", "unknown"),
])
def test_the_type_comes_from_the_bytes(data, filename, ext, family):
    kind = sniff(data, declared="application/octet-stream", filename=filename)
    assert (kind.ext, kind.family) == (ext, family)


def test_the_declared_type_never_overrides_the_bytes():
    assert sniff(b"%PDF-1.4", declared="text/html", filename="a.html").family == "pdf"
    assert sniff(b"<html><body>x</body></html>", declared="application/pdf", filename="a.pdf").family == "html"


NAME = "关于印发《北仑区2024年就业补助资金管理办法》的通知.doc"


@pytest.mark.parametrize(("disposition", "url"), [
    # RFC 5987 (what modern servers send, often beside a fallback)
    ("attachment; filename=\"fallback.doc\"; filename*=UTF-8''"
     "%E5%85%B3%E4%BA%8E%E5%8D%B0%E5%8F%91%E3%80%8A%E5%8C%97%E4%BB%91%E5%8C%BA2024%E5%B9%B4%E5%B0%B1"
     "%E4%B8%9A%E8%A1%A5%E5%8A%A9%E8%B5%84%E9%87%91%E7%AE%A1%E7%90%86%E5%8A%9E%E6%B3%95%E3%80%8B%E7%9A%84"
     "%E9%80%9A%E7%9F%A5.doc", "http://x.bl.gov.cn/download.php?id=7"),
    # raw GBK bytes in the header (legacy ASP and JSP servers)
    (f'attachment; filename="{NAME}"'.encode("gbk"), "http://x.bl.gov.cn/downfile.jsp?id=7"),
    # the same bytes after an HTTP library decoded the header as latin-1
    (f'attachment; filename="{NAME}"'.encode("gbk").decode("latin-1"), "http://x.bl.gov.cn/downfile.jsp"),
    # raw UTF-8 bytes
    (f"attachment; filename={NAME}".encode(), "http://x.bl.gov.cn/d.aspx?id=7"),
    # percent-encoded UTF-8 in a plain filename= (IE-era servers)
    ("attachment;filename=" + "".join(f"%{b:02X}" for b in NAME.encode()), "http://x.bl.gov.cn/d?id=7"),
    # percent-encoded GBK in the query of a download script, no header
    (None, "http://x.bl.gov.cn/downfile.jsp?filename=" + "".join(f"%{b:02X}" for b in NAME.encode("gbk"))),
    # percent-encoded UTF-8 in the path
    (None, "http://x.bl.gov.cn/uploadfile/2024/" + "".join(f"%{b:02X}" for b in NAME.encode())),
    # a directory in the name is dropped
    (f'attachment; filename="C:\\Users\\admin\\桌面\\{NAME}"'.encode("gbk"), "http://x.bl.gov.cn/d?id=1"),
])
def test_the_name_is_read_from_the_response(disposition, url):
    assert attachment_name(url, disposition) == NAME


def test_no_name_when_nothing_says_one():
    assert attachment_name("http://x.bl.gov.cn/download.php?id=7", None) == "download.php"
    assert attachment_name("http://x.bl.gov.cn/", "inline") is None
