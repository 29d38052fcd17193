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

import functools
import io
import random
import re
import subprocess
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

__all__ = ["FixtureFile", "attachment_set", "cjk_font", "docx", "ofd", "rtf", "rtf_escaped", "xlsx"]

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


def xlsx(sheets: dict[str, list[list[str | int]]]) -> bytes:
    """An XLSX: its sheets in order, strings shared, integers as numbers."""
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
                    strings.append(value)
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

    roster: list[list[str | int]] = [["姓名", "性别", "出生年月", "拟任职务", "任免类别"]]
    for _ in range(rng.randint(6, 12)):
        roster.append([_name(rng), rng.choice(("男", "女")), f"{rng.randint(1970, 1995)}.{rng.randint(1, 12):02d}",
                       rng.choice(POSTS), rng.choice(("任命", "免去", "试用期满转正"))])
    budget_rows: list[list[str | int]] = [["科目编码", "科目名称", "预算数（元）"]]
    for code, item in enumerate(("工资福利支出", "商品和服务支出", "对个人和家庭的补助", "资本性支出"), start=301):
        budget_rows.append([str(code), item, rng.randint(100_000, 9_000_000)])
    sheets: dict[str, list[list[str | int]]] = {"人事任免": roster, f"{year}年预算": budget_rows}
    add(f"{year}年第{rng.randint(1, 4)}批干部任前公示名单.xlsx", xlsx(sheets), "ooxml-excel",
        "\n".join(name + "\n" + "\n".join("\t".join(str(c) for c in row) for row in rows)
                  for name, rows in sheets.items()))

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


def _docx(doc: _Doc) -> bytes:
    """``doc`` as Word saves it: title, 文号, paragraphs and 落款 in the body, the table after them,
    the title also in ``core.xml``."""
    head = [doc.title] + ([doc.number] if doc.number else [])
    return docx(head + doc.paragraphs + doc.signature, title=doc.title, table=doc.table)
