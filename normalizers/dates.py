"""Chinese government page dates: ``2024-01-05``, ``2024年1月5日 14时29分``, ``19-05-17``…

Slashed ``a/b/yyyy`` dates come from ASP.NET/IIS server cultures (``7/5/2005 9:23:57 PM``, en-US,
with its 12-hour clock): month first, unless the number cannot be a month or the caller says the
page writes the day first (:func:`slashed_dates_day_first` reads that from the page's dates).

All results are Asia/Shanghai. Impossible dates (2024-13-45, 2023-02-29) and years outside
1949–2100 (two-digit years: 1990–2068) are not dates; :func:`date_problem` says what is wrong
with such a date-shaped value, so that the normalizers report it instead of dropping it.

A date that parses may still be implausible for a page: :func:`implausible` holds the sane
range, from :data:`EARLIEST` (1949-10-01: nothing the district's government published is older)
to :data:`FUTURE_MARGIN` (a year) after the page was fetched (a document may be dated ahead,
e.g. 施行日期-like publication dates, but not by years).

Index numbers are not dates. The rule: a date is only taken when it is not glued to other
identifier characters — it may not be preceded by a digit, an ASCII letter, ``/``, ``-``,
``.`` or ``_``, and may not be followed by a digit, an ASCII letter, or ``-``/``/``/``.``/``_``
plus a digit. So ``002948120/2024-00123``, ``BL0206-0103-2023-0041`` and
``20191202-189769`` contain no date. Compact ``YYYYMMDD`` is accepted only when it is the
whole value (``parse_datetime("20240105")``), never inside a longer line.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from typing import Literal

from normalizers.models import SHANGHAI
from normalizers.text import clean_text, fullwidth_to_ascii

Precision = Literal["day", "minute", "second"]

MIN_YEAR, MAX_YEAR = 1949, 2100
MIN_TWO_DIGIT_YEAR = 1990  # "85-05-17" is more likely a code than a date
EARLIEST = dt.date(1949, 10, 1)
FUTURE_MARGIN = dt.timedelta(days=366)

# Full-width separators that dates are written with; digits come from fullwidth_to_ascii.
_SEPARATORS = str.maketrans({"－": "-", "／": "/", "．": ".", "：": ":", "﹕": ":", "—": "-", "–": "-"})

_BEFORE = r"(?<![0-9A-Za-z/\-._])"
_AFTER = r"(?![0-9A-Za-z])(?![-/._]\d)"
_TIME = (
    r"(?:\s*T\s*|\s+|(?<=日)\s*)"
    r"(?P<hour>\d{1,2})\s*(?::|时|點|点)\s*(?P<minute>\d{1,2})(?:\s*分)?"
    r"(?:\s*(?::\s*(?P<second>\d{1,2})(?:\.\d{1,6})?|(?P<second_cn>\d{1,2})\s*秒))?"
    r"(?:\s*(?P<tz>Z|[+-]\d{2}:?\d{2}))?"
)
# 12-hour clocks: the en-US culture of ASP.NET/IIS prints "7/5/2005 9:23:57 PM"
_MERIDIEM = r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?|上午|下午|晚上))?"
_DATE_RE = re.compile(
    _BEFORE + r"(?:"
    r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"|(?P<cy>\d{4})\s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*[日号]?"
    r"|(?P<yy>\d{2})-(?P<ym>\d{1,2})-(?P<yd>\d{1,2})"
    r"|(?P<sa>\d{1,2})/(?P<sb>\d{1,2})/(?P<sy>\d{4})"
    r")(?:" + _TIME + r")?" + _MERIDIEM + _AFTER
)
_COMPACT_RE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_WEEKDAY = re.compile(r"(星期|礼拜|周)[一二三四五六日天]")


@dataclass(frozen=True)
class ParsedDate:
    """A parsed date-time in Asia/Shanghai and how much of it the page printed."""

    value: dt.datetime
    precision: Precision

    @property
    def date(self) -> dt.date:
        return self.value.date()


def _prepare(text: str) -> str:
    return clean_text(fullwidth_to_ascii(html.unescape(text)).translate(_SEPARATORS))


def _year(raw: str, two_digit: bool) -> int:
    year = int(raw)
    if two_digit:  # POSIX %y pivot: 00-68 → 20yy, 69-99 → 19yy (and only 1990-1999 pass the range)
        year += 2000 if year <= 68 else 1900
    return year


def _ymd(match: re.Match[str], day_first: bool = False) -> tuple[int, int, int, bool]:
    """(year, month, day, whether the year was written with two digits) of a date match; a
    slashed ``a/b/yyyy`` is month first unless ``day_first`` (or unless ``a`` cannot be a month)."""
    g = match.groupdict()
    if g["y"]:
        return _year(g["y"], False), int(g["m"]), int(g["d"]), False
    if g["cy"]:
        return _year(g["cy"], False), int(g["cm"]), int(g["cd"]), False
    if g["sy"]:
        a, b = int(g["sa"]), int(g["sb"])
        if a > 12 or (day_first and b <= 12):
            a, b = b, a
        return _year(g["sy"], False), a, b, False
    return _year(g["yy"], True), int(g["ym"]), int(g["yd"]), True


_SLASHED = re.compile(_BEFORE + r"(\d{1,2})/(\d{1,2})/\d{4}(?:\s+\d{1,2}:\d{2}(?::\d{2})?\s*([AaPp]\.?[Mm]\.?)?)?"
                      r"(?![0-9A-Za-z/])")


def slashed_dates_day_first(text: str) -> bool:
    """Whether the ``a/b/yyyy`` dates of a page put the day first (``25/01/2022``: the en-GB
    style), decided by the page's own dates: each whose first number cannot be a month (> 12)
    votes day-first, each whose second cannot be one, or that prints AM/PM (the en-US culture
    of ASP.NET servers), votes month-first. Ties and pages without such evidence are month
    first: on Chinese sites these dates come from en-US server cultures (``7/5/2005 9:23:57 PM``),
    hardly ever from en-GB ones."""
    day_first = month_first = 0
    for m in _SLASHED.finditer(fullwidth_to_ascii(text)):
        a, b = int(m[1]), int(m[2])
        if a > 12 >= b:
            day_first += 1
        elif b > 12 >= a or m[3]:
            month_first += 1
    return day_first > month_first


def _out_of_range(year: int, two_digit: bool) -> bool:
    return not (MIN_TWO_DIGIT_YEAR if two_digit else MIN_YEAR) <= year <= MAX_YEAR


def _build(match: re.Match[str], day_first: bool = False) -> ParsedDate | None:
    g = match.groupdict()
    year, month, day, two_digit = _ymd(match, day_first)
    if _out_of_range(year, two_digit):
        return None
    try:
        day_value = dt.datetime(year, month, day)
    except ValueError:
        return None
    if g["hour"] is None:
        return ParsedDate(day_value.replace(tzinfo=SHANGHAI), "day")
    second = g["second"] or g["second_cn"]
    hour = int(g["hour"])
    if g["ampm"] and hour <= 12:
        afternoon = g["ampm"][0] in "Pp下晚"
        hour = hour % 12 + (12 if afternoon else 0)
    try:
        value = day_value.replace(hour=hour, minute=int(g["minute"]), second=int(second or 0))
    except ValueError:  # an impossible time: keep the date the page did print correctly
        return ParsedDate(day_value.replace(tzinfo=SHANGHAI), "day")
    precision: Precision = "second" if second is not None else "minute"
    if g["tz"]:
        tz = g["tz"]
        offset = dt.UTC if tz == "Z" else dt.timezone(
            (1 if tz[0] == "+" else -1) * dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[-2:])))
        return ParsedDate(value.replace(tzinfo=offset).astimezone(SHANGHAI), precision)
    return ParsedDate(value.replace(tzinfo=SHANGHAI), precision)


def find_datetime(text: str | None, *, day_first: bool = False) -> ParsedDate | None:
    """The first plausible date-time in a longer line, e.g. the ``2024年1月5日 14:29`` of
    ``发布时间：2024年1月5日 14:29　来源：区人力社保局　浏览次数：``; None if there is none.

    Index-number-like strings are skipped (see the module docstring for the rule). A slashed
    ``7/5/2005`` is month first unless ``day_first`` (see :func:`slashed_dates_day_first`).
    """
    if not text:
        return None
    for match in _DATE_RE.finditer(_prepare(text)):
        parsed = _build(match, day_first)
        if parsed is not None:
            return parsed
    return None


def parse_datetime(text: str | None, *, day_first: bool = False) -> ParsedDate | None:
    """Parse a value that *is* a date, possibly with a label, brackets or a weekday
    (``发布时间：2024-01-05 14:29``, ``[2024-01-05]``, ``(2024年01月05日)``, ``7/5/2005 9:23:57 PM``;
    ``day_first`` as for :func:`find_datetime`).

    Returns None when the text holds no date, an impossible one, or more digits than the date
    (so ``002948120/2024-00123`` and ``20191202-189769`` are not dates).
    """
    if not text:
        return None
    prepared = _prepare(text)
    match = _DATE_RE.search(prepared)
    if match is None:
        bare = re.sub(r"^[^\d]*?[:：]\s*", "", prepared).strip(" []()【】〔〕（）")
        compact = _COMPACT_RE.fullmatch(bare)
        if compact is None:
            return None
        try:
            day = dt.datetime(int(compact["y"]), int(compact["m"]), int(compact["d"]), tzinfo=SHANGHAI)
        except ValueError:
            return None
        return ParsedDate(day, "day") if MIN_YEAR <= day.year <= MAX_YEAR else None
    residue = _WEEKDAY.sub("", prepared[:match.start()] + prepared[match.end():])
    if re.search(r"\d", residue):
        return None
    return _build(match, day_first)


@dataclass(frozen=True)
class DateProblem:
    """A date-shaped value that is no date: what was printed and why it cannot be read."""

    raw: str  # the date as printed, e.g. 9999年13月45日
    reason: str  # "no such date" or "year out of range (1949–2100)"


def _problem(match: re.Match[str]) -> DateProblem | None:
    year, month, day, two_digit = _ymd(match)
    raw = match.group(0).strip()
    try:
        dt.date(2000 if _out_of_range(year, two_digit) else year, month, day)  # 2000: a leap year
    except ValueError:
        return DateProblem(raw, "no such date")
    if _out_of_range(year, two_digit):
        low = MIN_TWO_DIGIT_YEAR if two_digit else MIN_YEAR
        return DateProblem(raw, f"year out of range ({low}–{MAX_YEAR})")
    return None


def date_problem(text: str | None, *, whole: bool = False) -> DateProblem | None:
    """What is wrong with a date-shaped value that :func:`find_datetime` (or, with ``whole``,
    :func:`parse_datetime`) cannot read: the first impossible date (``9999年13月45日``,
    ``2023-02-29``) or year out of range in it; None when the text holds a readable date
    first, or nothing shaped like a date (``近日``, an index number)."""
    if not text or (parse_datetime if whole else find_datetime)(text) is not None:
        return None
    prepared = _prepare(text)
    for match in _DATE_RE.finditer(prepared):
        if whole and re.search(r"\d", _WEEKDAY.sub("", prepared[:match.start()] + prepared[match.end():])):
            return None  # more numbers than a date: not a date at all
        if (problem := _problem(match)) is not None:
            return problem
    bare = re.sub(r"^[^\d]*?[:：]\s*", "", prepared).strip(" []()【】〔〕（）")
    if whole and (compact := _COMPACT_RE.fullmatch(bare)):
        year, month, day = int(compact["y"]), int(compact["m"]), int(compact["d"])
        try:
            dt.date(year if MIN_YEAR <= year <= MAX_YEAR else 2000, month, day)
        except ValueError:
            return DateProblem(compact.group(0), "no such date")
        return DateProblem(compact.group(0), f"year out of range ({MIN_YEAR}–{MAX_YEAR})")
    return None


def implausible(value: dt.date | dt.datetime, fetched_at: dt.datetime) -> str | None:
    """Why a parsed date cannot be a page's (before :data:`EARLIEST`, or more than
    :data:`FUTURE_MARGIN` after ``fetched_at``); None for a date in the sane range."""
    day = value.astimezone(SHANGHAI).date() if isinstance(value, dt.datetime) else value
    if day < EARLIEST:
        return f"before {EARLIEST.isoformat()}"
    fetched = fetched_at.astimezone(SHANGHAI).date() if fetched_at.tzinfo else fetched_at.date()
    if day > fetched + FUTURE_MARGIN:
        return f"more than a year after the page was fetched ({fetched.isoformat()})"
    return None


def parse_date(text: str | None) -> dt.date | None:
    """The calendar date of ``parse_datetime(text)``, or None."""
    parsed = parse_datetime(text)
    return parsed.value.date() if parsed else None
