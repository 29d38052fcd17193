"""An attachment's text read in a worker process with limits (``spiders.attachment_text``):
real PDFs with Chinese text (reportlab's CID font STSong-Light, read by poppler), DOCX and RTF
through the same worker, and files that must cost at most their budget: a CPU-hungry one, one
larger than the memory limit, one that never ends (a FIFO nobody writes), a truncated PDF."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from test_documents import PARAS, TITLE, docx, ofd, rtf_escaped, xlsx

from spiders.attachment_text import Limits, read_text

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None and not os.environ.get("BLGW_REQUIRE_FIXTURES"),
                                reason="poppler-utils is not installed (./bootstrap.sh installs it)")


def chinese_pdf(path, pages: list[list[str]], title: str) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setTitle(title)
    for lines in pages:
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(lines):
            c.drawString(60, 780 - 20 * i, line)
        c.showPage()
    c.save()


def test_a_chinese_pdf_gives_its_text_pages_and_title(tmp_path):
    path = tmp_path / "通知.pdf"
    chinese_pdf(path, [[TITLE, *PARAS[:2]], [PARAS[2]]], TITLE)
    result = read_text(path, "pdf")
    assert result.status == "ok", result.error
    assert [line for line in result.text.split("\n") if line] == [TITLE, *PARAS]
    assert (result.pages, result.title, result.truncated) == (2, TITLE, False)


def test_a_pdf_without_text_is_empty_not_an_error(tmp_path):
    path = tmp_path / "扫描件.pdf"
    chinese_pdf(path, [[]], "扫描件")  # a page with nothing on it: what a scan is to a text reader
    result = read_text(path, "pdf")
    assert (result.status, result.pages, result.text) == ("empty", 1, "")


def test_a_truncated_pdf_is_an_error_naming_the_file(tmp_path):
    whole = tmp_path / "whole.pdf"
    chinese_pdf(whole, [[TITLE]], TITLE)
    cut = tmp_path / "截断.pdf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = read_text(cut, "pdf")
    assert result.status == "error" and result.error.startswith("截断.pdf: ")


def test_docx_rtf_ofd_and_xlsx_are_read_by_the_same_worker(tmp_path):
    (tmp_path / "a.docx").write_bytes(docx(PARAS, title=TITLE))
    (tmp_path / "b.rtf").write_bytes(("{\\rtf1\\ansi\\ansicpg936 " + "\\par ".join(rtf_escaped(p) for p in PARAS)
                                      + "}").encode("ascii"))
    (tmp_path / "c.ofd").write_bytes(ofd([[[(p, 25)] for p in PARAS]], TITLE))
    for name, family in (("a.docx", "ooxml-word"), ("b.rtf", "rtf"), ("c.ofd", "ofd")):
        result = read_text(tmp_path / name, family)
        assert result.status == "ok", result.error
        assert result.text.split("\n") == PARAS
    (tmp_path / "d.xlsx").write_bytes(xlsx({"名单": [["姓名", "职务"], ["王镕", "科长"]]}))
    assert read_text(tmp_path / "d.xlsx", "ooxml-excel").text == "名单\n姓名\t职务\n王镕\t科长"


def test_a_family_without_a_reader_is_named(tmp_path):
    result = read_text(tmp_path / "名单.dps", "powerpoint-binary")
    assert result.status == "unsupported" and "powerpoint-binary" in result.error


def test_the_cpu_limit_stops_a_file_that_costs_too_much(tmp_path):
    path = tmp_path / "huge.rtf"  # ~40 MB of \'xx escapes: far more than a second of CPU to decode
    path.write_bytes(b"{\\rtf1\\ansi\\ansicpg936 " + b"\\'b9\\'d8" * 4_000_000 + b"}")
    started = time.monotonic()
    result = read_text(path, "rtf", Limits(cpu_seconds=1, wall_seconds=30))
    assert result.status == "error" and "CPU-time limit (1 s)" in result.error, result
    assert time.monotonic() - started < 10


def test_the_memory_limit_stops_a_file_larger_than_it(tmp_path):
    path = tmp_path / "big.rtf"
    path.write_bytes(b"{\\rtf1 " + b"x" * (400 * 1024 * 1024) + b"}")
    result = read_text(path, "rtf", Limits(memory_bytes=300 * 1024 * 1024, cpu_seconds=20))
    assert result.status == "error" and "memory limit (300 MiB)" in result.error, result


def test_a_file_that_never_ends_costs_the_wall_clock_limit(tmp_path):
    fifo = tmp_path / "endless.pdf"
    os.mkfifo(fifo)  # nobody writes: the reader waits forever
    started = time.monotonic()
    result = read_text(fifo, "pdf", Limits(wall_seconds=2))
    assert result.status == "error" and "wall-clock limit" in result.error
    assert time.monotonic() - started < 6
