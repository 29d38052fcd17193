"""The exchange standard (区级网站群统一数据交换标准), version 0.

These pydantic models are the contract between the gateway and the portal: what the spiders
produce, what the store keeps, what the index serves and what ``blgw export`` writes as JSON
Lines. Field names are English; the Chinese labels they come from are in each description.

Version 0 covers articles (政务公开 items). Later versions add organisations, service guides,
letters and navigation; every document carries ``schema_version`` so consumers can tell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    computed_field,
    model_validator,
)

SCHEMA_VERSION = "0.1"
SHANGHAI = ZoneInfo("Asia/Shanghai")

SITE_CODE_PATTERN = r"^[a-z][a-z0-9]{1,30}$"


def _aware_shanghai(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are read as Asia/Shanghai local time (all subsites are in Ningbo)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)


ShanghaiDatetime = Annotated[dt.datetime, AfterValidator(_aware_shanghai)]


def document_id(canonical_url: str) -> str:
    """The stable id of a document: the first 32 hex digits of SHA-256 of its canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


class Category(StrEnum):
    """Top level of the guidance's taxonomy."""

    GOVERNMENT_INFORMATION = "政务公开"
    INTERACTION = "政民互动"
    ONLINE_SERVICES = "网上服务"


class Attachment(BaseModel):
    """A file linked from an article (附件): its visible name, absolute URL and file type."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Visible name of the link, e.g. 附件1：申报表.doc")
    url: HttpUrl = Field(description="Absolute URL of the file")
    file_type: str = Field(description="Lower-case extension without the dot (pdf, doc, xls…), or 'unknown'")


class DisclosureMetadata(BaseModel):
    """The 政府信息公开 metadata block of a disclosure page. All values are as printed,
    whitespace-normalised; dates are parsed. Unknown labels are kept in ``extra``."""

    index_number: str | None = Field(None, description="索引号, an opaque string (never a date)")
    publisher: str | None = Field(None, description="发布机构 / 发文机关")
    topic: str | None = Field(None, description="主题分类 / 组配分类")
    genre: str | None = Field(None, description="体裁分类")
    written_date: dt.date | None = Field(None, description="成文日期 / 生成日期")
    published_date: dt.date | None = Field(None, description="发布日期 as printed in the block")
    document_number: str | None = Field(None, description="发文字号 / 文号 / 文件编号, e.g. 仑政办发〔2024〕12号")
    validity: str | None = Field(None, description="有效性")
    keywords: list[str] = Field(default_factory=list, description="主题词")
    disclosure_mode: str | None = Field(None, description="公开方式 (主动公开 / 依申请公开)")
    extra: dict[str, str] = Field(default_factory=dict, description="Other label → value pairs")

    def is_empty(self) -> bool:
        return not any(v for v in self.model_dump().values())


class FieldError(BaseModel):
    """A value the normalizer could not read; the rest of the item is kept."""

    field: str
    message: str
    raw: str | None = None


class Article(BaseModel):
    """One article of a subsite (政务信息, 通知公告, 政策法规, 人事任免 and other disclosure items)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = Field(SCHEMA_VERSION, description="Version of the exchange standard")
    id: str = Field(description="document_id(canonical source URL)", pattern=r"^[0-9a-f]{32}$")
    site_code: str = Field(pattern=SITE_CODE_PATTERN, description="Subsite code, e.g. rsj for rsj.bl.gov.cn")
    column_path: list[str] = Field(description="Column names from the site root, e.g. ['政务公开', '通知公告']")
    category: Category = Field(description="Top-level taxonomy of the guidance")
    title: str = Field(min_length=1)
    published_at: ShanghaiDatetime | None = Field(None, description="Publication time, Asia/Shanghai")
    body_text: str = Field(description="Main text, paragraphs separated by blank lines")
    body_html: str = Field(description="Main content as sanitized HTML")
    disclosure: DisclosureMetadata = Field(default_factory=DisclosureMetadata)
    attachments: list[Attachment] = Field(default_factory=list)
    source_url: HttpUrl = Field(description="Canonical URL of the page on the subsite")
    fetched_at: ShanghaiDatetime = Field(description="When the gateway fetched the page")
    field_errors: list[FieldError] = Field(
        default_factory=list, description="Values that could not be read (the item is kept)"
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        # Exported JSON carries content_hash; it is derived, so reading it back ignores it.
        if isinstance(data, dict) and "content_hash" in data:
            data = {k: v for k, v in data.items() if k != "content_hash"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_hash(self) -> str:
        """SHA-256 over everything a reader sees; fetched_at and field errors are left out, so an
        unchanged page gives an unchanged hash on every crawl."""
        payload = self.model_dump_json(
            include={
                "schema_version", "site_code", "column_path", "category", "title", "published_at",
                "body_text", "body_html", "disclosure", "attachments", "source_url",
            }
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
