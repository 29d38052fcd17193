"""The text of office documents, from their bytes: pure functions, no I/O.

The crawl runs these in a worker process with CPU-time, memory and output limits
(``spiders.attachment_text``); they also bound what they read themselves (a zip member's
declared and real size, the characters of text returned), so a hostile file costs its budget
and no more. Each returns a :class:`DocumentText` or raises :class:`DocumentError` naming what is
wrong with the file.

* **DOCX** (``word/document.xml`` of the OOXML package): paragraphs from ``<w:p>``, runs'
  ``<w:t>``, tabs and breaks; tables row by row; the title from ``docProps/core.xml``. Read with
  the standard library's ``zipfile`` and lxml's ``iterparse`` (the XML is never held as a tree:
  a 200 MB ``document.xml`` costs its parse time, not its size in memory), entities and network
  access off.
* **XLSX** (人事任免 lists, 名单): every sheet in workbook order, a line per row, cells by tab;
  shared and inline strings, numbers as written; the sheet's name before its rows.
* **OFD** (GB/T 33190, the national fixed-layout format: a zip of XML): the document named by
  ``OFD.xml``'s ``DocRoot``, its pages in order, the ``TextCode`` of every ``TextObject``; the title
  from ``DocInfo``; the page count.
* **RTF**, as Chinese government sites produce it (WPS and Word save ``\\ansicpg936``): the
  ``\\'xx`` escapes are bytes of the document's code page, and a GBK character is two of them, so
  they are gathered and decoded together (reading each as a Latin-1 character — what most RTF
  strippers do — makes mojibake of every Chinese character); ``\\uN`` escapes with their ``\\ucN``
  fallbacks skipped; destinations that are not text (font and colour tables, pictures, objects,
  ``\\*`` groups) skipped; the title from ``{\\info{\\title …}}``.
* **DOC** (Word 97-2003, MS-DOC) and Kingsoft **WPS** (the same format): the OLE compound file
  opened with olefile; the FIB of the ``WordDocument`` stream (``wIdent`` 0xA5EC; Word 6/95 and
  encrypted files refused by name) names the table stream (``1Table`` or ``0Table``) and the Clx
  in it; the Clx's piece table maps the text's characters to runs of the ``WordDocument`` stream,
  UTF-16LE (Chinese text) or compressed 8-bit (cp1252-like, MS-DOC's own table for 0x80-0x9F).
  The main text, footnotes, endnotes and text boxes are read, not headers, footers or comments.
  Word's marks become text: paragraph, line, page and column breaks newlines; in tables a cell
  mark a tab and the row's mark (a second one in a row) a newline (the paragraph properties that
  tell an empty cell from a row's end are not read, so an empty cell may end its row early); a
  field's code (``HYPERLINK "…"``, ``PAGE``) dropped and its result kept; pictures' and notes'
  anchors dropped. A piece table of more than a million pieces, or pieces outside the stream,
  are refused. The title from ``\\x05SummaryInformation``, read with bounds of its own.
* **XLS** (Excel 97-2003, BIFF8; BIFF2-5 too) and Kingsoft **ET** (the same format), with xlrd:
  every sheet in order, the sheet's name, then a line per row, cells by tab; numbers as the XLSX
  reader writes them (integers without ``.0``), cells xlrd knows as dates in ISO 8601, booleans
  ``TRUE``/``FALSE``, errors as Excel shows them (``#N/A``); a line break inside a cell a space.
"""

from __future__ import annotations

import codecs
import datetime
import io
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import olefile
import xlrd
from lxml import etree
from xlrd.biffh import XLRDError
from xlrd.compdoc import CompDocError
from xlrd.formula import FormulaError

__all__ = ["DocumentError", "DocumentText", "doc_text", "docx_text", "ofd_text", "rtf_text", "xls_text", "xlsx_text"]

MAX_MEMBER_BYTES = 256 * 1024 * 1024  # a DOCX's document.xml, uncompressed
MAX_RATIO = 200  # uncompressed / compressed: beyond it a member is a zip bomb, not a document


class DocumentError(ValueError):
    """The file is not a readable document of its type (the message says what is wrong)."""


@dataclass(frozen=True, slots=True)
class DocumentText:
    text: str
    title: str | None = None
    pages: int | None = None
    truncated: bool = False  # the text was cut at the reader's character limit


class _Text:
    """Text gathered up to a limit of characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def add(self, s: str) -> bool:
        """Append ``s``; False once the limit is reached (the caller stops reading)."""
        if self.truncated or not s:
            return not self.truncated
        room = self.limit - self.size
        if len(s) > room:
            s, self.truncated = s[:room], True
        self.parts.append(s)
        self.size += len(s)
        return not self.truncated

    def value(self) -> str:
        return re.sub(r"\n{3,}", "\n\n", "".join(self.parts)).strip()


# ------------------------------------------------------------------------------------ DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def _member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_MEMBER_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO
                                             and info.file_size > 10 * 1024 * 1024):
        raise DocumentError(f"{name} declares {info.file_size:,} bytes uncompressed from {info.compress_size:,}: "
                            f"a zip bomb, not read")
    with archive.open(info) as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise DocumentError(f"{name} is larger than {MAX_MEMBER_BYTES:,} bytes uncompressed: not read")
    return data


def _open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(f"not a readable zip ({kind} is one): {exc}") from exc


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        data = _member(archive, name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DocumentError(f"the package is damaged: {exc}") from exc
    if data is None:
        return None
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"{name} is not well-formed XML: {exc}") from exc


def _core_title(archive: zipfile.ZipFile) -> str | None:
    try:
        core = _xml(archive, "docProps/core.xml")
    except DocumentError:
        return None
    found = core.find(_DC_TITLE) if core is not None else None
    return ((found.text or "").strip() or None) if found is not None else None


def docx_text(data: bytes, *, max_chars: int = 2_000_000) -> DocumentText:
    """The text of a DOCX file (see the module documentation)."""
    with _open_zip(data, "DOCX") as archive:
        try:
            body = _member(archive, "word/document.xml")  # bytes, not a tree: streamed below
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # a damaged or truncated member
            raise DocumentError(f"the package is damaged: {exc}") from exc
        title = _core_title(archive)
    if body is None:
        raise DocumentError("no word/document.xml: not a Word document")
    out = _Text(max_chars)
    in_cell, gap = 0, False  # inside a table cell a paragraph's end is a space, its cell's end a tab
    try:
        for event, el in etree.iterparse(io.BytesIO(body), events=("start", "end"), resolve_entities=False,
                                            no_network=True, huge_tree=False):
            tag = el.tag
            if event == "start":
                if tag == _W + "tc":
                    in_cell += 1
                continue
            if tag == _W + "t":
                if gap and el.text:
                    out.add(" ")
                    gap = False
                if not out.add(el.text or ""):
                    break
            elif tag == _W + "tab":
                out.add("\t")
            elif tag in (_W + "br", _W + "cr"):
                out.add("\n")
            elif tag == _W + "p":
                if in_cell:
                    gap = True
                else:
                    out.add("\n")
            elif tag == _W + "tc":
                in_cell, gap = max(in_cell - 1, 0), False
                out.add("\t")
            elif tag == _W + "tr":
                out.add("\n")
            if tag in (_W + "p", _W + "tbl"):
                el.clear(keep_tail=True)  # what was read is dropped: memory stays flat
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"word/document.xml is not well-formed XML: {exc}") from exc
    text = re.sub(r"[ \t]+\n", "\n", out.value())
    return DocumentText(text=text, title=title, truncated=out.truncated)


# ------------------------------------------------------------------------------------- RTF

_RTF_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|([^\\{}\r\n]+)|[\r\n]+")
# destinations whose content is not the document's text
_SKIP = frozenset({b"fonttbl", b"colortbl", b"stylesheet", b"pict", b"object", b"header", b"footer", b"headerl",
                   b"headerr", b"footerl", b"footerr", b"footnote", b"themedata", b"colorschememapping",
                   b"datastore", b"latentstyles", b"listtable", b"listoverridetable", b"rsidtbl", b"generator",
                   b"xmlnstbl", b"mmathPr", b"fldinst", b"bkmkstart", b"bkmkend", b"filetbl", b"revtbl",
                   b"pgdsctbl", b"author", b"operator", b"company", b"subject", b"keywords", b"comment",
                   b"doccomm", b"creatim", b"revtim", b"printim", b"buptim", b"userprops", b"xe", b"tc"})
_BREAKS = {b"par": "\n", b"line": "\n", b"sect": "\n", b"page": "\n", b"row": "\n", b"tab": "\t", b"cell": "\t",
           b"emdash": "—", b"endash": "–", b"lquote": "‘", b"rquote": "’", b"ldblquote": "“", b"rdblquote": "”",
           b"bullet": "•", b"~": "\u00a0", b"_": "-"}


def _codec(codepage: int) -> str:
    name = {936: "gb18030", 950: "big5", 65001: "utf-8", 932: "cp932", 949: "cp949", 1252: "cp1252"}.get(
        codepage, f"cp{codepage}")
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name


def rtf_text(data: bytes, *, max_chars: int = 2_000_000) -> DocumentText:
    """The text of an RTF file (see the module documentation)."""
    if not data.lstrip()[:5] == b"{\\rtf":
        raise DocumentError("no {\\rtf header: not an RTF file")
    codepage = 1252
    if m := re.search(rb"\\ansicpg(\d{3,5})", data[:4096]):
        codepage = int(m.group(1))
    codec = _codec(codepage)
    out = _Text(max_chars)
    title: list[str] = []
    pending = bytearray()  # \'xx bytes, decoded together (a GBK character is two of them)
    stack: list[tuple[bool, int, bool]] = []  # (skipping, uc, in title) of the enclosing groups
    skipping, uc, in_title = False, 1, False
    skip_chars = 0  # fallback characters still to skip after a \uN
    star = False  # the last token was \* (the next destination is optional: skipped)

    def emit(text: str) -> bool:
        if in_title:
            title.append(text)
            return True
        return skipping or out.add(text)

    def flush() -> bool:
        if not pending:
            return True
        text = bytes(pending).decode(codec, errors="replace")
        pending.clear()
        return emit(text)

    for m in _RTF_TOKEN.finditer(data):
        word, arg, hexbyte, symbol, brace, plain = m.groups()
        if hexbyte is not None:
            if skip_chars:
                skip_chars -= 1
                continue
            pending.append(int(hexbyte, 16))
            continue
        if not flush():
            break
        if brace == b"{":
            stack.append((skipping, uc, in_title))
            if len(stack) > 1000:
                raise DocumentError("groups nested deeper than 1000: not read")
            continue
        if brace == b"}":
            if stack:
                skipping, uc, in_title = stack.pop()
            star = False
            continue
        if symbol is not None:
            if symbol == b"*":
                star = True
                continue
            if skip_chars:
                skip_chars -= 1
                continue
            if symbol in (b"\\", b"{", b"}"):
                if not emit(symbol.decode()):
                    break
            elif (text := _BREAKS.get(symbol)) is not None:
                emit(text)
            continue
        if word is not None:
            if star:
                star = False
                skipping = True
                continue
            if word == b"title":
                in_title, skipping = True, True
                continue
            if word in _SKIP or word == b"info":
                skipping = True
                continue
            if word == b"uc" and arg is not None:
                uc = int(arg)
                continue
            if word == b"u" and arg is not None:
                code = int(arg)
                if code < 0:
                    code += 65536
                emit(chr(code))
                skip_chars = uc
                continue
            if (text := _BREAKS.get(word)) is not None and not emit(text):
                break
            continue
        if plain is not None:
            if skip_chars:
                drop = min(skip_chars, len(plain))
                plain, skip_chars = plain[drop:], skip_chars - drop
            if plain and not emit(plain.decode(codec, errors="replace")):
                break
    flush()
    text = re.sub(r"[ \t]+\n", "\n", out.value())
    return DocumentText(text=text, title="".join(title).strip() or None, truncated=out.truncated)


# ------------------------------------------------------------------------------------ XLSX

_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def xlsx_text(data: bytes, *, max_chars: int = 2_000_000) -> DocumentText:
    """The text of an XLSX workbook (see the module documentation)."""
    with _open_zip(data, "XLSX") as archive:
        workbook = _xml(archive, "xl/workbook.xml")
        if workbook is None:
            raise DocumentError("no xl/workbook.xml: not an Excel workbook")
        rels = _xml(archive, "xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(_REL)} if rels is not None else {}
        shared_root = _xml(archive, "xl/sharedStrings.xml")
        shared = ["".join(t.text or "" for t in si.iter(_S + "t")) for si in shared_root.iter(_S + "si")] \
            if shared_root is not None else []
        out = _Text(max_chars)
        for sheet in workbook.iter(_S + "sheet"):
            target = targets.get(sheet.get(_R_ID), "")
            name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            root = _xml(archive, name) if target else None
            if root is None:
                continue
            out.add(f"{sheet.get('name', '')}\n")
            for row in root.iter(_S + "row"):
                cells = []
                for c in row.iter(_S + "c"):
                    kind, v = c.get("t"), c.find(_S + "v")
                    if kind == "s" and v is not None and (v.text or "").isdigit() and int(v.text or 0) < len(shared):
                        cells.append(shared[int(v.text or 0)])
                    elif kind == "inlineStr":
                        cells.append("".join(t.text or "" for t in c.iter(_S + "t")))
                    elif v is not None:
                        cells.append(v.text or "")
                if any(cells) and not out.add("\t".join(cells).rstrip("\t") + "\n"):
                    break
            out.add("\n")
        return DocumentText(text=out.value(), title=_core_title(archive), truncated=out.truncated)


# ------------------------------------------------------------------------------------- OFD

_OFD = "{http://www.ofdspec.org/2016}"


def _ofd_path(base: str, loc: str) -> str:
    """A location in an OFD package, relative to the folder of the file that names it."""
    loc = loc.strip().replace("\\", "/")
    if loc.startswith("/"):
        return loc.lstrip("/")
    parts = [p for p in f"{base}/{loc}".split("/") if p and p != "."]
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        else:
            out.append(p)
    return "/".join(out)


def _boundary_y(boundary: str) -> tuple[float | None, float]:
    parts = boundary.split()
    try:
        return float(parts[1]), float(parts[3])
    except (IndexError, ValueError):
        return None, 0.0


def ofd_text(data: bytes, *, max_chars: int = 2_000_000) -> DocumentText:
    """The text of an OFD file (see the module documentation)."""
    with _open_zip(data, "OFD") as archive:
        entry = _xml(archive, "OFD.xml")
        if entry is None:
            raise DocumentError("no OFD.xml: not an OFD file")
        root_loc = entry.findtext(f"{_OFD}DocBody/{_OFD}DocRoot")
        if not root_loc:
            raise DocumentError("OFD.xml names no DocRoot")
        title = (entry.findtext(f"{_OFD}DocBody/{_OFD}DocInfo/{_OFD}Title") or "").strip() or None
        doc_name = _ofd_path("", root_loc)
        document = _xml(archive, doc_name)
        if document is None:
            raise DocumentError(f"the document {doc_name} named by OFD.xml is missing")
        folder = doc_name.rsplit("/", 1)[0] if "/" in doc_name else ""
        pages = [p.get("BaseLoc", "") for p in document.iter(f"{_OFD}Page")]
        out = _Text(max_chars)
        for loc in pages:
            page = _xml(archive, _ofd_path(folder, loc)) if loc else None
            if page is None:
                continue
            last_y: float | None = None
            for text_object in page.iter(f"{_OFD}TextObject"):
                # producers write a TextObject per line, per run or per character: objects on
                # the same baseline (their Boundary's y within half a height) are one line
                y, height = _boundary_y(text_object.get("Boundary", ""))
                if last_y is not None and (y is None or abs(y - last_y) > max(height, 1.0) / 2):
                    out.add("\n")
                last_y = y if y is not None else last_y
                run = "".join(code.text or "" for code in text_object.iter(f"{_OFD}TextCode"))
                if run and not out.add(run):
                    break
            out.add("\n\n")
        return DocumentText(text=out.value(), title=title, pages=len(pages), truncated=out.truncated)


# ------------------------------------------------------------- OLE: Word and Excel 97-2003

# what olefile raises on a damaged compound file (bad sector chains, short reads, odd sizes)
_OLE_ERRORS = (OSError, ValueError, IndexError, KeyError, TypeError, struct.error)


def _open_ole(data: bytes, kind: str) -> olefile.OleFileIO[str]:
    if data[:8] != olefile.MAGIC:
        raise DocumentError(f"not an OLE compound file ({kind} is one)")
    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except _OLE_ERRORS as exc:
        raise DocumentError(f"the compound file is damaged: {exc}") from exc


def _ole_title(ole: olefile.OleFileIO[str]) -> str | None:
    """The title (PIDSI_TITLE) in ``\\x05SummaryInformation``, or None.

    Read here rather than with olefile's ``get_metadata``: that loops over as many properties as
    the set declares (a damaged count is four billion), each failure caught, so a bad property set
    would cost the whole file its CPU budget instead of its title."""
    try:
        if not ole.exists("\x05SummaryInformation"):
            return None
        s = ole.openstream("\x05SummaryInformation").read(1024 * 1024)
    except _OLE_ERRORS:
        return None
    return _summary_title(s)


def _summary_title(s: bytes) -> str | None:
    """The title of a SummaryInformation property set (MS-OLEPS): a ``VT_LPSTR`` in the set's code
    page (GB18030 when it names none or one that cannot decode it) or a ``VT_LPWSTR``."""
    if len(s) < 48 or _u16(s, 0) != 0xFFFE:
        return None
    section = _u32(s, 44)
    offsets: dict[int, int] = {}
    for i in range(min(_u32(s, section + 4) if section + 8 <= len(s) else 0, 1000)):
        entry = section + 8 + 8 * i
        if entry + 8 > len(s):
            break
        offsets.setdefault(_u32(s, entry), section + _u32(s, entry + 4))  # a damaged count reads values as pairs
    cp_at, at = offsets.get(1), offsets.get(2)
    codepage = _u16(s, cp_at + 4) if cp_at is not None and cp_at + 6 <= len(s) and _u16(s, cp_at) == 0x0002 else None
    if at is None or at + 8 > len(s):
        return None
    kind, size = _u16(s, at), _u32(s, at + 4)
    if kind == 0x001F or (kind == 0x001E and codepage == 1200):  # UTF-16: a VT_LPWSTR counts characters
        title = s[at + 8:at + 8 + (2 * size if kind == 0x001F else size)].decode("utf-16-le", errors="replace")
    elif kind == 0x001E:
        raw = s[at + 8:at + 8 + size].split(b"\x00", 1)[0]
        try:
            title = raw.decode(_codec(codepage) if codepage else "gb18030")
        except UnicodeDecodeError:
            title = raw.decode("gb18030", errors="replace")
    else:
        return None
    return title.split("\x00", 1)[0].strip() or None


MAX_PIECES = 1_000_000  # a piece table longer than this is not a document's
_FIB_CLX = 33  # fcClx/lcbClx: the 34th pair of FibRgFcLcb97
# the stories of the text, in CP order (FibRgLw97 from ccpText): read (True) or skipped
_STORIES = (("main", True), ("footnotes", True), ("headers", False), ("macros", False), ("comments", False),
            ("endnotes", True), ("text boxes", True), ("header text boxes", False))
# 8-bit text of a compressed piece: Latin-1 but for these (MS-DOC 2.9.73, FcCompressed)
_COMPRESSED = {0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026", 0x86: "\u2020", 0x87: "\u2021",
               0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160", 0x8B: "\u2039", 0x8C: "\u0152", 0x91: "\u2018",
               0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022", 0x96: "\u2013", 0x97: "\u2014",
               0x98: "\u02dc", 0x99: "\u2122", 0x9A: "\u0161", 0x9B: "\u203a", 0x9C: "\u0153", 0x9F: "\u0178"}
_WORD_CONTROL = re.compile(r"[\x00-\x1f]")
_WORD_BREAKS = {0x09: "\t", 0x0A: "\n", 0x0B: "\n", 0x0C: "\n", 0x0D: "\n", 0x0E: "\n", 0x1E: "-"}
_MAX_FIELD_DEPTH = 1000
_CHUNK = 1 << 16  # characters decoded at a time: the character limit stops a huge piece early


class _WordText:
    """Word's characters as text: paragraph, line, page and column breaks as newlines; a cell
    mark as a tab and a second one in a row (the row's end) as a newline; a field's code (from
    its begin to its separator mark) dropped and its result kept; other control characters
    (anchors of pictures, footnotes, comments; optional hyphens) dropped."""

    def __init__(self, out: _Text) -> None:
        self.out = out
        self.fields: list[bool] = []  # per open field: past its separator
        self.in_code = 0  # open fields still in their code
        self.after_cell = False

    def feed(self, s: str) -> bool:
        """Add ``s``; False once the limit is reached."""
        at = 0
        for m in _WORD_CONTROL.finditer(s):
            if m.start() > at and not self._text(s[at:m.start()]):
                return False
            at = m.end()
            code = ord(m.group())
            if code == 0x13:
                if len(self.fields) < _MAX_FIELD_DEPTH:  # deeper is no document's: not tracked
                    self.fields.append(False)
                    self.in_code += 1
            elif code == 0x14:
                if self.fields and not self.fields[-1]:
                    self.fields[-1] = True
                    self.in_code -= 1
            elif code == 0x15:
                if self.fields and not self.fields.pop():
                    self.in_code -= 1
            elif code == 0x07:
                if not self.in_code:
                    self.out.add("\n" if self.after_cell else "\t")
                self.after_cell = not self.after_cell
                continue
            elif (text := _WORD_BREAKS.get(code)) and not self.in_code and not self.out.add(text):
                return False
            self.after_cell = False
        return at >= len(s) or self._text(s[at:])

    def _text(self, s: str) -> bool:
        self.after_cell = False
        return True if self.in_code else self.out.add(s)


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _fib(word: bytes) -> tuple[str, int, int, list[int]]:
    """The table stream's name, fcClx, lcbClx and the CP counts of the stories, from the FIB."""
    if len(word) < 64:
        raise DocumentError(f"the WordDocument stream ({len(word)} bytes) is too short for a FIB")
    if (ident := _u16(word, 0)) != 0xA5EC:
        raise DocumentError(f"no Word FIB in the WordDocument stream (wIdent 0x{ident:04X}, not 0xA5EC)")
    if (nfib := _u16(word, 2)) < 0x00C0:
        raise DocumentError(f"a Word 6.0/95 document (nFib 0x{nfib:04X}): only Word 97 and later are read")
    flags = _u16(word, 10)
    if flags & 0x0100:  # fEncrypted (with fObfuscated: XOR obfuscation, else RC4 or CryptoAPI)
        raise DocumentError("the document is encrypted (password-protected): not read")
    csw = _u16(word, 32)
    lw = 32 + 2 + 2 * csw + 2
    cslw = _u16(word, lw - 2)
    blob = lw + 4 * cslw + 2
    pairs = _u16(word, blob - 2) if blob <= len(word) else 0
    if cslw < 11 or pairs <= _FIB_CLX or blob + 8 * (_FIB_CLX + 1) > len(word):
        raise DocumentError(f"the FIB is damaged (csw {csw}, cslw {cslw}, cbRgFcLcb {pairs})")
    stories = [_u32(word, lw + 12 + 4 * i) for i in range(len(_STORIES))]
    fc_clx, lcb_clx = _u32(word, blob + 8 * _FIB_CLX), _u32(word, blob + 8 * _FIB_CLX + 4)
    return ("1Table" if flags & 0x0200 else "0Table"), fc_clx, lcb_clx, stories


def _pieces(table: bytes, name: str, fc: int, lcb: int, word_size: int) -> list[tuple[int, int, int, bool]]:
    """The pieces of the text (first CP, last CP + 1, byte offset in WordDocument, compressed),
    from the Clx at ``fc`` in the table stream: its Prcs skipped, then the Pcdt's PlcPcd."""
    if not lcb:
        raise DocumentError("the FIB gives no piece table (lcbClx 0)")
    end = fc + lcb
    if end > len(table):
        raise DocumentError(f"the Clx ({lcb:,} bytes at {fc:,}) lies beyond the {name} stream ({len(table):,} bytes)")
    at = fc
    while at < end and table[at] == 0x01:  # a Prc: property modifiers of pieces, not text
        size = int.from_bytes(table[at + 1:at + 3], "little", signed=True)
        if size < 0:
            raise DocumentError(f"a Prc of the Clx has a negative size ({size})")
        at += 3 + size
    if at >= end or table[at] != 0x02:
        raise DocumentError("the Clx holds no piece table (no Pcdt, type 0x02)")
    size = _u32(table, at + 1)
    plc = at + 5
    if plc + size > end:
        raise DocumentError(f"the piece table ({size:,} bytes) runs past the end of the Clx")
    if size < 16 or (size - 4) % 12:
        raise DocumentError(f"the piece table's size ({size:,} bytes) is not 4 + 12 per piece")
    count = (size - 4) // 12
    if count > MAX_PIECES:
        raise DocumentError(f"the piece table lists {count:,} pieces (more than {MAX_PIECES:,}): not read")
    cps = struct.unpack_from(f"<{count + 1}I", table, plc)
    pieces = []
    for i, (_, fc_compressed, _) in enumerate(struct.iter_unpack("<HIH", table[plc + 4 * (count + 1):plc + size])):
        first, last = cps[i], cps[i + 1]
        if last < first:
            raise DocumentError(f"the piece table's character positions go backwards at piece {i}")
        compressed = bool(fc_compressed & 0x40000000)
        offset = (fc_compressed & 0x3FFFFFFF) // 2 if compressed else fc_compressed & 0x3FFFFFFF
        if offset + (last - first) * (1 if compressed else 2) > word_size:
            raise DocumentError(f"piece {i} ({last - first:,} characters at byte {offset:,}) lies beyond the "
                                f"WordDocument stream ({word_size:,} bytes)")
        pieces.append((first, last, offset, compressed))
    return pieces


def _piece_text(word: bytes, offset: int, compressed: bool, start: int, stop: int) -> Iterator[str]:
    """The characters ``start``-``stop`` (from the piece's first) of a piece at ``offset``, a chunk
    at a time."""
    if compressed:
        for k in range(start, stop, _CHUNK):
            yield word[offset + k:offset + min(k + _CHUNK, stop)].decode("latin-1").translate(_COMPRESSED)
        return
    if stop - start <= _CHUNK:  # most pieces: one chunk
        yield word[offset + 2 * start:offset + 2 * stop].decode("utf-16-le", errors="replace")
        return
    decoder = codecs.getincrementaldecoder("utf-16-le")(errors="replace")  # a surrogate pair split by a chunk
    for k in range(start, stop, _CHUNK):
        yield decoder.decode(word[offset + 2 * k:offset + 2 * min(k + _CHUNK, stop)])
    yield decoder.decode(b"", final=True)


def doc_text(data: bytes, *, max_chars: int = 2_000_000) -> DocumentText:
    """The text of a Word 97-2003 binary document, ``.doc`` or Kingsoft ``.wps`` (see the module
    documentation)."""
    with _open_ole(data, "a Word 97-2003 document") as ole:
        if not ole.exists("WordDocument"):
            raise DocumentError("no WordDocument stream: not a Word document")
        try:
            word = ole.openstream("WordDocument").read()
            name, fc_clx, lcb_clx, stories = _fib(word)
            if not ole.exists(name):
                raise DocumentError(f"the FIB names the {name} stream, which is missing")
            table = ole.openstream(name).read()
        except _OLE_ERRORS as exc:
            raise DocumentError(f"the compound file is damaged: {exc}") from exc
        title = _ole_title(ole)
    pieces = _pieces(table, name, fc_clx, lcb_clx, len(word))
    ranges, cp = [], 0
    for n, (_, read) in zip(stories, _STORIES, strict=True):
        if read and n:
            ranges.append((cp, cp + n))
        cp += n
    if not cp:  # no story counts written: the whole piece table is the document
        ranges = [(0, pieces[-1][1])] if pieces else []
    out = _Text(max_chars)
    text = _WordText(out)
    for first_cp, last_cp in ranges:
        for first, last, offset, compressed in pieces:
            start, stop = max(first, first_cp), min(last, last_cp)
            if start >= stop:
                continue
            for chunk in _piece_text(word, offset, compressed, start - first, stop - first):
                if not text.feed(chunk):
                    break
            if out.truncated:
                break
        if out.truncated or not out.add("\n"):
            break
    clean = re.sub(r"[ \t]+\n", "\n", out.value())
    return DocumentText(text=clean, title=title, truncated=out.truncated)


# what xlrd lets out of a damaged workbook besides its own errors (LookupError: an index out of
# range, a missing key, an unknown code page)
_XLS_ERRORS = (XLRDError, CompDocError, FormulaError, struct.error, LookupError, ValueError, TypeError, AssertionError,
               EOFError, ArithmeticError)


def _xls_number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _xls_cell(cell: xlrd.sheet.Cell, datemode: Literal[0, 1]) -> str:
    """A cell as text: strings on one line, integral numbers without ``.0``, dates in ISO 8601
    (a time alone when there is no day), booleans ``TRUE``/``FALSE``, errors as Excel shows them."""
    kind, value = cell.ctype, cell.value
    if kind == xlrd.XL_CELL_TEXT:
        return re.sub(r"[\t\r\n]+", " ", str(value))
    if kind == xlrd.XL_CELL_NUMBER:
        return _xls_number(float(value))
    if kind == xlrd.XL_CELL_DATE:
        try:
            when = xlrd.xldate_as_datetime(float(value), datemode)
        except (ValueError, OverflowError):  # XLDateError is a ValueError
            return _xls_number(float(value))
        if float(value) < 1:
            return when.time().isoformat()
        return when.date().isoformat() if when.time() == datetime.time() else when.isoformat(sep=" ")
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(int(value), "#ERROR")
    return ""


def xls_text(data: bytes, *, max_chars: int = 2_000_000) -> DocumentText:
    """The text of an Excel 97-2003 workbook, ``.xls`` or Kingsoft ``.et`` (see the module
    documentation)."""
    try:
        # ragged rows: a row as long as its last cell, not padded to the sheet's widest; xlrd's
        # warnings into a buffer, not the reader process's stdout
        book = xlrd.open_workbook(file_contents=data, on_demand=True, formatting_info=False, ragged_rows=True,
                                  logfile=io.StringIO())
    except _XLS_ERRORS as exc:
        if "encrypted" in str(exc).lower():
            raise DocumentError("the workbook is encrypted (password-protected): not read") from exc
        raise DocumentError(f"not a readable Excel 97-2003 workbook: {exc}") from exc
    out = _Text(max_chars)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            out.add(f"{sheet.name}\n")
            for r in range(sheet.nrows):
                line = "\t".join(_xls_cell(cell, book.datemode) for cell in sheet.row(r)).rstrip("\t")
                if line and not out.add(line + "\n"):
                    break
            book.unload_sheet(index)
            if not out.add("\n"):
                break
    except _XLS_ERRORS as exc:
        raise DocumentError(f"the workbook is damaged: {exc}") from exc
    finally:
        book.release_resources()
    title = None
    if data[:8] == olefile.MAGIC:
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                title = _ole_title(ole)
        except _OLE_ERRORS:
            title = None
    return DocumentText(text=out.value(), title=title, truncated=out.truncated)
