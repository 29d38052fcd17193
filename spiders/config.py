"""The gateway settings of one crawl, typed: :func:`crawl_config` reads the crawler's Scrapy
settings once (:func:`gateway.settings.from_scrapy`) and every component gets the same object."""

from __future__ import annotations

import weakref

from scrapy.crawler import Crawler

from gateway.settings import GatewaySettings, from_scrapy

__all__ = ["crawl_config"]

_CONFIGS: weakref.WeakKeyDictionary[Crawler, GatewaySettings] = weakref.WeakKeyDictionary()


def crawl_config(crawler: Crawler) -> GatewaySettings:
    """The crawl's ``BLGW_*`` settings (environment and defaults, ``-s`` on top), parsed once
    per crawler."""
    config = _CONFIGS.get(crawler)
    if config is None:
        config = _CONFIGS[crawler] = from_scrapy(crawler.settings)
    return config
