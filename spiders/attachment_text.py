"""An attachment's text, read in a worker process with limits, so a hostile file costs its budget.

The text readers of Tika-based crawlers run in the crawler's JVM: a malformed PDF that loops, a
zip bomb or a 2 GB spreadsheet stalls or kills the crawl. Here each file is read by a process
of its own, forked for it by a reader process started once (the "zygote", ``python -m
spiders.attachment_text --serve``, its readers already imported: a file costs a fork, not an
interpreter start), with POSIX limits (``RLIMIT_CPU``: CPU seconds; ``RLIMIT_AS``: address space;
``RLIMIT_FSIZE`` 0: it writes no file; no core dumps), in a process group of its own, under a
wall-clock timeout (a reader blocked on nothing: the group is killed) and a cap on what it may
answer; the external tools it runs (poppler's ``pdftotext``, ``pdftoppm``, Tesseract) inherit the
limits. Whatever happens to it, :func:`read_text` returns a :class:`TextResult` whose ``error``
names the file and what stopped it (the CPU limit, the memory limit, the timeout, the output cap,
the reader's own message); it never raises for a bad file. A zygote that dies is replaced; one
zygote serves one caller at a time (a crawl reading two files at once has two).

Readers by family (``normalizers.filetypes.sniff``): ``pdf`` — poppler's ``pdftotext`` (the
reference PDF text extractor on Debian: C++, GPL tool run as a program, good with CID-keyed
Chinese fonts through ``poppler-data``'s CMaps; the bytes given on its standard input), one run
of ``-htmlmeta`` for the text, title and page count, and OCR for a scan when the site asks;
``ooxml-word``, ``ooxml-excel``, ``word-binary`` (Word 97-2003 and Kingsoft WPS),
``excel-binary`` (Excel 97-2003 and Kingsoft ET), ``ofd`` and ``rtf`` —
:mod:`normalizers.documents`; ``html`` (a web page saved as ``.doc`` or ``.xls``) — lxml over
the page decoded by :func:`normalizers.encoding.decode_html`; ``zip`` — each member sniffed and
read by its own reader (names in GBK as Chinese Windows writes them; at most
:data:`ZIP_MAX_MEMBERS` members, :data:`ZIP_MAX_BYTES` inflated, nested :data:`ZIP_MAX_DEPTH`
deep, bomb ratios refused; the members not read are named in ``error``). Other families are
``unsupported`` (named in the result, never silently empty).
"""

from __future__ import annotations

import atexit
import contextlib
import html
import io
import json
import os
import queue
import re
import resource
import select
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from normalizers.documents import DocumentError, doc_text, docx_text, ofd_text, rtf_text, xls_text, xlsx_text

__all__ = ["Limits", "TextResult", "read_text"]

READABLE = ("pdf", "ooxml-word", "ooxml-excel", "word-binary", "excel-binary", "ofd", "rtf", "html", "zip")


@dataclass(frozen=True, slots=True)
class Limits:
    """What reading one file may cost."""

    cpu_seconds: int = 30
    memory_bytes: int = 1024 * 1024 * 1024  # address space of the reader (and each tool it runs)
    wall_seconds: float = 60.0
    max_chars: int = 2_000_000  # text kept; more is cut and marked truncated
    ocr_pages: int = 0  # a PDF without a text layer is read by OCR, this many pages at most (0: no OCR)


@dataclass(frozen=True, slots=True)
class TextResult:
    """``status``: ``ok``, ``empty`` (read, no text: a scanned PDF), ``unsupported`` or
    ``error`` (``error`` says why, naming the file)."""

    status: str
    text: str = ""
    title: str | None = None
    pages: int | None = None
    truncated: bool = False
    error: str | None = None
    seconds: float = 0.0


def _limit(limits: Limits) -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def read_text(path: Path, family: str, limits: Limits | None = None) -> TextResult:
    """The text of the file at ``path`` read as ``family`` (see the module documentation)."""
    limits = limits or Limits()
    path = path.absolute()  # the reader runs in another working folder
    if family not in READABLE:
        return TextResult("unsupported", error=f"{path.name}: no text reader for {family} files")
    started = time.monotonic()
    try:
        zygote = _IDLE.get_nowait()
    except queue.Empty:
        zygote = _Zygote()
    try:
        result = zygote.read(path, family, limits)
    finally:
        if zygote.alive:
            _IDLE.put(zygote)
    return TextResult(**{**result, "seconds": time.monotonic() - started})


def _why_stopped(sig: int, limits: Limits) -> str:
    return {int(signal.SIGXCPU): f"the CPU-time limit ({limits.cpu_seconds} s)",
            int(signal.SIGKILL): f"the CPU-time limit ({limits.cpu_seconds} s)",
            int(signal.SIGXFSZ): "an attempt to write a file",
            int(signal.SIGSEGV): "a crash of the reader (segmentation fault)"}.get(sig, f"signal {sig}")


class _Zygote:
    """A reader process started once (``python -m spiders.attachment_text --serve``, its
    readers imported) that forks a child per file: the child takes the limits, its own process
    group, reads and answers; the zygote enforces the wall clock and the output cap and says
    what stopped a child. A file costs a fork, not an interpreter start (~60 ms). A zygote that
    dies or stops answering is replaced."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spiders.attachment_text", "--serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
            # no .pyc written: past RLIMIT_FSIZE a write is a SIGXFSZ
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, cwd=Path(__file__).resolve().parent.parent)
        _ALL.add(self)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def read(self, path: Path, family: str, limits: Limits) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {"family": family, "path": str(path), "limits": asdict(limits)}
        try:
            self.proc.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], limits.wall_seconds + 15)
            line = self.proc.stdout.readline() if ready else b""
        except (BrokenPipeError, OSError, ValueError):
            line = b""
        if not line:
            self.close()
            return {"status": "error", "error": f"{path.name}: the reader process stopped answering"}
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        _ALL.discard(self)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


_IDLE: queue.SimpleQueue[_Zygote] = queue.SimpleQueue()
_ALL: set[_Zygote] = set()


@atexit.register
def _close_all() -> None:
    for zygote in list(_ALL):
        zygote.close()


def _serve() -> int:
    """The zygote's loop: a JSON request a line in, a JSON result a line out."""
    for line in sys.stdin.buffer:
        request = json.loads(line)
        result = _forked(request["family"], Path(request["path"]), Limits(**request["limits"]))
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def _forked(family: str, path: Path, limits: Limits) -> dict[str, object]:
    """One file read by a forked child with the limits (in the zygote)."""
    cap = limits.max_chars * 4 + 1024 * 1024  # UTF-8 of the text, JSON escapes, the rest of the result
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own group (a timeout kills it and the tools it ran), the limits
        os.close(out_r)
        code = 0
        try:
            os.setsid()
            _limit(limits)
            data = json.dumps(_worker(family, path, limits.max_chars, limits.ocr_pages), ensure_ascii=False)
        except MemoryError:
            data = json.dumps({"status": "error", "error": f"{path.name}: reading stopped by the memory limit "
                                                           f"({limits.memory_bytes // (1024 * 1024)} MiB)"})
        except BaseException as exc:  # noqa: BLE001 - whatever the reader raised is the file's error
            data = json.dumps({"status": "error", "error": f"{path.name}: reading failed: {type(exc).__name__}: {exc}"})
        try:
            view = memoryview(data.encode())
            while view:
                view = view[os.write(out_w, view):]
        except OSError:
            code = 1
        os._exit(code)
    os.close(out_w)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + limits.wall_seconds
    stopped = None
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([out_r], [], [], max(0.0, left))
        if not ready:
            stopped = f"reading stopped after {limits.wall_seconds:g} s (wall-clock limit)"
            break
        chunk = os.read(out_r, 1 << 16)
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            stopped = f"the reader printed more than {cap:,} bytes"
            break
        chunks.append(chunk)
    os.close(out_r)
    if stopped is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # the tools a dead child left behind
    if stopped is not None:
        return {"status": "error", "error": f"{path.name}: {stopped}"}
    if os.WIFSIGNALED(status):
        return {"status": "error", "error": f"{path.name}: reading stopped by {_why_stopped(os.WTERMSIG(status), limits)}"}
    try:
        result: dict[str, object] = json.loads(b"".join(chunks))
    except ValueError:
        return {"status": "error", "error": f"{path.name}: reading failed: no answer from the reader"}
    return result


def _last_line(stderr: bytes, default: str) -> str:
    """What a failed program said last (its error), shortened."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else default


# ------------------------------------------------------------------------------ the worker


def _run_tool(args: list[str], data: bytes) -> str:
    return _run_tool_bytes(args, data).decode("utf-8", "replace")


def _run_tool_bytes(args: list[str], data: bytes) -> bytes:
    done = subprocess.run(args, input=data, capture_output=True, check=False)
    if done.returncode < 0:  # the tool inherited the reader's limits
        why = {int(signal.SIGXCPU): "stopped at the CPU-time limit", int(signal.SIGKILL): "killed (a limit)",
               int(signal.SIGSEGV): "crashed (segmentation fault)",
               int(signal.SIGXFSZ): "stopped: it tried to write a file"}.get(-done.returncode,
                                                                              f"killed by signal {-done.returncode}")
        raise ValueError(f"{args[0]}: {why}")
    if done.returncode != 0:
        raise ValueError(f"{args[0]}: {_last_line(done.stderr, f'exit {done.returncode}')}")
    return done.stdout


def _pdf(data: bytes, max_chars: int, ocr_pages: int = 0) -> dict[str, object]:
    """One ``pdftotext -htmlmeta`` run: the title from its ``<title>``, the page count from the
    form feed that ends each page, the text from its ``<pre>``."""
    page = _run_tool(["pdftotext", "-enc", "UTF-8", "-htmlmeta", "-", "-"], data)
    head, _, rest = page.partition("<pre>")
    body = rest.rpartition("</pre>")[0]
    found = re.search(r"<title>(.*?)</title>", head, re.S)
    title = html.unescape(found.group(1)).strip() or None if found else None
    pages = body.count("\f") or None
    text = html.unescape(body).replace("\f", "\n")
    joined = "\n".join(line.rstrip() for line in text.splitlines()).strip()
    if ocr_pages > 0 and len(joined) < 10 * (pages or 1):  # no text layer: a scan
        return _ocr(data, max_chars, min(pages or 1, ocr_pages), pages, title)
    return _result(joined, max_chars, title=title, pages=pages)


OCR_DPI = 200
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])[ \t]+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def _ocr(data: bytes, max_chars: int, budget: int, pages: int | None, title: str | None) -> dict[str, object]:
    """A scanned PDF read by Tesseract (``chi_sim``, Debian's ``tesseract-ocr-chi-sim``), page by
    page as poppler's ``pdftoppm`` renders it (grey, 200 dpi, through pipes: no file is
    written), at most ``budget`` pages; the spaces Tesseract puts between Chinese characters
    removed."""
    texts = []
    for page in range(1, budget + 1):
        image = _run_tool_bytes(["pdftoppm", "-r", str(OCR_DPI), "-gray", "-png", "-f", str(page), "-l", str(page),
                                 "-"], data)
        raw = _run_tool(["tesseract", "stdin", "stdout", "-l", "chi_sim", "--psm", "6"], image)
        texts.append("\n".join(_CJK_GAP.sub("", line).strip() for line in raw.splitlines() if line.strip()))
    result = _result("\n".join(texts).strip(), max_chars, title=title, pages=pages,
                     truncated=pages is not None and pages > budget)
    result["error"] = (f"read by OCR (Tesseract chi_sim), {budget} of {pages} pages" if pages and pages > budget
                       else None)
    return result


def _result(text: str, max_chars: int, *, title: str | None = None, pages: int | None = None,
            truncated: bool = False) -> dict[str, object]:
    return {"status": "ok" if text else "empty", "text": text[:max_chars], "title": title, "pages": pages,
            "truncated": truncated or len(text) > max_chars}


_BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
                     "article", "blockquote", "pre", "dd", "dt"})


def _html(data: bytes, max_chars: int) -> dict[str, object]:
    """A web page saved as a document (Word's "save as web page" named .doc, an HTML .xls):
    its text, a line per block, cells by tab; scripts, styles and Word's conditional comments
    dropped."""
    # imported here: the worker loads only the readers of the file it reads
    from lxml import etree
    from lxml import html as lxml_html

    # imported here: as the two above
    from normalizers.encoding import decode_html

    text = decode_html(data).text
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"not readable as HTML: {exc}") from None
    for bad in root.xpath("//script|//style|//comment()|//head"):
        bad.drop_tree()
    parts: list[str] = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.lower() in _BLOCKS:
            parts.append("\n")
        elif tag.lower() in ("td", "th"):
            parts.append("\t")
        if element.text and tag.lower() not in ("script", "style"):
            parts.append(element.text)
        if element.tail:
            parts.append(element.tail)
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in "".join(parts).splitlines()]
    title = root.findtext(".//title")
    return _result("\n".join(line for line in lines if line), max_chars,
                   title=" ".join(title.split()) if title else None)


ZIP_MAX_MEMBERS = 200
ZIP_MAX_DEPTH = 2
ZIP_MAX_BYTES = 256 * 1024 * 1024  # inflated, all members together
ZIP_MAX_RATIO = 200  # a member inflating more than this per compressed byte is a bomb


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author wrote it: Chinese Windows zips store GBK names without
    the UTF-8 flag, which the standard library reads as code page 437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _zip(data: bytes, max_chars: int, depth: int = 0) -> dict[str, object]:
    """The text of each readable member of an archive, members in archive order, a blank line
    between two; nested archives to :data:`ZIP_MAX_DEPTH`; at most :data:`ZIP_MAX_MEMBERS`
    members and :data:`ZIP_MAX_BYTES` inflated, a member whose compression ratio is a bomb's
    refused before it is inflated."""
    # imported here: the worker loads only the readers of the file it reads
    from normalizers.filetypes import sniff

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValueError(f"not a readable zip archive: {exc}") from None
    members = [i for i in archive.infolist() if not i.is_dir()]
    if len(members) > ZIP_MAX_MEMBERS:
        raise ValueError(f"the archive has {len(members)} members (at most {ZIP_MAX_MEMBERS} are read)")
    total = sum(i.file_size for i in members)
    if total > ZIP_MAX_BYTES:
        raise ValueError(f"the archive inflates to {total:,} bytes (at most {ZIP_MAX_BYTES:,})")
    parts, skipped, truncated = [], [], False
    for info in members:
        name = _member_name(info)
        if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
            skipped.append(f"{name}: compression ratio {info.file_size // info.compress_size}:1 (a bomb)")
            continue
        try:
            member = archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError) as exc:  # encrypted, damaged
            skipped.append(f"{name}: {exc}")
            continue
        family = sniff(member, filename=name).family
        if family == "zip" and depth + 1 >= ZIP_MAX_DEPTH:
            skipped.append(f"{name}: an archive nested deeper than {ZIP_MAX_DEPTH}")
            continue
        if family not in READABLE:
            skipped.append(f"{name}: no text reader for {family} files")
            continue
        try:
            got = _zip(member, max_chars, depth + 1) if family == "zip" else _read(family, member, max_chars)
        except (ValueError, OSError) as exc:
            skipped.append(f"{name}: {exc}")
            continue
        if got.get("status") == "error":
            skipped.append(f"{name}: {got.get('error')}")
        elif got.get("text"):
            parts.append(str(got["text"]))
            truncated = truncated or bool(got.get("truncated"))
    result = _result("\n\n".join(parts), max_chars, truncated=truncated)
    if skipped:
        result["error"] = "members not read: " + "; ".join(skipped)[:1500]
    if not parts and skipped:
        result["status"] = "error"
    return result


def _document(family: str, data: bytes, max_chars: int) -> dict[str, object]:
    reader = {"ooxml-word": docx_text, "ooxml-excel": xlsx_text, "word-binary": doc_text, "excel-binary": xls_text,
              "ofd": ofd_text, "rtf": rtf_text}[family]
    try:
        doc = reader(data, max_chars=max_chars)
    except DocumentError as exc:
        raise ValueError(str(exc)) from None
    return _result(doc.text, max_chars, title=doc.title, pages=doc.pages, truncated=doc.truncated)


def _read(family: str, data: bytes, max_chars: int) -> dict[str, object]:
    """The text of some bytes of a readable family (raises ValueError for a bad file)."""
    if family == "pdf":
        return _pdf(data, max_chars)
    if family == "html":
        return _html(data, max_chars)
    if family == "zip":
        return _zip(data, max_chars)
    return _document(family, data, max_chars)


def _worker(family: str, name: Path, max_chars: int, ocr_pages: int) -> dict[str, object]:
    """What reading one file gave, as the result's fields (in the limited child)."""
    try:
        if family == "pdf":
            result = _pdf(name.read_bytes(), max_chars, ocr_pages)
        else:
            result = _read(family, name.read_bytes(), max_chars)
    except (ValueError, OSError) as exc:
        return {"status": "error", "error": f"{name.name}: {exc}"}
    if result.get("error"):
        result["error"] = f"{name.name}: {result['error']}"
    return asdict(TextResult(**result))  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    """``--serve``: the zygote; ``FAMILY FILE MAX_CHARS [OCR_PAGES]``: read one file (no limits:
    a manual check)."""
    if argv[:1] == ["--serve"]:
        return _serve()
    family, name, max_chars = argv[0], Path(argv[1]), int(argv[2])
    sys.stdout.write(json.dumps(_worker(family, name, max_chars, int(argv[3]) if len(argv) > 3 else 0),
                                ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
