"""The HTTP API and the portal pages (FastAPI): :func:`create_app` (:mod:`gateway.api.app`)."""

from gateway.api.app import create_app

__all__ = ["create_app"]
