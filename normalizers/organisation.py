"""One 机构概况 / 机构职能 / 领导介绍 page → one exchange-standard Organisation.

Organisation pages are label/value pages (``normalizers.labelled``):

* name: 机构名称 / 单位名称, else the page's heading when it names an organisation (``…局``,
  ``…中心``, ``…街道办事处``; a trailing 主要职责 / 机构职能 / 领导介绍 is dropped), else the
  site's name (``<meta name="SiteName">``, the ``<title>``), else the heading as it is;
* functions: 主要职责 / 机构职能 / 职能职责, as text (one line per paragraph);
* structure: 内设机构 / 机构设置, one unit per entry, from table rows (the 名称/科室 column),
  list items or lines (``办公室：负责…`` and ``（一）办公室。负责…`` give ``办公室``;
  ``办公室、政策法规科`` gives both);
* address: 办公地址 / 地址; phones: 联系电话 / 电话 / 传真 (each number once); office_hours:
  办公时间;
* leaders: a table with 姓名 and 职务 / 分工 columns, or one block per leader (a photo, a name
  in a heading or 姓名：, 职务：, 分工 / 工作分工 / 分管工作：), photos absolute and public.

A page without any of these raises ``NormalizationError``.
"""

from __future__ import annotations

import re
from typing import cast

from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is
from pydantic import HttpUrl

from normalizers.article import NormalizationError
from normalizers.extract import find_title, meta_content
from normalizers.labelled import (
    Entry,
    ItemPage,
    Labels,
    Unit,
    cell_text,
    cells,
    header_index,
    heading_title,
    is_chrome,
    item_header,
    phone_numbers,
    read_entries,
    read_page,
    row_items,
    strip_numbering,
    units_of,
)
from normalizers.models import Leader, Organisation
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.text import clean_text

_LABELS: dict[str, list[str]] = {
    "name": ["机构名称", "单位名称", "部门名称"],
    "functions": ["主要职责", "机构职能", "职能职责", "主要职能", "部门职责", "单位职能", "工作职责", "机构职责", "职责",
                  "职能"],
    "structure": ["内设机构", "机构设置", "科室设置", "内设科室", "下设机构", "内设机构及职能", "下属单位", "直属单位",
                  "所属单位", "组织机构"],
    "overview": ["机构概况", "单位概况", "部门概况", "机构简介", "单位简介", "部门简介", "本局概况"],
    "address": ["办公地址", "单位地址", "联系地址", "通讯地址", "地址"],
    "phones": ["联系电话", "办公电话", "值班电话", "咨询电话", "电话", "传真", "联系方式"],
    "office_hours": ["办公时间", "工作时间", "上班时间"],
    "other": ["邮编", "邮政编码", "电子邮箱", "邮箱", "网址", "负责人"],
    "leaders": ["领导介绍", "领导信息", "领导班子", "班子成员", "领导分工", "局领导", "现任领导"],
    "leader_name": ["姓名"],
    "leader_post": ["职务", "现任职务", "职位"],
    "leader_duties": ["分工", "工作分工", "分管工作", "主要分工", "领导分工情况", "负责", "分管"],
    "leader_cv": ["简历", "个人简历", "简介"],
}
LABELS = Labels({label: key for key, labels in _LABELS.items() for label in labels},
                text_keys={"functions", "structure", "overview", "leaders", "leader_duties", "leader_cv"})
LEADER_LABELS = Labels({label: key for key, labels in _LABELS.items() for label in labels
                        if key.startswith("leader_")}, text_keys={"leader_duties", "leader_cv"})

# Keys that tell an organisation page from others (addresses and phones are everywhere).
STRONG_KEYS = frozenset({"functions", "structure", "overview", "leaders", "leader_post", "leader_duties", "name"})

_SECTION_WORDS = re.compile(r"(?:的)?(?:主要职责|机构职能|职能职责|机构概况|机构设置|内设机构|领导介绍|领导信息|领导分工|"
                            r"单位概况|部门概况|机构简介|单位简介|简介|概况|职能|职责)$")
_ORG_SUFFIX = re.compile(r"(?:局|委员会|委|办公室|办|中心|政府|街道办事处|街道|镇|乡|所|站|院|队|馆|会|处|部|厅|公司|分局|"
                         r"管委会|集团|学校|医院)$")


# ------------------------------------------------------------------------------------- leaders

def _leader_table(item: ItemPage, table: etree._Element) -> list[Leader] | None:
    rows = [r for r in table.iter("tr") if next(r.iterancestors("table"), None) is table]
    if not rows:
        return None
    header = [cell_text(c) for c in cells(rows[0])]
    if any(len(text) > 10 for text in header):
        return None
    name = header_index(header, ("姓名",))
    post = header_index(header, ("职务", "职位"))
    duties = header_index(header, ("分工", "职责", "分管"))
    if name is None or (post is None and duties is None):
        return None
    leaders = []
    for row in rows[1:]:
        row_cells = cells(row)
        texts = [cell_text(c) for c in row_cells]

        def col(i: int | None, texts: list[str] = texts) -> str | None:
            return (texts[i] or None) if i is not None and i < len(texts) else None

        if not col(name):
            continue
        photo = next((img for img in row.iter("img")), None)
        leaders.append(Leader(name=_person(col(name) or ""), post=col(post), duties=col(duties),
                              photo_url=cast("HttpUrl | None",  # pydantic parses the str
                                             item.absolute(photo.get("src")) if photo is not None else None)))
    return leaders


def _block_of(anchor: Unit, others: list[Unit], stop: etree._Element) -> etree._Element:
    """The largest element around one leader's 职务 line that holds no other leader's."""
    block = anchor.owner
    for ancestor in anchor.owner.iterancestors():
        if ancestor is stop or any(o.within(ancestor) for o in others):
            break
        block = ancestor
    return block


_POST_WORDS = re.compile(r"(?:书记|区长|县长|市长|镇长|乡长|主任|局长|部长|主席|委员|秘书长|调研员|处长|科长|队长|所长|"
                         r"站长|院长|校长|社长|党组|主持工作|巡视员|总经济师|总工程师)")


def _unlabelled_post(units: list[Unit], name: str) -> str | None:
    """A leader's post printed without a label, in its own element near the name
    (``<div class="ld_zw">区委副书记、区长</div>``): the first short line of the block, not the
    name and not a labelled line, made of post words."""
    for unit in units:
        text = clean_text(unit.text)
        if not text or _person(text) == name or LABELS.match(unit) or LEADER_LABELS.match(unit):
            continue
        if len(text) <= 40 and _POST_WORDS.search(text) and not re.search(r"[。；;]", text):
            return text
    return None


def _person(name: str) -> str:
    """A name as printed, without the spaces that pad two-character names (李　红)."""
    name = re.sub(r"\s*同志$", "", clean_text(name))
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", name)


def _name_of_block(block: etree._Element, units: list[Unit], entries: list[Entry]) -> str | None:
    for entry in entries:
        if entry.key == "leader_name" and (text := entry.text(" ")):
            return _person(text)
    first_label = next((e.order for e in entries if e.key), len(units))
    for unit in units[:first_label]:
        text = clean_text(unit.text)
        if 2 <= len(text) <= 12 and not LABELS.match(unit):
            return _person(text)
    img = next(block.iter("img"), None)
    if img is not None and (alt := clean_text(img.get("alt") or img.get("title"))):
        return _person(alt)
    return None


def _leader_blocks(item: ItemPage) -> tuple[list[Leader], list[etree._Element]]:
    """Leaders from tables, then from one block per leader; and the elements they were read
    from (kept out of the organisation's own fields)."""
    body = item.body()
    leaders: list[Leader] = []
    used: list[etree._Element] = []
    for table in body.iter("table"):
        if any(table is u or u in table.iterancestors() for u in used):
            continue
        found = _leader_table(item, table)
        if found:
            leaders += found
            used.append(table)
    units = list(units_of(body, lambda el: is_chrome(el) or any(el is u for u in used)))
    for key in ("leader_post", "leader_duties", "leader_name"):
        anchors = [u for u in units if any(m.key == key for m in LEADER_LABELS.match(u))]
        if anchors:
            break
    else:
        return leaders, used
    for anchor in anchors:
        block = _block_of(anchor, [a for a in anchors if a is not anchor], body)
        if len(anchors) == 1:  # one leader: stay within what is about them
            while (parent := block.getparent()) is not None and parent is not body and len(
                    clean_text(cast(HtmlElement, parent).text_content())) <= 600 and not any(
                    LABELS.match(u) and LABELS.match(u)[0].key in ("functions", "structure")
                    for u in units if u.within(parent)):
                block = parent
        block_units = [u for u in units if u.within(block)]
        entries = read_entries(block_units, LEADER_LABELS)
        name = _name_of_block(block, block_units, entries)
        if not name:
            continue

        def text(key: str, entries: list[Entry] = entries) -> str | None:
            return next((t for e in entries if e.key == key and (t := e.text()) is not None), None)

        photo = next((img for img in block.iter("img")), None)
        post = text("leader_post") or _unlabelled_post(block_units, name)
        leaders.append(Leader(name=name, post=post, duties=text("leader_duties"),
                              photo_url=cast("HttpUrl | None",  # pydantic parses the str
                                             item.absolute(photo.get("src")) if photo is not None else None)))
        used.append(block)
    return leaders, used


# ---------------------------------------------------------------------------------- structure

_UNIT_HEAD = re.compile(r"^(?P<head>[^：:。，,；;]{2,15})[：:。]")
_LIST_SPLIT = re.compile(r"[、，,；;]")


def _structure(entry: Entry | None) -> list[str]:
    if entry is None:
        return []
    if (from_rows := row_items(entry.table(), ("名称", "机构", "科室", "单位", "部门"))) is not None:
        return from_rows
    units: list[str] = []
    for line in entry.lines():
        line = strip_numbering(line)
        if not line or line.endswith(("：", ":")):
            continue
        if m := _UNIT_HEAD.match(line):
            units.append(m.group("head").strip())
            continue
        parts = [p.strip(" 。") for p in _LIST_SPLIT.split(line) if p.strip(" 。")]
        if len(parts) > 1 and all(len(p) <= 15 for p in parts):
            units += [re.sub(r"^(?:和|及)", "", p) for p in parts]
        else:
            units.append(line.rstrip("。；;"))
    return units


# --------------------------------------------------------------------------------------- name

def _org_name(item: ItemPage, heading: str | None) -> str | None:
    candidates = []
    if heading:
        candidates.append(_SECTION_WORDS.sub("", heading).strip(" -—_"))
    site = meta_content(item.root, "SiteName")
    if site:
        candidates.append(site)
    title_tag = next(item.root.iter("title"), None)
    if title_tag is not None:
        candidates += [p.strip() for p in re.split(r"\s*(?:--+|__+|_|\||｜|—+|-)\s*",
                                                   clean_text(cast(HtmlElement, title_tag).text_content()))]
    for candidate in candidates:
        if candidate and _ORG_SUFFIX.search(candidate) and len(candidate) >= 3:
            return candidate
    return heading


# ----------------------------------------------------------------------------------- the item

def normalize_organisation(page: RawPage, context: PageContext, hints: ExtractionHints | None = None,
                           ) -> Organisation:
    """Turn one 机构概况 / 机构职能 / 领导介绍 page into an Organisation of the exchange standard
    (see the module docstring)."""
    item = ItemPage.load(page, context, hints)
    leaders, leader_areas = _leader_blocks(item)
    reading = read_page(item, LABELS, exclude=leader_areas)
    if not leaders and not reading.keys() & STRONG_KEYS:
        raise NormalizationError("no organisation labels on the page", field="item_type", url=context.public_url)

    name = reading.text("name", " ")
    if name is None:
        heading = None
        if item.hints.title:
            found = find_title(item.root, item.hints.title, context.list_title, exclude=context.column_path)
            heading = found.text if found is not None and found.source == "hint" else None
        leader_names = {x.name for x in leaders}
        heading = heading or heading_title(item, reading.scope, LABELS, reject=lambda t: t in leader_names)
        name = _org_name(item, heading)
    if not name:
        raise NormalizationError("no 机构名称 and no title", field="name", url=context.public_url)

    phones: list[str] = []
    for entry in reading.all("phones"):
        text = entry.text(" ")
        for number in phone_numbers(text) or ([text] if text else []):
            if number not in phones:
                phones.append(number)

    return Organisation(
        **item_header(page, context),
        name=name,
        functions=reading.text("functions") or reading.text("overview"),
        structure=_structure(reading.first("structure")),
        address=reading.text("address", " "),
        phones=phones,
        office_hours=reading.text("office_hours", " "),
        leaders=leaders,
        field_errors=item.errors,
    )
