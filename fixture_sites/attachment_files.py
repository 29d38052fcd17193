"""Attachments as district subsites publish them, each with the text a perfect reader returns.

:func:`attachment_set` generates, deterministically from a seed (the same seed, the same bytes),
the files a crawl of a 政府网站 meets under 附件 links:

* **digital PDFs** (reportlab's CID font STSong-Light, not embedded, as many 政务 PDFs printed
  from WPS are; title in the PDF's Info; 2–5 A4 pages): a 通知 issuing a 管理办法 (文号 such as
  仑政办发〔2024〕12号, 章 and 条, amounts, dates, a phone number and a web address); a 部门预算
  公开表 (the explanatory text and a table of 收入/支出 lines in 万元); a 政策解读; a 工作要点. Lines
  wrap by width anywhere between two characters, as Chinese typesetting does, never inside a
  number or a Latin word (word processors keep those whole); the truth is the text without the
  wrap newlines, so compare with :func:`normalizers.fidelity.token_f1` (whitespace-insensitive);
* **DOCX**: a 申报通知 with its 申报表 table (runs split inside paragraphs, as Word saves them);
* **RTF in code page 936** (``\\ansicpg936``, ``\\'xx`` escapes of GBK bytes, what WPS saves);
* **XLSX**: a 人事任免 list and a 预算 sheet (shared strings, numbers as numbers);
* **OFD** (GB/T 33190, the national fixed-layout format: what 电子公文 systems export);
* **a ZIP** of a DOCX and a PDF (a 申报材料 bundle: 附件.zip);
* **the OLE binary formats**, written here (:func:`cfb`, a compound file writer; :func:`word97`,
  Word 97-2003 on top of it) or by xlwt: a ``.doc`` (a 通知 with its 联系表 table, a web address
  in a HYPERLINK field, phone numbers and addresses in compressed 8-bit pieces, the rest UTF-16),
  a ``.wps`` (Kingsoft's name for the same format: a 工作要点 in many small UTF-16 pieces, as WPS
  writes them), a ``.xls`` (人事任免 with a date column, and 预算) and an ``.et`` (Kingsoft's
  BIFF8: a 项目资金安排表 with amounts in 万元 and dates, and its 汇总);
* **a scanned PDF** (one image per page, no text layer: a 红头文件 scanned after signing), only
  when a CJK TrueType font is installed (``fc-list :lang=zh``) to render its text with Pillow;
* **wrong extensions**: a ``.doc`` that is an RTF and a ``.doc`` that is an HTML page (Word's
  "save as web page", GBK), the two commonest lies of ``.doc`` links;
* **hostile files** (``truth`` None, ``expect`` ``"error"``): a PDF bomb (a content stream under
  two FlateDecode filters, a few KB that inflate to 4 GiB), a PDF cut in half (a download
  interrupted, stored as if whole), and an endless download (``data`` empty, ``endless`` True:
  the server streams forever; a test stands it in with a FIFO nobody writes).

``family`` is what ``normalizers.filetypes.sniff`` must say of the bytes (this package imports
nothing of the gateway, so the value is written here, not computed). The whole set is well under
3 MB. Pure apart from :func:`cjk_font` (it asks ``fc-list`` once).
"""

from __future__ import annotations

import datetime
import functools
import io
import random
import re
import subprocess
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import xlwt
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

__all__ = ["FixtureFile", "attachment_set", "cfb", "cjk_font", "docx", "hyperlink", "ofd", "rtf", "rtf_escaped",
           "sheets_truth", "summary_information", "word97", "xls", "xlsx"]

FONT = "STSong-Light"
A4 = (595.0, 842.0)
MARGIN = 72.0
ZIP_TIME = (2024, 3, 12, 9, 30, 0)  # every member's time: the same bytes for the same seed


@dataclass(frozen=True, slots=True)
class FixtureFile:
    """One attachment: its file name (Chinese, with its extension), bytes, the family ``sniff``
    gives, the text a perfect reader returns (None for hostile files), ``kind`` (``digital``,
    ``scanned``, ``hostile``) and the status expected of a reader (``ok``, ``empty``, ``error``)."""

    name: str
    data: bytes
    family: str
    truth: str | None
    kind: str
    expect: str
    endless: bool = False  # served forever (data is empty: the server streams, the file never ends)


# ------------------------------------------------------------------------------- the wording

AGENCIES = (
    ("宁波市北仑区人民政府办公室", "仑政办发"),
    ("宁波市北仑区人力资源和社会保障局", "仑人社"),
    ("宁波市北仑区财政局", "仑财"),
    ("宁波市北仑区教育局", "仑教"),
    ("宁波市北仑区住房和城乡建设局", "仑建"),
    ("宁波市北仑区卫生健康局", "仑卫"),
)
TOPICS = (
    ("就业补助资金", "就业补助资金管理办法"),
    ("老旧小区改造", "老旧小区改造提升工作实施方案"),
    ("城乡居民基本医疗保险", "城乡居民基本医疗保险实施细则"),
    ("中小学校舍安全", "中小学校舍安全管理办法"),
    ("高校毕业生就业见习", "高校毕业生就业见习管理办法"),
    ("农村生活污水治理", "农村生活污水治理设施运维管理办法"),
)
STREETS = ("新碶街道", "大碶街道", "霞浦街道", "柴桥街道", "戚家山街道", "春晓街道", "梅山街道", "小港街道",
           "白峰街道")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志远海燕"
POSTS = ("办公室主任", "人事科科长", "财务科副科长", "党组成员、副局长", "综合执法队队长", "社会事务科科长",
         "规划建设科副科长", "政务服务中心副主任")
NUMERALS = "零一二三四五六七八九十"


def _cn(n: int) -> str:
    """1–99 in Chinese numerals (第十二条)."""
    if n <= 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else NUMERALS[tens]) + "十" + (NUMERALS[ones] if ones else "")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _date(rng: random.Random, year: int) -> tuple[int, int]:
    return rng.randint(1, 12), rng.randint(1, 28)


_ARTICLES = (
    "{subject}应当在每年{m}月{d}日前向{dept}提交申请材料，逾期不予受理，材料不全的应当一次性告知需要补正的全部内容。",
    "补助标准为每人每月{amount}元，补助期限最长不超过{months}个月，所需资金从{topic}中列支。",
    "对符合条件的项目，按照经审计确认投资额的{pct}%给予补助，单个项目补助最高不超过{wan}万元。",
    "{year}年全区共安排专项资金{big}万元，比上年增长{pct2}%，其中区级财政承担{share}%，其余由各街道（镇）承担。",
    "各街道（镇）、各有关部门要切实加强组织领导，明确责任分工，建立工作台账，确保各项工作任务落到实处。",
    "{dept}会同区财政局对资金使用情况进行监督检查，对虚报冒领、骗取套取资金的，依法依规追回并追究相关责任。",
    "申请人可登录“浙里办”APP或浙江政务服务网（www.zjzwfw.gov.cn）在线办理，也可到{street}便民服务中心窗口办理。",
    "符合条件的人员名单在{street}政务公开栏和区政府门户网站公示{days}个工作日，公示无异议的按程序拨付资金。",
    "资金实行专账核算、专款专用，任何单位和个人不得截留、挤占、挪用，年度结余资金按规定统筹使用。",
    "区审计局每年对资金管理使用情况开展专项审计，审计结果作为下一年度资金安排的重要依据。",
    "对工作成效明显的街道（镇），在年度目标管理考核中予以加分，并在下一年度资金安排中给予适当倾斜。",
    "本办法所称困难人员，是指持有《就业创业证》且登记失业{months}个月以上的本区户籍劳动者。",
)


def _fill(template: str, rng: random.Random, year: int, topic: str, dept: str) -> str:
    m, d = _date(rng, year)
    return template.format(
        subject=rng.choice(("用人单位", "申请人", "项目实施单位", "各街道（镇）")), m=m, d=d, dept=dept,
        amount=rng.choice((300, 500, 800, 1200, 1500, 2000)), months=rng.choice((3, 6, 12, 24)), topic=topic + "专项资金",
        pct=rng.choice((30, 40, 50, 60)), wan=rng.choice((5, 10, 20, 50, 100)), year=year,
        big=f"{rng.randint(800, 98000)}.{rng.randint(0, 99):02d}", pct2=f"{rng.randint(1, 30)}.{rng.randint(0, 9)}",
        share=rng.choice((50, 60, 70)), street=rng.choice(STREETS), days=rng.choice((5, 7)))


@dataclass(frozen=True, slots=True)
class _Doc:
    """A document's logical content: what every format renders and what its truth is made of."""

    title: str
    number: str | None  # 文号
    paragraphs: list[str]
    signature: list[str]  # 落款: the agency and the date, right-aligned
    table: list[list[str]] | None = None

    def lines(self) -> list[str]:
        head = [self.title] + ([self.number] if self.number else [])
        rows = ["\t".join(row) for row in self.table or []]
        return head + self.paragraphs + rows + self.signature

    def truth(self) -> str:
        return "\n".join(self.lines())


def _notice(rng: random.Random, year: int) -> _Doc:
    """A 通知 issuing a 办法: chapters and articles."""
    agency, abbr = rng.choice(AGENCIES)
    topic, rules = rng.choice(TOPICS)
    title = f"{agency}关于印发《北仑区{year}年{rules}》的通知"
    paragraphs = ["各街道（镇）人民政府，区政府各部门、各直属单位：",
                  f"现将《北仑区{year}年{rules}》印发给你们，请结合实际，认真贯彻执行。",
                  f"北仑区{year}年{rules}",
                  "第一章　总则",
                  f"第一条　为深入贯彻落实省、市关于{topic}工作的决策部署，进一步规范{topic}的管理和使用，提高资金使用效益，"
                  f"根据《中华人民共和国预算法》等有关规定，结合我区实际，制定本办法。",
                  f"第二条　本办法适用于本区行政区域内{topic}的申报、审核、拨付和监督管理。"]
    article, chapter = 3, 2
    for _ in range(rng.randint(3, 5)):
        paragraphs.append(f"第{_cn(chapter)}章　{rng.choice(('申报与审核', '补助对象和标准', '资金管理', '监督检查', '保障措施'))}")
        chapter += 1
        for template in rng.sample(_ARTICLES, rng.randint(3, 5)):
            paragraphs.append(f"第{_cn(article)}条　" + _fill(template, rng, year, topic, agency))
            article += 1
    paragraphs.append(f"第{_cn(article)}条　本办法自{year}年{rng.randint(1, 12)}月1日起施行，由{agency}负责解释。")
    name = _name(rng)
    paragraphs.append(f"联系人：{name}，联系电话：0574-{rng.randint(86700000, 86999999)}。")
    m, d = _date(rng, year)
    return _Doc(title, f"{abbr}〔{year}〕{rng.randint(1, 150)}号", paragraphs, [agency, f"{year}年{m}月{d}日"])


def _budget(rng: random.Random, year: int) -> _Doc:
    """A 部门预算公开: the explanation, then the table of 收入 and 支出 (万元)."""
    agency, _ = rng.choice(AGENCIES)
    items = ["一般公共预算拨款收入", "政府性基金预算拨款收入", "事业收入", "其他收入", "一般公共服务支出",
             "社会保障和就业支出", "卫生健康支出", "城乡社区支出", "住房保障支出", "机关运行经费"]
    amounts = [rng.randint(10, 99999) + rng.randint(0, 99) / 100 for _ in items]
    table = [["项目", f"{year}年预算数（万元）", f"{year - 1}年预算数（万元）", "增减（%）"]]
    for item, amount in zip(items, amounts, strict=True):
        last = amount * rng.uniform(0.8, 1.2)
        table.append([item, f"{amount:.2f}", f"{last:.2f}", f"{(amount - last) / last * 100:.1f}"])
    total = sum(amounts[:4])
    paragraphs = [f"一、部门主要职责。{agency}贯彻落实党中央、省委、市委和区委决策部署，负责本部门职责范围内的各项工作。",
                  f"二、收支预算总体情况。{year}年部门收入预算{total:.2f}万元，支出预算{total:.2f}万元，收支平衡。",
                  f"三、一般公共预算当年拨款情况。{year}年一般公共预算拨款{amounts[0]:.2f}万元，"
                  f"主要用于保障机构正常运转和完成{rng.choice(TOPICS)[0]}等重点工作任务。",
                  f"四、“三公”经费预算情况。{year}年“三公”经费预算{rng.randint(3, 90)}.{rng.randint(10, 99)}万元，"
                  f"其中公务接待费{rng.randint(1, 9)}.{rng.randint(10, 99)}万元，公务用车运行维护费"
                  f"{rng.randint(1, 30)}.{rng.randint(10, 99)}万元，因公出国（境）费用0万元。",
                  f"五、政府采购预算情况。{year}年政府采购预算{rng.randint(50, 900)}.{rng.randint(10, 99)}万元，"
                  f"其中货物类{rng.randint(10, 90)}.{rng.randint(10, 99)}万元，服务类{rng.randint(10, 500)}.{rng.randint(10, 99)}万元。"]
    paragraphs += [_fill(t, rng, year, "部门预算", agency) for t in rng.sample(_ARTICLES[3:6], 2)]
    m, d = _date(rng, year)
    return _Doc(f"{agency}{year}年度部门预算公开", None, paragraphs, [agency, f"{year}年{m}月{d}日"], table)


def _reading(rng: random.Random, year: int) -> _Doc:
    """A 政策解读: questions and answers about a 办法."""
    agency, abbr = rng.choice(AGENCIES)
    topic, rules = rng.choice(TOPICS)
    paragraphs = [f"一、制定背景。为贯彻落实《关于进一步做好{topic}工作的通知》（{abbr}〔{year - 1}〕"
                  f"{rng.randint(1, 99)}号）精神，{agency}起草了《北仑区{rules}》。"]
    questions = ("二、主要内容是什么？", "三、哪些人员可以申请？", "四、如何申请办理？", "五、资金如何拨付和监管？",
                 "六、什么时候开始施行？")
    for q in questions[:rng.randint(3, 5)]:
        paragraphs.append(q)
        paragraphs += [_fill(t, rng, year, topic, agency) for t in rng.sample(_ARTICLES, rng.randint(2, 3))]
    m, d = _date(rng, year)
    return _Doc(f"《北仑区{rules}》政策解读", None, paragraphs, [agency, f"{year}年{m}月{d}日"])


def _plan(rng: random.Random, year: int) -> _Doc:
    """A 工作要点: numbered tasks."""
    agency, abbr = rng.choice(AGENCIES)
    paragraphs = ["各科室、各下属单位：", f"现将《{agency}{year}年工作要点》印发给你们，请认真抓好落实。"]
    for i in range(1, rng.randint(8, 14)):
        topic = rng.choice(TOPICS)[0]
        paragraphs.append(f"（{_cn(i)}）扎实推进{topic}工作。" + _fill(rng.choice(_ARTICLES), rng, year, topic, agency))
    m, d = _date(rng, year)
    return _Doc(f"关于印发《{agency}{year}年工作要点》的通知", f"{abbr}〔{year}〕{rng.randint(1, 150)}号", paragraphs,
                [agency, f"{year}年{m}月{d}日"])


def _application(rng: random.Random, year: int) -> _Doc:
    """A 申报通知 with its 申报表 (a DOCX)."""
    agency, abbr = rng.choice(AGENCIES)
    topic = rng.choice(TOPICS)[0]
    paragraphs = ["各有关单位：", f"根据《北仑区{topic}管理办法》，现将{year}年度{topic}申报工作有关事项通知如下。",
                  *(_fill(t, rng, year, topic, agency) for t in rng.sample(_ARTICLES, 4)),
                  f"附件：{year}年度{topic}申报表"]
    table = [["单位名称", "统一社会信用代码", "联系人", "联系电话", "申请金额（元）"]]
    for _ in range(rng.randint(3, 6)):
        code = "91330206" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
        table.append([f"宁波{rng.choice(('海天', '博威', '金田', '北仑港', '恒昌'))}{rng.choice(('机械', '物流', '科技'))}有限公司",
                      code, _name(rng), f"1{rng.randint(3000000000, 9999999999)}", str(rng.randint(1, 500) * 100)])
    m, d = _date(rng, year)
    return _Doc(f"关于开展{year}年度{topic}申报工作的通知", f"{abbr}〔{year}〕{rng.randint(1, 150)}号", paragraphs,
                [agency, f"{year}年{m}月{d}日"], table)


# ------------------------------------------------------------------------------------- PDFs

_ATOM = re.compile(r"[A-Za-z0-9]+(?:[.\-:/@][A-Za-z0-9]+)*|.", re.DOTALL)
_NO_LINE_START = set("，。、；：？！）》”’〕%")  # 避头尾: hung in the margin rather than starting a line


def _wrap(text: str, width: float, size: float, indent: float = 0.0) -> list[str]:
    """``text`` in lines no wider than ``width`` points: broken between any two characters, never
    inside a number, a decimal, a phone number or a web address, nor before closing punctuation."""
    lines, line, used = [], "", indent
    for atom in _ATOM.findall(text):
        w = pdfmetrics.stringWidth(atom, FONT, size)
        if line and used + w > width and atom not in _NO_LINE_START:
            lines.append(line)
            line, used = "", 0.0
        line += atom
        used += w
    return [*lines, line] if line else lines


@functools.lru_cache(maxsize=1)
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def pdf(doc: _Doc, *, author: str) -> tuple[bytes, int]:
    """A digital PDF of ``doc`` and its page count: title (16 pt, centred), 文号, paragraphs
    indented by two characters (12 pt), the table in columns, the signature right-aligned; the
    title and the author in its Info."""
    _register_font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)  # invariant: no time stamp, no random ID
    c.setTitle(doc.title)
    c.setAuthor(author)
    c.setCreator("WPS 文字")
    width = A4[0] - 2 * MARGIN
    y, pages = A4[1] - MARGIN, 1

    def room(height: float, size: float = 12) -> None:
        """Down by ``height``, on a new page if this one is full; the font set again (a new page
        starts without one)."""
        nonlocal y, pages
        if y - height < MARGIN:
            c.showPage()
            pages += 1
            y = A4[1] - MARGIN
        y -= height
        c.setFont(FONT, size)

    for line in _wrap(doc.title, width, 16):
        room(28, 16)
        c.drawCentredString(A4[0] / 2, y, line)
    if doc.number:
        room(24)
        c.drawCentredString(A4[0] / 2, y, doc.number)
    room(10)
    for paragraph in doc.paragraphs:
        for i, line in enumerate(_wrap(paragraph, width, 12, indent=24)):
            room(21)
            c.drawString(MARGIN + (24 if i == 0 else 0), y, line)
    if doc.table:
        columns = len(doc.table[0])
        step = width / columns
        for row in doc.table:
            cells = [_wrap(cell, step - 6, 9) for cell in row]
            height = 13 * max(len(cell) for cell in cells) + 4
            room(height, 9)
            top = y + height
            for col, cell in enumerate(cells):
                for k, line in enumerate(cell):
                    c.drawString(MARGIN + col * step + 3, top - 12 - 13 * k, line)
                c.rect(MARGIN + col * step, top - height, step, height)
    room(20)
    for line in doc.signature:
        room(21)
        c.drawRightString(A4[0] - MARGIN - 24, y, line)
    c.showPage()
    c.save()
    return out.getvalue(), pages


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The file of an installed font with Chinese glyphs (``fc-list :lang=zh``), or None."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30,
                                check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    files = [f for f in files if f.lower().endswith((".ttf", ".ttc", ".otf"))]
    return files[0] if files else None


def scanned_pdf(doc: _Doc, font_file: str, rng: random.Random, dpi: int = 150) -> bytes:
    """``doc`` printed and scanned: each page a greyscale JPEG (a little paper grey, slightly
    uneven), no text layer."""
    size_px = round(A4[0] * dpi / 72), round(A4[1] * dpi / 72)
    body, head = ImageFont.truetype(font_file, round(12 * dpi / 72)), ImageFont.truetype(font_file, round(16 * dpi / 72))
    margin = round(MARGIN * dpi / 72)
    width = size_px[0] - 2 * margin
    pages: list[Image.Image] = []
    y = 0

    def new_page() -> ImageDraw.ImageDraw:
        nonlocal y
        image = Image.new("L", size_px, 238 + rng.randint(0, 10))
        pages.append(image)
        y = margin
        return ImageDraw.Draw(image)

    def wrap(text: str, font: ImageFont.FreeTypeFont, room: float) -> list[str]:
        lines, line = [], ""
        for atom in _ATOM.findall(text):
            if line and font.getlength(line + atom) > room:
                lines.append(line)
                line = ""
            line += atom
        return [*lines, line] if line else lines

    draw = new_page()
    blocks = [(line, head, "centre") for line in wrap(doc.title, head, width)]
    blocks += [(doc.number, body, "centre")] if doc.number else []
    for paragraph in doc.paragraphs:
        first = True
        for line in wrap(paragraph, body, width - body.size * 2):
            blocks.append((("\u3000\u3000" if first else "") + line, body, "left"))
            first = False
    blocks += [(line, body, "right") for line in doc.signature]
    for text, font, align in blocks:
        step = round(font.size * 1.75)
        if y + step > size_px[1] - margin:
            draw = new_page()
        length = font.getlength(text)
        x = {"centre": (size_px[0] - length) / 2, "left": margin, "right": size_px[0] - margin - length}[align]
        draw.text((x + rng.randint(-1, 1), y), text, font=font, fill=20 + rng.randint(0, 30))
        y += step
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)
    c.setTitle(doc.title)
    for image in pages:
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", quality=70)
        jpeg.seek(0)
        c.drawImage(ImageReader(jpeg), 0, 0, width=A4[0], height=A4[1])
        c.showPage()
    c.save()
    return out.getvalue()


def pdf_bomb(inflated: int = 4 * 1024 ** 3) -> bytes:
    """A one-page PDF whose content stream, under ``[/FlateDecode /FlateDecode]``, inflates to
    ``inflated`` bytes of spaces (valid content: whitespace between no operators) from a few KB.

    The inner zlib stream is built without ever holding the inflated bytes: after a full flush a
    deflate stream no longer depends on what came before, so one compressed MiB of spaces is
    repeated; its Adler-32 is computed from the count."""
    chunk = b" " * (1024 * 1024)
    count = inflated // len(chunk)
    z = zlib.compressobj(9)
    first = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    tail = z.flush()[:-4]  # the final empty block, without the checksum of just two chunks
    n = count * len(chunk)
    a, b = (1 + 32 * n) % 65521, (n + 32 * n * (n + 1) // 2) % 65521  # Adler-32 of n spaces
    inner = first + block * (count - 1) + tail + ((b << 16) | a).to_bytes(4, "big")
    outer = zlib.compress(inner, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
               b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(outer) + outer
               + b"\nendstream",
               b"<< /Title (Report) >>"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ------------------------------------------------------------------------ office documents


def _zip(members: Sequence[tuple[str, str | bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def docx(paragraphs: list[str], *, title: str | None = None, table: list[list[str]] | None = None) -> bytes:
    """A DOCX: each paragraph in two runs (split after its fourth character), then the table."""
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = "".join(f"<w:p><w:r><w:t>{p[:4]}</w:t></w:r><w:r><w:t xml:space='preserve'>{p[4:]}</w:t></w:r></w:p>"
                   for p in paragraphs)
    if table:
        rows = "".join("<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in row)
                       + "</w:tr>" for row in table)
        body += f"<w:tbl>{rows}</w:tbl>"
    members: list[tuple[str, str | bytes]] = [
        ("[Content_Types].xml", "<Types/>"),
        ("word/document.xml", f"<?xml version='1.0' encoding='UTF-8'?><w:document {w}><w:body>{body}"
                              f"</w:body></w:document>")]
    if title:
        members.append(("docProps/core.xml", "<cp:coreProperties xmlns:cp='x' "
                                             "xmlns:dc='http://purl.org/dc/elements/1.1/'>"
                                             f"<dc:title>{title}</dc:title></cp:coreProperties>"))
    return _zip(members)


SheetValue = str | int | float | datetime.date  # a cell of the workbooks written here


def xlsx(sheets: Mapping[str, Sequence[Sequence[SheetValue]]]) -> bytes:
    """An XLSX: its sheets in order, strings shared, integers as numbers (anything else as its text)."""
    s = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    r = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    strings: list[str] = []
    members: list[tuple[str, str | bytes]] = [("[Content_Types].xml", "<Types/>")]
    entries, rels = [], []
    for n, (name, rows) in enumerate(sheets.items(), start=1):
        entries.append(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>')
        rels.append(f'<Relationship Id="rId{n}" Target="worksheets/sheet{n}.xml" Type="x"/>')
        xml_rows = []
        for i, row in enumerate(rows, start=1):
            cells = []
            for value in row:
                if isinstance(value, int):
                    cells.append(f"<c><v>{value}</v></c>")
                else:
                    strings.append(_cell_text(value))
                    cells.append(f'<c t="s"><v>{len(strings) - 1}</v></c>')
            xml_rows.append(f'<row r="{i}">{"".join(cells)}</row>')
        members.append((f"xl/worksheets/sheet{n}.xml",
                        f"<worksheet {s}><sheetData>{''.join(xml_rows)}</sheetData></worksheet>"))
    members.append(("xl/workbook.xml", f"<workbook {s} {r}><sheets>{''.join(entries)}</sheets></workbook>"))
    members.append(("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
                                                  f'2006/relationships">{"".join(rels)}</Relationships>'))
    members.append(("xl/sharedStrings.xml",
                    f"<sst {s}>" + "".join(f"<si><t>{t}</t></si>" for t in strings) + "</sst>"))
    return _zip(members)


def ofd(pages: list[list[list[tuple[str, float]]]], title: str) -> bytes:
    """An OFD package (GB/T 33190): pages of lines, each line of text objects (text, x) on one
    baseline."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    members: list[tuple[str, str | bytes]] = [
        ("OFD.xml", f"<ofd:OFD {ns} Version='1.1' DocType='OFD'><ofd:DocBody><ofd:DocInfo>"
                    f"<ofd:Title>{title}</ofd:Title></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml"
                    "</ofd:DocRoot></ofd:DocBody></ofd:OFD>")]
    page_refs = "".join(f"<ofd:Page ID='{i + 1}' BaseLoc='Pages/Page_{i}/Content.xml'/>" for i in range(len(pages)))
    members.append(("Doc_0/Document.xml", f"<ofd:Document {ns}><ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID>"
                                          f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"))
    for i, lines in enumerate(pages):
        objects: list[str] = []
        for row, line in enumerate(lines):
            y = 20 + 8 * row
            for text, x in line:
                objects.append(f"<ofd:TextObject ID='{len(objects) + 10}' Boundary='{x} {y} 100 5' Font='1' "
                               f"Size='4.2'><ofd:TextCode X='0' Y='4'>{text}</ofd:TextCode></ofd:TextObject>")
        members.append((f"Doc_0/Pages/Page_{i}/Content.xml", f"<ofd:Page {ns}><ofd:Content><ofd:Layer ID='2'>"
                                                             f"{''.join(objects)}</ofd:Layer></ofd:Content></ofd:Page>"))
    return _zip(members)


def rtf_escaped(text: str, codec: str = "gbk") -> str:
    """``text`` for an RTF body: ASCII as is (``\\``, ``{``, ``}`` escaped), the rest as ``\\'xx``
    escapes of its bytes in ``codec``."""
    out = []
    for ch in text:
        if ord(ch) < 0x80:
            out.append({"\\": "\\\\", "{": "\\{", "}": "\\}"}.get(ch, ch))
        else:
            out.append("".join(f"\\'{b:02x}" for b in ch.encode(codec)))
    return "".join(out)


def rtf(paragraphs: list[str], *, title: str) -> bytes:
    """An RTF as WPS saves it: ``\\ansicpg936``, a font and a colour table, ``\\info``, paragraphs."""
    body = "\\par\n".join(rtf_escaped(p) for p in paragraphs)
    text = ("{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 " + rtf_escaped("宋体") + ";}}"
            "{\\colortbl;\\red0\\green0\\blue0;}{\\info{\\title " + rtf_escaped(title) + "}{\\author admin}}"
            "{\\*\\generator WPS Office;}\\f0\\fs32 " + body + "\\par}")
    return text.encode("ascii")


def word_html(doc: _Doc) -> bytes:
    """Word's "save as web page" (the Office namespaces, GBK), as a ``.doc``."""
    paragraphs = "".join(f"<p class=MsoNormal style='text-indent:21.0pt'><span lang=ZH-CN>{p}</span></p>\n"
                         for p in doc.lines()[1:])
    page = ("<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" "
            "xmlns:w=\"urn:schemas-microsoft-com:office:word\" xmlns=\"http://www.w3.org/TR/REC-html40\">\n"
            "<head><meta http-equiv=Content-Type content=\"text/html; charset=gb2312\">"
            "<meta name=ProgId content=Word.Document><meta name=Generator content=\"Microsoft Word 11\">"
            f"<title>{doc.title}</title><style><!-- p.MsoNormal {{font-family:宋体}} --></style></head>\n"
            f"<body lang=ZH-CN style='tab-interval:21.0pt'><div class=Section1>\n"
            f"<p class=MsoTitle align=center><b>{doc.title}</b></p>\n{paragraphs}</div></body></html>")
    return page.encode("gbk")


# ------------------------------------------------------------- OLE: Word 97 and Excel BIFF8

SECTOR = 512
_FREE, _END_OF_CHAIN, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_MIN_STREAM = 4096  # the mini stream cutoff: a stream at least this long lives in regular sectors


def _cfb_key(name: str) -> tuple[int, str]:
    """MS-CFB's order of sibling names: the shorter first, then by upper-cased characters."""
    return len(name), name.upper()


def cfb(streams: dict[str, bytes]) -> bytes:
    """An OLE compound file (MS-CFB version 3: 512-byte sectors) holding ``streams`` under its root.

    Each stream is padded with NULs to the 4096-byte mini stream cutoff, so every one lives in
    regular sectors and no mini stream or mini FAT is needed; the FAT fits the header's 109 DIFAT
    slots (files up to about 7 MB); the siblings are a balanced binary tree in MS-CFB's name
    order, all black."""
    names = sorted(streams, key=_cfb_key)
    if any(len(name) > 31 for name in names):
        raise ValueError("a stream name is longer than 31 characters")
    padded = {name: streams[name].ljust(_MIN_STREAM, b"\x00") for name in names}
    entries = 1 + len(names)
    dir_sectors = -(-entries * 128 // SECTOR)
    data_sectors = sum(-(-len(data) // SECTOR) for data in padded.values())
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < fat_sectors + dir_sectors + data_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("too large for a compound file without DIFAT sectors")
    fat = [_FAT_SECTOR] * fat_sectors

    def chain(count: int) -> int:
        start = len(fat)
        fat.extend(range(start + 1, start + count))
        fat.append(_END_OF_CHAIN)
        return start

    dir_start = chain(dir_sectors)
    starts = {name: chain(-(-len(data) // SECTOR)) for name, data in padded.items()}
    fat += [_FREE] * (fat_sectors * SECTOR // 4 - len(fat))

    ids = {name: i for i, name in enumerate(names, start=1)}
    left, right = dict.fromkeys(names, _NO_STREAM), dict.fromkeys(names, _NO_STREAM)

    def tree(part: list[str]) -> int:
        if not part:
            return _NO_STREAM
        middle = len(part) // 2
        name = part[middle]
        left[name], right[name] = tree(part[:middle]), tree(part[middle + 1:])
        return ids[name]

    root_child = tree(names)

    def entry(name: str, kind: int, left_id: int, right_id: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return (encoded.ljust(64, b"\x00") + len(encoded).to_bytes(2, "little") + bytes([kind, 1])
                + b"".join(v.to_bytes(4, "little") for v in (left_id, right_id, child)) + bytes(16 + 4 + 16)
                + start.to_bytes(4, "little") + size.to_bytes(8, "little"))

    directory = entry("Root Entry", 5, _NO_STREAM, _NO_STREAM, root_child, _END_OF_CHAIN, 0)
    for name in names:
        directory += entry(name, 2, left[name], right[name], _NO_STREAM, starts[name], len(padded[name]))
    empty = bytes(64) + bytes(4) + b"".join(_NO_STREAM.to_bytes(4, "little") for _ in range(3)) + bytes(16 + 4 + 16 + 12)
    directory += empty * (dir_sectors * SECTOR // 128 - entries)

    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + (0x003E).to_bytes(2, "little") + (3).to_bytes(2, "little") + (0xFFFE).to_bytes(2, "little")
              + (9).to_bytes(2, "little") + (6).to_bytes(2, "little") + bytes(6)
              + b"".join(v.to_bytes(4, "little") for v in (
                  0, fat_sectors, dir_start, 0, _MIN_STREAM, _END_OF_CHAIN, 0, _END_OF_CHAIN, 0, *difat)))
    body = b"".join(v.to_bytes(4, "little") for v in fat) + directory
    body += b"".join(data.ljust(-(-len(data) // SECTOR) * SECTOR, b"\x00") for data in padded.values())
    return header + body


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "little")


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def summary_information(title: str, codepage: int = 936) -> bytes:
    """A ``\\x05SummaryInformation`` property set (MS-OLEPS) with the code page and the title
    (a ``VT_LPSTR`` in that code page: GBK for 936, what Chinese Word and WPS write)."""
    raw = title.encode({936: "gbk", 65001: "utf-8"}.get(codepage, f"cp{codepage}"))
    codepage_value = _u32(0x0002) + _u16(codepage) + bytes(2)  # VT_I2
    title_value = _u32(0x001E) + _u32(len(raw) + 1) + (raw + b"\x00").ljust(-(-(len(raw) + 1) // 4) * 4, b"\x00")
    first = 8 + 2 * 8
    section = (_u32(first + len(codepage_value) + len(title_value)) + _u32(2) + _u32(1) + _u32(first) + _u32(2)
               + _u32(first + len(codepage_value)) + codepage_value + title_value)
    fmtid = bytes.fromhex("e0859ff2f94f6810ab9108002b27b3d9")  # {F29F85E0-4FF9-1068-AB91-08002B27B3D9}
    return _u16(0xFFFE) + _u16(0) + _u32(0x00020006) + bytes(16) + _u32(1) + fmtid + _u32(48) + section


# the characters of a compressed (8-bit) piece: Latin-1 but for 0x80-0x9F, where MS-DOC 2.9.73
# (FcCompressed) maps these bytes to these characters (cp1252's, without the euro, Ž and ž)
COMPRESSED_80_9F = {0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026", 0x86: "\u2020",
                    0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160", 0x8B: "\u2039",
                    0x8C: "\u0152", 0x91: "\u2018", 0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d",
                    0x95: "\u2022", 0x96: "\u2013", 0x97: "\u2014", 0x98: "\u02dc", 0x99: "\u2122",
                    0x9A: "\u0161", 0x9B: "\u203a", 0x9C: "\u0153", 0x9F: "\u0178"}
_TO_COMPRESSED = {ord(ch): byte for byte, ch in COMPRESSED_80_9F.items()}
_COMPRESSED_RUN = re.compile("[\x00-\x7f\xa0-\xff" + "".join(COMPRESSED_80_9F.values()) + "]{8,}")
FIELD_BEGIN, FIELD_SEPARATOR, FIELD_END = "\x13", "\x14", "\x15"


def hyperlink(url: str, shown: str | None = None) -> str:
    """A HYPERLINK field as Word stores it in the text: the code, then its result (what is
    shown), between the field marks."""
    return f'{FIELD_BEGIN} HYPERLINK "{url}" {FIELD_SEPARATOR}{shown or url}{FIELD_END}'


def word97(blocks: Sequence[str | list[list[str]]], *, title: str | None = None, compress: bool = True,
           piece_chars: int | None = None, encrypted: bool = False) -> bytes:
    """A Word 97-2003 binary document (MS-DOC, what ``.doc`` and Kingsoft ``.wps`` are): ``blocks``
    are paragraphs (a string may hold field marks, see :func:`hyperlink`) and tables (rows of
    cells: each cell ends with a cell mark, each row with a row mark).

    The text is in the ``WordDocument`` stream after its FIB (``wIdent`` 0xA5EC, ``nFib`` 0x00C1,
    ``fWhichTblStm`` 1, ``ccpText``, ``fcClx``/``lcbClx``), in pieces listed by the Clx of the
    ``1Table`` stream (a Prc, then the piece table): with ``compress``, every run of at least
    eight characters of the 8-bit set (ASCII: a phone number, a web address) is a compressed
    piece, the rest UTF-16LE pieces, each cut at ``piece_chars`` if given (WPS writes many
    pieces). No formatting (a style sheet of empty slots, no property bins, so no table layout
    either): what a text reader needs and no more. The title, if given, goes in ``\\x05SummaryInformation``; ``encrypted`` sets
    ``fEncrypted`` (the text stays plain: a reader must refuse it by the flag)."""
    text = ""
    for block in blocks:
        if isinstance(block, str):
            text += block + "\r"
        else:
            text += "".join("".join(cell + "\x07" for cell in row) + "\x07" for row in block)
    if not text.endswith("\r"):
        text += "\r"  # the main document ends with a paragraph mark
    runs: list[tuple[str, bool]] = []
    at = 0
    for m in (_COMPRESSED_RUN.finditer(text) if compress else ()):
        runs += [(text[at:m.start()], False), (m.group(), True)]
        at = m.end()
    runs.append((text[at:], False))
    pieces: list[tuple[str, bool]] = []
    for run, compressed in runs:
        step = piece_chars or len(run) or 1
        pieces += [(run[k:k + step], compressed) for k in range(0, len(run), step)]

    fib_size, text_start = 154 + 93 * 8 + 2, 1024
    stream = bytearray(text_start)
    cps, pcds = [0], bytearray()
    for n, (piece, compressed) in enumerate(pieces):
        if n and compressed != pieces[n - 1][1]:
            # a run of the other kind starts a sector, as Word writes them (antiword reads each
            # run to the end of its last sector)
            stream += bytes(-len(stream) % SECTOR)
        if compressed:
            fc = (len(stream) * 2) | 0x40000000
            stream += bytes(_TO_COMPRESSED.get(ord(ch), ord(ch)) for ch in piece)
        else:
            stream += bytes(len(stream) % 2)
            fc = len(stream)
            stream += piece.encode("utf-16-le")
        cps.append(cps[-1] + len(piece))
        pcds += bytes(2) + fc.to_bytes(4, "little") + bytes(2)
    text_end = len(stream)
    plc = b"".join(cp.to_bytes(4, "little") for cp in cps) + bytes(pcds)
    clx = b"\x01" + (3).to_bytes(2, "little") + b"\x35\x08\x00" + b"\x02" + len(plc).to_bytes(4, "little") + plc
    # a style sheet of the 15 fixed styles, all empty slots (Word's minimum; antiword reads one)
    stshi = b"".join(v.to_bytes(2, "little") for v in (15, 0x000A, 1, 0, 0, 0, 0, 0, 0))
    stsh = len(stshi).to_bytes(2, "little") + stshi + bytes(2 * 15)
    table = stsh + clx

    fib = bytearray(fib_size)
    fib[0:2] = (0xA5EC).to_bytes(2, "little")  # wIdent
    fib[2:4] = (0x00C1).to_bytes(2, "little")  # nFib: Word 97 and later
    fib[6:8] = (0x0804).to_bytes(2, "little")  # lid: Chinese (PRC)
    flags = 0x0200 | 0x1000 | (0x0100 if encrypted else 0)  # fWhichTblStm, fExtChar, fEncrypted
    fib[10:12] = flags.to_bytes(2, "little")
    fib[12:14] = (0x00BF).to_bytes(2, "little")  # nFibBack
    # reserved5 and reserved6 in MS-DOC, fcMin and fcMac of the text to older readers
    fib[24:28], fib[28:32] = text_start.to_bytes(4, "little"), text_end.to_bytes(4, "little")
    fib[32:34] = (14).to_bytes(2, "little")  # csw: FibRgW97
    fib[60:62] = (0x0804).to_bytes(2, "little")  # lidFE
    fib[62:64] = (22).to_bytes(2, "little")  # cslw: FibRgLw97
    fib[64:68] = max(text_end, _MIN_STREAM).to_bytes(4, "little")  # cbMac
    fib[76:80] = cps[-1].to_bytes(4, "little")  # ccpText
    fib[152:154] = (93).to_bytes(2, "little")  # cbRgFcLcb: FibRgFcLcb97
    fib[154 + 8:154 + 16] = (0).to_bytes(4, "little") + len(stsh).to_bytes(4, "little")  # fcStshf, lcbStshf
    fib[154 + 33 * 8:154 + 34 * 8] = len(stsh).to_bytes(4, "little") + len(clx).to_bytes(4, "little")  # fcClx, lcbClx
    stream[:fib_size] = fib
    streams = {"WordDocument": bytes(stream), "1Table": table}
    if title:
        streams["\x05SummaryInformation"] = summary_information(title)
    return cfb(streams)


def xls(sheets: Mapping[str, Sequence[Sequence[SheetValue]]]) -> bytes:
    """An Excel 97-2003 workbook (BIFF8, what ``.xls`` and Kingsoft ``.et`` are), written by xlwt:
    its sheets in order; strings, numbers and dates (formatted ``YYYY-MM-DD``) as such."""
    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime.date):
                    sheet.write(r, c, value, date_style)
                else:
                    sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell_text(value: SheetValue) -> str:
    """A cell as a reader writes it: an integral number without ``.0``, a date in ISO."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheets_truth(sheets: Mapping[str, Sequence[Sequence[SheetValue]]]) -> str:
    """The text of a workbook: each sheet's name, then its rows, cells by tab."""
    return "\n".join(name + "\n" + "\n".join("\t".join(_cell_text(c) for c in row) for row in rows)
                     for name, rows in sheets.items())


# --------------------------------------------------------------------------------- the set


def _ofd_pages(doc: _Doc, per_page: int = 30, width: int = 38) -> list[list[list[tuple[str, float]]]]:
    """``doc`` as OFD lines: wrapped at ``width`` characters; the title one text object per
    character, as some converters write it."""
    lines: list[list[tuple[str, float]]] = [[(ch, 25 + 4.2 * i) for i, ch in enumerate(doc.title)]]
    for text in doc.lines()[1:]:
        lines += [[(text[k:k + width], 25.0)] for k in range(0, len(text), width)]
    return [lines[k:k + per_page] for k in range(0, len(lines), per_page)]


def attachment_set(seed: int = 0) -> list[FixtureFile]:
    """The attachments of the module documentation, generated from ``seed``."""
    rng = random.Random(seed)
    year = rng.choice((2022, 2023, 2024))
    files: list[FixtureFile] = []

    def add(name: str, data: bytes, family: str, truth: str | None, kind: str = "digital", expect: str = "ok",
            *, endless: bool = False) -> None:
        files.append(FixtureFile(name, data, family, truth, kind, expect, endless))

    docs = [("附件1：{title}.pdf", _notice(rng, year)), ("附件2：{year}年度部门预算公开表.pdf", _budget(rng, year)),
            ("{title}.pdf", _reading(rng, year)), ("{title}.pdf", _plan(rng, year))]
    pdfs = []
    for pattern, short in docs:
        doc, data = _paged_pdf(short, rng, year, rng.randint(2, 5))
        pdfs.append(data)
        add(pattern.format(title=doc.title, year=year), data, "pdf", doc.truth())

    application = _application(rng, year)
    add(f"附件：{application.title}.docx", _docx(application), "ooxml-word", application.truth())

    reading = _reading(rng, year)
    add(f"{reading.title}.rtf", rtf(reading.lines(), title=reading.title), "rtf", reading.truth())

    sheets = _personnel_sheets(rng, year)
    add(f"{year}年第{rng.randint(1, 4)}批干部任前公示名单.xlsx", xlsx(sheets), "ooxml-excel", sheets_truth(sheets))

    notice = _notice(rng, year)
    add(f"{notice.number}.ofd", ofd(_ofd_pages(notice), notice.title), "ofd", notice.truth())

    bundle = _application(rng, year)
    inner = _plan(rng, year)
    inner, inner_pdf = _paged_pdf(inner, rng, year, 2)
    add(f"{year}年度申报材料.zip", _zip([(f"附件1：{bundle.title}.docx", _docx(bundle)),
                                         (f"附件2：{inner.title}.pdf", inner_pdf)]),
        "zip", bundle.truth() + "\n" + inner.truth())

    fake_rtf = _reading(rng, year)
    add(f"{fake_rtf.title}.doc", rtf(fake_rtf.lines(), title=fake_rtf.title), "rtf", fake_rtf.truth())
    fake_html = _application(rng, year)
    add(f"{fake_html.title}.doc", word_html(fake_html), "html", fake_html.truth())

    add(f"{year}年度统计报表（附件）.pdf", pdf_bomb(), "pdf", None, "hostile", "error")
    add(f"附件3：{docs[0][1].title}（截断）.pdf", pdfs[0][: len(pdfs[0]) // 2], "pdf", None, "hostile", "error")
    add(f"{year}年政府信息公开工作年度报告.pdf", b"", "pdf", None, "hostile", "error", endless=True)

    # the OLE binary formats: Word 97-2003 (.doc, and Kingsoft's .wps) and BIFF8 (.xls, Kingsoft's .et)
    word_notice = _notice(rng, year)
    contacts = [["单位", "联系人", "联系电话"]] + [
        [rng.choice(AGENCIES)[0], _name(rng), f"0574-{rng.randint(86700000, 86999999)}"] for _ in range(2)]
    site = "www.bl.gov.cn"
    shown = f"详见北仑区人民政府门户网站：{site}。"
    word_notice = _Doc(word_notice.title, word_notice.number, [*word_notice.paragraphs, shown], word_notice.signature,
                       contacts)
    add(f"{word_notice.title}.doc",
        _word97(word_notice, fields={shown: f"详见北仑区人民政府门户网站：{hyperlink(f'http://{site}/', site)}。"}),
        "word-binary", word_notice.truth())
    wps_plan = _plan(rng, year)
    add(f"{wps_plan.title}.wps", _word97(wps_plan, compress=False, piece_chars=rng.randint(120, 300)), "word-binary",
        wps_plan.truth())
    binary_sheets = _personnel_sheets(rng, year, announced=True)
    add(f"{year}年第{rng.randint(5, 8)}批干部任前公示名单.xls", xls(binary_sheets), "excel-binary",
        sheets_truth(binary_sheets))
    funds = _funds_sheets(rng, year)
    add(f"{year}年{rng.choice(TOPICS)[0]}项目资金安排表.et", xls(funds), "excel-binary", sheets_truth(funds))

    font = cjk_font()
    if font:  # last, from a generator of its own: the other files do not depend on the font
        scan_rng = random.Random(f"scan-{seed}")
        scan = _plan(scan_rng, year)
        short = _Doc(scan.title, scan.number, scan.paragraphs[:8], scan.signature)
        add(f"{short.number}（扫描件）.pdf", scanned_pdf(short, font, scan_rng), "pdf", short.truth(), "scanned")
    return files


def _paged_pdf(doc: _Doc, rng: random.Random, year: int, pages: int) -> tuple[_Doc, bytes]:
    """``doc`` as a PDF of at least ``pages`` pages: articles added before its last two
    paragraphs (the date it takes effect, the contact) until it fills them."""
    while True:
        data, printed = pdf(doc, author=doc.signature[0])
        if printed >= pages:
            return doc, data
        topic = rng.choice(TOPICS)[0]
        more = [_fill(t, rng, year, topic, doc.signature[0]) for t in rng.sample(_ARTICLES, 4)]
        doc = _Doc(doc.title, doc.number, doc.paragraphs[:-2] + more + doc.paragraphs[-2:], doc.signature, doc.table)


def _personnel_sheets(rng: random.Random, year: int, *, announced: bool = False) -> dict[str, list[list[SheetValue]]]:
    """A 人事任免 list (with the day it is announced, a date cell, if ``announced``) and a 预算 sheet."""
    header: list[SheetValue] = ["姓名", "性别", "出生年月", "拟任职务", "任免类别"]
    roster: list[list[SheetValue]] = [header + (["公示日期"] if announced else [])]
    for _ in range(rng.randint(6, 12)):
        roster.append([_name(rng), rng.choice(("男", "女")), f"{rng.randint(1970, 1995)}.{rng.randint(1, 12):02d}",
                       rng.choice(POSTS), rng.choice(("任命", "免去", "试用期满转正"))])
        if announced:
            roster[-1].append(datetime.date(year, *_date(rng, year)))
    budget_rows: list[list[SheetValue]] = [["科目编码", "科目名称", "预算数（元）"]]
    for code, item in enumerate(("工资福利支出", "商品和服务支出", "对个人和家庭的补助", "资本性支出"), start=301):
        budget_rows.append([str(code), item, rng.randint(100_000, 9_000_000)])
    return {"人事任免": roster, f"{year}年预算": budget_rows}


def _funds_sheets(rng: random.Random, year: int) -> dict[str, list[list[SheetValue]]]:
    """A 项目资金安排表 (amounts in 万元 with cents, start dates) and its 汇总 by street."""
    rows: list[list[SheetValue]] = [["序号", "项目名称", "实施单位", "安排资金（万元）", "开工日期"]]
    totals: dict[str, float] = {}
    for n in range(1, rng.randint(5, 9)):
        street = rng.choice(STREETS)
        amount = round(rng.randint(5, 900) + rng.randint(1, 99) / 100, 2)
        totals[street] = round(totals.get(street, 0.0) + amount, 2)
        rows.append([n, f"{street}{rng.choice(TOPICS)[0]}项目", f"{street}办事处", amount,
                     datetime.date(year, *_date(rng, year))])
    summary: list[list[SheetValue]] = [["街道", "合计（万元）"]]
    summary.extend([street, total] for street, total in totals.items())
    return {"项目资金": rows, "汇总": summary}


def _word97(doc: _Doc, *, fields: dict[str, str] | None = None, compress: bool = True,
            piece_chars: int | None = None) -> bytes:
    """``doc`` as Word 97-2003 writes it: title, 文号, paragraphs (those in ``fields`` in their
    field-marked form), the table, the signature; the title also in its SummaryInformation."""
    head = [doc.title] + ([doc.number] if doc.number else [])
    blocks: list[str | list[list[str]]] = [*head, *((fields or {}).get(p, p) for p in doc.paragraphs)]
    if doc.table:
        blocks.append(doc.table)
    return word97([*blocks, *doc.signature], title=doc.title, compress=compress, piece_chars=piece_chars)


def _docx(doc: _Doc) -> bytes:
    """``doc`` as Word saves it: title, 文号, paragraphs and 落款 in the body, the table after them,
    the title also in ``core.xml``."""
    head = [doc.title] + ([doc.number] if doc.number else [])
    return docx(head + doc.paragraphs + doc.signature, title=doc.title, table=doc.table)
