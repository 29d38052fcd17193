"""An attachment's text, read in a worker process with limits, so a hostile file costs its budget.

The text readers of Tika-based crawlers run in the crawler's JVM: a malformed PDF that loops, a
zip bomb or a 2 GB spreadsheet stalls or kills the crawl. Here each file is read by a new
process (``python -m spiders.attachment_text FAMILY FILE MAX_CHARS``) started with POSIX limits
(``RLIMIT_CPU``: CPU seconds; ``RLIMIT_AS``: address space; ``RLIMIT_FSIZE`` 0: it writes no
file; no core dumps), a wall-clock timeout (a reader blocked on nothing) and a cap on what it may
print; the external tools it runs (poppler's ``pdftotext`` and ``pdfinfo``) inherit the limits.
Whatever happens to it, :func:`read_text` returns a :class:`TextResult` whose ``error`` names the
file and what stopped it (the CPU limit, the memory limit, the timeout, the output cap, the
reader's own message); it never raises for a bad file.

Readers by family (``normalizers.filetypes.sniff``): ``pdf`` — poppler's ``pdftotext`` (the
reference PDF text extractor on Debian: C++, GPL tool run as a program, good with CID-keyed
Chinese fonts through ``poppler-data``'s CMaps) and ``pdfinfo`` for the page count and title;
``ooxml-word``, ``ooxml-excel``, ``ofd`` and ``rtf`` — :mod:`normalizers.documents`. Other families are ``unsupported``
for now (named in the result, never silently empty).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from normalizers.documents import DocumentError, docx_text, ofd_text, rtf_text, xlsx_text

__all__ = ["Limits", "TextResult", "read_text"]

READABLE = ("pdf", "ooxml-word", "ooxml-excel", "ofd", "rtf")


@dataclass(frozen=True, slots=True)
class Limits:
    """What reading one file may cost."""

    cpu_seconds: int = 30
    memory_bytes: int = 1024 * 1024 * 1024  # address space of the reader (and each tool it runs)
    wall_seconds: float = 60.0
    max_chars: int = 2_000_000  # text kept; more is cut and marked truncated


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
    if family not in READABLE:
        return TextResult("unsupported", error=f"{path.name}: no text reader for {family} files yet")
    started = time.monotonic()
    cap = limits.max_chars * 4 + 1024 * 1024  # UTF-8 of the text, JSON escapes, the rest of the result
    proc = subprocess.Popen([sys.executable, "-m", "spiders.attachment_text", family, str(path),
                             str(limits.max_chars)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=lambda: _limit(limits),
                            # its own process group: a timeout kills the reader and the tools it started
                            start_new_session=True,
                            # no .pyc written: past RLIMIT_FSIZE a write is a SIGXFSZ
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        out, err = proc.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return TextResult("error", error=f"{path.name}: reading stopped after {limits.wall_seconds:g} s "
                                          f"(wall-clock limit)", seconds=time.monotonic() - started)
    seconds = time.monotonic() - started
    if proc.returncode < 0:
        sig = -proc.returncode
        why = {int(signal.SIGXCPU): f"the CPU-time limit ({limits.cpu_seconds} s)",
               int(signal.SIGKILL): f"the CPU-time limit ({limits.cpu_seconds} s)",
               int(signal.SIGSEGV): "a crash of the reader (segmentation fault)"}.get(sig, f"signal {sig}")
        return TextResult("error", error=f"{path.name}: reading stopped by {why}", seconds=seconds)
    if len(out) > cap:
        return TextResult("error", error=f"{path.name}: the reader printed more than {cap:,} bytes", seconds=seconds)
    try:
        result = json.loads(out)
    except ValueError:
        message = _last_line(err, "no output")
        if "MemoryError" in err.decode("utf-8", "replace"):
            message = f"the memory limit ({limits.memory_bytes // (1024 * 1024)} MiB)"
        return TextResult("error", error=f"{path.name}: reading failed: {message}", seconds=seconds)
    return TextResult(**{**result, "seconds": seconds})


def _last_line(stderr: bytes, default: str) -> str:
    """What a failed program said last (its error), shortened."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else default


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# ------------------------------------------------------------------------------ the worker


def _run_tool(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, check=False)
    if done.returncode != 0:
        raise ValueError(f"{args[0]}: {_last_line(done.stderr, f'exit {done.returncode}')}")
    return done.stdout.decode("utf-8", "replace")


def _pdf(path: Path, max_chars: int) -> dict[str, object]:
    info = _run_tool(["pdfinfo", "-enc", "UTF-8", str(path)])
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    pages = int(fields["Pages"].strip()) if fields.get("Pages", "").strip().isdigit() else None
    title = fields.get("Title", "").strip() or None
    text = _run_tool(["pdftotext", "-enc", "UTF-8", "-nopgbrk", str(path), "-"])
    lines = [line.rstrip() for line in text.splitlines()]
    joined = "\n".join(lines).strip()
    truncated = len(joined) > max_chars
    joined = joined[:max_chars]
    return {"status": "ok" if joined else "empty", "text": joined, "title": title, "pages": pages,
            "truncated": truncated}


def _document(family: str, path: Path, max_chars: int) -> dict[str, object]:
    reader = {"ooxml-word": docx_text, "ooxml-excel": xlsx_text, "ofd": ofd_text}.get(family, rtf_text)
    try:
        doc = reader(path.read_bytes(), max_chars=max_chars)
    except DocumentError as exc:
        return {"status": "error", "error": f"{path.name}: {exc}"}
    return {"status": "ok" if doc.text else "empty", "text": doc.text, "title": doc.title, "pages": doc.pages,
            "truncated": doc.truncated}


def main(argv: list[str]) -> int:
    family, name, max_chars = argv[0], Path(argv[1]), int(argv[2])
    try:
        result = _pdf(name, max_chars) if family == "pdf" else _document(family, name, max_chars)
    except (ValueError, OSError) as exc:
        result = {"status": "error", "error": f"{name.name}: {exc}"}
    sys.stdout.write(json.dumps(asdict(TextResult(**result)), ensure_ascii=False))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
