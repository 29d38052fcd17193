"""Platform detection and column suggestions on saved home pages (tests/pages/detect/)."""

from __future__ import annotations

import email.message
import re
from pathlib import Path

import pytest

from plugins.detect import PlatformGuess, detect_platform, frames, suggest_columns

PAGES = Path(__file__).parent / "pages" / "detect"

IIS_CLASSIC = {"Server": "Microsoft-IIS/6.0", "X-Powered-By": "ASP.NET", "Content-Type": "text/html",
               "Set-Cookie": "ASPSESSIONIDQSRTBCDA=ZQSJWBURKAAJOTKYJSPKFPMD; path=/"}
IIS_ASPNET = {"Server": "Microsoft-IIS/7.5", "X-Powered-By": "ASP.NET", "X-AspNet-Version": "4.0.30319",
              "Content-Type": "text/html; charset=utf-8"}
PHP_HEADERS = {"Server": "Apache/2.2.15 (CentOS)", "X-Powered-By": "PHP/5.2.17",
               "Set-Cookie": "PHPSESSID=k3h8s0d9f7g6h5j4k3l2m1n0b9; path=/"}

# (saved page, the URL it came from, response headers, the platform that must come first)
CASES = [
    ("hanweb_zjj_home.html", "http://zjj.bl.gov.cn/", {"Server": "Apache-Coyote/1.1"}, "hanweb"),
    # hard: an old JCMS with no article links and no 大汉 footer, only /col/ links and the old /module/jpage/
    ("hanweb_old_jpage_home.html", "http://xgjd.bl.gov.cn/", {}, "hanweb"),
    ("trs_xxgk_home.html", "http://scjgj.bl.gov.cn/", {"Server": "nginx"}, "trs"),
    # hard: TRS pages published to IIS (X-Powered-By: ASP.NET) with one .aspx mailbox link, no generator meta
    ("trs_on_iis_with_aspx_link.html", "http://nyj.bl.gov.cn/", {"Server": "Microsoft-IIS/7.5", "X-Powered-By": "ASP.NET"},
     "trs"),
    ("aspnet_jtj_home.html", "http://jtj.bl.gov.cn/Default.aspx", IIS_ASPNET, "aspnet"),
    # hard: cookieless session in the URL, and an archive of classic ShowArticle.asp links beside the .aspx ones
    ("aspnet_cookieless_with_asp_archive.html", "http://wjj.bl.gov.cn/(S(3xq5ccbwlpq2bd45u2sdy055))/Default.aspx",
     IIS_ASPNET, "aspnet"),
    # hard: a frameset, and IIS says X-Powered-By: ASP.NET for classic ASP too
    ("asp_qjs_frameset.html", "http://qjs.bl.gov.cn/", IIS_CLASSIC, "asp"),
    ("asp_qjs_frameset.html", "http://qjs.bl.gov.cn/", {"Server": "Microsoft-IIS/6.0", "X-Powered-By": "ASP.NET"}, "asp"),
    ("asp_powereasy_home.html", "http://cl.bl.gov.cn/Index.asp", {"Server": "Microsoft-IIS/6.0", "X-Powered-By": "ASP.NET"},
     "asp"),
    ("dedecms_static_home.html", "http://kx.bl.gov.cn/", {"Server": "nginx"}, "dedecms"),
    # hard: dynamic DedeCMS without its footer, PHP headers and cookie
    ("dedecms_dynamic_home.html", "http://dag.bl.gov.cn/", PHP_HEADERS, "dedecms"),
    ("phpcms_home.html", "http://fl.bl.gov.cn/", {"X-Powered-By": "PHP/5.4.45"}, "phpcms"),
    # hard: PHPCMS with static HTML URLs; no "phpcms" anywhere, only its statics/, uploadfile/ and api.php
    ("phpcms_static_urls_home.html", "http://zgh.bl.gov.cn/", PHP_HEADERS, "phpcms"),
    ("php_rsj_home.html", "http://rsj.bl.gov.cn/", {"Server": "Apache"}, "php"),
    # hard: home-made PHP with PHPSESSID in links, jQuery $.get/$.getJSON widgets and one stray .asp link
    ("php_homemade_with_ajax.html", "http://sfj.bl.gov.cn/index.php", PHP_HEADERS, "php"),
    ("js_news_app_home.html", "http://wlj.bl.gov.cn/", {"Server": "nginx/1.20.1"}, "js"),
    ("js_vue_hashbang_home.html", "http://sjj.bl.gov.cn/", {"Server": "nginx"}, "js"),
    # hard: an index.php page with list.php?catid= links, whose lists are all filled by $.ajax
    ("js_jquery_shell_on_php.html", "http://tyjrj.bl.gov.cn/index.php", PHP_HEADERS, "js"),
    ("generic_static_home.html", "http://dfz.bl.gov.cn/", {"Server": "nginx"}, "generic"),
]


@pytest.mark.parametrize(("page", "url", "headers", "platform"), CASES,
                         ids=[f"{c[0].removesuffix('.html')}-{i}" for i, c in enumerate(CASES)])
def test_top_guess(page: str, url: str, headers: dict[str, str], platform: str):
    guesses = detect_platform(url, (PAGES / page).read_bytes(), headers)
    assert guesses[0].platform == platform, guesses


def test_every_saved_page_is_used():
    assert {c[0] for c in CASES} == {p.name for p in PAGES.glob("*.html")}


def test_at_least_two_pages_per_platform():
    platforms = [c[3] for c in CASES if c[3] != "generic"]
    assert all(platforms.count(p) >= 2 for p in set(platforms))
    assert set(platforms) == {"hanweb", "trs", "aspnet", "asp", "dedecms", "phpcms", "php", "js"}


@pytest.mark.parametrize(("page", "url", "headers", "platform"), CASES[:4] + CASES[8:9])
def test_guesses_are_sorted_scored_explained_and_end_with_generic(page, url, headers, platform):
    guesses = detect_platform(url, (PAGES / page).read_bytes(), headers)
    assert all(isinstance(g, PlatformGuess) and 0 <= g.score <= 1 and g.evidence for g in guesses)
    assert [g.score for g in guesses] == sorted((g.score for g in guesses), reverse=True)
    assert [g.platform for g in guesses].count("generic") == 1
    generic = next(g for g in guesses if g.platform == "generic")
    assert generic.score < guesses[0].score
    assert all(reason.isascii() or "/" in reason or "'" in reason for reason in guesses[0].evidence)


def test_evidence_counts_links_in_words():
    guesses = detect_platform("http://zjj.bl.gov.cn/", (PAGES / "hanweb_zjj_home.html").read_bytes())
    assert "12 column links like /col/col1229099/index.html" in guesses[0].evidence


def test_one_stray_aspx_link_does_not_make_a_trs_site_aspnet():
    guesses = detect_platform("http://nyj.bl.gov.cn/", (PAGES / "trs_on_iis_with_aspx_link.html").read_bytes(),
                              {"Server": "Microsoft-IIS/7.5", "X-Powered-By": "ASP.NET"})
    scores = {g.platform: g.score for g in guesses}
    assert scores.get("aspnet", 0) < scores["generic"] < scores["trs"]


def test_asp_net_headers_alone_do_not_decide():
    page = "<html><body><p>北仑区某局</p><a href='news.htm'>新闻</a></body></html>"
    guesses = detect_platform("http://x.bl.gov.cn/", page, {"Server": "Microsoft-IIS/6.0", "X-Powered-By": "ASP.NET"})
    assert guesses[0].platform == "generic"


def test_headers_may_be_a_message_with_repeated_set_cookie():
    headers = email.message.Message()
    headers["Server"] = "Microsoft-IIS/6.0"
    headers["Set-Cookie"] = "lang=zh; path=/"
    headers["Set-Cookie"] = "ASPSESSIONIDQSRTBCDA=ZQSJ; path=/"
    guesses = detect_platform("http://qjs.bl.gov.cn/", "<html><body>首页</body></html>", headers)
    assert guesses[0].platform == "asp"


@pytest.mark.parametrize("html", ["", b"", "   ", "<html>", b"\xff\xfe\x00\xd8", "<a href='http://[::1/'>x</a>",
                                  "<frameset><frame src='javascript:void(0)'></frameset>"])
def test_odd_pages_give_generic(html):
    assert detect_platform("http://x.bl.gov.cn/", html)[0].platform == "generic"
    assert frames("http://x.bl.gov.cn/", html) == []
    assert suggest_columns("http://x.bl.gov.cn/", html) == []


# --- columns and frames ----------------------------------------------------------------------------


def test_suggest_columns_on_a_hanweb_home():
    columns = suggest_columns("http://zjj.bl.gov.cn/", (PAGES / "hanweb_zjj_home.html").read_bytes())
    assert columns == [
        ("机构概况", "http://zjj.bl.gov.cn/col/col1229010/index.html"),
        ("政务公开", "http://zjj.bl.gov.cn/col/col1229011/index.html"),
        ("通知公告", "http://zjj.bl.gov.cn/col/col1229015/index.html"),
        ("工作动态", "http://zjj.bl.gov.cn/col/col1229016/index.html"),
        ("政策法规", "http://zjj.bl.gov.cn/col/col1229017/index.html"),
        ("办事服务", "http://zjj.bl.gov.cn/col/col1229020/index.html"),
    ]  # not 首页, 更多, 无障碍, 网站地图, 联系我们, articles, the search form, nor the off-site 浙江政务服务网


def test_suggest_columns_on_a_classic_asp_home_reads_script_links():
    columns = suggest_columns("http://cl.bl.gov.cn/Index.asp", (PAGES / "asp_powereasy_home.html").read_bytes())
    assert columns == [
        ("残联概况", "http://cl.bl.gov.cn/Article/ShowClass.asp?ClassID=1"),
        ("工作动态", "http://cl.bl.gov.cn/Article/ShowClass.asp?ClassID=2"),
        ("通知公告", "http://cl.bl.gov.cn/Article/ShowClass.asp?ClassID=3"),
        ("政策法规", "http://cl.bl.gov.cn/Article/ShowClass.asp?ClassID=4"),
        ("助残服务", "http://cl.bl.gov.cn/Article/ShowClass.asp?ClassID=6"),  # javascript:window.open('…')
        ("留言板", "http://cl.bl.gov.cn/GuestBook/Index.asp"),  # onclick="location.href='…'"
    ]


def test_suggested_columns_carry_no_session_ids():
    columns = suggest_columns("http://sfj.bl.gov.cn/", (PAGES / "php_homemade_with_ajax.html").read_bytes())
    assert ("司法动态", "http://sfj.bl.gov.cn/news.php?cid=1") in columns
    assert not any("PHPSESSID" in url for _, url in columns)


def test_suggest_columns_keeps_hash_bang_routes():
    columns = suggest_columns("http://sjj.bl.gov.cn/", (PAGES / "js_vue_hashbang_home.html").read_bytes())
    assert columns == [("数据动态", "http://sjj.bl.gov.cn/#!/list/12"), ("通知公告", "http://sjj.bl.gov.cn/#!/list/13")]


def test_frames_of_a_frameset_home():
    html = (PAGES / "asp_qjs_frameset.html").read_bytes()
    assert frames("http://qjs.bl.gov.cn/", html) == [
        "http://qjs.bl.gov.cn/top.asp",
        "http://qjs.bl.gov.cn/left.asp",
        "http://qjs.bl.gov.cn/main.asp?classid=0",
        "http://qjs.bl.gov.cn/bottom.htm",
    ]
    assert suggest_columns("http://qjs.bl.gov.cn/", html) == []  # the navigation is in the frames


def test_frames_include_iframes_on_the_same_host_only():
    html = ("<html><body><iframe src='list.asp?classid=2'></iframe><iframe src='http://tianqi.example.com/w.html'>"
            "</iframe><iframe src='about:blank'></iframe></body></html>")
    assert frames("http://dqjd.bl.gov.cn/main.asp", html) == ["http://dqjd.bl.gov.cn/list.asp?classid=2"]


# --- the site code `blgw plugin new` proposes (gateway.ops.scaffold.site_code_for) ---------------


@pytest.mark.parametrize(("host", "port", "code"), [
    ("rsj.bl.gov.cn", None, "rsj"),
    ("www.beilun.gov.cn", None, "beilun"),  # most county portals are www.xxx.gov.cn
    ("WWW2.nbbl.gov.cn.", None, "nbbl"),
    ("bl-xx.gov.cn", None, "blxx"),
    ("12345.gov.cn", None, "s12345"),
    ("10.1.2.3", 8080, "ip10x1x2x3p8080"),  # an intranet subsite on an address; the port tells two apart
    ("127.0.0.1", None, "ip127x0x0x1"),
    ("[::1]", 80, "ipxx1p80"),
])
def test_a_site_code_from_www_and_ip_hosts(host, port, code):
    from gateway.ops.scaffold import site_code_for
    from normalizers.models import SITE_CODE_PATTERN

    assert site_code_for(host, port) == code
    assert re.match(SITE_CODE_PATTERN, code)


def test_a_host_with_nothing_to_name_a_site_after_asks_for_a_code():
    from gateway.ops.scaffold import site_code_for

    with pytest.raises(ValueError, match="pass --code"):
        site_code_for("www.gov.cn")
