"""The gateway's downloader middlewares, one per module (enabled in ``spiders.settings``)."""
