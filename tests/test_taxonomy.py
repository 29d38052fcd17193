"""The guidance's taxonomy from column names, paths, URLs and page structure, overridable per
column in the plugin; and the navigation tree built from it."""

import pytest

from gateway.ops.navigation import build_navigation
from normalizers.models import ArticleKind, Category
from normalizers.taxonomy import classify
from plugins.declarative import parse_site_toml

GOV, INTERACT, SERVICE = Category.GOVERNMENT_INFORMATION, Category.INTERACTION, Category.ONLINE_SERVICES


@pytest.mark.parametrize("name,path,url,expected", [
    ("通知公告", [], "", (GOV, "article", ArticleKind.NOTICE)),
    ("公示公告", [], "", (GOV, "article", ArticleKind.NOTICE)),
    ("政策法规", [], "", (GOV, "article", ArticleKind.POLICY)),
    ("规范性文件", [], "", (GOV, "article", ArticleKind.POLICY)),
    ("人事任免", [], "", (GOV, "article", ArticleKind.APPOINTMENT)),
    ("人事信息", [], "", (GOV, "article", ArticleKind.APPOINTMENT)),
    ("年度工作目标", [], "", (GOV, "article", ArticleKind.ANNUAL_GOALS)),
    ("工作动态", ["政务公开", "政务信息", "工作动态"], "", (GOV, "article", ArticleKind.NEWS)),
    ("街道动态", [], "", (GOV, "article", ArticleKind.NEWS)),
    ("局长信箱", [], "", (INTERACT, "letter", None)),
    ("在线问答", [], "", (INTERACT, "letter", None)),
    ("咨询投诉", [], "", (INTERACT, "letter", None)),
    ("办事指南", [], "", (SERVICE, "service_guide", None)),
    ("表格下载", [], "", (SERVICE, "article", ArticleKind.OTHER)),
    ("领导介绍", [], "", (GOV, "organisation", None)),
    ("机构职能", [], "", (GOV, "organisation", None)),
    ("其他", [], "http://x.bl.gov.cn/hdjl/index.html", (INTERACT, "letter", None)),
    ("其他", [], "http://x.bl.gov.cn/bszn/list.html", (SERVICE, "service_guide", None)),
    ("其他", [], "http://x.bl.gov.cn/about.html", (GOV, "article", ArticleKind.OTHER)),
    # a path under a top-level category decides the category
    ("便民信息", ["网上服务", "便民信息"], "", (SERVICE, "article", ArticleKind.NEWS)),
])
def test_columns_are_classified(name, path, url, expected):
    found = classify(name, path, url)
    assert (found.category, found.item_type, found.kind) == expected, found.reason
    assert found.reason


PLUGIN = """
[site]
code = "zjj"
name = "住建局"
base_url = "http://zjj.bl.gov.cn/"
[list]
item = "li"
[[columns]]
name = "通知公告"
url = "/tzgg/"
[[columns]]
name = "主任信箱"
url = "/zrxx/"
[[columns]]
name = "资质办理"
url = "/zzbl/"
category = "网上服务"
item_type = "service_guide"
[[columns]]
name = "工作动态"
url = "/gzdt/"
kind = "通知公告"
"""


def test_the_plugin_overrides_the_rules():
    site = parse_site_toml(PLUGIN, "zjj.toml")
    tzgg, mailbox, permits, news = site.columns
    assert tzgg.classification.kind == ArticleKind.NOTICE and tzgg.column_path == ("政务公开", "通知公告")
    assert mailbox.classification.item_type == "letter" and mailbox.column_path == ("政民互动", "主任信箱")
    assert permits.classification.category == SERVICE and permits.classification.item_type == "service_guide"
    assert "set in the plugin" in permits.classification.reason
    assert news.classification.kind == ArticleKind.NOTICE


def test_navigation_tree_groups_columns_under_the_three_categories():
    site = parse_site_toml(PLUGIN, "zjj.toml")
    nav = build_navigation(site, {("政务公开", "通知公告"): 7, ("政民互动", "主任信箱"): 3})
    assert [n.name for n in nav.columns] == ["政务公开", "政民互动", "网上服务"]
    gov = nav.columns[0]
    assert gov.document_count == 7 and {c.name for c in gov.children} == {"通知公告", "工作动态"}
    notice = next(c for c in gov.children if c.name == "通知公告")
    assert str(notice.url) == "http://zjj.bl.gov.cn/tzgg/" and notice.item_type == "article"
    assert nav.columns[1].children[0].item_type == "letter" and nav.columns[1].document_count == 3
    assert nav.item_type == "navigation" and str(nav.base_url) == "http://zjj.bl.gov.cn/"
