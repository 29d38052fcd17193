"""The declarative site plugin format, validated by pydantic.

A site plugin is a TOML file; its tables map one to one onto the models below. Unknown keys
are errors (a misspelt ``lst`` must not be silently ignored), and every error names the file,
the line and the field. See docs/plugins.md for a worked example.
"""

from __future__ import annotations

import builtins
import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsel import Selector
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from gateway.scope import Refusal, Scope, canonical_host, parse_origin
from normalizers.fields import SETTABLE
from normalizers.models import SITE_CODE_PATTERN, ArticleKind, Category
from normalizers.page import ExtractionHints
from normalizers.taxonomy import Classification, classify
from plugins.cron import parse_schedule

XPATH_PREFIXES = ("/", "(", "./")


def check_selector(value: str) -> str:
    """A CSS selector (parsel's ``::text``/``::attr(x)`` allowed) or an XPath expression
    (starting with ``/``, ``./`` or ``(``); compiled now, so a typo fails at load time."""
    text = value.strip()
    if not text:
        raise ValueError("a selector cannot be empty")
    probe = Selector(text="<html><body></body></html>")
    try:
        if text.startswith(XPATH_PREFIXES):
            probe.xpath(text)
        else:
            probe.css(text)
    except Exception as exc:  # noqa: BLE001 - cssselect and lxml raise unrelated types
        kind = "XPath" if text.startswith(XPATH_PREFIXES) else "CSS"
        raise ValueError(f"not a valid {kind} selector: {text!r} ({exc})") from None
    return text


def check_selector_or_regex(value: str) -> str:
    if value.startswith("re:"):
        try:
            if re.compile(value[3:]).groups != 1:
                raise ValueError(f"the regex {value[3:]!r} needs exactly one group (the number)")
        except re.error as exc:
            raise ValueError(f"not a valid regex: {value[3:]!r} ({exc})") from None
        return value
    return check_selector(value)


Sel = Annotated[str, AfterValidator(check_selector)]
SelOrRegex = Annotated[str, AfterValidator(check_selector_or_regex)]
Render = Literal["html", "browser"]
ItemType = Literal["article", "service_guide", "letter", "organisation"]


# query keys that name a column in list and article URLs (PHPCMS catid, DedeCMS tid/typeid,
# EmpireCMS classid, home-made CMSes' lmid/colid/cid…)
_COLUMN_KEYS = frozenset({"catid", "tid", "typeid", "classid", "cid", "lmid", "colid", "columnid", "channelid",
                          "nodeid", "sortid", "cat", "category", "class1", "class2", "class3"})

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def validate_schedule(value: str) -> str:
    """A five-field cron expression (``0 2 * * *``, Beijing time), an interval (``every 6h``,
    ``every 1h30m``) or ``manual``; returned normalized. See :mod:`plugins.cron`."""
    return parse_schedule(value).text


# --- Paging -----------------------------------------------------------------------------


class NoPaging(_Strict):
    """The list has one page."""

    type: Literal["none"]


class NextLinkPaging(_Strict):
    """Follow a 'next page' link (下一页) found by a selector until there is none."""

    type: Literal["next_link"]
    next: Sel = Field(description="CSS or XPath selector of the next page's URL (an href)")
    max_pages: int = Field(500, ge=1, le=100_000)


class QueryParamPaging(_Strict):
    """Change one query parameter (``page=2``, ``PageNo=3``) until a page brings no new item
    or ``last_page`` says so."""

    type: Literal["query"]
    param: str = Field(min_length=1)
    first: int = Field(1, description="The number of the column's first page")
    step: int = Field(1, ge=1)
    last_page: SelOrRegex | None = Field(
        None, description="Selector of the number of pages, or regex with one group over the HTML"
    )
    max_pages: int = Field(500, ge=1, le=100_000)


class PostbackPaging(_Strict):
    """ASP.NET WebForms: post the list's form back with ``__EVENTTARGET`` = the pager's control
    and ``__EVENTARGUMENT`` = ``Page$N`` (with ``__VIEWSTATE`` & co. from the current page),
    page after page until the pager has no next page. An expired or invalid ViewState restarts
    the list from its first page (up to ``max_restarts`` times)."""

    type: Literal["postback"]
    target: str = Field("detect", min_length=1,
                        description="The pager's event target (e.g. ctl00$Main$GridView1), or 'detect'")
    form: Sel | None = Field(None, description="Selector of the form to post; default the one holding __VIEWSTATE")
    max_pages: int = Field(500, ge=1, le=100_000)
    max_restarts: int = Field(3, ge=0, le=20)


class TrsPaging(_Strict):
    """TRS WCM: ``index.html``, ``index_1.html``… whose count is given by the page's
    ``createPageHTML(N, current, "index", "html")`` script."""

    type: Literal["trs"]
    max_pages: int = Field(500, ge=1, le=100_000)


class HanwebPaging(_Strict):
    """Hanweb JCMS: page 1 is embedded in the column page as ``<datastore>`` records; further
    records come from POSTing the column's form to ``dataproxy.jsp?startrecord=&endrecord=&perpage=``."""

    type: Literal["hanweb"]
    records_per_request: int = Field(45, ge=1, le=1000, description="endrecord - startrecord + 1")
    proxy: str = Field("/module/web/jpage/dataproxy.jsp",
                       description="The data proxy's path when the page does not name it")
    max_pages: int = Field(500, ge=1, le=100_000, description="The most proxy requests per column")


Paging = Annotated[
    NoPaging | NextLinkPaging | QueryParamPaging | PostbackPaging | TrsPaging | HanwebPaging,
    Field(discriminator="type"),
]


# --- List and detail extraction ---------------------------------------------------------


class ListRules(_Strict):
    """How to read a list page. Selectors are CSS (``a::attr(href)`` works), or XPath when they
    start with ``/`` or ``(``. ``link``, ``title`` and ``date`` apply inside each ``item``."""

    item: Sel = Field(description="Selector of one entry of the list")
    link: Sel = Field("a::attr(href)", description="Selector of the entry's detail URL")
    title: Sel | None = Field("a::attr(title)", description="Selector of the entry's title")
    date: Sel | None = Field(None, description="Selector of the entry's date")
    follow_frames: bool = Field(True, description="A first list page with no entries: read its frames/iframes")
    wait_for: Sel | None = Field(None, description="Browser pages: the selector to wait for (default: item)")
    paging: Paging = Field(default_factory=lambda: NoPaging(type="none"))


class DetailRules(_Strict):
    """Selectors for detail pages; any left out is found by the normalizer's heuristics."""

    title: Sel | None = None
    body: Sel | None = None
    published_at: Sel | None = None
    disclosure_table: Sel | None = None
    attachments: Sel | None = None
    remove: list[Sel] = Field(default_factory=list, description="Boilerplate inside the body")
    strip_text: list[str] = Field(default_factory=list, description="Regular expressions of boilerplate text "
                                                                    "inside the body that no selector reaches, "
                                                                    "e.g. '[（(]责任编辑[：:][^）)]*[）)]'")
    pages: Sel | None = Field(None, description="Multi-page articles: selector of the links (or their hrefs) to "
                                                "the article's other pages, e.g. the pager under the body; "
                                                "they are fetched like any page and their bodies appended")
    max_pages: int = Field(100, ge=2, le=1000, description="The most pages of one multi-page article")
    wait_for: Sel | None = Field(None, description="Browser pages: the selector to wait for (default: title)")
    fields: dict[str, Sel] = Field(default_factory=dict, description=(
        "Organisation, service-guide and letter pages: field → selector of the element that holds it, read "
        "instead of the page's labels, e.g. { address = \"td.addr\", \"office.phone\" = \"#tel\" }"))
    disclosure_labels: dict[str, str] = Field(
        default_factory=dict, description="Site-specific label → DisclosureMetadata field"
    )

    @field_validator("strip_text")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                re.compile(text)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc}): {text!r}") from None
        return value

    @field_validator("pages")
    @classmethod
    def _pages_without_regex(cls, value: str | None) -> str | None:
        # the spider reads an article's pager as it fetches (not in the budgeted worker): a
        # regular expression there could stall the crawl on a hostile page
        if value and "re:" in value:
            raise ValueError("a pages selector cannot use regular expressions (re:); select the pager's links")
        return value

    @field_validator("fields")
    @classmethod
    def _settable(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - SETTABLE)
        if unknown:
            raise ValueError(f"no such field: {', '.join(unknown)} (fields a selector can set: "
                             f"{', '.join(sorted(SETTABLE))})")
        return value

    def hints(self) -> ExtractionHints:
        return ExtractionHints(
            title=self.title,
            body=self.body,
            published_at=self.published_at,
            disclosure_table=self.disclosure_table,
            attachments=self.attachments,
            disclosure_labels=dict(self.disclosure_labels),
            remove=tuple(self.remove),
            strip_text=tuple(self.strip_text),
            fields=dict(self.fields),
        )


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_page_url(value: str) -> str:
    """A page URL of a plugin: a path relative to ``base_url``, or an absolute http(s) URL
    (``javascript:``, ``ftp:``, ``file:``… are refused: a plugin is untrusted input)."""
    text = value.strip()
    if _SCHEME.match(text) and not text.lower().startswith(("http:", "https:")):
        raise ValueError("must be a path relative to base_url or an http(s) URL")
    if _SCHEME.match(text):
        origin = parse_origin(text)
        if isinstance(origin, Refusal):
            raise ValueError(f"{origin.reason}: {value!r}")
    return text


PageUrl = Annotated[str, AfterValidator(check_page_url)]


class Column(_Strict):
    """One column (栏目) of the site with its list URL and place in the taxonomy."""

    name: str = Field(min_length=1)
    url: PageUrl = Field(min_length=1, description="List URL, relative to base_url or absolute (in the site's scope)")
    path: builtins.list[str] = Field(default_factory=list, description="Column path; default [category, name]")
    category: Category | None = Field(None, description="政务公开 / 政民互动 / 网上服务; default: classified")
    kind: ArticleKind | None = Field(None, description="Article kind (通知公告, 政策法规…); default: classified")
    item_type: ItemType | None = Field(None, description="article, service_guide, letter or organisation; default: classified")
    list: ListRules | None = Field(None, description="Overrides the site's list rules")
    detail: DetailRules | None = Field(None, description="Overrides the site's detail rules")
    render: Render | None = Field(None, description="'browser' renders this column's pages in Chromium")
    layout: Literal["list", "page"] = Field(
        "list", description="'list': the column page lists the items (read with the list rules); 'page': the "
                            "column page is itself the content (领导介绍, 机构职能, 联系我们), one item")
    update_days: int | None = Field(
        None, ge=1, le=3660, description="Site health (栏目不更新): the column's update window in days; default "
                                         "from its kind (动态/要闻 14, 通知公告/政策文件 183, others 365)")

    @property
    def classification(self) -> Classification:
        """The column's place in the guidance's taxonomy: the plugin's values, else the rules of
        :mod:`normalizers.taxonomy` over the column's name, path and URL."""
        found = classify(self.name, self.path, self.url)
        category = self.category or found.category
        item_type = self.item_type or found.item_type
        kind = self.kind or found.kind or (ArticleKind.OTHER if item_type == "article" else None)
        overridden = [f for f in ("category", "kind", "item_type") if getattr(self, f) is not None]
        reason = f"set in the plugin: {', '.join(overridden)}; " if overridden else ""
        return Classification(category, item_type, kind if item_type == "article" else None, reason + found.reason)

    @property
    def column_path(self) -> tuple[str, ...]:
        return tuple(self.path) if self.path else (self.classification.category.value, self.name)


class SiteInfo(_Strict):
    """The ``[site]`` table: who the site is and how to treat it."""

    code: str = Field(pattern=SITE_CODE_PATTERN, description="Site code, e.g. rsj (rsj.bl.gov.cn)")
    name: str = Field(min_length=1)
    base_url: str = Field(description="The site's public origin, e.g. http://rsj.bl.gov.cn/")
    allowed_domains: list[str] = Field(default_factory=list,
                                       description="More hosts of the site (fetched on ports 80 and 443)")
    allowed_origins: list[str] = Field(default_factory=list,
                                       description="More origins the site's pages may be fetched from, exactly "
                                                   "(e.g. https://cdn.example.gov.cn for attachments)")
    start_urls: list[PageUrl] = Field(default_factory=list, description="Extra pages to start from")
    schedule: str = Field("0 2 * * *", description="Cron expression (Beijing time), 'every 6h', or 'manual'")
    obey_robots: bool = True
    platform: str = Field("generic", description="php, aspnet, asp, trs, hanweb, generic…")
    concurrency: int = Field(2, ge=1, le=2, description="Requests in flight to this site (1-2)")
    download_delay: float = Field(0.5, ge=0, le=60, description="Seconds between requests")
    render: Render = Field("html", description="'browser' renders every page in Chromium (scrapy-playwright)")
    attachments: bool = Field(True, description="Fetch, keep and read the attachments of the site's items "
                                                "(false: only their links are recorded)")
    attachment_max_bytes: int | None = Field(None, ge=1, description="This site's attachment size cap in bytes "
                                                                      "(at most BLGW_ATTACHMENT_MAX_BYTES, "
                                                                      "the global cap)")
    ocr: bool = Field(False, description="Read scanned PDF attachments (no text layer) by OCR: Tesseract chi_sim, "
                                         "about 5 CPU seconds a page")
    ocr_pages: int = Field(20, ge=1, le=1000, description="The most pages of one scanned file read by OCR")

    @field_validator("base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        origin = parse_origin(value)
        if isinstance(origin, Refusal):
            raise ValueError(f"{origin.reason}: {value!r}")
        return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", "", ""))

    @field_validator("allowed_domains")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if any(c in host for c in "/:@"):
                raise ValueError(f"a host name without scheme or port, got {host!r} (origins go in allowed_origins)")
            canonical_host(host)
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for text in value:
            origin = parse_origin(text)
            if isinstance(origin, Refusal):
                raise ValueError(f"{origin.reason}: {text!r}")
            if urlsplit(text).path not in ("", "/") or urlsplit(text).query:
                raise ValueError(f"an origin is scheme://host[:port], without a path: {text!r}")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)


LOG_FORMATS = ("auto", "w3c", "iis", "combined", "common")


class LogRules(_Strict):
    """``[logs]``: where the site's access logs are delivered and how they are written (docs/logs.md)."""

    format: str = Field("auto", description="w3c, iis, combined, common, auto, 'apache:LOGFORMAT' or "
                                            "'nginx:LOG_FORMAT'")
    folder: str | None = Field(None, description="A folder watched by `blgw scheduler` for the site's log files")
    pattern: str = Field("*", min_length=1, description="The files of the folder that are logs (a glob)")
    timezone: str = Field("Asia/Shanghai", description="The zone of formats that log local time without an offset "
                                                       "(iis)")
    forwarded: bool = Field(False, description="Behind a proxy: the client is the first address of X-Forwarded-For")

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        name, colon, layout = value.partition(":")
        if colon and name in ("apache", "nginx") and layout.strip():
            return value
        if not colon and value in LOG_FORMATS:
            return value
        raise ValueError(f"unknown log format {value!r}: one of {', '.join(LOG_FORMATS)}, "
                         "'apache:LOGFORMAT' or 'nginx:LOG_FORMAT'")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class SiteSpec(_Strict):
    """A whole site plugin: ``[site]``, default ``[list]``/``[detail]`` rules, ``[[columns]]``,
    and where its access logs come from (``[logs]``)."""

    site: SiteInfo
    list: ListRules | None = None
    detail: DetailRules = Field(default_factory=DetailRules)
    columns: builtins.list[Column] = Field(min_length=1)
    logs: LogRules = Field(default_factory=LogRules)
    source: str = Field("<python>", exclude=True, description="Where the spec came from")

    @model_validator(mode="before")
    @classmethod
    def _presets_and_inheritance(cls, data: object) -> object:
        """The platform preset supplies ``[list]``/``[detail]`` keys the plugin leaves out, and
        a column's ``list``/``detail`` tables inherit the site's, key by key."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        site = data.get("site")
        platform = site.get("platform") if isinstance(site, dict) else None
        preset = load_preset(platform) if isinstance(platform, str) else {}
        if preset.get("site") and isinstance(site, dict):
            data["site"] = {**preset["site"], **site}
        for key in ("list", "detail"):
            own = data.get(key)
            if preset.get(key) and (own is None or isinstance(own, dict)):
                data[key] = {**preset[key], **(own or {})}
        columns = data.get("columns")
        if isinstance(columns, builtins.list):
            merged = []
            for column in columns:
                if isinstance(column, dict):
                    column = dict(column)
                    for key in ("list", "detail"):
                        if isinstance(column.get(key), dict) and isinstance(data.get(key), dict):
                            column[key] = {**data[key], **column[key]}
                merged.append(column)
            data["columns"] = merged
        return data

    @model_validator(mode="after")
    def _every_column_has_list_rules(self) -> SiteSpec:
        for index, column in enumerate(self.columns):
            if column.layout == "list" and column.list is None and self.list is None:
                raise ValueError(
                    f"columns[{index}] ({column.name}) has no list rules: "
                    "add a [list] table for the site or a [columns.list] table"
                )
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"column names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def code(self) -> str:
        return self.site.code

    @property
    def name(self) -> str:
        return self.site.name

    def list_rules(self, column: Column) -> ListRules:
        """The list rules of a ``layout = "list"`` column (a single-page column has no list)."""
        rules = column.list or self.list
        assert rules is not None  # guaranteed by the validator for list columns
        return rules

    def detail_rules(self, column: Column) -> DetailRules:
        return column.detail or self.detail

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"site {self.code} has no column {name!r}")

    def primary_column(self, url: str, listed_in: Iterable[str]) -> str | None:
        """The column a document listed in several columns belongs to: the one its URL names
        (a column page's folder the document's path is in, ``/xwzx/tzgg/`` for
        ``/xwzx/tzgg/2024/0502/73.html``, or a column's query key and value, ``catid=9``, in the
        document's query), the longest such name winning; else the most specific (the deepest
        column path); else the first in the plugin. Columns the plugin no longer has are
        ignored; None when none is left."""
        names = set(listed_in)
        candidates = [c for c in self.columns if c.name in names]
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0].name
        doc = urlsplit(url)
        doc_query = set(parse_qsl(doc.query, keep_blank_values=True))

        def named(column: Column) -> int:
            page = urlsplit(urljoin(self.site.base_url, column.url))
            folder = page.path.rsplit("/", 1)[0] + "/"
            by_path = len(folder) if folder != "/" and doc.path.startswith(folder) else 0
            keys = {(k, v) for k, v in parse_qsl(page.query, keep_blank_values=True) if k.lower() in _COLUMN_KEYS}
            by_query = sum(len(k) + len(v) + 1 for k, v in keys) if keys and keys <= doc_query else 0
            return max(by_path, by_query)

        order = {c.name: i for i, c in enumerate(self.columns)}
        return max(candidates, key=lambda c: (named(c), len(c.column_path), -order[c.name])).name

    def allowed_domains(self) -> builtins.list[str]:
        host = urlsplit(self.site.base_url).hostname or ""
        return sorted({host, *self.site.allowed_domains})

    def scope(self, fetch_origin: str | None = None) -> Scope:
        """Where this site's requests may go (:mod:`gateway.scope`): its base URL's origin, its
        hosts and extra origins, and ``fetch_origin`` (a mirror or test server) when given."""
        return Scope.of(self.site.base_url, hosts=self.site.allowed_domains, origins=self.site.allowed_origins,
                        fetch_origin=fetch_origin)

    def url_problems(self) -> builtins.list[tuple[tuple[str | int, ...], str]]:
        """(location, message) of each start or column URL outside the site's scope: a plugin
        may not point the crawl at another site, another port or an internal address."""
        scope = self.scope()
        problems: builtins.list[tuple[tuple[str | int, ...], str]] = []
        located: builtins.list[tuple[tuple[str | int, ...], str]] = [
            (("site", "start_urls", i), url) for i, url in enumerate(self.site.start_urls)]
        located += [(("columns", i, "url"), column.url) for i, column in enumerate(self.columns)]
        for loc, url in located:
            refusal = scope.check(urljoin(self.site.base_url, url))
            if refusal is not None:
                problems.append((loc, f"{refusal.reason} (got {url!r})"))
        return problems


PRESETS_DIR = Path(__file__).resolve().parent / "presets"


@functools.cache
def load_preset(platform: str) -> dict[str, Any]:
    """The ``[site]`` (``render`` only), ``[list]`` and ``[detail]`` defaults of a platform
    (``plugins/presets/<platform>.toml``);
    empty for a platform without a preset."""
    path = PRESETS_DIR / f"{platform}.toml"
    if not re.fullmatch(r"[a-z0-9_]+", platform) or not path.is_file():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {key: data[key] for key in ("site", "list", "detail") if key in data}


@dataclass(frozen=True)
class ListEntry:
    """One entry found on a list page: the detail URL and what the list shows of it."""

    url: str
    title: str | None = None
    date: str | None = None
