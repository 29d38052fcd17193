"""Main-content extraction on the labelled evaluation set: our normalizer beside trafilatura and GNE.

    python bench/extraction.py [--reps 5] [--cases 'hw_*'] [--per-case]
    python bench/extraction.py --cases 'cls_*'     # the failure-class pages only

Every extractor runs in this process on the same pages (``tests/eval/*.html`` with their labels
in ``*.json``; see ``tests/eval/build_fixture_cases.py`` and each case's ``source``):

* **ours**: ``normalize_article(RawPage(url, bytes, content_type), PageContext(…, public_url=url),
  ExtractionHints())`` - empty hints (no plugin selectors) and no list title/date: the page, its URL
  and the Content-Type header it was served with (``null`` for most handwritten pages) only.
* **ours + plugin hints** (a second, separately labelled line): the same with the hints a crawl
  would use - the bundled site plugin for fixture pages (rsj, jtj, dqjd, fgj, jyj), else the
  platform preset of the page's family (hanweb, trs, asp, aspnet, dedecms, phpcms; none for
  php/jcms/other).
* **trafilatura**: ``bare_extraction(bytes, url=url, with_metadata=True, include_comments=False)``
  (its own decoding; default precision/recall balance and fallbacks; comments off because the
  labels never hold comments). Title = its ``title``, date = its ``date``, body = its ``text``.
  **trafilatura precision** is the same with ``favor_precision=True``, its best setting here
  (its losses are boilerplate kept, not text missed).
* **lxml bare parse (floor)**: ``lxml.html.document_fromstring(bytes).text_content()``, no
  extraction: the speed any lxml-based extractor cannot beat (its F1 is keeping everything).
* **GNE** (if ``pip install gne`` worked): ``GeneralNewsExtractor().extract(html)`` on the text
  decoded by our ``decode_html`` (GNE does no decoding of its own); date = the first
  Y-M-D / Y/M/D / Y.M.D / Y年M月D日 in its ``publish_time``.

Metrics (per page, then the mean over pages):

* **body P/R/F1**: character-bigram multisets. Both texts are reduced to their letters, digits
  and CJK characters (whitespace, punctuation and symbols removed, so paragraph breaks, table
  cell separators and full-width/half-width spacing do not count), then P = |pred ∩ gold| /
  |pred|, R = |pred ∩ gold| / |gold| over the multisets of adjacent character pairs. Bigrams,
  not single characters, so the body must also be in the right local order; an empty
  prediction scores 0.
* **title**: exact match after removing all whitespace.
* **date**: the calendar date equals the label's (time of day ignored); no date is wrong.
* **pages/s**: all pages, one extractor at a time, ``--reps`` times; the median run.

Besides the whole set, the report gives body F1 by family and, for the failure-class pages
(``cls_<class>_<n>``: hidden title widgets, two ``#zoom``, a short text beside a longer list,
multi-post pages, date labels without a colon, slashed US/day-first dates, an unlabelled
info-line date), body F1 and date accuracy per class.

The acceptance bar: ours above trafilatura in body F1 and date accuracy, at no lower pages/s
(checked against both trafilatura lines), and not below GNE in date accuracy.
Needs ``trafilatura`` (and ``lxml_html_clean`` with lxml >= 5.2), optionally ``gne``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import re
import statistics
import sys
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from normalizers import normalize_article  # noqa: E402
from normalizers.encoding import decode_html  # noqa: E402
from normalizers.fidelity import multiset_prf  # noqa: E402
from normalizers.models import Category  # noqa: E402
from normalizers.page import ExtractionHints, PageContext, RawPage  # noqa: E402

EVAL_DIR = REPO / "tests" / "eval"
# fixture family → the bundled site plugin of that fixture site
FIXTURE_SITES = {"php": "rsj", "aspnet": "jtj", "asp": "dqjd", "trs": "fgj", "hanweb": "jyj"}


# ------------------------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Case:
    name: str
    url: str
    family: str
    title: str
    published: str
    body: str
    html: bytes
    content_type: str | None


@dataclass(frozen=True)
class Extracted:
    title: str | None
    date: dt.date | None
    body: str


def load_cases(pattern: str = "*") -> list[Case]:
    """Every evaluation case (``NAME.json`` + ``NAME.html``) whose name matches ``pattern``."""
    cases = []
    for path in sorted(EVAL_DIR.glob("*.json")):
        if not fnmatch.fnmatch(path.stem, pattern):
            continue
        label = json.loads(path.read_text(encoding="utf-8"))
        cases.append(Case(path.stem, label["url"], label["family"], label["title"], label["published"],
                          label["body"], path.with_suffix(".html").read_bytes(), label.get("content_type")))
    return cases


# ---------------------------------------------------------------------------------------- metrics

def content_chars(text: str) -> str:
    """Letters, digits and CJK characters of ``text`` (no whitespace, punctuation or symbols)."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def bigrams(text: str) -> Counter:
    chars = content_chars(text)
    if len(chars) == 1:
        return Counter([chars])
    return Counter(chars[i:i + 2] for i in range(len(chars) - 1))


def body_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the character-bigram multisets (see the module docstring)."""
    return multiset_prf(bigrams(predicted), bigrams(gold))


def same_title(predicted: str | None, gold: str) -> bool:
    return predicted is not None and re.sub(r"\s+", "", predicted) == re.sub(r"\s+", "", gold)


def gold_date(case: Case) -> dt.date:
    return dt.date.fromisoformat(case.published[:10])


_LOOSE_DATE = re.compile(r"((?:19|20)\d\d)\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})")


def loose_date(text: str | None) -> dt.date | None:
    """The first Y-M-D / Y/M/D / Y.M.D / Y年M月D日 in a string an extractor returned."""
    if not text:
        return None
    for m in _LOOSE_DATE.finditer(str(text)):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue
    return None


# ------------------------------------------------------------------------------------- extractors

def _context(case: Case) -> PageContext:
    return PageContext(site_code="eval", column_path=(), category=Category.GOVERNMENT_INFORMATION,
                       public_url=case.url)


def _ours(case: Case, hints: ExtractionHints) -> Extracted:
    try:
        article = normalize_article(RawPage(case.url, case.html, case.content_type), _context(case), hints)
    except ValueError:  # NormalizationError: no title at all
        return Extracted(None, None, "")
    date = article.published_at.date() if article.published_at else None
    return Extracted(article.title, date, article.body_text)


def ours(case: Case) -> Extracted:
    return _ours(case, ExtractionHints())


def plugin_hints() -> Callable[[Case], ExtractionHints]:
    """The hints a crawl would use for a case (site plugin for fixture pages, else the preset)."""
    # imported here: the plugin layer is only needed for this line of the report
    from plugins.manager import registry_from_settings
    from plugins.spec import DetailRules, load_preset

    registry = registry_from_settings()
    cache: dict[tuple[str, str], ExtractionHints] = {}

    def hints(case: Case) -> ExtractionHints:
        kind = "site" if case.name.startswith("fx_") and case.family in FIXTURE_SITES else "preset"
        key = (kind, case.family)
        if key not in cache:
            if kind == "site":
                site = registry.get(FIXTURE_SITES[case.family])
                cache[key] = site.detail_rules(site.columns[0]).hints()
            else:
                detail = load_preset(case.family).get("detail")
                cache[key] = DetailRules(**detail).hints() if detail else ExtractionHints()
        return cache[key]

    return hints


def trafilatura_extractor(**options: bool) -> Callable[[Case], Extracted] | str:
    try:
        # imported here: an optional dependency; the bench reports it missing instead of failing
        import trafilatura
    except Exception as exc:  # ImportError, or lxml.html.clean missing
        return f"not available ({type(exc).__name__}: {exc})"

    def extract(case: Case) -> Extracted:
        doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True, include_comments=False,
                                          as_dict=True, **options)
        if not doc:
            return Extracted(None, None, "")
        return Extracted(doc.get("title"), loose_date(doc.get("date")), doc.get("text") or "")

    return extract


def lxml_floor(case: Case) -> Extracted:
    """lxml's bare parse of the page and its whole text: no extraction at all, the speed floor of
    any lxml-based extractor (its F1 is that of keeping everything)."""
    # imported here: keeps the module's imports those of the extractors compared
    import lxml.html

    root = lxml.html.document_fromstring(case.html)
    return Extracted(None, None, root.text_content())


def gne_extractor() -> Callable[[Case], Extracted] | str:
    try:
        # imported here: an optional dependency (pip install gne); its column is skipped without it
        from gne import GeneralNewsExtractor
    except Exception as exc:
        return f"not available: `pip install gne` / import failed ({type(exc).__name__}: {exc})"
    extractor = GeneralNewsExtractor()

    def extract(case: Case) -> Extracted:
        html = decode_html(case.html, case.content_type).text
        try:
            result = extractor.extract(html)
        except Exception:  # GNE raises on some empty or odd trees
            return Extracted(None, None, "")
        return Extracted(result.get("title"), loose_date(result.get("publish_time")), result.get("content") or "")

    return extract


# ------------------------------------------------------------------------------------------- runs

@dataclass
class Score:
    name: str
    results: list[tuple[Case, Extracted, tuple[float, float, float], bool, bool]]
    pages_per_second: float

    def mean(self, i: int, family: str | None = None) -> float:
        rows = [r for r in self.results if family is None or r[0].family == family]
        return statistics.fmean(r[2][i] for r in rows)

    def by_class(self, name: str) -> tuple[float, float]:
        """(body F1, date accuracy) over the failure-class pages of one class."""
        rows = [r for r in self.results if failure_class(r[0]) == name]
        return statistics.fmean(r[2][2] for r in rows), statistics.fmean(r[4] for r in rows)

    def title_accuracy(self) -> float:
        return statistics.fmean(r[3] for r in self.results)

    def date_accuracy(self) -> float:
        return statistics.fmean(r[4] for r in self.results)


def run(name: str, extract: Callable[[Case], Extracted], cases: list[Case], reps: int) -> Score:
    rates = []
    outputs: list[Extracted] = []
    for rep in range(reps):
        start = time.perf_counter()
        current = [extract(case) for case in cases]
        rates.append(len(cases) / (time.perf_counter() - start))
        if rep == 0:
            outputs = current
    results = []
    for case, out in zip(cases, outputs, strict=True):
        results.append((case, out, body_prf(out.body, case.body), same_title(out.title, case.title),
                        out.date == gold_date(case)))
    return Score(name, results, statistics.median(rates))


def failure_class(case: Case) -> str | None:
    """The failure class of a ``cls_<class>_<n>`` case, else None."""
    m = re.fullmatch(r"cls_([a-z]+)_\d+", case.name)
    return m[1] if m else None


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def report(scores: list[Score], unavailable: dict[str, str], cases: list[Case], reps: int) -> None:
    print(f"{len(cases)} pages ({sum(c.name.startswith('fx_') for c in cases)} from the fixture sites, "
          f"{sum(c.name.startswith('hw_') for c in cases)} handwritten, "
          f"{sum(failure_class(c) is not None for c in cases)} handwritten failure-class pages), "
          f"{reps} timed runs each\n")
    header = f"{'extractor':<26}{'body P':>8}{'body R':>8}{'body F1':>9}{'title':>8}{'date':>8}{'pages/s':>10}"
    print(header)
    print("-" * len(header))
    for s in scores:
        print(f"{s.name:<26}{s.mean(0):>8.3f}{s.mean(1):>8.3f}{s.mean(2):>9.3f}{s.title_accuracy():>8.3f}"
              f"{s.date_accuracy():>8.3f}{s.pages_per_second:>10.1f}")
    for name, why in unavailable.items():
        print(f"{name:<26}{why}")

    families = sorted({c.family for c in cases})
    print("\nbody F1 by family")
    header = f"{'family':<10}{'pages':>6}" + "".join(f"{s.name:>24}" for s in scores)
    print(header)
    print("-" * len(header))
    for family in families:
        n = sum(c.family == family for c in cases)
        print(f"{family:<10}{n:>6}" + "".join(f"{s.mean(2, family):>24.3f}" for s in scores))

    classes = sorted({k for c in cases if (k := failure_class(c))})
    if classes:
        print("\nbody F1 / date accuracy by failure class (cls_<class>_<n>)")
        header = f"{'class':<12}{'pages':>6}" + "".join(f"{s.name:>24}" for s in scores)
        print(header)
        print("-" * len(header))
        for name in classes:
            n = sum(failure_class(c) == name for c in cases)
            print(f"{name:<12}{n:>6}" + "".join(f"{_pair(*s.by_class(name)):>24}" for s in scores))
        rows = [c for c in cases if failure_class(c)]
        print(f"{'all classes':<12}{len(rows):>6}" + "".join(
            f"{_pair(*_class_means(s)):>24}" for s in scores))
        print(f"{'whole set':<12}{len(cases):>6}" + "".join(
            f"{_pair(s.mean(2), s.date_accuracy()):>24}" for s in scores))

    by_name = {s.name: s for s in scores}
    ours_ = by_name.get("ours")
    if ours_ and (gne := by_name.get("GNE")):
        print(f"\nacceptance vs GNE: date accuracy not below: "
              f"{'yes' if ours_.date_accuracy() >= gne.date_accuracy() else 'NO'} "
              f"({ours_.date_accuracy():.3f} / {gne.date_accuracy():.3f}); body F1 above: "
              f"{'yes' if ours_.mean(2) > gne.mean(2) else 'NO'} ({ours_.mean(2):.3f} / {gne.mean(2):.3f})")
    elif ours_:
        print(f"\nacceptance vs GNE: skipped, {unavailable.get('GNE', 'GNE did not run')}")
    for name in ("trafilatura", "trafilatura precision"):
        traf = by_name.get(name)
        if not (ours_ and traf):
            continue
        print(f"\nours / {name}: "
              f"body F1 {_ratio(ours_.mean(2), traf.mean(2))}, title {_ratio(ours_.title_accuracy(), traf.title_accuracy())}, "
              f"date {_ratio(ours_.date_accuracy(), traf.date_accuracy())}, pages/s "
              f"{_ratio(ours_.pages_per_second, traf.pages_per_second)}")
        checks = [("body F1 above", ours_.mean(2) > traf.mean(2)),
                  ("date accuracy above", ours_.date_accuracy() > traf.date_accuracy()),
                  ("pages/s not below", ours_.pages_per_second >= traf.pages_per_second)]
        print(f"acceptance vs {name}: " + "; ".join(f"{what}: {'yes' if ok else 'NO'}" for what, ok in checks))


def _pair(f1: float, dates: float) -> str:
    return f"{f1:.3f} / {dates:.3f}"


def _class_means(score: Score) -> tuple[float, float]:
    rows = [r for r in score.results if failure_class(r[0])]
    return statistics.fmean(r[2][2] for r in rows), statistics.fmean(r[4] for r in rows)


def per_case(scores: list[Score]) -> None:
    print("\nper case: body F1 / title ok / date ok")
    names = [s.name for s in scores]
    print(f"{'case':<34}" + "".join(f"{n:>24}" for n in names))
    for i, (case, *_rest) in enumerate(scores[0].results):
        cells = []
        for s in scores:
            _, out, prf, title_ok, date_ok = s.results[i]
            cells.append(f"{prf[2]:.2f} {'T' if title_ok else '-'} {'D' if date_ok else '-'}"
                         f" {(str(out.date) if out.date else 'none'):>10}")
        print(f"{case.name:<34}" + "".join(f"{c:>24}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="timed runs per extractor (median reported)")
    ap.add_argument("--cases", default="*", help="glob on case names, e.g. 'hw_*'")
    ap.add_argument("--per-case", action="store_true", help="also print every case's scores")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    # imported here: only the command line silences the extractors' logging
    import logging
    logging.disable(logging.WARNING)  # trafilatura and htmldate log every page they dislike

    cases = load_cases(args.cases)
    if not cases:
        print(f"no cases match {args.cases!r} in {EVAL_DIR}")
        return 1
    hints_for = plugin_hints()
    extractors: list[tuple[str, Callable[[Case], Extracted] | str]] = [
        ("ours", ours),
        ("lxml bare parse (floor)", lxml_floor),
        ("trafilatura", trafilatura_extractor()),
        ("trafilatura precision", trafilatura_extractor(favor_precision=True)),
        ("GNE", gne_extractor()),
        ("ours + plugin hints", lambda case: _ours(case, hints_for(case))),
    ]
    scores, unavailable = [], {}
    for name, extract in extractors:
        if isinstance(extract, str):
            unavailable[name] = extract
        else:
            scores.append(run(name, extract, cases, args.reps))
    report(scores, unavailable, cases, args.reps)
    if args.per_case:
        per_case(scores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
