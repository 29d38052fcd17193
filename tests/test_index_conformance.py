"""Conformance suite of the search index: every backend must pass it unchanged.

The ``index`` fixture is parametrized over backends. ``embedded`` (SQLite FTS5) runs always;
``elasticsearch`` runs only when BLGW_TEST_ELASTICSEARCH_URL names a cluster (each test gets its
own throw-away index, named by the URL path). Tests use only the public interface of
``index.base`` and check behaviour, never backend-specific scores or storage.

Decisions fixed here (part of the contract):

* A query without any searchable text (only punctuation, emoji or operators such as AND/OR) is a
  valid SearchQuery and returns an empty result; a blank or >200-character ``q`` is a
  validation error.
* ``title_html`` / ``snippet_html`` are escaped text where only ``<mark>…</mark>`` is markup.
* Facets (``site``, ``category``, ``column`` = last element of the path, ``year`` = Shanghai
  year of ``published_at`` as a string) count every document matching ``q`` and ALL the filters,
  whatever the page; at most 20 values each, count descending then value ascending; all four
  keys are always there.
* ``suggest`` is a title prefix match (stripped prefix, ASCII case-insensitive, no wildcard
  characters), newest first, undated last, then title, then id; a blank prefix gives ``[]``,
  no prefix raises, ``size`` outside 1–20 is a ValueError.
* ``rebuild`` swaps in a complete new index: reads made while its iterable is consumed (even
  from inside the generator) see the old contents; a failing iterable leaves the old contents.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from pydantic import ValidationError

from index.base import FacetValue, SearchIndex, SearchQuery, SearchResult, Suggestion
from normalizers.models import (
    SHANGHAI,
    Article,
    Attachment,
    Category,
    DisclosureMetadata,
    document_id,
)

ES_ENV = "BLGW_TEST_ELASTICSEARCH_URL"

BACKENDS = [
    pytest.param("embedded", id="embedded"),
    pytest.param("elasticsearch", id="elasticsearch"),
]


def _test_index_url(url: str, prefix: str) -> str:
    """``url`` with its path replaced by ``prefix`` (its query string, e.g. ``?analyzer=ik``, kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{prefix}", parts.query, ""))


def test_the_test_index_url_keeps_the_query_string() -> None:
    assert _test_index_url("https://u:p@es:9200/?analyzer=ik", "t1") == "https://u:p@es:9200/t1?analyzer=ik"
    assert _test_index_url("http://es:9200", "t1") == "http://es:9200/t1"


@pytest.fixture(params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path) -> Iterator[SearchIndex]:
    if request.param == "embedded":
        from index.embedded import EmbeddedIndex

        idx: SearchIndex = EmbeddedIndex(tmp_path / "index.sqlite")
    elif request.param == "elasticsearch":
        url = os.environ.get(ES_ENV)
        if not url:
            pytest.skip(f"Elasticsearch conformance run NOT EXECUTED: no cluster configured (set {ES_ENV}=http://host:9200)")
        from index.factory import open_index  # the backend is only imported when a cluster is given

        test_url = _test_index_url(url, f"blgw-test-{uuid.uuid4().hex[:12]}")
        idx = open_index(test_url)

        def drop_test_index() -> None:
            # Runs after the clear()/close() below: removes the alias, every
            # blgw-test-<hex>-v*-* index and the blgw-test-<hex> index template.
            with open_index(test_url) as admin:
                admin.drop()  # type: ignore[attr-defined]

        request.addfinalizer(drop_test_index)
    else:  # pragma: no cover
        raise AssertionError(request.param)
    try:
        yield idx
    finally:
        try:
            idx.clear()
        finally:
            idx.close()


# --------------------------------------------------------------------------------------------
# Articles

FETCHED = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)


def art(slug: str, title: str, body: str, *, site: str = "rsj",
        column: tuple[str, ...] = ("政务公开", "通知公告"),
        published: dt.datetime | None = dt.datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI),
        category: Category = Category.GOVERNMENT_INFORMATION, **extra) -> Article:
    url = f"http://{site}.bl.gov.cn/art/{slug}.html"
    return Article(
        id=document_id(url), site_code=site, column_path=list(column), category=category,
        title=title, published_at=published, body_text=body,
        body_html="".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n")),
        source_url=url, fetched_at=FETCHED, **extra)


def sh(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


SHEBAO = art(
    "shebao", "关于调整2024年度社保缴费基数的通知",
    "各参保单位、参保人员：\n\n根据省人力社保厅有关规定，现就调整2024年度社保缴费基数有关事项通知如下。"
    "一、职工基本养老保险缴费基数上下限按全省统一标准执行。\n\n二、请各单位于4月30日前完成申报。",
    published=sh(2024, 3, 15))
SHEHUI_BAOXIAN = art(
    "shehui", "北仑区社会保险费征缴管理办法",
    "第一条 为加强社会保险费征缴管理，保障参保人员合法权益，制定本办法。\n\n"
    "第二条 本办法适用于本区行政区域内的用人单位。",
    column=("政务公开", "政策法规"), published=sh(2024, 1, 10))
YANGLAO_APART = art(
    "laonian", "做好老年人健康服务工作的意见",
    "推进医养结合，鼓励养老机构与医疗机构签约合作，将符合条件的机构纳入医疗保险定点范围。",
    site="wjw", column=("政务公开", "工作动态"), published=sh(2024, 2, 20))
AIGUO = art(
    "aiguo", "关于开展2024年春季爱国卫生运动的公告",
    "为巩固国家卫生城市创建成果，现决定在全区开展春季爱国卫生运动，请广大市民积极参与。",
    site="wjw", column=("通知公告",), published=sh(2024, 3, 31, 23, 30))
YANGCHEN = art(
    "yangchen", "北仑区建筑工地扬尘治理情况公示",
    "现将2023年第四季度建筑工地扬尘治理检查情况予以公示，详见附件PDF文件。公示期为5个工作日。",
    site="zjj", column=("政务公开", "公示公告"), published=sh(2024, 4, 1, 0, 10))
UNDATED = art(
    "undated", "住房公积金提取指南",
    "职工购买自住住房、偿还住房贷款本息的，可以申请提取住房公积金。",
    site="zjj", column=("网上服务", "办事指南"), published=None, category=Category.ONLINE_SERVICES)

CORPUS = [SHEBAO, SHEHUI_BAOXIAN, YANGLAO_APART, AIGUO, YANGCHEN, UNDATED]


@pytest.fixture
def loaded(index: SearchIndex) -> SearchIndex:
    assert index.upsert(CORPUS) == len(CORPUS)
    return index


def search(index: SearchIndex, q: str, **kw) -> SearchResult:
    return index.search(SearchQuery(q=q, **kw))


def ids(result: SearchResult) -> set[str]:
    return {h.id for h in result.hits}


def ranked(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def filler(n: int) -> str:
    """Neutral Chinese text of exactly n characters (no query word of these tests inside)."""
    text = "本区持续优化营商环境推进数字化改革提升群众满意度"
    return (text * (n // len(text) + 1))[:n]


# --------------------------------------------------------------------------------------------
# Chinese matching


def test_two_character_word_matches_only_the_literal_word(loaded: SearchIndex) -> None:
    result = search(loaded, "社保")
    assert ids(result) == {SHEBAO.id}
    assert result.total == 1
    # 社会保险 contains 社 and 保 but not the word 社保.
    assert SHEHUI_BAOXIAN.id not in ids(result)


def test_two_character_word_gonggao(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "公告")) == {AIGUO.id}
    assert ids(search(loaded, "公示")) == {YANGCHEN.id}


def test_longer_word(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "社会保险")) == {SHEHUI_BAOXIAN.id}
    assert ids(search(loaded, "爱国卫生运动")) == {AIGUO.id}


def test_one_character_query(loaded: SearchIndex) -> None:
    # 险 is always the last character of its word here (保险): must be found anyway.
    assert ids(search(loaded, "险")) == {SHEBAO.id, SHEHUI_BAOXIAN.id, YANGLAO_APART.id}
    assert ids(search(loaded, "尘")) == {YANGCHEN.id}
    assert ids(search(loaded, "金")) == {UNDATED.id}
    assert search(loaded, "鄞").total == 0


def test_one_character_query_finds_a_lone_character(index: SearchIndex) -> None:
    lone = art("lone", "人事任免（甲）", "任命张三为区人力社保局副局长。")
    index.upsert([lone, SHEBAO])
    assert ids(search(index, "甲")) == {lone.id}


def test_a_cjk_term_is_found_only_where_it_occurs_literally(index: SearchIndex) -> None:
    # Every bigram of 社会保险 occurs, but never adjacent within one field: no match (not an
    # AND of bigrams across the title and the body, nor scattered over the body).
    split = art("split", "社会事业发展", "会保险种与资金管理。")  # 社会 in the title; 会保, 保险 in the body
    scattered = art("scattered", "工作简报", "社会会保保险。")
    literal = art("literal", "工作简报", "缴纳社会保险费。")
    index.upsert([split, scattered, literal])
    assert ids(search(index, "社会保险")) == {literal.id}
    # Two terms may still match one in the title and one in the body.
    assert ids(search(index, "社会 保险")) == {split.id, scattered.id, literal.id}


def test_one_character_runs_in_phrases(index: SearchIndex) -> None:
    # A one-character run inside a phrase is a whole run of the document (the text must
    # separate it from the next run); a last one-character run may go on.
    apart = art("apart", "通知", "请社，保险公司配合。")
    joined = art("joined", "通知", "请社保险种配合。")
    tail = art("tail", "通知", "养老保险，社区办理。")
    index.upsert([apart, joined, tail])
    assert ids(search(index, '"社 保险"')) == {apart.id}
    assert ids(search(index, '"保险 社"')) == {tail.id}
    assert ids(search(index, '"保险社"')) == set()
    assert ids(search(index, "社")) == {apart.id, joined.id, tail.id}


@pytest.mark.parametrize(("text", "query"), [
    ("第Ⅱ类医疗器械经营备案", "第II类"),  # Roman numeral Ⅱ (U+2161) is II under NFKC
    ("⼈民调解委员会工作规则", "人民调解"),  # Kangxi radical ⼈ (U+2F08), common in PDF text
    ("①申请表②身份证明", "1申请表"),  # circled digits
    ("ﾃｽﾄ用ＡＢＣ", "テスト用abc"),  # half-width katakana, full-width Latin
    ("北侖區", "北侖區"),  # traditional characters are text as they are
])
def test_compatibility_characters_match_their_nfkc_form(index: SearchIndex, text: str, query: str) -> None:
    doc = art("nfkc", "通知", text)
    other = art("other", "通知", "本区持续优化营商环境。")
    index.upsert([doc, other])
    assert ids(search(index, query)) == {doc.id}
    assert ids(search(index, text)) == {doc.id}  # the compatibility form finds itself too


def test_phrase_requires_adjacent_terms(loaded: SearchIndex) -> None:
    # SHEBAO has 养老保险; YANGLAO_APART has 养老 and 保险 apart.
    assert ids(search(loaded, '"养老保险"')) == {SHEBAO.id}
    assert ids(search(loaded, "养老 保险")) == {SHEBAO.id, YANGLAO_APART.id}


def test_phrase_order_matters(index: SearchIndex) -> None:
    doc = art("order", "医疗保险报销指南", "参保人员住院医疗费用按规定报销。")
    index.upsert([doc])
    assert ids(search(index, '"医疗保险"')) == {doc.id}
    assert search(index, '"保险医疗"').total == 0


def test_chinese_quotes_are_phrase_quotes(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "“养老保险”")) == {SHEBAO.id}


def test_terms_are_anded_across_title_and_body(loaded: SearchIndex) -> None:
    # 社保 in title and body, 申报 only in the body.
    assert ids(search(loaded, "社保 申报")) == {SHEBAO.id}
    assert search(loaded, "社保 扬尘").total == 0
    assert ids(search(loaded, "北仑区 公示")) == {YANGCHEN.id}


def test_operators_are_not_interpreted(loaded: SearchIndex) -> None:
    # OR is ignored: this is 社保 AND 扬尘, not a disjunction.
    assert search(loaded, "社保 OR 扬尘").total == 0
    assert ids(search(loaded, "社保 AND 申报")) == {SHEBAO.id}
    # "-" excludes nothing.
    assert ids(search(loaded, "社保 -申报")) == {SHEBAO.id}


# --------------------------------------------------------------------------------------------
# ASCII, numbers, width


def test_ascii_words_case_insensitive(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "pdf")) == {YANGCHEN.id}
    assert ids(search(loaded, "PDF")) == {YANGCHEN.id}
    assert ids(search(loaded, "Pdf 公示")) == {YANGCHEN.id}


def test_ascii_words_match_whole_words(index: SearchIndex) -> None:
    doc = art("pdfs", "附件下载说明", "所有附件均提供PDFs格式。")
    index.upsert([doc])
    assert search(index, "pdf").total == 0
    assert ids(search(index, "pdfs")) == {doc.id}


def test_numbers(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "2024")) == {SHEBAO.id, AIGUO.id}
    assert ids(search(loaded, "2023")) == {YANGCHEN.id}
    assert ids(search(loaded, "2024 社保")) == {SHEBAO.id}


def test_full_width_digits_and_letters_match_half_width(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "２０２３")) == {YANGCHEN.id}
    assert ids(search(loaded, "ＰＤＦ")) == {YANGCHEN.id}


def test_full_width_text_in_documents_is_found(index: SearchIndex) -> None:
    doc = art("fw", "２０２４年第１号通告", "依据ＧＢ５０００９标准。")
    index.upsert([doc])
    assert ids(search(index, "2024")) == {doc.id}
    assert ids(search(index, "gb50009")) == {doc.id}


# --------------------------------------------------------------------------------------------
# Ranking


def test_title_match_outranks_single_body_mention(index: SearchIndex) -> None:
    in_title = art("t", "医保报销流程说明", filler(80))
    in_body = art("b", "办事流程说明", filler(40) + "医保" + filler(38))
    index.upsert([in_body, in_title])
    assert ranked(search(index, "医保")) == [in_title.id, in_body.id]


def test_more_occurrences_rank_higher(index: SearchIndex) -> None:
    once = art("once", "工作简报一", filler(30) + "医保" + filler(68))
    thrice = art("thrice", "工作简报二", filler(10) + "医保" + filler(20) + "医保" + filler(20) + "医保" + filler(44))
    assert len(once.body_text) == len(thrice.body_text)
    index.upsert([once, thrice])
    result = search(index, "医保")
    assert ranked(result) == [thrice.id, once.id]
    assert result.hits[0].score > result.hits[1].score


def test_relevance_ties_break_newest_first(index: SearchIndex) -> None:
    old = art("old", "医保政策问答", filler(50), published=sh(2023, 1, 1))
    new = art("new", "医保政策问答", filler(50), published=sh(2024, 1, 1))
    index.upsert([old, new])
    assert ranked(search(index, "医保")) == [new.id, old.id]


# --------------------------------------------------------------------------------------------
# Filters


def test_site_filter(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "2024", site_codes=["wjw"])) == {AIGUO.id}
    assert ids(search(loaded, "2024", site_codes=["wjw", "rsj"])) == {AIGUO.id, SHEBAO.id}
    assert search(loaded, "2024", site_codes=["nosuch"]).total == 0


def test_column_filter_matches_any_path_element(loaded: SearchIndex) -> None:
    q = "的"  # in most documents
    assert ids(search(loaded, q, column="政策法规")) == {SHEHUI_BAOXIAN.id}
    # 政务公开 is the first element of several paths; 通知公告 the last of SHEBAO's and the only
    # element of AIGUO's.
    assert ids(search(loaded, q, column="政务公开")) == {SHEBAO.id, SHEHUI_BAOXIAN.id, YANGLAO_APART.id}
    assert ids(search(loaded, q, column="通知公告")) == {SHEBAO.id, AIGUO.id}
    # Whole column names only.
    assert search(loaded, q, column="政策").total == 0
    assert search(loaded, q, column="政务公开 > 政策法规").total == 0


def test_date_filter_bounds_are_inclusive_days(loaded: SearchIndex) -> None:
    q = "区"  # SHEHUI_BAOXIAN 2024-01-10, AIGUO 2024-03-31, YANGCHEN 2024-04-01
    assert ids(search(loaded, q)) == {SHEHUI_BAOXIAN.id, AIGUO.id, YANGCHEN.id}
    assert SHEHUI_BAOXIAN.id in ids(search(loaded, q, date_from=dt.date(2024, 1, 10)))
    assert SHEHUI_BAOXIAN.id not in ids(search(loaded, q, date_from=dt.date(2024, 1, 11)))
    assert SHEHUI_BAOXIAN.id in ids(search(loaded, q, date_to=dt.date(2024, 1, 10)))
    assert SHEHUI_BAOXIAN.id not in ids(search(loaded, q, date_to=dt.date(2024, 1, 9)))
    one_day = search(loaded, q, date_from=dt.date(2024, 1, 10), date_to=dt.date(2024, 1, 10))
    assert ids(one_day) == {SHEHUI_BAOXIAN.id}
    assert ids(search(loaded, q, date_from=dt.date(2024, 1, 11), date_to=dt.date(2024, 3, 31))) == {AIGUO.id}


def test_date_filter_uses_shanghai_days(loaded: SearchIndex) -> None:
    # AIGUO: 2024-03-31 23:30 Shanghai (15:30 UTC); YANGCHEN: 2024-04-01 00:10 Shanghai, which
    # is still 2024-03-31 (16:10) in UTC. Days are Shanghai days.
    q = "公"  # 公告 (AIGUO), 公示 (YANGCHEN), 公积金 (UNDATED)
    assert ids(search(loaded, q, date_to=dt.date(2024, 3, 31))) == {AIGUO.id}
    assert ids(search(loaded, q, date_from=dt.date(2024, 3, 31), date_to=dt.date(2024, 3, 31))) == {AIGUO.id}
    assert ids(search(loaded, q, date_from=dt.date(2024, 4, 1))) == {YANGCHEN.id}


def test_undated_documents_are_excluded_by_date_filters(loaded: SearchIndex) -> None:
    assert ids(search(loaded, "公积金")) == {UNDATED.id}
    assert search(loaded, "公积金", date_from=dt.date(2000, 1, 1)).total == 0
    assert search(loaded, "公积金", date_to=dt.date(2100, 1, 1)).total == 0


def test_filters_combine(loaded: SearchIndex) -> None:
    result = search(loaded, "的", site_codes=["rsj", "zjj"], column="政务公开",
                    date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31))
    assert ids(result) == {SHEBAO.id, SHEHUI_BAOXIAN.id}


# --------------------------------------------------------------------------------------------
# Paging and order


def _many(n: int = 23) -> list[Article]:
    return [art(f"p{i:02d}", f"第{i}期医保政策解读", f"医保政策解读第{i}期。" + filler(40),
                published=sh(2024, 1, 1) + dt.timedelta(days=i)) for i in range(n)]


def test_paging_is_disjoint_and_total_is_stable(index: SearchIndex) -> None:
    docs = _many()
    index.upsert(docs)
    seen: list[str] = []
    for page in (1, 2, 3):
        result = search(index, "医保", page=page, size=10)
        assert result.total == 23
        assert (result.page, result.size) == (page, 10)
        seen.extend(ranked(result))
    assert len(seen) == 23 and set(seen) == {d.id for d in docs}
    past = search(index, "医保", page=4, size=10)
    assert past.hits == [] and past.total == 23


@pytest.mark.parametrize("order", ["relevance", "date"])
def test_paging_is_consistent_with_one_big_page(index: SearchIndex, order: str) -> None:
    index.upsert(_many())
    whole = ranked(search(index, "医保", size=50, order=order))
    paged = [i for p in (1, 2, 3, 4, 5) for i in ranked(search(index, "医保", page=p, size=5, order=order))]
    assert paged == whole


def test_order_by_date_newest_first_undated_last(loaded: SearchIndex) -> None:
    result = search(loaded, "公", order="date")  # 公告, 公示, 公积金
    assert ranked(result) == [YANGCHEN.id, AIGUO.id, UNDATED.id]
    every = search(loaded, "的", order="date", size=50)
    dates = [h.published_at for h in every.hits]
    assert None in dates and dates[-1] is None
    known = [d for d in dates if d is not None]
    assert known == sorted(known, reverse=True)


def test_order_by_date_ignores_relevance(index: SearchIndex) -> None:
    strong_old = art("so", "医保医保医保", "医保政策。", published=sh(2023, 1, 1))
    weak_new = art("wn", "工作通报", filler(60) + "医保" + filler(30), published=sh(2024, 6, 1))
    index.upsert([strong_old, weak_new])
    assert ranked(search(index, "医保")) == [strong_old.id, weak_new.id]
    assert ranked(search(index, "医保", order="date")) == [weak_new.id, strong_old.id]


# --------------------------------------------------------------------------------------------
# Writes, reads


def test_upsert_replaces_by_id(loaded: SearchIndex) -> None:
    changed = SHEBAO.model_copy(update={"title": "关于调整2024年度医保缴费基数的通知",
                                        "body_text": "现就调整医保缴费基数有关事项通知如下。"})
    assert loaded.upsert([changed]) == 1
    assert loaded.count() == len(CORPUS)
    assert search(loaded, "社保").total == 0
    result = search(loaded, "医保")
    assert ranked(result) == [SHEBAO.id]
    assert result.hits[0].title == changed.title
    assert loaded.get(SHEBAO.id) == changed


def test_upsert_metadata_change_is_searchable(loaded: SearchIndex) -> None:
    moved = SHEBAO.model_copy(update={"site_code": "ylj", "column_path": ["信息公开", "通知"]})
    loaded.upsert([moved])
    assert ids(search(loaded, "社保", site_codes=["ylj"], column="通知")) == {SHEBAO.id}
    assert search(loaded, "社保", site_codes=["rsj"]).total == 0


def test_upsert_same_id_twice_in_one_call_last_wins(index: SearchIndex) -> None:
    first = art("dup", "医保政策", "第一版。")
    second = first.model_copy(update={"title": "社保政策"})
    assert index.upsert(iter([first, second])) == 2
    assert index.count() == 1
    assert index.get(first.id) == second
    assert search(index, "医保").total == 0


def test_upsert_accepts_a_generator_and_empty_input(index: SearchIndex) -> None:
    assert index.upsert(a for a in CORPUS) == len(CORPUS)
    assert index.upsert([]) == 0
    assert index.count() == len(CORPUS)


def test_delete(loaded: SearchIndex) -> None:
    assert loaded.delete([SHEBAO.id, AIGUO.id, "0" * 32]) == 2
    assert loaded.count() == len(CORPUS) - 2
    assert loaded.get(SHEBAO.id) is None
    assert search(loaded, "社保").total == 0
    assert search(loaded, "公告").total == 0
    assert loaded.delete([SHEBAO.id]) == 0
    assert loaded.delete([]) == 0
    # Deleted documents can come back.
    loaded.upsert([SHEBAO])
    assert ids(search(loaded, "社保")) == {SHEBAO.id}


def test_get_round_trips_the_article(index: SearchIndex) -> None:
    full = art(
        "full", "北仑区人民政府办公室关于印发《2024年政务公开工作要点》的通知",
        "各乡镇人民政府、街道办事处：\n\n现将《要点》印发给你们，请认真贯彻执行。",
        published=dt.datetime(2024, 4, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI),
        disclosure=DisclosureMetadata(index_number="11330206002948120A/2024-00042", publisher="区政府办公室",
                                      written_date=dt.date(2024, 3, 29), document_number="仑政办发〔2024〕12号",
                                      keywords=["政务公开", "要点"], extra={"有效性": "有效"}),
        attachments=[Attachment(name="附件1：要点.pdf", url="http://www.bl.gov.cn/f/1.pdf", file_type="pdf")],
    )
    index.upsert([full, SHEBAO])
    got = index.get(full.id)
    assert got == full
    assert got.model_dump(mode="json") == full.model_dump(mode="json")
    assert got.content_hash == full.content_hash
    assert index.get("f" * 32) is None


def test_count_and_clear(index: SearchIndex) -> None:
    assert index.count() == 0
    index.upsert(CORPUS)
    assert index.count() == len(CORPUS)
    index.clear()
    assert index.count() == 0
    assert search(index, "社保").total == 0
    index.upsert([SHEBAO])
    assert index.count() == 1 and search(index, "社保").total == 1


# --------------------------------------------------------------------------------------------
# Hits, highlighting


def test_hit_fields(loaded: SearchIndex) -> None:
    (hit,) = search(loaded, "扬尘").hits
    assert hit.id == YANGCHEN.id
    assert hit.site_code == "zjj"
    assert hit.column_path == ["政务公开", "公示公告"]
    assert hit.category == Category.GOVERNMENT_INFORMATION
    assert hit.title == YANGCHEN.title
    assert hit.url == str(YANGCHEN.source_url)
    assert hit.published_at == YANGCHEN.published_at
    assert hit.published_at.utcoffset() == dt.timedelta(hours=8)
    assert isinstance(hit.score, float)
    (undated,) = search(loaded, "公积金").hits
    assert undated.published_at is None and undated.category == Category.ONLINE_SERVICES


def _plain(fragment: str) -> str:
    """The text of a highlighted fragment: only <mark> tags may be markup."""
    assert re.sub(r"</?mark>", "", fragment).count("<") == 0
    return html.unescape(re.sub(r"</?mark>", "", fragment))


def _marked(fragment: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", fragment)]


def test_highlight_marks_terms_in_title_and_snippet(loaded: SearchIndex) -> None:
    (hit,) = search(loaded, "社保 申报").hits
    assert _plain(hit.title_html) == SHEBAO.title
    assert _marked(hit.title_html) == ["社保"]
    assert "<mark>社保</mark>" in hit.snippet_html
    assert "<mark>申报</mark>" in hit.snippet_html
    assert len(_plain(hit.snippet_html)) <= 160


def test_highlight_phrase_and_one_character(loaded: SearchIndex) -> None:
    (hit,) = search(loaded, '"养老保险"').hits
    assert "<mark>养老保险</mark>" in hit.snippet_html
    for h in search(loaded, "险").hits:
        assert set(_marked(h.title_html + h.snippet_html)) <= {"险"}
        assert _marked(h.title_html + h.snippet_html)


def test_highlight_is_case_and_width_insensitive(loaded: SearchIndex) -> None:
    (hit,) = search(loaded, "ｐｄｆ").hits
    assert _marked(hit.snippet_html) == ["PDF"]


def test_highlight_escapes_html(index: SearchIndex) -> None:
    evil = art("evil", "<script>alert('社保')</script> & 通知",
               "正文<script>alert(1)</script>提到社保 & <b>医保</b> \"引号\"。")
    index.upsert([evil])
    (hit,) = search(index, "社保").hits
    assert "<script>" not in hit.title_html and "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.title_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert "&lt;b&gt;" in hit.snippet_html and "&amp;" in hit.snippet_html
    assert _plain(hit.title_html) == evil.title
    assert _marked(hit.title_html) == ["社保"] and _marked(hit.snippet_html) == ["社保"]
    # Searching for the markup itself finds the word, still escaped.
    (hit,) = search(index, "<script>").hits
    assert "<script>" not in hit.title_html
    assert _marked(hit.title_html) == ["script", "script"]


def test_snippet_is_the_densest_window(index: SearchIndex) -> None:
    body = filler(300) + "医保" + filler(300) + "社保医保社保" + filler(300)
    doc = art("dense", "工作通报", body)
    index.upsert([doc])
    (hit,) = search(index, "医保 社保").hits
    text = _plain(hit.snippet_html)
    assert "社保医保社保" in text
    assert text.startswith("…") and text.endswith("…")
    assert len(text) <= 160
    assert "".join(_marked(hit.snippet_html)) == "社保医保社保"  # one or several <mark>s


def test_snippet_is_the_start_of_the_body_for_title_only_matches(index: SearchIndex) -> None:
    doc = art("titleonly", "医保政策问答", "第一段说明。\n\n" + filler(300))
    index.upsert([doc])
    (hit,) = search(index, "医保").hits
    assert "<mark>" in hit.title_html
    assert "<mark>" not in hit.snippet_html
    assert _plain(hit.snippet_html).startswith("第一段说明。")
    assert len(_plain(hit.snippet_html)) <= 160


# --------------------------------------------------------------------------------------------
# Hostile and degenerate queries

HOSTILE = [
    '"', '""', '"社保', '社保"', 'AND OR', 'AND', 'OR 社保', 'NOT', '*', '社保*', '(', ')', '社保)',
    'NEAR(', 'NEAR(社保 医保, 2)', 'col:x', 'title:社保', '^', '社保^2', '-', '-社保', '+社保', '{', '[',
    "'", "\\", '%', '_', '~', '社保~', '社' * 200, 'a' * 200, '社保 ' * 66, '😀', '社保😀', '🇨🇳',
    '\x00', '\u200b', '“', '〔2024〕12号', 'OR OR OR', '"AND"', '"NEAR"', 'x' + '"' * 50,
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_raise(loaded: SearchIndex, q: str) -> None:
    for order in ("relevance", "date"):
        result = search(loaded, q, order=order, site_codes=["rsj"], column="政务公开",
                        date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))
        assert isinstance(result, SearchResult)
        assert result.total >= len(result.hits)


@pytest.mark.parametrize("q", ["，。！", "!!!", "...", "《》", "😀", "AND OR NOT", '"', "* ( ) ^ :"])
def test_queries_without_searchable_text_return_nothing(loaded: SearchIndex, q: str) -> None:
    result = search(loaded, q)
    assert result.total == 0 and result.hits == []


def test_quoted_operators_are_text(index: SearchIndex) -> None:
    doc = art("op", "Q AND A 问答", "常见问题 FAQ。")
    index.upsert([doc])
    assert ids(search(index, '"and"')) == {doc.id}


# --------------------------------------------------------------------------------------------
# SearchQuery validation (backend-neutral)


@pytest.mark.parametrize("q", ["", "   ", "\n\t", "a" * 201, "社" * 201])
def test_query_text_length_is_validated(q: str) -> None:
    with pytest.raises(ValidationError):
        SearchQuery(q=q)


def test_query_text_is_stripped_before_the_length_check() -> None:
    assert SearchQuery(q="  社保  ").q == "社保"
    assert SearchQuery(q=" " * 10 + "社" * 200 + " " * 10).q == "社" * 200


@pytest.mark.parametrize("kw", [
    {"page": 0}, {"page": 101}, {"size": 0}, {"size": 51}, {"order": "title"},
    {"date_from": dt.date(2024, 2, 1), "date_to": dt.date(2024, 1, 1)}, {"unknown": 1},
])
def test_query_parameters_are_validated(kw: dict) -> None:
    with pytest.raises(ValidationError):
        SearchQuery(q="社保", **kw)


def test_query_defaults() -> None:
    q = SearchQuery(q="社保")
    assert (q.site_codes, q.column, q.date_from, q.date_to, q.page, q.size, q.order) == (
        [], None, None, None, 1, 10, "relevance")


def test_query_categories_are_validated_and_deduplicated() -> None:
    q = SearchQuery(q="社保", categories=["网上服务", Category.ONLINE_SERVICES, "政务公开"])
    assert q.categories == [Category.ONLINE_SERVICES, Category.GOVERNMENT_INFORMATION]
    assert SearchQuery(q="社保").categories == []
    with pytest.raises(ValidationError):
        SearchQuery(q="社保", categories=["新闻"])


# --------------------------------------------------------------------------------------------
# Category filter


def test_category_filter(loaded: SearchIndex) -> None:
    q = "公"  # 公告 (AIGUO), 公示 (YANGCHEN), 公积金 (UNDATED, 网上服务)
    assert ids(search(loaded, q, categories=[Category.ONLINE_SERVICES])) == {UNDATED.id}
    assert ids(search(loaded, q, categories=[Category.GOVERNMENT_INFORMATION])) == {AIGUO.id, YANGCHEN.id}
    both = [Category.GOVERNMENT_INFORMATION, Category.ONLINE_SERVICES]
    assert ids(search(loaded, q, categories=both)) == {AIGUO.id, YANGCHEN.id, UNDATED.id}
    assert ids(search(loaded, q, categories=[])) == {AIGUO.id, YANGCHEN.id, UNDATED.id}
    assert search(loaded, q, categories=[Category.INTERACTION]).total == 0
    # Combined with the other filters (AND).
    assert search(loaded, q, categories=[Category.ONLINE_SERVICES], site_codes=["wjw"]).total == 0
    assert ids(search(loaded, q, categories=both, date_from=dt.date(2024, 1, 1))) == {AIGUO.id, YANGCHEN.id}


# --------------------------------------------------------------------------------------------
# Facets

GOV, ONLINE, INTERACTION = Category.GOVERNMENT_INFORMATION, Category.ONLINE_SERVICES, Category.INTERACTION


def fdoc(slug: str, site: str, column: tuple[str, ...], published: dt.datetime | None,
         category: Category = GOV, title: str = "工作通报", body: str = "本区工作安排。") -> Article:
    return art(slug, title, body, site=site, column=column, published=published, category=category)


FACET_CORPUS = [
    fdoc("f0", "rsj", ("政务公开", "通知公告"), sh(2024, 3, 1)),
    fdoc("f1", "rsj", ("政务公开", "通知公告"), sh(2023, 5, 1)),
    fdoc("f2", "rsj", ("通知公告",), sh(2024, 1, 1, 0, 30)),  # 2023-12-31 16:30 UTC: year 2024
    fdoc("f3", "wjw", ("政务公开", "政策法规"), sh(2022, 12, 31, 23, 30)),  # 15:30 UTC: year 2022
    fdoc("f4", "wjw", ("网上服务", "办事指南"), None, ONLINE),  # undated: no year
    fdoc("f5", "zjj", ("政民互动", "通知公告"), sh(2023, 7, 1), INTERACTION),
    fdoc("f6", "zjj", ("政策法规",), sh(2024, 6, 1)),
    fdoc("f7", "rsj", ("政务公开", "通知公告"), sh(2021, 1, 1), title="社保说明", body="无关。"),  # no 工作
]


def facets(result: SearchResult) -> dict[str, list[tuple[str, int]]]:
    assert set(result.facets) == {"site", "category", "column", "year"}
    for values in result.facets.values():
        assert all(isinstance(v, FacetValue) for v in values)
    return {k: [(v.value, v.count) for v in vs] for k, vs in result.facets.items()}


def test_facets_count_all_matching_documents(index: SearchIndex) -> None:
    index.upsert(FACET_CORPUS)
    result = search(index, "工作", size=1)  # one hit on the page; the facets count all 7
    assert result.total == 7 and len(result.hits) == 1
    tie = sorted(["网上服务", "政民互动"])
    assert facets(result) == {
        "site": [("rsj", 3), ("wjw", 2), ("zjj", 2)],
        "category": [("政务公开", 5), (tie[0], 1), (tie[1], 1)],
        "column": [("通知公告", 4), ("政策法规", 2), ("办事指南", 1)],
        "year": [("2024", 3), ("2023", 2), ("2022", 1)],
    }
    # The same facets on every page, also past the end.
    for page in (2, 7, 8, 100):
        assert search(index, "工作", size=1, page=page).facets == result.facets


def test_facets_follow_all_filters(index: SearchIndex) -> None:
    index.upsert(FACET_CORPUS)
    assert facets(search(index, "工作", site_codes=["rsj"])) == {
        "site": [("rsj", 3)], "category": [("政务公开", 3)], "column": [("通知公告", 3)],
        "year": [("2024", 2), ("2023", 1)]}
    assert facets(search(index, "工作", categories=[ONLINE])) == {
        "site": [("wjw", 1)], "category": [("网上服务", 1)], "column": [("办事指南", 1)], "year": []}
    # column filters on any element; the facet shows the last one.
    assert facets(search(index, "工作", column="政务公开"))["column"] == [("通知公告", 2), ("政策法规", 1)]
    dated = search(index, "工作", date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 12, 31))
    assert facets(dated)["year"] == [("2023", 2)]
    assert facets(dated)["site"] == [("rsj", 1), ("zjj", 1)]
    # The text query narrows them too: 社保 is only in f7.
    assert facets(search(index, "社保")) == {
        "site": [("rsj", 1)], "category": [("政务公开", 1)], "column": [("通知公告", 1)],
        "year": [("2021", 1)]}


@pytest.mark.parametrize("q", ["鄞州", "!!!", "AND OR"])
def test_facets_are_empty_lists_when_nothing_matches(loaded: SearchIndex, q: str) -> None:
    result = search(loaded, q)
    assert result.total == 0
    assert result.facets == {"site": [], "category": [], "column": [], "year": []}


def test_facets_hold_at_most_20_values_count_then_value(index: SearchIndex) -> None:
    docs = [fdoc(f"m{i:02d}", f"s{i:02d}", ("栏目", f"栏目{i:02d}"), sh(2000 + i, 6, 1)) for i in range(25)]
    # s07 / 栏目07 / 2007 get two more documents: first in every facet.
    docs += [fdoc(f"x{i}", "s07", ("栏目", "栏目07"), sh(2007, 1, 2 + i)) for i in range(2)]
    index.upsert(reversed(docs))
    got = facets(search(index, "工作", size=50))
    assert got["site"] == [("s07", 3), *[(f"s{i:02d}", 1) for i in range(25) if i != 7][:19]]
    assert got["column"] == [("栏目07", 3), *[(f"栏目{i:02d}", 1) for i in range(25) if i != 7][:19]]
    assert got["year"] == [("2007", 3), *[(str(2000 + i), 1) for i in range(25) if i != 7][:19]]
    assert got["category"] == [("政务公开", 27)]


def test_facets_of_the_main_corpus(loaded: SearchIndex) -> None:
    result = search(loaded, "公")  # AIGUO (wjw), YANGCHEN (zjj), UNDATED (zjj, no date)
    assert facets(result) == {
        "site": [("zjj", 2), ("wjw", 1)],
        "category": [("政务公开", 2), ("网上服务", 1)],
        "column": sorted([("通知公告", 1), ("公示公告", 1), ("办事指南", 1)]),
        "year": [("2024", 2)],
    }


# --------------------------------------------------------------------------------------------
# Suggestions


def sdoc(slug: str, title: str, published: dt.datetime | None, site: str = "rsj") -> Article:
    return art(slug, title, "正文。", site=site, published=published)


S_SHEBAO = sdoc("s1", "关于调整社保缴费基数的通知", sh(2024, 3, 15))
S_AIGUO = sdoc("s2", "关于开展爱国卫生运动的公告", sh(2024, 3, 31), site="wjw")
S_UNDATED = sdoc("s3", "关于印发工作要点的通知", None)
S_SAMEDAY = sdoc("s4", "关于印发工作要点的通知", sh(2024, 3, 31), site="zjj")
S_PDF_UPPER = sdoc("s5", "PDF文件下载说明", sh(2023, 1, 1))
S_PDF_LOWER = sdoc("s6", "pdf格式要求", sh(2022, 1, 1))
S_PERCENT = sdoc("s7", "100%完成年度任务", sh(2024, 1, 1))
S_HUNDRED = sdoc("s8", "100元补贴发放通知", sh(2024, 1, 2))
S_UNDERSCORE = sdoc("s9", "a_b项目说明", sh(2024, 1, 3))
S_AXB = sdoc("s10", "axb项目说明", sh(2024, 1, 4))
S_STAR = sdoc("s11", "*重要*通知", sh(2024, 1, 5))
S_QUOTE = sdoc("s12", '"双减"政策解读', sh(2024, 1, 6))
S_CARD = sdoc("s13", "社保卡办理指南", sh(2020, 1, 1))
S_TWIN = sdoc("s14", "关于印发工作要点的通知", None)  # same title as S_UNDATED, undated: id decides

SUGGEST_CORPUS = [S_SHEBAO, S_AIGUO, S_UNDATED, S_SAMEDAY, S_PDF_UPPER, S_PDF_LOWER, S_PERCENT,
                  S_HUNDRED, S_UNDERSCORE, S_AXB, S_STAR, S_QUOTE, S_CARD, S_TWIN]


@pytest.fixture
def titled(index: SearchIndex) -> SearchIndex:
    index.upsert(SUGGEST_CORPUS)
    return index


def suggested(index: SearchIndex, prefix: str, **kw) -> list[str]:
    result = index.suggest(prefix, **kw)
    assert all(isinstance(s, Suggestion) for s in result)
    return [s.id for s in result]


def test_suggest_orders_newest_first_then_title_then_id(titled: SearchIndex) -> None:
    same_day = sorted([S_AIGUO, S_SAMEDAY], key=lambda a: a.title)
    undated = sorted([S_UNDATED, S_TWIN], key=lambda a: a.id)
    expected = [a.id for a in [*same_day, S_SHEBAO, *undated]]
    assert suggested(titled, "关于", size=20) == expected
    assert suggested(titled, "关于") == expected  # the default size (8) is enough here
    assert suggested(titled, "关于", size=2) == expected[:2]
    assert suggested(titled, "关于", size=1) == expected[:1]


def test_suggest_fields(titled: SearchIndex) -> None:
    (hit,) = titled.suggest("关于调整")
    assert hit == Suggestion(id=S_SHEBAO.id, title=S_SHEBAO.title, url=str(S_SHEBAO.source_url),
                             site_code="rsj")


def test_suggest_is_a_title_prefix_match(titled: SearchIndex) -> None:
    # S_SHEBAO contains 社保 but does not start with it.
    assert suggested(titled, "社保") == [S_CARD.id]
    assert suggested(titled, "社保卡办理指南") == [S_CARD.id]  # the whole title
    assert suggested(titled, "社保卡办理指南。") == []
    assert suggested(titled, "于") == []
    assert suggested(titled, "关于印发") == [S_SAMEDAY.id, *sorted([S_UNDATED.id, S_TWIN.id])]
    assert suggested(titled, "正文") == []  # bodies are not suggested


def test_suggest_strips_the_prefix_and_folds_latin_case(titled: SearchIndex) -> None:
    assert suggested(titled, "  社保\t") == [S_CARD.id]
    pdf = [S_PDF_UPPER.id, S_PDF_LOWER.id]  # 2023, 2022
    assert suggested(titled, "pdf") == pdf
    assert suggested(titled, "PDF") == pdf
    assert suggested(titled, "Pdf格") == [S_PDF_LOWER.id]
    assert suggested(titled, "PDF文件") == [S_PDF_UPPER.id]


def test_suggest_site_filter(titled: SearchIndex) -> None:
    assert suggested(titled, "关于", site_codes=["zjj"]) == [S_SAMEDAY.id]
    assert suggested(titled, "关于", site_codes=["zjj", "wjw"]) == [
        a.id for a in sorted([S_AIGUO, S_SAMEDAY], key=lambda a: a.title)]
    assert suggested(titled, "关于", site_codes=["nosuch"]) == []
    assert suggested(titled, "关于", site_codes=[]) == suggested(titled, "关于", site_codes=None)


def test_suggest_wildcards_are_plain_characters(titled: SearchIndex) -> None:
    assert suggested(titled, "100%") == [S_PERCENT.id]
    assert suggested(titled, "100") == [S_HUNDRED.id, S_PERCENT.id]
    assert suggested(titled, "%") == []
    assert suggested(titled, "1%") == []
    assert suggested(titled, "a_") == [S_UNDERSCORE.id]
    assert suggested(titled, "_") == []
    assert suggested(titled, "a_b") == [S_UNDERSCORE.id]
    assert suggested(titled, "axb") == [S_AXB.id]
    assert suggested(titled, "*") == [S_STAR.id]
    assert suggested(titled, "*重要*") == [S_STAR.id]
    assert suggested(titled, "关*") == []
    assert suggested(titled, '"') == [S_QUOTE.id]
    assert suggested(titled, '"双减"') == [S_QUOTE.id]


@pytest.mark.parametrize("prefix", ["", " ", "\n\t", "\u3000"])
def test_suggest_blank_prefix_returns_nothing(titled: SearchIndex, prefix: str) -> None:
    assert titled.suggest(prefix) == []


@pytest.mark.parametrize("prefix", [*HOSTILE, "\\", "\\%", "'", "''", "%%", "__", "[", "[a-z]", "?",
                                    "\ud800", "社\x00保", "a" * 5000, "关于" * 300, "ＰＤＦ"])
def test_suggest_never_raises(titled: SearchIndex, prefix: str) -> None:
    result = titled.suggest(prefix, size=20, site_codes=["rsj", "'", "%"])
    assert isinstance(result, list) and len(result) <= 20
    for s in result:
        assert s.title.lower().startswith(prefix.strip().lower())


@pytest.mark.parametrize("size", [0, -1, 21, 1000])
def test_suggest_size_is_validated(titled: SearchIndex, size: int) -> None:
    with pytest.raises(ValueError):
        titled.suggest("关于", size=size)


def test_suggest_at_most_size_results(index: SearchIndex) -> None:
    docs = [sdoc(f"n{i:02d}", f"关于第{i:02d}号文件的说明", sh(2024, 1, 1) + dt.timedelta(days=i)) for i in range(30)]
    index.upsert(docs)
    newest = [d.id for d in reversed(docs)]
    assert suggested(index, "关于", size=20) == newest[:20]
    assert suggested(index, "关于") == newest[:8]
    assert suggested(index, "关于第0") == [d.id for d in reversed(docs[:10])][:8]


def test_suggest_sees_writes(titled: SearchIndex) -> None:
    titled.delete([S_CARD.id])
    assert suggested(titled, "社保") == []
    titled.upsert([S_CARD.model_copy(update={"title": "医保卡办理指南"})])
    assert suggested(titled, "社保") == []
    assert suggested(titled, "医保") == [S_CARD.id]


# --------------------------------------------------------------------------------------------
# Rebuild

NEW_DOCS = [
    art("new1", "2025年医保参保登记通知", "请各单位按时办理医保参保登记。", site="ylj", published=sh(2025, 1, 5)),
    art("new2", "医保定点机构名单公示", "现将医保定点医疗机构名单予以公示。", site="ylj", published=sh(2025, 2, 1)),
    art("new3", "关于医保报销的问答", "医保报销常见问题解答。", site="ylj", published=None,
        category=Category.INTERACTION, column=("政民互动", "咨询")),
]


def test_rebuild_readers_see_the_old_contents_until_it_is_complete(loaded: SearchIndex) -> None:
    checked = 0

    def documents() -> Iterator[Article]:
        nonlocal checked
        for doc in NEW_DOCS:
            # Between two documents, from this very thread: still the old index.
            assert ids(search(loaded, "社保")) == {SHEBAO.id}
            assert search(loaded, "医保").total == 0
            assert loaded.count() == len(CORPUS)
            assert loaded.get(SHEBAO.id) == SHEBAO
            assert loaded.get(NEW_DOCS[0].id) is None
            assert suggested(loaded, "关于", size=20) == [AIGUO.id, SHEBAO.id]
            checked += 1
            yield doc

    assert loaded.rebuild(documents()) == len(NEW_DOCS)
    assert checked == len(NEW_DOCS)
    assert loaded.count() == len(NEW_DOCS)
    assert search(loaded, "社保").total == 0
    assert search(loaded, "公积金").total == 0
    assert loaded.get(SHEBAO.id) is None
    result = search(loaded, "医保")
    assert ids(result) == {d.id for d in NEW_DOCS}
    assert facets(result)["site"] == [("ylj", 3)]
    assert facets(result)["year"] == [("2025", 2)]
    assert loaded.get(NEW_DOCS[2].id) == NEW_DOCS[2]
    assert suggested(loaded, "关于") == [NEW_DOCS[2].id]
    # The rebuilt index is an ordinary index.
    loaded.upsert([SHEBAO])
    assert ids(search(loaded, "社保")) == {SHEBAO.id}
    assert loaded.delete([NEW_DOCS[0].id]) == 1
    assert loaded.count() == len(NEW_DOCS)


def test_rebuild_replaces_changed_documents_and_keeps_same_ids(loaded: SearchIndex) -> None:
    changed = SHEBAO.model_copy(update={"title": "关于调整2024年度医保缴费基数的通知",
                                        "body_text": "现就调整医保缴费基数有关事项通知如下。"})
    assert loaded.rebuild([changed, AIGUO]) == 2
    assert loaded.count() == 2
    assert search(loaded, "社保").total == 0
    assert ids(search(loaded, "医保")) == {SHEBAO.id}
    assert loaded.get(SHEBAO.id) == changed
    assert ids(search(loaded, "公告")) == {AIGUO.id}


def test_rebuild_with_zero_documents_empties_the_index(loaded: SearchIndex) -> None:
    assert loaded.rebuild(iter([])) == 0
    assert loaded.count() == 0
    assert search(loaded, "社保").total == 0
    assert loaded.suggest("关于") == []
    assert loaded.rebuild([]) == 0
    loaded.upsert([SHEBAO])
    assert loaded.count() == 1 and ids(search(loaded, "社保")) == {SHEBAO.id}


def test_rebuild_of_an_empty_index(index: SearchIndex) -> None:
    assert index.rebuild(d for d in CORPUS) == len(CORPUS)
    assert index.count() == len(CORPUS)
    assert ids(search(index, "社保")) == {SHEBAO.id}


def test_failed_rebuild_keeps_the_old_contents(loaded: SearchIndex) -> None:
    class Boom(Exception):
        pass

    def documents() -> Iterator[Article]:
        yield NEW_DOCS[0]
        yield NEW_DOCS[1]
        raise Boom("the store went away")

    with pytest.raises(Boom):
        loaded.rebuild(documents())
    assert loaded.count() == len(CORPUS)
    assert ids(search(loaded, "社保")) == {SHEBAO.id}
    assert search(loaded, "医保").total == 0
    assert loaded.get(NEW_DOCS[0].id) is None
    # Nothing half-built is left in the way: writes and a new rebuild work.
    loaded.upsert([NEW_DOCS[2]])
    assert loaded.count() == len(CORPUS) + 1
    assert loaded.rebuild(NEW_DOCS) == len(NEW_DOCS)
    assert loaded.count() == len(NEW_DOCS)


def test_rebuild_twice(loaded: SearchIndex) -> None:
    assert loaded.rebuild(NEW_DOCS) == 3
    assert loaded.rebuild(CORPUS) == len(CORPUS)
    assert loaded.count() == len(CORPUS)
    assert ids(search(loaded, "社保")) == {SHEBAO.id}
    assert search(loaded, "医保").total == 0


# --------------------------------------------------------------------------------------------
# Attachments: their text is searched with the item (index.highlight.with_attachments), a hit
# in one names it; the file-type filter


def _with_files() -> list[Article]:
    from index.highlight import with_attachments

    notice = art("fujian", "关于印发《北仑区见习补贴管理办法》的通知",
                 with_attachments("现将《北仑区见习补贴管理办法》印发给你们，请认真贯彻执行。", [
                     ("附件1：管理办法.pdf", "第三条 见习补贴标准为每人每月二千一百元，由区就业管理服务处审核发放。"),
                     ("附件2：申报表.xls", "单位名称\t统一社会信用代码\t见习人数")]),
                 attachments=[Attachment(name="附件1：管理办法.pdf", url="http://rsj.bl.gov.cn/f/1.pdf", file_type="pdf"),
                              Attachment(name="附件2：申报表.xls", url="http://rsj.bl.gov.cn/f/2.xls", file_type="xls")])
    plain = art("wufujian", "见习补贴发放情况", "本月见习补贴已发放，审核发放工作由区就业管理服务处负责。")
    ofd = art("ofd", "区政府办公室关于公布行政规范性文件清理结果的通知", "清理结果见附件。",
              attachments=[Attachment(name="清理结果.ofd", url="http://rsj.bl.gov.cn/f/3.ofd", file_type="ofd")])
    return [notice, plain, ofd]


def test_text_only_in_an_attachment_finds_its_item_and_names_the_attachment(index: SearchIndex) -> None:
    notice, plain, _ = docs = _with_files()
    index.upsert(docs)
    hits = search(index, "二千一百元").hits
    assert [h.id for h in hits] == [notice.id]
    assert hits[0].attachment == "附件1：管理办法.pdf"
    assert "<mark>二千一百元</mark>" in hits[0].snippet_html and "\x1e" not in hits[0].snippet_html
    second = search(index, "统一社会信用代码").hits
    assert second[0].attachment == "附件2：申报表.xls"
    # a match in the body is the body's snippet, no attachment named
    both = search(index, "区就业管理服务处").hits
    assert {h.id for h in both} == {notice.id, plain.id}
    assert next(h for h in both if h.id == plain.id).attachment is None


def test_file_kind_filter_keeps_the_items_with_such_an_attachment(index: SearchIndex) -> None:
    notice, plain, ofd = docs = _with_files()
    index.upsert(docs)
    assert ids(search(index, "通知", file_kinds=["pdf"])) == {notice.id}
    assert ids(search(index, "通知", file_kinds=["ofd", "excel"])) == {notice.id, ofd.id}
    assert ids(search(index, "见习补贴", file_kinds=["word"])) == set()
    assert ids(search(index, "见习补贴")) == {notice.id, plain.id}
    with pytest.raises(ValidationError):
        SearchQuery(q="通知", file_kinds=["exe"])
