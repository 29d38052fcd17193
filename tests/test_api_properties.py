"""Property-based run of the API against its own OpenAPI document (schemathesis): for every
endpoint and generated parameter, no 5xx, and highlight fragments hold no markup other than
<mark>…</mark>; HTML pages never echo a generated value unescaped."""

from __future__ import annotations

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
