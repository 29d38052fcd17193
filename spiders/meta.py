"""Every request-meta key the gateway uses, defined once.

Scrapy carries per-request facts in ``request.meta``; the gateway's keys all start with
``blgw_``. A component reads and writes them only through these names, so a reader finds in
one place what each key holds and who sets it. (Scrapy's own keys, such as ``dont_retry``,
``download_maxsize``, ``handle_httpstatus_list`` or scrapy-playwright's ``playwright``, keep
their documented names.)
"""

from __future__ import annotations

__all__ = ["ATTACHMENT", "ATTACHMENT_URL", "BACKOFF", "COLUMN", "DOC", "ENTRY", "ERRBACK_RECORDED", "KEY", "KEYS",
           "KIND", "LIST", "MISSED", "PARTS", "RESTARTS", "RETRY"]

KIND = "blgw_kind"
"""What the request fetches: ``"list"`` (a list page of a column), ``"detail"`` (an item's
page), ``"part"`` (another page of a multi-page article, :data:`PARTS`) or ``"recheck"`` (a
document no longer listed, fetched again by the stale-document purge). Set by the spider
(list, detail, part) and the purge; requests without it (robots.txt, a
site's entry pages) are not part of the frontier."""

KEY = "blgw_key"
"""The request's key in the run's frontier (the request fingerprint, plus ``:restartN`` for the
Nth restart of a postback list). Set by the frontier middleware when it records the request;
the de-duplication filter lets a request with a key through (the frontier de-duplicated it)."""

COLUMN = "blgw_column"
"""The name of the column (栏目) a list or detail request belongs to. Set by the spider."""

LIST = "blgw_list"
"""The :class:`spiders.listing.ListRequest` of a list request: its page number, method and form
(postbacks, Hanweb's data proxy). Set by the spider."""

ENTRY = "blgw_entry"
"""The :class:`plugins.spec.ListEntry` a detail request was made from: the URL, title and date
the list showed. Set by the spider."""

RESTARTS = "blgw_restarts"
"""How many times the column's list was restarted from its first page (an ASP.NET ViewState the
server rejected). Set by the spider."""

BACKOFF = "blgw_backoff"
"""Seconds a retried request waits before it is sent again. Set by the retry middleware
(``spiders.downloadermiddlewares.retry``), honoured by it on the retry."""

ATTACHMENT = "blgw_attachment"
"""The attachment id (a row of the store's ``attachments``) a request fetches; set by
:class:`spiders.attachments.AttachmentFetcher`. The page size limit (``BLGW_MAX_PAGE_BYTES``)
does not apply to such a request: the attachment cap does."""

ATTACHMENT_URL = "blgw_attachment_url"
"""The attachment's URL on the site's public origin (the request's own URL may be a mirror's),
as its run errors name it. Set with :data:`ATTACHMENT`."""

ERRBACK_RECORDED = "blgw_errback_recorded"
"""True once the frontier middleware has recorded what a request's errback produced. Scrapy
passes an errback's output through the spider middlewares when the failure was raised by one
of them (an HTTP error status, from ``HttpErrorMiddleware``), not when the download failed; the
flag keeps the frontier from recording it a second time."""

RETRY = "blgw_retry"
"""True for a request an earlier run did not get (a failed fetch, hook or store), fetched again
by this run (``spiders.crawlstate.CrawlState.carry_over``): no conditional GET is sent for it
(validators recorded before its item was lost would answer 304)."""

DOC = "blgw_doc"
"""The document id a re-check request is about. Set by the stale-document purge."""

MISSED = "blgw_missed"
"""How many full runs in a row the re-checked document was missing from its column's lists.
Set by the stale-document purge."""

PARTS = "blgw_parts"
"""A multi-page article being read (``[detail] pages``): its first page, the other pages fetched
so far and those still to fetch (:class:`spiders.site_spider.ArticleParts`). Set by the spider on
the requests of the other pages (``KIND`` ``"part"``); they are not frontier entries: the first
page's entry stays pending until the whole article is stored, or fails with it."""

KEYS = {name: value for name, value in globals().items() if name.isupper() and isinstance(value, str)}
"""{constant name: meta key} of every key above."""
