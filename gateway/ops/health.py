"""Site health (检查指标): the national inspection indicators computed from what the store holds.

国办秘函〔2019〕19号 (政府网站与政务新媒体检查指标) makes some indicators veto items (单项否决):
a site failing one is 不合格.  This module computes, per site, from the stored items and the
plugin's columns (no request to the site):

- 栏目不更新 / 首页不更新: each list column's newest publish date against its update window
  (动态/要闻 14 days, 通知公告/政策文件 183 days, others a configurable default, a column's
  ``update_days`` in the plugin overriding); an undated item counts as not updated;
- 空白栏目: list columns with no item;
- 互动回应: letters of the last year unanswered for more than 90 days (veto), the reply time in
  working days on the PRC holiday calendar (:mod:`chinese_calendar`, which has the State
  Council's yearly holiday and 调休 working-day notices), the reply rate, the median and 90th
  percentile, and the letters past a local rule (default 5 working days);
- 站点无法访问: the share of failed availability probes (:mod:`gateway.ops.probes`) over the
  last week, a veto at 5 %;
- 链接可用性: broken links on the home page (a veto at 5) and on the whole site, from the
  dead-link checker's last results;
- 外链变异: outbound links whose page now holds gambling, adult or parked content (a veto) or
  whose final host changed since an earlier check, from the link checker;
- 网站标识: the footer's 网站标识码, ICP 备案号, 公安机关备案号 and 党政机关网站标识 present and the
  same on the most recently seen pages, and the domain of the pattern ○○○.bl.gov.cn (a warning:
  the indicators score these, they are no veto);
- 服务不实用: each 办事指南 checked for its key elements; a guide missing 4 or more is
  incomplete, and more than 5 incomplete guides are a veto.

Every indicator carries its value, threshold, status (pass / warn / veto) and evidence (the
columns or URLs behind it).  The thresholds are :class:`Thresholds`; the evaluation time is a
parameter, so tests run on a fixed clock.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import chinese_calendar
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.ops.probes import availability_share
from gateway.store.links import dead_link_report
from gateway.store.models import Document, DocumentListing, HealthSnapshot, LinkSource, LinkTarget
from normalizers.encoding import decode_html
from normalizers.models import SHANGHAI, ArticleKind
from plugins.spec import SiteSpec

__all__ = [
    "ANNUAL_COLUMNS",
    "STATUS_ZH",
    "Indicator",
    "SiteHealth",
    "Thresholds",
    "annual_counts",
    "annual_workbook",
    "column_window",
    "format_health",
    "guide_missing",
    "health_workbook",
    "identity_marks",
    "rollup",
    "site_health",
    "working_days_between",
]

Status = Literal["pass", "warn", "veto"]

# the indicator's column kinds, read from the column's name (or its path's last names)
_DYNAMIC = re.compile(r"动态|要闻|新闻|资讯|工作信息|图片报道|时政")
_NOTICE_POLICY = re.compile(r"通知|公告|公示|政策|文件|法规|规章|规范性")


@dataclass(frozen=True)
class Thresholds:
    """What the indicators are measured against (the 检查指标's values by default)."""

    dynamic_days: int = 14  # 动态、要闻类栏目: 2 weeks
    notice_policy_days: int = 183  # 通知公告、政策文件类栏目: 6 months
    default_days: int = 365  # other list columns (configurable)
    stale_key_columns: int = 5  # veto when this many 动态/通知/政策 columns are stale
    stale_columns: int = 10  # veto when this many columns that should update are stale
    blank_columns: int = 5  # veto when this many columns are blank
    home_days: int = 14  # 首页: the newest item at most 2 weeks old
    unanswered_days: int = 90  # a letter unanswered for over 3 months (within the last year) is a veto
    letter_year_days: int = 365
    reply_rule_working_days: int = 5  # the local rule (e.g. 5 working days); past it: warn
    guide_missing_elements: int = 4  # a guide missing this many key elements is incomplete
    incomplete_guides: int = 6  # veto when this many guides are incomplete (more than 5)
    availability_days: float = 7  # 站点无法访问: the share of failed probes over a week
    availability_veto_share: float = 0.05  # veto at 5 %
    home_broken_links: int = 5  # 链接可用性: veto at this many broken links on the home page
    identity_pages: int = 30  # 网站标识: the most recently seen stored pages read for the footer marks
    domain_suffix: str = ".bl.gov.cn"  # the district's domain pattern (○○○.bl.gov.cn)


@dataclass
class Indicator:
    key: str
    name: str
    value: float | int | None
    threshold: float | int | None
    status: Status
    summary: str
    evidence: list[str] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)  # recorded days (attach_trend)


@dataclass
class SiteHealth:
    code: str
    name: str
    at: str
    indicators: list[Indicator]

    @property
    def status(self) -> Status:
        statuses = {i.status for i in self.indicators}
        return "veto" if "veto" in statuses else "warn" if "warn" in statuses else "pass"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "at": self.at, "status": self.status,
                "indicators": [asdict(i) for i in self.indicators]}


def column_window(name: str, path: Sequence[str], thresholds: Thresholds, override: int | None = None,
                  ) -> tuple[str, int]:
    """The column's kind for the update indicator (dynamic / notice_policy / other) and its
    update window in days; ``override`` (the plugin's ``update_days``) wins."""
    text = " ".join([*path[-2:], name])
    if _NOTICE_POLICY.search(name) or (not _DYNAMIC.search(name) and _NOTICE_POLICY.search(text)):
        kind, days = "notice_policy", thresholds.notice_policy_days
    elif _DYNAMIC.search(text):
        kind, days = "dynamic", thresholds.dynamic_days
    else:
        kind, days = "other", thresholds.default_days
    return kind, override if override is not None else days


def working_days_between(start: dt.date, end: dt.date) -> tuple[int, bool]:
    """Working days after ``start`` up to and including ``end`` on the PRC calendar (holidays off,
    调休 weekend working days on), and whether the holiday calendar covered every year (outside
    it, Monday to Friday are counted)."""
    if end <= start:
        return 0, True
    first = start + dt.timedelta(days=1)
    try:
        return len(chinese_calendar.get_workdays(first, end)), True
    except NotImplementedError:  # a year the package has no notice for yet
        days, day = 0, first
        while day <= end:
            try:
                days += chinese_calendar.is_workday(day)
            except NotImplementedError:
                days += day.weekday() < 5
            day += dt.timedelta(days=1)
        return days, False


# 服务不实用: the key elements of a 办事指南, with how each is read from the stored item
GUIDE_ELEMENTS: dict[str, Any] = {
    "设定依据": lambda g: g.get("legal_basis"),
    "申请条件": lambda g: g.get("conditions"),
    "办理材料": lambda g: g.get("materials"),
    "办理地点": lambda g: (g.get("office") or {}).get("address"),
    "办理机构": lambda g: (g.get("office") or {}).get("name"),
    "收费标准": lambda g: (g.get("fee") or {}).get("standard") or (g.get("fee") or {}).get("charged") is not None,
    "办理时间": lambda g: (g.get("office") or {}).get("hours"),
    "联系电话": lambda g: g.get("consult_phone") or (g.get("office") or {}).get("phone"),
    "办理流程": lambda g: g.get("procedure") or g.get("flowchart_url"),
}


def guide_missing(item: dict[str, Any]) -> list[str]:
    """The key elements (besides 事项名称, which every stored guide has) a stored guide lacks."""
    return [name for name, read in GUIDE_ELEMENTS.items() if not read(item)]


def aware(when: dt.datetime) -> dt.datetime:
    """A time without an offset is Asia/Shanghai's (an evaluation time, a stored item's date)."""
    return when if when.tzinfo else when.replace(tzinfo=SHANGHAI)


def _when(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return aware(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _status(value: int, veto_at: int, *, warn_at: int | None = None) -> Status:
    if value >= veto_at:
        return "veto"
    return "warn" if warn_at is not None and value >= warn_at else "pass"


def _percentile(values: list[int], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))  # nearest rank
    return float(ordered[rank])


def site_health(session: Session, spec: SiteSpec, at: dt.datetime,
                thresholds: Thresholds = Thresholds()) -> SiteHealth:
    """The score card of one site at ``at`` (aware), from its active stored items."""
    docs = session.execute(select(Document.id, Document.url, Document.column, Document.item)
                           .where(Document.site_code == spec.code, Document.status == "active")).all()
    listed: dict[str, set[str]] = {}
    for doc_id, column in session.execute(select(DocumentListing.document_id, DocumentListing.column)
                                          .where(DocumentListing.site_code == spec.code)):
        listed.setdefault(column, set()).add(doc_id)
    by_id = {d.id: d for d in docs}
    for d in docs:
        if d.column:
            listed.setdefault(d.column, set()).add(d.id)
    indicators = [_availability_indicator(session, spec.code, at, thresholds),
                  *_update_indicators(spec, by_id, listed, at, thresholds),
                  _letters_indicator([d for d in docs if (d.item or {}).get("item_type") == "letter"], at, thresholds),
                  _guides_indicator([d for d in docs if (d.item or {}).get("item_type") == "service_guide"],
                                    thresholds),
                  _links_indicator(session, spec, thresholds),
                  _outbound_indicator(session, spec.code),
                  _identity_indicator(session, spec, thresholds)]
    return SiteHealth(spec.code, spec.site.name, at.astimezone(SHANGHAI).isoformat(), indicators)


def _availability_indicator(session: Session, code: str, at: dt.datetime, thresholds: Thresholds) -> Indicator:
    failed, total, evidence = availability_share(session, code, at, thresholds.availability_days)
    share = failed / total if total else None
    if share is None:
        status: Status = "warn"
        summary = f"no probe in the last {thresholds.availability_days:g} days (`blgw probe`, `blgw scheduler`)"
    else:
        status = "veto" if share >= thresholds.availability_veto_share else "warn" if failed else "pass"
        summary = f"{failed} of {total} probe(s) failed in {thresholds.availability_days:g} days ({share:.1%})"
    return Indicator("availability", "站点无法访问", None if share is None else round(share, 4),
                     thresholds.availability_veto_share, status, summary, evidence)


def _update_indicators(spec: SiteSpec, by_id: dict[str, Any], listed: dict[str, set[str]], at: dt.datetime,
                       thresholds: Thresholds) -> list[Indicator]:
    stale_key, stale_any, blank = [], [], []
    horizon = at + dt.timedelta(days=1)  # a date past the evaluation (a typo, or a later item) makes nothing fresh
    # 首页不更新: the site's newest dated item, listed in a column or not (its home page shows the newest)
    newest_all = [(w, d.url) for d in by_id.values()
                  if (w := _when((d.item or {}).get("published_at"))) is not None and w <= horizon]
    for column in spec.columns:
        if column.layout == "page" or column.classification.item_type != "article":
            continue
        items = [by_id[i] for i in listed.get(column.name, ()) if i in by_id]
        kind, days = column_window(column.name, column.column_path, thresholds, column.update_days)
        if not items:
            blank.append(f"{column.name} ({column.url}): no item")
            continue
        dated = [(w, d.url) for d in items
                 if (w := _when((d.item or {}).get("published_at"))) is not None and w <= horizon]
        newest = max(dated, default=None)
        age = (at - newest[0]).total_seconds() / 86400 if newest else None
        if age is None or age > days:
            line = (f"{column.name} ({kind}, window {days} d): "
                    + (f"newest {newest[0].date()} ({age:.0f} d) {newest[1]}" if newest and age is not None
                       else f"{len(items)} item(s), none dated"))
            stale_any.append(line)
            if kind != "other":
                stale_key.append(line)
    newest = max(newest_all, default=None)
    home_age = (at - newest[0]).total_seconds() / 86400 if newest else None
    return [
        Indicator("home_update", "首页不更新", None if home_age is None else round(home_age, 1), thresholds.home_days,
                  "veto" if home_age is None or home_age > thresholds.home_days else "pass",
                  "the site's newest item is "
                  + ("undated or missing" if home_age is None else f"{home_age:.0f} day(s) old"),
                  [f"{newest[0].date()} {newest[1]}"] if newest else []),
        Indicator("stale_key_columns", "栏目不更新（动态要闻 2 周、通知公告政策文件 6 个月）", len(stale_key),
                  thresholds.stale_key_columns, _status(len(stale_key), thresholds.stale_key_columns, warn_at=1),
                  f"{len(stale_key)} 动态/通知/政策 column(s) past their window", stale_key),
        Indicator("stale_columns", "栏目不更新（应更新未更新）", len(stale_any), thresholds.stale_columns,
                  _status(len(stale_any), thresholds.stale_columns, warn_at=1),
                  f"{len(stale_any)} column(s) past their window", stale_any),
        Indicator("blank_columns", "空白栏目", len(blank), thresholds.blank_columns,
                  _status(len(blank), thresholds.blank_columns, warn_at=1), f"{len(blank)} blank column(s)", blank),
    ]


def _letters_indicator(letters: Iterable[Any], at: dt.datetime, thresholds: Thresholds) -> Indicator:
    since = at - dt.timedelta(days=thresholds.letter_year_days)
    unanswered, past_rule, days, total, answered, uncovered = [], [], [], 0, 0, False
    for d in letters:
        item = d.item or {}
        asked = _when(item.get("asked_at"))
        if asked is None or asked < since or asked > at:
            continue
        total += 1
        replied = _when(item.get("replied_at"))
        if replied is None and not item.get("reply"):
            waited = (at - asked).total_seconds() / 86400
            if waited > thresholds.unanswered_days:
                unanswered.append(f"{asked.date()} unanswered for {waited:.0f} d: {d.url}")
            continue
        answered += 1
        if replied is None:
            continue  # a reply without its date: answered, time unknown
        n, covered = working_days_between(asked.astimezone(SHANGHAI).date(), replied.astimezone(SHANGHAI).date())
        uncovered |= not covered
        days.append(n)
        if n > thresholds.reply_rule_working_days:
            past_rule.append(f"{asked.date()} → {replied.date()}: {n} working day(s): {d.url}")
    median = statistics.median(days) if days else None
    p90 = _percentile(days, 0.9)
    rate = answered / total if total else None
    summary = (f"{total} letter(s) in the last year, {answered} answered"
               + (f" ({rate:.0%})" if rate is not None else "")
               + (f", reply median {median:g} / p90 {p90:g} working days" if median is not None and p90 is not None
                  else "")
               + f", {len(past_rule)} past the local rule of {thresholds.reply_rule_working_days} working days"
               + (" (years without a holiday notice counted Monday to Friday)" if uncovered else ""))
    status: Status = "veto" if unanswered else "warn" if past_rule else "pass"
    return Indicator("letters", "互动回应", len(unanswered), 1, status, summary, unanswered + past_rule)


def _guides_indicator(guides: Iterable[Any], thresholds: Thresholds) -> Indicator:
    incomplete, evidence, count = 0, [], 0
    for d in guides:
        count += 1
        missing = guide_missing(d.item or {})
        if missing:
            evidence.append(f"{(d.item or {}).get('name') or d.url}: missing {'、'.join(missing)} ({d.url})")
        if len(missing) >= thresholds.guide_missing_elements:
            incomplete += 1
    status: Status = _status(incomplete, thresholds.incomplete_guides, warn_at=1)
    return Indicator("guides", "服务不实用（办事指南要素缺失）", incomplete, thresholds.incomplete_guides, status,
                     f"{count} guide(s), {incomplete} missing {thresholds.guide_missing_elements} or more key elements",
                     evidence)


def _links_indicator(session: Session, spec: SiteSpec, thresholds: Thresholds) -> Indicator:
    report = dead_link_report(session, spec.code)
    base = spec.site.base_url
    homes = {base, base.rstrip("/"), *(urljoin(base, n) for n in ("index.html", "index.htm", "index.shtml",
                                                                    "index.asp", "index.aspx", "index.php",
                                                                    "default.aspx", "default.asp"))}
    home_broken = [b for b in report["broken"] if any(p["url"] in homes for p in b["pages"])]
    evidence = [f"{b['url']} ({b.get('error') or b.get('status')}) on the home page" for b in home_broken]
    evidence += [f"{b['url']} ({b.get('error') or b.get('status')}) on {len(b['pages'])} page(s), e.g. "
                 f"{b['pages'][0]['url'] if b['pages'] else '?'}" for b in report["broken"] if b not in home_broken]
    status: Status = ("veto" if len(home_broken) >= thresholds.home_broken_links
                      else "warn" if report["broken_count"] else "pass")
    if not report["checked"]:
        status = "warn"
    summary = (f"{len(home_broken)} broken link(s) on the home page, {report['broken_count']} of "
               f"{report['checked']} checked on the whole site" if report["checked"]
               else "no link checked yet (`blgw links check`)")
    return Indicator("links", "链接可用性", len(home_broken), thresholds.home_broken_links, status, summary, evidence)


_FLAG_ZH = {"gambling": "赌博", "adult": "色情", "parked": "域名停放/出售"}


def _outbound_indicator(session: Session, code: str) -> Indicator:
    """外链变异: outbound links whose page now holds gambling, adult or parked content (veto),
    or whose final host changed since an earlier check and is not the link's own (warning), with
    the pages linking them."""
    rows = session.execute(
        select(LinkTarget.url, LinkTarget.final_url, LinkTarget.content_flag, LinkTarget.content_words,
               LinkTarget.previous_final_url, LinkSource.source_url)
        .join(LinkSource, LinkSource.target_id == LinkTarget.id)
        .where(LinkSource.site_code == code,
               (LinkTarget.content_flag.is_not(None)) | (LinkTarget.previous_final_url.is_not(None)))
        .order_by(LinkTarget.url, LinkSource.source_url)).all()
    found: dict[str, dict[str, Any]] = {}
    for url, final, flag, words, previous, page in rows:
        if previous and not flag and urlsplit(final or url).hostname == urlsplit(url).hostname:
            continue  # it ended elsewhere once, and ends at its own host again
        entry = found.setdefault(url, {"final": final, "flag": flag, "words": words, "previous": previous,
                                       "pages": []})
        entry["pages"].append(page)
    evidence, flagged = [], 0
    for url, e in found.items():
        what = []
        if e["flag"]:
            flagged += 1
            what.append(f"{_FLAG_ZH.get(e['flag'], e['flag'])} ({e['words']})")
        if e["previous"]:
            what.append(f"ended at {e['previous']} before, now at {e['final']}")
        evidence.append(f"{url}: {'; '.join(what)}; linked from {len(e['pages'])} page(s), e.g. {e['pages'][0]}")
    status: Status = "veto" if flagged else "warn" if found else "pass"
    return Indicator("outbound", "外链变异", flagged, 1, status,
                     f"{flagged} outbound link(s) to gambling, adult or parked pages, "
                     f"{len(found) - flagged} moved to another host", evidence)


# the footer's marks (国办发〔2017〕47号 网站标识码; ICP 备案; 公安机关备案; 党政机关网站标识 by CONAC)
_SITE_ID = re.compile(r"网站标识码\s*[：:]?\s*([0-9A-Za-z]{10})")
_ICP = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])\s*ICP\s*备\s*(\d{6,10})\s*号(?:\s*-\s*(\d+))?")
_POLICE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])\s*公网安备\s*(\d{14})\s*号?")
# CONAC's seal is its script (dcs.conac.cn, written into span#_ideConac) or a link to bszs.conac.cn;
# the words 党政机关 on a page are no seal
_CONAC = re.compile(r"\bconac\.cn\b|_ideConac", re.I)


def identity_marks(text: str) -> dict[str, str | None]:
    """The identity marks of one page's HTML: 网站标识码, ICP 备案号, 公安机关备案号, and whether the
    党政机关网站标识 (CONAC's seal, a script or link to conac.cn) is there."""
    site_id = _SITE_ID.search(text)
    icp = _ICP.search(text)
    police = _POLICE.search(text)
    return {"site_id": site_id.group(1) if site_id else None,
            "icp": f"{icp.group(1)}ICP备{icp.group(2)}号" + (f"-{icp.group(3)}" if icp.group(3) else "") if icp else None,
            "police": f"{police.group(1)}公网安备{police.group(2)}号" if police else None,
            "conac": "yes" if _CONAC.search(text) else None}


_MARK_NAMES = {"site_id": "网站标识码", "icp": "ICP 备案号", "police": "公安机关备案号", "conac": "党政机关网站标识"}


def _identity_indicator(session: Session, spec: SiteSpec, thresholds: Thresholds) -> Indicator:
    rows = session.execute(select(Document.url, Document.raw_page, Document.raw_content_type)
                           .where(Document.site_code == spec.code, Document.status == "active")
                           .order_by(Document.last_seen_at.desc()).limit(thresholds.identity_pages)).all()
    seen: dict[str, dict[str, list[str]]] = {k: {} for k in _MARK_NAMES}
    for url, raw, content_type in rows:
        try:
            text = decode_html(zlib.decompress(raw), content_type).text
        except zlib.error:
            continue
        for key, value in identity_marks(text).items():
            seen[key].setdefault(value or "", []).append(url)
    evidence, problems = [], 0
    host = urlsplit(spec.site.base_url).hostname or ""
    if not host.endswith(thresholds.domain_suffix):
        problems += 1
        evidence.append(f"domain {host} is not of the pattern ○○○{thresholds.domain_suffix}")
    for key, name in _MARK_NAMES.items():
        values = {v: urls for v, urls in seen[key].items() if v}
        missing = seen[key].get("", [])
        if not values:
            problems += 1
            evidence.append(f"{name}: on none of {len(rows)} page(s) read")
            continue
        if len(values) > 1:
            problems += 1
            evidence.append(f"{name}: inconsistent, " + "; ".join(f"{v} on {len(u)} page(s), e.g. {u[0]}"
                                                                  for v, u in sorted(values.items(), key=lambda vu: (-len(vu[1]), vu[0]))))
        if missing:
            problems += 1
            evidence.append(f"{name}: missing on {len(missing)} of {len(rows)} page(s), e.g. {missing[0]}")
    found = {name: next(iter(v for v in seen[key] if v), None) for key, name in _MARK_NAMES.items()}
    summary = (f"{len(rows)} page(s) read: " + ", ".join(f"{n} {v or '—'}" for n, v in found.items() if n != "党政机关网站标识")
               + f", 党政机关网站标识 {'present' if found['党政机关网站标识'] else 'absent'}") if rows else "no stored page"
    return Indicator("identity", "网站标识（标识码、ICP 备案、公安备案、党政机关标识、域名）", problems, 0,
                     "warn" if problems or not rows else "pass", summary, evidence)


_MARK = {"pass": "PASS", "warn": "WARN", "veto": "VETO"}


def format_health(health: SiteHealth, *, max_evidence: int = 5) -> str:
    """The score card as text: a line per indicator, its evidence below it."""
    lines = [f"{health.code} {health.name}: {_MARK[health.status]} (at {health.at})"]
    for i in health.indicators:
        threshold = "" if i.threshold is None else f" (threshold {i.threshold})"
        lines.append(f"  {_MARK[i.status]:4}  {i.name}: {i.summary}{threshold}")
        lines += [f"          {e}" for e in i.evidence[:max_evidence]]
        if len(i.evidence) > max_evidence:
            lines.append(f"          … and {len(i.evidence) - max_evidence} more")
    return "\n".join(lines)


STATUS_ZH = {"pass": "合格", "warn": "预警", "veto": "单项否决"}


# the indicators' names where space is short (a chart's axis); the full name goes in its tooltip
SHORT_NAMES = {"availability": "站点无法访问", "home_update": "首页不更新", "stale_key_columns": "重点栏目不更新",
               "stale_columns": "栏目不更新", "blank_columns": "空白栏目", "letters": "互动回应",
               "guides": "办事指南要素", "links": "链接可用性", "outbound": "外链变异", "identity": "网站标识"}


def rollup(cards: Sequence[SiteHealth]) -> dict[str, Any]:
    """The district roll-up: per indicator, how many sites pass, warn and fail it (veto), with
    its full and its short name (:data:`SHORT_NAMES`)."""
    indicators: dict[str, dict[str, Any]] = {}
    for card in cards:
        for i in card.indicators:
            row = indicators.setdefault(i.key, {"key": i.key, "name": i.name,
                                                "short": SHORT_NAMES.get(i.key, i.name.split("（")[0]),
                                                "pass": 0, "warn": 0, "veto": 0, "veto_sites": []})
            row[i.status] += 1
            if i.status == "veto":
                row["veto_sites"].append(card.code)
    return {"sites": len(cards), "veto_sites": sum(c.status == "veto" for c in cards),
            "indicators": list(indicators.values())}


def health_workbook(cards: Sequence[SiteHealth]) -> bytes:
    """The score cards as an XLSX workbook (openpyxl) for the information centre: 汇总 (a row
    per site, a column per indicator's status), 指标明细 (every indicator of every site with
    its value, threshold, status and summary) and 证据 (every evidence line)."""
    fills = {"pass": "C6EFCE", "warn": "FFEB9C", "veto": "FFC7CE"}
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    names = [i.name for i in cards[0].indicators] if cards else []
    summary.append(["站点代码", "站点名称", "评估时间", "结论", *names])
    for card in cards:
        summary.append([card.code, card.name, card.at, STATUS_ZH[card.status],
                        *[STATUS_ZH[i.status] for i in card.indicators]])
        for cell, status in zip(summary[summary.max_row][3:], [card.status, *[i.status for i in card.indicators]],
                                strict=True):
            cell.fill = PatternFill("solid", fgColor=fills[status])
    details = book.create_sheet("指标明细")
    details.append(["站点代码", "指标", "键", "值", "阈值", "结论", "说明"])
    evidence = book.create_sheet("证据")
    evidence.append(["站点代码", "指标", "证据"])
    for card in cards:
        for i in card.indicators:
            details.append([card.code, i.name, i.key, i.value, i.threshold, STATUS_ZH[i.status], i.summary])
            for line in i.evidence:
                evidence.append([card.code, i.name, line])
    return _saved(book, "A2")


ANNUAL_COLUMNS = ["站点代码", "站点名称", "信息发布总数", *[k.value for k in ArticleKind], "解读回应", "办事指南",
                  "互动交流：收到留言", "互动交流：办结留言", "互动交流：平均办理时间（工作日）", "站点可用率"]


def annual_counts(session: Session, spec: SiteSpec, year: int) -> list[Any]:
    """The counts of 《政府网站工作年度报表》 the store can give for one site and year: articles
    published in the year by kind, 解读 articles, service guides, letters received in the year,
    answered, their mean reply time in working days, and the share of probes that answered."""
    start = dt.datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    kinds = dict.fromkeys((k.value for k in ArticleKind), 0)
    interpretations = guides = received = answered = 0
    reply_days: list[int] = []
    for (item,) in session.execute(select(Document.item).where(Document.site_code == spec.code,
                                                               Document.status == "active")):
        item = item or {}
        kind = item.get("item_type")
        if kind == "service_guide":
            guides += 1
        elif kind == "article":
            published = _when(item.get("published_at"))
            if published is not None and start <= published < end:
                k = str(item.get("kind") or "")
                k = k if k in kinds else ArticleKind.OTHER.value
                kinds[k] += 1
                interpretations += "解读" in (item.get("title") or "")
        elif kind == "letter":
            asked = _when(item.get("asked_at"))
            if asked is None or not start <= asked < end:
                continue
            received += 1
            replied = _when(item.get("replied_at"))
            if replied is not None or item.get("reply"):
                answered += 1
            if replied is not None:
                reply_days.append(working_days_between(asked.astimezone(SHANGHAI).date(),
                                                       replied.astimezone(SHANGHAI).date())[0])
    failed, total, _ = availability_share(session, spec.code, min(end, dt.datetime.now(dt.UTC)),
                                          (min(end, dt.datetime.now(dt.UTC)) - start).total_seconds() / 86400)
    return [spec.code, spec.site.name, sum(kinds.values()), *kinds.values(), interpretations, guides, received,
            answered, round(statistics.mean(reply_days), 1) if reply_days else None,
            round(1 - failed / total, 4) if total else None]


def annual_workbook(session: Session, specs: Sequence[SiteSpec], year: int) -> bytes:
    """《政府网站工作年度报表》's derivable counts as XLSX: a row per site, then 合计."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{year}年度报表"
    sheet.append(ANNUAL_COLUMNS)
    rows = [annual_counts(session, s, year) for s in specs]
    for row in rows:
        sheet.append(row)
    totals: list[Any] = ["合计", f"{len(rows)} 个网站"]
    totals += [sum(r[i] for r in rows) for i in range(2, len(ANNUAL_COLUMNS) - 2)]
    days = [r[-2] for r in rows if r[-2] is not None]
    shares = [r[-1] for r in rows if r[-1] is not None]
    totals += [round(statistics.mean(days), 1) if days else None, round(statistics.mean(shares), 4) if shares else None]
    sheet.append(totals)
    return _saved(book, "C2")


def _saved(book: Workbook, freeze: str) -> bytes:
    """The workbook's bytes, each sheet's header row bold and frozen above ``freeze``."""
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = freeze
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_snapshots(session: Session, cards: Sequence[SiteHealth]) -> int:
    """Keep each card's statuses as its day's snapshot (a second record of a day replaces it)."""
    rows = 0
    for card in cards:
        day = dt.datetime.fromisoformat(card.at).astimezone(SHANGHAI).date().isoformat()
        session.execute(delete(HealthSnapshot).where(HealthSnapshot.site_code == card.code,
                                                     HealthSnapshot.day == day))
        for i in card.indicators:
            session.add(HealthSnapshot(site_code=card.code, indicator=i.key, day=day, status=i.status,
                                       value=None if i.value is None else float(i.value)))
            rows += 1
    return rows


def attach_trend(session: Session, cards: Sequence[SiteHealth], days: int = 14) -> None:
    """Fill each indicator's ``trend`` with the recorded snapshots of the ``days`` days up to
    the card's day, oldest first: ``[{"day", "status", "value"}]``."""
    for card in cards:
        end = dt.datetime.fromisoformat(card.at).astimezone(SHANGHAI).date()
        start = (end - dt.timedelta(days=days - 1)).isoformat()
        found: dict[str, list[dict[str, Any]]] = {}
        for indicator, day, status, value in session.execute(
                select(HealthSnapshot.indicator, HealthSnapshot.day, HealthSnapshot.status, HealthSnapshot.value)
                .where(HealthSnapshot.site_code == card.code, HealthSnapshot.day >= start,
                       HealthSnapshot.day <= end.isoformat()).order_by(HealthSnapshot.day)):
            found.setdefault(indicator, []).append({"day": day, "status": status, "value": value})
        for i in card.indicators:
            i.trend = found.get(i.key, [])


def snapshot_due(session: Session, now: dt.datetime, every: dt.timedelta = dt.timedelta(hours=1)) -> bool:
    """Whether the snapshot is due: none recorded today (Asia/Shanghai), or the newest is older
    than ``every`` (today's is then replaced: the trend keeps a day's last state, the gauges the
    hour's)."""
    today = now.astimezone(SHANGHAI).date().isoformat()
    newest = session.scalar(select(func.max(HealthSnapshot.recorded_at)).where(HealthSnapshot.day == today))
    return newest is None or _utc(newest) <= now - every


def _utc(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)  # a stored UTC time read back without its zone


def latest_snapshots(session: Session) -> dict[str, tuple[dt.datetime, dict[str, tuple[str, float | None]]]]:
    """Each site's newest recorded snapshot: {site: (recorded at, {indicator: (status, value)})}."""
    newest = (select(HealthSnapshot.site_code, func.max(HealthSnapshot.day).label("day"))
              .group_by(HealthSnapshot.site_code).subquery())
    found: dict[str, tuple[dt.datetime, dict[str, tuple[str, float | None]]]] = {}
    for code, indicator, status, value, recorded in session.execute(
            select(HealthSnapshot.site_code, HealthSnapshot.indicator, HealthSnapshot.status, HealthSnapshot.value,
                   HealthSnapshot.recorded_at)
            .join(newest, (newest.c.site_code == HealthSnapshot.site_code) & (newest.c.day == HealthSnapshot.day))
            .order_by(HealthSnapshot.site_code, HealthSnapshot.indicator)):
        at, values = found.setdefault(code, (_utc(recorded), {}))
        values[indicator] = (status, value)
        found[code] = (min(at, _utc(recorded)), values)
    return found
