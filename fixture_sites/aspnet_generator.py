"""Seeded content generator for the ASP.NET fixture subsite (北仑区交通运输局, ``jtj``).

``generate(out_dir)`` writes into *out_dir*:

* ``columns.tsv``, ``articles.tsv``, ``attachments.tsv`` - the "CMS database" that the WebForms application in
  ``aspnet_site/www/`` reads (``App_Code/SiteData.cs``, via ``JTJ_DATA_DIR``): tab-separated UTF-8 with a
  header line; ``\\N`` is NULL and ``\\\\``, ``\\t``, ``\\n``, ``\\r`` are escapes;
* ``UploadFiles/YYYY/*.{pdf,doc,docx,xls}`` - the attachment files (served as ``/UploadFiles/...``);
* ``truth.json`` - the ground truth a crawl of the site must reproduce exactly.

The article content comes from :func:`fixture_sites.generator.build` (the same seeded texts as the PHP site),
re-badged for a transport bureau, with every character outside GB2312 replaced (the site serves GB2312), and
the 5 PHP columns folded into 4 (年度工作目标 joins 通知公告).

Conventions the truth follows (what a careful reader of the pages can know):

* ``published_at`` comes from the detail page's ``发布日期：`` line, in one of five formats per article:
  ``2024/3/5 9:07:03`` (precision ``second``), ``2024年3月5日 09:07`` / ``2024/3/5 9:07`` (``minute``),
  ``2024年3月5日`` / ``2024-03-05`` (``day``, time 00:00).  Asia/Shanghai, written with ``+08:00``.
* Disclosure fields come from ``table.gkxx`` (labels 索引号, 发布机构, 主题分类, 成文日期, 文号, 有效性); articles of
  交通动态 (cid 3) have no table, so all of them are ``null`` there.  A 文号 cell that is empty or ``无`` is ``null``;
  so is an empty 有效性 cell (only 政策文件 articles have one).
* ``body_paragraphs`` is the text of every ``<p>`` inside ``div#ArticleContent`` in document order, with
  ``&nbsp;``/U+3000/whitespace stripped at both ends and inner runs collapsed to one ASCII space; empty
  paragraphs are dropped.  Tables in the body never contain ``<p>`` and are not paragraphs.
* ``attachments`` are the links in ``div.fujian`` after the body, in order; ``name`` is the link text.
* A column's list (``List.aspx?cid=N``, 15 per page) is newest first: published time (to the second, even
  where the detail page shows less) descending, then id descending; ``columns[].article_ids`` is that order.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

from fixture_sites import generator as base

SITE_CODE = "jtj"
SITE_NAME = "北仑区交通运输局"
PLATFORM = "aspnet"
PUBLIC_ORIGIN = "http://jtj.bl.gov.cn"
PER_PAGE = 15  # GridView1.PageSize in List.aspx

COLUMNS: list[tuple[int, str]] = [(1, "通知公告"), (2, "政策文件"), (3, "交通动态"), (4, "人事信息")]
COLUMN_NAMES = dict(COLUMNS)
CATID_TO_CID = {1: 1, 2: 2, 3: 3, 4: 4, 5: 1}  # the PHP site's 年度工作目标 joins 通知公告

# re-badge the human-resources texts as a transport bureau (longest first; applied to every string alike)
REBADGE = [
    ("北仑区人力资源和社会保障局", SITE_NAME),
    ("人力资源和社会保障部门", "交通运输部门"),
    ("区人力社保局", "区交通运输局"),
    ("人力社保", "交通运输"),
    ("区就业管理中心", "区公路管理段"),
    ("区社保中心", "区运输管理所"),
    ("区劳动监察大队", "区交通运输执法大队"),
    ("人社", "交通"),
]
# characters of the shared generator that GB2312 lacks (GBK-only), and what the old CMS's editors typed instead
GB2312_SUBSTITUTES = {"镕": "荣", "堃": "坤", "珺": "君", "喆": "哲", "玥": "月", "昇": "升", "碶": "契"}


@overload
def to_site_text(s: str) -> str: ...
@overload
def to_site_text(s: None) -> None: ...
def to_site_text(s: str | None) -> str | None:
    """Re-badge *s* for the transport bureau and make it GB2312-encodable; ValueError if it still is not."""
    if s is None:
        return None
    for old, new in REBADGE:
        s = s.replace(old, new)
    s = "".join(GB2312_SUBSTITUTES.get(c, c) for c in s)
    try:
        s.encode("gb2312")
    except UnicodeEncodeError as e:
        raise ValueError(f"not encodable in GB2312 (add it to GB2312_SUBSTITUTES): {s[e.start:e.end]!r} in {s!r}") from e
    return s


def _attachment_path(old_path: str) -> str:
    # /uploadfile/2024/0105/20240105142932123.pdf -> /UploadFiles/2024/20240105142932123.pdf
    parts = old_path.strip("/").split("/")
    return f"/UploadFiles/{parts[1]}/{parts[-1]}"


def build(seed: int = 2024, n_articles: int = 120) -> list[base.Article]:
    """The shared generator's articles, re-badged, GB2312-clean, with ``catid`` mapped to this site's cid."""
    out = []
    for a in base.build(seed, n_articles):
        out.append(replace(
            a,
            catid=CATID_TO_CID[a.catid],
            title=to_site_text(a.title),
            source=to_site_text(a.source),
            body_html=to_site_text(a.body_html),
            paragraphs=[to_site_text(p) for p in a.paragraphs],
            index_number=to_site_text(a.index_number),
            publisher=to_site_text(a.publisher),
            topic=to_site_text(a.topic),
            docno_db=to_site_text(a.docno_db),
            validity=to_site_text(a.validity),
            attachments=[{"name": to_site_text(x["name"]), "path": _attachment_path(x["path"]),
                          "file_type": x["file_type"]} for x in a.attachments],
        ))
    assert len({x["path"] for a in out for x in a.attachments}) == sum(len(a.attachments) for a in out)
    assert len({a.title for a in out}) == len(out)
    return out


def _tsv_value(v: object) -> str:
    if v is None:
        return "\\N"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _write_tsv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    lines = ["\t".join(header)] + ["\t".join(_tsv_value(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def list_order(articles: list[base.Article]) -> list[base.Article]:
    """Newest first, as List.aspx shows them."""
    return sorted(articles, key=lambda a: (a.published, a.id), reverse=True)


def generate(out_dir: Path, seed: int = 2024, n_articles: int = 120) -> Path:
    """Write the *.tsv data, UploadFiles/ and truth.json into *out_dir* (created if needed); return it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    articles = build(seed, n_articles)
    file_rng = random.Random(f"{seed}-jtj-files")

    _write_tsv(out_dir / "columns.tsv", ["cid", "name"], [[c, n] for c, n in COLUMNS])
    _write_tsv(
        out_dir / "articles.tsv",
        ["id", "cid", "title", "published", "pubstyle", "source", "hits", "index_number", "publisher", "topic",
         "written_date", "document_number", "validity", "body_html"],
        [[a.id, a.catid, a.title, a.published.strftime("%Y-%m-%d %H:%M:%S"), a.pubtime_style, a.source, a.hits,
          a.index_number, a.publisher, a.topic, a.written_date.isoformat() if a.written_date else None,
          a.docno_db, a.validity, a.body_html] for a in sorted(articles, key=lambda x: x.id)],
    )
    att_rows = []
    for a in sorted(articles, key=lambda x: x.id):
        for att in a.attachments:
            att_rows.append([a.id, att["name"], att["path"], att["file_type"]])
            f = out_dir / att["path"].lstrip("/")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(base._attachment_bytes(file_rng, att["file_type"], att["name"]))
    _write_tsv(out_dir / "attachments.tsv", ["article_id", "name", "path", "file_type"], att_rows)

    truth: dict[str, Any] = {
        "seed": seed,
        "site": {"code": SITE_CODE, "name": SITE_NAME, "platform": PLATFORM, "origin": PUBLIC_ORIGIN},
        "columns": [],
        "articles": [],
    }
    for cid, name in COLUMNS:
        in_col = list_order([a for a in articles if a.catid == cid])
        truth["columns"].append({
            "cid": cid, "name": name, "url": f"/List.aspx?cid={cid}", "count": len(in_col),
            "pages": max(1, math.ceil(len(in_col) / PER_PAGE)), "article_ids": [a.id for a in in_col],
        })
    for a in sorted(articles, key=lambda x: x.id):
        pub, precision = base._pub_truth(a)
        docno = a.docno_db if a.docno_db not in (None, "", "无") else None
        truth["articles"].append({
            "id": a.id, "cid": a.catid, "column": COLUMN_NAMES[a.catid], "path": f"/Show.aspx?id={a.id}",
            "title": a.title, "published_at": pub, "published_at_precision": precision,
            "index_number": a.index_number, "publisher": a.publisher, "topic": a.topic,
            "written_date": a.written_date.isoformat() if a.written_date else None,
            "document_number": docno, "validity": a.validity or None,
            "body_paragraphs": a.paragraphs, "attachments": a.attachments,
        })
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.aspnet_generator", description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--articles", type=int, default=120)
    args = ap.parse_args(argv)
    out = generate(args.out_dir, seed=args.seed, n_articles=args.articles)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    print(f"wrote {out}/articles.tsv, UploadFiles/, truth.json ({len(truth['articles'])} articles, seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
