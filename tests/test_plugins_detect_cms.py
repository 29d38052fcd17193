"""Platform detection of the CMS families of issue 18 on small home-page snippets written after each
vendor's default template: PbootCMS, DedeCMS, PHPCMS, EmpireCMS, MetInfo, PowerEasy, Z-Blog, WordPress;
and a plugin for a detected platform without a preset still loads."""

from __future__ import annotations

import pytest

from plugins.declarative import parse_site_toml
from plugins.detect import PLATFORMS, detect_platform, suggest_columns
from plugins.spec import load_preset

PHP = {"Server": "Apache/2.4.6 (CentOS)", "X-Powered-By": "PHP/7.3.33"}
IIS = {"Server": "Microsoft-IIS/6.0", "X-Powered-By": "ASP.NET"}

# a thin PbootCMS home: 兼容模式 routes in the query, the footer's $.ajax form, little text
PBOOTCMS = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>北仑区科学技术局</title>
<link rel="stylesheet" href="/template/default/bootstrap/css/bootstrap.min.css?v=5.3.8">
<script src="/template/default/js/jquery-3.7.1.min.js"></script></head><body>
<nav class="navbar"><a class="navbar-brand" href="/"><img src="/static/upload/image/20180412/1523501459462835.jpg"></a>
<ul class="navbar-nav"><li><a class="nav-link active" href="/">首页</a></li><li><a class="nav-link" href="/?jgzn/">机构职能</a></li>
<li><a class="nav-link" href="/?tzgg/">通知公告</a></li><li><a class="nav-link" href="/?gzdt/">工作动态</a></li></ul>
<a class="text-secondary" href="/?member/login/">登录</a></nav>
<div id="news-list" class="row"></div>
<div class="footer"><p class="code"><img src="/core/qrcode.php?string=http%3A%2F%2Fkjj.bl.gov.cn%2F"></p></div>
<script>function subform(obj){ $.ajax({type: 'POST', url: '/?form/2/', dataType: 'json', data: {tel: 1}}); return false; }</script>
</body></html>"""

DEDECMS = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312" /><title>北仑区科学技术协会</title>
<link href="/templets/default/style/dedecms.css" rel="stylesheet" type="text/css" /></head><body>
<div id="navMenu"><ul><li><a href='/'><span>主页</span></a></li><li><a href='/a/xhdt/'><span>学会动态</span></a></li>
<li><a href='/a/zwgk/'><span>政务公开</span></a></li></ul></div>
<ul class="d1 ico3"><li><span>01-05</span><a href="/a/xhdt/2024/0105/73.html">区科协召开学术年会</a></li></ul>
<form action="/plus/search.php"><input name="q"></form>
<p class="powered">Powered by <a href="http://www.dedecms.com"><strong>DedeCMS_V57_GBK_SP2</strong></a></p></body></html>"""

PHPCMS = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk" /><title>北仑区妇女联合会</title>
<link href="http://fl.bl.gov.cn/statics/css/reset.css" rel="stylesheet" type="text/css" /></head><body>
<ul class="nav-site"><li><a href="http://fl.bl.gov.cn/index.php?m=content&c=index&a=lists&catid=6"><span>工作动态</span></a></li>
<li><a href="http://fl.bl.gov.cn/index.php?m=content&c=index&a=lists&catid=7"><span>通知公告</span></a></li></ul>
<li>·<a href="http://fl.bl.gov.cn/index.php?m=content&c=index&a=show&catid=6&id=87">区妇联开展巾帼志愿服务</a></li>
<p class="info">Powered by <strong><a href="http://www.phpcms.cn">PHPCMS</a></strong> <em>v9</em></p></body></html>"""

EMPIRECMS = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312" /><title>北仑区春晓街道</title>
<link href="/skin/default/css/style.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="/e/data/js/ajax.js"></script></head><body>
<a href="/">首页</a> | <a href="/news/jddt/">街道动态</a> | <a href="/e/action/ListInfo/?classid=3">通知公告</a>
<ul><li><span>2024-01-05</span><a href="/news/jddt/2024-01-05/123.html" title="春晓街道召开年度工作会议">春晓街道召开年度工作会议</a></li></ul>
<form action="/e/search/index.php" method="post"><input name="keyboard"></form>
Powered by <a href="http://www.phome.net"><strong>Empire</strong></a><strong><font color="#FF9900">CMS</font></strong>
</body></html>"""

METINFO = """<!DOCTYPE HTML><html><head><meta charset="utf-8"><title>北仑区某协会</title>
<meta name="generator" content="MetInfo V7.3.0" data-variable="https://www.example.gov.cn/|cn|cn|mui005|10001|10001|0">
<link href="/public/ui/v2/static/css/basic.css" rel="stylesheet"></head><body>
<a href="/news/news.php?class1=2">新闻动态</a><a href="/news/shownews.php?id=12">协会召开理事会</a>
<a href="/about/show.php?id=1">关于我们</a>
<div class="powered_by_metinfo">Powered by <b><a href="https://www.metinfo.cn" target="_blank">MetInfo 7.3.0</a></b></div>
</body></html>"""

POWEREASY = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>北仑区某局</title>
<link href="/Skin/DefaultSkin.css" rel="stylesheet" type="text/css"></head><body>
<a href="/Article/Index.asp">文章中心</a> <a href="/Article/ShowClass.asp?ClassID=3">通知公告</a>
<a href="/Article/ShowArticle.asp?ArticleID=125">关于做好年度考核工作的通知</a>
<div>Copyright 2003-2008 <a href="http://www.powereasy.net" target="_blank">动易网络</a> Powered by 动易SiteWeaver</div>
</body></html>"""

ZBLOG = """<!DOCTYPE html><html><head><meta charset="UTF-8"><meta name="generator" content="Z-BlogPHP 1.7.3">
<title>北仑区某中心</title><link rel="stylesheet" href="http://x.bl.gov.cn/zb_users/theme/default/style/default.css">
<script src="http://x.bl.gov.cn/zb_system/script/jquery-2.2.4.min.js"></script></head><body>
<a href="http://x.bl.gov.cn/category-2.html">工作动态</a><a href="http://x.bl.gov.cn/post/12.html">中心召开会议</a>
<p>Powered By <a href="https://www.zblogcn.com/">Z-BlogPHP</a></p></body></html>"""

WORDPRESS = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8"><title>北仑区某办</title>
<link rel="https://api.w.org/" href="http://x.bl.gov.cn/wp-json/" />
<link rel="stylesheet" href="http://x.bl.gov.cn/wp-content/themes/twentytwentyone/style.css?ver=1.9">
<script src="http://x.bl.gov.cn/wp-includes/js/jquery/jquery.min.js?ver=3.7.1"></script>
<meta name="generator" content="WordPress 6.4.2" /></head><body>
<a href="http://x.bl.gov.cn/?cat=3">通知公告</a><a href="http://x.bl.gov.cn/?p=123">关于开展调研的通知</a>
</body></html>"""

# (snippet, URL, headers, the top guess, a word its evidence names)
CASES = {
    "pbootcms": (PBOOTCMS, "http://kjj.bl.gov.cn/", PHP, "pbootcms", "route"),
    "dedecms": (DEDECMS, "http://kx.bl.gov.cn/", PHP, "dedecms", "DedeCMS"),
    "phpcms": (PHPCMS, "http://fl.bl.gov.cn/", PHP, "phpcms", "PHPCMS"),
    "empirecms": (EMPIRECMS, "http://cxjd.bl.gov.cn/", PHP, "empirecms", "EmpireCMS"),
    "metinfo": (METINFO, "http://www.example.gov.cn/", PHP, "metinfo", "MetInfo"),
    "powereasy": (POWEREASY, "http://cl.bl.gov.cn/", IIS, "asp", "PowerEasy"),
    "zblog": (ZBLOG, "http://x.bl.gov.cn/", PHP, "zblog", "Z-Blog"),
    "wordpress": (WORDPRESS, "http://x.bl.gov.cn/", PHP, "wordpress", "WordPress"),
}


@pytest.mark.parametrize("family", list(CASES))
def test_top_guess_of_each_cms_family(family: str):
    html, url, headers, platform, word = CASES[family]
    guesses = detect_platform(url, html, headers)
    assert guesses[0].platform == platform, guesses
    assert any(word.lower() in reason.lower() for reason in guesses[0].evidence), guesses[0].evidence


def test_the_new_platforms_are_known():
    assert {"pbootcms", "empirecms", "metinfo", "zblog", "wordpress"} <= set(PLATFORMS)


def test_a_thin_pbootcms_home_with_ajax_is_not_a_script_shell():
    guesses = detect_platform("http://kjj.bl.gov.cn/", PBOOTCMS, PHP)
    scores = {g.platform: g.score for g in guesses}
    assert guesses[0].platform == "pbootcms"
    assert scores.get("js", 0) < scores["pbootcms"] - 0.25
    assert any("renders its lists on the server" in reason for reason in next(g for g in guesses if g.platform == "js").evidence)


def test_powereasy_on_asp_net_counts_for_aspnet():
    page = ('<form method="post" action="Default.aspx"><input type="hidden" name="__VIEWSTATE" value="x" />'
            '<a href="/Category_3/Index.aspx">通知公告</a><a href="/Item/125.aspx">通知</a></form>'
            '<div>Powered by 动易SiteFactory</div>')
    guesses = detect_platform("http://x.bl.gov.cn/Default.aspx", page, IIS)
    assert guesses[0].platform == "aspnet"
    assert any("PowerEasy" in reason for reason in guesses[0].evidence)


def test_pbootcms_columns_are_query_routes():
    columns = suggest_columns("http://kjj.bl.gov.cn/", PBOOTCMS)
    assert columns == [("机构职能", "http://kjj.bl.gov.cn/?jgzn/"), ("通知公告", "http://kjj.bl.gov.cn/?tzgg/"),
                       ("工作动态", "http://kjj.bl.gov.cn/?gzdt/")]


@pytest.mark.parametrize("platform", ["metinfo", "zblog", "wordpress"])
def test_a_platform_without_a_preset_makes_a_valid_plugin(platform: str):
    assert load_preset(platform) == {}
    text = f"""[site]
code = "x"
name = "北仑区某办"
base_url = "http://x.bl.gov.cn/"
platform = "{platform}"

[list]
item = "ul li"

[[columns]]
name = "通知公告"
url = "/?cat=3"
"""
    spec = parse_site_toml(text, "x.toml")
    assert spec.site.platform == platform and spec.list is not None
