"""What an attachment really is, from its bytes; and what it is called, from its response.

District subsites serve their documents badly: ``application/octet-stream`` for everything, a
``.doc`` that is an RTF or a web page saved by Word, a ``.xls`` that is HTML, download scripts
(``downfile.jsp?filename=…``, ``download.php?id=…``) whose URL says nothing, and file names in a
``Content-Disposition`` header as raw GBK bytes, percent-encoded UTF-8 or RFC 5987
``filename*``. The extractors must be chosen by what the file is, so:

* :func:`sniff` reads the type from the bytes (magic numbers; inside an OLE compound file the
  names of its streams, with ``olefile``; inside a zip the names of its members, with the
  standard library) and uses the declared type and the name's extension only to tell apart
  formats whose bytes are the same (a Kingsoft ``.wps`` and a Word ``.doc`` are both the Word
  binary format);
* :func:`attachment_name` reads the file's name from ``Content-Disposition`` (RFC 6266 and
  RFC 5987; GBK and UTF-8 raw bytes; percent-encoded values), else from the URL's query
  (``filename=``, ``name=``…), else from its last path segment.

Pure functions, no I/O beyond the bytes given: usable on saved files and in tests.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

import olefile

__all__ = ["FileType", "attachment_name", "sniff"]


@dataclass(frozen=True, slots=True)
class FileType:
    """A sniffed type: its MIME type, usual extension and the family of extractors that read it
    (``pdf``, ``word-binary``, ``excel-binary``, ``ooxml-word``, ``ooxml-excel``, ``rtf``,
    ``html``, ``ofd``, ``zip``, ``text``, ``image``, ``archive``, ``encrypted``, ``unknown``)."""

    mime: str
    ext: str
    family: str


PDF = FileType("application/pdf", "pdf", "pdf")
DOC = FileType("application/msword", "doc", "word-binary")
WPS = FileType("application/vnd.ms-works", "wps", "word-binary")  # Kingsoft Writer: the Word binary format
XLS = FileType("application/vnd.ms-excel", "xls", "excel-binary")
ET = FileType("application/vnd.ms-excel", "et", "excel-binary")  # Kingsoft Spreadsheets
PPT = FileType("application/vnd.ms-powerpoint", "ppt", "powerpoint-binary")
DPS = FileType("application/vnd.ms-powerpoint", "dps", "powerpoint-binary")  # Kingsoft Presentation
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "ooxml-word")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "ooxml-excel")
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx",
                "ooxml-powerpoint")
ODT = FileType("application/vnd.oasis.opendocument.text", "odt", "opendocument")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods", "opendocument")
OFD = FileType("application/ofd", "ofd", "ofd")  # GB/T 33190: a zip of XML
ZIP = FileType("application/zip", "zip", "zip")
RTF = FileType("application/rtf", "rtf", "rtf")
HTML = FileType("text/html", "html", "html")
MHTML = FileType("multipart/related", "mht", "mhtml")  # Word's "web page, single file"
XML = FileType("application/xml", "xml", "xml")
TEXT = FileType("text/plain", "txt", "text")
ENCRYPTED_OOXML = FileType("application/x-encrypted-office", "docx", "encrypted")
OLE_OTHER = FileType("application/x-ole-storage", "bin", "unknown")
UNKNOWN = FileType("application/octet-stream", "bin", "unknown")

_MAGIC: tuple[tuple[bytes, FileType], ...] = (
    (b"\x89PNG\r\n\x1a\n", FileType("image/png", "png", "image")),
    (b"\xff\xd8\xff", FileType("image/jpeg", "jpg", "image")),
    (b"GIF87a", FileType("image/gif", "gif", "image")),
    (b"GIF89a", FileType("image/gif", "gif", "image")),
    (b"BM", FileType("image/bmp", "bmp", "image")),
    (b"II*\x00", FileType("image/tiff", "tif", "image")),
    (b"MM\x00*", FileType("image/tiff", "tif", "image")),
    (b"Rar!\x1a\x07", FileType("application/vnd.rar", "rar", "archive")),
    (b"7z\xbc\xaf\x27\x1c", FileType("application/x-7z-compressed", "7z", "archive")),
    (b"\x1f\x8b", FileType("application/gzip", "gz", "archive")),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
                         re.IGNORECASE | re.DOTALL)
_HTML_ANYWHERE = re.compile(rb"<html[\s>]|<body[\s>]|<table[\s>]", re.IGNORECASE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _ext(filename: str | None) -> str:
    return PurePosixPath(filename or "").suffix.lower().lstrip(".")


def sniff(data: bytes, *, declared: str | None = None, filename: str | None = None) -> FileType:
    """The type of ``data`` (see the module documentation); ``declared`` (the Content-Type) and
    ``filename`` only choose between types with the same bytes, never override the bytes."""
    ext = _ext(filename)
    head = data[:8]
    if data[:1024].lstrip()[:5] == b"%PDF-":
        return PDF
    if head == _OLE_MAGIC:
        return _ole(data, ext)
    if head[:4] in _ZIP_MAGIC:
        return _zip(data)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    text = data
    for bom in _BOMS:
        if text.startswith(bom):
            text = text[len(bom):]
            break
    start = text[:4096]
    if start.lstrip()[:5] == b"{\\rtf":
        return RTF
    if b"MIME-Version:" in start[:512] and b"multipart/related" in start.lower():
        return MHTML
    if _HTML_START.match(start) or (_HTML_ANYWHERE.search(start) and _texty(start)):
        return HTML
    if start.lstrip()[:5] == b"<?xml":
        return XML
    if _texty(start):
        return TEXT
    return UNKNOWN


def _texty(start: bytes) -> bool:
    """No NULs and few control bytes: text in some 8-bit or multi-byte encoding."""
    if not start or b"\x00" in start:
        return False
    controls = sum(1 for b in start if b < 0x20 and b not in (9, 10, 12, 13))
    return controls <= len(start) // 100


def _ole(data: bytes, ext: str) -> FileType:
    """An OLE compound file: Word, Excel, PowerPoint (or their Kingsoft twins, told by the
    extension), or an encrypted OOXML package (Office's password protection)."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError, TypeError):  # olefile raises these on a damaged file
        return OLE_OTHER
    if "encryptedpackage" in streams:
        return ENCRYPTED_OOXML
    if "worddocument" in streams:
        return WPS if ext == "wps" else DOC
    if "workbook" in streams or "book" in streams:
        return ET if ext == "et" else XLS
    if "powerpoint document" in streams:
        return DPS if ext == "dps" else PPT
    return OLE_OTHER


def _zip(data: bytes) -> FileType:
    """A zip: an OOXML or OpenDocument package, an OFD, or a plain archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            lowered = {n.lower() for n in names}
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return ZIP  # truncated or damaged: still a zip, its reader reports what is wrong
    if "[content_types].xml" in lowered:
        if any(n.startswith("word/") for n in lowered):
            return DOCX
        if any(n.startswith("xl/") for n in lowered):
            return XLSX
        if any(n.startswith("ppt/") for n in lowered):
            return PPTX
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return ODT
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return ODS
    if "ofd.xml" in lowered:
        return OFD
    return ZIP


# ------------------------------------------------------------------------------------ names

_EXT_VALUE = re.compile(r"filename\*\s*=\s*([^;]*)", re.IGNORECASE)
_PLAIN_VALUE = re.compile(r'filename\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.IGNORECASE)
_QUERY_NAMES = ("filename", "fileName", "file_name", "name", "fname", "file", "title")


def _decode_bytes(raw: bytes) -> str:
    """Bytes of a file name: UTF-8 when they are valid UTF-8, else GB18030 (a superset of GBK,
    what Chinese servers send raw)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _unpercent(value: str) -> str:
    return _decode_bytes(unquote_to_bytes(value)) if "%" in value else value


def _clean_name(name: str) -> str | None:
    """A file name as stored: no directories, no control characters, trimmed; None if empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip().strip(".").strip()
    return name or None


def attachment_name(url: str, content_disposition: bytes | str | None = None) -> str | None:
    """The file name of a downloaded attachment (see the module documentation), or None."""
    if content_disposition:
        if isinstance(content_disposition, bytes):
            header = _decode_bytes(content_disposition)
        else:  # a raw header an HTTP library decoded as latin-1: its bytes again, decoded as they were meant
            header = content_disposition
            with contextlib.suppress(UnicodeEncodeError):
                header = _decode_bytes(content_disposition.encode("latin-1"))
        if m := _EXT_VALUE.search(header):  # RFC 5987: charset'language'percent-encoded
            charset, _, rest = m.group(1).strip().strip('"').partition("'")
            _, _, encoded = rest.partition("'")
            raw = unquote_to_bytes(encoded)
            try:
                name = raw.decode(charset or "utf-8")
            except (LookupError, UnicodeDecodeError):
                name = _decode_bytes(raw)
            if cleaned := _clean_name(name):
                return cleaned
        if m := _PLAIN_VALUE.search(header):
            value = m.group(1).strip()
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                # quoted-string escapes only (\" and \\): a bare backslash is a Windows path's
                value = re.sub(r'\\(["\\])', r"\1", value[1:-1])
            if cleaned := _clean_name(_unpercent(value)):
                return cleaned
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=False, encoding="latin-1"))
    for key in _QUERY_NAMES:
        value = query.get(key)
        if value and "." in value:
            return _clean_name(_decode_bytes(value.encode("latin-1")))
    last = parts.path.rsplit("/", 1)[-1]
    return _clean_name(_unpercent(last)) if last else None
