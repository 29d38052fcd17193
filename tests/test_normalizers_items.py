"""Service guides, letters and organisation pages: saved pages → exchange-standard items.

Every field of every saved page in tests/pages/items is asserted; broken pages give field
errors and keep the rest; detect_item_type tells the kinds apart (the article pages stay
articles); every item validates and round-trips through parse_item.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from normalizers import NormalizationError
from normalizers.encoding import decode_html
from normalizers.guides import normalize_service_guide
from normalizers.items import detect_item_type, normalize_item
from normalizers.labelled import parse_cn_int
from normalizers.letters import mailbox_of, normalize_letter
from normalizers.models import (
    SHANGHAI,
    Article,
    Category,
    Letter,
    Organisation,
    ServiceGuide,
    document_id,
    parse_item,
)
from normalizers.organisation import normalize_organisation
from normalizers.page import ExtractionHints, PageContext, PagePart, RawPage
from normalizers.urls import canonicalize_url

PAGES = Path(__file__).parent / "pages"
ITEMS = PAGES / "items"
FETCHED = dt.datetime(2024, 5, 6, 8, 0, tzinfo=SHANGHAI)
MIRROR = "http://127.0.0.1:8765"

# saved page → (site code, column path, category, public URL, fetched from the mirror?)
CASES: dict[str, tuple[str, tuple[str, ...], Category, str, bool]] = {
    "guide_zjzwfw_tables.html": ("rsj", ("网上服务", "办事指南"), Category.ONLINE_SERVICES,
                                 "http://rsj.bl.gov.cn/bszn/detail.do?id=330217017000", True),
    "guide_asp_one_table.html": ("dq", ("网上服务", "办事指南", "社会事务"), Category.ONLINE_SERVICES,
                                 "http://dq.bl.gov.cn/bszn/ShowArticle.asp?ArticleID=315", False),
    "guide_dl_headings.html": ("rsj", ("网上服务", "办事指南"), Category.ONLINE_SERVICES,
                               "http://rsj.bl.gov.cn/show.php?id=412", False),
    "guide_broken.html": ("zjj", ("网上服务", "办事指南"), Category.ONLINE_SERVICES,
                          "http://zjj.bl.gov.cn/bszn/12.html", False),
    "letter_mailbox_blocks.html": ("zjj", ("政民互动", "局长信箱"), Category.INTERACTION,
                                   "http://zjj.bl.gov.cn/hdjl/letter.jsp?id=20240518", False),
    "letter_table.html": ("scjgj", ("政民互动", "咨询投诉"), Category.INTERACTION,
                          "http://scjgj.bl.gov.cn/zxts/show.aspx?id=7", False),
    "letter_qa_dl.html": ("rsj", ("政民互动", "在线问答"), Category.INTERACTION,
                          "http://rsj.bl.gov.cn/wd/show.php?id=2231", True),
    "letter_broken_date.html": ("jtj", ("政民互动", "建议征集"), Category.INTERACTION,
                                "http://jtj.bl.gov.cn/hdjl/show.asp?id=12", False),
    "org_leaders_photos.html": ("rsj", ("政务公开", "机构概况", "领导介绍"), Category.GOVERNMENT_INFORMATION,
                                "http://rsj.bl.gov.cn/ldjs.php", True),
    "org_functions.html": ("zjj", ("政务公开", "机构概况", "机构职能"), Category.GOVERNMENT_INFORMATION,
                           "http://zjj.bl.gov.cn/col/col1229011/index.html", False),
    "org_overview_tables.html": ("dq", ("街道概况",), Category.GOVERNMENT_INFORMATION,
                                 "http://dq.bl.gov.cn/jggk.asp", False),
}
KIND = {"guide": "service_guide", "letter": "letter", "org": "organisation"}


def page_and_context(name: str, body: bytes | None = None) -> tuple[RawPage, PageContext]:
    site, columns, category, public, mirrored = CASES[name]
    fetch = MIRROR + "/" + public.split("/", 3)[3] if mirrored else public
    page = RawPage(url=fetch, body=body if body is not None else (ITEMS / name).read_bytes(), fetched_at=FETCHED)
    return page, PageContext(site_code=site, column_path=columns, category=category, public_url=public)


def item_of(name: str, hints: ExtractionHints | None = None):
    page, context = page_and_context(name)
    return normalize_item(page, context, hints or ExtractionHints(), KIND[name.split("_")[0]])


PAGE_FILE_FIELDS = ("name", "url", "file_type")
"""What a page says of a linked file; the rest of an entry is the gateway's fetch of the file,
which a normalizer leaves pending (asserted once, below)."""


def fields(item) -> dict:
    """Every field of an item as JSON values, without the ones every item has; its files as the
    page shows them."""
    out = item.model_dump(mode="json", exclude={"schema_version", "id", "site_code", "column_path", "category",
                                                "source_url", "fetched_at", "content_hash"})
    for name in ("attachments", "forms"):
        for entry in out.get(name) or []:
            assert entry["status"] == "pending" and entry["sha256"] is None and entry["text"] is None
            for key in list(entry):
                if key not in PAGE_FILE_FIELDS:
                    del entry[key]
    return out


def test_the_saved_pages_are_gbk_and_utf8():
    encodings = {name: decode_html((ITEMS / name).read_bytes()).encoding for name in CASES}
    assert {n for n, e in encodings.items() if e == "gb18030"} == {
        "guide_asp_one_table.html", "letter_mailbox_blocks.html", "org_leaders_photos.html"}
    assert all(e in ("gb18030", "utf-8") for e in encodings.values())


@pytest.mark.parametrize("name", list(CASES))
def test_identity_comes_from_the_public_url(name):
    """The id is the canonical key of the public URL; the URL stored is the one given (as served:
    a Hanweb column's index.html stays, its canonical key drops it)."""
    site, columns, category, public, _ = CASES[name]
    item = item_of(name)
    assert (item.id, str(item.source_url), item.site_code, item.column_path, item.category, item.fetched_at) == (
        document_id(canonicalize_url(public)), public, site, list(columns), category, FETCHED)


@pytest.mark.parametrize("name", list(CASES))
def test_every_item_validates_and_round_trips_through_parse_item(name):
    item = item_of(name)
    again = parse_item(item.model_dump_json())
    assert again == item and type(again) is type(item)
    assert again.content_hash == item.content_hash
    assert type(item).model_validate(item.model_dump()) == item


@pytest.mark.parametrize("name", [n for n, case in CASES.items() if case[4]])
def test_nothing_points_at_the_mirror(name):
    assert "127.0.0.1" not in item_of(name).model_dump_json()


# ------------------------------------------------------------------------------------- guides

def test_zhejiang_guide_with_one_table_per_section():
    guide = item_of("guide_zjzwfw_tables.html")
    assert isinstance(guide, ServiceGuide)
    assert fields(guide) == {
        "field_errors": [],
        "item_type": "service_guide",
        "name": "灵活就业人员社会保险补贴申领",
        "code": "330217017000",
        "scope": ["自然人"],
        "office": {"name": "宁波市北仑区人力资源和社会保障局",
                   "address": "宁波市北仑区新碶街道长江路1166号行政服务中心二楼人力社保窗口",
                   "phone": "0574-86781234",
                   "hours": "工作日 上午8:30-12:00，下午13:30-17:00（法定节假日除外）"},
        "conditions": "1. 具有本区户籍或持有本区居住证；\n2. 在本区灵活就业并按规定缴纳社会保险费；\n"
                      "3. 属于就业困难人员或离校两年内未就业高校毕业生。",
        "legal_basis": ["《中华人民共和国就业促进法》第五十二条", "《浙江省就业促进条例》第二十条"],
        "materials": [
            {"name": "居民身份证", "form": "原件", "copies": 1, "required": True, "note": "核验后退回"},
            {"name": "社会保险补贴申请表", "form": "原件和复印件", "copies": 2, "required": True, "note": None},
            {"name": "就业困难人员认定证明", "form": "电子件", "copies": 0, "required": False, "note": "就业困难人员提供"},
        ],
        "procedure": ["申请", "受理", "审核", "办结"],
        "flowchart_url": "http://rsj.bl.gov.cn/zjservice/upload/flow/330217017000.png",
        "time_limit": {"kind": "承诺件", "legal_days": 20, "promised_days": 10,
                       "text": "办件类型：承诺件；法定期限：20个工作日；承诺期限：10个工作日"},
        "fee": {"charged": False, "standard": "不收费", "basis": None},
        "forms": [
            {"name": "社会保险补贴申请表.doc", "url": "http://rsj.bl.gov.cn/zjservice/upload/forms/sbbt_sqb.doc",
             "file_type": "doc"},
            {"name": "社会保险补贴申请表（样表）", "url": "http://rsj.bl.gov.cn/bszn/download.do?fileId=88231",
             "file_type": "pdf"},
        ],
        "online_url": "https://www.zjzwfw.gov.cn/zjservice/item/detail/online.do"
                      "?localInnerCode=3a7e0c1d-2b9f-4e61-9a0b-5f2c6d8e1a47",
        "status_query_url": "http://rsj.bl.gov.cn/zjservice/progress.do?code=330206-017",
        "consult_phone": "0574-86781235",
        "complaint_phone": "0574-12345",
    }


def test_old_asp_guide_in_one_big_gbk_table():
    guide = item_of("guide_asp_one_table.html")
    assert fields(guide) == {
        "field_errors": [],
        "item_type": "service_guide",
        "name": "个体工商户营业执照代办",
        "code": "DQ-SW-2019-007",
        "scope": ["个人", "法人"],
        "office": {"name": "大碶街道便民服务中心", "address": "大碶街道灵江路366号", "phone": "0574-86102345",
                   "hours": "周一至周五 8:30-11:30 13:30-17:00"},
        "conditions": "在大碶街道辖区内从事个体经营、有经营能力的公民。",
        "legal_basis": ["《个体工商户条例》第八条", "《个体工商户登记管理办法》第十一条、第十二条", "《浙江省个体工商户条例》"],
        "materials": [
            {"name": "身份证", "form": "原件及复印件", "copies": 1, "required": None, "note": None},
            {"name": "个体工商户开业登记申请书", "form": None, "copies": 1, "required": None, "note": "申请人签字"},
            {"name": "经营场所使用证明", "form": "复印件", "copies": 2, "required": None, "note": None},
            {"name": "一寸免冠照片", "form": None, "copies": 2, "required": None, "note": None},
        ],
        "procedure": ["申请", "受理", "审核", "发照"],
        "flowchart_url": None,
        "time_limit": {"kind": "承诺件", "legal_days": 20, "promised_days": 10,
                       "text": "承诺件，法定期限二十个工作日，承诺期限十个工作日"},
        "fee": {"charged": False, "standard": "不收费", "basis": None},
        "forms": [
            {"name": "个体工商户开业登记申请书.doc", "url": "http://dq.bl.gov.cn/UploadFiles/2019/gtkysqs.doc",
             "file_type": "doc"},
            {"name": "经营场所使用证明.xls", "url": "http://dq.bl.gov.cn/UploadFiles/2019/csyzm.xls", "file_type": "xls"},
        ],
        "online_url": "http://www.nbbl.gov.cn/wsys/index.asp?sxid=7",
        "status_query_url": None,
        "consult_phone": "0574-86102345",
        "complaint_phone": "0574-86102000",
    }


def test_guide_with_dl_and_headings_beside_a_contact_sidebar():
    guide = item_of("guide_dl_headings.html")
    assert fields(guide) == {
        "field_errors": [],
        "item_type": "service_guide",
        "name": "失业登记",
        "code": None,
        "scope": ["个人"],
        "office": {"name": "北仑区就业管理服务中心", "address": "北仑区行政服务中心二楼就业窗口（长江路1166号）",
                   "phone": "0574-86783300", "hours": None},
        "conditions": "在法定劳动年龄内、有劳动能力和就业要求、处于无业状态的本区户籍人员或常住人员。",
        "legal_basis": ["《就业服务与就业管理规定》第六十三条", "《浙江省就业促进条例》第三十二条"],
        "materials": [
            {"name": "居民身份证或社会保障卡", "form": "原件", "copies": None, "required": None, "note": None},
            {"name": "与原单位解除或终止劳动关系的证明", "form": None, "copies": None, "required": False, "note": "如有"},
            {"name": "近期一寸照片", "form": None, "copies": 1, "required": None, "note": None},
        ],
        "procedure": ["申请人携带材料到窗口提出申请", "窗口审核材料，当场办理登记", "发放《就业创业证》"],
        "flowchart_url": "http://rsj.bl.gov.cn/uploadfile/2023/0815/sydj_lct.jpg",
        "time_limit": {"kind": "即办件", "legal_days": None, "promised_days": 0, "text": "即办件，材料齐全当场办结。"},
        "fee": {"charged": False, "standard": "免费。", "basis": None},
        "forms": [],
        "online_url": "https://www.zjzwfw.gov.cn/zjservice/item/detail/index.do?localInnerCode=sydj-bl",
        "status_query_url": "http://rsj.bl.gov.cn/query.php?type=sydj",
        "consult_phone": "0574-86783301",
        "complaint_phone": "0574-86785678",
    }


def test_broken_guide_keeps_what_it_can_and_reports_the_rest():
    guide = item_of("guide_broken.html")
    assert [(e.field, e.raw) for e in guide.field_errors] == [
        ("flowchart_url", "http://"), ("time_limit.legal_days", "三个月")]
    assert guide.time_limit.model_dump() == {"kind": None, "legal_days": None, "promised_days": None,
                                             "text": "另行通知"}
    assert fields(guide) | {"field_errors": [], "time_limit": None} == {
        "field_errors": [],
        "item_type": "service_guide",
        "name": "建设工程消防验收备案",
        "code": None,
        "scope": [],
        "office": {"name": "北仑区住房和城乡建设局", "address": None, "phone": None, "hours": None},
        "conditions": "已完成消防工程竣工验收的其他建设工程。",
        "legal_basis": [],
        "materials": [{"name": "详见窗口一次性告知单", "form": None, "copies": None, "required": None, "note": None}],
        "procedure": [],
        "flowchart_url": None,
        "time_limit": None,
        "fee": {"charged": None, "standard": "按省物价局核定标准执行", "basis": None},
        "forms": [],
        "online_url": None,
        "status_query_url": None,
        "consult_phone": None,
        "complaint_phone": None,
    }


def guide_from(html: str) -> ServiceGuide:
    page = RawPage(url="http://cl.bl.gov.cn/bszn/1.html", body=html.encode("utf-8"), fetched_at=FETCHED)
    context = PageContext("cl", ("网上服务", "办事指南"), Category.ONLINE_SERVICES, "http://cl.bl.gov.cn/bszn/1.html")
    return normalize_service_guide(page, context, ExtractionHints())


def test_guide_with_a_rowspan_label_and_a_section_header_row():
    guide = guide_from("""<html><head><meta charset="utf-8"><title>残疾人证办理</title></head><body><table>
        <tr><td>事项名称</td><td colspan="4">残疾人证办理</td></tr>
        <tr><td rowspan="3">申请材料</td><td>序号</td><td>材料名称</td><td>份数</td><td>是否必需</td></tr>
        <tr><td>1</td><td>户口本</td><td>1份</td><td>是</td></tr>
        <tr><td>2</td><td>二寸照片</td><td>三张</td><td>否</td></tr>
        <tr><td colspan="5">办理流程</td></tr>
        <tr><td colspan="5">1.申请 2.评残<br>3.发证</td></tr>
        <tr><td>办理时限</td><td colspan="4">承诺期限：十五个工作日</td></tr>
        <tr><td>收费标准</td><td colspan="4">工本费10元/本</td></tr>
        </table></body></html>""")
    assert [(m.name, m.copies, m.required) for m in guide.materials] == [("户口本", 1, True), ("二寸照片", 3, False)]
    assert guide.procedure == ["申请 2.评残", "发证"]
    assert guide.time_limit.model_dump() == {"kind": "承诺件", "legal_days": None, "promised_days": 15,
                                             "text": "承诺期限：十五个工作日"}
    assert (guide.fee.charged, guide.fee.standard) == (True, "工本费10元/本")


@pytest.mark.parametrize(("printed", "phone"), [
    ("区民政局社会救助科，0574-86788520", "0574-86788520"),  # a 联系方式 line: the number, not the office
    ("0574-86781234、0574-86781235（传真）", "0574-86781234、0574-86781235"),
    ("0574-12345", "0574-12345"),  # numbers only: as printed
    ("12345政务服务热线", "12345"),
])
def test_a_guide_contact_line_gives_its_phone_number(printed, phone):
    guide = guide_from(f"<html><body><h1>某事项</h1><table><tr><td>受理条件</td><td>无</td></tr>"
                       f"<tr><td>联系方式</td><td>{printed}</td></tr><tr><td>咨询电话</td><td>{printed}</td></tr>"
                       "</table></body></html>")
    assert guide.office is not None and guide.office.phone == phone
    assert guide.consult_phone == phone


@pytest.mark.parametrize(("text", "expected"), [
    ("即办件", ("即办件", None, 0)),
    ("承诺件：法定期限30个工作日，承诺期限5个工作日", ("承诺件", 30, 5)),
    ("自受理之日起二十个工作日内办结", ("承诺件", None, 20)),
    ("法定期限：六十个工作日", (None, 60, None)),
    ("另行通知", (None, None, None)),
])
def test_time_limits(text, expected):
    guide = guide_from(f"<html><body><h1>某事项</h1><table><tr><td>受理条件</td><td>无</td></tr>"
                       f"<tr><td>办理时限</td><td>{text}</td></tr></table></body></html>")
    tl = guide.time_limit
    assert (tl.kind, tl.legal_days, tl.promised_days, tl.text) == (*expected, text)
    assert guide.field_errors == []


@pytest.mark.parametrize(("text", "value"), [("二十", 20), ("十五", 15), ("一百二十", 120), ("两", 2), ("三十", 30),
                                             ("20", 20), ("２０", 20), ("十", 10), ("若干", None), ("", None)])
def test_chinese_numerals(text, value):
    assert parse_cn_int(text) == value


@pytest.mark.parametrize(("standard", "basis", "charged"), [
    ("不收费", None, False), ("免费", None, False), ("无", None, False), ("每本20元", None, True),
    (None, "不收取费用", False), ("按规定标准收取", None, None)])
def test_fee(standard, basis, charged):
    rows = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in
                   (("收费标准", standard), ("收费依据", basis)) if value is not None)
    guide = guide_from(f"<html><body><h1>某事项</h1><table><tr><td>受理条件</td><td>无</td></tr>"
                       f"<tr><td>办理时限</td><td>即办件</td></tr>{rows}</table></body></html>")
    assert guide.fee.charged is charged


# ------------------------------------------------------------------------------------ letters

def test_mailbox_letter_with_question_and_reply_blocks_gbk():
    letter = item_of("letter_mailbox_blocks.html")
    assert isinstance(letter, Letter)
    assert fields(letter) == {
        "field_errors": [],
        "item_type": "letter",
        "mailbox": "领导信箱",
        "number": "JZXX2024030518",
        "title": "关于长江路小区旁工地夜间施工噪音扰民的投诉",
        "asker": "王**",
        "asked_at": "2024-03-05T21:14:00+08:00",
        "question": "局长您好！我是长江路小区12幢的居民王**，小区东侧工地每天晚上11点以后还在浇筑混凝土，噪音很大，"
                    "老人小孩都无法休息。\n我的电话138****5678，身份证号330206********1234，希望尽快处理。",
        "reply_unit": "北仑区住房和城乡建设局",
        "reply": "王**您好！来信收悉。经核查，该工地已办理夜间施工许可，许可时段为22时前。我局已责令施工单位严格按照许可时段"
                 "作业，并安排执法人员夜间巡查。\n如仍有扰民情况，请拨打24小时值班电话0574-86782233反映。感谢您对我们工作的支持！",
        "replied_at": "2024-03-08T16:30:00+08:00",
        "status": "已办结",
    }


def test_letter_in_a_label_value_table():
    letter = item_of("letter_table.html")
    assert fields(letter) == {
        "field_errors": [],
        "item_type": "letter",
        "mailbox": "投诉",
        "number": "TS20240412007",
        "title": "小区物业违规收取停车费的投诉",
        "asker": "李*",
        "asked_at": "2024-04-12T09:05:31+08:00",
        "question": "我住在新碶街道某小区，物业公司从4月起对业主车位每月加收200元“管理费”，没有任何公示。\n"
                    "请市场监管部门查处。联系方式：l***@163.com，0574-****2233。",
        "reply_unit": "北仑区市场监督管理局价格监督检查科",
        "reply": "李*您好：经调查，该物业公司加收费用未按规定公示，已责令其停止收取并退还已收费用。\n如有疑问，请致电0574-86110000。",
        "replied_at": "2024-04-19T15:20:00+08:00",
        "status": "已回复",
    }


def test_published_qa_from_a_list_like_page_mailbox_from_the_column():
    letter = item_of("letter_qa_dl.html")
    assert fields(letter) == {
        "field_errors": [],
        "item_type": "letter",
        "mailbox": "在线问答",
        "number": None,
        "title": "灵活就业人员社保补贴如何申领？",
        "asker": "陈**",
        "asked_at": "2024-04-02T08:47:00+08:00",
        "question": "灵活就业人员社保补贴如何申领？\n我是2023年7月毕业的大学生，目前灵活就业，已经在北仑缴纳了社保，"
                    "请问能否申请社保补贴？需要准备什么材料？我的手机是139****1111，麻烦回电。",
        "reply_unit": "北仑区人力资源和社会保障局",
        "reply": "陈**您好！离校两年内未就业的高校毕业生灵活就业后缴纳社会保险费的，可按规定申领社会保险补贴。"
                 "请携带身份证、毕业证到区行政服务中心人力社保窗口申请，也可通过“浙里办”APP在线申领。",
        "replied_at": "2024-04-03T10:20:00+08:00",
        "status": None,
    }


def test_letter_with_unparseable_dates_keeps_the_rest():
    letter = item_of("letter_broken_date.html")
    assert [(e.field, e.raw) for e in letter.field_errors] == [("asked_at", "2024-13-45"), ("replied_at", "近日")]
    assert fields(letter) | {"field_errors": []} == {
        "field_errors": [],
        "item_type": "letter",
        "mailbox": "建议",
        "number": None,
        "title": "建议在大港新村增设公交站点",
        "asker": "欧阳**",
        "asked_at": None,
        "question": "大港新村居民出行不便，建议增设公交站点。欧阳**，手机137****5678。",
        "reply_unit": "北仑区交通运输局",
        "reply": "您的建议已转公交公司研究。",
        "replied_at": None,
        "status": None,
    }


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith("letter_")])
def test_no_personal_data_survives_in_the_exported_json(name):
    exported = item_of(name).model_dump_json()
    for personal in ("王小明", "13812345678", "330206198805121234", "李娜", "lina1990", "0574-86112233", "陈思远",
                     "13900001111", "欧阳晓峰", "13712345678"):
        assert personal not in exported


@pytest.mark.parametrize(("text", "mailbox"), [
    ("局长信箱", "领导信箱"), ("区长信箱", "领导信箱"), ("在线问答", "在线问答"), ("咨询投诉", "咨询"),
    ("投诉举报", "投诉"), ("建议征集", "建议"), ("举报", "举报"), ("通知公告", None)])
def test_mailbox_names(text, mailbox):
    assert mailbox_of(text) == mailbox


def test_mailbox_label_wins_over_the_column():
    page, context = page_and_context("letter_table.html")
    context = PageContext(context.site_code, ("政民互动", "局长信箱"), context.category, context.public_url)
    assert normalize_letter(page, context).mailbox == "投诉"


# ------------------------------------------------------------------------------ organisations

def test_leader_page_with_photos_gbk_from_the_mirror():
    org = item_of("org_leaders_photos.html")
    assert isinstance(org, Organisation)
    assert fields(org) == {
        "field_errors": [],
        "item_type": "organisation",
        "name": "北仑区人力资源和社会保障局",
        "functions": None,
        "structure": [],
        "address": None,
        "phones": [],
        "office_hours": None,
        "leaders": [
            {"name": "张伟国", "post": "党组书记、局长", "duties": "主持局全面工作。负责人事、财务、审计工作。",
             "photo_url": "http://rsj.bl.gov.cn/uploadfile/leader/2023/zhangweiguo.jpg"},
            {"name": "李红", "post": "党组成员、副局长",
             "duties": "负责就业创业、职业能力建设工作。\n分管就业促进科、职业能力建设科、区就业管理服务中心。",
             "photo_url": "http://rsj.bl.gov.cn/uploadfile/leader/2023/lihong.jpg"},
            {"name": "周珺", "post": "党组成员、副局长", "duties": "负责社会保险、劳动关系工作。",
             "photo_url": "http://rsj.bl.gov.cn/uploadfile/leader/2023/zhoujun.jpg"},
        ],
    }


def test_functions_page_ignores_the_sidebar_contacts():
    org = item_of("org_functions.html")
    assert fields(org) == {
        "field_errors": [],
        "item_type": "organisation",
        "name": "北仑区住房和城乡建设局",
        "functions": "（一）贯彻执行国家、省、市有关住房和城乡建设的法律、法规和方针政策，拟订全区住房和城乡建设政策措施并组织实施。\n"
                     "（二）承担规范全区房地产市场秩序、监督管理房地产市场的责任。\n"
                     "（三）承担全区建筑工程质量安全监管的责任。\n"
                     "（四）完成区委、区政府交办的其他任务。",
        "structure": ["办公室", "政策法规科", "房地产市场监管科", "建筑业管理科", "工程质量安全监督科"],
        "address": "宁波市北仑区新碶街道明州路567号行政中心3号楼",
        "phones": ["0574-86781200", "0574-86781299"],
        "office_hours": "周一至周五 上午8:30-12:00，下午14:00-17:30",
        "leaders": [],
    }


def test_overview_page_with_structure_and_leader_tables():
    org = item_of("org_overview_tables.html")
    assert fields(org) == {
        "field_errors": [],
        "item_type": "organisation",
        "name": "宁波市北仑区人民政府大碶街道办事处",
        "functions": "贯彻执行党和国家的路线、方针、政策及上级的决定；\n负责辖区经济发展、社会事务、城市管理和社会治安综合治理工作；\n"
                     "承办区委、区政府交办的其他事项。",
        "structure": ["党政办公室", "经济发展办公室", "社会事务管理办公室"],
        "address": "宁波市北仑区大碶街道大碶路1号",
        "phones": ["0574-86101000", "86101010"],
        "office_hours": "周一至周五 8:30-17:00",
        "leaders": [
            {"name": "陈建国", "post": "党工委书记", "duties": "主持党工委全面工作", "photo_url": None},
            {"name": "吴海燕", "post": "党工委副书记、办事处主任", "duties": "主持办事处全面工作，分管经济发展办公室",
             "photo_url": None},
        ],
    }


# ----------------------------------------------------------------------------- detection, dispatch

ARTICLE_PAGES = sorted(PAGES.glob("*.html"))


@pytest.mark.parametrize("name", list(CASES))
def test_detect_item_type_on_the_item_pages(name):
    html = decode_html((ITEMS / name).read_bytes()).text
    assert detect_item_type(html) == KIND[name.split("_")[0]]


@pytest.mark.parametrize("path", ARTICLE_PAGES, ids=[p.name for p in ARTICLE_PAGES])
def test_detect_item_type_keeps_articles_articles(path):
    assert detect_item_type(decode_html(path.read_bytes()).text) == "article"


def test_a_notice_listing_materials_and_procedure_is_still_an_article():
    html = ("<html><body><h1>关于开展2024年度技能补贴申领工作的通知</h1><div id='zoom'><p>各有关单位：</p>"
            "<p>一、申请条件</p><p>参保满一年的职工。</p><p>二、申报材料</p><p>身份证、证书。</p>"
            "<p>三、办理流程</p><p>网上申报。</p><p>咨询电话：0574-86781234</p></div></body></html>")
    assert detect_item_type(html) == "article"


@pytest.mark.parametrize("name", list(CASES))
def test_normalize_item_detects_the_type_when_not_given(name):
    page, context = page_and_context(name)
    assert normalize_item(page, context) == item_of(name)


def test_normalize_item_dispatches_articles_and_rejects_unknown_types():
    page = RawPage(url="http://rsj.bl.gov.cn/show.php?id=103", body=(PAGES / "php_bureau_notice.html").read_bytes(),
                   fetched_at=FETCHED)
    context = PageContext("rsj", ("政务公开", "通知公告"), Category.GOVERNMENT_INFORMATION, page.url)
    assert isinstance(normalize_item(page, context), Article)
    assert isinstance(normalize_item(page, context, item_type="article"), Article)
    with pytest.raises(ValueError, match="unknown item type"):
        normalize_item(page, context, item_type="navigation")


@pytest.mark.parametrize("normalize", [normalize_service_guide, normalize_letter, normalize_organisation])
@pytest.mark.parametrize("path", ARTICLE_PAGES, ids=[p.name for p in ARTICLE_PAGES])
def test_a_page_of_another_kind_raises(normalize, path):
    page = RawPage(url="http://rsj.bl.gov.cn/x.html", body=path.read_bytes(), fetched_at=FETCHED)
    context = PageContext("rsj", ("政务公开",), Category.GOVERNMENT_INFORMATION, page.url)
    with pytest.raises(NormalizationError) as raised:
        normalize(page, context)
    assert raised.value.field == "item_type"


def test_hints_body_selector_confines_the_reading_and_a_bad_selector_is_a_field_error():
    hinted = item_of("letter_table.html", ExtractionHints(body="table.letter-table", remove=("tr:nth-child(5)",)))
    assert fields(hinted) == fields(item_of("letter_table.html"))
    bad = item_of("letter_table.html", ExtractionHints(body="table[", title="h1"))
    assert [e.field for e in bad.field_errors] == ["body_text"]
    assert bad.title == "小区物业违规收取停车费的投诉"


def test_a_leader_post_printed_without_a_label_is_read():
    """领导介绍 blocks where the post is a bare element (``<div class="ld_zw">``) and only the
    分工 is labelled (issue 18: the posts were null)."""
    from normalizers.organisation import normalize_organisation

    html = """<html><head><meta charset="utf-8"><title>领导介绍_北仑区人民政府</title></head><body><h1>北仑区人民政府领导</h1>
      <div class="ld"><img src="/img/1.jpg"><div class="ld_xm">王建国</div><div class="ld_zw">区委副书记、区长</div>
        <p>分工：主持区政府全面工作。</p></div>
      <div class="ld"><img src="/img/2.jpg"><div class="ld_xm">李红</div><div class="ld_zw">区委常委、常务副区长</div>
        <p>分工：负责区政府常务工作，分管发展改革、财政。</p></div></body></html>"""
    page = RawPage(url="http://bl.gov.cn/ldjs.html", body=html.encode("utf-8"), fetched_at=FETCHED)
    context = PageContext("bl", ("政务公开", "机构概况", "领导介绍"), Category.GOVERNMENT_INFORMATION,
                          "http://bl.gov.cn/ldjs.html")
    org = normalize_organisation(page, context, ExtractionHints())
    assert [(leader.name, leader.post) for leader in org.leaders] == [
        ("王建国", "区委副书记、区长"), ("李红", "区委常委、常务副区长")]
    assert org.leaders[1].duties.startswith("负责区政府常务工作")


# --- multi-page articles (normalizers.parts) ---------------------------------------------------

def _part_page(n: int, body: str, image: str = "") -> bytes:
    return ("<html><head><meta charset='utf-8'><title>关于开展安全检查的通知</title></head><body>"
            "<h1>关于开展安全检查的通知</h1><div class='info'>发布时间：2024-05-02</div>"
            f"<div class='content'><p>{body}</p>{image}</div>"
            f"<div class='pages'>第{n}页</div></body></html>").encode()


def _multipage(parts: tuple) -> tuple[RawPage, PageContext, ExtractionHints]:
    url = "http://zjj.bl.gov.cn/a/tzgg/2024/0502/73.html"
    page = RawPage(url=url, body=_part_page(1, "第一页正文：各街道、各有关单位，现将有关事项通知如下。",
                                             "<img src='/uploads/1.jpg'>"),
                   fetched_at=FETCHED, parts=parts)
    context = PageContext(site_code="zjj", column_path=("通知公告",), category=Category.GOVERNMENT_INFORMATION,
                          public_url=url)
    return page, context, ExtractionHints(title="h1", body="div.content")


def test_a_multi_page_article_is_its_pages_in_reading_order():
    base = "http://zjj.bl.gov.cn/a/tzgg/2024/0502/"
    parts = (PagePart(url=MIRROR + "/73_2.html", public_url=base + "73_2.html", content_type=None,
                      body=_part_page(2, "第二页正文：请于五月底前完成自查。", "<img src='/uploads/2.jpg'><img src='/uploads/1.jpg'>")),
             PagePart(url=MIRROR + "/73_3.html", public_url=base + "73_3.html", content_type=None,
                      body=_part_page(3, "第三页正文：联系人张三。")))
    page, context, hints = _multipage(parts)
    article = normalize_item(page, context, hints, "article")
    assert article.body_text == ("第一页正文：各街道、各有关单位，现将有关事项通知如下。\n\n第二页正文：请于五月底前完成自查。"
                                 "\n\n第三页正文：联系人张三。")
    assert str(article.source_url) == base + "73.html" and article.title == "关于开展安全检查的通知"
    # images are absolute on the public origin, each once, whichever page shows them
    assert [str(i.url) for i in article.images] == ["http://zjj.bl.gov.cn/uploads/1.jpg",
                                                    "http://zjj.bl.gov.cn/uploads/2.jpg"]
    alone = normalize_item(_multipage(())[0], context, hints, "article")
    assert alone.id == article.id and alone.body_text.startswith("第一页正文") and "第二页" not in alone.body_text


def test_a_part_without_a_body_is_a_field_error_naming_its_page():
    empty = b"<html><head><meta charset='utf-8'></head><body><h1>x</h1><div class='content'></div></body></html>"
    part = PagePart(url="http://zjj.bl.gov.cn/a/73_2.html", public_url="http://zjj.bl.gov.cn/a/73_2.html",
                    body=empty, content_type="text/html")
    page, context, hints = _multipage((part,))
    article = normalize_item(page, context, hints, "article")
    assert article.body_text.startswith("第一页正文")
    messages = [e.message for e in article.field_errors if e.field == "body_text"]
    assert any("page 2" in m and "73_2.html" in m for m in messages), article.field_errors


# --- [detail] fields: selectors for the fields of organisation, guide and letter pages ----------

ODD_ORGANISATION = ("<html><head><meta charset='utf-8'></head><body><h1>北仑区应急管理局</h1>"
                    "<div class='zn'><p>负责全区应急管理工作。</p><p>指导各地区各部门应对突发事件。</p></div>"
                    "<div class='dz'>北仑区新大路1号</div><ul class='dh'><li>0574-86781234</li><li>0574-86781235</li></ul>"
                    "<p>主要职责：见上</p></body></html>").encode()


def _odd(body: bytes, hints: ExtractionHints, kind: str, column: tuple[str, ...] = ("政务公开", "机构职能")):
    url = "http://yjj.bl.gov.cn/jgzn.html"
    page = RawPage(url=url, body=body, fetched_at=FETCHED)
    context = PageContext(site_code="yjj", column_path=column, category=Category.GOVERNMENT_INFORMATION, public_url=url)
    return normalize_item(page, context, hints, kind)


def test_field_selectors_read_an_organisation_page_the_labels_cannot():
    plain = _odd(ODD_ORGANISATION, ExtractionHints(), "organisation")
    assert plain.address is None and plain.functions == "见上"  # what the labels give
    hints = ExtractionHints(fields={"functions": "div.zn", "address": "div.dz", "phones": "ul.dh li",
                                    "office_hours": "div.missing"})
    item = _odd(ODD_ORGANISATION, hints, "organisation")
    assert item.functions == "负责全区应急管理工作。\n指导各地区各部门应对突发事件。"
    assert item.address == "北仑区新大路1号" and item.phones == ["0574-86781234", "0574-86781235"]
    assert [(e.field, e.severity) for e in item.field_errors] == [("office_hours", "warning")]
    assert item.id == plain.id and item.content_hash != plain.content_hash


def test_field_selectors_of_a_letter_parse_dates_and_mask_like_the_reader():
    body = ("<html><head><meta charset='utf-8'></head><body><h1>关于小区停车难的问题</h1>"
            "<span class='t1'>2024年3月2日</span><span class='t2'>回复于 2024-03-09 10:20</span>"
            "<p>来信人：王*</p><div class='q'>我是王小明，电话13812345678，小区停车位不足。</div>"
            "<div class='a'>经核实，已协调增设停车位。</div><span class='bad'>昨天</span></body></html>").encode()
    hints = ExtractionHints(fields={"asked_at": "span.t1", "replied_at": "span.t2", "question": "div.q",
                                    "reply": "div.a", "status": "span.bad", "name": "h1"})  # name: not a letter's
    item = _odd(body, hints, "letter", ("政民互动", "区长信箱"))
    assert item.asked_at.date() == dt.date(2024, 3, 2) and item.replied_at.hour == 10
    assert item.reply == "经核实，已协调增设停车位。"
    assert "13812345678" not in item.question  # masked as the reader's value is
    assert item.status == "昨天"  # text: as it is


def test_a_field_selector_of_a_nested_field_and_a_bad_value():
    body = ("<html><head><meta charset='utf-8'></head><body><h1>最低生活保障申请</h1><p>事项名称：最低生活保障申请</p>"
            "<p>办理地点：区行政服务中心</p><div id='addr'>北仑区长江路1166号</div><i>无日期</i></body></html>").encode()
    item = _odd(body, ExtractionHints(fields={"office.address": "#addr"}), "service_guide", ("网上服务", "办事指南"))
    assert item.office is not None and item.office.address == "北仑区长江路1166号"
    letter = _odd("<html><body><h1>咨询社保</h1><p>来信内容：咨询社保缴费</p><p>回复内容：已答复</p><i>no date</i></body></html>".encode(),
                  ExtractionHints(fields={"asked_at": "i"}), "letter", ("政民互动", "区长信箱"))
    assert any(e.field == "asked_at" and e.severity == "error" and "no date" in e.message for e in letter.field_errors)
