"""The shared analyzer and query parser (index.tokenize) and the highlighter (index.highlight)."""

from __future__ import annotations

import pytest

from index.highlight import Highlighter
from index.tokenize import (
    END_MARK,
    Clause,
    Run,
    analyze,
    char_stream,
    clause_tokens,
    is_cjk,
    normalize,
    parse_query,
    runs,
    token_text,
)


def test_cjk_run_becomes_overlapping_bigrams_and_an_end_marker() -> None:
    assert analyze("社会保险") == ["社会", "会保", "保险", "险" + END_MARK]
    assert analyze("社保") == ["社保", "保_"]


def test_lone_cjk_character() -> None:
    assert analyze("年") == ["年_"]
    assert analyze("（甲）") == ["甲_"]


def test_every_cjk_character_starts_exactly_one_token() -> None:
    text = "关于开展春季爱国卫生运动的公告"
    assert [t[0] for t in analyze(text)] == list(text)


def test_punctuation_and_space_separate_runs() -> None:
    assert analyze("社保，医保。 公告") == ["社保", "保_", "医保", "保_", "公告", "告_"]
    assert analyze("《通知》〔2024〕12号") == ["通知", "知_", "2024", "12", "号_"]


def test_ascii_and_cjk_split_into_separate_runs() -> None:
    assert analyze("2024年度PDF文件") == ["2024", "年度", "度_", "pdf", "文件", "件_"]
    assert runs("H5N1流感") == [Run("word", "h5n1"), Run("cjk", "流感")]


def test_lower_case_and_nfkc() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert analyze("ＰＤＦ　２０２４") == ["pdf", "2024"]  # ideographic space separates too
    assert analyze("PDF") == analyze("pdf") == analyze("Pdf")
    assert analyze("①") == ["1"]


def test_non_ascii_letters_are_words() -> None:
    assert analyze("Café naïve") == ["café", "naïve"]


def test_kana_and_hangul_are_cjk() -> None:
    assert analyze("ありがとう") == ["あり", "りが", "がと", "とう", "う_"]
    assert analyze("안녕하세요") == ["안녕", "녕하", "하세", "세요", "요_"]
    assert is_cjk("〇") and is_cjk("ア") and not is_cjk("a") and not is_cjk("。")


def test_half_width_katakana_is_normalised() -> None:
    assert analyze("ｱｲ") == analyze("アイ")


def test_emoji_symbols_and_underscore_are_separators() -> None:
    assert analyze("社保😀医保") == ["社保", "保_", "医保", "保_"]
    assert analyze("a_b") == ["a", "b"]  # "_" is reserved for the end marker
    assert analyze("★☆→%$#@!") == []
    assert analyze("") == []


def test_token_text_is_space_joined() -> None:
    assert token_text("社保 PDF") == "社保 保_ pdf"


def test_supplementary_plane_han() -> None:
    # 𠀀 (U+20000, extension B) is Han.
    assert analyze("𠀀𠀁") == ["𠀀𠀁", "𠀁_"]


# --------------------------------------------------------------------------------------------
# parse_query


def clauses(q: str) -> list[tuple[str, bool]]:
    return [(c.text, c.phrase) for c in parse_query(q).clauses]


def test_terms_are_runs() -> None:
    assert clauses("社保 公告") == [("社保", False), ("公告", False)]
    assert clauses("社保，公告") == [("社保", False), ("公告", False)]
    assert clauses("2024年PDF") == [("2024", False), ("年", False), ("pdf", False)]


def test_quotes_make_phrases() -> None:
    assert clauses('"养老保险" 缴费') == [("养老保险", True), ("缴费", False)]
    assert clauses("“医疗 保险”") == [("医疗 保险", True)]
    assert clauses("＂养老保险＂") == [("养老保险", True)]


def test_unpaired_quote_is_ignored() -> None:
    assert clauses('"养老保险') == [("养老保险", False)]
    assert clauses('"a" "b') == [("a", True), ("b", False)]


def test_operators_are_dropped_outside_quotes() -> None:
    assert clauses("社保 OR 医保") == [("社保", False), ("医保", False)]
    assert clauses("NEAR(社保 医保)") == [("社保", False), ("医保", False)]
    assert clauses("AND OR NOT NEAR") == []
    # Only the upper-case bare words; other words containing them stay.
    assert clauses("and android ORACLE") == [("and", False), ("android", False), ("oracle", False)]
    assert clauses('"AND"') == [("and", True)]


def test_syntax_characters_are_separators() -> None:
    assert clauses("col:x") == [("col", False), ("x", False)]
    assert clauses("社保* -医保 ^2 (公告)") == [("社保", False), ("医保", False), ("2", False), ("公告", False)]


@pytest.mark.parametrize("q", ['"', "*", "()", "，。", "😀", "AND OR", "_", "   ", ""])
def test_no_searchable_text_gives_an_empty_query(q: str) -> None:
    assert parse_query(q).is_empty


def test_duplicate_clauses_are_dropped() -> None:
    assert clauses("社保 社保 SHEBAO shebao") == [("社保", False), ("shebao", False)]


def test_clause_structure() -> None:
    (clause,) = parse_query('"2024年 社保"').clauses
    assert clause == Clause((Run("word", "2024"), Run("cjk", "年"), Run("cjk", "社保")), phrase=True)


# --------------------------------------------------------------------------------------------
# Highlighter


def highlight(q: str, title: str, body: str = "") -> tuple[str, str]:
    return Highlighter(parse_query(q)).document(title, body)


def test_highlight_marks_original_text() -> None:
    assert highlight("pdf", "附件ＰＤＦ版")[0] == "附件<mark>ＰＤＦ</mark>版"
    assert highlight("２０２４", "2024年")[0] == "<mark>2024</mark>年"


def test_highlight_words_are_whole_words() -> None:
    assert highlight("pdf", "pdfs and pdf")[0] == "pdfs and <mark>pdf</mark>"
    assert highlight("2024", "2024年")[0] == "<mark>2024</mark>年"


def test_highlight_escapes_everything_else() -> None:
    title, snippet = highlight("社保", '<b>社保</b> & "x"', "<script>社保</script>")
    assert title == "&lt;b&gt;<mark>社保</mark>&lt;/b&gt; &amp; &quot;x&quot;"
    assert snippet == "&lt;script&gt;<mark>社保</mark>&lt;/script&gt;"


def test_highlight_phrase() -> None:
    title, _ = highlight('"养老保险"', "养老金与医疗保险；养老保险")
    assert title == "养老金与医疗保险；<mark>养老保险</mark>"


def test_a_cjk_term_is_its_literal_text_in_the_index_and_the_highlight() -> None:
    # 社会会保保险 holds the bigrams 社会, 会保 and 保险, but not 社会保险: the term does not
    # match it (clause_tokens is a phrase of adjacent bigrams), so nothing is marked either.
    parsed = parse_query("社会保险")
    tokens, prefix = clause_tokens(parsed.clauses[0])
    assert tokens == ("社会", "会保", "保险") and not prefix
    assert not _adjacent(analyze("社会会保保险"), tokens)
    assert _adjacent(analyze("社会保险费"), tokens)
    title, _ = highlight("社会保险", "社会会保保险")
    assert title == "社会会保保险"


def _adjacent(stream: list[str], tokens: tuple[str, ...]) -> bool:
    n = len(tokens)
    return any(tuple(stream[i:i + n]) == tokens for i in range(len(stream) - n + 1))


@pytest.mark.parametrize(("q", "tokens", "prefix"), [
    ("pdf", ("pdf",), False),
    ("保", ("保",), True),
    ('"社 保险"', ("社_", "保险"), False),
    ('"保险 社"', ("保险", "险_", "社"), True),
    ('"养老保险、医疗"', ("养老", "老保", "保险", "险_", "医疗"), False),
])
def test_clause_tokens(q: str, tokens: tuple[str, ...], prefix: bool) -> None:
    assert clause_tokens(parse_query(q).clauses[0]) == (tokens, prefix)


def test_char_stream_is_aligned_with_the_tokens() -> None:
    tokens = analyze("保险2024年pdf")
    assert tokens == ["保险", "险_", "2024", "年_", "pdf"]
    assert char_stream(tokens) == ["保", "险", "2024", "年", "pdf"]


def test_highlight_expanding_normalisation_maps_back() -> None:
    # ㍻ expands to 平成 under NFKC: the map must still point at the original characters.
    title, _ = highlight("平成", "㍻元年")
    assert title == "<mark>㍻</mark>元年"


def test_snippet_without_match_is_body_start() -> None:
    _, snippet = highlight("社保", "社保", "甲" * 300)
    assert snippet == "甲" * 120 + "…"


def test_snippet_collapses_white_space() -> None:
    _, snippet = highlight("社保", "t", "第一段\n\n社保\t说明")
    assert snippet == "第一段 <mark>社保</mark> 说明"
