"""The 政府信息公开 metadata block (索引号, 发布机构, 成文日期…) of disclosure pages.

The block is found by a selector, or else as the tightest table/dl/list/div holding at least
two known labels *used as labels* (a whole cell, or followed by a colon). It is then read as a
sequence of text segments (cells, dt/dd, list items, lines): a segment that is a label takes
the next segment as its value; a segment ``label：value`` carries both, possibly several
pairs on one line.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import cast

from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is

from normalizers.dates import parse_date
from normalizers.extract import select
from normalizers.models import DisclosureMetadata, FieldError
from normalizers.text import clean_text, paragraphs, tag_name

# Printed label → DisclosureMetadata field.
KNOWN_LABELS: dict[str, str] = {
    "索引号": "index_number",
    "发布机构": "publisher",
    "发文机关": "publisher",
    "主题分类": "topic",
    "组配分类": "topic",
    "体裁分类": "genre",
    "成文日期": "written_date",
    "生成日期": "written_date",
    "发布日期": "published_date",
    "发文字号": "document_number",
    "文号": "document_number",
    "文件编号": "document_number",
    "有效性": "validity",
    "主题词": "keywords",
    "公开方式": "disclosure_mode",
    # the older Hanweb and county templates' labels (文　　号 matches 文号: spaces may sit inside)
    "发布单位": "publisher",
    "发文单位": "publisher",
    "发布部门": "publisher",
    "信息分类": "topic",
    "公开日期": "published_date",
    "发文文号": "document_number",
    "文件字号": "document_number",
    "公开形式": "disclosure_mode",
}
DATE_FIELDS = frozenset({"written_date", "published_date"})
EMPTY_VALUES = frozenset({"", "无", "-", "--", "—", "——", "/", "暂无", "null", "none"})
_BLOCK_TAGS = frozenset({"table", "dl", "ul", "ol", "div", "section", "form", "fieldset", "article"})
_FIELDS = frozenset(DisclosureMetadata.model_fields) - {"extra"}
_KEYWORD_SPLIT = re.compile(r"[\s;；,，、]+")
_COLON = "[:：]"
_STRIP_LABEL = re.compile(r"[\s:：\[\]【】]+")
# An unknown label: a few CJK characters (spaces allowed between them) before a colon.
_GENERIC_PAIR = re.compile(r"^\s*([\u4e00-\u9fff][\u4e00-\u9fff\s]{0,9})\s*[:：]\s*(.*)$", re.DOTALL)
_SIZE_PENALTY = 150  # characters of text that cost a candidate block one label


def normalize_label(text: str) -> str:
    """A label as compared: no whitespace (``索 引 号``), colons or brackets."""
    return _STRIP_LABEL.sub("", clean_text(text))


def _label_pattern(labels: list[str]) -> re.Pattern[str]:
    return _label_pattern_of(tuple(labels))


@functools.lru_cache(maxsize=64)  # one per set of labels (the known ones, a plugin's additions)
def _label_pattern_of(labels: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first so 发文字号 wins over 文号; any whitespace may sit between the characters.
    spaced = [r"\s*".join(map(re.escape, label)) for label in sorted(labels, key=len, reverse=True)]
    return re.compile(r"(?:^|(?<=[\s|，,；;]))(" + "|".join(spaced) + r")\s*" + _COLON)


def _labels(extra_labels: dict[str, str] | None) -> dict[str, str]:
    labels = dict(KNOWN_LABELS)
    for label, field in (extra_labels or {}).items():
        labels[normalize_label(label)] = field
    return labels


def _label_hits(root: etree._Element, labels: dict[str, str]) -> list[tuple[etree._Element, str]]:
    """(element, label) for each known label used as a label: a whole text run, or followed
    by a colon."""
    pattern = _label_pattern(list(labels))
    hits = []
    for el in root.iter():
        tag = tag_name(el)
        if tag is None or tag in ("script", "style", "head", "title"):
            continue
        runs = [el.text] + [child.tail for child in el]
        for run in runs:
            if not run or not run.strip():
                continue
            whole = normalize_label(run)
            if whole in labels:
                hits.append((el, whole))
                continue
            for m in pattern.finditer(clean_text(run)):
                hits.append((el, normalize_label(m.group(1))))
    return hits


def find_disclosure_block(root: etree._Element, selector: str | None = None,
                          extra_labels: dict[str, str] | None = None) -> etree._Element | None:
    """The metadata block: the first element ``selector`` matches (CSS, or XPath when it
    starts with ``/`` or ``(``); else (also when the selector matches nothing) the block with
    the most distinct labels, less one per 150 characters of text, deepest on ties."""
    if selector:
        found = [el for el in select(root, selector) if isinstance(el, etree._Element)]
        if found:
            return found[0]
    labels = _labels(extra_labels)
    per_block: dict[etree._Element, set[str]] = defaultdict(set)
    depth: dict[etree._Element, int] = {}
    for el, label in _label_hits(root, labels):
        ancestors = [el, *el.iterancestors()]
        for i, anc in enumerate(ancestors):
            if tag_name(anc) in _BLOCK_TAGS:
                per_block[anc].add(label)
                depth[anc] = len(ancestors) - i
    best, best_key = None, None
    for block, found_labels in per_block.items():
        if len(found_labels) < 2:
            continue
        size = len(clean_text(cast(HtmlElement, block).text_content()))
        key = (len(found_labels) - size / _SIZE_PENALTY, depth[block])
        if best_key is None or key > best_key:
            best, best_key = block, key
    return best


_CELLS = frozenset({"td", "th", "dt", "dd", "li"})
_STRUCTURE = frozenset({"table", "tr", "ul", "ol", "dl"}) | _CELLS


def _segments(block: etree._Element) -> list[tuple[str, bool]]:
    """(text, is_label_cell) units of a block in order: every cell (td/th/dt/dd/li, empty ones
    included, as an empty value matters), else each line of text. ``th``/``dt`` are labels by
    structure, even without a colon."""
    out: list[tuple[str, bool]] = []

    def walk(el: etree._Element) -> None:
        tag = tag_name(el)
        if tag is None or tag in ("script", "style"):
            return
        has_structure = any(tag_name(d) in _STRUCTURE for d in el.iterdescendants())
        if tag in _CELLS and not has_structure:
            out.append((clean_text(" ".join(paragraphs(el))), tag in ("th", "dt")))
        elif has_structure:
            for child in el:
                walk(child)
        else:
            out.extend((line, False) for line in paragraphs(el))

    walk(block)
    return out


def _split_pairs(segment: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """``索引号：A 发布机构：B`` → [(索引号, A), (发布机构, B)]; [] when it holds no known label
    at its start."""
    matches = list(pattern.finditer(segment))
    if not matches or segment[:matches[0].start()].strip():
        return []
    pairs = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(segment)
        pairs.append((normalize_label(m.group(1)), segment[m.end():end].strip()))
    return pairs


def read_pairs(block: etree._Element, extra_labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """All (label, raw value) pairs of a metadata block, in order; labels normalised."""
    labels = _labels(extra_labels)
    pattern = _label_pattern(list(labels))
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for segment, label_cell in _segments(block):
        as_label = normalize_label(segment)
        if (as_label in labels and len(segment) <= 20) or (label_cell and as_label and len(as_label) <= 12):
            if pending is not None:
                pairs.append((pending, ""))
            pending = as_label
            continue
        known = _split_pairs(segment, pattern)
        if pending is not None and not known:
            pairs.append((pending, segment))  # the value of a label cell, even with colons in it
            pending = None
            continue
        if pending is not None:
            pairs.append((pending, ""))
            pending = None
        if known:
            pairs.extend(known)
        elif (m := _GENERIC_PAIR.match(segment)) is not None:
            label = normalize_label(m.group(1))
            if m.group(2).strip():
                pairs.append((label, m.group(2).strip()))
            else:
                pending = label  # an unknown label cell such as 名称：
    if pending is not None:
        pairs.append((pending, ""))
    return pairs


def _clean_value(raw: str) -> str | None:
    value = clean_text(raw)
    return None if value.lower() in EMPTY_VALUES else value


def parse_disclosure_block(block: etree._Element | None, extra_labels: dict[str, str] | None = None,
                           ) -> tuple[DisclosureMetadata, list[FieldError]]:
    """Read a metadata block found by ``find_disclosure_block`` (None gives empty metadata)."""
    if block is None:
        return DisclosureMetadata(), []
    labels = _labels(extra_labels)
    values: dict[str, object] = {}
    extra: dict[str, str] = {}
    errors: list[FieldError] = []
    for label, raw in read_pairs(block, extra_labels):
        field = labels.get(label)
        value = _clean_value(raw)
        if field not in _FIELDS:
            if value is not None and label not in extra:
                extra[label] = value
            continue
        if value is None:
            continue
        if field in values:  # a second label for the same field (发布机构 and 发文机关)
            extra.setdefault(label, value)
            continue
        if field in DATE_FIELDS:
            date = parse_date(value)
            if date is None:
                errors.append(FieldError(field=f"disclosure.{field}", message=f"unparseable {label}", raw=value))
                values[field] = None
                continue
            values[field] = date
        elif field == "keywords":
            values[field] = [k for k in _KEYWORD_SPLIT.split(value) if k]
        else:
            values[field] = value
    # model_validate: the field names are data here, so the call cannot be checked statically
    return DisclosureMetadata.model_validate({**{k: v for k, v in values.items() if v is not None},
                                              "extra": extra}), errors


def parse_disclosure(root: etree._Element, selector: str | None = None,
                     extra_labels: dict[str, str] | None = None) -> tuple[DisclosureMetadata, list[FieldError]]:
    """Find and read the disclosure metadata block of a page.

    ``selector`` (CSS, or XPath starting with ``/`` or ``(``) names the block; without it, or
    when it matches nothing, the block is found heuristically (see ``find_disclosure_block``).
    ``extra_labels`` maps further printed labels to DisclosureMetadata field names, e.g.
    ``{"文件编号": "document_number"}``; a label mapped to an unknown field goes to ``extra``.
    Values are whitespace-cleaned; ``无``/``-``/empty become None; dates are parsed and an
    unparseable one gives a FieldError (``disclosure.written_date``…) with the raw value.
    """
    block = find_disclosure_block(root, selector, extra_labels)
    return parse_disclosure_block(block, extra_labels)
