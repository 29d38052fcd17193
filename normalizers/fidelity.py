"""How faithful an extracted text is to the text it should be: token F1 for Chinese documents.

Chinese has no spaces between words, and a PDF's text comes back with a newline wherever its
lines wrapped (anywhere between two characters, independent of words), so the measure ignores
whitespace and compares *tokens* as multisets (order-free: a reader that gives a table column by
column instead of row by row loses nothing):

* each Han character (and any other non-ASCII letter or digit) is a token;
* each run of ASCII letters and digits is a token (``2024``, ``12``, ``www``, ``APP``): a 文号
  ``仑政办发〔2024〕12号`` is the tokens 仑 政 办 发 2024 12 号;
* whitespace and punctuation are no tokens, only separators.

Text is NFKC-normalised first (full-width ``２０２４`` is ``2024``). Word processors never break a
line inside a number or a Latin word, so a wrap newline never splits an ASCII token.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

__all__ = ["multiset_prf", "text_tokens", "token_f1", "token_prf"]

_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\W_]", re.UNICODE)  # an ASCII run, else one letter or digit


def text_tokens(text: str) -> Counter[str]:
    """The multiset of tokens of ``text`` (see the module documentation)."""
    return Counter(_TOKEN.findall(unicodedata.normalize("NFKC", text)))


def multiset_prf(got: Counter[str], want: Counter[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of the multiset ``got`` against ``want`` (whatever their units:
    these tokens, the extraction bench's character bigrams); two empty ones agree (1.0), one
    empty one scores 0.0."""
    if not got or not want:
        return (1.0, 1.0, 1.0) if not got and not want else (0.0, 0.0, 0.0)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def token_prf(extracted: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the tokens of ``extracted`` against those of ``truth``."""
    return multiset_prf(text_tokens(extracted), text_tokens(truth))


def token_f1(extracted: str, truth: str) -> float:
    """Token F1 of ``extracted`` against ``truth`` (see the module documentation)."""
    return token_prf(extracted, truth)[2]
