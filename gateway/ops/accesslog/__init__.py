"""Access logs (访问日志): every subsite's logs read into per-site, per-day counters and joined
with the crawl (docs/logs.md). ``formats`` reads lines, ``ingest`` counts files incrementally,
``report`` reads the counters back."""
