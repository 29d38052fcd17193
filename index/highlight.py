"""Highlighting and snippets, computed in Python on the ORIGINAL text (backend-neutral).

The query's clauses (:func:`index.tokenize.parse_query`) are turned into patterns over the
normalised text (NFKC + lower case, the analyzer's normal form), and each match is mapped back
to the original characters, so ``ＰＤＦ`` in a title is marked for the query ``pdf``:

* a word term matches as a whole word (not inside ``pdfs``), like the index does;
* a CJK term matches its literal text (社保), as the index does (its bigrams adjacent);
* a one-character CJK term matches that character;
* a phrase matches its runs in order, separated as in the index (a CJK run boundary needs a
  separator; white space and punctuation of any length are accepted).

Output is ``html.escape``-d text in which only matches are wrapped in ``<mark>``…``</mark>``.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from dataclasses import dataclass

from index.tokenize import _CJK_CLASS, ParsedQuery, Run

SNIPPET_CHARS = 120
ELLIPSIS = "…"

_NOT_WORD_BEFORE = f"(?<!(?!{_CJK_CLASS})[^\\W_])"
_NOT_WORD_AFTER = f"(?!(?!{_CJK_CLASS})[^\\W_])"
_SPACES = re.compile(r"\s+")

ATTACHMENT_MARK = "\n\x1e"
"""Starts an attachment's part of an indexed ``body_text``: the body, then per attachment with
text ``ATTACHMENT_MARK + name + NAME_END + text`` (control characters no text has: both
analyzers and the snippets take them for white space)."""
NAME_END = "\x1f"


def with_attachments(body: str, attachments: list[tuple[str, str]]) -> str:
    """The ``body_text`` the index holds: ``body`` and the ``(name, text)`` of each attachment."""
    parts = [body]
    for name, text in attachments:
        clean = name.replace("\x1e", " ").replace("\x1f", " ")
        parts.append(f"{ATTACHMENT_MARK}{clean}{NAME_END}{text.replace(chr(0x1e), ' ')}")
    return "".join(parts)


def split_attachments(body_text: str) -> tuple[str, list[tuple[str, str]]]:
    """The body and the ``(name, text)`` of each attachment of an indexed ``body_text``."""
    body, *rest = body_text.split(ATTACHMENT_MARK)
    parts = []
    for part in rest:
        name, _, text = part.partition(NAME_END)
        parts.append((name, text))
    return body, parts


def _normalized_with_map(text: str) -> tuple[str, list[int] | None]:
    """The normal form of ``text`` and, when lengths differ, for each normalised character the
    index of the original character it came from (None means the identity)."""
    lowered = text.lower()
    if text.isascii():
        return lowered, None
    if len(lowered) == len(text) and unicodedata.is_normalized("NFKC", lowered):
        return lowered, None
    parts: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch).lower()
        parts.append(n)
        index.extend([i] * len(n))
    return "".join(parts), index


def _run_pattern(run: Run) -> str:
    if run.is_cjk:
        return re.escape(run.text)
    return _NOT_WORD_BEFORE + re.escape(run.text) + _NOT_WORD_AFTER


def _phrase_pattern(runs: tuple[Run, ...]) -> str:
    parts = [_run_pattern(runs[0])]
    for prev, run in itertools.pairwise(runs):
        # Same kind: the index saw two runs, so something separated them.
        parts.append(r"[\W_]+" if prev.kind == run.kind else r"[\W_]*")
        parts.append(_run_pattern(run))
    return "".join(parts)


@dataclass(frozen=True)
class _Needle:
    pattern: re.Pattern[str]


class Highlighter:
    """Marks the matches of one parsed query in the texts of a document."""

    def __init__(self, parsed: ParsedQuery) -> None:
        needles = []
        for clause in parsed.clauses:
            if clause.phrase:
                needles.append(_Needle(re.compile(_phrase_pattern(clause.runs))))
                continue
            needles.append(_Needle(re.compile(_run_pattern(clause.runs[0]))))
        self._needles = needles

    def _spans(self, texts: list[str]) -> list[list[tuple[int, int, int]]]:
        """For each text, the (start, end, needle number) of matches in original offsets,
        sorted, overlapping matches merged."""
        normal = [_normalized_with_map(t) for t in texts]
        found: list[list[tuple[int, int, int]]] = [[] for _ in texts]
        for k, needle in enumerate(self._needles):
            hits = [[(m.start(), m.end()) for m in needle.pattern.finditer(n) if m.end() > m.start()]
                    for n, _ in normal]
            for t, (spans, (_, index)) in enumerate(zip(hits, normal, strict=True)):
                for a, b in spans:
                    if index is not None:
                        a, b = index[a], index[b - 1] + 1
                    found[t].append((a, b, k))
        merged_all = []
        for text_spans in found:
            text_spans.sort()
            merged: list[tuple[int, int, int]] = []
            for a, b, k in text_spans:
                if merged and a < merged[-1][1]:
                    pa, pb, pk = merged[-1]
                    merged[-1] = (pa, max(pb, b), pk)
                else:
                    merged.append((a, b, k))
            merged_all.append(merged)
        return merged_all

    def document(self, title: str, body: str, width: int = SNIPPET_CHARS) -> tuple[str, str]:
        """``(title_html, snippet_html)`` of one document."""
        title_html, snippet_html, _ = self.hit(title, body, width)
        return title_html, snippet_html

    def hit(self, title: str, body_text: str, width: int = SNIPPET_CHARS) -> tuple[str, str, str | None]:
        """``(title_html, snippet_html, attachment)`` of an indexed document: the snippet is from
        the text that matches the most distinct query clauses, its body or one of its attachments
        (``attachment``: that attachment's name; the body, then the first attachment, on a tie);
        the start of the body when nothing matches."""
        body, attachments = split_attachments(body_text)
        spans = self._spans([title, body, *(text for _, text in attachments)])
        title_html = _render(title, spans[0], 0, len(title))
        best, best_clauses = -1, len({k for _, _, k in spans[1]})
        for n, text_spans in enumerate(spans[2:]):
            clauses = len({k for _, _, k in text_spans})
            if clauses > best_clauses:
                best, best_clauses = n, clauses
        if best < 0:
            return title_html, snippet(body, spans[1], width), None
        name, text = attachments[best]
        return title_html, snippet(text, spans[2 + best], width), name


def _render(text: str, spans: list[tuple[int, int, int]], start: int, end: int,
            collapse: bool = False) -> str:
    """Escape ``text[start:end]``, wrapping the spans (all inside the range) in <mark>."""

    def esc(piece: str) -> str:
        if collapse:
            piece = _SPACES.sub(" ", piece)
        return html.escape(piece)

    out: list[str] = []
    pos = start
    for a, b, _ in spans:
        if a < start or b > end:
            continue
        out.append(esc(text[pos:a]))
        out.append("<mark>" + esc(text[a:b]) + "</mark>")
        pos = b
    out.append(esc(text[pos:end]))
    return "".join(out)


def snippet(body: str, spans: list[tuple[int, int, int]], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``body`` around the densest cluster of matches (most
    distinct query clauses, then most matches, then earliest), or the start of the body."""
    if not spans:
        start, end = 0, min(len(body), width)
    else:
        best: tuple[int, int] | None = None
        best_key: tuple[int, int] = (-1, -1)
        j = 0
        for i, (a, _, _) in enumerate(spans):
            j = max(j, i)
            while j + 1 < len(spans) and spans[j + 1][1] <= a + width:
                j += 1
            window = spans[i:j + 1]
            key = (len({k for _, _, k in window}), len(window))
            if key > best_key:
                best_key, best = key, (i, j)
        assert best is not None
        i, j = best
        first, last = spans[i][0], spans[j][1]
        slack = max(0, width - (last - first))
        start = max(0, first - slack // 3)
        end = min(len(body), max(last, start + width))
        start = max(0, min(start, end - width))
        # Never cut a match at either edge.
        for a, b, _ in spans:
            if a < start < b:
                start = a
            if a < end < b:
                end = b
    core = _render(body, spans, start, end, collapse=True).strip()
    if start > 0 and core:
        core = ELLIPSIS + core
    if end < len(body) and core:
        core = core + ELLIPSIS
    return core
