"""``blgw plugin new``: scaffold a site plugin from its home page.

It fetches the home page (and the frames of a frameset), guesses the platform
(:func:`plugins.detect.detect_platform`) and the columns: the home page's navigation
(:func:`plugins.detect.suggest_columns`) and the site maps (DedeCMS ``/data/sitemap.html``,
``/sitemap.xml``), each candidate fetched once and classified (:func:`plugins.detect.classify_column`):
a list is written as a column, a single page as a ``layout = "page"`` column, a hub (a 频道封面 cover
page that only links sub-columns) never: its sub-columns are followed instead. A column is named as
its own page names itself (breadcrumb, heading) before the link's label. With ``--base-url`` (a
mirror or test server), links to the public host are mapped back to the mirror. The plugin written
validates, with the platform's preset doing the rest; when no column is found nothing is written.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from normalizers.encoding import decode_html
from normalizers.models import SITE_CODE_PATTERN
from normalizers.urls import canonicalize_url
from plugins.declarative import parse_site_toml
from plugins.detect import (
    PlatformGuess,
    classify_column,
    detect_platform,
    frames,
    is_column_url,
    nav_pages,
    sitemap_links,
    suggest_columns,
)
from plugins.spec import load_preset

__all__ = ["Scaffold", "fetch", "scaffold", "site_code_for"]

USER_AGENT = "blgw-plugin-new/1.0 (+Beilun site-group gateway)"
MAX_COLUMN_PAGES = 60
"""The most candidate column pages one scaffold fetches (a home page's navigation, the site
maps' columns and the sub-columns of hubs)."""
SITEMAPS = ("/data/sitemap.html", "/sitemap.xml")


def fetch(url: str, timeout: float = 20.0) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only, checked
        headers = dict(response.headers.items())
        set_cookies = response.headers.get_all("Set-Cookie") or []
        if set_cookies:
            headers["Set-Cookie"] = "; ".join(set_cookies)
        return response.read(), headers


@dataclass
class Scaffold:
    path: Path
    text: str
    platform: str
    guesses: list[PlatformGuess]
    columns: list[tuple[str, str]]
    layouts: dict[str, str] | None = None  # column URL -> "list" | "page"
    hubs: list[tuple[str, str]] | None = None  # followed, never written


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relative(url: str, fetch_origin: str) -> str:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}".lower() == fetch_origin.lower():
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url


_HOST_PREFIXES = re.compile(r"^(?:www\d*|web|portal|m|wap)$")
_GENERIC_LABELS = frozenset({"gov", "com", "net", "org", "edu", "cn", "zj", "nb"})


def site_code_for(host: str, port: int | None = None) -> str:
    """A site code from a host: its first label (``rsj.bl.gov.cn`` → ``rsj``), the next one when
    the first is ``www`` and the like (``www.beilun.gov.cn`` → ``beilun``: most county portals),
    letters and digits only; an IP address gives ``ip`` and its digits (``10.1.2.3`` →
    ``ip10x1x2x3``), with ``p`` and the port when there is one (several sites on one address)."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        labels = [re.sub(r"[^a-z0-9]", "", label) for label in host.split(".")]
        labels = [label for label in labels if label]
        while len(labels) > 1 and _HOST_PREFIXES.match(labels[0]):
            labels = labels[1:]
        if not labels or labels[0] in _GENERIC_LABELS:
            raise ValueError(f"cannot make a site code from the host {host!r}: pass --code (e.g. rsj)") from None
        code = labels[0]
    else:
        code = "ip" + ("x".join(str(p) for p in address.packed) if address.version == 4
                       else address.compressed.replace(":", "x"))
        if port is not None:
            code += f"p{port}"
    if not code[0].isalpha():
        code = "s" + code
    code = code[:31]
    if not re.match(SITE_CODE_PATTERN, code):  # pragma: no cover - the rules above make a valid one
        raise ValueError(f"cannot make a site code from the host {host!r}: pass --code (e.g. rsj)")
    return code


def _rebase(html: str, public_origin: str | None, fetch_origin: str) -> str:
    """The page with its links to the public host pointed at the mirror it was fetched from."""
    if not public_origin or public_origin.lower() == fetch_origin.lower():
        return html
    host = urlsplit(public_origin).netloc
    fetch_host = urlsplit(fetch_origin).netloc
    pattern = re.compile(r"(?:https?:)?//" + re.escape(host) + r"(?=[/\"'?#\s>]|$)", re.I)
    return pattern.sub(lambda m: (fetch_origin if m.group(0).lower().startswith("http") else "//" + fetch_host), html)


def _get(url: str, public_origin: str | None, fetch_origin: str) -> str | None:
    try:
        body, headers = fetch(url)
    except (OSError, ValueError):
        return None
    return _rebase(decode_html(body, headers.get("Content-Type")).text, public_origin, fetch_origin)


def discover_columns(home_url: str, candidates: list[tuple[str, str]], public_origin: str | None = None,
                     single_pages: list[tuple[str, str]] | None = None,
                     ) -> tuple[list[tuple[str, str, str, list[str]]], list[tuple[str, str]]]:
    """``([(name, URL, layout, path)], hubs)``: the columns found from the home page's candidates
    (``(name, URL)``) and the site maps, each page fetched once and classified; a hub's sub-columns
    are followed (cover pages) with the path ``[hub, name]`` (``[]`` elsewhere: the default), a hub
    is never a column, a page that is neither a list nor a single page is kept as a list only when
    the home page's navigation named it as a column. ``single_pages`` are the navigation's other
    links (:func:`plugins.detect.nav_pages`): kept only when they are a list or a single page."""
    fetch_origin = "{0.scheme}://{0.netloc}".format(urlsplit(home_url))
    queue: list[tuple[str, str, bool]] = [(n, u, True) for n, u in candidates]
    queue += [(n, u, False) for n, u in single_pages or []]
    for path in SITEMAPS:
        text = _get(fetch_origin + path, public_origin, fetch_origin)
        if not text:
            continue
        if path.endswith(".xml"):
            queue += [("", u, False) for u in sitemap_links(_rebase(text, public_origin, fetch_origin))
                      if urlsplit(u).netloc == urlsplit(fetch_origin).netloc]
        else:
            queue += [(n, u, False) for n, u in suggest_columns(fetch_origin + path, text)]
    seen: set[str] = {canonicalize_url(home_url), canonicalize_url(fetch_origin + "/")}
    columns: list[tuple[str, str, str, list[str]]] = []
    parents: dict[str, list[str]] = {}  # a hub's sub-column -> the hubs above it
    hubs: list[tuple[str, str]] = []
    fetched = 0
    while queue and fetched < MAX_COLUMN_PAGES:
        label, url, from_nav = queue.pop(0)
        key = canonicalize_url(url)
        if key in seen or not (is_column_url(url) or (label, url) in (single_pages or [])):
            continue
        seen.add(key)
        fetched += 1
        html = _get(url, public_origin, fetch_origin)
        if html is None:
            continue
        found = classify_column(url, html)
        name = found.name or label
        if found.kind == "hub":
            hubs.append((name, url))
            at = next((i for i, q in enumerate(queue) if not q[2]), len(queue))  # before the site maps' rest
            queue[at:at] = [(n, u, True) for n, u in found.children]
            for _, child in found.children:
                parents.setdefault(canonicalize_url(child), [*parents.get(key, []), name])
        elif name and (found.kind in ("list", "page") or (found.kind == "unknown" and from_nav)):
            column_path = [*parents[key], name] if key in parents else []
            columns.append((name, url, "page" if found.kind == "page" else "list", column_path))
    return columns, hubs


def scaffold(url: str, *, code: str | None = None, name: str | None = None, base_url: str | None = None,
             out_dir: Path = Path("."), platform: str | None = None, force: bool = False) -> Scaffold:
    """Fetch ``url`` (a home page), guess the platform and columns, write ``<code>.toml``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    fetch_origin = f"{parts.scheme}://{parts.netloc}"
    public_origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url)) if base_url else None
    body, headers = fetch(url)
    html = _rebase(decode_html(body, headers.get("Content-Type")).text, public_origin, fetch_origin)
    guesses = detect_platform(url, html, headers)
    candidates = list(suggest_columns(url, html))
    for frame in frames(url, html)[:6]:  # framesets and iframes hold the navigation of old sites
        try:
            frame_body, frame_headers = fetch(frame)
        except OSError:
            continue
        frame_html = _rebase(decode_html(frame_body, frame_headers.get("Content-Type")).text, public_origin, fetch_origin)
        candidates += [c for c in suggest_columns(frame, frame_html) if c not in candidates]
        if not platform and guesses and guesses[0].platform == "generic":
            guesses = detect_platform(frame, frame_html, frame_headers)
    singles = [c for c in nav_pages(url, html) if c not in candidates]
    found, hubs = discover_columns(url, candidates, public_origin, singles)
    columns = [(n, u) for n, u, _, _ in found]
    layouts = {u: layout for _, u, layout, _ in found}
    paths = {u: path for _, u, _, path in found}
    chosen = platform or (guesses[0].platform if guesses else "generic")

    if not code:
        target = urlsplit(base_url) if base_url else parts
        code = site_code_for(target.hostname or "", target.port)
    if not name:
        title = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
        name = " ".join(title.group(1).split()) if title else code
        name = re.split(r"[-_|—]", name)[0].strip() or code
    base = base_url or fetch_origin + "/"

    seen: set[str] = set()
    lines = [
        f"# {name} — generated by `blgw plugin new {url}`",
        f"# platform guess: {chosen}" + (f" ({'; '.join(guesses[0].evidence[:3])})" if guesses and guesses[0].evidence else ""),
        "# Check it with `blgw plugin check " + code + "`, then keep only the columns the portal needs.",
        "",
        "[site]",
        f"code = {_toml_str(code)}",
        f"name = {_toml_str(name)}",
        f"base_url = {_toml_str(base)}",
        f"platform = {_toml_str(chosen)}",
        'schedule = "0 2 * * *"',
        "",
    ]
    if not load_preset(chosen).get("list"):
        lines += [
            "# No preset for this platform: describe the list pages (see docs/plugins.md).",
            "[list]",
            'item = "ul li"',
            'date = "span"',
            'paging = { type = "next_link", next = "//a[contains(normalize-space(), \'下一页\')]/@href" }',
            "",
        ]
    if not columns:
        raise ValueError(f"no column found from {url} (its navigation, {', '.join(SITEMAPS)}): nothing written; "
                         "pass the home page of the site (or its mirror with --base-url), or write the "
                         "[[columns]] by hand (docs/plugins.md)")
    if hubs:
        lines += ["# hubs (pages that only link sub-columns; their sub-columns are below): "
                  + ", ".join(f"{n} {_relative(u, fetch_origin)}" for n, u in hubs), ""]
    for column_name, column_url in columns:
        if column_name in seen:
            continue
        seen.add(column_name)
        lines += ["[[columns]]", f"name = {_toml_str(column_name)}", f"url = {_toml_str(_relative(column_url, fetch_origin))}"]
        if paths[column_url]:
            lines.append("path = [" + ", ".join(_toml_str(part) for part in paths[column_url]) + "]")
        if layouts[column_url] == "page":
            lines.append('layout = "page"')
        lines.append("")
    text = "\n".join(lines)
    path = Path(out_dir) / f"{code}.toml"
    parse_site_toml(text, str(path))  # the scaffold must validate; raises PluginError if not
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Scaffold(path, text, chosen, guesses, columns, layouts, hubs)
