"""Canonical URLs: every variant of one page has one canonical URL, hence one document id."""

from __future__ import annotations

import pytest

from normalizers.models import document_id
from normalizers.urls import canonicalize_url, session_free

H = "http://rsj.bl.gov.cn"

# (variant, canonical) — grouped by rule.
CANONICAL = [
    # scheme, host, port
    ("HTTP://RSJ.BL.GOV.CN/show.php?id=1", f"{H}/show.php?id=1"),
    ("http://Rsj.Bl.Gov.Cn/show.php?id=1", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn:80/show.php?id=1", f"{H}/show.php?id=1"),
    ("https://rsj.bl.gov.cn:443/show.php?id=1", "https://rsj.bl.gov.cn/show.php?id=1"),
    ("http://rsj.bl.gov.cn:8080/show.php?id=1", "http://rsj.bl.gov.cn:8080/show.php?id=1"),
    ("http://rsj.bl.gov.cn:443/", "http://rsj.bl.gov.cn:443/"),
    ("http://rsj.bl.gov.cn./show.php?id=1", f"{H}/show.php?id=1"),
    ("http://RSJ.bl.gov.cn.:80", f"{H}/"),
    ("http://user:secret@rsj.bl.gov.cn/a.html", f"{H}/a.html"),
    ("http://北仑.中国/", "http://xn--3mqy7h.xn--fiqs8s/"),
    ("http://XN--3MQY7H.xn--fiqs8s/", "http://xn--3mqy7h.xn--fiqs8s/"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ("  http://rsj.bl.gov.cn/show.php?id=1 \n", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/show.php?\n\tid=1", f"{H}/show.php?id=1"),
    # empty path, dot segments, duplicate slashes, backslashes
    ("http://rsj.bl.gov.cn", f"{H}/"),
    ("http://rsj.bl.gov.cn?id=1", f"{H}/?id=1"),
    ("http://rsj.bl.gov.cn/a/./b/../c.html", f"{H}/a/c.html"),
    ("http://rsj.bl.gov.cn/a/b/..", f"{H}/a/"),
    ("http://rsj.bl.gov.cn/../../a.html", f"{H}/a.html"),
    ("http://rsj.bl.gov.cn/a/%2E%2E/b.html", f"{H}/b.html"),
    ("http://rsj.bl.gov.cn//a///b//c.html", f"{H}/a/b/c.html"),
    ("http://rsj.bl.gov.cn/news\\2010\\a.htm", f"{H}/news/2010/a.htm"),
    ("http://rsj.bl.gov.cn/a/b/", f"{H}/a/b/"),
    ("http://rsj.bl.gov.cn/a/b", f"{H}/a/b"),
    # percent-encoding: one form (UTF-8, upper-case hex; unreserved decoded; reserved kept)
    ("http://rsj.bl.gov.cn/专题/通知.html", f"{H}/%E4%B8%93%E9%A2%98/%E9%80%9A%E7%9F%A5.html"),
    ("http://rsj.bl.gov.cn/%e4%b8%93%e9%a2%98/%E9%80%9a%E7%9F%A5.html", f"{H}/%E4%B8%93%E9%A2%98/%E9%80%9A%E7%9F%A5.html"),
    ("http://rsj.bl.gov.cn/%7Euser/%41%62c-%5F.html", f"{H}/~user/Abc-_.html"),
    ("http://rsj.bl.gov.cn/a b.doc", f"{H}/a%20b.doc"),
    ("http://rsj.bl.gov.cn/a%2fb%3a", f"{H}/a%2Fb%3A"),
    ("http://rsj.bl.gov.cn/100%.html", f"{H}/100%25.html"),
    ("http://rsj.bl.gov.cn/a(1)!.html", f"{H}/a(1)!.html"),
    ("http://rsj.bl.gov.cn/search.php?q=社保", f"{H}/search.php?q=%E7%A4%BE%E4%BF%9D"),
    ("http://rsj.bl.gov.cn/search.php?q=%e7%a4%be%e4%bf%9d", f"{H}/search.php?q=%E7%A4%BE%E4%BF%9D"),
    ("http://rsj.bl.gov.cn/search.asp?q=%d6%d0", f"{H}/search.asp?q=%D6%D0"),  # GBK stays bytes
    ("http://rsj.bl.gov.cn/s.php?q=a+b&r=a%20b&s=a b", f"{H}/s.php?q=a+b&r=a%20b&s=a%20b"),
    ("http://rsj.bl.gov.cn/s.php?a=1%262&b=x%3Dy", f"{H}/s.php?a=1%262&b=x%3Dy"),
    ("http://rsj.bl.gov.cn/s.php?arr[]=1", f"{H}/s.php?arr%5B%5D=1"),
    ("http://rsj.bl.gov.cn/s.php?q=a'b", f"{H}/s.php?q=a%27b"),
    ("http://rsj.bl.gov.cn/it's.html", f"{H}/it's.html"),
    # session ids
    ("http://rsj.bl.gov.cn/list.jsp;jsessionid=0A1B2C3D.node1?id=3", f"{H}/list.jsp?id=3"),
    ("http://rsj.bl.gov.cn/list.jsp;JSESSIONID=0A1B2C", f"{H}/list.jsp"),
    ("http://rsj.bl.gov.cn/a;jsessionid=x/b.jsp", f"{H}/a/b.jsp"),
    ("http://rsj.bl.gov.cn/show.jsp?jsessionid=abc&id=1", f"{H}/show.jsp?id=1"),
    ("http://rsj.bl.gov.cn/show.php?PHPSESSID=9f8e7d&id=1", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/show.php?id=1&phpsessid=9f8e7d", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/ShowArticle.asp?ArticleID=12&ASPSESSIONIDQSRTBCDA=KJHGFDSA", f"{H}/ShowArticle.asp?ArticleID=12"),
    ("http://rsj.bl.gov.cn/list.asp?sid=abc&classid=3", f"{H}/list.asp?classid=3"),
    ("http://rsj.bl.gov.cn/list.asp?sessionid=abc&classid=3", f"{H}/list.asp?classid=3"),
    ("http://rsj.bl.gov.cn/news.cfm?id=7&CFID=123&CFTOKEN=456", f"{H}/news.cfm?id=7"),
    ("http://rsj.bl.gov.cn/(S(lit3py55t21z5v55vlm25s55))/Default.aspx", f"{H}/"),
    ("http://rsj.bl.gov.cn/(S(lit3py55t21z5v55vlm25s55))/news/show.aspx?id=9", f"{H}/news/show.aspx?id=9"),
    ("http://rsj.bl.gov.cn/(X(1)S(lit3py55t21z5v55vlm25s55))/show.aspx?id=9", f"{H}/show.aspx?id=9"),
    ("http://rsj.bl.gov.cn/news/(A(xyz)S(abc)F(def))/show.aspx?id=9", f"{H}/news/show.aspx?id=9"),
    ("http://rsj.bl.gov.cn/news/(S(abc))", f"{H}/news/"),
    ("http://rsj.bl.gov.cn/(S(abc))", f"{H}/"),
    ("http://rsj.bl.gov.cn/(S(a))/(S(b))/x.aspx", f"{H}/x.aspx"),
    # tracking parameters
    ("http://rsj.bl.gov.cn/show.php?id=1&utm_source=wechat&utm_medium=share&UTM_Campaign=x", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/show.php?spm=a2c4g.11186623&id=1", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/show.php?id=1&from=timeline&isappinstalled=0", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/show.php?id=1&share_token=abc&fbclid=IwAR0&gclid=Cj0K", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/list.php?catid=1&_=1700000000000", f"{H}/list.php?catid=1"),
    ("http://rsj.bl.gov.cn/list.php?catid=1&_t=1700000000", f"{H}/list.php?catid=1"),
    ("http://rsj.bl.gov.cn/list.php?catid=1&t=1700000000123", f"{H}/list.php?catid=1"),
    ("http://rsj.bl.gov.cn/list.php?catid=1&t=20240101", f"{H}/list.php?catid=1&t=20240101"),  # a date, not a buster
    ("http://rsj.bl.gov.cn/list.php?catid=1&t=news", f"{H}/list.php?catid=1&t=news"),
    ("http://rsj.bl.gov.cn/list.php?catid=1&_t=17000000001234", f"{H}/list.php?_t=17000000001234&catid=1"),  # 14 digits
    # parameters kept, sorted stably by name, blanks kept as k=
    ("http://rsj.bl.gov.cn/list.php?page=2&catid=1", f"{H}/list.php?catid=1&page=2"),
    ("http://rsj.bl.gov.cn/list.asp?page=2&classid=3", f"{H}/list.asp?classid=3&page=2"),
    ("http://rsj.bl.gov.cn/ShowArticle.asp?ArticleID=12&id=CaseKept", f"{H}/ShowArticle.asp?ArticleID=12&id=CaseKept"),
    ("http://rsj.bl.gov.cn/s.php?tag=b&x=1&tag=a", f"{H}/s.php?tag=b&tag=a&x=1"),
    ("http://rsj.bl.gov.cn/s.php?k&id=1", f"{H}/s.php?id=1&k="),
    ("http://rsj.bl.gov.cn/s.php?k=&id=1", f"{H}/s.php?id=1&k="),
    ("http://rsj.bl.gov.cn/s.php?&&id=1&", f"{H}/s.php?id=1"),
    ("http://rsj.bl.gov.cn/show.php?utm_source=x", f"{H}/show.php"),
    ("http://rsj.bl.gov.cn/show.php?", f"{H}/show.php"),
    # fragments
    ("http://rsj.bl.gov.cn/show.php?id=1#top", f"{H}/show.php?id=1"),
    ("http://rsj.bl.gov.cn/a.html#", f"{H}/a.html"),
    ("http://rsj.bl.gov.cn/#!/news/detail/12", f"{H}/#!/news/detail/12"),
    ("http://rsj.bl.gov.cn/app.html?utm_source=x#!/list/3", f"{H}/app.html#!/list/3"),
    # default documents
    ("http://rsj.bl.gov.cn/col/col1229/index.html", f"{H}/col/col1229/"),
    ("http://rsj.bl.gov.cn/col/col1229/INDEX.HTML", f"{H}/col/col1229/"),
    ("http://rsj.bl.gov.cn/index.htm", f"{H}/"),
    ("http://rsj.bl.gov.cn/zwgk/index.shtml", f"{H}/zwgk/"),
    ("http://rsj.bl.gov.cn/Default.aspx", f"{H}/"),
    ("http://rsj.bl.gov.cn/news/default.asp", f"{H}/news/"),
    ("http://rsj.bl.gov.cn/default.htm", f"{H}/"),
    ("http://rsj.bl.gov.cn/default.html", f"{H}/"),
    ("http://rsj.bl.gov.cn/index.asp", f"{H}/"),
    ("http://rsj.bl.gov.cn/index.php", f"{H}/"),
    ("http://rsj.bl.gov.cn/index.jsp;jsessionid=abc", f"{H}/"),
    ("http://rsj.bl.gov.cn/index.html?utm_source=x&from=groupmessage", f"{H}/"),
    ("http://rsj.bl.gov.cn/index.php?m=content&c=index&a=show&id=5", f"{H}/index.php?a=show&c=index&id=5&m=content"),
    ("http://rsj.bl.gov.cn/zwgk/index_1.html", f"{H}/zwgk/index_1.html"),
    ("http://rsj.bl.gov.cn/zwgk/myindex.html", f"{H}/zwgk/myindex.html"),
    ("http://rsj.bl.gov.cn/index.html/", f"{H}/index.html/"),
]


@pytest.mark.parametrize(("variant", "canonical"), CANONICAL)
def test_variant_maps_to_its_canonical_url(variant: str, canonical: str):
    assert canonicalize_url(variant) == canonical


@pytest.mark.parametrize("canonical", sorted({c for _, c in CANONICAL}))
def test_canonical_urls_are_fixed_points(canonical: str):
    assert canonicalize_url(canonical) == canonical


def test_chinese_path_raw_or_escaped_gives_one_id():
    raw = "http://rsj.bl.gov.cn/专题/社保/index.html"
    escaped = "http://rsj.bl.gov.cn/%E4%B8%93%E9%A2%98/%e7%a4%be%e4%bf%9d/"
    assert document_id(canonicalize_url(raw)) == document_id(canonicalize_url(escaped))


def test_canonical_urls_survive_the_exchange_standard_unchanged():
    from pydantic import HttpUrl, TypeAdapter

    http_url = TypeAdapter(HttpUrl)
    for _, canonical in CANONICAL:
        if canonical.startswith("http"):
            assert str(http_url.validate_python(canonical)) == canonical


def test_different_pages_keep_different_urls():
    urls = [f"{H}/show.php?id=1", f"{H}/show.php?id=2", f"{H}/show.php?ID=1", f"{H}/show.php?id=a",
            f"{H}/show.php?id=A", f"{H}/Show.php?id=1", f"{H}/list.php?catid=1&page=2", f"{H}/list.php?catid=1",
            f"{H}/a/", f"{H}/a", "https://rsj.bl.gov.cn/show.php?id=1", f"{H}/a%2Fb", f"{H}/a/b"]
    assert len({canonicalize_url(u) for u in urls}) == len(urls)


def test_relative_urls_are_resolved_against_base():
    assert canonicalize_url("../show.php?id=3&PHPSESSID=x", base=f"{H}/list/index.php") == f"{H}/show.php?id=3"
    assert canonicalize_url("./202401/t20240105_123.html", base=f"{H}/zwgk/tzgg/index.html") \
        == f"{H}/zwgk/tzgg/202401/t20240105_123.html"


@pytest.mark.parametrize("url", ["javascript:void(0)", "mailto:rsj@bl.gov.cn", "tel:0574-86781234",
                                 "ftp://ftp.bl.gov.cn/a.doc", "data:text/html,x"])
def test_other_schemes_come_back_unchanged_and_raise_only_when_strict(url: str):
    assert canonicalize_url(f"  {url} ") == url
    with pytest.raises(ValueError):
        canonicalize_url(url, strict=True)


@pytest.mark.parametrize("url", ["http://rsj.bl.gov.cn:99999/a", "http://[::1/a", "http:", "http:show.php",
                                 "http://rsj bl.gov.cn/", "", "   ", "http://\ud800/"])
def test_unparseable_input_comes_back_stripped(url: str):
    assert canonicalize_url(f" {url} ") == url.strip()


def test_strict_accepts_http_and_relative_urls():
    assert canonicalize_url("HTTPS://rsj.bl.gov.cn", strict=True) == "https://rsj.bl.gov.cn/"
    assert canonicalize_url("show.php?id=1&sid=2", strict=True) == "show.php?id=1"


@pytest.mark.parametrize(("url", "expected"), [
    ("http://rsj.bl.gov.cn/list.jsp;jsessionid=ABC?id=3&utm_source=x#top",
     "http://rsj.bl.gov.cn/list.jsp?id=3&utm_source=x#top"),
    ("HTTP://Rsj.bl.gov.cn/(S(abc))/Show.aspx?b=2&a=1", "HTTP://Rsj.bl.gov.cn/Show.aspx?b=2&a=1"),
    ("//rsj.bl.gov.cn/(S(abc))/a.aspx?sid=1#x", "//rsj.bl.gov.cn/a.aspx#x"),
    ("show.php?id=1&&sid=2", "show.php?id=1&"),
    ("http://rsj.bl.gov.cn/a.html?", "http://rsj.bl.gov.cn/a.html?"),
    ("http://rsj.bl.gov.cn/(X(1)S(abc))/", "http://rsj.bl.gov.cn/"),
    ("http://rsj.bl.gov.cn/ShowArticle.asp?ArticleID=12&ASPSESSIONIDQSRTBCDA=KJH&page=2",
     "http://rsj.bl.gov.cn/ShowArticle.asp?ArticleID=12&page=2"),
    ("http://rsj.bl.gov.cn/s.php?PHPSESSID=1&sid=2&q=%d6%d0&CFID=3&CFTOKEN=4&sessionid=5",
     "http://rsj.bl.gov.cn/s.php?q=%d6%d0"),
    ("http://rsj.bl.gov.cn/专题/index.html?t=1700000000", "http://rsj.bl.gov.cn/专题/index.html?t=1700000000"),
    ("http://rsj.bl.gov.cn/show.php?PHPSESSID=1", "http://rsj.bl.gov.cn/show.php"),
    ("javascript:window.open('a.asp?sid=1')", "javascript:window.open('a.asp?sid=1')"),
])
def test_session_free_strips_only_session_ids(url: str, expected: str):
    assert session_free(url) == expected


# --- properties ---------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402 - the property tests below
from hypothesis import strategies as st  # noqa: E402

URL_PIECES = [*"aZ09-._~%/\\?#&=;:@!()[]+, \t中文",
    "%2e", "%E4", "%b8", "%ad", "..", "//", "index.html", "(S(x))", ";jsessionid=1", "utm_a=", "t=1700000000",
    "#!", "http://", "HTTPS://Ab.CN.:443", "北仑.中国"]
URLISH = st.lists(st.sampled_from(URL_PIECES), max_size=20).map("".join)

@settings(max_examples=500)
@given(st.one_of(st.text(max_size=60), URLISH, URLISH.map(lambda s: "http://rsj.bl.gov.cn/" + s)))
def test_canonicalization_is_idempotent(url: str):
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once

@settings(max_examples=300)
@given(st.one_of(st.text(max_size=60), URLISH))
def test_session_free_is_idempotent(url: str):
    freed = session_free(url)
    assert session_free(freed) == freed

@settings(max_examples=300)
@given(URLISH.map(lambda s: "http://rsj.bl.gov.cn/" + s))
def test_session_free_does_not_change_the_id(url: str):
    freed = session_free(url)
    assert session_free(freed) == freed
    assert document_id(canonicalize_url(freed)) == document_id(canonicalize_url(url))

# A page: host labels, path segments and query parameters, drawn once; variants render it differently.
SEGMENT_CHARS = st.sampled_from(list("abcXYZ019-._~") + list("专题通知公告社保北仑"))
SEGMENT = st.text(SEGMENT_CHARS, min_size=1, max_size=6).filter(lambda s: s not in {".", ".."})
PARAM_NAMES = st.sampled_from(["id", "page", "catid", "classid", "ArticleID", "keyword", "m", "c", "a"])
VALUE = st.text(st.sampled_from(list("abcAB09-_.") + list("社保中文")), max_size=5)
TRACKING = ["utm_source=wechat", "spm=a2c4g.1", "from=timeline", "isappinstalled=0", "share_token=x1",
            "_=1700000000000", "_t=1700000000", "t=1700000000123", "fbclid=IwAR0", "gclid=Cj0K"]
SESSIONS = ["PHPSESSID=9f8e7d", "jsessionid=0A1B", "ASPSESSIONIDQSRTBCDA=KJHG", "sid=abc", "sessionid=s1",
            "CFID=1", "CFTOKEN=2"]

@st.composite
def page_and_variant(draw):
    host = draw(st.sampled_from(["rsj.bl.gov.cn", "www.bl.gov.cn", "北仑.中国"]))
    segments = draw(st.lists(SEGMENT, max_size=4))
    directory = draw(st.booleans())
    params = draw(st.lists(st.tuples(PARAM_NAMES, VALUE), max_size=4))

    def escape(text: str, upper: bool) -> str:
        encoded = "".join(f"%{b:02X}" for b in text.encode())
        return encoded if upper else encoded.lower()

    def render_text(text: str) -> str:
        out = []
        for char in text:
            how = draw(st.sampled_from(["raw", "upper", "lower"]))
            out.append(char if how == "raw" else escape(char, how == "upper"))
        return "".join(out)

    def render() -> str:
        scheme = draw(st.sampled_from(["http", "HTTP", "Http"]))
        name = host if not host.isascii() else "".join(
            c.upper() if draw(st.booleans()) else c for c in host)
        name += draw(st.sampled_from(["", "."]))
        port = draw(st.sampled_from(["", ":80"]))
        path_parts = []
        for segment in segments:
            path_parts.extend(draw(st.sampled_from([[], ["."], ["zz", ".."], [""]])))
            path_parts.append(render_text(segment))
        if draw(st.booleans()):
            path_parts.insert(0, "(S(abc123))")
        path = "/" + "/".join(path_parts)
        if directory or not segments:
            path += "/"
            if not params and draw(st.booleans()):
                path += draw(st.sampled_from(["index.html", "INDEX.HTM", "Default.aspx", "index.php"]))
        if segments and draw(st.booleans()):
            path += ";jsessionid=ABC123"
        # shuffle the parameters, keeping the relative order of repeated names (that order matters)
        order = draw(st.permutations(range(len(params))))
        queues: dict[str, list[str]] = {}
        for k, v in params:
            queues.setdefault(k, []).append(v)
        shuffled = [(params[i][0], queues[params[i][0]].pop(0)) for i in order]
        pairs = [f"{render_text(k)}={render_text(v)}" for k, v in shuffled]
        for extra in draw(st.lists(st.sampled_from(TRACKING + SESSIONS), max_size=3)):
            pairs.insert(draw(st.integers(0, len(pairs))), extra)
        query = "&".join(pairs)
        fragment = draw(st.sampled_from(["", "#", "#top", "#zoom"]))
        return f" {scheme}://{name}{port}{path}{'?' + query if query else ''}{fragment} "

    return render(), render()

@settings(max_examples=300)
@given(page_and_variant())
def test_variants_of_one_page_have_one_document_id(pair: tuple[str, str]):
    first, second = pair
    assert document_id(canonicalize_url(first)) == document_id(canonicalize_url(second))


def test_origin_ignores_case_trailing_dot_and_default_port():
    from normalizers.urls import origin, rebase

    assert origin("HTTP://Rsj.BL.gov.cn.:80/show.php?id=1") == "http://rsj.bl.gov.cn"
    assert origin("https://[::1]:443/") == "https://[::1]"
    assert origin("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    assert rebase("http://rsj.bl.gov.cn:80/a?b=1", "http://rsj.bl.gov.cn/", "http://127.0.0.1:9/") \
        == "http://127.0.0.1:9/a?b=1"
    assert rebase("http://other.gov.cn/a", "http://rsj.bl.gov.cn/", "http://127.0.0.1:9/") == "http://other.gov.cn/a"


# --- the URL as served (normalizers.urls.served_url) ------------------------------------------

from normalizers.urls import served_url  # noqa: E402


@pytest.mark.parametrize(("url", "served"), [
    # a default document stays: the server may not serve the directory (Hanweb's /col/colN/)
    ("http://BL.gov.cn:80/col/col1229101/index.html", "http://bl.gov.cn/col/col1229101/index.html"),
    # a bare query key stays bare (PbootCMS routes), the order stays the site's
    ("http://bl.gov.cn/?tzgg/23.html", "http://bl.gov.cn/?tzgg/23.html"),
    ("http://bl.gov.cn/list.php?page=2&catid=1", "http://bl.gov.cn/list.php?page=2&catid=1"),
    ("http://bl.gov.cn/index.php?m=content&c=index&a=show&id=5", "http://bl.gov.cn/index.php?m=content&c=index&a=show&id=5"),
    # what changes nothing on the server is still cleaned: sessions, tracking, fragments, dots
    ("http://bl.gov.cn/a/../b//c.html;jsessionid=AB?utm_source=x&id=1#top", "http://bl.gov.cn/b/c.html?id=1"),
    ("http://bl.gov.cn/专题/index.html?b&a=1", "http://bl.gov.cn/%E4%B8%93%E9%A2%98/index.html?b&a=1"),
])
def test_the_served_form_keeps_what_the_server_needs(url: str, served: str):
    assert served_url(url) == served
    assert canonicalize_url(served) == canonicalize_url(url)


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=60), URLISH, URLISH.map(lambda s: "http://rsj.bl.gov.cn/" + s)))
def test_the_served_form_has_the_same_id_and_is_stable(url: str):
    served = served_url(url)
    assert served_url(served) == served
    assert canonicalize_url(served) == canonicalize_url(url)
