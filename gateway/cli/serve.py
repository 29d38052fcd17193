"""``blgw serve``: the portal pages and the JSON API."""

from __future__ import annotations

import click
import uvicorn

from gateway.api import create_app
from gateway.cli.common import settings

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(host: str, port: int) -> None:
    """Serve the portal search page, the navigation map and the JSON API (/docs) with uvicorn."""
    uvicorn.run(create_app(settings()), host=host, port=port)
