"""The analyzer shared by indexing and querying, and the parser of user queries.

Normalisation
    Text is NFKC-normalised (full-width ASCII → half-width, ① → 1, half-width katakana →
    full-width, CJK compatibility ideographs → unified ones) and lower-cased.

Runs
    The normalised text is split into *runs*. Letters and digits (``str.isalnum``) form runs;
    everything else — white space, punctuation (ASCII and CJK: ，。、《》〔〕 …), symbols and
    emoji — only separates runs and is never searchable. A run is either

    * a **CJK run**: Han ideographs (plus 〇 and 々), kana and hangul, or
    * a **word run**: any other letters and digits (``pdf``, ``2024``, ``h5n1``, ``café``).

    A CJK character next to a word character always ends the run: ``2024年度`` is the word run
    ``2024`` followed by the CJK run ``年度``.

Tokens
    A word run is one token. A CJK run becomes overlapping bigrams, like Elasticsearch's
    ``cjk_bigram`` filter (社会保险 → 社会 会保 保险), so a two-character word such as 社保 or
    公告 is found exactly where those two characters are adjacent, and a phrase is a sequence
    of adjacent bigrams.

One-character queries (the end marker)
    Plain bigrams lose the last character of every run as a token start: in 社保 the 保 only
    appears as the second half of 社保, so no single-token lookup can find "保". We therefore
    append one *end-marker token* per CJK run, its last character followed by ``_``
    (:data:`END_MARK`)::

        社会保险  →  社会 会保 保险 险_
        年        →  年_                      (a lone character: the "unigram" with its marker)

    Every CJK character is now the *first* character of exactly one token, so a one-character
    query ``保`` is the prefix query ``保*`` and it matches each occurrence of 保 exactly once
    (term frequencies, hence ranking, stay honest). We chose this over indexing unigrams too
    (ES ``output_unigrams``) because FTS5, driven from Python, cannot put two tokens at the same
    position: interleaved unigrams would break phrase adjacency and roughly double the index.
    Prefix queries over bigrams cost one range scan of the term dictionary (the FTS5 table
    keeps a one-character prefix index for it). ``_`` is never part of any other token (it is
    not alphanumeric), so marker tokens cannot collide with text.

    Markers also make run boundaries visible inside phrases: ``"养老保险，缴费"`` needs the
    comma (or any separator) between 险 and 缴, exactly as in Elasticsearch, where 险缴 would
    otherwise be a bigram.

Queries (:func:`parse_query`)
    The query is plain user text, never a query language:

    * Text in double quotes (``"…"``, full-width ``＂…＂`` or Chinese ``“…”``) is a **phrase**:
      its tokens must appear adjacent and in order (within one field).
    * Everything else is a list of **terms**, one per run, all required (AND). Each term may
      match in the title or in the body, independently of the others. A CJK term of several
      characters matches where its text occurs literally within one field: its bigrams
      adjacent and in order (a phrase of its bigrams), never bigrams scattered over a field or
      split between the title and the body. A one-character CJK term matches that character
      anywhere. A word term matches a whole word run.
    * :func:`clause_tokens` is the one translation of a clause into index tokens; every
      backend matches exactly that token sequence (see its docstring).
    * Query syntax of other engines is not interpreted: ``* ^ : ( ) - + ~`` and the like are
      separators, and the bare upper-case words ``AND OR NOT NEAR`` outside quotes are dropped
      (so ``社保 OR 医保`` means 社保 AND 医保). An unpaired quote is ignored.
    * A query with no searchable run left (only punctuation, emoji or operators) has no
      clauses; backends return an empty result for it (never an error).

    Every parsed clause is made only of normalised alphanumeric runs, so a backend that quotes
    each token cannot produce a syntax error from any user input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from operator import add
from typing import Literal

END_MARK = "_"
"""Suffix of the end-marker token that closes each CJK run (see the module docstring)."""

ANALYZER_VERSION = 1
"""Bump when the tokens produced for a text change; indexes built before must be rebuilt."""

_CJK_RANGES = (
    "\u1100-\u11ff"  # hangul jamo
    "\u3005\u3007"  # 々 〇
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff"  # katakana
    "\u3130-\u318f"  # hangul compatibility jamo
    "\u31f0-\u31ff"  # katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f"  # hangul jamo extended-A
    "\uac00-\ud7af"  # hangul syllables
    "\ud7b0-\ud7ff"  # hangul jamo extended-B
    "\uf900-\ufaff"  # CJK compatibility ideographs (NFKC maps most of them to unified ones)
    "\U00020000-\U0003134f"  # CJK extensions B–G and compatibility supplement
)
_CJK_CLASS = f"[{_CJK_RANGES}]"
_CJK_CHAR = re.compile(_CJK_CLASS)
# An alphanumeric run: \w without the underscore (\w is alnum + "_" for str patterns).
_ALNUM_RUN = re.compile(r"[^\W_]+")
# Inside an alphanumeric run: CJK sub-runs and other sub-runs.
_SPLIT_RUN = re.compile(f"({_CJK_CLASS}+)|((?:(?!{_CJK_CLASS})[^\\W_])+)")

_QUOTES = '"\u201c\u201d'  # " “ ”  (full-width ＂ becomes " under NFKC)
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def normalize(text: str) -> str:
    """NFKC, then lower case. The normal form all matching is done in."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk(char: str) -> bool:
    """Whether ``char`` (one character, normalised) belongs to CJK runs."""
    return _CJK_CHAR.match(char) is not None


@dataclass(frozen=True, slots=True)
class Run:
    """A maximal run of normalised searchable text."""

    kind: Literal["cjk", "word"]
    text: str

    @property
    def is_cjk(self) -> bool:
        return self.kind == "cjk"


def _runs_of_normalized(norm: str) -> Iterator[Run]:
    for chunk in _ALNUM_RUN.findall(norm):
        if not _CJK_CHAR.search(chunk):
            yield Run("word", chunk)
            continue
        for cjk, word in _SPLIT_RUN.findall(chunk):
            yield Run("cjk", cjk) if cjk else Run("word", word)


def runs(text: str) -> list[Run]:
    """The runs of ``text`` after normalisation, in order."""
    return list(_runs_of_normalized(normalize(text)))


def cjk_tokens(run_text: str) -> list[str]:
    """Bigrams of a CJK run followed by its end-marker token (社会保险 → 社会 会保 保险 险_)."""
    return list(map(add, run_text, run_text[1:] + END_MARK))


def run_tokens(run: Run) -> list[str]:
    """The index tokens of one run."""
    return cjk_tokens(run.text) if run.is_cjk else [run.text]


def analyze(text: str) -> list[str]:
    """The index tokens of ``text``, in order (positions are list indexes)."""
    tokens: list[str] = []
    for chunk in _ALNUM_RUN.findall(normalize(text)):
        if not _CJK_CHAR.search(chunk):
            tokens.append(chunk)
            continue
        for cjk, word in _SPLIT_RUN.findall(chunk):
            if cjk:
                tokens.extend(map(add, cjk, cjk[1:] + END_MARK))
            else:
                tokens.append(word)
    return tokens


def token_text(text: str) -> str:
    """``analyze(text)`` joined by spaces: what a whitespace tokenizer (FTS5 ``unicode61`` with
    ``_`` as a token character) must see to reproduce exactly these tokens."""
    return " ".join(analyze(text))


# --------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True, slots=True)
class Clause:
    """One required clause of a query: a single run (a term) or a phrase of runs."""

    runs: tuple[Run, ...]
    phrase: bool

    @property
    def text(self) -> str:
        return " ".join(r.text for r in self.runs)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A user query as a conjunction of clauses (see the module docstring)."""

    clauses: tuple[Clause, ...]

    @property
    def is_empty(self) -> bool:
        return not self.clauses


def _split_quotes(text: str) -> list[tuple[str, bool]]:
    """(segment, quoted) pairs; quotes pair left to right, an unpaired last quote is ignored."""
    positions = [i for i, ch in enumerate(text) if ch in _QUOTES]
    if len(positions) % 2:
        positions = positions[:-1]
    segments: list[tuple[str, bool]] = []
    start = 0
    for open_, close in zip(positions[::2], positions[1::2], strict=True):  # an even count
        segments.append((text[start:open_], False))
        segments.append((text[open_ + 1:close], True))
        start = close + 1
    segments.append((text[start:], False))
    return [(s, q) for s, q in segments if s]


@lru_cache(maxsize=1024)
def parse_query(q: str) -> ParsedQuery:
    """Parse user text into clauses; never raises for any string (see the module docstring)."""
    nfkc = unicodedata.normalize("NFKC", q)
    clauses: list[Clause] = []
    for segment, quoted in _split_quotes(nfkc):
        if quoted:
            phrase_runs = tuple(Run(r.kind, r.text.lower()) for r in _runs_of_normalized(segment))
            if phrase_runs:
                clauses.append(Clause(phrase_runs, phrase=True))
            continue
        for run in _runs_of_normalized(segment):
            if run.kind == "word" and run.text in _OPERATORS:
                continue
            clauses.append(Clause((Run(run.kind, run.text.lower()),), phrase=False))
    # Drop repeated clauses, keep order.
    unique = tuple(dict.fromkeys(clauses))
    return ParsedQuery(unique)


def clause_tokens(clause: Clause) -> tuple[tuple[str, ...], bool]:
    """The index tokens a clause matches, as ``(tokens, last_is_prefix)``: the clause matches a
    field where these tokens occur at consecutive positions; when ``last_is_prefix``, the last
    element is one CJK character and the token at that position only has to START with it
    (FTS5 ``"…"*``; on Elasticsearch the per-character stream at the same position). Backends
    build their queries from this and nothing else, so they answer alike:

    * word term ``pdf`` → ``(pdf,)``; one-character CJK term ``保`` → ``(保,)`` prefix;
    * CJK term ``社会保险`` → ``(社会, 会保, 保险)`` (its end marker dropped: the document's run
      may go on, 社会保险费 matches);
    * phrase: each run's tokens in order; a run other than the last keeps its end marker (the
      document's run must end there too, as a separator in the text says), so ``"社 保险"``
      is ``(社_, 保险)`` and matches 社，保险 but not 社保险; a last one-character CJK run is
      a prefix (``"保险 社"`` → ``(保险, 险_, 社)`` prefix).
    """
    if not clause.phrase:
        run = clause.runs[0]
        if not run.is_cjk:
            return (run.text,), False
        if len(run.text) == 1:
            return (run.text,), True
        return tuple(run_tokens(run)[:-1]), False
    tokens: list[str] = []
    last = len(clause.runs) - 1
    for i, run in enumerate(clause.runs):
        toks = run_tokens(run)
        if i == last and run.is_cjk:
            if len(run.text) == 1:
                return (*tokens, run.text), True
            toks = toks[:-1]
        tokens.extend(toks)
    return tuple(tokens), False


def char_stream(tokens: list[str]) -> list[str]:
    """The per-character stream aligned with ``tokens`` (same length, same positions): a CJK
    token (bigram or end marker) becomes its first character, a word token stays itself. The
    token at a position starts with the CJK character ``c`` exactly when this stream has ``c``
    there (what a prefix position of :func:`clause_tokens` asks)."""
    return [t[0] if _CJK_CHAR.match(t) else t for t in tokens]
