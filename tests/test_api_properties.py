"""Property-based run of the API against its own OpenAPI document (schemathesis): for every
endpoint and generated parameter, no 5xx, and highlight fragments hold no markup other than
<mark>…</mark>; HTML pages never echo a generated value unescaped. Dates, cursors and integers
at the extremes (hypothesis): 200 inside their documented range, 422 naming the parameter
outside it, never a 5xx."""

from __future__ import annotations

import base64
import datetime as dt
import re
import warnings
from html.parser import HTMLParser

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from test_api import populate


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from gateway.api import create_app
    from gateway.settings import GatewaySettings
    from gateway.store.session import Store

    tmp = tmp_path_factory.mktemp("api-props")
    store = Store(f"sqlite:///{tmp / 'store.sqlite'}")
    store.migrate()
    index_url = f"sqlite:///{tmp / 'index.sqlite'}"
    populate(store, index_url)
    store.dispose()
    application = create_app(GatewaySettings(data_dir=tmp, database_url=store.url, index_url=index_url,
                                             plugin_dirs=[], load_plugins=[]))
    with TestClient(application):  # runs the lifespan: store and index opened once
        yield application


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(app):
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    # valid and invalid inputs alike (invalid ones must be 4xx, never 5xx)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    allow_x00=True)
    return loaded


_MARK = re.compile(r"</?mark>")


def _check_fragments(body: dict) -> None:
    for hit in body.get("hits", []):
        for key in ("title_html", "snippet_html"):
            rest = _MARK.sub("", hit[key])
            assert "<" not in rest and ">" not in rest, f"unescaped markup in {key}: {hit[key]!r}"


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case):
    response = case.call()
    assert response.status_code < 500, (case.path, case.query, response.text[:500])
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if case.path == "/api/search" and response.status_code == 200:
        _check_fragments(response.json())
    if content_type.startswith("text/html"):
        tags = _Tags()
        tags.feed(response.text)
        assert tags.scripts in ([], ["/static/suggest.js"]), tags.scripts
        assert not tags.handlers, tags.handlers
        if case.path == "/" and isinstance((case.query or {}).get("q"), str):
            assert tags.query_value in (case.query["q"], case.query["q"].replace("\x00", "\ufffd"))


HOSTILE = st.lists(st.sampled_from([*"<>&\"'/= 社保医政策", "mark", "script", "<mark>", "</mark>",
                                    "<script>", "onerror=", "\x00", "&lt;"]),
                   min_size=1, max_size=12).map("".join)


@given(q=HOSTILE, site=st.lists(HOSTILE, max_size=2), page=st.integers(-2, 120))
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_search_input_is_escaped_everywhere(app, q, site, page):
    client = TestClient(app)
    params = [("q", q), ("page", str(page))] + [("site", s) for s in site]
    response = client.get("/api/search", params=params)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        _check_fragments(response.json())
    portal = client.get("/", params=params)
    assert portal.status_code in (200, 422)
    tags = _Tags()
    tags.feed(portal.text)
    assert tags.scripts == ["/static/suggest.js"], tags.scripts
    assert not tags.handlers, tags.handlers
    assert tags.query_value == q.replace("\x00", "\ufffd") or tags.query_value == q, (tags.query_value, q)
    for fragment in re.findall(r'<p class="snippet">(.*?)</p>', portal.text, flags=re.DOTALL):
        assert not re.search(r"[<>]", _MARK.sub("", fragment)), fragment


class _Tags(HTMLParser):
    """What a browser would see as markup: script sources, event-handler attributes, and the
    search box's value."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[str | None] = []
        self.handlers: list[tuple[str, str]] = []
        self.query_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs.get("src"))
        self.handlers += [(tag, name) for name in attrs if name.startswith("on")]
        if tag == "input" and attrs.get("id") == "q":
            self.query_value = attrs.get("value")


# --- dates, cursors and integers at the extremes ---------------------------------------------

ONE_DAY = dt.timedelta(days=1)


def _edge_days() -> st.SearchStrategy[dt.date]:
    from index.base import SEARCH_DATE_MAX, SEARCH_DATE_MIN

    edges = [dt.date.min, dt.date.max, SEARCH_DATE_MIN, SEARCH_DATE_MAX, SEARCH_DATE_MIN - ONE_DAY,
             SEARCH_DATE_MAX + ONE_DAY, dt.date.min + ONE_DAY, dt.date.max - ONE_DAY]
    return st.one_of(st.sampled_from(edges), st.dates())


@given(day=_edge_days(), field=st.sampled_from(["date_from", "date_to"]), path=st.sampled_from(["/api/search", "/"]))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_day_is_a_200_inside_the_range_and_a_422_naming_the_field_outside(app, day, field, path):
    from index.base import SEARCH_DATE_MAX, SEARCH_DATE_MIN

    response = TestClient(app).get(path, params={"q": "社保", field: day.isoformat()})
    inside = SEARCH_DATE_MIN <= day <= SEARCH_DATE_MAX
    assert response.status_code == (200 if inside else 422), (day, response.text[:300])
    if not inside:
        if path == "/":
            assert "请检查搜索条件" in response.text and f"{field}:" in response.text
        else:
            assert [d["loc"] for d in response.json()["detail"]] == [["query", field]]


OFFSETS = st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59),
                                               max_value=dt.timedelta(hours=23, minutes=59)))
EDGE_TIMES = st.sampled_from([dt.datetime.min, dt.datetime.max, dt.datetime(1970, 1, 1),
                              dt.datetime(1969, 12, 31, 23, 59, 59), dt.datetime(9999, 12, 31, 23, 59, 59)])


@given(when=st.one_of(EDGE_TIMES, st.datetimes()), zone=st.one_of(st.just(dt.UTC), OFFSETS),
       doc_id=st.one_of(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), st.text(max_size=40)))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_cursor_of_any_time_is_a_200_or_a_422_naming_since(app, when, zone, doc_id):
    from gateway.api.documents import CURSOR_MAX, CURSOR_MIN

    stamp = when.replace(tzinfo=zone)
    raw = f"{stamp.isoformat()}|{doc_id}".encode("utf-8", "surrogatepass")
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = TestClient(app).get("/api/feed", params={"since": cursor})
    try:
        inside = CURSOR_MIN <= stamp.astimezone(dt.UTC) <= CURSOR_MAX
    except OverflowError:
        inside = False
    inside = inside and re.fullmatch("[0-9a-f]{32}", doc_id) is not None
    assert response.status_code == (200 if inside else 422), (stamp, doc_id, response.text[:300])
    if not inside:
        assert [d["loc"] for d in response.json()["detail"]] == [["query", "since"]]


@given(cursor=st.binary(max_size=120).map(lambda b: base64.urlsafe_b64encode(b).decode()))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_bytes_as_a_cursor_are_never_a_5xx(app, cursor):
    assert TestClient(app).get("/api/feed", params={"since": cursor}).status_code in (200, 422)


HUGE = st.one_of(st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**30]), st.integers())


@given(n=HUGE, case=st.sampled_from([("/api/search", "page", {"q": "社保"}), ("/api/search", "size", {"q": "社保"}),
                                     ("/api/suggest", "size", {"prefix": "rsj"}), ("/api/feed", "limit", {}),
                                     ("/", "page", {"q": "社保"})]))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_integer_parameter_is_a_200_or_a_422(app, n, case):
    path, name, params = case
    response = TestClient(app).get(path, params={**params, name: str(n)})
    assert response.status_code in (200, 422), (path, name, n, response.text[:300])
