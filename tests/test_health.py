"""Site health (检查指标) on a fixed clock: for each indicator a site that passes and one that fails,
with the evidence named; working days on the PRC holiday calendar; ``blgw health`` exits 1 on a
veto.  The items are stored as a crawl stores them (``upsert_article`` with their listing), on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import pytest
from conftest import BLGW, WORKDIR
from sqlalchemy import update

from gateway.ops.health import (
    SHANGHAI,
    Thresholds,
    column_window,
    guide_missing,
    identity_marks,
    site_health,
    snapshot_due,
    working_days_between,
)
from gateway.store.links import due_link_targets, record_links, save_link_checks
from gateway.store.models import HealthSnapshot, Probe, ProbeRound
from gateway.store.repository import upsert_article, upsert_site
from normalizers.models import Article, Category, Letter, ServiceGuide, document_id
from plugins.declarative import parse_site_toml

AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


def _plugin(code: str, columns: list[tuple[str, str, int | None]]) -> str:
    lines = [f'[site]\ncode = "{code}"\nname = "{code}测试站"\nbase_url = "http://{code}.bl.gov.cn/"\n',
             '[list]\nitem = "li"\n\n[detail]\ntitle = "h1"\nbody = "div.content"\n']
    for name, url, days in columns:
        lines.append(f'[[columns]]\nname = "{name}"\nurl = "{url}"\n' + (f"update_days = {days}\n" if days else ""))
    return "\n".join(lines)


def _base(code: str, column: str, path: str, category: Category) -> dict:
    url = f"http://{code}.bl.gov.cn{path}"
    return {"id": document_id(url), "site_code": code, "column_path": [category.value, column], "category": category,
            "source_url": url, "fetched_at": AT}


def _article(code: str, column: str, n: int, age_days: float | None) -> Article:
    published = None if age_days is None else AT - dt.timedelta(days=age_days)
    return Article(**_base(code, column, f"/{column}/{n}.html", Category.GOVERNMENT_INFORMATION),
                   title=f"{column}第{n}篇", published_at=published, body_text="正文。", body_html="<p>正文。</p>")


def _letter(code: str, n: int, asked: dt.datetime, replied: dt.datetime | None) -> Letter:
    return Letter(**_base(code, "咨询信箱", f"/xx/{n}.html", Category.INTERACTION), title=f"咨询第{n}件",
                  asked_at=asked, question="请问如何办理？", reply="已答复。" if replied else None, replied_at=replied)


COMPLETE_GUIDE = {"name": "最低生活保障申请", "legal_basis": ["《社会救助暂行办法》"], "conditions": "本区户籍",
                  "materials": [{"name": "身份证"}], "office": {"name": "区民政局", "address": "新碶街道",
                                                               "hours": "工作日 8:30-17:00", "phone": "0574-86788520"},
                  "fee": {"charged": False}, "procedure": ["申请", "审核", "审批"]}


def _guide(code: str, n: int, complete: bool) -> ServiceGuide:
    fields = COMPLETE_GUIDE if complete else {"name": f"事项{n}", "conditions": "本区户籍"}
    return ServiceGuide(**_base(code, "办事指南", f"/bszn/{n}.html", Category.ONLINE_SERVICES), **fields)


def _probes(session, code: str, failed: int, total: int = 30) -> None:
    """``total`` probe rounds of the site's home page over the last week, the first ``failed`` failed."""
    for n in range(total):
        when = AT - dt.timedelta(hours=5 * n + 1)
        r = ProbeRound(started_at=when, control_ok=True)
        session.add(r)
        session.flush()
        session.add(Probe(round_id=r.id, site_code=code, url=f"http://{code}.bl.gov.cn/", at=when, ok=n >= failed,
                          error=None if n >= failed else "no answer within 15 s"))


def _links(session, code: str, broken: int, ok: int = 2) -> None:
    """The home page links ``broken`` dead pages and ``ok`` live ones, as the link checker found."""
    home = f"http://{code}.bl.gov.cn/"
    urls = [f"{home}dead/{n}.html" for n in range(broken)] + [f"{home}live/{n}.html" for n in range(ok)]
    record_links(session, code, home, urls, seen_at=AT)
    session.flush()
    rows = []
    for due in due_link_targets(session, [code], now=AT, recheck_after=dt.timedelta(hours=24),
                                 only_unchecked=False, limit=100):
        dead = "/dead/" in due.url
        rows.append({"id": due.id, "status": 404 if dead else 200, "ok": not dead, "error": None,
                     "final_url": due.url, "method": "HEAD", "checked_at": AT, "failures": int(dead),
                     "skip_kind": None, "skip_reason": None, "skipped_at": None})
    assert len(rows) == broken + ok
    save_link_checks(session, rows)


FOOTER = ("<div class='footer'>主办：北仑区测试局 网站标识码：3302060023 "
          "<a href='https://beian.miit.gov.cn/'>浙ICP备05012345号-1</a> "
          "<a href='http://www.beian.gov.cn/'>浙公网安备 33020602000123号</a> "
          "<span id='_span_jiucuo'></span><script src='https://dcs.conac.cn/js/13/000/0000/60429971/CA130000000604299710002.js'>"
          "</script></div>")


def _raw(code: str, n: int) -> bytes:
    footer = FOOTER
    if code == "hfa":  # some pages without the marks, one with another ICP number
        footer = "" if n % 3 == 0 else FOOTER.replace("05012345号-1", "05099999号") if n == 1 else FOOTER
    return f"<html><head><meta charset='utf-8'></head><body><h1>页{n}</h1>{footer}</body></html>".encode()


def _store(session, code: str, items) -> None:
    upsert_site(session, code=code, name=f"{code}测试站", base_url=f"http://{code}.bl.gov.cn/", platform="generic",
                plugin_source=f"{code}.toml")
    for n, item in enumerate(items):
        upsert_article(session, item, fetch_url=str(item.source_url), raw_body=_raw(code, n),
                       content_type="text/html", http_status=200, run_id=None, seen_at=AT,
                       listed_in=(item.column_path[-1], None))


PASSING = ("hpa", [("工作动态", "/gzdt/", None), ("通知公告", "/tzgg/", None), ("政策文件", "/zcwj/", None),
                   ("领导讲话", "/ldjh/", None), ("部门动态", "/bmdt/", 30)])
FAILING = ("hfa", [*[(f"{n}动态", f"/dt{n}/", None) for n in "一二三四五"], ("通知公告", "/tzgg/", None),
                   *[(f"专题{n}", f"/zt{n}/", None) for n in range(1, 6)]])


def _passing_items():
    code = PASSING[0]
    return [_article(code, "工作动态", 1, 3), _article(code, "工作动态", 2, 40), _article(code, "通知公告", 1, 100),
            _article(code, "政策文件", 1, 150), _article(code, "领导讲话", 1, 300), _article(code, "部门动态", 1, 20),
            # answered within 2 working days (a Friday, answered the Tuesday after)
            _letter(code, 1, dt.datetime(2026, 11, 20, 9, tzinfo=SHANGHAI), dt.datetime(2026, 11, 24, 9, tzinfo=SHANGHAI)),
            _letter(code, 2, dt.datetime(2026, 11, 25, 9, tzinfo=SHANGHAI), dt.datetime(2026, 11, 26, 9, tzinfo=SHANGHAI)),
            # older than a year and never answered: outside the indicator's year
            _letter(code, 3, AT - dt.timedelta(days=400), None),
            _guide(code, 1, True)]


def _failing_items():
    code = FAILING[0]
    items = [_article(code, f"{n}动态", 1, 20) for n in "一二三四"]  # past 14 days
    items.append(_article(code, "五动态", 1, None))  # undated: counts as not updated
    items.append(_article(code, "通知公告", 1, 200))  # past 183 days
    items += [_letter(code, 1, AT - dt.timedelta(days=120), None),  # unanswered over 3 months: veto
              _letter(code, 2, dt.datetime(2026, 9, 28, 9, tzinfo=SHANGHAI), dt.datetime(2026, 10, 12, 9, tzinfo=SHANGHAI))]
    items += [_guide(code, n, False) for n in range(1, 7)]
    return items


@pytest.fixture
def any_store_url(store_url_any):
    return store_url_any


@pytest.fixture
def stored(any_store_url, tmp_path):
    from gateway.store.session import Store

    store = Store(any_store_url)
    store.migrate()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    specs = {}
    for (code, columns), items in ((PASSING, _passing_items()), (FAILING, _failing_items())):
        text = _plugin(code, columns)
        (plugins / f"{code}.toml").write_text(text, encoding="utf-8")
        specs[code] = parse_site_toml(text, source=f"{code}.toml")
        with store.session() as session, session.begin():
            _store(session, code, items)
            _probes(session, code, failed=0 if code == "hpa" else 3)
            _links(session, code, broken=0 if code == "hpa" else 6)
    yield store, specs, plugins
    store.dispose()


def _card(stored, code):
    store, specs, _ = stored
    with store.session() as session:
        health = site_health(session, specs[code], AT)
    return health, {i.key: i for i in health.indicators}


def test_a_site_that_keeps_up_passes_every_indicator(stored):
    health, by_key = _card(stored, "hpa")
    assert {k: i.status for k, i in by_key.items()} == {
        "availability": "pass", "home_update": "pass", "stale_key_columns": "pass", "stale_columns": "pass", "blank_columns": "pass",
        "letters": "pass", "guides": "pass", "links": "pass", "outbound": "pass", "identity": "pass"}
    assert health.status == "pass"
    assert by_key["home_update"].value == 3.0
    assert "2 answered (100%)" in by_key["letters"].summary  # the letter of 400 days ago is outside the year
    assert "median 1.5 / p90 2 working days" in by_key["letters"].summary


def test_a_site_that_does_not_fails_each_indicator_with_its_evidence(stored):
    health, by_key = _card(stored, "hfa")
    assert health.status == "veto"
    availability = by_key["availability"]
    assert (availability.status, availability.value, len(availability.evidence)) == ("veto", 0.1, 3)
    home = by_key["home_update"]
    assert (home.status, home.value) == ("veto", 20.0)
    stale = by_key["stale_key_columns"]
    assert (stale.status, stale.value) == ("veto", 6)
    assert any(e.startswith("五动态") and "none dated" in e for e in stale.evidence)
    assert any(e.startswith("通知公告 (notice_policy, window 183 d)") for e in stale.evidence)
    assert by_key["stale_columns"].value == 6 and by_key["stale_columns"].status == "warn"  # 6 < 10
    blank = by_key["blank_columns"]
    assert (blank.status, blank.value) == ("veto", 5)
    assert sorted(e.split(" ")[0] for e in blank.evidence) == [f"专题{n}" for n in range(1, 6)]
    letters = by_key["letters"]
    assert letters.status == "veto" and letters.value == 1
    assert any("unanswered for 120 d" in e and "/xx/1.html" in e for e in letters.evidence)
    # 2026-09-28 → 10-12 across the National Day holiday: far fewer working days than calendar days
    past = [e for e in letters.evidence if "/xx/2.html" in e]
    days, _ = working_days_between(dt.date(2026, 9, 28), dt.date(2026, 10, 12))
    assert past and f"{days} working day(s)" in past[0] and 5 < days < 14
    guides = by_key["guides"]
    assert (guides.status, guides.value) == ("veto", 6)
    links = by_key["links"]
    assert (links.status, links.value) == ("veto", 6)
    assert links.summary == "6 broken link(s) on the home page, 6 of 8 checked on the whole site"
    assert all("/dead/" in e and e.endswith("on the home page") for e in links.evidence)
    identity = by_key["identity"]
    assert identity.status == "warn"
    assert any(e.startswith("ICP 备案号: inconsistent, 浙ICP备05012345号-1 on") and "浙ICP备05099999号 on 1 page(s)" in e
               for e in identity.evidence)
    assert any(e.startswith("网站标识码: missing on 5 of 14 page(s)") for e in identity.evidence)
    assert all("设定依据" in e and "办理流程" in e for e in guides.evidence)


@pytest.mark.parametrize("html, marks", [
    (FOOTER, {"site_id": "3302060023", "icp": "浙ICP备05012345号-1", "police": "浙公网安备33020602000123号",
              "conac": "yes"}),
    ("网站标识码:3302060001 浙ICP 备 10000001 号 浙公网安备33020602000001号",
     {"site_id": "3302060001", "icp": "浙ICP备10000001号", "police": "浙公网安备33020602000001号", "conac": None}),
    ("<p>版权所有</p>", {"site_id": None, "icp": None, "police": None, "conac": None}),
    ("<p>党政机关网站标识</p><p>关于党政机关节能的通知</p>", {"site_id": None, "icp": None, "police": None, "conac": None}),
    ("<script>document.write(unescape(\"%3Cspan id='_ideConac' %3E%3C/span%3E\"));</script>",
     {"site_id": None, "icp": None, "police": None, "conac": "yes"}),
])
def test_the_footer_marks_are_read_in_their_usual_forms(html, marks):
    assert identity_marks(html) == marks


def test_a_site_outside_the_districts_domain_is_named():
    from gateway.ops.health import _identity_indicator  # the indicator alone, on an empty store

    class _Empty:
        def execute(self, _query):
            return type("R", (), {"all": lambda self: []})()

    spec = parse_site_toml(_plugin("ext", [("工作动态", "/gzdt/", None)]).replace("ext.bl.gov.cn", "www.example.org"),
                           source="ext.toml")
    indicator = _identity_indicator(_Empty(), spec, Thresholds())
    assert indicator.status == "warn"
    assert indicator.evidence[0] == "domain www.example.org is not of the pattern ○○○.bl.gov.cn"


def test_the_home_page_age_is_the_sites_newest_item_listed_or_not_and_never_a_future_date():
    from types import SimpleNamespace

    from gateway.ops.health import _update_indicators

    spec = parse_site_toml(_plugin("hom", [("工作动态", "/gzdt/", None)]), source="hom.toml")

    def doc(n: int, when: dt.datetime | None) -> SimpleNamespace:
        return SimpleNamespace(id=str(n), url=f"http://hom.bl.gov.cn/{n}.html",
                               item={"published_at": when.isoformat() if when else None})

    listed = {"工作动态": {"1"}}
    old, unlisted, typo = doc(1, AT - dt.timedelta(days=40)), doc(2, AT - dt.timedelta(days=2)), doc(3, AT.replace(year=2062))
    home = _update_indicators(spec, {"1": old, "2": unlisted}, listed, AT, Thresholds())[0]
    assert (home.key, home.status, home.value, home.evidence) == ("home_update", "pass", 2.0,
                                                                 [f"{(AT - dt.timedelta(days=2)).date()} {unlisted.url}"])
    home = _update_indicators(spec, {"1": old, "3": typo}, listed, AT, Thresholds())[0]
    assert (home.status, home.value) == ("veto", 40.0)  # the item dated 2062 makes nothing fresh
    column = _update_indicators(spec, {"1": typo}, {"工作动态": {"1"}}, AT, Thresholds())[1]
    assert column.value == 1 and "none dated" in column.evidence[0]  # its only date is past the evaluation


def test_a_columns_own_update_window_wins():
    t = Thresholds()
    assert column_window("部门动态", ["政务公开", "部门动态"], t) == ("dynamic", 14)
    assert column_window("部门动态", ["政务公开", "部门动态"], t, 30) == ("dynamic", 30)
    assert column_window("通知公告", ["政务公开", "通知公告"], t) == ("notice_policy", 183)
    assert column_window("规范性文件", ["政务公开"], t) == ("notice_policy", 183)
    assert column_window("领导讲话", ["政务公开"], Thresholds(default_days=90)) == ("other", 90)


@pytest.mark.parametrize("start, end, expected", [
    ((2024, 9, 27), (2024, 10, 8), 3),  # 9-29 (Sunday) a 调休 working day, Oct 1-7 off
    ((2024, 11, 29), (2024, 12, 6), 5),  # an ordinary week
    ((2024, 12, 6), (2024, 12, 6), 0),
])
def test_working_days_follow_the_holiday_calendar_and_its_adjusted_days(start, end, expected):
    assert working_days_between(dt.date(*start), dt.date(*end)) == (expected, True)


def test_a_year_without_a_holiday_notice_counts_weekdays_and_says_so():
    days, covered = working_days_between(dt.date(2031, 3, 3), dt.date(2031, 3, 10))
    assert (days, covered) == (5, False)


def test_a_guide_lists_the_key_elements_it_lacks():
    assert guide_missing(COMPLETE_GUIDE) == []
    lacking = guide_missing({"name": "x", "office": {"name": "区民政局"}, "fee": {"standard": "不收费"}})
    assert lacking == ["设定依据", "申请条件", "办理材料", "办理地点", "办理时间", "联系电话", "办理流程"]


def test_blgw_health_prints_the_score_cards_and_exits_1_on_a_veto(stored, any_store_url, tmp_path):
    _, _, plugins = stored
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins),
           "BLGW_DATABASE_URL": any_store_url}
    at = AT.isoformat()
    good = subprocess.run([*BLGW, "health", "hpa", "--at", at], cwd=WORKDIR, env=env, capture_output=True,
                          text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("hpa hpa测试站: PASS")
    both = subprocess.run([*BLGW, "health", "--at", at, "--xlsx", str(tmp_path / "health.xlsx"),
                           "--annual", str(tmp_path / "annual.xlsx"), "--year", "2026"], cwd=WORKDIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert both.returncode == 1, both.stderr
    assert "hfa hfa测试站: VETO" in both.stdout and "VETO  空白栏目: 5 blank column(s)" in both.stdout
    from openpyxl import load_workbook

    summary = list(load_workbook(tmp_path / "health.xlsx")["汇总"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3]) for r in summary] == [("hfa", "单项否决"), ("hpa", "合格")]
    annual = load_workbook(tmp_path / "annual.xlsx")["2026年度报表"]
    header, *rows = annual.iter_rows(values_only=True)
    hpa = dict(zip(header, rows[1], strict=True))
    assert (hpa["站点代码"], hpa["信息发布总数"], hpa["其他公开信息"], hpa["办事指南"]) == ("hpa", 6, 6, 1)
    # two letters of 2026 (the third is of 2025), both answered, in 2 and 1 working days
    assert (hpa["互动交流：收到留言"], hpa["互动交流：办结留言"], hpa["互动交流：平均办理时间（工作日）"]) == (2, 2, 1.5)
    assert hpa["站点可用率"] == 1.0
    hfa = dict(zip(header, rows[0], strict=True))
    assert (hfa["互动交流：收到留言"], hfa["互动交流：办结留言"], hfa["站点可用率"]) == (2, 1, 0.9)
    assert rows[2][0] == "合计" and rows[2][2] == hpa["信息发布总数"] + hfa["信息发布总数"]
    cards = json.loads(subprocess.run([*BLGW, "health", "--json", "--at", at], cwd=WORKDIR, env=env,
                                      capture_output=True, text=True, timeout=120).stdout)
    assert [(c["code"], c["status"]) for c in cards] == [("hfa", "veto"), ("hpa", "pass")]
    bad = subprocess.run([*BLGW, "health", "nosuch"], cwd=WORKDIR, env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "nosuch" in bad.stderr


def test_the_api_the_pages_and_the_xlsx_give_the_same_score_cards(stored, any_store_url, tmp_path):
    import io
    import warnings

    from openpyxl import load_workbook

    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    warnings.simplefilter("ignore")  # starlette's TestClient warns about httpx
    from fastapi.testclient import TestClient

    _, _, plugins = stored
    settings = GatewaySettings(data_dir=tmp_path / "data", database_url=any_store_url,
                               index_url=f"sqlite:///{tmp_path / 'index.sqlite'}", plugin_dirs=[plugins],
                               load_plugins=[])
    at = {"at": AT.isoformat()}
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/site-health", params=at).json()
        assert [(c["code"], c["status"]) for c in body["sites"]] == [("hfa", "veto"), ("hpa", "pass")]
        blank = next(r for r in body["rollup"]["indicators"] if r["key"] == "blank_columns")
        assert (blank["pass"], blank["veto"], blank["veto_sites"]) == (1, 1, ["hfa"])
        one = client.get("/api/site-health/hfa", params=at).json()
        assert one == body["sites"][0]
        assert client.get("/api/site-health/nosuch").status_code == 404
        page = client.get("/site-health", params=at)
        assert page.status_code == 200 and "<svg" in page.text and "hfa测试站" in page.text
        assert "单项否决" in page.text and "cdn" not in page.text.lower()
        site_page = client.get("/site-health/hfa", params=at).text
        assert "专题1 (/zt1/): no item" in site_page and "空白栏目" in site_page
        metrics = client.get("/metrics").text  # evaluated now: blank columns do not depend on the day
        assert 'blgw_site_health_status{indicator="blank_columns",site="hfa"} 2.0' in metrics
        assert 'blgw_site_health_status{indicator="blank_columns",site="hpa"} 0.0' in metrics
        assert 'blgw_site_health_value{indicator="guides",site="hfa"} 6.0' in metrics
        xlsx = client.get("/api/site-health.xlsx", params=at)
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["汇总", "指标明细", "证据"]
    rows = list(book["汇总"].iter_rows(values_only=True))
    assert rows[0][:4] == ("站点代码", "站点名称", "评估时间", "结论") and "空白栏目" in rows[0]
    assert [(r[0], r[3]) for r in rows[1:]] == [("hfa", "单项否决"), ("hpa", "合格")]
    details = {(r[0], r[2]): r for r in book["指标明细"].iter_rows(min_row=2, values_only=True)}
    assert details[("hfa", "blank_columns")][3:6] == (5, 5, "单项否决")
    assert details[("hpa", "letters")][5] == "合格"
    evidence = [r for r in book["证据"].iter_rows(min_row=2, values_only=True) if r[0] == "hfa"]
    assert any("/xx/1.html" in r[2] for r in evidence)


def test_recorded_snapshots_are_the_trend_in_the_api_and_the_page(stored, any_store_url, tmp_path):
    import warnings

    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    _, _, plugins = stored
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins),
           "BLGW_DATABASE_URL": any_store_url}
    for days in (2, 1, 1, 0):  # the day before yesterday, yesterday (twice: replaced), today
        day = (AT - dt.timedelta(days=days)).isoformat()
        out = subprocess.run([*BLGW, "health", "--record", "--at", day], cwd=WORKDIR, env=env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 1, out.stderr
    settings = GatewaySettings(data_dir=tmp_path / "data", database_url=any_store_url,
                               index_url=f"sqlite:///{tmp_path / 'index.sqlite'}", plugin_dirs=[plugins],
                               load_plugins=[])
    with TestClient(create_app(settings)) as client:
        card = client.get("/api/site-health/hfa", params={"at": AT.isoformat()}).json()
        blank = next(i for i in card["indicators"] if i["key"] == "blank_columns")
        assert [t["day"] for t in blank["trend"]] == ["2026-11-28", "2026-11-29", "2026-11-30"]
        assert {t["status"] for t in blank["trend"]} == {"veto"} and blank["trend"][0]["value"] == 5.0
        page = client.get("/site-health/hfa", params={"at": AT.isoformat()}).text
        assert page.count('<svg class="trend"') == len(card["indicators"])
        # a day before any record: no trend
        early = client.get("/api/site-health/hfa", params={"at": (AT - dt.timedelta(days=30)).isoformat()}).json()
        assert all(i["trend"] == [] for i in early["indicators"])
        # the gauges read each site's newest snapshot (the scheduler's hourly record), not the items
        from gateway.store.session import Store

        store = Store(any_store_url)
        try:
            with store.session() as session:
                session.execute(update(HealthSnapshot).where(HealthSnapshot.site_code == "hfa",
                                                             HealthSnapshot.indicator == "guides",
                                                             HealthSnapshot.day == AT.date().isoformat())
                                .values(value=99.0))
                session.commit()
            metrics = client.get("/metrics").text
            assert 'blgw_site_health_value{indicator="guides",site="hfa"} 99.0' in metrics
            assert 'blgw_site_health_status{indicator="blank_columns",site="hfa"} 2.0' in metrics
            age = next(line for line in metrics.splitlines()
                       if line.startswith('blgw_site_health_age_seconds{site="hfa"}'))
            assert 0 <= float(age.split()[-1]) < 600
            # due again an hour after the day's newest record (which it then replaces)
            with store.session() as session:
                assert not snapshot_due(session, AT)
                session.execute(update(HealthSnapshot).where(HealthSnapshot.day == AT.date().isoformat())
                                .values(recorded_at=AT - dt.timedelta(minutes=61)))
                session.commit()
                assert snapshot_due(session, AT)
                assert not snapshot_due(session, AT, every=dt.timedelta(hours=2))
        finally:
            store.dispose()
