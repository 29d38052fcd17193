"""One 信箱 letter or 在线问答 page → one exchange-standard Letter.

Letters are label/value pages (``normalizers.labelled``) in three usual layouts:

* a label/value table: 信件编号, 信箱类型, 标题, 来信人, 来信时间, 来信内容, 回复单位, 回复时间,
  回复内容, 办理状态 (and their synonyms: 提问人/写信人, 提问时间, 问题/咨询内容, 答复单位/办理单位,
  答复时间, 答复内容/办理结果, 状态);
* two blocks, 来信 and 回复 (or 答复), each with its own 时间 / 内容 / 单位 lines: the generic
  labels mean the asker's in the first block and the reply's in the second; paragraphs after
  the 回复 heading that follow no label are the reply;
* Q&A pairs (``<dt>问：…</dt><dd>答：…</dd>``) with 提问人 / 提问时间 / 答复单位 lines.

The mailbox (咨询 / 投诉 / 举报 / 建议 / 领导信箱 / 在线问答) comes from a 信箱类型 label, else
from the column names in ``context.column_path``. Dates go through ``normalizers.dates``; an
unreadable one is a FieldError and the rest is kept. The ``Letter`` model masks the asker's
name and the phone numbers, ID numbers and e-mail addresses of the question and reply; this
module also masks them in the title, and the asker's full name wherever it is repeated.
"""

from __future__ import annotations

import datetime as dt
import re

from normalizers.article import NormalizationError
from normalizers.dates import find_datetime, parse_datetime
from normalizers.extract import find_title
from normalizers.labelled import (
    Entry,
    ItemPage,
    Labels,
    heading_title,
    item_header,
    normalize_label,
    read_page,
)
from normalizers.models import FieldError, Letter
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.privacy import mask_name, mask_personal_data
from normalizers.text import clean_text

_LABELS: dict[str, list[str]] = {
    "number": ["信件编号", "编号", "信件号", "受理编号", "留言编号", "来信编号", "办件编号"],
    "mailbox": ["信箱类型", "信件类型", "留言类型", "来信类型", "信件类别", "咨询类型", "类型", "类别"],
    "title": ["标题", "主题", "信件标题", "留言标题", "来信标题", "问题标题", "咨询标题", "信件主题", "留言主题"],
    "asker": ["来信人", "提问人", "写信人", "留言人", "咨询人", "投诉人", "举报人", "发信人", "来信人姓名", "姓名"],
    "asked_at": ["来信时间", "提问时间", "写信时间", "留言时间", "咨询时间", "投诉时间", "发信时间", "提交时间",
                 "来信日期", "提问日期", "留言日期"],
    "question": ["来信内容", "咨询内容", "留言内容", "问题内容", "投诉内容", "信件内容", "提问内容", "问题描述",
                 "来信摘要", "问题", "问"],
    "question_block": ["来信", "来信信息", "来信情况", "提问", "网友提问", "群众来信"],
    "reply_unit": ["回复单位", "答复单位", "办理单位", "回复部门", "答复部门", "处理单位", "承办单位", "答复机构",
                   "回复机构", "处理部门"],
    "replied_at": ["回复时间", "答复时间", "办结时间", "处理时间", "回复日期", "答复日期", "办理时间"],
    "reply": ["回复内容", "答复内容", "办理结果", "处理结果", "答复意见", "回复意见", "处理意见", "答复", "回复", "答"],
    "reply_block": ["回复信息", "答复信息", "回复情况", "部门回复", "官方回复"],
    "status": ["办理状态", "状态", "处理状态", "办件状态", "信件状态", "办理情况"],
    "time": ["时间", "日期"],
    "content": ["内容", "正文"],
    "unit": ["单位", "部门"],
}
LABELS = Labels({label: key for key, labels in _LABELS.items() for label in labels},
                text_keys={"question", "reply", "question_block", "reply_block", "content"})

# For detecting a letter: labels of the asker's side and of the reply's side.
QUESTION_SIDE = frozenset({"number", "asker", "asked_at", "question_block"})
QUESTION_CONTENT_LABELS = frozenset({"来信内容", "咨询内容", "留言内容", "问题内容", "投诉内容", "信件内容", "提问内容"})
REPLY_SIDE = frozenset({"reply_unit", "replied_at", "reply", "reply_block"})
WEAK_LABELS = frozenset({"问", "答", "回复", "答复", "问题"})

_MAILBOXES = (
    ("在线问答", re.compile(r"问答|在线咨询问答")),
    ("领导信箱", re.compile(r"领导|局长|区长|书记|主任|镇长|街道主任|县长|市长")),
)
_KINDS = ("咨询", "投诉", "举报", "建议")


def mailbox_of(text: str | None) -> str | None:
    """咨询 / 投诉 / 举报 / 建议 / 领导信箱 / 在线问答 of a label value or column name; None when it
    names none of them."""
    if not text:
        return None
    for name, pattern in _MAILBOXES:
        if pattern.search(text):
            return name
    found = [(text.index(k), k) for k in _KINDS if k in text]
    return min(found)[1] if found else None


def _when(entries: list[Entry], field_name: str, errors: list[FieldError]) -> dt.datetime | None:
    for entry in entries:
        raw = entry.text(" ")
        if not raw:
            continue
        parsed = parse_datetime(raw) or find_datetime(raw)
        if parsed is not None:
            return parsed.value
        errors.append(FieldError(field=field_name, message="unparseable date", raw=raw))
        return None
    return None


def _first_text(entries: list[Entry], sep: str = "\n") -> str | None:
    for entry in entries:
        if (text := entry.text(sep)) is not None:
            return text
    return None


_LETTER_KEYS = frozenset({"asker", "asked_at", "question", "question_block", "reply_unit", "replied_at", "reply",
                          "reply_block", "number"})
_GENERIC_LABELS = frozenset({"时间", "日期", "内容", "正文", "单位", "部门", "问", "答", "问题", "回复", "答复", "编号"})

# Headings that name the page kind, not the letter (信件详情, 局长信箱, 在线问答).
_GENERIC_TITLE = re.compile(r"^(?:信件|来信|留言|咨询|问题|问答|投诉|回复)?(?:详情|详细信息|详细内容|内容|查看)$|"
                            r"^.{0,8}(?:信箱|问答|留言板|留言)$")


def _in_data_row(entry: Entry) -> bool:
    """A cell of a label/value row (the value of a label this module does not know)."""
    cell = entry.values[0].cell if entry.values else None
    if cell is None:
        return False
    row = cell.getparent()
    return row is not None and sum(1 for c in row if c.tag in ("td", "th")) >= 2


def _joined(text: str | None, more: list[Entry]) -> str | None:
    lines = ([text] if text else []) + [line for entry in more for line in entry.lines()]
    return "\n".join(lines) or None


def normalize_letter(page: RawPage, context: PageContext, hints: ExtractionHints | None = None) -> Letter:
    """Turn one letter or Q&A page into a Letter of the exchange standard (see the module
    docstring). A page with neither a question nor a reply label raises ``NormalizationError``."""
    item = ItemPage.load(page, context, hints)
    reading = read_page(item, LABELS)
    errors = item.errors

    # Generic labels (时间, 内容, 单位) take their meaning from the block they are in; lines that
    # follow no label (after a 提问人/时间 line, or under a 回复 heading) continue its text.
    fields: dict[str, list[Entry]] = {}
    orphans: dict[str, list[Entry]] = {"question": [], "reply": []}
    mode, started = "question", False
    for entry in reading.entries:
        key = entry.key
        if key is None:
            if entry.label is None and started and not _in_data_row(entry):
                orphans[mode].append(entry)
            continue
        if key in ("question_block", "question") or key in QUESTION_SIDE:
            mode = "question"
        elif key in REPLY_SIDE:
            mode = "reply"
        started = started or key not in ("title", "number", "mailbox", "status")
        if key in ("question_block", "reply_block"):
            key = "question" if key == "question_block" else "reply"
        elif key == "time":
            key = "asked_at" if mode == "question" else "replied_at"
        elif key == "content":
            key = "question" if mode == "question" else "reply"
        elif key == "unit":
            if mode != "reply":
                continue
            key = "reply_unit"
        fields.setdefault(key, []).append(entry)
    for entries in fields.values():
        entries.sort(key=lambda e: (LABELS.priority.get(e.label or "", 999), e.order))

    if not any(e.key in _LETTER_KEYS and e.label not in _GENERIC_LABELS for e in reading.entries):
        raise NormalizationError("no letter or Q&A labels on the page", field="item_type", url=context.public_url)

    question = _joined(_first_text(fields.get("question", [])), orphans["question"]) or ""
    reply = _joined(_first_text(fields.get("reply", [])), orphans["reply"])
    asker_raw = _first_text(fields.get("asker", []), " ")

    title = _first_text(fields.get("title", []), " ")
    if title is None and item.hints.title:
        found = find_title(item.root, item.hints.title, context.list_title, exclude=context.column_path)
        title = found.text if found is not None and found.source == "hint" else None
    if title is None:
        title = heading_title(item, reading.scope, LABELS, reject=lambda t: bool(_GENERIC_TITLE.search(t)))
    if title is None:
        found = find_title(item.root, None, context.list_title, exclude=context.column_path)
        if found is not None and normalize_label(found.text) not in LABELS.keys:
            title = found.text
    if title is None and question:
        first_line = question.split("\n", 1)[0]
        title = first_line if len(first_line) <= 60 else first_line[:60] + "…"
    if not title:
        raise NormalizationError("no title, question or list title", field="title", url=context.public_url)

    def masked(text: str | None) -> str | None:
        """The asker's full name masked wherever the letter repeats it (the model masks the rest)."""
        if text is None or not asker_raw:
            return text
        name = clean_text(asker_raw)
        if len(name) >= 2 and "*" not in name:
            text = text.replace(name, mask_name(name))
        return text

    mailbox = None
    if (printed := _first_text(fields.get("mailbox", []), " ")) is not None:
        mailbox = mailbox_of(printed) or printed
    if mailbox is None:
        for column in reversed(context.column_path):
            if (mailbox := mailbox_of(column)) is not None:
                break

    return Letter(
        **item_header(page, context),
        mailbox=mailbox,
        number=_first_text(fields.get("number", []), " "),
        title=mask_personal_data(masked(title) or title),
        asker=asker_raw,
        asked_at=_when(fields.get("asked_at", []), "asked_at", errors),
        question=masked(question) or "",
        reply_unit=_first_text(fields.get("reply_unit", []), " "),
        reply=masked(reply),
        replied_at=_when(fields.get("replied_at", []), "replied_at", errors),
        status=_first_text(fields.get("status", []), " "),
        field_errors=errors,
    )
