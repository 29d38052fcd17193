"""The declarative plugin format: valid files load, bad ones fail naming file, line and field."""

from pathlib import Path

import pytest

from gateway.ops.plugin_check import CheckReport, preset_values
from plugins.declarative import PluginError, load_site_file, parse_site_toml
from plugins.spec import NextLinkPaging, QueryParamPaging, validate_schedule

GOOD = """\
[site]
code = "zjj"
name = "北仑区住房和城乡建设局"
base_url = "http://ZJJ.bl.gov.cn"
schedule = "every 6h"

[list]
item = "ul.list li"
date = "span"
paging = { type = "query", param = "page", last_page = "re:页次：\\\\d+/(\\\\d+)" }

[detail]
body = "#zoom"

[[columns]]
name = "通知公告"
url = "list.php?catid=1"

[[columns]]
name = "工作动态"
url = "list.php?catid=3"
path = ["政务公开", "政务信息", "工作动态"]

[columns.list]
item = "table.news tr"
paging = { type = "next_link", next = "//a[text()='下一页']/@href" }
"""


def test_good_plugin_loads_with_defaults():
    spec = parse_site_toml(GOOD, "zjj.toml")
    assert spec.code == "zjj"
    assert spec.site.base_url == "http://zjj.bl.gov.cn/"
    assert spec.site.concurrency == 2 and spec.site.obey_robots is True
    first, second = spec.columns
    assert first.column_path == ("政务公开", "通知公告")
    assert isinstance(spec.list_rules(first).paging, QueryParamPaging)
    assert second.column_path == ("政务公开", "政务信息", "工作动态")
    assert isinstance(spec.list_rules(second).paging, NextLinkPaging)
    assert spec.detail_rules(first).hints().body == "#zoom"


def _problems(text: str) -> list:
    with pytest.raises(PluginError) as info:
        parse_site_toml(text, "plugins/sites/zjj.toml")
    return info.value.problems


def test_misspelt_field_names_file_line_and_field_with_suggestion():
    bad = GOOD.replace('item = "ul.list li"', 'itme = "ul.list li"')
    problems = _problems(bad)
    messages = [str(p) for p in problems]
    typo = next(p for p in problems if p.field == "list.itme")
    assert typo.line == bad.splitlines().index('itme = "ul.list li"') + 1
    assert "did you mean 'item'?" in typo.message
    assert any(m.startswith("plugins/sites/zjj.toml:") and "list.itme" in m for m in messages)
    # the required field it replaced is reported too
    assert any(p.field == "list.item" and "missing" in p.message for p in problems)


def test_misspelt_field_in_second_column_points_at_that_column():
    bad = GOOD.replace('path = ["政务公开", "政务信息", "工作动态"]', 'pth = ["政务公开"]')
    (problem,) = _problems(bad)
    assert problem.field == "columns[1].pth"
    assert problem.line == bad.splitlines().index('pth = ["政务公开"]') + 1
    assert "did you mean 'path'?" in problem.message


def test_misspelt_key_inside_inline_paging_table():
    bad = GOOD.replace('next = "//a', 'nxt = "//a')
    problems = _problems(bad)
    typo = next(p for p in problems if p.field and p.field.endswith("nxt"))
    assert typo.field == "columns[1].list.paging.nxt"
    assert typo.line == next(i for i, line in enumerate(bad.splitlines(), 1) if "nxt =" in line)


def test_bad_values_are_explained():
    problems = _problems(GOOD.replace('code = "zjj"', 'code = "ZJJ-1"').replace('"every 6h"', '"0 25 * * *"'))
    by_field = {p.field: p for p in problems}
    assert "site.code" in by_field and "ZJJ-1" in by_field["site.code"].message
    assert "hour" in by_field["site.schedule"].message and by_field["site.schedule"].line == 5


def test_unknown_paging_type_is_rejected():
    problems = _problems(GOOD.replace('type = "query"', 'type = "infinite"'))
    assert problems[0].field.startswith("list.paging")
    assert "infinite" in problems[0].message


def test_invalid_toml_reports_line(tmp_path: Path):
    path = tmp_path / "broken.toml"
    path.write_text('[site]\ncode = "x\n', encoding="utf-8")
    with pytest.raises(PluginError) as info:
        load_site_file(path)
    (problem,) = info.value.problems
    assert problem.source == str(path) and problem.line == 2 and "invalid TOML" in problem.message


def test_column_without_list_rules_is_an_error():
    text = GOOD.replace('[list]\nitem = "ul.list li"\ndate = "span"\n', "").replace(
        'paging = { type = "query", param = "page", last_page = "re:页次：\\\\d+/(\\\\d+)" }\n', "", 1)
    problems = _problems(text)
    assert any("no list rules" in p.message for p in problems)


@pytest.mark.parametrize("value", ["0 2 * * *", "*/15 * * * 1-5", "every 30m", "every 1d", "0 0,12 1 */2 *"])
def test_valid_schedules(value):
    assert validate_schedule(value)


@pytest.mark.parametrize("value", ["daily", "0 2 * *", "61 * * * *", "every 0h", "* * 32 * *"])
def test_invalid_schedules(value):
    with pytest.raises(ValueError):
        validate_schedule(value)


def test_invalid_css_selector_fails_at_load_time_naming_the_field():
    bad = GOOD.replace('body = "#zoom"', 'body = "div[class=zoom"')
    (problem,) = _problems(bad)
    assert problem.field == "detail.body"
    assert "not a valid CSS selector" in problem.message and "div[class=zoom" in problem.message
    assert problem.line == bad.splitlines().index('body = "div[class=zoom"') + 1


def test_invalid_xpath_and_regex_are_reported():
    bad = GOOD.replace("//a[text()='下一页']/@href", "//a[text()='下一页'/@href").replace(
        "re:页次：\\\\d+/(\\\\d+)", "re:页次：(\\\\d+")
    fields = {p.field: p.message for p in _problems(bad)}
    assert "not a valid XPath selector" in fields["columns[1].list.paging.next"]
    assert "not a valid regex" in fields["list.paging.last_page"]


def test_a_strip_text_pattern_that_does_not_compile_is_refused_naming_it():
    from pydantic import ValidationError

    from plugins.spec import DetailRules

    assert DetailRules(strip_text=["[（(]责任编辑[：:][^）)]*[）)]"]).hints().strip_text == ("[（(]责任编辑[：:][^）)]*[）)]",)
    with pytest.raises(ValidationError, match="not a regular expression"):
        DetailRules(strip_text=["(责任编辑"])


SINGLE_PAGES = """\
[site]
code = "yjj"
name = "应急管理局"
base_url = "http://yjj.bl.gov.cn/"

[detail]
title = "h1"
body = "div.content"
pages = "div.pages a"

[[columns]]
name = "联系我们"
url = "/contact.html"
layout = "page"
"""


def test_a_single_page_column_needs_no_list_rules_and_a_list_column_does():
    spec = parse_site_toml(SINGLE_PAGES)
    assert spec.columns[0].layout == "page" and spec.detail.pages == "div.pages a" and spec.detail.max_pages == 100
    listed = SINGLE_PAGES + '\n[[columns]]\nname = "工作动态"\nurl = "/list.html"\n'
    assert any("columns[1] (工作动态) has no list rules" in p.message for p in _problems(listed))


@pytest.mark.parametrize("change, field", [
    (('layout = "page"', 'layout = "single"'), "columns[0].layout"),
    (('pages = "div.pages a"', 'pages = "div.pages a["'), "detail.pages"),
    (('pages = "div.pages a"', "pages = \"//a[re:test(@href, '_[0-9]+')]\""), "detail.pages"),
    (('pages = "div.pages a"', 'pages = "div.pages a"\nmax_pages = 1'), "detail.max_pages"),
])
def test_bad_page_rules_are_named(change, field):
    problems = _problems(SINGLE_PAGES.replace(*change))
    assert [p.field for p in problems] == [field], problems


def test_plugin_check_says_which_preset_values_apply():
    spec = parse_site_toml('[site]\ncode = "fgj"\nname = "发改局"\nbase_url = "http://fgj.bl.gov.cn/"\n'
                           'platform = "trs"\n\n[detail]\nbody = "div.article"\n\n'
                           '[[columns]]\nname = "通知公告"\nurl = "/col/tzgg/index.html"\n')
    values = {v.key: v for v in preset_values(spec)}
    assert values["list.paging"].applies and values["list.paging"].preset == '{ type = "trs" }'
    body = values["detail.body"]
    assert not body.applies and body.plugin == '"div.article"' and "TRS_Editor" in body.preset
    text = CheckReport("fgj", platform="trs", preset=list(values.values())).format()
    assert "preset trs (" in text and 'list.paging = { type = "trs" }' in text
    assert "detail.body: the plugin's \"div.article\" replaces the preset's" in text
    assert preset_values(parse_site_toml(SINGLE_PAGES)) == []  # no platform, no preset


def test_field_selectors_name_real_fields():
    spec = parse_site_toml(SINGLE_PAGES.replace('pages = "div.pages a"', 'fields = { address = "td.addr", '
                                                '"office.phone" = "#tel" }'))
    assert spec.detail.hints().fields == {"address": "td.addr", "office.phone": "#tel"}
    (problem,) = _problems(SINGLE_PAGES.replace('pages = "div.pages a"', 'fields = { adress = "td.addr" }'))
    assert problem.field == "detail.fields" and "no such field: adress" in problem.message
