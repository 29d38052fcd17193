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
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

__all__ = ["DocumentError", "DocumentText", "docx_text", "ofd_text", "rtf_text", "xlsx_text"]

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
