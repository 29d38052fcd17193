"""The gateway's Scrapy extensions, one per module (enabled in ``spiders.settings``)."""
