"""The guidance's taxonomy: which category (政务公开 / 政民互动 / 网上服务), which item type and
which article kind a column's pages are, from the column's name and path, its URL and, when
given, the page itself. A plugin overrides any of it per column (``category``, ``kind``,
``item_type``).

The rules are ordered from the most to the least specific; every decision carries its reason,
so ``blgw plugin check`` can show why a column was classified as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from normalizers.items import detect_item_type
from normalizers.models import ArticleKind, Category

# (pattern over a column name, category, item type, article kind); first match wins
_NAME_RULES: list[tuple[re.Pattern[str], Category, str, ArticleKind | None]] = [
    (re.compile(r"信箱|来信|投诉|举报|留言|问答|互动|民意|征集|访谈|咨询|监督|诉求|12345"),
     Category.INTERACTION, "letter", None),
    (re.compile(r"机构|领导|职能|职责|概况|简介|内设"),
     Category.GOVERNMENT_INFORMATION, "organisation", None),
    (re.compile(r"通知|公告|公示|通告"), Category.GOVERNMENT_INFORMATION, "article", ArticleKind.NOTICE),
    (re.compile(r"人事|任免|任职|干部|任命"), Category.GOVERNMENT_INFORMATION, "article", ArticleKind.APPOINTMENT),
    (re.compile(r"目标|执行情况|计划|总结|考核"), Category.GOVERNMENT_INFORMATION, "article", ArticleKind.ANNUAL_GOALS),
    (re.compile(r"政策|法规|文件|规范性|条例|规章|解读|制度"), Category.GOVERNMENT_INFORMATION, "article",
     ArticleKind.POLICY),
    (re.compile(r"动态|新闻|要闻|资讯|信息|快讯|图片|视频|工作"), Category.GOVERNMENT_INFORMATION, "article",
     ArticleKind.NEWS),
    (re.compile(r"办事|指南|事项|审批|许可"), Category.ONLINE_SERVICES, "service_guide", None),
    (re.compile(r"服务|下载|表格|查询|预审|便民|申报"), Category.ONLINE_SERVICES, "article", ArticleKind.OTHER),
    (re.compile(r"公开|年报|目录|指南"), Category.GOVERNMENT_INFORMATION, "article", ArticleKind.OTHER),
]

_URL_RULES: list[tuple[re.Pattern[str], Category, str]] = [
    (re.compile(r"/(hdjl|zmhd|hudong|gzhd|xjxx|mailbox|letter|zxft|zxdc)[/_.]", re.I), Category.INTERACTION, "letter"),
    (re.compile(r"/(bsfw|wsbs|bszn|bsdt|fwzn|zwfw)[/_.]", re.I), Category.ONLINE_SERVICES, "service_guide"),
    (re.compile(r"/(jggk|ldjs|ldxx|jgzn|zzjg)[/_.]", re.I), Category.GOVERNMENT_INFORMATION, "organisation"),
    (re.compile(r"/(xxgk|zwgk|gkml)[/_.]", re.I), Category.GOVERNMENT_INFORMATION, "article"),
]

_TOP_LEVEL = {c.value: c for c in Category}


@dataclass(frozen=True)
class Classification:
    category: Category
    item_type: str  # article | service_guide | letter | organisation
    kind: ArticleKind | None  # for articles
    reason: str


def classify(column_name: str, column_path: Sequence[str] = (), url: str = "",
             page_html: str | None = None) -> Classification:
    """Classify a column (and, optionally, one of its pages)."""
    # 1. a path under one of the guidance's top-level categories says the category outright
    declared = next((_TOP_LEVEL[p] for p in column_path if p in _TOP_LEVEL), None)
    # 2. the column's own name, then its parents' names, most specific first
    names = [column_name, *reversed([p for p in column_path if p != column_name and p not in _TOP_LEVEL])]
    for name in names:
        for pattern, category, item_type, kind in _NAME_RULES:
            if match := pattern.search(name):
                category = declared or category
                if declared and declared != Category.GOVERNMENT_INFORMATION and item_type in ("article", "organisation"):
                    item_type = "article"
                return Classification(category, item_type, kind if item_type == "article" else None,
                                      f"column name {name!r} has {match.group()!r}")
    # 3. URL conventions of Chinese government CMSs
    for pattern, category, item_type in _URL_RULES:
        if match := pattern.search(url):
            category = declared or category
            return Classification(category, item_type, ArticleKind.OTHER if item_type == "article" else None,
                                  f"URL has {match.group().strip('/._')!r}")
    # 4. the page's own structure (label tables of guides, letters, organisation pages)
    if page_html:
        item_type = detect_item_type(page_html)
        if item_type != "article":
            category = {"letter": Category.INTERACTION, "service_guide": Category.ONLINE_SERVICES}.get(
                item_type, Category.GOVERNMENT_INFORMATION)
            return Classification(declared or category, item_type, None, f"page structure looks like {item_type}")
    category = declared or Category.GOVERNMENT_INFORMATION
    return Classification(category, "article", ArticleKind.OTHER,
                          f"under {category.value}" if declared else "no rule matched: 政务公开, other article")
