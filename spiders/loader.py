"""Scrapy's spider loader for the gateway: one spider class per registered site plugin.

Configured as ``SPIDER_LOADER_CLASS`` in ``spiders.settings``, so that ``scrapy list`` prints
the site codes and ``scrapy crawl rsj`` runs the generic spider on the ``rsj`` plugin. The
plugins are those the crawl's settings name (``BLGW_PLUGIN_DIRS``, ``BLGW_LOAD_PLUGINS``).
"""

from __future__ import annotations

import builtins
from urllib.parse import urlsplit

from scrapy.http import Request
from scrapy.settings import BaseSettings

from gateway.settings import from_scrapy
from plugins.manager import SiteRegistry, registry_from_settings
from plugins.spec import SiteSpec
from spiders.site_spider import SiteSpider

__all__ = ["PluginSpiderLoader", "spider_class"]


def spider_class(spec: SiteSpec, registry: SiteRegistry) -> type[SiteSpider]:
    """The spider class of one site (its per-site settings: :meth:`SiteSpider.update_settings`)."""
    return type(
        f"{spec.code.capitalize()}Spider",
        (SiteSpider,),
        {"name": spec.code, "site": spec, "registry": registry,
         "__doc__": f"Spider of {spec.name} ({spec.code}), from {spec.source}."},
    )


class PluginSpiderLoader:
    """Implements Scrapy's ``SpiderLoaderProtocol`` over the plugin registry."""

    def __init__(self, registry: SiteRegistry):
        self.registry = registry
        self._classes = {spec.code: spider_class(spec, registry) for spec in registry}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PluginSpiderLoader:
        return cls(registry_from_settings(from_scrapy(settings)))

    def load(self, spider_name: str) -> type[SiteSpider]:
        try:
            return self._classes[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._classes)

    def find_by_request(self, request: Request) -> builtins.list[str]:  # `list` in here is the method above
        host = urlsplit(request.url).hostname or ""
        return [
            code for code, cls in self._classes.items()
            if any(host == d or host.endswith("." + d) for d in cls.site.allowed_domains())
        ]
