"""Which kind of item a page is, and the one entry point for every kind.

``detect_item_type`` reads the labels a page uses *as labels* (a whole cell, heading or
``<dt>``, or a line starting with ``label：``), leaving out links (menus say 表格下载 and 领导信箱
too) and page furniture (the 联系我们 box of a sidebar says 地址, 咨询电话 and 办公时间):

* ``service_guide``: at least three distinct guide fields (事项名称, 受理条件, 办理依据, 申报材料,
  办理程序, 办理时限, 收费标准…), one of them a label only guides print (事项名称, 事项编码,
  办理时限, 法定期限, 承诺期限, 办件类型, 收费依据, 设定依据, 办理依据, 受理条件, 受理范围, 流程图…)
  or four of them; a notice listing 申报材料 and 办理流程 stays an article;
* ``letter``: a label of the asker's side (来信时间, 来信人, 提问人, 信件编号, 来信内容…) and one of
  the reply's (回复时间, 回复单位, 答复单位, 回复内容, 办理结果…); 问 / 答 pairs count for
  either side only beside such a label;
* ``organisation``: two distinct organisation fields (主要职责 / 机构职能, 内设机构 / 机构设置,
  机构概况, 领导介绍, 职务, 分工…);
* else ``article``. When two kinds qualify, the one with more distinct fields wins (guide,
  then letter, then organisation on a tie).
"""

from __future__ import annotations

from normalizers import guides, letters, organisation
from normalizers.article import normalize_article, parse_html
from normalizers.encoding import decode_html
from normalizers.fields import with_field_selectors
from normalizers.labelled import Labels, Unit, is_chrome, label_hits, units_of
from normalizers.models import Article, FieldError, Letter, Organisation, ServiceGuide
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.parts import with_parts

ITEM_TYPES = ("article", "service_guide", "letter", "organisation")


def _hits(units: list[Unit], labels: Labels) -> list[tuple[str, str]]:
    return [(m.key, m.label) for _, m in label_hits(units, labels) if m.key]


def _guide_score(units: list[Unit]) -> int:
    hits = [(k, label) for k, label in _hits(units, guides.LABELS) if k in guides.STRONG_KEYS]
    keys = {k for k, _ in hits}
    exclusive = any(label in guides.GUIDE_ONLY_LABELS for _, label in hits)
    return len(keys) if len(keys) >= 3 and (exclusive or len(keys) >= 4) else 0


def _letter_score(units: list[Unit]) -> int:
    hits = _hits(units, letters.LABELS)
    strong_question = any(k in letters.QUESTION_SIDE or label in letters.QUESTION_CONTENT_LABELS
                          for k, label in hits if label not in letters.WEAK_LABELS)
    strong_reply = any(k in letters.REPLY_SIDE for k, label in hits if label not in letters.WEAK_LABELS)
    weak_question = any(label in ("问", "问题") for _, label in hits)
    weak_reply = any(label in ("答", "回复", "答复") for _, label in hits)
    if not (strong_question or strong_reply):
        return 0
    if (strong_question or weak_question) and (strong_reply or weak_reply):
        return len({k for k, _ in hits})
    return 0


def _organisation_score(units: list[Unit]) -> int:
    keys = {k for k, _ in _hits(units, organisation.LABELS) if k in organisation.STRONG_KEYS}
    return len(keys) if len(keys) >= 2 else 0


def detect_item_type(html_text: str) -> str:
    """"service_guide", "letter", "organisation" or "article" for a decoded page (see the module
    docstring for the rules)."""
    root = parse_html(html_text)
    body = next(root.iter("body"), root)
    units = units_of(body, is_chrome)
    scores = [("service_guide", _guide_score(units)), ("letter", _letter_score(units)),
              ("organisation", _organisation_score(units))]
    best, score = max(scores, key=lambda pair: pair[1])  # max keeps the first of equals
    return best if score > 0 else "article"


def normalize_item(page: RawPage, context: PageContext, hints: ExtractionHints | None = None,
                   item_type: str | None = None) -> Article | ServiceGuide | Letter | Organisation:
    """Normalize a page as ``item_type`` ("article", "service_guide", "letter",
    "organisation"), or as the type ``detect_item_type`` finds when it is None."""
    if item_type is None:
        item_type = detect_item_type(decode_html(page.body, page.content_type).text)
    item: Article | ServiceGuide | Letter | Organisation
    if item_type == "article":
        # a multi-page article's other pages are appended (normalizers.parts)
        return with_parts(normalize_article(page, context, hints), page, context, hints, normalize_article)
    if item_type == "service_guide":
        item = guides.normalize_service_guide(page, context, hints)
    elif item_type == "letter":
        item = letters.normalize_letter(page, context, hints)
    elif item_type == "organisation":
        item = organisation.normalize_organisation(page, context, hints)
    else:
        raise ValueError(f"unknown item type {item_type!r} (expected one of {', '.join(ITEM_TYPES)})")
    if hints is not None and hints.fields:  # the plugin's field selectors ([detail] fields)
        root = parse_html(decode_html(page.body, page.content_type).text)
        item = with_field_selectors(item, root, hints.fields, context.public_url)
    if page.parts:  # only articles are read across pages: say what was left out
        left = FieldError(field="body_text", severity="warning",
                          message=f"{len(page.parts)} more page(s) not read: only articles are read across pages")
        item = item.model_copy(update={"field_errors": [*item.field_errors, left]})
    return item
