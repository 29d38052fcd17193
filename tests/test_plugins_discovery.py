"""Plugin discovery: local folders (TOML and Python), entry points, and failure isolation."""

import sys
import textwrap
from pathlib import Path

import pytest

from plugins.manager import BUILTIN_SITES_DIR, build_registry

SITE = """\
[site]
code = "{code}"
name = "测试站点 {code}"
base_url = "http://{code}.bl.gov.cn/"

[list]
item = "ul li"

[[columns]]
name = "通知公告"
url = "list.php?catid=1"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_folder_plugins_load_and_a_misspelt_one_is_reported_without_stopping_others(tmp_path):
    write(tmp_path, "aaa.toml", SITE.format(code="aaa"))
    bad = write(tmp_path, "bbb.toml", SITE.format(code="bbb").replace("[list]\nitem", "[lst]\nitem"))
    write(tmp_path, "ccc.toml", SITE.format(code="ccc"))
    registry = build_registry([tmp_path], include_builtin=False)
    assert sorted(registry.sites) == ["aaa", "ccc"]
    (error,) = registry.errors
    text = str(error)
    assert str(bad) in text and "lst" in text and "did you mean 'list'?" in text
    assert f"{bad}:6:" in text  # the line of [lst]


def test_builtin_folder_holds_the_fixture_site():
    registry = build_registry([], include_builtin=True)
    assert "rsj" in registry.sites
    assert registry.get("rsj").source.startswith(str(BUILTIN_SITES_DIR))
    assert not registry.errors


def test_python_hook_module_in_folder_is_registered_and_scoped_by_site(tmp_path):
    write(tmp_path, "aaa.toml", SITE.format(code="aaa"))
    write(tmp_path, "aaa_hooks.py", """
        from plugins import hookimpl
        from plugins.spec import ListEntry

        @hookimpl
        def list_entries(site, column, url, html):
            if site.code != "aaa":
                return None
            return [ListEntry(url="show.php?id=1", title="from hook")]
    """)
    write(tmp_path, "bbb.toml", SITE.format(code="bbb"))
    registry = build_registry([tmp_path], include_builtin=False)
    aaa, bbb = registry.get("aaa"), registry.get("bbb")
    got = registry.hook.list_entries(site=aaa, column=aaa.columns[0], url="http://aaa/", html="")
    assert [e.title for e in got] == ["from hook"]
    assert registry.hook.list_entries(site=bbb, column=bbb.columns[0], url="http://bbb/", html="") is None


def test_hook_with_a_misspelt_name_is_refused_and_named(tmp_path):
    write(tmp_path, "aaa.toml", SITE.format(code="aaa"))
    write(tmp_path, "typo.py", """
        from plugins import hookimpl

        @hookimpl
        def process_artcle(site, article, page):
            return None
    """)
    registry = build_registry([tmp_path], include_builtin=False)
    assert "aaa" in registry.sites
    (error,) = registry.errors
    assert "typo.py" in str(error) and "process_artcle" in str(error)


def test_python_module_that_fails_to_import_is_reported(tmp_path):
    write(tmp_path, "aaa.toml", SITE.format(code="aaa"))
    write(tmp_path, "broken.py", "import does_not_exist_anywhere\n")
    registry = build_registry([tmp_path], include_builtin=False)
    assert list(registry.sites) == ["aaa"]
    assert "broken.py" in str(registry.errors[0]) and "does_not_exist_anywhere" in str(registry.errors[0])


def test_duplicate_site_code_names_both_sources(tmp_path):
    first = write(tmp_path, "a.toml", SITE.format(code="dup"))
    second = write(tmp_path, "b.toml", SITE.format(code="dup"))
    registry = build_registry([tmp_path], include_builtin=False)
    assert registry.get("dup").source == str(first)
    assert str(second) in str(registry.errors[0]) and str(first) in str(registry.errors[0])


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real installed distribution (dist-info on sys.path) with a blgw.plugins entry point."""
    package = tmp_path / "blgw_site_qzfb.py"
    package.write_text(textwrap.dedent('''
        from plugins import hookimpl
        from plugins.spec import SiteSpec

        @hookimpl
        def register_sites(register):
            register(SiteSpec.model_validate({
                "site": {"code": "qzfb", "name": "北仑区政府办", "base_url": "http://qzfb.bl.gov.cn/"},
                "list": {"item": "li"},
                "columns": [{"name": "通知公告", "url": "/tzgg/"}],
                "source": "blgw-site-qzfb",
            }))
    '''), encoding="utf-8")
    dist = tmp_path / "blgw_site_qzfb-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: blgw-site-qzfb\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[blgw.plugins]\nqzfb = blgw_site_qzfb\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("blgw_site_qzfb", None)


def test_entry_point_plugin_registers_its_site(installed_plugin):
    registry = build_registry([], include_builtin=False)
    assert registry.get("qzfb").name == "北仑区政府办"


def test_entry_point_filter_restricts_loading(installed_plugin):
    registry = build_registry([], include_builtin=False, entry_points_filter={"something-else"})
    assert "qzfb" not in registry.sites


def test_missing_plugin_folder_is_reported(tmp_path):
    registry = build_registry([tmp_path / "nope"], include_builtin=False)
    assert "does not exist" in str(registry.errors[0])


def test_process_item_adjusts_every_item_type_and_is_validated_again(tmp_path):
    """``process_item`` is called for a service guide (not only articles) of the sites its plugin
    serves; what it returns is validated as the same item type."""
    import datetime as dt

    from normalizers.models import SHANGHAI, ServiceGuide
    from normalizers.page import RawPage
    from plugins.runtime import normalize_for_site

    write(tmp_path, "mzj.toml", textwrap.dedent('''
        [site]
        code = "mzj"
        name = "北仑区民政局"
        base_url = "http://mzj.bl.gov.cn/"

        [list]
        item = "li"

        [[columns]]
        name = "办事指南"
        url = "/bszn/"
        path = ["网上服务", "办事指南"]
    '''))
    write(tmp_path, "mzj.py", textwrap.dedent('''
        from plugins import hookimpl

        @hookimpl
        def process_item(site, item, page):
            if item.item_type == "service_guide" and item.office and not item.office.phone:
                return item.model_copy(update={"office": item.office.model_copy(update={"phone": "0574-86788520"})})
            return None
    '''))
    registry = build_registry([tmp_path], include_builtin=False)
    assert not registry.errors, registry.errors
    site = registry.get("mzj")
    html = ("<html><head><meta charset='utf-8'><title>最低生活保障审批</title></head><body><h1>最低生活保障审批</h1>"
            "<table><tr><td>事项名称</td><td>最低生活保障审批</td></tr><tr><td>办理机构</td><td>区民政局</td></tr>"
            "<tr><td>受理条件</td><td>户籍在本区</td></tr><tr><td>办理时限</td><td>二十个工作日</td></tr>"
            "</table></body></html>").encode()
    page = RawPage(url="http://mzj.bl.gov.cn/bszn/1.html", body=html, fetched_at=dt.datetime(2024, 1, 1, tzinfo=SHANGHAI))
    item = normalize_for_site(registry, site, site.column("办事指南"), page, "http://mzj.bl.gov.cn/bszn/1.html").item
    assert isinstance(item, ServiceGuide) and item.office.phone == "0574-86788520"


def test_the_dedecms_preset_reads_the_default_list_template(tmp_path):
    """DedeCMS's default list_article.htm starts each entry with its column's link
    ([<b><a href='[field:typeurl/]'>栏目</a></b>]): the entry is the article's a.title (issue 18:
    the column's link was taken, and its name as the title)."""
    from spiders.testing import read_saved_list

    write(tmp_path, "kx.toml", textwrap.dedent('''
        [site]
        code = "kx"
        name = "北仑区科协"
        base_url = "http://kx.bl.gov.cn/"
        platform = "dedecms"

        [[columns]]
        name = "通知公告"
        url = "/a/tzgg/"
    '''))
    registry = build_registry([tmp_path], include_builtin=False)
    assert not registry.errors, registry.errors
    page = ("<html><head><meta charset='utf-8'></head><body><div class='listbox'><ul class='e2'>"
            "<li>[<b><a href='/a/tzgg/'>通知公告</a></b>] <a href='/a/tzgg/2024/0305/73.html' class='title'>"
            "关于开展2024年科普日活动的通知</a><span class='info'><small>日期：</small>2024-03-05</span></li>"
            "<li>[<b><a href='/a/tzgg/'>通知公告</a></b>] <a href='/a/tzgg/2024/0301/72.html' class='title'>"
            "北仑区科协2024年工作要点</a><span class='info'><small>日期：</small>2024-03-01</span></li>"
            "</ul></div><div class='dede_pages'><ul><li><a href='list_1_2.html'>下一页</a></li></ul></div>"
            "</body></html>").encode()
    result = read_saved_list(registry, "kx", "通知公告", page, "http://kx.bl.gov.cn/a/tzgg/")
    assert [(e.url, e.title) for e in result.entries] == [
        ("http://kx.bl.gov.cn/a/tzgg/2024/0305/73.html", "关于开展2024年科普日活动的通知"),
        ("http://kx.bl.gov.cn/a/tzgg/2024/0301/72.html", "北仑区科协2024年工作要点")]
    assert result.next_pages == ["http://kx.bl.gov.cn/a/tzgg/list_1_2.html"]
