"""Scrapy settings of the gateway: polite defaults for small legacy servers.

Every ``BLGW_*`` Scrapy setting is listed here with its default. Per-site values
(concurrency, delay, robots.txt) come from each site plugin's ``[site]`` table.
"""

from gateway.settings import get_settings

BOT_NAME = "blgw"
SPIDER_LOADER_CLASS = "spiders.loader.PluginSpiderLoader"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
USER_AGENT = get_settings().user_agent

# Politeness: a legacy subsite often runs on one small server.
ROBOTSTXT_OBEY = True  # per site: obey_robots in the plugin
CONCURRENT_REQUESTS = 16  # across all sites of one process
CONCURRENT_REQUESTS_PER_DOMAIN = 2  # per site: concurrency (1-2) in the plugin
DOWNLOAD_DELAY = 0.5  # per site: download_delay in the plugin
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # anything (attachments: meta blgw_attachment)
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
BLGW_MAX_PAGE_BYTES = 10 * 1024 * 1024  # a list or detail page larger than this is refused (kind too-large)
DOWNLOAD_FAIL_ON_DATALOSS = True  # a body cut short of its Content-Length is an error (truncated), never stored
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = True  # legacy sessions (ASPSESSIONID, PHPSESSID) need cookies

# Retries with exponential backoff (spiders.middlewares.BackoffRetryMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
BLGW_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles per attempt
BLGW_RETRY_BACKOFF_MAX = 60.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    "spiders.conditional.ConditionalGetMiddleware": 580,  # after decompression (590), before retries
    "spiders.middlewares.PageSizeLimitMiddleware": 560,
    "spiders.middlewares.RedirectLoopMiddleware": 650,  # sees 3xx before RedirectMiddleware (600)
}

ITEM_PIPELINES = {"spiders.pipelines.StorePipeline": 300}
DUPEFILTER_CLASS = "spiders.dupefilter.FrontierDupeFilter"  # the store's frontier de-duplicates crawl requests
BLGW_DATABASE_URL = ""  # empty: the gateway settings' BLGW_DATABASE_URL

EXTENSIONS = {"spiders.extensions.Progress": 500}
BLGW_PROGRESS_ENABLED = False  # the CLI turns it on
BLGW_PROGRESS_INTERVAL = 2.0

# JavaScript pages (plugins with render = "browser"): scrapy-playwright with the system Chromium.
BLGW_CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; Playwright's own download is not used
BLGW_BROWSER_MAX_PAGES = 2  # pages open at once in the browser
BLGW_BROWSER_RECYCLE_PAGES = 100  # restart the browser after this many pages (bounded memory)
BLGW_BROWSER_WAIT_MS = 15000  # how long to wait for a page's list/title selector

BLGW_ORIGINS = ""  # code=http://host:port,… fetch a site from another origin (mirror, test server)

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
