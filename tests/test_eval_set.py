"""The extraction evaluation set (tests/eval/) is well-formed, and the normalizer keeps its level on it.

The full comparison with trafilatura and GNE is ``python bench/extraction.py``; this is the fast
regression guard: the same pages, the same metrics (``bench/extraction.py``), our normalizer only,
with empty hints.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics

import lxml.html
import pytest

from bench.extraction import EVAL_DIR, body_prf, failure_class, gold_date, load_cases, ours, same_title
from normalizers.encoding import decode_html

FAMILIES = {"hanweb", "trs", "aspnet", "asp", "php", "dedecms", "phpcms", "jcms", "other"}
KEYS = {"url", "family", "title", "published", "body", "source"}
PUBLISHED = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?$")
# A little below what the normalizer reaches (1.000 / 1.000 / 1.000 on 110 pages): a regression on
# two or three pages fails.
MIN_BODY_F1, MIN_TITLE_ACCURACY, MIN_DATE_ACCURACY = 0.99, 0.97, 0.97

# The failure-class pages (cls_<class>_<n>) of heuristic extraction (issue 18): the normalizer
# reaches 1.000 body F1 and 0.968 date accuracy on the 31 pages (the held-out cls_shortlist_6 takes
# the letter's 来信时间 for the reply's 回复时间); the floor lets one more page slip.
FAILURE_CLASSES = {"hiddentitle", "doublezoom", "shortlist", "archive", "nocolon", "usdate", "infoline"}
MIN_CLASS_BODY_F1, MIN_CLASS_DATE_ACCURACY = 0.98, 0.93
# per class (3-5 pages): a class that breaks on more than one of its pages fails
MIN_EACH_CLASS_BODY_F1, MIN_EACH_CLASS_DATE_ACCURACY = 0.9, 0.66

LABELS = sorted(EVAL_DIR.glob("*.json"))


def test_the_set_is_large_and_mixed():
    names = [p.stem for p in LABELS]
    assert len(names) >= 60
    assert sum(n.startswith("fx_") for n in names) >= 30
    assert sum(n.startswith("hw_") for n in names) >= 30
    families = {json.loads(p.read_text(encoding="utf-8"))["family"] for p in LABELS}
    assert families == FAMILIES
    classes = [m[1] for n in names if (m := re.fullmatch(r"cls_([a-z]+)_\d+", n))]
    assert set(classes) == FAILURE_CLASSES
    assert all(classes.count(k) >= 3 for k in FAILURE_CLASSES)


@pytest.mark.parametrize("path", LABELS, ids=lambda p: p.stem)
def test_case_is_well_formed_and_its_labels_are_on_the_page(path):
    label = json.loads(path.read_text(encoding="utf-8"))
    assert KEYS <= set(label) <= KEYS | {"content_type"}
    assert label["family"] in FAMILIES
    assert label["url"].startswith(("http://", "https://"))
    assert PUBLISHED.match(label["published"])
    dt.datetime.fromisoformat(label["published"])  # a real date (and time)
    assert label["title"].strip() == label["title"] and label["title"]
    assert label["source"].strip()
    lines = label["body"].split("\n")
    assert lines and all(line.strip() == line and line for line in lines), "paragraphs joined by one \\n"
    html = path.with_suffix(".html")
    assert html.is_file()
    # Every label is printed on the page (whitespace aside): a typo in a label fails here.
    page = re.sub(r"\s+", "", lxml.html.document_fromstring(
        decode_html(html.read_bytes(), label.get("content_type")).text).text_content())
    for text in [label["title"], *lines]:
        assert re.sub(r"\s+", "", text) in page, text


def test_normalizer_keeps_its_level_on_the_set():
    cases = load_cases()
    results = [(case, ours(case)) for case in cases]
    f1 = statistics.fmean(body_prf(out.body, case.body)[2] for case, out in results)
    titles = statistics.fmean(same_title(out.title, case.title) for case, out in results)
    dates = statistics.fmean(out.date == gold_date(case) for case, out in results)
    misses = [case.name for case, out in results
              if body_prf(out.body, case.body)[2] < 0.9 or not same_title(out.title, case.title)
              or out.date != gold_date(case)]
    assert f1 >= MIN_BODY_F1, misses
    assert titles >= MIN_TITLE_ACCURACY, misses
    assert dates >= MIN_DATE_ACCURACY, misses


def test_normalizer_handles_the_failure_classes_of_heuristic_extraction():
    """Hidden title widgets, two #zoom, a short text beside a longer list, multi-post pages,
    date labels without a colon, slashed US/day-first dates, an unlabelled info-line date."""
    results = [(case, ours(case)) for case in load_cases("cls_*")]
    by_class: dict[str, list[tuple[float, bool]]] = {}
    for case, out in results:
        by_class.setdefault(failure_class(case) or "", []).append((body_prf(out.body, case.body)[2],
                                                                     out.date == gold_date(case)))
    misses = [case.name for case, out in results
              if body_prf(out.body, case.body)[2] < 0.9 or out.date != gold_date(case)]
    rows = [row for rows in by_class.values() for row in rows]
    assert statistics.fmean(f for f, _ in rows) >= MIN_CLASS_BODY_F1, misses
    assert statistics.fmean(d for _, d in rows) >= MIN_CLASS_DATE_ACCURACY, misses
    for name, class_rows in by_class.items():
        assert statistics.fmean(f for f, _ in class_rows) >= MIN_EACH_CLASS_BODY_F1, (name, misses)
        assert statistics.fmean(d for _, d in class_rows) >= MIN_EACH_CLASS_DATE_ACCURACY, (name, misses)


def test_body_metric():
    assert body_prf("各有关单位：现将有关事项通知如下。", "各有关单位：\n现将有关事项通知如下。") == (1.0, 1.0, 1.0)
    p, r, f = body_prf("首页 通知公告 现将有关事项通知如下", "现将有关事项通知如下")
    assert r == 1.0 and p < 1.0 and 0 < f < 1
    assert body_prf("", "正文") == (0.0, 0.0, 0.0)
