"""Running site spiders in this process: a crawl's Scrapy settings, and the crawl itself.

``blgw crawl`` (:func:`run_crawl`) and ``blgw plugin check`` (:func:`run_check_crawl`) build
their settings with :func:`crawl_settings`: the gateway's Scrapy settings module
(``spiders.settings``, loaded by name: the working directory plays no part), every ``BLGW_*``
setting as this process reads it (defaults and environment), ``--origin`` overrides, and the
command line's ``-s NAME=VALUE`` on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from gateway.settings import GatewaySettings, get_settings
from plugins.manager import SiteRegistry
from spiders.items import CrawlProblem
from spiders.loader import PluginSpiderLoader
from spiders.pipelines.check import CheckPipeline
from spiders.site_spider import Decision, SiteSpider

__all__ = ["COMPONENT_SETTINGS", "CheckResult", "crawl_components", "crawl_settings", "run_check_crawl",
           "run_crawl"]

COMPONENT_SETTINGS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES")


def crawl_settings(overrides: Mapping[str, Any] | None = None, *, origins: Mapping[str, str] | None = None,
                   gateway: GatewaySettings | None = None) -> Settings:
    """The Scrapy settings of a crawl: ``spiders.settings``, the gateway settings (``gateway``,
    default this process's), ``origins`` added to ``BLGW_ORIGINS``, ``overrides`` on top."""
    gateway = gateway or get_settings()
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.setdict(gateway.as_scrapy(), priority="project")
    settings.set("USER_AGENT", gateway.user_agent, priority="project")
    if origins:
        merged = {**gateway.origins, **origins}
        settings.set("BLGW_ORIGINS", ",".join(f"{k}={v}" for k, v in merged.items()), priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_crawl(registry: SiteRegistry, codes: list[str], settings: Settings, **spider_args: str) -> list[Crawler]:
    """Crawl the sites ``codes`` in this process, at once; return their crawlers (their stats
    name the run, ``blgw/run_id``, or why the site was not crawled, ``blgw/busy``)."""
    loader = PluginSpiderLoader(registry)
    process = CrawlerProcess(settings)
    crawlers = []
    for code in codes:
        crawler = process.create_crawler(loader.load(code))
        crawlers.append(crawler)
        process.crawl(crawler, **spider_args)
    process.start()
    return crawlers


def crawl_components(registry: SiteRegistry, code: str, settings: Settings) -> dict[str, Any]:
    """The components a crawl of ``code`` with ``settings`` is built with, in order (the
    enabled entries of each component setting, the site's own settings applied), and its
    download handlers: what ``blgw settings --crawl CODE`` prints."""
    crawler = Crawler(PluginSpiderLoader(registry).load(code), settings)
    out: dict[str, Any] = {}
    for name in COMPONENT_SETTINGS:
        out[name] = [_dotted(c) for c in build_component_list(crawler.settings.getwithbase(name))]
    handlers = crawler.settings.getwithbase("DOWNLOAD_HANDLERS")
    out["DOWNLOAD_HANDLERS"] = {scheme: _dotted(handlers[scheme]) for scheme in ("http", "https") if handlers[scheme]}
    return out


def _dotted(component: Any) -> str:
    obj = load_object(component) if isinstance(component, str) else component
    return f"{obj.__module__}.{obj.__qualname__}"


@dataclass
class CheckResult:
    """What a dry run saw: the paging decisions, the items and the problems."""

    decisions: list[Decision] = field(default_factory=list)
    items: list[tuple[str, Any]] = field(default_factory=list)
    problems: list[CrawlProblem] = field(default_factory=list)
    list_titles: dict[str, str] = field(default_factory=dict)  # item id → its list entry's title


def run_check_crawl(registry: SiteRegistry, code: str, *, origins: Mapping[str, str] | None = None,
                    columns: str | None = None, pages: int = 2, items: int = 3, log_level: str = "ERROR",
                    overrides: Mapping[str, Any] | None = None) -> CheckResult:
    """A dry run of one site: ``pages`` list pages and ``items`` detail pages per column,
    through the real spider and normalizers, nothing written (no store, no frontier)."""
    settings = crawl_settings({"LOG_LEVEL": log_level, **(overrides or {})}, origins=origins)
    settings.set("BLGW_STORE_ENABLED", False, priority="cmdline")
    settings.set("ITEM_PIPELINES", {CheckPipeline: 300}, priority="cmdline")
    args = {"max_pages": str(pages), "max_items": str(items), "decisions": "1"}
    if columns:
        args["columns"] = columns
    (crawler,) = run_crawl(registry, [code], settings, **args)
    pipeline = crawler.get_item_pipeline(CheckPipeline)
    assert pipeline is not None and isinstance(crawler.spider, SiteSpider)
    return CheckResult(list(crawler.spider.decisions), pipeline.items, pipeline.problems, pipeline.list_titles)
