"""网站导航: each site's column tree, for the portal's navigation map, as ``navigation`` items of
the exchange standard. Built from the site plugins (names, paths, URLs, taxonomy) and the store
(how many items each column holds)."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urljoin

from pydantic import HttpUrl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.store.models import Document, DocumentListing
from normalizers.models import SHANGHAI, Category, ColumnNode, Navigation, document_id
from normalizers.urls import canonicalize_url, served_url
from plugins.spec import SiteSpec


def column_counts(session: Session, site_code: str, site: SiteSpec | None = None) -> dict[tuple[str, ...], int]:
    """Active items per column path of one site; with the site's plugin, a document listed in
    several columns counts in each (``document_listings``), not only in its primary one, but
    once in a column whose subtree holds its primary column (the tree sums children in)."""
    counts: dict[tuple[str, ...], int] = {}
    if site is not None:
        paths = {c.name: tuple(c.column_path) for c in site.columns}
        others = session.execute(
            select(DocumentListing.column, Document.column, func.count())
            .join(Document, Document.id == DocumentListing.document_id)
            .where(DocumentListing.site_code == site_code, Document.status == "active",
                   Document.column.is_distinct_from(DocumentListing.column))
            .group_by(DocumentListing.column, Document.column))
        for listed, primary, n in others:
            path = paths.get(listed)
            if path is None or paths.get(primary or "", ())[:len(path)] == path:
                continue
            counts[path] = counts.get(path, 0) + n
    # grouped by the path's JSON text: PostgreSQL's json type has no equality to group by
    path_json = Document.item["column_path"].as_string()
    rows = session.execute(select(path_json, func.count()).where(
        Document.site_code == site_code, Document.status == "active").group_by(path_json))
    for path, n in rows:
        key = tuple(json.loads(path) if path else ())
        counts[key] = counts.get(key, 0) + n  # the same path spelt twice (spacing) is one
    return counts


def build_navigation(site: SiteSpec, counts: dict[tuple[str, ...], int] | None = None) -> Navigation:
    """The site's column tree: every column at its path, intermediate headings created as needed,
    top level ordered 政务公开, 政民互动, 网上服务 then the rest."""
    counts = counts or {}
    base = site.site.base_url
    roots: list[ColumnNode] = []

    def child(nodes: list[ColumnNode], name: str, path: list[str]) -> ColumnNode:
        for node in nodes:
            if node.name == name:
                return node
        category = next((c for c in Category if c.value == path[0]), None)
        node = ColumnNode(name=name, path=path, category=category)
        nodes.append(node)
        return node

    for column in site.columns:
        path = list(column.column_path)
        nodes = roots
        for depth in range(len(path) - 1):
            nodes = child(nodes, path[depth], path[: depth + 1]).children
        taxonomy = column.classification
        leaf = child(nodes, path[-1], path)
        leaf.url = HttpUrl(served_url(urljoin(base, column.url)))  # as served (validated, as the field says)
        leaf.category = taxonomy.category
        leaf.item_type = taxonomy.item_type
        leaf.document_count = counts.get(tuple(path), 0)
    order = {c.value: i for i, c in enumerate(Category)}
    roots.sort(key=lambda n: order.get(n.name, len(order)))
    _sum_counts(roots)
    return Navigation(
        id=document_id(canonicalize_url(base) + "#navigation"), site_code=site.code, column_path=[],
        category=Category.GOVERNMENT_INFORMATION, source_url=served_url(base), fetched_at=dt.datetime.now(SHANGHAI),
        site_name=site.name, base_url=served_url(base), columns=roots,
    )


def _sum_counts(nodes: list[ColumnNode]) -> int:
    total = 0
    for node in nodes:
        if node.children:
            below = _sum_counts(node.children)
            node.document_count = (node.document_count or 0) + below
        total += node.document_count or 0
    return total


def format_tree(navigation: Navigation) -> str:
    lines = [f"{navigation.site_name} ({navigation.site_code}) {navigation.base_url}"]

    def walk(nodes: list[ColumnNode], depth: int) -> None:
        for node in nodes:
            count = f" [{node.document_count}]" if node.document_count is not None else ""
            url = f"  {node.url}" if node.url else ""
            lines.append(f"{'  ' * depth}- {node.name}{count}{url}")
            walk(node.children, depth + 1)

    walk(navigation.columns, 1)
    return "\n".join(lines)
