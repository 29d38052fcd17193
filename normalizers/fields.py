"""Plugin selectors for the fields of organisation, service-guide and letter pages
(``[detail] fields`` in a site plugin): where a site's label/value layout defeats the label
readers (``normalizers.organisation``, ``guides``, ``letters``), a selector names the element that
holds one field, and its text replaces what the reader found.

Each settable field has a kind: ``text`` (one value; the element's paragraphs joined by line
breaks), ``lines`` (a list: each paragraph of each match is an entry), ``datetime`` (any Chinese
date format, :func:`normalizers.dates.parse_datetime`) or ``url`` (an ``href``/``src``, made
absolute on the public origin). Nested fields are dotted (``office.address``). A selector that
matches nothing leaves the reader's value and is a field warning naming the selector, as the
article selectors are; a value that does not read as its kind is a field error. Pure functions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from lxml import etree

from normalizers.dates import parse_datetime
from normalizers.extract import select
from normalizers.models import FieldError, Letter, Organisation, ServiceGuide
from normalizers.text import clean_text, paragraphs

__all__ = ["FIELDS", "SETTABLE", "with_field_selectors"]

FIELDS: dict[str, dict[str, str]] = {
    "organisation": {"name": "text", "functions": "text", "structure": "lines", "address": "text",
                     "phones": "lines", "office_hours": "text"},
    "service_guide": {"name": "text", "code": "text", "conditions": "text", "scope": "lines",
                      "legal_basis": "lines", "procedure": "lines", "consult_phone": "text",
                      "complaint_phone": "text", "online_url": "url", "status_query_url": "url",
                      "office.name": "text", "office.address": "text", "office.phone": "text",
                      "office.hours": "text"},
    "letter": {"mailbox": "text", "number": "text", "title": "text", "asker": "text", "asked_at": "datetime",
               "question": "text", "reply_unit": "text", "reply": "text", "replied_at": "datetime",
               "status": "text"},
}
"""item type → settable field → its kind."""

SETTABLE = frozenset(name for fields in FIELDS.values() for name in fields)
"""Every field name a plugin's ``[detail] fields`` may set (checked when the plugin loads)."""

Item = Organisation | ServiceGuide | Letter


def _values(root: etree._Element, selector: str) -> list[str]:
    """The paragraphs the selector's matches hold (strings as they are, elements by paragraph)."""
    out: list[str] = []
    for match in select(root, selector):
        if isinstance(match, etree._Element):
            out += paragraphs(match)
        elif text := clean_text(str(match)):
            out.append(text)
    return out


def _read(kind: str, values: list[str], base_url: str) -> Any:
    if kind == "lines":
        return values
    text = "\n".join(values)
    if kind == "datetime":
        parsed = parse_datetime(text)
        if parsed is None:
            raise ValueError(f"no date in {text[:60]!r}")
        return parsed.value
    if kind == "url":
        return urljoin(base_url, values[0])
    return text


def with_field_selectors(item: Item, root: etree._Element, selectors: dict[str, str], base_url: str) -> Item:
    """``item`` with each field of ``selectors`` (field → selector) read from the page ``root``
    (``base_url``: the page's public URL, for relative links); fields of other item types are
    ignored (a site's ``[detail]`` serves all its columns)."""
    kinds = FIELDS.get(item.item_type, {})
    data = item.model_dump(mode="json")
    errors = list(item.field_errors)
    changed = False
    for name, selector in selectors.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        try:
            values = _values(root, selector)
        except ValueError as exc:  # an invalid selector is refused when the plugin loads; say it anyway
            errors.append(FieldError(field=name, message=str(exc), raw=selector))
            continue
        if not values:
            errors.append(FieldError(field=name, severity="warning", raw=selector,
                                     message=f"{name} selector matched nothing; the page's labels were read"))
            continue
        try:
            value = _read(kind, values, base_url)
        except ValueError as exc:
            errors.append(FieldError(field=name, message=f"{name}: {exc}", raw=selector))
            continue
        value = value.isoformat() if hasattr(value, "isoformat") else value
        parent, _, leaf = name.rpartition(".")
        if parent:  # office.address: one level of nesting
            data[parent] = {**(data.get(parent) or {}), leaf: value}
        else:
            data[leaf] = value
        changed = True
    if not changed and len(errors) == len(item.field_errors):
        return item
    data["field_errors"] = [e.model_dump(mode="json") for e in errors]
    data.pop("content_hash", None)
    return type(item).model_validate(data)
