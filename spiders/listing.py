"""Reading list pages: entries, and the decision of which list page comes next.

Pure functions over page text (no I/O, no Scrapy engine), so that the spider, ``blgw plugin
check`` and the integrator's test helpers make exactly the same decisions. Every legacy paging
style is here: "下一页" links, query-string pages, ASP.NET ``__doPostBack`` postbacks with
ViewState, TRS ``createPageHTML`` static pages, Hanweb ``dataproxy.jsp`` XML, and frames.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

from normalizers.links import url_from_script
from plugins.spec import (
    XPATH_PREFIXES,
    DetailRules,
    HanwebPaging,
    ListEntry,
    ListRules,
    NextLinkPaging,
    PostbackPaging,
    QueryParamPaging,
    TrsPaging,
)
from spiders.budget import uses_regex


def select_all(root: Selector, selector: str) -> list[Selector]:
    """CSS, or XPath when the selector starts with '/', './' or '('."""
    if selector.startswith(XPATH_PREFIXES):
        return list(root.xpath(selector))
    return list(root.css(selector))


def select_text(root: Selector, selector: str | None) -> str | None:
    """The text of the first match: an attribute / text node value, or an element's text."""
    if not selector:
        return None
    for node in select_all(root, selector):
        value = node.get()
        if value is None:
            continue
        text = value if isinstance(node.root, str) else " ".join(node.xpath(".//text()").getall())
        text = " ".join(text.split())
        if text:
            return text
    return None


# --- Links hidden in script: normalizers.links.url_from_script --------------------------------


def _is_script_or_void(href: str | None) -> bool:
    return not href or href.strip() in ("#", "") or href.strip().lower().startswith("javascript:")


def entry_link(node: Selector, rules: ListRules) -> str | None:
    """The detail URL of one list entry: the ``link`` selector's value, or the URL inside a
    ``javascript:`` href or an ``onclick`` handler."""
    href = select_text(node, rules.link)
    if href and href.strip().lower().startswith("javascript:") and (found := url_from_script(href)):
        return found
    if not _is_script_or_void(href):
        return href
    for handler in node.xpath("descendant-or-self::*/@onclick").getall():
        if found := url_from_script(handler):
            return found
    return None


def entries_from_rules(root: Selector, rules: ListRules) -> Iterator[ListEntry]:
    for node in select_all(root, rules.item):
        link = entry_link(node, rules)
        if link:
            title = select_text(node, rules.title) if rules.title else None
            if not title:
                title = select_text(node, "a")
            yield ListEntry(url=link, title=title, date=select_text(node, rules.date))


# --- The next list pages -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListRequest:
    """A list page to fetch: a URL, and for postbacks the form to POST."""

    url: str
    page_number: int
    method: str = "GET"
    formdata: tuple[tuple[str, str], ...] = ()
    kind: str = "page"  # page | frame | postback | proxy | restart


@dataclass
class ListPage:
    entries: list[ListEntry]
    next: list[ListRequest] = field(default_factory=list)
    decision: str = ""


# --- Hanweb datastore ----------------------------------------------------------------------

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href\s*=\s*['\"]([^'\"]+)", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)


def datastore(text: str) -> tuple[str, int, int | None, str | None] | None:
    """Hanweb ``<datastore>`` records: (records as one HTML fragment, record count,
    total records if stated, the ``nextgroup`` proxy URL), or None when the page has none."""
    if "<datastore" not in text.lower():
        return None
    records = _RECORD.findall(text)
    total_match = _TOTAL.search(text)
    total = int(next(g for g in total_match.groups() if g)) if total_match else None
    next_group = _NEXTGROUP.search(text)
    html = "<html><body><ul>" + "\n".join(records) + "</ul></body></html>"
    return html, len(records), total, next_group.group(1).replace("&amp;", "&") if next_group else None


def _hanweb_next(url: str, text: str, paging: HanwebPaging, page_number: int,
                 previous: ListRequest | None) -> tuple[list[ListRequest], str]:
    found = datastore(text)
    if found is None:
        return [], "hanweb: no <datastore> on the page: last page"
    _, count, total, group_url = found
    if page_number == 1 or previous is None or previous.method != "POST":
        per_page = count
        start = count + 1
        if group_url:
            proxy = urljoin(url, urlsplit(group_url).path)
            params = [(k, v) for k, v in parse_qsl(urlsplit(group_url).query, keep_blank_values=True) if k != "page"]
        else:
            proxy = urljoin(url, paging.proxy)
            column_id = re.search(r"/col/col(\d+)/", url)
            unit = re.search(r"<div[^>]+id=['\"]?(\d+)['\"]?[^>]*>\s*<script[^>]+text/xml", text)
            params = [("columnid", column_id.group(1) if column_id else ""), ("unitid", unit.group(1) if unit else "")]
        keys = {k for k, _ in params}
        form = ([("col", "1")] if "col" not in keys else []) + params
        if "sourceContentType" not in keys:
            form.append(("sourceContentType", "1"))
    else:
        query = dict(parse_qsl(urlsplit(previous.url).query))
        per_page = int(query.get("perpage", count) or count)
        start = int(query.get("endrecord", 0)) + 1
        proxy = urlunsplit(urlsplit(previous.url)._replace(query=""))
        form = list(previous.formdata)
        if count == 0:
            return [], "hanweb: the data proxy sent no records: last page"
    if total is not None and start > total:
        return [], f"hanweb: {total} records in all: last page"
    if per_page <= 0:
        return [], "hanweb: page 1 has no records: last page"
    end = start + paging.records_per_request - 1
    if total is not None:
        end = min(end, total)
    target = f"{proxy}?{urlencode([('startrecord', start), ('endrecord', end), ('perpage', per_page)])}"
    request = ListRequest(target, page_number + 1, "POST", tuple(form), "proxy")
    return [request], f"hanweb: records {start}-{end} of {total if total is not None else '?'} from the data proxy"


# --- TRS createPageHTML ---------------------------------------------------------------------

_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*([\w.$]+)\s*,\s*([\w.$]+)\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")


def _js_number(token: str, text: str) -> int | None:
    if token.isdigit():
        return int(token)
    match = re.search(rf"(?:var\s+|let\s+|const\s+)?{re.escape(token)}\s*=\s*['\"]?(\d+)", text)
    return int(match.group(1)) if match else None


def _trs_next(url: str, text: str, paging: TrsPaging, page_number: int) -> tuple[list[ListRequest], str]:
    match = _CREATE_PAGE.search(text)
    if not match:
        return [], "trs: no createPageHTML(...) script: one page"
    count = _js_number(match.group(1), text)
    if count is None:
        return [], f"trs: cannot resolve the page count {match.group(1)!r}: one page"
    if page_number != 1:
        return [], f"trs: page {page_number} of {count} (all pages were queued from page 1)"
    prefix, ext = match.group(3), match.group(4)
    last = min(count, paging.max_pages)
    pages = [ListRequest(urljoin(url, f"{prefix}_{i}.{ext}"), i + 1) for i in range(1, last)]
    return pages, f"trs: createPageHTML says {count} pages: queued {prefix}_1.{ext}…{prefix}_{last - 1}.{ext}" \
        if pages else f"trs: createPageHTML says {count} page(s): no more"


# --- ASP.NET postbacks ---------------------------------------------------------------------

_POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\)")
VIEWSTATE_ERROR = re.compile(
    r"Validation of viewstate MAC failed|Invalid viewstate|The state information is invalid|"
    r"ViewStateException|Invalid postback or callback argument|视图状态|状态信息无效", re.I)


def postback_arguments(root: Selector) -> list[tuple[str, str]]:
    """(event target, argument) of every ``__doPostBack`` link on the page, in page order."""
    found: list[tuple[str, str]] = []
    for value in root.xpath("//a/@href | //*/@onclick").getall():
        for match in _POSTBACK.finditer(value):
            pair = (match[1], match[2])  # both groups always take part
            if pair not in found:
                found.append(pair)
    return found


def form_fields(root: Selector, form_selector: str | None) -> tuple[str | None, list[tuple[str, str]]]:
    """(action, fields) of the form a browser would submit: hidden and text inputs, checked
    boxes, selected options, textareas; no submit buttons (a postback is not a click)."""
    if form_selector:
        forms = select_all(root, form_selector)
    else:
        forms = root.xpath("//form[.//input[@name='__VIEWSTATE']]") or root.xpath("//form")
    if not forms:
        return None, []
    form = forms[0]
    fields: list[tuple[str, str]] = []
    for node in form.xpath(".//input[@name] | .//select[@name] | .//textarea[@name]"):
        tag = node.root.tag.lower() if hasattr(node.root, "tag") else ""
        name = node.attrib.get("name", "")
        if tag == "input":
            kind = node.attrib.get("type", "text").lower()
            if kind in ("submit", "image", "button", "reset", "file"):
                continue
            if kind in ("checkbox", "radio") and "checked" not in node.attrib:
                continue
            fields.append((name, node.attrib.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select":
            chosen = node.xpath(".//option[@selected]") or node.xpath(".//option")
            if chosen:
                fields.append((name, chosen[0].attrib.get("value", chosen[0].xpath("string()").get() or "")))
        else:
            fields.append((name, node.xpath("string()").get() or ""))
    return form.attrib.get("action"), fields


def _postback_next(url: str, root: Selector, paging: PostbackPaging,
                   page_number: int) -> tuple[list[ListRequest], str]:
    arguments = [(t, a) for t, a in postback_arguments(root) if a.startswith("Page$")]
    if paging.target != "detect":
        arguments = [(t, a) for t, a in arguments if t == paging.target]
    if not arguments:
        return [], f"postback: no pager (__doPostBack …'Page$N') on page {page_number}: last page"
    target = arguments[0][0]
    wanted = f"Page${page_number + 1}"
    available = {a for t, a in arguments if t == target}
    argument = wanted if wanted in available else "Page$Next" if "Page$Next" in available else None
    if argument is None:
        return [], f"postback: pager of {target} has no {wanted}: last page"
    action, fields = form_fields(root, paging.form)
    if action is None:
        return [], f"postback: no form to post on page {page_number}"
    fields = [(k, v) for k, v in fields if k not in ("__EVENTTARGET", "__EVENTARGUMENT")]
    fields = [("__EVENTTARGET", target), ("__EVENTARGUMENT", argument), *fields]
    request = ListRequest(urljoin(url, action or url), page_number + 1, "POST", tuple(fields), "postback")
    return [request], f"postback: {target} {argument}"


# --- Frames --------------------------------------------------------------------------------

def frame_urls(root: Selector, url: str) -> list[str]:
    """The same-host frames and iframes of a page, absolute."""
    host = urlsplit(url).netloc.lower()
    found: list[str] = []
    for src in root.xpath("//frame/@src | //iframe/@src").getall():
        src = src.strip()
        if not src or src.lower().startswith(("javascript:", "about:", "data:")):
            continue
        absolute = urljoin(url, src)
        if urlsplit(absolute).netloc.lower() == host and absolute not in found:
            found.append(absolute)
    return found


# --- Putting it together ------------------------------------------------------------------

def next_list_pages(url: str, text: str, root: Selector, rules: ListRules, page_number: int,
                    new_on_page: int, max_pages: int,
                    previous: ListRequest | None = None) -> tuple[list[ListRequest], str]:
    """The list pages that follow this one under the column's paging rule, and why. The cap
    (``max_pages``) applies only when the rule finds a next page: a list that ends on its last
    allowed page, or has one page (``paging = none``), was read completely."""
    nxt, why = _next_by_rule(url, text, root, rules, page_number, new_on_page, previous)
    if nxt and page_number >= max_pages:
        return [], f"max_pages ({max_pages}) reached"
    return nxt, why


def _next_by_rule(url: str, text: str, root: Selector, rules: ListRules, page_number: int, new_on_page: int,
                  previous: ListRequest | None) -> tuple[list[ListRequest], str]:
    paging = rules.paging
    if isinstance(paging, NextLinkPaging):
        href = select_text(root, paging.next)
        if href and href.strip().lower().startswith("javascript:"):
            href = url_from_script(href)
        if href:
            target = urljoin(url, href)
            return [ListRequest(target, page_number + 1)], f"next link → {target}"
        return [], "no next link: last page"
    if isinstance(paging, QueryParamPaging):
        if new_on_page == 0:  # a page past the end, or one repeating the last page
            return [], "no new entries on this page: last page"
        if paging.last_page:
            last = last_page_number(root, text, paging.last_page)
            if last is not None and page_number >= last:
                return [], f"last_page says {last}: last page"
        parts = urlsplit(url)
        # edit the raw query: re-encoding would damage GBK-escaped values (%D6%D0) of other parameters
        query = [kv for kv in parts.query.split("&") if kv and kv.split("=", 1)[0] != paging.param]
        query.append(f"{paging.param}={paging.first + paging.step * page_number}")
        target = urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(query), ""))
        return [ListRequest(target, page_number + 1)], f"{paging.param}={paging.first + paging.step * page_number}"
    if isinstance(paging, PostbackPaging):
        return _postback_next(url, root, paging, page_number)
    if isinstance(paging, TrsPaging):
        return _trs_next(url, text, paging, page_number)
    if isinstance(paging, HanwebPaging):
        return _hanweb_next(url, text, paging, page_number, previous)
    return [], "paging none: one page"


def last_page_number(root: Selector, text: str, rule: str) -> int | None:
    if rule.startswith("re:"):
        match = re.search(rule[3:], text)
        value = match.group(1) if match else None
    else:
        value = select_text(root, rule)
    digits = re.search(r"\d+", value or "")
    return int(digits.group()) if digits else None


# --- The plugin's rules alone (pure, picklable: what spiders.budget runs in its worker) --------

def rule_entries(text: str, rules: ListRules) -> list[ListEntry]:
    """The entries the list rules find on a page (Hanweb: in its ``<datastore>`` records)."""
    store = datastore(text)
    return list(entries_from_rules(Selector(text=store[0] if store else text), rules))


def rule_next_pages(url: str, text: str, rules: ListRules, page_number: int, new_on_page: int, max_pages: int,
                    previous: ListRequest | None = None) -> tuple[list[ListRequest], str]:
    """:func:`next_list_pages` from the page's text."""
    return next_list_pages(url, text, Selector(text=text), rules, page_number, new_on_page, max_pages, previous)


def list_rules_use_regex(rules: ListRules) -> bool:
    """Whether the list rules can run a regular expression (see :mod:`spiders.budget`)."""
    paging = rules.paging
    return uses_regex(rules.item, rules.link, rules.title, rules.date, getattr(paging, "next", None),
                      getattr(paging, "last_page", None), getattr(paging, "form", None))


def detail_rules_use_regex(rules: DetailRules) -> bool:
    """Whether the detail selectors can run a regular expression (see :mod:`spiders.budget`)."""
    return bool(rules.strip_text) or uses_regex(rules.title, rules.body, rules.published_at,
                                                rules.disclosure_table, rules.attachments, *rules.remove,
                                                *rules.fields.values())
