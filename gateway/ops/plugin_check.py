"""``blgw plugin check``: a dry run of a site plugin.

It crawls a few list pages and detail pages of each column with the real spider and the real
normalizers, and reports the paging decisions and the items; it writes nothing to the store or
the index (``BLGW_STORE_ENABLED`` off, the check pipeline instead of the store's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from normalizers.models import Article
from plugins.manager import SiteRegistry
from plugins.spec import PRESETS_DIR, SiteSpec, load_preset
from spiders.crawlstate import titles_agree
from spiders.items import CrawlProblem
from spiders.runner import run_check_crawl


@dataclass(frozen=True)
class PresetValue:
    """One value of the platform's preset: whether it applies or the plugin sets its own."""

    key: str  # list.item, detail.body…
    preset: str  # the preset's value, as TOML shows it
    applies: bool
    plugin: str | None = None  # the plugin's own value, when it replaces the preset's


def preset_values(site: SiteSpec) -> list[PresetValue]:
    """What the platform preset sets for ``site``'s ``[list]`` and ``[detail]`` tables (and
    ``[site]``), and whether each value applies or the plugin's own replaces it."""
    preset = load_preset(site.site.platform) if site.site.platform else {}
    out = []
    for table, model in (("site", site.site), ("list", site.list), ("detail", site.detail)):
        if model is None:
            continue
        own = model.model_dump(mode="json")
        for key, value in (preset.get(table) or {}).items():
            mine = own.get(key)
            if isinstance(value, dict) and isinstance(mine, dict):
                applies = all(mine.get(k) == v for k, v in value.items())
            else:
                applies = mine == value
            out.append(PresetValue(f"{table}.{key}", _toml(value), applies, None if applies else _toml(mine)))
    return out


def _toml(value: Any) -> str:
    """A value as a plugin file writes it."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class CheckReport:
    site_code: str
    decisions: list[tuple[str, int, str, int, str]] = field(default_factory=list)
    items: list[tuple[str, Article]] = field(default_factory=list)
    problems: list[CrawlProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    taxonomy: dict[str, str] = field(default_factory=dict)  # column → classification, with its reason
    list_titles: dict[str, str] = field(default_factory=dict)  # item id → the title its list entry showed
    platform: str | None = None
    preset: list[PresetValue] = field(default_factory=list)  # what the platform's preset sets, and what applies

    def title_warnings(self) -> dict[str, str]:
        """Item id → why its list title and its page title disagree (a wrong title selector, or a
        list that decorates titles: incremental runs compare list titles, so both work, but a
        wrong title selector is worth a look)."""
        out = {}
        for _, item in self.items:
            listed = self.list_titles.get(item.id)
            if listed and not titles_agree(listed, item.display_title):
                out[item.id] = f"the list shows {listed!r}"
        return out

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
            "platform": self.platform,
            "preset": [{"key": v.key, "preset": v.preset, "applies": v.applies, "plugin": v.plugin}
                       for v in self.preset],
            "taxonomy": self.taxonomy,
            "list_titles": self.list_titles,
            "title_warnings": self.title_warnings(),
        }

    def format(self) -> str:
        lines = []
        if self.preset:
            lines.append(f"preset {self.platform} ({PRESETS_DIR / f'{self.platform}.toml'}):")
            for v in self.preset:
                lines.append(f"  {v.key} = {v.preset}" if v.applies
                             else f"  {v.key}: the plugin's {v.plugin} replaces the preset's {v.preset}")
        warnings = self.title_warnings()
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
                listed = self.list_titles.get(a.id)
                if a.id in warnings:
                    lines.append(f"      WARNING: title differs from its list entry: {warnings[a.id]}")
                elif listed and listed != a.display_title:
                    lines.append(f"      list title: {listed}")
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


def run_check(registry: SiteRegistry, code: str, *, origins: dict[str, str] | None = None,
              columns: str | None = None, pages: int = 2, items: int = 3, log_level: str = "ERROR",
              overrides: dict[str, str] | None = None) -> CheckReport:
    """Crawl ``pages`` list pages and ``items`` detail pages per column; store nothing."""
    site = registry.get(code)
    result = run_check_crawl(registry, code, origins=origins, columns=columns, pages=pages, items=items,
                             log_level=log_level, overrides=overrides)
    chosen = [c.name for c in site.columns if not columns or c.name in {x.strip() for x in columns.split(",")}]
    taxonomy = {}
    for column in site.columns:
        t = column.classification
        taxonomy[column.name] = (f"{t.category.value} / {t.item_type}" + (f" / {t.kind.value}" if t.kind else "")
                                 + f" ({t.reason})")
    return CheckReport(code, result.decisions, result.items, result.problems, chosen, taxonomy, result.list_titles,
                       site.site.platform, preset_values(site))
