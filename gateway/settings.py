"""The gateway's one settings object, read from ``BLGW_*`` environment variables.

| variable              | default                               | meaning                                   |
|-----------------------|---------------------------------------|-------------------------------------------|
| BLGW_DATA_DIR         | ./data                                | where the default store and index live    |
| BLGW_DATABASE_URL     | sqlite:///<data dir>/gateway.sqlite   | SQLAlchemy URL of the store               |
| BLGW_INDEX_URL        | sqlite:///<data dir>/index.sqlite     | the search index (embedded backend)       |
| BLGW_PLUGIN_DIRS      | (none)                                | extra plugin folders, separated by ':'    |
| BLGW_LOAD_PLUGINS     | (all)                                 | comma-separated entry-point plugins to load|
| BLGW_ORIGINS          | (none)                                | fetch a site from another origin, e.g.    |
|                       |                                       | ``rsj=http://127.0.0.1:8080,qzfb=…``      |
| BLGW_USER_AGENT       | see below                             | the User-Agent sent to subsites           |
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_USER_AGENT = "blgw/0.1 (+https://www.bl.gov.cn; Beilun site-group gateway)"


def parse_origins(value: str | dict[str, str] | None) -> dict[str, str]:
    """``rsj=http://127.0.0.1:8080,qzfb=http://10.0.0.5`` → {site code: origin URL}."""
    if not value:
        return {}
    if isinstance(value, dict):
        pairs = value.items()
    else:
        pairs = []
        for part in value.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ValueError(f"origin override {part!r} must look like code=http://host:port")
            code, url = part.split("=", 1)
            pairs.append((code.strip(), url.strip()))
    origins = {}
    for code, url in pairs:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"origin for {code!r} must be an http(s) URL, got {url!r}")
        origins[code] = f"{parts.scheme}://{parts.netloc}"
    return origins


class GatewaySettings(BaseSettings):
    """Settings of one gateway installation."""

    model_config = SettingsConfigDict(env_prefix="BLGW_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    index_url: str = ""
    plugin_dirs: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    load_plugins: Annotated[list[str] | None, NoDecode] = None
    origins: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    user_agent: str = DEFAULT_USER_AGENT

    @field_validator("plugin_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return [Path(p) for p in value.split(os.pathsep) if p]
        return value

    @field_validator("load_plugins", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        return parse_origins(value)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _defaults_in_data_dir(self) -> GatewaySettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'gateway.sqlite').as_posix()}"
        if not self.index_url:
            self.index_url = f"sqlite:///{(self.data_dir / 'index.sqlite').as_posix()}"
        return self


@lru_cache(maxsize=1)
def get_settings() -> GatewaySettings:
    """The settings of this process (read once from the environment)."""
    return GatewaySettings()
