"""``blgw plugin new``: scaffold a site plugin from its home page.

It fetches the home page (and the frames of a frameset), guesses the platform
(:func:`plugins.detect.detect_platform`) and the columns (:func:`plugins.detect.suggest_columns`),
and writes a plugin that validates, with the platform's preset doing the rest.
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
from plugins.declarative import parse_site_toml
from plugins.detect import PlatformGuess, detect_platform, frames, suggest_columns
from plugins.spec import load_preset

__all__ = ["Scaffold", "fetch", "scaffold", "site_code_for"]

USER_AGENT = "blgw-plugin-new/1.0 (+Beilun site-group gateway)"


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


def scaffold(url: str, *, code: str | None = None, name: str | None = None, base_url: str | None = None,
             out_dir: Path = Path("."), platform: str | None = None, force: bool = False) -> Scaffold:
    """Fetch ``url`` (a home page), guess the platform and columns, write ``<code>.toml``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    fetch_origin = f"{parts.scheme}://{parts.netloc}"
    body, headers = fetch(url)
    html = decode_html(body, headers.get("Content-Type")).text
    guesses = detect_platform(url, html, headers)
    columns = list(suggest_columns(url, html))
    for frame in frames(url, html)[:6]:  # framesets and iframes hold the navigation of old sites
        try:
            frame_body, frame_headers = fetch(frame)
        except OSError:
            continue
        frame_html = decode_html(frame_body, frame_headers.get("Content-Type")).text
        columns += [c for c in suggest_columns(frame, frame_html) if c not in columns]
        if not platform and guesses and guesses[0].platform == "generic":
            guesses = detect_platform(frame, frame_html, frame_headers)
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
    written = 0
    for column_name, column_url in columns:
        if column_name in seen:
            continue
        seen.add(column_name)
        lines += ["[[columns]]", f"name = {_toml_str(column_name)}", f"url = {_toml_str(_relative(column_url, fetch_origin))}", ""]
        written += 1
    if not written:
        lines += ["[[columns]]", '# no column links found on the home page: fill in one', 'name = "通知公告"',
                  'url = "/"', ""]
    text = "\n".join(lines)
    path = Path(out_dir) / f"{code}.toml"
    parse_site_toml(text, str(path))  # the scaffold must validate; raises PluginError if not
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Scaffold(path, text, chosen, guesses, columns)
