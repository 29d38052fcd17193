"""Seeded content generator for the PHP fixture subsite (北仑区人力资源和社会保障局, ``rsj``).

``generate(out_dir)`` writes three things into *out_dir*:

* ``site.sqlite`` - the CMS database that ``php_bureau/*.php`` reads (via ``RSJ_DATA_DIR``);
* ``uploadfile/YYYY/MMDD/*.{pdf,doc,docx,xls}`` - attachment files served by the PHP router;
* ``truth.json`` - the ground truth a crawl of the site must reproduce exactly.

Everything is derived from ``random.Random(seed)``; no wall clock, no network, so the same seed gives
byte-identical output.

Conventions the truth follows (what a careful reader of the pages can know):

* ``published_at`` comes from the detail page's ``发布时间：`` line, whose format varies per article.
  ``published_at_precision`` says how much of it the page shows: ``second`` (``2024-01-05 14:29:32``),
  ``minute`` (``2024年1月5日 14:29`` / ``2024/1/5 14:29``) or ``day`` (``2024年1月5日`` / ``2024-01-05``;
  the time is then 00:00).  Always Asia/Shanghai, written with ``+08:00``.
* Disclosure fields (``index_number`` … ``validity``) come from ``table.xxgk_table``; articles of 工作动态
  (catid 3) have no such table, so all of them are ``null`` there.  A 发文字号 cell that is empty or
  ``无`` is ``null``.  ``validity`` only exists for 政策法规 (catid 2).
* ``body_paragraphs`` is the text of every ``<p>`` inside ``div#zoom`` in document order, with
  ``&nbsp;``/U+3000/whitespace stripped at both ends and inner runs collapsed to one ASCII space; empty
  paragraphs are dropped.  Tables in the body never contain ``<p>`` and are not paragraphs.
* ``attachments`` are the links in ``div.attachment`` after the body, in order; ``name`` is the link text.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import re
import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SITE_CODE = "rsj"
SITE_NAME = "北仑区人力资源和社会保障局"
PER_PAGE = 15  # must match list.php

# catid -> (name, list date style, has disclosure table)
COLUMNS: list[tuple[int, str, str, bool]] = [
    (1, "通知公告", "bracket", True),   # [2024-01-05]
    (2, "政策法规", "slash", True),     # 2024/1/5
    (3, "工作动态", "cn_paren", False),  # (2024年01月05日)
    (4, "人事任免", "bracket", True),
    (5, "年度工作目标", "slash", True),
]
COLUMN_NAMES = {c[0]: c[1] for c in COLUMNS}

# 发布时间 display styles (index stored in the DB as pubtime_style; PHP formats accordingly)
PUBTIME_STYLES = [
    ("second", "Y-m-d H:i:s"),  # 0: 2024-01-05 14:29:32
    ("minute", "Y年n月j日 H:i"),  # 1: 2024年1月5日 14:29
    ("minute", "Y/n/j H:i"),  # 2: 2024/1/5 14:29
    ("day", "Y年n月j日"),  # 3: 2024年1月5日
    ("day", "Y-m-d"),  # 4: 2024-01-05
]
PUBTIME_WEIGHTS = [30, 25, 15, 15, 15]

GBK_ONLY_NAMES = ["王镕", "李堃", "陈珺", "张喆", "周玥", "徐昇"]  # GBK but not GB2312
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚", "华",
         "建国", "海燕", "志明", "晓东", "立新", "红梅", "国庆", "春华", "文斌", "建平", "永康", "雪芬", "一鸣", "亚军", "佳琪", "浩然"]
POSTS = ["局办公室主任", "局办公室副主任", "就业促进科科长", "社会保险科副科长", "劳动关系科科长", "人才开发科副科长",
         "区就业管理中心主任", "区社保中心副主任", "区劳动监察大队大队长", "区劳动人事争议仲裁院副院长"]
TOWNS = ["新碶", "小港", "大碶", "霞浦", "柴桥", "戚家山", "春晓", "梅山", "白峰", "郭巨"]
PUBLISHERS = ["北仑区人力资源和社会保障局", "区人力社保局", "北仑区人力资源和社会保障局办公室"]
SOURCES = ["区人力社保局", "北仑区人力资源和社会保障局", "区就业管理中心", "区社保中心", "区劳动监察大队", "北仑新闻网"]
TOPICS = {
    1: ["劳动、人事、监察\\劳动就业", "劳动、人事、监察\\社会保障", "综合政务\\通知公告", "劳动、人事、监察\\人事工作"],
    2: ["劳动、人事、监察\\劳动就业", "劳动、人事、监察\\社会保障", "综合政务\\政策法规", "劳动、人事、监察\\劳动关系"],
    4: ["劳动、人事、监察\\人事任免", "综合政务\\人事信息"],
    5: ["综合政务\\计划规划", "综合政务\\工作总结"],
}

FILE_TYPES = ["pdf", "doc", "docx", "xls"]
FILE_TYPE_WEIGHTS = [40, 25, 15, 20]
ATTACH_PROB = {1: 0.6, 2: 0.55, 3: 0.12, 4: 0.2, 5: 0.5}
ATTACH_NAMES = {
    1: ["{y}年度社会保险缴费基数调整表", "报名登记表", "申报材料清单", "补贴申请表", "{y}年拟录用人员名单", "岗位信息一览表",
        "企业用工需求汇总表", "资格审查结果", "培训机构名单", "承诺书"],
    2: ["政策解读", "实施细则（全文）", "申请审批表", "补贴标准一览表", "办事流程图"],
    3: ["活动照片说明", "会议材料"],
    4: ["任免人员名单", "干部任前公示表"],
    5: ["{y}年度工作目标分解表", "目标任务完成情况表", "考核评分细则"],
}

_WS_RE = re.compile(r"[\s\u00a0\u3000]+")


def norm_text(s: str) -> str:
    """Whitespace normalisation used for truth body paragraphs."""
    return _WS_RE.sub(" ", s).strip()


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@dataclass
class Article:
    id: int
    catid: int
    title: str
    published: datetime
    pubtime_style: int
    source: str
    hits: int
    body_html: str
    paragraphs: list[str]
    index_number: str | None = None
    publisher: str | None = None
    topic: str | None = None
    written_date: date | None = None
    docno_db: str | None = None  # as stored: real number, "" or "无"
    validity: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- titles
def _name(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(GBK_ONLY_NAMES)
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _fullwidth_digits(s: str) -> str:
    return s.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _title(rng: random.Random, catid: int, d: datetime) -> str:
    y = d.year
    n = rng.randint(1, 12)
    t = rng.choice(TOWNS)
    if catid == 1:
        season = rng.choice(["春季", "夏季", "秋季", "冬季", "上半年", "下半年"])
        event = rng.choice(["春风行动", "民营企业", "高校毕业生", "退役军人专场", "就业援助月", "金秋"])
        opts = [
            f"关于做好{y}年度社会保险缴费基数调整工作的通知",
            f"关于开展{y}年{season}职业技能培训补贴申领工作的通知",
            f"北仑区{y}年第{n}批公开招聘事业单位工作人员公告",
            f"关于{y}年度养老保险待遇领取资格认证的公告",
            f"关于公布{y}年第{n}批就业见习基地名单的通知",
            f"关于举办{y}年北仑区{event}招聘会的公告",
            f"关于{y}年{n}月份社保业务系统升级暂停办理业务的公告",
            f"关于做好{y}年{season}农民工工资支付保障工作的通知",
            f"关于开展{y}年度用人单位劳动保障书面审查工作的通知",
            f"北仑区{y}年度专业技术人员继续教育公需科目培训通知",
            f"关于{y}年第{n}批灵活就业人员社保补贴拟发放名单的公示",
            f"关于{y}年第{n}批创业担保贷款贴息拟补助对象的公示",
            f"关于开展{y}年{t}街道就业困难人员认定复核工作的通知",
            f"关于{y}年{season}技能人才评价考试报名的公告",
        ]
    elif catid == 2:
        topic = rng.choice(["就业创业补助资金", "社会保险费征缴", "职业技能培训补贴", "高层次人才引进", "劳动关系协调",
                            "工伤预防", "灵活就业人员参保", "企业职工基本养老保险", "失业保险稳岗返还", "技能人才评价"])
        doc = rng.choice(["管理办法", "实施细则", "实施意见", "暂行办法", "若干规定", "工作方案"])
        opts = [
            f"关于印发《北仑区{topic}{doc}》的通知（{y}年修订）",
            f"北仑区{topic}{doc}（{y}年）",
            f"关于进一步做好{y}年{topic}工作的{doc[-2:]}",
            f"北仑区人民政府办公室关于印发{y}年{topic}{doc}的通知",
            f"宁波市北仑区{topic}{doc}（试行）{y}版",
        ]
    elif catid == 3:
        event = rng.choice(["人社服务进万家", "安薪北仑", "技能北仑", "就业服务暖心", "清廉人社", "人社干部走基层"])
        topic = rng.choice(["就业创业", "根治欠薪", "社保扩面", "技能培训", "人才服务", "劳动争议调解"])
        co = rng.randint(3, 40)
        opts = [
            f"北仑区人力社保局召开{y}年{topic}工作推进会",
            f"区人力社保局开展“{event}”主题活动（第{n}期）",
            f"{_name(rng)}副区长赴{t}街道调研{y}年{topic}工作",
            f"北仑区举办{y}年第{n}期{topic}培训班",
            f"我区{co}家企业入选{y}年宁波市{topic}示范名单",
            f"区人力社保局赴{t}开展{y}年{topic}专项检查",
            f"北仑区{y}年“{event}”暨{t}专场招聘会成功举办",
            f"{t}街道{y}年{topic}工作经验在全市交流",
        ]
    elif catid == 4:
        a, b = _name(rng), _name(rng)
        opts = [
            f"关于{a}等同志职务任免的通知",
            f"北仑区人力资源和社会保障局关于{a}同志试用期满正式任职的通知",
            f"关于{a}同志任职的通知",
            f"关于{a}、{b}同志职务任免的通知",
            f"关于{a}同志免职的通知",
            f"关于{a}等{n + 1}名同志任职前公示的公告",
        ]
    else:
        opts = [
            f"北仑区人力资源和社会保障局{y}年度工作目标",
            f"北仑区人力资源和社会保障局{y - 1}年工作总结和{y}年工作思路",
            f"北仑区人力资源和社会保障局{y - 1}年度工作目标执行情况",
        ]
    title = rng.choice(opts)
    if rng.random() < 0.04:
        title = _fullwidth_digits(title)
    return title


# ---------------------------------------------------------------------------------------------- bodies
_SENT = {
    1: [
        "为切实做好{y}年度相关工作，根据上级有关文件精神，结合我区实际，现将有关事项通知如下。",
        "各街道（镇）人力社保服务中心、区级各有关单位要高度重视，明确专人负责，确保各项工作按时完成。",
        "申请人应当如实填写申报材料，并对材料的真实性负责，对弄虚作假骗取补贴的，一经查实将依法追回。",
        "办理地点：北仑区行政服务中心人力社保窗口（新碶街道长江路1166号），办理时间为工作日上午8:30至下午5:00。",
        "本次工作自{y}年{m}月{d}日起开始，截止时间为{y}年{m2}月{d2}日，逾期不再受理。",
        "符合条件的参保单位和个人可通过“浙里办”APP或现场窗口提交申请。",
        "咨询电话：0574-8678{tel}，联系人：{name}。",
        "请各单位于规定时间内将汇总材料报送至区人力社保局就业促进科，电子稿同时发送至指定邮箱。",
        "公示期间，如对公示对象有异议，可以书面形式向区人力社保局反映，反映情况须实事求是。",
        "本公告未尽事宜，由北仑区人力资源和社会保障局负责解释。",
    ],
    2: [
        "第一条 为进一步规范{topic}管理，提高资金使用效益，根据有关法律法规和政策规定，结合本区实际，制定本办法。",
        "第二条 本办法适用于在本区行政区域内依法登记注册的各类用人单位及其招用的劳动者。",
        "第三条 区人力资源和社会保障部门负责本办法的组织实施，区财政部门负责资金保障和监督管理。",
        "第四条 申请补贴的单位应当按时足额缴纳社会保险费，且近两年内无重大劳动保障违法行为。",
        "第五条 补贴资金实行“先缴后补、按季申报”的办法，由申请人向所在街道（镇）人力社保服务中心提出申请。",
        "第六条 对采取虚报、冒领等手段骗取资金的，由相关部门依法追回，并按有关规定追究相应责任。",
        "第七条 本办法自{y}年{m}月{d}日起施行，有效期五年，原有规定与本办法不一致的，以本办法为准。",
        "本办法由北仑区人力资源和社会保障局负责解释，执行中遇到的问题请及时向区人力社保局反映。",
    ],
    3: [
        "{y}年{m}月{d}日，北仑区人力社保局召开专题会议，总结前一阶段工作，部署下一步重点任务。",
        "会议指出，要坚持以人民为中心的发展思想，把稳就业、保民生摆在更加突出的位置。",
        "活动现场，工作人员通过发放宣传资料、现场答疑等方式，向群众宣讲社保、就业等惠民政策。",
        "据统计，本次活动共吸引{co}家企业参加，提供就业岗位{jobs}余个，初步达成就业意向{deal}人。",
        "{name}同志在讲话中强调，各街道、各部门要压实工作责任，细化工作措施，确保各项目标任务落到实处。",
        "下一步，区人力社保局将继续深化“最多跑一次”改革，不断提升人社公共服务水平。",
        "调研组一行实地走访了{town}街道人力社保服务中心及辖区重点企业，详细了解企业用工和职工参保情况。",
        "与会人员围绕养老保险扩面、根治欠薪、技能人才培养等议题进行了深入交流。",
    ],
    4: [
        "经局党组研究决定：",
        "任命{name}同志为{post}（试用期一年）；",
        "任命{name}同志为{post}；",
        "免去{name}同志{post}职务。",
        "以上同志任职时间自{y}年{m}月{d}日起计算。",
        "根据干部选拔任用有关规定，现将拟任职人员予以公示，公示时间为{y}年{m}月{d}日至{y}年{m2}月{d2}日。",
        "公示期间，如有问题请向区人力社保局机关党委反映，联系电话：0574-8678{tel}。",
    ],
    5: [
        "{y}年，我局在区委、区政府的正确领导下，紧紧围绕全区中心工作，扎实推进各项人力社保工作。",
        "全年新增城镇就业{jobs}人，城镇登记失业率控制在3%以内，完成年度目标任务。",
        "企业职工基本养老保险参保人数持续增长，社会保险扩面工作取得明显成效。",
        "深入开展根治欠薪专项行动，全年共处理劳动保障投诉举报案件{deal}件，为劳动者追讨工资待遇。",
        "大力实施技能提升行动，全年开展各类职业技能培训{co}期，新增技能人才一千余人。",
        "下一步，我局将进一步强化责任担当，确保年度各项目标任务全面完成。",
    ],
}


def _fill(rng: random.Random, tmpl: str, d: datetime) -> str:
    m = rng.randint(d.month, 12)
    return tmpl.format(
        y=d.year, m=m, d=rng.randint(1, 28), m2=min(12, m + rng.randint(0, 2)), d2=rng.randint(1, 28),
        tel=rng.randint(1000, 9999), name=_name(rng), town=rng.choice(TOWNS), co=rng.randint(20, 120),
        jobs=rng.randint(800, 9000), deal=rng.randint(60, 900),
        topic=rng.choice(["就业创业补助资金", "社会保险基金", "职业培训补贴"]), post=rng.choice(POSTS),
    )


def _para_html(rng: random.Random, text: str) -> str:
    """Render one paragraph the way a WYSIWYG editor / Word paste would."""
    style = rng.random()
    t = _esc(text)
    if style < 0.45:
        return f'<p style="text-indent:2em">{t}</p>'
    if style < 0.65:
        return f"<p>\u3000\u3000{t}</p>"
    if style < 0.8:
        return f"<p>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; {t}&nbsp;</p>"
    return (
        '<p class="MsoNormal" style="text-indent:32.0pt;mso-char-indent-count:2.0;line-height:28.0pt;'
        'mso-line-height-rule:exactly"><span style="font-size:16.0pt;font-family:仿宋_GB2312;'
        f'mso-hansi-font-family:宋体;mso-bidi-font-family:宋体">{t}<span lang="EN-US"><o:p></o:p></span></span></p>'
    )


def _body_table(rng: random.Random) -> str:
    rows = ['<tr><td align="center"><strong>序号</strong></td><td align="center"><strong>姓名</strong></td>'
            '<td align="center"><strong>单位</strong></td><td align="center"><strong>金额（元）</strong></td></tr>']
    for i in range(rng.randint(2, 5)):
        rows.append(f'<tr><td align="center">{i + 1}</td><td>{_name(rng)}</td><td>{rng.choice(TOWNS)}街道'
                    f'</td><td align="right">{rng.randint(5, 300) * 100}</td></tr>')
    return ('<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="4" align="center" '
            'style="border-collapse:collapse;mso-table-layout-alt:fixed" width="90%">' + "".join(rows) + "</table>")


def _body(rng: random.Random, catid: int, d: datetime, signer_date: date) -> tuple[str, list[str]]:
    sents = _SENT[catid]
    n = rng.randint(2, 6)
    if catid == 2:  # regulations: 第一条 … in order, ending with the 施行 article
        plan = [[s] for s in sents[: n - 1]] + [[sents[6]]]
    elif catid == 4:  # appointments: decision, the appointments, effective date
        plan = [[sents[0]]] + [[rng.choice(sents[1:4])] for _ in range(max(1, n - 2))] + [[sents[4]]]
    else:  # prose: draw sentences without repetition until the column's pool is used up
        pool: list[str] = []
        plan = []
        for _ in range(n):
            picked = []
            for _ in range(rng.randint(1, 3)):
                if not pool:
                    pool = rng.sample(sents, len(sents))
                picked.append(pool.pop())
            plan.append(picked)
    if catid in (1, 2) and rng.random() < 0.3:  # salutation line of a notice
        plan.insert(0, ["各街道（镇）、区级各有关单位：" if rng.random() < 0.5 else "各有关单位："])
    paras: list[str] = []
    html: list[str] = []
    for i, picked in enumerate(plan):
        text = "".join(_fill(rng, s, d) for s in picked)
        paras.append(text)
        html.append(_para_html(rng, text))
        if i == 0 and rng.random() < 0.12:
            html.append(_body_table(rng))
        if rng.random() < 0.1:
            html.append(rng.choice(["<p>&nbsp;</p>", "<p>\u3000</p>", '<p class="MsoNormal"><span lang="EN-US"><o:p>&nbsp;</o:p></span></p>']))
    if catid in (1, 4) and rng.random() < 0.7:
        for text in (SITE_NAME, f"{signer_date.year}年{signer_date.month}月{signer_date.day}日"):
            paras.append(text)
            html.append(f'<p style="text-align:right">{_esc(text)}</p>')
    return "\n".join(html), [norm_text(p) for p in paras]


# ----------------------------------------------------------------------------------------- attachments
def _attachment_bytes(rng: random.Random, ftype: str, label: str) -> bytes:
    if ftype == "pdf":
        text = f"({label[:20].encode('ascii', 'ignore').decode() or 'attachment'}) Tj"
        body = (
            "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
            "1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
            f"4 0 obj<</Length {len(text) + 20}>>stream\nBT /F1 12 Tf 72 720 Td {text} ET\nendstream endobj\n"
            "trailer<</Root 1 0 R/Size 5>>\n"
        ).encode("latin-1")
        return body + f"% {rng.getrandbits(64):016x}\n%%EOF\n".encode()
    if ftype == "docx":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in (
                ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'),
                ("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{_esc(label)}</w:t></w:r></w:p></w:body></w:document>'),
            ):
                zi = zipfile.ZipInfo(name, date_time=(2010, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(zi, data)
        return buf.getvalue()
    # doc / xls: OLE2 compound-file header + filler
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + bytes.fromhex("3E000300FEFF0900")
    return header + bytes(rng.getrandbits(8) for _ in range(rng.randint(200, 480)))


# ----------------------------------------------------------------------------------------- index nums
def _index_number(rng: random.Random, catid: int, d: datetime, seq: int) -> str:
    y = d.year
    style = 0 if y >= 2023 else (1 if y >= 2021 else 2)
    if rng.random() < 0.15:
        style = rng.randint(0, 2)
    if style == 0:
        return f"002948120/{y}-{seq:05d}"
    if style == 1:
        return f"BL0206-01{catid:02d}-{y}-{seq % 10000:04d}"
    # registration date in the disclosure catalogue: never the publication date itself
    return f"{d + timedelta(days=rng.randint(1, 20)):%Y%m%d}-{rng.randint(100000, 999999)}"


def _docno(rng: random.Random, catid: int, y: int, seq: int) -> str | None:
    if catid == 5 or rng.random() < 0.3:
        return None
    prefix = {1: ["仑人社发", "仑人社函", "仑人社"], 2: ["仑人社发", "仑政办发", "仑政发"], 4: ["仑人社干", "仑人社党"]}[catid]
    return f"{rng.choice(prefix)}〔{y}〕{seq}号"


# ---------------------------------------------------------------------------------------------- main
def _column_counts(rng: random.Random, n: int) -> dict[int, int]:
    n5 = min(max(1, n // 30), 6) if n >= 5 else 1
    rest = max(4, n - n5)
    weights = {1: 0.34, 2: 0.24, 3: 0.30, 4: 0.12}
    counts = {c: max(1, int(rest * w)) for c, w in weights.items()}
    counts[1] += rest - sum(counts.values())
    counts[5] = n5
    return counts


def _random_dt(rng: random.Random, catid: int) -> datetime:
    start = datetime(2019, 1, 1)
    day = start + timedelta(days=rng.randrange((datetime(2024, 12, 31) - start).days + 1))
    if catid == 5:  # annual goals: early in the year
        day = datetime(rng.randint(2019, 2024), rng.randint(1, 3), rng.randint(1, 28))
    return day.replace(hour=rng.randint(8, 17), minute=rng.randrange(60), second=rng.randrange(60))


def build(seed: int = 2024, n_articles: int = 180) -> list[Article]:
    rng = random.Random(seed)
    counts = _column_counts(rng, n_articles)
    # (published, catid) in creation order; a few articles are back-dated, so ids are only roughly chronological
    slots = [(_random_dt(rng, c), c) for c in sorted(counts) for _ in range(counts[c])]
    created = []
    for pub, cat in slots:
        created.append((pub + timedelta(days=rng.randint(1, 40)) if rng.random() < 0.06 else pub, pub, cat))
    created.sort(key=lambda t: t[0])

    titles: set[str] = set()
    index_numbers: set[str] = set()
    att_paths: set[str] = set()
    docno_seq: dict[tuple[int, int], int] = {}
    idx_seq: dict[int, int] = {}
    articles: list[Article] = []
    next_id = rng.randint(40, 120)
    for _, pub, cat in created:
        aid = next_id
        next_id += 1 + (rng.randint(1, 4) if rng.random() < 0.08 else 0)
        for _ in range(200):
            title = _title(rng, cat, pub)
            if title not in titles:
                break
        else:  # pragma: no cover - pool exhausted for huge n; disambiguate like editors do
            title = f"{title}（{aid}）"
        titles.add(title)
        style = rng.choices(range(len(PUBTIME_STYLES)), PUBTIME_WEIGHTS)[0]
        written = (pub - timedelta(days=rng.randint(0, 12))).date()
        body_html, paras = _body(rng, cat, pub, written)
        art = Article(
            id=aid, catid=cat, title=title, published=pub, pubtime_style=style,
            source=rng.choice(SOURCES), hits=rng.randint(23, 4800), body_html=body_html, paragraphs=paras,
        )
        if COLUMNS[cat - 1][3]:
            idx_seq[pub.year] = idx_seq.get(pub.year, 0) + rng.randint(1, 9)
            while True:
                ino = _index_number(rng, cat, pub, idx_seq[pub.year])
                if ino not in index_numbers:
                    break
                idx_seq[pub.year] += 1
            index_numbers.add(ino)
            art.index_number = ino
            art.publisher = rng.choice(PUBLISHERS)
            art.topic = rng.choice(TOPICS[cat])
            art.written_date = written
            key = (cat, pub.year)
            docno_seq[key] = docno_seq.get(key, 0) + rng.randint(1, 6)
            dn = _docno(rng, cat, pub.year, docno_seq[key])
            art.docno_db = dn if dn is not None else rng.choice(["", "无"])
            if cat == 2:
                art.validity = "有效" if rng.random() < 0.8 else rng.choice(["失效", "废止"])
        if rng.random() < ATTACH_PROB[cat]:
            for i in range(rng.choices([1, 2, 3], [60, 28, 12])[0]):
                ftype = rng.choices(FILE_TYPES, FILE_TYPE_WEIGHTS)[0]
                label = rng.choice(ATTACH_NAMES[cat]).format(y=pub.year)
                while True:
                    path = f"/uploadfile/{pub:%Y}/{pub:%m%d}/{pub:%Y%m%d%H%M%S}{rng.randint(100, 999)}.{ftype}"
                    if path not in att_paths:
                        break
                att_paths.add(path)
                art.attachments.append({"name": f"附件{i + 1}：{label}.{ftype}", "path": path, "file_type": ftype})
        articles.append(art)
    for a in articles:  # everything must survive PHP's UTF-8 -> GBK conversion
        for s in [a.title, a.body_html, a.source, a.index_number or "", a.topic or "", a.docno_db or "",
                  *(x["name"] for x in a.attachments)]:
            s.encode("gbk")
    return articles


def _pub_truth(a: Article) -> tuple[str, str]:
    precision = PUBTIME_STYLES[a.pubtime_style][0]
    dt = a.published
    if precision == "minute":
        dt = dt.replace(second=0)
    elif precision == "day":
        dt = dt.replace(hour=0, minute=0, second=0)
    return dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"), precision


SCHEMA = """
CREATE TABLE category (
    catid INTEGER PRIMARY KEY, catname TEXT NOT NULL, listorder INTEGER NOT NULL,
    date_style TEXT NOT NULL, disclosure INTEGER NOT NULL
);
CREATE TABLE article (
    id INTEGER PRIMARY KEY, catid INTEGER NOT NULL REFERENCES category(catid), title TEXT NOT NULL,
    published_at TEXT NOT NULL, pubtime_style INTEGER NOT NULL, source TEXT, hits INTEGER NOT NULL,
    body TEXT NOT NULL, index_number TEXT, publisher TEXT, topic TEXT, written_date TEXT,
    document_number TEXT, validity TEXT
);
CREATE INDEX article_list ON article(catid, published_at DESC, id DESC);
CREATE TABLE attachment (
    id INTEGER PRIMARY KEY, article_id INTEGER NOT NULL REFERENCES article(id), sort INTEGER NOT NULL,
    name TEXT NOT NULL, path TEXT NOT NULL, file_type TEXT NOT NULL
);
"""


def generate(out_dir: Path, seed: int = 2024, n_articles: int = 180) -> Path:
    """Write site.sqlite, uploadfile/ and truth.json into *out_dir* (created if needed); return it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    articles = build(seed, n_articles)
    file_rng = random.Random(f"{seed}-files")

    db_path = out_dir / "site.sqlite"
    for p in (db_path, db_path.with_name(db_path.name + "-journal")):
        p.unlink(missing_ok=True)
    con = sqlite3.connect(db_path)
    try:
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO category VALUES (?,?,?,?,?)",
                        [(c, name, c, ds, int(disc)) for c, name, ds, disc in COLUMNS])
        for a in articles:
            con.execute(
                "INSERT INTO article VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (a.id, a.catid, a.title, a.published.strftime("%Y-%m-%d %H:%M:%S"), a.pubtime_style, a.source,
                 a.hits, a.body_html, a.index_number, a.publisher, a.topic,
                 a.written_date.isoformat() if a.written_date else None, a.docno_db, a.validity),
            )
            for i, att in enumerate(a.attachments):
                con.execute("INSERT INTO attachment (article_id, sort, name, path, file_type) VALUES (?,?,?,?,?)",
                            (a.id, i, att["name"], att["path"], att["file_type"]))
                f = out_dir / att["path"].lstrip("/")
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(_attachment_bytes(file_rng, att["file_type"], att["name"]))
        con.commit()
    finally:
        con.close()

    counts = {c: sum(1 for a in articles if a.catid == c) for c in COLUMN_NAMES}
    truth: dict[str, Any] = {
        "seed": seed,
        "site_code": SITE_CODE,
        "site_name": SITE_NAME,
        "columns": [
            {"catid": c, "name": name, "list_path": f"/list.php?catid={c}", "article_count": counts[c],
             "pages": max(1, math.ceil(counts[c] / PER_PAGE))}
            for c, name, _, _ in COLUMNS
        ],
        "articles": [],
    }
    for a in sorted(articles, key=lambda x: x.id):
        pub, precision = _pub_truth(a)
        docno = a.docno_db if a.docno_db not in (None, "", "无") else None
        truth["articles"].append({
            "id": a.id, "catid": a.catid, "column": COLUMN_NAMES[a.catid], "path": f"/show.php?id={a.id}",
            "title": a.title, "published_at": pub, "published_at_precision": precision,
            "index_number": a.index_number, "publisher": a.publisher, "topic": a.topic,
            "written_date": a.written_date.isoformat() if a.written_date else None,
            "document_number": docno, "validity": a.validity,
            "body_paragraphs": a.paragraphs, "attachments": a.attachments,
        })
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.generator", description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--articles", type=int, default=180)
    args = ap.parse_args(argv)
    out = generate(args.out_dir, seed=args.seed, n_articles=args.articles)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    print(f"wrote {out}/site.sqlite, truth.json ({len(truth['articles'])} articles, seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
