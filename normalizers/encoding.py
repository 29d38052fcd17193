"""Decoding page bytes whose declared charset is often missing or wrong.

Order of evidence: a byte-order mark (authoritative); UTF-16 or UTF-32 without one, told by
where the zero bytes of its ASCII characters fall (such bytes are no 8-bit text, whatever the
page declares; an HTTP or ``<meta>`` declaration of UTF-16/32, read in the wide encoding, only
names the source); the HTTP ``charset``; a ``<meta>`` (or XML) declaration in the first 4 KB;
then UTF-8 (strict) and GB18030. Every GB2312/GBK alias is
decoded as GB18030, a superset, so GBK-only characters (镕, 堃, 珺) on pages declared gb2312
survive. A declaration is only believed if strict decoding succeeds *and* the result does not
look like mojibake when compared with UTF-8 and GB18030 readings of the same bytes (servers
default to ISO-8859-1, editors save GBK under a utf-8 meta, templates copied from Taiwan say
big5). Decoding never raises: the last resort is GB18030 with replacement characters, and
:attr:`DecodedText.replacements` counts the characters replaced.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass

_GB_ALIASES = {
    "gb2312", "gbk", "gb_2312-80", "gb_2312", "gb-2312", "x-gbk", "cp936", "ms936", "windows-936",
    "csgb2312", "csgbk", "euc-cn", "x-euc-cn", "chinese", "iso-ir-58", "gb18030", "936", "hz-gb-2312",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml\b[^>]*?encoding\s*=\s*[\"']\s*([\w.:-]+)", re.IGNORECASE)
# the same declarations in a page decoded from UTF-16/32
_META_CHARSET_TEXT = re.compile(_META_CHARSET.pattern.decode(), re.IGNORECASE)
_XML_ENCODING_TEXT = re.compile(_XML_ENCODING.pattern.decode(), re.IGNORECASE)
_WIDE_LABEL = re.compile(r"^(?:utf-?(?:16|32)|ucs-?[24]|unicode(?:fffe|feff)?|iso-10646-ucs-2)(?:-?[lb]e)?$")
_SNIFF_BYTES = 4096
_SAMPLE_CHARS = 20000

# The most frequent characters of modern Chinese text and of government pages, simplified
# and (where they differ) traditional. A right decoding of a Chinese page has a large share
# of them; a wrong one (GBK read as Big5, UTF-8 read as GBK) produces rare characters.
_COMMON_HANZI = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发"
    "后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开"
    "但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并"
    "物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先"
    "海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才"
    "结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书"
    "非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领"
    "共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转"
    "夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际"
    "约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧"
    "阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某"
    "案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察"
    "母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐"
    "帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血"
    "惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范"
    "竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读"
    "啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托"
    "央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架"
    "域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固"
    "席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇"
    "招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴"
    "园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐"
    "熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努"
    "休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页"
    "杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵硬麦蒋操耶阻"
    "订彩抽赞魔纷沿喊违妹浪汇币丰蓝殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜巧侧韩冒"
    "债曼融惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症仿倾牌陷鸟轰咱菜闭奋庆"
    "仑碶镇街道办公室政务信息公开通知公告人力资源社会保障局区委员会宁波浙江省"
    "這個們來時說會對過發後裡實現當動麼還進經開種點業間問從兩關與長將無學數據國體東見電話務結構"
    "際應該產頁報導區縣鎮統計規劃轉為條並於網網頁資訊標題機關單位辦理號碼歲貨幣"
)
_CJK_PUNCT = frozenset("，。、；：？！“”‘’（）《》【】〔〕—…·　「」『』")


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from page bytes, with the codec actually used and why it was chosen."""

    text: str
    encoding: str  # Python codec name actually used, e.g. "gb18030", "utf-8"
    source: str = "fallback"  # "bom", "http", "meta" or "fallback"
    declared: str | None = None  # the first charset the page or server declared, as written
    replacements: int = 0  # characters (byte sequences) that could not be decoded, each now U+FFFD

    @property
    def lossy(self) -> bool:
        """Whether undecodable bytes were replaced with U+FFFD."""
        return self.replacements > 0


def normalize_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset, GB aliases folded into gb18030; None if unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in _GB_ALIASES or label.startswith(("gb2312", "gbk", "gb18030")):
        return "gb18030"
    if label.startswith(("utf-16", "utf-32")):
        # A page sniffed as ASCII-compatible cannot be UTF-16; browsers read this as UTF-8.
        return "utf-8"
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1"):
        return "cp1252"  # what browsers do; cp1252 is stricter, so wrong guesses fail sooner
    if label in ("big5", "big5-hkscs", "x-x-big5", "cn-big5", "csbig5"):
        return "big5hkscs"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def plausibility(text: str) -> float:
    """How much ``text`` looks like a correct decoding of a Chinese page, about -1…1.

    Only non-ASCII characters count (ASCII reads the same in every candidate codec); 1.0 for
    text without any. Frequent hanzi and CJK punctuation score, other hanzi a little,
    control characters, private-use and replacement characters count against. (One
    ``str.translate`` to class markers and a few counts: the page's characters are never
    visited by Python code.)
    """
    classes = text[:_SAMPLE_CHARS].translate(_PLAUSIBILITY_CLASSES)
    total = len(classes)
    if total == 0:
        return 1.0
    good = classes.count("g") + 0.15 * classes.count("h") + 0.5 * classes.count("f")
    return (good - classes.count("b")) / total


def _plausibility_classes() -> dict[int, str | None]:
    """``str.translate`` table: ASCII deleted; every other character of a class its marker
    (g common hanzi and CJK punctuation, h other hanzi, f full-width forms, b bad); other
    characters stay as they are (they count in the total only)."""
    table: dict[int, str | None] = dict.fromkeys(range(0x80))
    ranges = [(0x80, 0x9F, "b"), (0xD800, 0xDFFF, "b"), (0xE000, 0xF8FF, "b"), (0xFFFD, 0xFFFD, "b"),
              (0xFF01, 0xFF5E, "f"), (0x4E00, 0x9FFF, "h")]
    for low, high, mark in ranges:
        table.update(dict.fromkeys(range(low, high + 1), mark))
    table.update(dict.fromkeys(map(ord, _COMMON_HANZI | _CJK_PUNCT), "g"))
    return table


_PLAUSIBILITY_CLASSES = _plausibility_classes()


def _replacing(body: bytes, codec: str) -> tuple[str, int]:
    """``body`` decoded with U+FFFD for what cannot be decoded, and how many were put in (each
    error is one U+FFFD with ``replace`` and none with ``ignore``; both resume at the same byte)."""
    text = body.decode(codec, errors="replace")
    return text, len(text) - len(body.decode(codec, errors="ignore"))


def _decoded(body: bytes, codec: str, source: str, declared: str | None) -> DecodedText:
    text = _strict(body, codec)
    if text is not None:
        return DecodedText(text, codec, source, declared)
    text, replaced = _replacing(body, codec)
    return DecodedText(text, codec, source, declared, replaced)


def _wide_codec(body: bytes) -> str | None:
    """UTF-32 or UTF-16 (LE or BE) when the zero bytes of the first 4 KB fall where those
    encodings put the zero half of ASCII characters (markup is ASCII); else None."""
    sample = body[:_SNIFF_BYTES]
    sample = sample[:len(sample) - len(sample) % 4]
    if len(sample) < 4 or b"\0" not in sample:
        return None
    quarter = len(sample) // 4
    zeros = [sample[i::4].count(0) / quarter for i in range(4)]
    # a code point's top byte is always zero in UTF-32, the next one for every BMP character
    if zeros[3] == 1 and zeros[2] > 0.9 and zeros[0] < 0.5:
        return "utf-32-le"
    if zeros[0] == 1 and zeros[1] > 0.9 and zeros[3] < 0.5:
        return "utf-32-be"
    even, odd = (zeros[0] + zeros[2]) / 2, (zeros[1] + zeros[3]) / 2
    if odd >= 0.2 and even <= odd / 4:
        return "utf-16-le"
    if even >= 0.2 and odd <= even / 4:
        return "utf-16-be"
    return None


def _is_wide(label: str) -> bool:
    return bool(_WIDE_LABEL.match(label.strip().strip("\"'").lower().replace("_", "-")))


def _decode_wide(body: bytes, codec: str, content_type: str | None) -> DecodedText:
    """A page in UTF-16/32 without a BOM: decoded as the bytes say; the source is the HTTP or
    markup declaration of a wide encoding, if any."""
    head = body[:_SNIFF_BYTES * (4 if "32" in codec else 2)].decode(codec, errors="replace")
    declared = []
    if content_type and (m := _HTTP_CHARSET.search(content_type)):
        declared.append(("http", m.group(1)))
    for pattern in (_XML_ENCODING_TEXT, _META_CHARSET_TEXT):
        if mt := pattern.search(head):
            declared.append(("meta", mt.group(1)))
    source = next((where for where, label in declared if _is_wide(label)), "fallback")
    return _decoded(body, codec, source, declared[0][1] if declared else None)


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared_charsets(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """[(source, label)] in order of authority: HTTP, then markup."""
    found = []
    if content_type and (m := _HTTP_CHARSET.search(content_type)):
        found.append(("http", m.group(1)))
    head = body[:_SNIFF_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        if mb := pattern.search(head):
            found.append(("meta", mb.group(1).decode("ascii", "replace")))
    return found


def decode_html(body: bytes, content_type: str | None = None) -> DecodedText:
    """Decode a page's bytes to text; never raises. A pure function of its arguments, cached
    for the last few pages: the crawl reads each page's text in several places (its links, the
    normalizer) and decodes it once.

    Tries, in order: BOM; the zero bytes of UTF-16/32 without one; the HTTP charset;
    ``<meta charset>``/``http-equiv`` (or an XML declaration) in the first 4 KB; then UTF-8
    strict, GB18030 strict, and finally GB18030 with replacement. A declared codec is rejected
    when strict decoding fails or when a UTF-8 or GB18030 reading of the same bytes is clearly
    more plausible Chinese text. ``replacements`` counts what could not be decoded at all.
    """
    body = bytes(body or b"")
    if len(body) > _CACHED_BODY_BYTES:  # the cache holds small pages only (memory stays bounded)
        return _decode(body, content_type)
    return _decode_cached(body, content_type)


_CACHED_BODY_BYTES = 512 * 1024


@functools.lru_cache(maxsize=16)
def _decode_cached(body: bytes, content_type: str | None) -> DecodedText:
    return _decode(body, content_type)


def _decode(body: bytes, content_type: str | None) -> DecodedText:
    body = body or b""
    codec: str | None  # None below: a declared charset Python has no codec for
    text: str | None  # None below: bytes that are not valid in the codec
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _decoded(body[len(bom):], codec, "bom", codec)
    if (wide := _wide_codec(body)) is not None:
        return _decode_wide(body, wide, content_type)

    declared = _declared_charsets(body, content_type)
    first_declared = declared[0][1] if declared else None
    is_ascii = body.isascii()
    fallbacks: dict[str, str | None] = {}

    def fallback(codec: str) -> str | None:
        if codec not in fallbacks:
            fallbacks[codec] = _strict(body, codec)
        return fallbacks[codec]

    tried: list[str] = []
    for source, label in declared:
        codec = normalize_charset(label)
        if codec is None or codec in tried:
            continue
        tried.append(codec)
        text = _strict(body, codec)
        if text is None:
            continue
        if is_ascii:
            return DecodedText(text, codec, source, first_declared)
        score = plausibility(text)
        rivals = [(plausibility(t), c) for c in ("utf-8", "gb18030") if c != codec and (t := fallback(c)) is not None]
        if not any(r >= 0.5 and r > score + 0.2 for r, _ in rivals):
            return DecodedText(text, codec, source, first_declared)

    candidates = [(c, t) for c in ("utf-8", "gb18030") if (t := fallback(c)) is not None]
    if candidates:
        # UTF-8 first: multi-byte GBK text is practically never valid UTF-8.
        codec, text = max(candidates, key=lambda ct: (plausibility(ct[1]) + (0.1 if ct[0] == "utf-8" else 0)))
        return DecodedText(text, codec, "fallback", first_declared)

    # Damaged bytes: the most plausible lossy reading, GB18030 unless a declared codec does better.
    lossy = [(c, *_replacing(body, c)) for c in [*tried, "gb18030"]]
    codec, text, replaced = max(lossy, key=lambda ctn: (plausibility(ctn[1]) - ctn[2] / max(len(ctn[1]), 1),
                                                       ctn[0] == "gb18030"))
    return DecodedText(text, codec, "fallback", first_declared, replaced)
