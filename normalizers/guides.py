"""One 办事指南 page → one exchange-standard ServiceGuide.

Guides are label/value pages (``normalizers.labelled``): Zhejiang 政务服务网-style pages with
one table per section, old bureau pages with one big table, ``<dl>`` lists, headings followed
by paragraphs. What each field is read from:

* name: 事项名称 (else the page title); code: 事项编码 / 基本编码 / 实施编码;
* scope: 受理范围 / 服务对象, split into 个人 / 法人…;
* office: 办理机构 / 实施主体 / 受理机构 (name), 办理地点, 联系电话, 办理时间;
* conditions: 受理条件 / 申请条件 (lines); legal_basis: 办理依据 / 设定依据, one law per entry
  (lines, or 《…》 units of one line);
* materials: 申报材料 / 所需材料 / 申请材料, a table (序号, 材料名称, 材料形式, 份数, 是否必需, 备注)
  or numbered lines (``1. 身份证原件及复印件 1份``);
* procedure: 办理程序 / 办理流程, one step per entry (lines, ``→`` chains or table rows);
  flowchart_url: the image or link of 流程图;
* time_limit: 办理时限 as printed, 办件类型 (即办件 / 承诺件), 法定期限 and 承诺期限 in working days
  (Chinese numerals too); 即办件 promises 0 days;
* fee: 收费标准, 收费依据, 是否收费 (不收费 / 免费 → not charged);
* forms: the links of 表格下载; online_url: 网上办理 / 网上预审 / 在线申报; status_query_url:
  办事查询 / 网上查询; consult_phone: 咨询电话; complaint_phone: 监督投诉电话.

Values that cannot be read are FieldErrors and the rest is kept; a page without any guide
label raises ``NormalizationError``.
"""

from __future__ import annotations

import re
from typing import Literal, cast

from pydantic import HttpUrl

from normalizers.article import NormalizationError
from normalizers.extract import find_title
from normalizers.labelled import (
    CN_NUMBER,
    Entry,
    ItemPage,
    Labels,
    Reading,
    attachment_from_link,
    header_index,
    heading_title,
    item_header,
    normalize_label,
    parse_cn_int,
    phone_numbers,
    read_page,
    row_items,
    strip_numbering,
    url_of,
)
from normalizers.models import (
    Attachment,
    Fee,
    FieldError,
    Material,
    Office,
    ServiceGuide,
    TimeLimit,
)
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.text import clean_text, fullwidth_to_ascii

_LABELS: dict[str, list[str]] = {
    "name": ["事项名称", "服务事项名称", "审批事项名称", "服务事项", "项目名称", "审批项目名称", "办理事项"],
    "code": ["事项编码", "基本编码", "实施编码", "事项代码", "权力编码", "业务办理项编码"],
    "scope": ["受理范围", "服务对象", "适用对象", "办理对象", "申请对象", "面向对象", "行使层级及服务对象"],
    "office_name": ["办理机构", "实施主体", "受理机构", "办事机构", "实施机构", "受理单位", "办理部门", "受理部门",
                    "承办机构", "办理单位"],
    "office_address": ["办理地点", "受理地点", "办理地址", "办公地址", "受理地址", "地址"],
    "office_phone": ["联系电话", "办理电话", "窗口电话", "电话", "联系方式"],
    "office_hours": ["办理时间", "受理时间", "办公时间", "工作时间"],
    "conditions": ["受理条件", "申请条件", "办理条件", "受理标准", "申请人条件", "准予批准的条件"],
    "legal_basis": ["办理依据", "设定依据", "法律依据", "实施依据", "政策依据", "法定依据"],
    "materials": ["申报材料", "所需材料", "申请材料", "提交材料", "办理材料", "申请材料目录", "材料目录", "申请材料清单"],
    "procedure": ["办理程序", "办理流程", "办事程序", "办事流程", "办理步骤", "受理程序", "审批程序", "审批流程"],
    "flowchart": ["流程图", "办理流程图", "办事流程图", "审批流程图"],
    "time_limit": ["办理时限", "办理期限", "办结时限", "审批时限", "时限"],
    "kind": ["办件类型", "事项办件类型"],
    "legal_days": ["法定期限", "法定时限", "法定办结时限", "法定办理时限"],
    "promised_days": ["承诺期限", "承诺时限", "承诺办结时限", "承诺办理时限"],
    "fee_charged": ["是否收费"],
    "fee_standard": ["收费标准", "收费情况", "收费项目及标准"],
    "fee_basis": ["收费依据"],
    "forms": ["表格下载", "申请表格", "表格及样表下载", "表格及样本下载", "空白表格", "表单下载", "样表下载",
              "申请表下载", "相关表格", "表格下载及样表"],
    "online": ["网上办理", "网上预审", "在线申报", "在线办理", "网上申报", "在线预审", "网上申请", "在线申请",
               "网上办理地址", "我要办理"],
    "status_query": ["办事查询", "网上查询", "办件查询", "进度查询", "结果查询", "办理进度查询", "状态查询"],
    "consult": ["咨询电话", "咨询方式", "咨询途径"],
    "complaint": ["监督投诉电话", "投诉电话", "监督电话", "监督投诉方式", "投诉方式", "监督投诉"],
}
LABELS = Labels({label: key for key, labels in _LABELS.items() for label in labels},
                text_keys={"conditions", "legal_basis", "materials", "procedure", "forms", "flowchart", "fee_basis",
                           "fee_standard", "time_limit"},
                link_keys={"online", "status_query", "flowchart"})

# Labels only guides print (a notice may print 申报材料 or 办理流程, seldom these).
GUIDE_ONLY_LABELS = frozenset({"事项名称", "事项编码", "基本编码", "实施编码", "办理时限", "法定期限", "承诺期限", "办件类型",
                               "收费依据", "是否收费", "设定依据", "办理依据", "受理条件", "流程图", "受理范围", "实施主体"})
# Keys whose labels tell a guide from other pages (phones, addresses and hours are everywhere).
STRONG_KEYS = frozenset({"name", "code", "scope", "conditions", "legal_basis", "materials", "procedure", "flowchart",
                         "time_limit", "kind", "legal_days", "promised_days", "fee_charged", "fee_standard",
                         "fee_basis"})

# -------------------------------------------------------------------------------------- values

_SCOPE_SPLIT = re.compile(r"[、,，;；/\s]+|(?<=..)[和及或](?=..)")
_ARROWS = re.compile(r"\s*(?:→|->|—>|－>|=>|⇒|——>|➝|➔|►)\s*")
_SEPARATOR_BEFORE_LAW = re.compile(r"(?:(?<=^)|(?<=[；;，,、。\s])|(?<=[和及与]))(?=《)")
_TRAILING_PUNCT = re.compile(r"[\s；;，,。、]+$")


def _scope(entry: Entry | None) -> list[str]:
    text = entry.text(" ") if entry else None
    if not text:
        return []
    return [t for t in (clean_text(x) for x in _SCOPE_SPLIT.split(text)) if t]


def _laws(lines: list[str]) -> list[str]:
    laws: list[str] = []
    for line in lines:
        line = strip_numbering(line)
        if not line:
            continue
        pieces = [p for p in _SEPARATOR_BEFORE_LAW.split(line) if p.strip()] if line.count("《") > 1 else [line]
        for piece in pieces:
            piece = _TRAILING_PUNCT.sub("", piece.strip())
            piece = re.sub(r"^[和及与]\s*", "", piece) if piece[1:2] == "《" else piece
            if piece and piece.lower() not in ("无", "-"):
                laws.append(piece)
    return laws


def _laws_of(entry: Entry | None) -> list[str]:
    """办理依据: table rows (the law, with its 条款 column when there is one), else lines."""
    if entry is None:
        return []
    rows = [r for r in entry.table() if r]
    if rows and len(rows[0]) >= 2:
        header = rows[0]
        law = header_index(header, ("名称", "依据", "法规"))
        clause = header_index(header, ("条款", "条目", "条文", "具体条款"))
        if law is not None:
            laws = []
            for texts in rows[1:]:
                if law < len(texts) and texts[law]:
                    extra = texts[clause] if clause is not None and clause < len(texts) else ""
                    laws.append(texts[law] + (extra if extra not in ("", "-", "—", "无") else ""))
            return _laws(laws)
        if (items := row_items(rows, ("名称", "依据", "法规"))) is not None:
            return _laws(items)
    return _laws(entry.lines())


def _steps(entry: Entry | None) -> list[str]:
    if entry is None:
        return []
    from_rows = row_items(entry.table(), ("环节", "步骤", "流程", "名称"))
    if from_rows is not None:
        return from_rows
    steps = []
    for line in entry.lines():
        for part in _ARROWS.split(line):
            part = _TRAILING_PUNCT.sub("", strip_numbering(part))
            if part and part not in ("无",):
                steps.append(part)
    return steps


# Materials ----------------------------------------------------------------------------------

_TRUE = re.compile(r"^(?:是|必需|必要|必须|必交|必填|必备|必传|√|需要)")
_FALSE = re.compile(r"^(?:否|非必需|非必要|非必须|不必|容缺|可选|选填|选交|按需|视情|×|不需要)")
_FORMS = r"原件及复印件|原件和复印件|原件、复印件|原件或复印件|复印件|原件|电子件|电子版|扫描件|纸质件|纸质版"
_FORM_SUFFIX = re.compile(r"(?P<form>" + _FORMS + r")$")
_COPIES = re.compile(r"(?:一式\s*(?P<n1>\d+|" + CN_NUMBER + r")\s*份|(?P<n2>\d+|" + CN_NUMBER + r")\s*[份张套])")
_NOTE = re.compile(r"[（(](?P<note>[^()（）]+)[)）]$")


def _required(text: str) -> bool | None:
    text = clean_text(text)
    if not text:
        return None
    if _FALSE.match(text):
        return False
    if _TRUE.match(text):
        return True
    return None


def _copies(text: str) -> int | None:
    text = fullwidth_to_ascii(clean_text(text))
    if m := _COPIES.search(text):
        return parse_cn_int(m.group("n1") or m.group("n2"))
    if m := re.search(r"\d+", text):
        return int(m.group(0))
    return None


def _material_from_line(line: str) -> Material | None:
    line = _TRAILING_PUNCT.sub("", strip_numbering(line))
    if not line or line in ("无", "暂无") or line.endswith(("：", ":")):
        return None
    note = None
    if (m := _NOTE.search(line)) and m.start() > 0:
        note, line = m.group("note"), line[:m.start()].rstrip()
    copies = None
    matches = list(_COPIES.finditer(line))
    if matches:
        m = matches[-1]
        copies = parse_cn_int(m.group("n1") or m.group("n2"))
        line = _TRAILING_PUNCT.sub("", (line[:m.start()] + line[m.end():]).strip())
    form = None
    if (m := _FORM_SUFFIX.search(line)) and m.start() > 0:
        form, line = m.group("form"), _TRAILING_PUNCT.sub("", line[:m.start()].rstrip("的"))
    if not line:
        return None
    required = False if note and ("非必" in note or "如有" in note) else None
    return Material(name=line, form=form, copies=copies, required=required, note=note)


_COLUMN_WORDS = (
    ("skip", ("序号",)),
    ("required", ("必",)),
    ("copies", ("份数", "数量")),
    ("form", ("形式", "类型", "介质")),
    ("note", ("备注", "要求", "说明", "须知", "描述")),
    ("name", ("名称", "材料")),
)


def _material_columns(texts: list[str]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for i, text in enumerate(texts):
        for column, words in _COLUMN_WORDS:
            if any(w in text for w in words):
                if column not in columns:
                    columns[column] = i
                break
    return columns if "name" in columns and all(len(t) <= 16 for t in texts) else None


def _materials(entry: Entry | None, errors: list[FieldError]) -> list[Material]:
    if entry is None:
        return []
    materials: list[Material] = []
    columns = None
    for texts in entry.table():
        if columns is None:
            columns = _material_columns(texts)
            continue
        if not any(texts) or _material_columns(texts) is not None:
            continue

        def col(name: str, texts: list[str] = texts, columns: dict[str, int] = columns) -> str:
            i = columns.get(name)
            return texts[i] if i is not None and i < len(texts) else ""

        name = col("name")
        if not name:
            continue
        copies_text = col("copies")
        copies = _copies(copies_text) if copies_text else None
        materials.append(Material(name=name, form=col("form") or None, copies=copies,
                                  required=_required(col("required")), note=col("note") or None))
    if columns is not None:
        return materials
    for line in entry.lines():
        if (material := _material_from_line(line)) is not None:
            materials.append(material)
    if not materials and entry.text():
        errors.append(FieldError(field="materials", message="no material could be read", raw=entry.text(" ")))
    return materials


# Time limit ---------------------------------------------------------------------------------

_DAYS = r"(?P<days>\d+|" + CN_NUMBER + r")\s*个?\s*(?P<unit>工作日|个工作日|日|天)"
_LEGAL = re.compile(r"法定(?:办结)?(?:期限|时限)?\s*[:：为]?\s*" + _DAYS)
_PROMISED = re.compile(r"承诺(?:办结)?(?:期限|时限)?\s*[:：为]?\s*" + _DAYS)
_ANY_DAYS = re.compile(_DAYS)
_IMMEDIATE = re.compile(r"即办|当场办结|当场办理|立即办结|即时办结|当即办结|立等可取")


def _days(text: str | None, pattern: re.Pattern[str] = _ANY_DAYS) -> int | None:
    if not text:
        return None
    m = pattern.search(fullwidth_to_ascii(text))
    return parse_cn_int(m.group("days")) if m else None


def _time_limit(reading: Reading, errors: list[FieldError]) -> TimeLimit:
    printed = reading.text("time_limit", " ")
    kind_text = reading.text("kind", " ")
    legal_text = reading.text("legal_days", " ")
    promised_text = reading.text("promised_days", " ")
    kind: Literal["即办件", "承诺件"] | None = None
    for text in (kind_text, printed):
        if text and "承诺件" in text:
            kind = "承诺件"
            break
        if text and ("即办件" in text or _IMMEDIATE.search(text)):
            kind = "即办件"
            break
    legal = _days(legal_text) if legal_text else None
    if legal_text and legal is None and not _IMMEDIATE.search(legal_text):
        errors.append(FieldError(field="time_limit.legal_days", message="unreadable 法定期限", raw=legal_text))
    promised = _days(promised_text) if promised_text else None
    if promised_text and promised is None:
        if _IMMEDIATE.search(promised_text):
            promised = 0
        else:
            errors.append(FieldError(field="time_limit.promised_days", message="unreadable 承诺期限", raw=promised_text))
    if printed:
        if legal is None:
            legal = _days(printed, _LEGAL)
        if promised is None:
            promised = _days(printed, _PROMISED)
        if legal is None and promised is None and kind != "即办件" and "法定" not in printed:
            promised = _days(printed)
    if kind is None and promised is not None:
        kind = "即办件" if promised == 0 else "承诺件"
    if kind == "即办件" and promised is None:
        promised = 0
    if printed is None:
        shown = [f"{label}：{text}" for label, text in (("办件类型", kind_text), ("法定期限", legal_text),
                                                       ("承诺期限", promised_text)) if text]
        printed = "；".join(shown) or None
    return TimeLimit(kind=kind, legal_days=legal, promised_days=promised, text=printed)


# Fee ----------------------------------------------------------------------------------------

_FREE = re.compile(r"不收费|免费|不收取|免收|无收费|零收费|无需缴费|不需缴费|不涉及收费|无需收费")


def _fee(reading: Reading) -> Fee:
    standard = reading.text("fee_standard")
    basis = reading.text("fee_basis")
    charged_text = reading.text("fee_charged", " ")
    charged = None
    if charged_text:
        if _FREE.search(charged_text) or charged_text.startswith(("否", "不")):
            charged = False
        elif charged_text.startswith(("是", "收费")):
            charged = True
    if charged is None:
        raw_standard = next((clean_text(" ".join(e.lines())) for e in reading.all("fee_standard")), None)
        if standard and _FREE.search(standard):
            charged = False
        elif standard and re.search(r"\d\s*元", standard):
            charged = True
        elif raw_standard in ("无", "暂无") or (standard is None and basis and _FREE.search(basis)):
            charged = False
    return Fee(charged=charged, standard=standard, basis=basis)


# Office -------------------------------------------------------------------------------------

_SUB = re.compile(r"(?:(?<=^)|(?<=[\s；;，,（(]))(名称|地址|地点|电话|时间)\s*[:：]")


_WORDS = re.compile(r"[\u4e00-\u9fff]{2,}")


def _phone(value: str | None) -> str | None:
    """A phone field: the numbers the value prints (``联系方式：区民政局社会救助科，0574-86788520``
    → ``0574-86788520``; several joined by ``、``), else the value as printed (``12345热线``)."""
    if not value or not _WORDS.search(value):  # only numbers and their punctuation: as printed
        return value
    numbers = list(dict.fromkeys(phone_numbers(value)))
    return "、".join(numbers) if numbers else value


def _office(reading: Reading) -> Office | None:
    name = reading.text("office_name", " ")
    fields: dict[str, str | None] = {
        "address": reading.text("office_address", " "),
        "phone": _phone(reading.text("office_phone", " ")),
        "hours": reading.text("office_hours", " "),
    }
    if name and (subs := list(_SUB.finditer(name))):
        found = {}
        head = name[:subs[0].start()].strip(" ；;，,（(")
        for i, m in enumerate(subs):
            end = subs[i + 1].start() if i + 1 < len(subs) else len(name)
            found[m.group(1)] = name[m.end():end].strip(" ；;，,）)")
        name = found.get("名称") or head or None
        for sub, key in (("地址", "address"), ("地点", "address"), ("电话", "phone"), ("时间", "hours")):
            if fields[key] is None and found.get(sub):
                fields[key] = found[sub]
    if name is None and not any(fields.values()):
        return None
    return Office(name=name, **fields)


# ----------------------------------------------------------------------------------- the guide

def _forms(item: ItemPage, reading: Reading) -> list[Attachment]:
    forms: list[Attachment] = []
    seen: set[str] = set()
    for entry in reading.all("forms"):
        for a in entry.links():
            attachment = attachment_from_link(item, a, "forms")
            if attachment is not None and str(attachment.url) not in seen:
                seen.add(str(attachment.url))
                forms.append(attachment)
    return forms


def _is_image(url: str) -> bool:
    return bool(re.search(r"\.(?:jpe?g|png|gif|bmp|pdf|svg)(?:$|\?)", url, re.IGNORECASE))


_GUIDE_SUFFIX = re.compile(r"^关于|(?:的)?(?:办事|服务|办理|申办)指南$")


def _link_entry(item: ItemPage, reading: Reading, key: str) -> Entry | None:
    """The entry of a link field: in the guide, else a button anywhere on the page."""
    for entry in reading.all(key):
        if entry.links() or "http" in " ".join(entry.lines()):
            return entry
    return None


def normalize_service_guide(page: RawPage, context: PageContext, hints: ExtractionHints | None = None,
                            ) -> ServiceGuide:
    """Turn one 办事指南 page into a ServiceGuide of the exchange standard (see the module
    docstring for every field). URLs (forms, flowchart, online links) are absolute and on the
    public origin, as in ``normalize_article``."""
    item = ItemPage.load(page, context, hints)
    reading = read_page(item, LABELS)
    if not reading.keys() & STRONG_KEYS:
        raise NormalizationError("no service guide labels on the page", field="item_type", url=context.public_url)
    errors = item.errors

    name = reading.text("name", " ")
    if name is None:
        found = find_title(item.root, item.hints.title, context.list_title, exclude=context.column_path)
        title = found.text if found is not None and normalize_label(found.text) not in LABELS.keys else None
        title = title or heading_title(item, reading.scope, LABELS)
        if title:
            name = _GUIDE_SUFFIX.sub("", title) if len(_GUIDE_SUFFIX.sub("", title)) >= 2 else title
    if not name:
        raise NormalizationError("no 事项名称 and no title", field="name", url=context.public_url)

    flowchart = url_of(item, reading.first("flowchart"), "flowchart_url", prefer=_is_image, images=True)
    whole_page = None
    links: dict[str, str | None] = {}
    for key, field_name in (("online", "online_url"), ("status_query", "status_query_url")):
        entry = _link_entry(item, reading, key)
        if entry is None:  # a button outside the guide's tables
            whole_page = whole_page or read_page(item, LABELS, within=item.body())
            entry = _link_entry(item, whole_page, key)
        links[field_name] = url_of(item, entry, field_name)

    return ServiceGuide(
        **item_header(page, context),
        name=name,
        code=reading.text("code", " "),
        scope=_scope(reading.first("scope")),
        office=_office(reading),
        conditions=reading.text("conditions"),
        legal_basis=_laws_of(reading.first("legal_basis")),
        materials=_materials(reading.first("materials"), errors),
        procedure=_steps(reading.first("procedure")),
        flowchart_url=cast("HttpUrl | None", flowchart),  # pydantic parses the strs of URL fields
        time_limit=_time_limit(reading, errors),
        fee=_fee(reading),
        forms=_forms(item, reading),
        online_url=cast("HttpUrl | None", links["online_url"]),
        status_query_url=cast("HttpUrl | None", links["status_query_url"]),
        consult_phone=_phone(reading.text("consult", " ")),
        complaint_phone=_phone(reading.text("complaint", " ")),
        field_errors=errors,
    )
