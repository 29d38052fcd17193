"""The exchange standard (区级网站群统一数据交换标准), version 1.

These pydantic models are the contract between the gateway and the portal: what the spiders
produce, what the store keeps, what the index serves and what ``blgw export`` writes as JSON
Lines. Field names are English; the Chinese labels they come from are in each description.

Every item carries ``schema_version`` and ``item_type``, which tells the five kinds apart:

* ``article``: 政务公开 items (政务信息, 政策法规, 通知公告, 人事任免, 年度工作目标和执行情况,
  other disclosure items) with their disclosure metadata;
* ``organisation``: 机构概况 (机构名称, 机构设置, 机构职能, address and phones) and 领导介绍;
* ``service_guide``: 办事指南 of 网上服务;
* ``letter``: 政民互动 letters (信箱) and published Q&A (在线问答), the asker's personal data masked;
* ``navigation``: a site's column tree, for the portal's 网站导航.

The JSON Schema files in ``schema/`` and the interface document ``docs/exchange-standard.md``
are generated from these models (``blgw schema write``); a test fails when they drift.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from normalizers.privacy import mask_name, mask_personal_data

SCHEMA_VERSION = "1.0"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# A lower-case letter, then up to 30 letters or digits: the first label of a subsite's host, which
# DNS lets be one character long (j.example.com is the site j).
SITE_CODE_PATTERN = r"^[a-z][a-z0-9]{0,30}$"
SITE_CODE_MAX = 31
# Field defaults are written default=…: type checkers only read that keyword as a default
# (dataclass_transform), and would take every field with a positional one as required.


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


ATTACHMENT_TEXT_INLINE = 100_000
"""The most characters of an attachment's text an item carries; a longer text is cut there
(``text_truncated``) and its whole is at ``text_url``."""


class Attachment(BaseModel):
    """A file linked from an article (附件): its visible name, absolute URL and file type as the
    page shows them, and what the gateway's fetch of the file gave (the normalizer, which reads
    the page alone, leaves those ``pending``)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Visible name of the link, e.g. 附件1：申报表.doc")
    url: HttpUrl = Field(description="Absolute URL of the file")
    file_type: str = Field(description="Lower-case extension without the dot (pdf, doc, xls…), or 'unknown'")
    status: Literal["pending", "stored", "failed", "too-large"] = Field(
        default="pending", description="pending: not fetched yet; stored: the file is kept by the gateway "
                                       "(sha256); failed: the last fetch failed (error says how); too-large: over "
                                       "the size cap, only the link is kept")
    error: str | None = Field(default=None, description="What the last fetch or reading of the file met, naming it")
    file_name: str | None = Field(default=None, description="The file's own name, as the server gave it "
                                                            "(Content-Disposition, else the URL), e.g. 申报表.doc")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$",
                               description="SHA-256 of the file's bytes (hex); the key of the gateway's copy")
    size: int | None = Field(default=None, ge=0, description="Size of the file in bytes")
    content_type: str | None = Field(default=None, description="MIME type sniffed from the bytes (not the "
                                                               "server's claim), e.g. application/pdf")
    file_format: str | None = Field(default=None, description="The format family read from the bytes: pdf, "
                                                              "word-binary (DOC, WPS), excel-binary (XLS, ET), "
                                                              "ooxml-word, ooxml-excel, rtf, ofd, zip, html, image, "
                                                              "text… (file_type is the link's extension, which may lie)")
    text_status: Literal["ok", "empty", "unsupported", "error"] | None = Field(
        default=None, description="ok: text read; empty: read, no text (a scan without OCR); unsupported: no "
                                  "reader for the format; error: reading failed (error names the file)")
    text: str | None = Field(default=None, description="The text read from the file (at most "
                                                       f"{ATTACHMENT_TEXT_INLINE} characters; see text_truncated)")
    text_truncated: bool = Field(default=False, description="text is the beginning of a longer text (the whole "
                                                            "is at text_url)")
    text_url: str | None = Field(default=None, description="Where the gateway serves the whole text "
                                                           "(a path of its HTTP API), when text is cut")
    pages: int | None = Field(default=None, ge=0, description="Page count, where the format has pages (PDF, OFD)")
    title: str | None = Field(default=None, description="The title the file itself records, where the format has one")


class DisclosureMetadata(BaseModel):
    """The 政府信息公开 metadata block of a disclosure page. All values are as printed,
    whitespace-normalised; dates are parsed. Unknown labels are kept in ``extra``."""

    index_number: str | None = Field(default=None, description="索引号, an opaque string (never a date)")
    publisher: str | None = Field(default=None, description="发布机构 / 发文机关")
    topic: str | None = Field(default=None, description="主题分类 / 组配分类")
    genre: str | None = Field(default=None, description="体裁分类")
    written_date: dt.date | None = Field(default=None, description="成文日期 / 生成日期")
    published_date: dt.date | None = Field(default=None, description="发布日期 as printed in the block")
    document_number: str | None = Field(default=None, description="发文字号 / 文号 / 文件编号, e.g. 仑政办发〔2024〕12号")
    validity: str | None = Field(default=None, description="有效性")
    keywords: list[str] = Field(default_factory=list, description="主题词")
    disclosure_mode: str | None = Field(default=None, description="公开方式 (主动公开 / 依申请公开)")
    extra: dict[str, str] = Field(default_factory=dict, description="Other label → value pairs")

    def is_empty(self) -> bool:
        return not any(v for v in self.model_dump().values())


class FieldError(BaseModel):
    """A value the normalizer could not read (an error), or read with a doubt (a warning); the
    rest of the item is kept."""

    field: str = Field(description="The field, e.g. published_at or disclosure.written_date; "
                                   "encoding or extraction for the page as a whole")
    message: str = Field(description="What went wrong, in plain words")
    raw: str | None = Field(default=None, description="The text that could not be read, if any")
    severity: Literal["error", "warning"] = Field(
        default="error", description="error: the value could not be read (left empty, or taken from the "
                                     "next source); warning: read, but part of it may be wrong (e.g. "
                                     "characters lost to undecodable bytes)")


class ArticleKind(StrEnum):
    """The kind of a 政务公开 article (the guidance's second level)."""

    NEWS = "政务信息"
    POLICY = "政策法规"
    NOTICE = "通知公告"
    APPOINTMENT = "人事任免"
    ANNUAL_GOALS = "年度工作目标和执行情况"
    OTHER = "其他公开信息"


class Image(BaseModel):
    """An image of the main content: absolute URL and alternative text."""

    model_config = ConfigDict(frozen=True)

    url: HttpUrl = Field(description="Absolute URL of the image")
    alt: str | None = Field(default=None, description="alt / title text")


class _Item(BaseModel):
    """What every item of the exchange standard carries."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = Field(default=SCHEMA_VERSION, description="Version of the exchange standard")
    id: str = Field(description="document_id(canonical source URL): 32 hex digits", pattern=r"^[0-9a-f]{32}$")
    site_code: str = Field(pattern=SITE_CODE_PATTERN, description="Subsite code: a lower-case letter, then up to 30 letters or digits, e.g. rsj for rsj.bl.gov.cn")
    column_path: list[str] = Field(description="Column names from the site root, e.g. ['政务公开', '通知公告']")
    category: Category = Field(description="Top-level taxonomy of the guidance: 政务公开 / 政民互动 / 网上服务")
    source_url: HttpUrl = Field(description="Canonical URL of the page on the subsite")
    fetched_at: ShanghaiDatetime = Field(description="When the gateway fetched the page (Asia/Shanghai)")
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

    @computed_field  # type: ignore[prop-decorator]  # mypy takes no decorator above @property (as pydantic documents)
    @property
    def content_hash(self) -> str:
        """SHA-256 over everything a reader sees; fetched_at and field errors are left out, so an
        unchanged page gives an unchanged hash on every crawl."""
        payload = self.model_dump_json(exclude={"fetched_at", "field_errors", "content_hash"})
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def display_title(self) -> str:
        """The item's title as a list or a search result shows it."""
        raise NotImplementedError

    def search_text(self) -> str:
        """The text the search index reads for this item."""
        raise NotImplementedError


SUMMARY_LENGTH = 160


def summarize(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """The first whole sentences of a text that fit in ``limit`` characters (the first
    sentence cut with an ellipsis when even it is longer)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    end = max(cut.rfind(mark) for mark in "。！？；!?")
    return cut[: end + 1] if end >= limit // 3 else cut[: limit - 1] + "…"


class Article(_Item):
    """One article of a subsite (政务信息, 通知公告, 政策法规, 人事任免, 年度工作目标和执行情况 and
    other disclosure items)."""

    item_type: Literal["article"] = Field(default="article", description="Always 'article'")
    kind: ArticleKind = Field(default=ArticleKind.OTHER, description="政务信息 / 政策法规 / 通知公告 / 人事任免 / 年度工作目标和执行情况 / 其他公开信息")
    title: str = Field(min_length=1, description="The article's own title (not the site's or the column's)")
    summary: str = Field(default="", description="The first sentences of the body, at most 160 characters")
    published_at: ShanghaiDatetime | None = Field(default=None, description="发布日期/发布时间: publication time, Asia/Shanghai")
    published_precision: Literal["day", "minute", "second"] | None = Field(
        default=None, description="How much of published_at the page printed (a day-only date is midnight)")
    body_text: str = Field(description="Main text, paragraphs separated by blank lines")
    body_html: str = Field(description="Main content as sanitized HTML (no scripts, handlers, styles or Word markup)")
    disclosure: DisclosureMetadata = Field(default_factory=DisclosureMetadata,
                                           description="政府信息公开 metadata (索引号, 发布机构, 成文日期, 发文字号…)")
    attachments: list[Attachment] = Field(default_factory=list, description="附件: files linked from the article")
    images: list[Image] = Field(default_factory=list, description="Images of the main content")

    @model_validator(mode="after")
    def _default_summary(self) -> Article:
        if not self.summary and self.body_text:
            self.summary = summarize(self.body_text)
        return self

    @property
    def display_title(self) -> str:
        return self.title

    def search_text(self) -> str:
        return self.body_text


class Leader(BaseModel):
    """领导介绍: one leader of the organisation."""

    name: str = Field(min_length=1, description="姓名")
    post: str | None = Field(default=None, description="职务, e.g. 局长")
    duties: str | None = Field(default=None, description="分工 / 工作职责")
    photo_url: HttpUrl | None = Field(default=None, description="照片")


class Organisation(_Item):
    """机构概况: name, structure, functions, contact, and the leaders."""

    item_type: Literal["organisation"] = Field(default="organisation", description="Always 'organisation'")
    name: str = Field(min_length=1, description="机构名称")
    functions: str | None = Field(default=None, description="机构职能 (主要职责), as text")
    structure: list[str] = Field(default_factory=list, description="机构设置: internal units (内设机构), one per entry")
    address: str | None = Field(default=None, description="办公地址")
    phones: list[str] = Field(default_factory=list, description="联系电话 / 传真")
    office_hours: str | None = Field(default=None, description="办公时间")
    leaders: list[Leader] = Field(default_factory=list, description="领导介绍")

    @property
    def display_title(self) -> str:
        return self.name

    def search_text(self) -> str:
        leaders = "\n".join(f"{x.name} {x.post or ''} {x.duties or ''}" for x in self.leaders)
        return "\n\n".join(t for t in (self.functions, "\n".join(self.structure), self.address, leaders) if t)


class Office(BaseModel):
    """办理机构 / 办事机构: where the service is handled."""

    name: str | None = Field(default=None, description="机构名称")
    address: str | None = Field(default=None, description="办理地点")
    phone: str | None = Field(default=None, description="联系电话")
    hours: str | None = Field(default=None, description="办理时间")


class Material(BaseModel):
    """One entry of 申报材料 / 所需材料."""

    name: str = Field(min_length=1, description="材料名称")
    form: str | None = Field(default=None, description="材料形式: 原件 / 复印件 / 电子件 / 原件和复印件…")
    copies: int | None = Field(default=None, ge=0, description="份数")
    required: bool | None = Field(default=None, description="是否必需 (必要 / 非必要 / 容缺)")
    note: str | None = Field(default=None, description="备注 / 要求")


class TimeLimit(BaseModel):
    """办理时限: 即办件 or 承诺件 with legal and promised limits in working days."""

    kind: Literal["即办件", "承诺件"] | None = Field(default=None, description="办件类型")
    legal_days: int | None = Field(default=None, ge=0, description="法定期限 (工作日)")
    promised_days: int | None = Field(default=None, ge=0, description="承诺期限 (工作日); 0 for 即办件")
    text: str | None = Field(default=None, description="办理时限 as printed")


class Fee(BaseModel):
    """收费: whether the service is charged, the standard and its legal basis."""

    charged: bool | None = Field(default=None, description="是否收费")
    standard: str | None = Field(default=None, description="收费标准")
    basis: str | None = Field(default=None, description="收费依据")


class ServiceGuide(_Item):
    """办事指南: one service item of 网上服务, with every field the Zhejiang guides carry."""

    item_type: Literal["service_guide"] = Field(default="service_guide", description="Always 'service_guide'")
    name: str = Field(min_length=1, description="事项名称")
    code: str | None = Field(default=None, description="事项编码")
    scope: list[str] = Field(default_factory=list, description="受理范围 / 服务对象: 个人 / 法人")
    office: Office | None = Field(default=None, description="办理机构 / 办事机构")
    conditions: str | None = Field(default=None, description="受理条件 / 申请条件")
    legal_basis: list[str] = Field(default_factory=list, description="办理依据 / 设定依据, one law per entry")
    materials: list[Material] = Field(default_factory=list, description="申报材料 / 所需材料")
    procedure: list[str] = Field(default_factory=list, description="办理程序 / 办理流程, one step per entry")
    flowchart_url: HttpUrl | None = Field(default=None, description="流程图")
    time_limit: TimeLimit = Field(default_factory=TimeLimit, description="办理时限 (法定期限, 承诺期限)")
    fee: Fee = Field(default_factory=Fee, description="收费标准 and 收费依据")
    forms: list[Attachment] = Field(default_factory=list, description="表格下载: blank forms and samples")
    online_url: HttpUrl | None = Field(default=None, description="网上办理 / 网上预审 link")
    status_query_url: HttpUrl | None = Field(default=None, description="办事查询 / 网上查询 link")
    consult_phone: str | None = Field(default=None, description="咨询电话")
    complaint_phone: str | None = Field(default=None, description="监督投诉电话")

    @property
    def display_title(self) -> str:
        return self.name

    def search_text(self) -> str:
        parts = [self.conditions, "\n".join(m.name for m in self.materials), "\n".join(self.procedure),
                 "\n".join(self.legal_basis), self.office.name if self.office else None]
        return "\n\n".join(t for t in parts if t)


class Letter(_Item):
    """政民互动: a letter to a mailbox (信箱) with its reply, or a published Q&A (在线问答).
    The asker's personal data is masked (names, phone numbers, ID and e-mail)."""

    item_type: Literal["letter"] = Field(default="letter", description="Always 'letter'")
    mailbox: str | None = Field(default=None, description="信箱: 咨询 / 投诉 / 举报 / 建议 / 领导信箱 / 在线问答")
    number: str | None = Field(default=None, description="信件编号")
    title: str = Field(min_length=1, description="标题 / 主题, personal data masked")
    asker: str | None = Field(default=None, description="来信人, masked (e.g. 王*)")
    asked_at: ShanghaiDatetime | None = Field(default=None, description="来信时间 / 提问时间")
    question: str = Field(default="", description="来信内容 / 问题, personal data masked")
    reply_unit: str | None = Field(default=None, description="回复单位 / 答复部门")
    reply: str | None = Field(default=None, description="回复内容 / 答复, personal data masked")
    replied_at: ShanghaiDatetime | None = Field(default=None, description="回复时间 / 答复时间")
    status: str | None = Field(default=None, description="办理状态: 已办结 / 办理中 / 已受理…")

    @field_validator("asker", "title", "question", "reply", mode="after")
    @classmethod
    def _masked(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.field_name == "asker":
            return mask_name(value)
        # the asker's phone numbers are private; the replying office's numbers are public
        return mask_personal_data(value, landlines=info.field_name != "reply")

    @property
    def display_title(self) -> str:
        return self.title

    def search_text(self) -> str:
        return "\n\n".join(t for t in (self.question, self.reply) if t)


class ColumnNode(BaseModel):
    """One column of a site's navigation tree."""

    name: str = Field(min_length=1, description="栏目名称")
    url: HttpUrl | None = Field(default=None, description="The column's list page on the subsite (None for a heading)")
    path: list[str] = Field(description="Column path from the site root")
    category: Category | None = Field(default=None, description="政务公开 / 政民互动 / 网上服务")
    item_type: str | None = Field(default=None, description="What the column lists: article, service_guide, letter, organisation")
    document_count: int | None = Field(default=None, ge=0, description="Items of this column in the store")
    children: list[ColumnNode] = Field(default_factory=list, description="Sub-columns")


class Navigation(_Item):
    """网站导航: a site's column tree with URLs, for the portal's navigation map."""

    item_type: Literal["navigation"] = Field(default="navigation", description="Always 'navigation'")
    site_name: str = Field(min_length=1, description="The subsite's name")
    base_url: HttpUrl = Field(description="The subsite's public home page")
    columns: list[ColumnNode] = Field(default_factory=list, description="Top-level columns")

    @property
    def display_title(self) -> str:
        return self.site_name

    def search_text(self) -> str:
        return ""


ExchangeItem = Annotated[
    Article | Organisation | ServiceGuide | Letter | Navigation, Field(discriminator="item_type")
]
ITEM_MODELS: dict[str, type[_Item]] = {
    "article": Article, "organisation": Organisation, "service_guide": ServiceGuide,
    "letter": Letter, "navigation": Navigation,
}
_ITEM_ADAPTER: TypeAdapter[ExchangeItem] = TypeAdapter(ExchangeItem)


def parse_item(data: dict[str, Any] | str | bytes) -> Article | Organisation | ServiceGuide | Letter | Navigation:
    """Any exchange-standard item from a dict or JSON; items without ``item_type`` (version 0)
    are articles."""
    if isinstance(data, str | bytes):
        data = json.loads(data)
    if isinstance(data, dict) and "item_type" not in data:
        data = {**data, "item_type": "article"}
    return _ITEM_ADAPTER.validate_python(data)
