"""The SQLAlchemy store: one engine and session factory per database URL (see session.py)."""

from gateway.store.models import Base, CrawlError, CrawlRun, Document, Site
from gateway.store.session import Store

__all__ = ["Base", "CrawlError", "CrawlRun", "Document", "Site", "Store"]
