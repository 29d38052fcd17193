"""The API's response models (they make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["DocumentOut", "FacetValueOut", "FeedEntry", "FeedOut", "HealthOut", "HitOut", "SearchOut",
           "SuggestOut", "SuggestionOut"]


class FacetValueOut(BaseModel):
    value: str
    count: int
    label: str | None = Field(None, description="Display name (the site name for site facets)")


class HitOut(BaseModel):
    id: str
    title_html: str = Field(description="Escaped title; only <mark>…</mark> tags")
    snippet_html: str = Field(description="Escaped snippet; only <mark>…</mark> tags")
    attachment: str | None = Field(None, description="The attachment the snippet is from (the query matched "
                                                     "inside it, not in the item's own text)")
    url: str
    site_code: str
    site_name: str
    column_path: list[str]
    category: str | None = None
    published_at: dt.datetime | None


class SearchOut(BaseModel):
    q: str
    total: int
    page: int
    size: int
    pages: int
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]] = Field(
        default_factory=dict, description="Keys: site, category, column, year (when the index provides them)")


class SuggestionOut(BaseModel):
    id: str
    title: str
    url: str
    site_code: str


class SuggestOut(BaseModel):
    prefix: str
    suggestions: list[SuggestionOut]


class DocumentOut(BaseModel):
    id: str
    status: str = Field(description="active, or gone (the page disappeared from the subsite)")
    site_code: str
    url: str
    title: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    last_changed_at: dt.datetime
    item: dict[str, Any] = Field(description="The item in the exchange standard, as stored")


class FeedEntry(BaseModel):
    id: str
    status: str
    site_code: str
    url: str
    last_changed_at: dt.datetime
    item: dict[str, Any]


class FeedOut(BaseModel):
    items: list[FeedEntry]
    next_cursor: str | None = Field(description="Pass as `since` for the next page (same cursor when nothing new)")
    has_more: bool


class HealthOut(BaseModel):
    status: str
    store: str
    index: str
    documents: int | None = None
    indexed: int | None = None
    errors: dict[str, str] = Field(default_factory=dict)
