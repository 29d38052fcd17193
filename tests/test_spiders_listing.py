"""List-page decisions (spiders/listing.py) on small pages shaped like each legacy platform."""

from parsel import Selector

from normalizers.links import url_from_script
from plugins.spec import ListRules
from spiders.listing import (
    ListRequest,
    datastore,
    entries_from_rules,
    form_fields,
    frame_urls,
    next_list_pages,
    postback_arguments,
)


def rules(**kw) -> ListRules:
    return ListRules.model_validate({"item": "li", **kw})


def decide(url, html, r, page=1, new=5, previous=None, max_pages=500):
    return next_list_pages(url, html, Selector(text=html), r, page, new, max_pages, previous)


def test_script_links_are_followed():
    assert url_from_script("javascript:window.open('ShowArticle.asp?ArticleID=5')") == "ShowArticle.asp?ArticleID=5"
    assert url_from_script("location.href='ShowArticle.asp?ArticleID=6';return false;") == "ShowArticle.asp?ArticleID=6"
    assert url_from_script('window.location.href = "/a/7.html"') == "/a/7.html"
    assert url_from_script("javascript:void(0)") is None
    html = """<ul>
      <li><a href="javascript:window.open('ShowArticle.asp?ArticleID=1')">一</a></li>
      <li><a href="#" onclick="location.href='ShowArticle.asp?ArticleID=2';return false;">二</a></li>
      <li><a href="ShowArticle.asp?ArticleID=3" target="_blank">三</a></li>
      <li><a href="javascript:void(0)">无链接</a></li></ul>"""
    entries = list(entries_from_rules(Selector(text=html), rules(title=None)))
    assert [(e.url, e.title) for e in entries] == [
        ("ShowArticle.asp?ArticleID=1", "一"), ("ShowArticle.asp?ArticleID=2", "二"),
        ("ShowArticle.asp?ArticleID=3", "三")]


def test_frames_are_found_on_the_same_host_only():
    html = """<frameset><frame src="top.asp"><frame src="main.asp"></frameset>
              <iframe src="list.asp?classid=2"></iframe><iframe src="http://other.example/ad.html"></iframe>
              <iframe src="about:blank"></iframe>"""
    assert frame_urls(Selector(text=html), "http://dqjd.bl.gov.cn/news.asp?classid=2") == [
        "http://dqjd.bl.gov.cn/top.asp", "http://dqjd.bl.gov.cn/main.asp",
        "http://dqjd.bl.gov.cn/list.asp?classid=2"]


PAGER = """<form method="post" action="./List.aspx?cid=1" id="form1">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4MzE0MjEwNTs7Pg==" />
<input type="hidden" name="__VIEWSTATEGENERATOR" value="C2EE9ABB" />
<input type="hidden" name="__EVENTVALIDATION" value="/wEWBQK" />
<input type="text" name="txtKey" value="" /><input type="submit" name="btnSearch" value="搜索" />
<input type="checkbox" name="chk" /><select name="ddl"><option value="a">A</option><option value="b" selected>B</option></select>
<table id="GridView1"><tr><td><a href="Show.aspx?id=9">标题</a></td></tr>
<tr><td><span>1</span><a href="javascript:__doPostBack(&#39;GridView1&#39;,&#39;Page$2&#39;)">2</a>
<a href="javascript:__doPostBack('GridView1','Page$3')">3</a>
<a href="javascript:__doPostBack('GridView1','Sort$Title')">标题</a></td></tr></table></form>"""


def test_postback_posts_the_form_with_the_next_page_argument():
    r = rules(item="#GridView1 tr", paging={"type": "postback"})
    assert ("GridView1", "Page$2") in postback_arguments(Selector(text=PAGER))
    action, fields = form_fields(Selector(text=PAGER), None)
    assert action == "./List.aspx?cid=1"
    assert ("btnSearch", "搜索") not in fields and ("ddl", "b") in fields and not any(k == "chk" for k, _ in fields)
    (request,), why = decide("http://127.0.0.1:8/List.aspx?cid=1", PAGER, r)
    form = dict(request.formdata)
    assert request.method == "POST" and request.url == "http://127.0.0.1:8/List.aspx?cid=1"
    assert form["__EVENTTARGET"] == "GridView1" and form["__EVENTARGUMENT"] == "Page$2"
    assert form["__VIEWSTATE"] == "dDwtMTA4MzE0MjEwNTs7Pg==" and form["__EVENTVALIDATION"] == "/wEWBQK"
    assert request.page_number == 2 and "Page$2" in why
    # on page 3 the pager has no Page$4: the walk ends
    assert decide("http://127.0.0.1:8/List.aspx?cid=1", PAGER, r, page=3)[0] == []


def test_postback_with_an_explicit_target_ignores_other_pagers():
    r = rules(paging={"type": "postback", "target": "ctl00$Main$GridView2"})
    nxt, why = decide("http://h/List.aspx", PAGER, r)
    assert nxt == [] and "no pager" in why


TRS = """<ul class="list"><li><a href="./202401/t20240105_1.html">一</a></li></ul>
<script>var countPage = 4//共多少页
createPageHTML(countPage, 0, "index", "html");</script>"""


def test_trs_queues_every_static_page_from_page_one():
    r = rules(paging={"type": "trs"})
    nxt, why = decide("http://fgj.bl.gov.cn/col/tzgg/index.html", TRS, r)
    assert [n.url for n in nxt] == [f"http://fgj.bl.gov.cn/col/tzgg/index_{i}.html" for i in (1, 2, 3)]
    assert [n.page_number for n in nxt] == [2, 3, 4] and "4 pages" in why
    assert decide("http://fgj.bl.gov.cn/col/tzgg/index_2.html", TRS.replace("0,", "2,"), r, page=3)[0] == []
    assert decide("http://fgj.bl.gov.cn/col/tzgg/", TRS, rules(paging={"type": "trs", "max_pages": 2}))[0][0].url \
        == "http://fgj.bl.gov.cn/col/tzgg/index_1.html"


HANWEB_PAGE = """<div id="385762"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3034&path=/&columnid=122901&unitid=385762&webname=北仑区教育局&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2024/1/5/art_122901_1.html" title="一">一</a><span>2024-01-05</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/1/4/art_122901_2.html" title="二">二</a><span>2024-01-04</span></li>]]></record>
</recordset></datastore></script></div><script>var totalRecord = 5;</script>"""


def test_hanweb_reads_cdata_records_and_posts_to_the_data_proxy():
    store = datastore(HANWEB_PAGE)
    assert store is not None and store[1] == 2 and store[2] == 5
    entries = list(entries_from_rules(Selector(text=store[0]), rules(date="span")))
    assert [(e.url, e.title, e.date) for e in entries] == [
        ("/art/2024/1/5/art_122901_1.html", "一", "2024-01-05"), ("/art/2024/1/4/art_122901_2.html", "二", "2024-01-04")]
    r = rules(paging={"type": "hanweb", "records_per_request": 2})
    (request,), _ = decide("http://jyj.bl.gov.cn/col/col122901/index.html", HANWEB_PAGE, r)
    assert request.method == "POST"
    assert request.url == ("http://jyj.bl.gov.cn/module/web/jpage/dataproxy.jsp"
                           "?startrecord=3&endrecord=4&perpage=2")
    form = dict(request.formdata)
    assert form["columnid"] == "122901" and form["unitid"] == "385762" and form["col"] == "1"
    assert form["sourceContentType"] == "1" and form["webname"] == "北仑区教育局" and "page" not in form
    xml = ('<?xml version="1.0" encoding="utf-8"?><datastore><recordset>'
           '<record><![CDATA[<li><a href="/art/2024/1/3/art_122901_3.html">三</a></li>]]></record>'
           '<record><![CDATA[<li><a href="/art/2024/1/2/art_122901_4.html">四</a></li>]]></record>'
           '</recordset><totalrecord>5</totalrecord><totalpage>3</totalpage></datastore>')
    (last,), _ = decide(request.url, xml, r, page=2, previous=request)
    assert last.url.endswith("startrecord=5&endrecord=5&perpage=2") and dict(last.formdata) == form
    final = xml.replace("<totalrecord>5", "<totalrecord>4")
    assert decide(request.url, final, r, page=2, previous=request)[0] == []


def test_next_link_query_and_caps():
    html = '<a href="list.php?page=2">下一页</a>'
    r = rules(paging={"type": "next_link", "next": "//a[.='下一页']/@href"})
    assert decide("http://h/list.php", html, r)[0] == [ListRequest("http://h/list.php?page=2", 2)]
    assert decide("http://h/list.php", html, r, max_pages=1)[0] == []
    q = rules(paging={"type": "query", "param": "page"})
    assert decide("http://h/list.php?catid=1", "", q)[0][0].url == "http://h/list.php?catid=1&page=2"
    assert decide("http://h/list.php?catid=1&page=2", "", q, page=2, new=0)[0] == []


def test_query_paging_keeps_other_parameters_byte_for_byte():
    q = rules(paging={"type": "query", "param": "PageNo"})
    url = "http://h/plus/list.php?tid=3&key=%D6%D0%CE%C4&PageNo=2"
    (nxt,), _ = decide(url, "", q, page=2)
    assert nxt.url == "http://h/plus/list.php?tid=3&key=%D6%D0%CE%C4&PageNo=3"
