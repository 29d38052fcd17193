"""Regenerate the fixture-site cases of the extraction evaluation set (``fx_*.html`` / ``fx_*.json``).

Run from the repository root::

    python tests/eval/build_fixture_cases.py

Each fixture subsite is generated with its default seed, served on a loopback port exactly as the
crawl tests serve it, and a spread of its detail pages is fetched with urllib (the bytes as served)
and labelled from the generator's ``truth.json``:

* ``title``: ``title``;
* ``published``: ``published_at`` cut to ``published_at_precision`` (what the page's date line shows);
* ``content_type``: the Content-Type header the page was served with (some are wrong on purpose);
* ``body``: ``body_paragraphs`` joined by ``"\\n"``.  The generators leave the data tables of a body
  (``table.MsoNormalTable``, always right after the first paragraph) out of ``body_paragraphs``;
  they are content, so their rows (cells joined by one space) are put back in that place.

Selection is deterministic: per site, articles are taken round-robin over (column, date precision)
groups in id order, after one article with a body table and one with attachments when the site has
them. The JavaScript site is skipped (its pages are empty without a browser). Needs php-cli and Mono,
like the crawl tests.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

import lxml.html

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from fixture_sites.aspnet_generator import PUBLIC_ORIGIN as ASPNET_ORIGIN  # noqa: E402
from fixture_sites.aspnet_generator import generate as generate_aspnet  # noqa: E402
from fixture_sites.aspnet_server import aspnet_server  # noqa: E402
from fixture_sites.generator import generate as generate_php  # noqa: E402
from fixture_sites.legacy_sites import ASP_ORIGIN, TRS_ORIGIN, asp_server, generate_asp, generate_trs, trs_server  # noqa: E402
from fixture_sites.modern_sites import HANWEB_ORIGIN, generate_hanweb, hanweb_server  # noqa: E402
from fixture_sites.servers import php_bureau_server  # noqa: E402

PER_SITE = 6
_WS = re.compile(r"[\s\u00a0\u3000]+")

# family, generator, server, public origin, page encoding (to read the body tables back), generator's description
SITES: list[tuple[str, Callable, Callable, str, str, str]] = [
    ("php", generate_php, php_bureau_server, "http://rsj.bl.gov.cn", "gb18030",
     "fixture_sites.generator.generate (seed 2024) served by fixture_sites.servers.php_bureau_server (php -S)"),
    ("aspnet", generate_aspnet, aspnet_server, ASPNET_ORIGIN, "gb18030",
     "fixture_sites.aspnet_generator.generate (seed 2024) served by fixture_sites.aspnet_server.aspnet_server (Mono)"),
    ("asp", generate_asp, asp_server, ASP_ORIGIN, "gb18030",
     "fixture_sites.legacy_sites.generate_asp (seed 2024) served by fixture_sites.legacy_sites.asp_server"),
    ("trs", generate_trs, trs_server, TRS_ORIGIN, "utf-8",
     "fixture_sites.legacy_sites.generate_trs (seed 2024) served by fixture_sites.legacy_sites.trs_server"),
    ("hanweb", generate_hanweb, hanweb_server, HANWEB_ORIGIN, "utf-8",
     "fixture_sites.modern_sites.generate_hanweb (seed 2024) served by fixture_sites.modern_sites.hanweb_server"),
]


def _norm(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _published(truth_article: dict) -> str:
    value, precision = truth_article["published_at"], truth_article["published_at_precision"]
    day, time = value[:10], value[11:19]
    return {"day": day, "minute": f"{day} {time[:5]}", "second": f"{day} {time}"}[precision]


def _body_tables(html: bytes, encoding: str) -> list[list[str]]:
    """Rows of each generator body table on the page, cells joined by one space."""
    root = lxml.html.document_fromstring(html.decode(encoding, "replace"))
    tables = []
    for table in root.xpath('//table[contains(concat(" ", @class, " "), " MsoNormalTable ")]'):
        rows = []
        for tr in table.iter("tr"):
            cells = [_norm(td.text_content()) for td in tr if isinstance(td.tag, str) and td.tag in ("td", "th")]
            if any(cells):
                rows.append(" ".join(c for c in cells if c))
        tables.append(rows)
    return tables


def _label_body(article: dict, html: bytes, encoding: str) -> str:
    paragraphs = list(article["body_paragraphs"])
    text = _norm(lxml.html.document_fromstring(html.decode(encoding, "replace")).text_content())
    for p in paragraphs:  # the truth must be on the page, or the label is wrong
        assert p in text, f"truth paragraph not on the page {article['path']}: {p[:40]}"
    tables = _body_tables(html, encoding)
    assert len(tables) <= 1, article["path"]
    if tables:
        paragraphs[1:1] = tables[0]
    return "\n".join(paragraphs)


def _choose(articles: list[dict], pages: dict[str, bytes]) -> list[dict]:
    """Round-robin over (column, precision) in id order, after a table case and an attachment case."""
    by_id = sorted(articles, key=lambda a: a["id"])
    chosen: list[dict] = []

    def take(a: dict | None) -> None:
        if a is not None and a not in chosen and len(chosen) < PER_SITE:
            chosen.append(a)

    take(next((a for a in by_id if b"MsoNormalTable" in pages[a["path"]]), None))
    take(next((a for a in by_id if a["attachments"] and a not in chosen), None))
    groups: dict[tuple[str, str], list[dict]] = {}
    for a in by_id:
        groups.setdefault((a["column"], a["published_at_precision"]), []).append(a)
    keys = sorted(groups)
    depth = 0
    while len(chosen) < PER_SITE and any(len(g) > depth for g in groups.values()):
        for key in keys:
            if depth < len(groups[key]):
                take(groups[key][depth])
        depth += 1
    return chosen


def _fetch(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read(), resp.headers.get("Content-Type")


def build(out_dir: Path = HERE) -> list[Path]:
    """Write the fx_* cases into *out_dir*; return the JSON paths."""
    for old in out_dir.glob("fx_*"):
        old.unlink()
    written = []
    with tempfile.TemporaryDirectory(prefix="blgw-eval-") as tmp:
        for family, generate, server, public_origin, encoding, how in SITES:
            data = generate(Path(tmp) / family)
            truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
            articles = truth["articles"]
            with server(data) as base_url:
                fetched = {a["path"]: _fetch(base_url + a["path"]) for a in articles}
            pages = {path: body for path, (body, _) in fetched.items()}
            for a in _choose(articles, pages):
                html, content_type = fetched[a["path"]]
                name = f"fx_{family}_{a['id']}"
                (out_dir / f"{name}.html").write_bytes(html)
                case = {
                    "url": public_origin + a["path"],
                    "family": family,
                    "title": a["title"],
                    "published": _published(a),
                    "body": _label_body(a, html, encoding),
                    "source": f"fixture: {how}; detail page {a['path']} ({a['column']}) fetched with urllib; "
                              "labels from its truth.json (build_fixture_cases.py)",
                    "content_type": content_type,
                }
                path = out_dir / f"{name}.json"
                path.write_text(json.dumps(case, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                written.append(path)
    return written


if __name__ == "__main__":
    paths = build()
    print(f"wrote {len(paths)} fixture cases into {HERE}")
