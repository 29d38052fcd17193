"""Masking the personal data of people who write to a subsite (政民互动 letters and Q&A).

The portal republishes letters, so the asker's name, phone numbers, ID-card numbers and e-mail
addresses are masked before an item is stored: names keep their first character (王*, 欧阳**),
phone numbers their first three and last four digits, ID numbers their first six and last four
characters, e-mail addresses their first character and domain.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_ANONYMOUS = {"匿名", "网友", "市民", "群众", "游客", "未署名"}


def mask_personal_data(text: str, landlines: bool = True) -> str:
    """Mask mobile numbers, ID-card numbers and e-mail addresses inside free text, and landline
    numbers unless ``landlines`` is False (a government reply's office numbers are public)."""
    text = _ID_CARD.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:] if len(m.group(3)) == 4 else m.group(0), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    if landlines:
        text = _LANDLINE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    return _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), text)


def mask_name(name: str) -> str:
    """A person's name reduced to its first character (two for compound surnames); labels like
    匿名 or 网友 and already-masked names are kept."""
    name = " ".join(name.split())
    if not name or "*" in name or name in _ANONYMOUS or any(name.startswith(a) for a in _ANONYMOUS):
        return mask_personal_data(name)
    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name):
        keep = 2 if len(name) == 4 else 1
        return name[:keep] + "*" * (len(name) - keep)
    if re.fullmatch(r"[A-Za-z][A-Za-z .'-]*", name):
        return name[0] + "***"
    return mask_personal_data(name)
