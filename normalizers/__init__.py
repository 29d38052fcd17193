"""Pure functions from raw subsite pages to the exchange standard (no I/O, no Scrapy)."""
