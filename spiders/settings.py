"""Scrapy settings of the gateway's crawls: polite defaults for small legacy servers.

This is the Scrapy settings module of every crawl (``blgw crawl`` and ``blgw plugin check``
load it by name, ``scrapy crawl`` through ``scrapy.cfg``), so a crawl runs with the same
components wherever it is started from. The gateway's own ``BLGW_*`` settings are all here too,
with their values from the environment (:meth:`gateway.settings.GatewaySettings.as_scrapy`;
their defaults and documentation are in :mod:`gateway.settings`). Per-site values
(concurrency, delay, robots.txt, the browser) come from each site plugin
(:meth:`spiders.site_spider.SiteSpider.update_settings`).
"""

from gateway.settings import get_settings

BOT_NAME = "blgw"
SPIDER_LOADER_CLASS = "spiders.loader.PluginSpiderLoader"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# Politeness: a legacy subsite often runs on one small server.
ROBOTSTXT_OBEY = True  # per site: obey_robots in the plugin
CONCURRENT_REQUESTS = 16  # across all sites of one process
# Scrapy starts this many tasks for the output of EVERY response (default 100); a page yields at
# most a few dozen requests and one item, and the pipeline is synchronous: 16 keeps the overlap
# and spares ~85 asyncio tasks per page
CONCURRENT_ITEMS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2  # per site: concurrency (1-2) in the plugin
DOWNLOAD_DELAY = 0.5  # per site: download_delay in the plugin
DOWNLOAD_DELAY_JITTER = 0.5  # each delay is 0.5–1.5 × DOWNLOAD_DELAY (Scrapy 2.19; RANDOMIZE_DOWNLOAD_DELAY is deprecated)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # anything (attachments); pages: BLGW_MAX_PAGE_BYTES
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a body cut short of its Content-Length is an error (truncated), never stored
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = True  # legacy sessions (ASPSESSIONID, PHPSESSID) need cookies
# no host name may resolve to an internal address unless it is a configured site's (gateway.scope)
TWISTED_DNS_RESOLVER = "spiders.downloadermiddlewares.scope.ScopedResolver"

# Retries with exponential backoff (spiders.downloadermiddlewares.retry.BackoffRetryMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

DOWNLOADER_MIDDLEWARES = {
    "spiders.downloadermiddlewares.scope.ScopeMiddleware": 40,  # first: nothing outside the site's origins
    # Scrapy's own offsite filter drops requests when they are scheduled, without an errback (a
    # redirect out of the site vanished from the run): the scope middleware does its work, and says so
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.downloadermiddlewares.retry.BackoffRetryMiddleware": 550,
    "spiders.downloadermiddlewares.pagesize.PageSizeLimitMiddleware": 560,
    "spiders.downloadermiddlewares.conditional.ConditionalGetMiddleware": 580,  # after decompression (590)
    "spiders.downloadermiddlewares.redirect.RedirectLoopMiddleware": 650,  # sees 3xx before RedirectMiddleware (600)
    # Scrapy's replaced a page with content by its refresh target, and failed on javascript: ones
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "spiders.downloadermiddlewares.redirect.MetaRefreshMiddleware": 580,  # where Scrapy's was
}
# Spider output flows from the spider (high numbers) to the engine (low numbers): the
# incremental filter drops known items first, then the frontier records what is left, last of
# all (after Scrapy's own filters at 700-900, so nothing it records is dropped afterwards).
SPIDER_MIDDLEWARES = {
    # closest to the engine: a list page let go while the last detail pages are fetched (bounded queue)
    "spiders.spidermiddlewares.lookahead.ListLookahead": 50,
    "spiders.spidermiddlewares.frontier.FrontierMiddleware": 100,
    "spiders.spidermiddlewares.links.LinkRecorderMiddleware": 940,
    "spiders.spidermiddlewares.incremental.IncrementalMiddleware": 950,
}
EXTENSIONS = {
    "spiders.crawlstate.CrawlState": 100,  # the store's side of a crawl: lock, run, frontier
    "spiders.extensions.purge.StalePurge": 500,
    "spiders.extensions.progress.Progress": 500,
}
ITEM_PIPELINES = {"spiders.pipelines.store.StorePipeline": 300}
DUPEFILTER_CLASS = "spiders.dupefilter.FrontierDupeFilter"  # the store's frontier de-duplicates crawl requests

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False

# Every BLGW_* setting, from the environment (or its default); `-s BLGW_…=…` overrides it.
globals().update(get_settings().as_scrapy())
USER_AGENT = get_settings().user_agent  # per crawl: BLGW_USER_AGENT (SiteSpider.update_settings)
