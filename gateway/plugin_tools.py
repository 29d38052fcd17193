"""Integrator tooling: ``blgw plugin check`` (a dry run) and ``blgw plugin new`` (scaffolding).

The dry run crawls a few list pages and detail pages of each column with the real spider and
the real normalizers, and prints the paging decisions and the items; it writes nothing to the
store or the index. The scaffold fetches a home page, guesses the platform and the columns, and
writes a plugin that validates, with the platform's preset doing the rest.
"""

from __future__ import annotations

import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from normalizers.models import Article
from spiders.items import CrawlProblem


@dataclass
class CheckReport:
    site_code: str
    decisions: list[tuple[str, int, str, int, str]] = field(default_factory=list)
    items: list[tuple[str, Article]] = field(default_factory=list)
    problems: list[CrawlProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    taxonomy: dict[str, str] = field(default_factory=dict)  # column → classification, with its reason

    def empty_columns(self) -> list[str]:
        found = {column for column, _ in self.items}
        return [c for c in self.columns if c not in found]

    @property
    def ok(self) -> bool:
        return not self.empty_columns() and not any(p.kind in ("extraction", "plugin", "paging") for p in self.problems)

    def as_json(self) -> dict[str, Any]:
        return {
            "site_code": self.site_code,
            "ok": self.ok,
            "paging": [{"column": c, "page": n, "url": u, "new_entries": e, "decision": d}
                       for c, n, u, e, d in self.decisions],
            "items": [{"column": c, **a.model_dump(mode="json")} for c, a in self.items],
            "problems": [{"url": p.url, "kind": p.kind, "message": p.message, "field": p.field}
                         for p in self.problems],
            "empty_columns": self.empty_columns(),
            "taxonomy": self.taxonomy,
        }

    def format(self) -> str:
        lines = []
        for column in self.columns:
            lines.append(f"column {column}")
            if column in self.taxonomy:
                lines.append(f"  taxonomy: {self.taxonomy[column]}")
            for c, number, url, entries, decision in self.decisions:
                if c == column:
                    lines.append(f"  list page {number:<3} {entries:>3} new entries  {url}")
                    lines.append(f"      → {decision}")
            items = [a for c, a in self.items if c == column]
            lines.append(f"  items checked: {len(items)}")
            for a in items:
                when = getattr(a, "published_at", None) or getattr(a, "asked_at", None)
                date = when.strftime("%Y-%m-%d %H:%M") if when else "NO DATE"
                lines.append(f"    [{date}] {a.display_title}")
                lines.append(f"      {a.source_url}")
                if isinstance(a, Article):
                    meta = [f"{label} {value}" for label, value in (
                        ("索引号", a.disclosure.index_number), ("发文字号", a.disclosure.document_number),
                        ("发布机构", a.disclosure.publisher)) if value]
                    meta.append(f"{a.kind.value}, body {len(a.body_text)} chars")
                    meta.append(f"{len(a.attachments)} attachment(s)")
                else:
                    meta = [a.item_type, f"text {len(a.search_text())} chars"]
                lines.append("      " + " | ".join(meta))
                for error in a.field_errors:
                    lines.append(f"      field error {error.field}: {error.message}")
        if self.problems:
            lines.append("problems:")
            lines.extend(f"  {p.kind}: {p.url}: {p.message}" for p in self.problems)
        empty = self.empty_columns()
        if empty:
            lines.append(f"NO ITEMS from column(s): {', '.join(empty)}")
        lines.append("check passed" if self.ok else "check FAILED")
        return "\n".join(lines)


def run_check(code: str, *, origins: dict[str, str] | None = None, columns: str | None = None,
              pages: int = 2, items: int = 3, log_level: str = "ERROR",
              overrides: dict[str, str] | None = None) -> CheckReport:
    """Crawl ``pages`` list pages and ``items`` detail pages per column; store nothing."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from gateway.cli import _registry
    from spiders.loader import PluginSpiderLoader

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.set("ITEM_PIPELINES", {"spiders.pipelines.CheckPipeline": 300}, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if origins:
        settings.set("BLGW_ORIGINS", ",".join(f"{k}={v}" for k, v in origins.items()), priority="cmdline")
    loader = PluginSpiderLoader(_registry())
    spider_cls = loader.load(code)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    kwargs = {"max_pages": str(pages), "max_items": str(items)}
    if columns:
        kwargs["columns"] = columns
    process.crawl(crawler, **kwargs)
    process.start()
    spider = crawler.spider
    chosen = [c.name for c in spider_cls.site.columns
              if not columns or c.name in {x.strip() for x in columns.split(",")}]
    taxonomy = {}
    for column in spider_cls.site.columns:
        t = column.classification
        taxonomy[column.name] = (f"{t.category.value} / {t.item_type}" + (f" / {t.kind.value}" if t.kind else "")
                                 + f" ({t.reason})")
    return CheckReport(code, list(spider.decisions), list(getattr(spider, "check_items", [])),
                       list(getattr(spider, "check_problems", [])), chosen, taxonomy)


# --- plugin new ----------------------------------------------------------------------------

USER_AGENT = "blgw-plugin-new/1.0 (+Beilun site-group gateway)"


def fetch(url: str, timeout: float = 20.0) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked
        headers = {k: v for k, v in response.headers.items()}
        set_cookies = response.headers.get_all("Set-Cookie") or []
        if set_cookies:
            headers["Set-Cookie"] = "; ".join(set_cookies)
        return response.read(), headers


@dataclass
class Scaffold:
    path: Path
    text: str
    platform: str
    guesses: list
    columns: list[tuple[str, str]]


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relative(url: str, fetch_origin: str) -> str:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}".lower() == fetch_origin.lower():
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url


def scaffold(url: str, *, code: str | None = None, name: str | None = None, base_url: str | None = None,
             out_dir: Path = Path("."), platform: str | None = None, force: bool = False) -> Scaffold:
    """Fetch ``url`` (a home page), guess the platform and columns, write ``<code>.toml``."""
    from normalizers.encoding import decode_html
    from plugins.declarative import parse_site_toml
    from plugins.detect import detect_platform, frames, suggest_columns
    from plugins.spec import SITE_CODE_PATTERN, load_preset

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    fetch_origin = f"{parts.scheme}://{parts.netloc}"
    body, headers = fetch(url)
    html = decode_html(body, headers.get("Content-Type")).text
    guesses = detect_platform(url, html, headers)
    columns = list(suggest_columns(url, html))
    for frame in frames(url, html)[:6]:  # framesets and iframes hold the navigation of old sites
        try:
            frame_body, frame_headers = fetch(frame)
        except OSError:
            continue
        frame_html = decode_html(frame_body, frame_headers.get("Content-Type")).text
        columns += [c for c in suggest_columns(frame, frame_html) if c not in columns]
        if not platform and guesses and guesses[0].platform == "generic":
            guesses = detect_platform(frame, frame_html, frame_headers)
    chosen = platform or (guesses[0].platform if guesses else "generic")

    if not code:
        host = (urlsplit(base_url).hostname if base_url else parts.hostname) or ""
        code = host.split(".")[0].lower()
        if not re.match(SITE_CODE_PATTERN, code) or code == "www":
            raise ValueError(f"cannot make a site code from the host {host!r}: pass --code (e.g. rsj)")
    if not name:
        title = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
        name = " ".join(title.group(1).split()) if title else code
        name = re.split(r"[-_|—]", name)[0].strip() or code
    base = base_url or fetch_origin + "/"

    seen: set[str] = set()
    lines = [
        f"# {name} — generated by `blgw plugin new {url}`",
        f"# platform guess: {chosen}" + (f" ({'; '.join(guesses[0].evidence[:3])})" if guesses and guesses[0].evidence else ""),
        "# Check it with `blgw plugin check " + code + "`, then keep only the columns the portal needs.",
        "",
        "[site]",
        f"code = {_toml_str(code)}",
        f"name = {_toml_str(name)}",
        f"base_url = {_toml_str(base)}",
        f"platform = {_toml_str(chosen)}",
        'schedule = "0 2 * * *"',
        "",
    ]
    if not load_preset(chosen).get("list"):
        lines += [
            "# No preset for this platform: describe the list pages (see docs/plugins.md).",
            "[list]",
            'item = "ul li"',
            'date = "span"',
            'paging = { type = "next_link", next = "//a[contains(normalize-space(), \'下一页\')]/@href" }',
            "",
        ]
    written = 0
    for column_name, column_url in columns:
        if column_name in seen:
            continue
        seen.add(column_name)
        lines += ["[[columns]]", f"name = {_toml_str(column_name)}", f"url = {_toml_str(_relative(column_url, fetch_origin))}", ""]
        written += 1
    if not written:
        lines += ["[[columns]]", '# no column links found on the home page: fill in one', 'name = "通知公告"',
                  'url = "/"', ""]
    text = "\n".join(lines)
    path = Path(out_dir) / f"{code}.toml"
    parse_site_toml(text, str(path))  # the scaffold must validate; raises PluginError if not
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Scaffold(path, text, chosen, guesses, columns)
