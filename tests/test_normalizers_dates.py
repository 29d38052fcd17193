"""Chinese date formats, and index numbers that must not be read as dates."""

from __future__ import annotations

import datetime as dt

import pytest

from normalizers.dates import (
    date_problem,
    find_datetime,
    implausible,
    parse_date,
    parse_datetime,
    slashed_dates_day_first,
)
from normalizers.models import SHANGHAI


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, value, precision", [
    ("2024-01-05", at(2024, 1, 5), "day"),
    ("[2024-01-05]", at(2024, 1, 5), "day"),
    ("(2024年01月05日)", at(2024, 1, 5), "day"),
    ("（2024年01月05日）", at(2024, 1, 5), "day"),
    ("2024/1/5 14:29:32", at(2024, 1, 5, 14, 29, 32), "second"),
    ("2024/1/5 14:29", at(2024, 1, 5, 14, 29), "minute"),
    ("2024年1月5日", at(2024, 1, 5), "day"),
    ("2024年01月05日 14时29分", at(2024, 1, 5, 14, 29), "minute"),
    ("2024年1月5日14时29分32秒", at(2024, 1, 5, 14, 29, 32), "second"),
    ("2024.01.05", at(2024, 1, 5), "day"),
    ("发布时间：2024-01-05 14:29", at(2024, 1, 5, 14, 29), "minute"),
    ("发布日期: 2024-01-05", at(2024, 1, 5), "day"),
    ("19-05-17", at(2019, 5, 17), "day"),
    ("２０２４年１月５日", at(2024, 1, 5), "day"),
    ("２０２４－０１－０５", at(2024, 1, 5), "day"),
    ("&nbsp;2024-01-05&nbsp;", at(2024, 1, 5), "day"),
    ("\u30002024-01-05\u3000", at(2024, 1, 5), "day"),
    ("2024-01-05 14:29:32.0", at(2024, 1, 5, 14, 29, 32), "second"),
    ("2024年1月5日 星期五", at(2024, 1, 5), "day"),
    ("20240105", at(2024, 1, 5), "day"),
])
def test_formats_parse(text, value, precision):
    parsed = parse_datetime(text)
    assert parsed is not None, text
    assert (parsed.value, parsed.precision) == (value, precision)


def test_values_are_aware_and_in_shanghai():
    assert parse_datetime("2024-01-05 14:29").value.utcoffset() == dt.timedelta(hours=8)


def test_an_explicit_offset_is_converted_to_shanghai():
    assert parse_datetime("2024-01-05T06:29:00Z").value == at(2024, 1, 5, 14, 29)


@pytest.mark.parametrize("index_number", [
    "002948120/2024-00123",
    "BL0206-0103-2023-0041",
    "20191202-189769",
    "000014349/2017-00110",
    "330206-01-03-2009-20090105-0012",
    "索引号：002948120/2024-00123",
])
def test_index_numbers_are_not_dates(index_number):
    assert parse_datetime(index_number) is None
    assert find_datetime(index_number) is None


@pytest.mark.parametrize("text", ["2024-02-30", "2023年2月29日", "2024-13-01", "1948-12-31", "2101-01-01", "85-05-17"])
def test_impossible_dates_and_years_out_of_range_are_rejected(text):
    assert parse_datetime(text) is None


@pytest.mark.parametrize("text", ["", "无", "暂无", "2024年1月", "第2024号", "共12页 2024"])
def test_non_dates_give_none(text):
    assert parse_datetime(text) is None


def test_a_value_with_more_numbers_than_the_date_is_not_a_date():
    assert parse_datetime("2024-01-05 第3号") is None


def test_find_datetime_takes_the_date_out_of_an_info_line():
    parsed = find_datetime("发布时间：2024年1月5日 14:29\u3000来源：区人力社保局\u3000浏览次数：")
    assert (parsed.value, parsed.precision) == (at(2024, 1, 5, 14, 29), "minute")


def test_find_datetime_skips_an_index_number_before_the_real_date():
    parsed = find_datetime("索引号：002948120/2024-00123 发布日期：2024-01-05")
    assert parsed.value == at(2024, 1, 5)


def test_find_datetime_skips_an_impossible_date_and_takes_the_next():
    assert find_datetime("2024-02-30 更正为 2024-02-29").value == at(2024, 2, 29)


def test_parse_date_returns_the_calendar_date():
    assert parse_date("2017年05月15日") == dt.date(2017, 5, 15)
    assert parse_date("not a date") is None


# --- slashed a/b/yyyy dates (ASP.NET/IIS server cultures) ---------------------------------------

@pytest.mark.parametrize("text, value, precision", [
    ("7/5/2005 9:23:57 PM", at(2005, 7, 5, 21, 23, 57), "second"),
    ("发布时间：2/24/2011 10:05:31 AM", at(2011, 2, 24, 10, 5, 31), "second"),
    ("12/1/2012 12:05 AM", at(2012, 12, 1, 0, 5), "minute"),
    ("12/1/2012 12:05 PM", at(2012, 12, 1, 12, 5), "minute"),
    ("06/02/2022", at(2022, 6, 2), "day"),
    ("25/01/2022", at(2022, 1, 25), "day"),  # 25 cannot be a month
])
def test_slashed_dates_are_month_first_by_default(text, value, precision):
    parsed = parse_datetime(text)
    assert parsed is not None and (parsed.value, parsed.precision) == (value, precision)


def test_slashed_dates_are_day_first_when_asked():
    assert parse_datetime("06/02/2022", day_first=True).value == at(2022, 2, 6)
    assert find_datetime("发布时间：06/02/2022 来源：港航中心", day_first=True).value == at(2022, 2, 6)
    assert parse_datetime("02/24/2022", day_first=True).value == at(2022, 2, 24)  # 24 cannot be a month


def test_a_page_is_day_first_only_when_its_own_dates_say_so():
    assert slashed_dates_day_first("发布时间：06/02/2022 … 18/02/2022 … 25/01/2022")
    assert not slashed_dates_day_first("发布时间：06/02/2022 … 06/15/2022 … 05/27/2022")
    assert not slashed_dates_day_first("发布时间：06/02/2022")  # no evidence: month first (en-US servers)
    assert not slashed_dates_day_first("7/5/2005 9:23:57 PM 13/05/2005")  # AM/PM: en-US, a tie stays month first


def test_a_path_of_numbers_is_no_slashed_date():
    assert find_datetime("/upload/12/05/20245/a.jpg") is None
    assert find_datetime("002948120/2024-00123") is None


def test_four_digit_years_from_1949_are_dates():
    assert parse_date("1985年3月12日") == dt.date(1985, 3, 12) and parse_date("1949-10-01") == dt.date(1949, 10, 1)


# --- date-shaped values that are no dates say why, and the sane range --------------------------

@pytest.mark.parametrize("text, raw, reason", [
    ("9999年13月45日", "9999年13月45日", "no such date"),
    ("发布时间：2024年13月45日 来源：区住建局", "2024年13月45日", "no such date"),
    ("2023-02-29", "2023-02-29", "no such date"),
    ("1948-12-31", "1948-12-31", "year out of range (1949–2100)"),
    ("2101-01-01", "2101-01-01", "year out of range (1949–2100)"),
    ("99990101", "99990101", "year out of range (1949–2100)"),
])
def test_date_problem_names_the_impossible_date_and_why(text, raw, reason):
    problem = date_problem(text, whole=len(text) == 8)
    assert problem is not None and (problem.raw, problem.reason) == (raw, reason)


@pytest.mark.parametrize("text", ["近日", "2024-01-05", "002948120/2024-00123", "2024-02-30 更正为 2024-02-29", ""])
def test_date_problem_is_none_for_readable_dates_and_non_dates(text):
    assert date_problem(text) is None


def test_implausible_dates_are_before_1949_10_01_or_over_a_year_after_the_fetch():
    fetched = at(2024, 2, 1, 8)
    assert implausible(dt.date(1949, 9, 30), fetched) == "before 1949-10-01"
    assert implausible(dt.date(1949, 10, 1), fetched) is None
    assert implausible(dt.date(2025, 2, 1), fetched) is None
    assert "more than a year after" in implausible(at(2025, 3, 1), fetched)
