"""The attachment reader (``spiders.attachment_text``) on a realistic set of attachments with their
true text (``fixture_sites.attachment_files``): every file of a family it reads gives its text with
token F1 >= 0.98 (``normalizers.fidelity``), every hostile file ends as one error naming it within
its limits, and every file is sniffed as the family it is. A file of a family the reader does not
read yet must come back ``unsupported``, naming the file (never silently empty), and a scanned PDF
``empty`` without OCR and its text with OCR (F1 >= 0.90); a new reader is held to the F1 bar here as soon as its family is in
``READABLE``. ``pytest -s`` prints the F1 per format."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fixture_sites.attachment_files import FixtureFile, attachment_set
from normalizers.fidelity import text_tokens, token_f1, token_prf
from normalizers.filetypes import sniff
from spiders.attachment_text import READABLE, Limits, TextResult, read_text

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None and not os.environ.get("BLGW_REQUIRE_FIXTURES"),
                                reason="poppler-utils is not installed (./bootstrap.sh installs it)")

LIMITS = Limits(cpu_seconds=5, wall_seconds=10, memory_bytes=512 * 1024 * 1024)
OCR_LIMITS = Limits(cpu_seconds=60, wall_seconds=120, memory_bytes=1024 * 1024 * 1024, ocr_pages=5)  # a site's opt-in
HAS_OCR = shutil.which("tesseract") is not None
MIN_F1 = 0.98
MIN_SCANNED_F1 = 0.90  # OCR of a clean 150 dpi scan: a few characters misread
FILES = attachment_set(0)


def _read(job: tuple[FixtureFile, Path]) -> TextResult:
    fixture, path = job
    return read_text(path, fixture.family, OCR_LIMITS if fixture.kind == "scanned" and HAS_OCR else LIMITS)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TextResult]]:
    """What the reader gives of each file of a family it reads, two files at a time (the reads
    are processes): the hostile ones first, each taking its limit beside the quick ones."""
    folder = tmp_path_factory.mktemp("attachments")
    jobs = []
    for fixture in FILES:
        if fixture.family not in READABLE:
            continue
        path = folder / fixture.name
        if fixture.endless:
            os.mkfifo(path)  # a download that never ends: nobody ever writes, the reader waits
        else:
            path.write_bytes(fixture.data)
        jobs.append((fixture, path))
    jobs.sort(key=lambda job: job[0].kind != "hostile")
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield dict(zip((fixture.name for fixture, _ in jobs), pool.map(_read, jobs), strict=True))


@pytest.mark.parametrize("fixture", FILES, ids=[f.name for f in FILES])
def test_each_attachment_is_read_as_it_should_be(fixture: FixtureFile, results: dict[str, TextResult]) -> None:
    if not fixture.endless:
        assert sniff(fixture.data, filename=fixture.name).family == fixture.family
    if fixture.family not in READABLE:  # named as unsupported, before any process is started
        unread = read_text(Path(fixture.name), fixture.family, LIMITS)
        assert unread.status == "unsupported" and unread.error is not None and fixture.name in unread.error
        return
    result = results[fixture.name]
    if fixture.kind == "hostile":
        assert result.status == "error", result
        assert result.error is not None and fixture.name in result.error
        assert result.seconds < LIMITS.wall_seconds + 3
        return
    assert fixture.truth is not None
    if fixture.kind == "scanned" and not HAS_OCR:  # no Tesseract here: a scan has no text layer
        assert not os.environ.get("BLGW_REQUIRE_FIXTURES"), "tesseract-ocr is missing (./bootstrap.sh installs it)"
        assert result.status == "empty" and result.text == "" and result.error is None
        return
    assert result.status == fixture.expect, result.error
    precision, recall, f1 = token_prf(result.text, fixture.truth)
    missing = text_tokens(fixture.truth) - text_tokens(result.text)
    extra = text_tokens(result.text) - text_tokens(fixture.truth)
    assert f1 >= (MIN_SCANNED_F1 if fixture.kind == "scanned" else MIN_F1), \
        f"P {precision:.3f} R {recall:.3f}; missing {dict(missing.most_common(20))}, extra {dict(extra.most_common(20))}"
    if fixture.family == "pdf" and fixture.kind == "digital":
        assert result.pages is not None and 2 <= result.pages <= 5


def test_the_f1_per_format(results: dict[str, TextResult]) -> None:
    """The table (``pytest -s``), and the bar for every format read: PDF lines wrap in the text
    read (the truth has no wrap newlines) and still score."""
    rows: dict[tuple[str, str], list[float]] = {}
    for fixture in FILES:
        result = results.get(fixture.name)
        if fixture.truth is None or result is None or result.status != "ok":
            continue
        rows.setdefault((fixture.family, fixture.kind), []).append(token_f1(result.text, fixture.truth))
    unread = sorted({f"{f.family} ({f.kind})" for f in FILES if f.family not in READABLE})
    print(f"\n{'format':<16}{'kind':<10}{'files':>6}{'mean F1':>10}{'min F1':>9}")
    for (family, kind), scores in sorted(rows.items()):
        print(f"{family:<16}{kind:<10}{len(scores):>6}{statistics.fmean(scores):>10.4f}{min(scores):>9.4f}")
    print(f"not read yet: {', '.join(unread) or 'none'}")
    assert {family for family, kind in rows if kind == "digital"} >= {
        f.family for f in FILES if f.kind == "digital" and f.family in READABLE}
    assert all(min(scores) >= MIN_F1 for (_, kind), scores in rows.items() if kind == "digital")
    first_pdf = next(f for f in FILES if f.family == "pdf" and f.kind == "digital")
    assert first_pdf.truth is not None
    assert len(results[first_pdf.name].text.splitlines()) > len(first_pdf.truth.splitlines())


def test_the_set_is_deterministic_and_covers_the_formats() -> None:
    started = time.monotonic()
    again = attachment_set(0)
    assert time.monotonic() - started < 5
    assert [(f.name, f.data, f.truth) for f in again] == [(f.name, f.data, f.truth) for f in FILES]
    other = attachment_set(1)
    assert [f.truth for f in other if f.truth] != [f.truth for f in FILES if f.truth]
    assert {f.family for f in FILES} >= {"pdf", "ooxml-word", "ooxml-excel", "ofd", "rtf", "zip", "html"}
    assert sum(len(f.data) for f in FILES) < 3 * 1024 * 1024
    assert all((f.truth is None) == (f.kind == "hostile") for f in FILES)
    assert sum(f.endless for f in FILES) == 1 and all(f.expect == "error" for f in FILES if f.kind == "hostile")
    assert {f.name.rsplit(".", 1)[1] for f in FILES if f.family in ("rtf", "html")} >= {"doc"}  # the lying .doc
    assert len({f.name for f in FILES}) == len(FILES)


def test_token_f1_ignores_whitespace_and_punctuation_but_counts_tokens() -> None:
    truth = "仑政办发〔2024〕12号：补助标准为每人每月1500元。"
    assert token_f1("仑政办发\n〔2024〕12号\n补助标准为每人每\n月 1500 元", truth) == 1.0  # wraps, no punctuation
    assert token_f1("仑政办发（２０２４）１２号补助标准为每人每月1500元", truth) == 1.0  # full-width digits
    assert token_f1("仑政办发〔2024〕1号：补助标准为每人每月1500元。", truth) < 1.0  # 12 is one token, not 1
    assert token_f1(truth + truth, truth) == pytest.approx(2 / 3)  # a multiset: everything twice is not free
    assert token_f1("", truth) == 0.0 and token_f1("，。", "") == 1.0
    assert token_f1("办政仑发", "仑政办发") == 1.0  # order-free (a table read column by column)


def test_the_set_has_a_scan_where_the_fixtures_are_required() -> None:
    """A CJK font renders the scanned page (Debian's fonts-wqy-zenhei, which bootstrap.sh installs)."""
    if not os.environ.get("BLGW_REQUIRE_FIXTURES"):
        pytest.skip("the scanned fixture needs a CJK font; BLGW_REQUIRE_FIXTURES is not set")
    assert any(f.kind == "scanned" for f in FILES)
    assert HAS_OCR
