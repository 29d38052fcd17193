"""Scrapy's spider loader for the gateway: one spider per registered site plugin.

Configured as ``SPIDER_LOADER_CLASS`` in ``spiders.settings``, so that ``scrapy list``
prints the site codes and ``scrapy crawl rsj`` runs the generic spider on the ``rsj`` plugin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import Request
from scrapy.settings import BaseSettings

from plugins.manager import SiteRegistry, registry_from_settings
from plugins.spec import SiteSpec
from spiders.site_spider import SiteSpider


def browser_settings(spec: SiteSpec) -> dict:
    """scrapy-playwright for a site with pages rendered in Chromium; nothing for the others, so
    plain sites never start a browser."""
    if spec.site.render != "browser" and not any(c.render == "browser" for c in spec.columns):
        return {}
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": project.get("BLGW_CHROMIUM", "/usr/bin/chromium"),
            "headless": True,
            "args": ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": project.getint("BLGW_BROWSER_MAX_PAGES", 2),
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30000,
        "DOWNLOADER_MIDDLEWARES": {
            **project.getdict("DOWNLOADER_MIDDLEWARES"),
            "spiders.middlewares.BrowserRecycleMiddleware": 950,
        },
    }


def spider_class(spec: SiteSpec, registry: SiteRegistry) -> type[SiteSpider]:
    """The spider class of one site, with its politeness settings."""
    return type(
        f"{spec.code.capitalize()}Spider",
        (SiteSpider,),
        {
            "name": spec.code,
            "site": spec,
            "registry": registry,
            "custom_settings": {
                "CONCURRENT_REQUESTS_PER_DOMAIN": spec.site.concurrency,
                "DOWNLOAD_DELAY": spec.site.download_delay,
                "ROBOTSTXT_OBEY": spec.site.obey_robots,
                **browser_settings(spec),
            },
            "__doc__": f"Spider of {spec.name} ({spec.code}), from {spec.source}.",
        },
    )


class PluginSpiderLoader:
    """Implements Scrapy's ``SpiderLoaderProtocol`` over the plugin registry."""

    def __init__(self, registry: SiteRegistry):
        self.registry = registry
        self._classes = {spec.code: spider_class(spec, registry) for spec in registry}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PluginSpiderLoader:
        return cls(registry_from_settings())

    def load(self, spider_name: str) -> type[SiteSpider]:
        try:
            return self._classes[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._classes)

    def find_by_request(self, request: Request) -> list[str]:
        host = urlsplit(request.url).hostname or ""
        return [
            code for code, cls in self._classes.items()
            if any(host == d or host.endswith("." + d) for d in cls.site.allowed_domains())
        ]
