"""外链变异: outbound links whose target changed hands. Fixture servers stand for a partner site
that starts serving gambling pages, an expired government domain that now redirects to a parked
one, and a partner that stays what it was; the link checker reads each outbound link's final page
once per check (HEAD, then one GET of 32 KB), flags what it holds, keeps the final URL of the
check before when the final host changed, and site health names each with the pages linking it."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import Counter
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler

import pytest

from fixture_sites.servers import threaded_http_server
from gateway.ops.health import site_health
from gateway.ops.linkcheck import check_links, content_flag, outbound_rules
from gateway.store.links import record_links
from gateway.store.session import Store
from plugins.declarative import parse_site_toml

NORMAL = "<html><head><meta charset='utf-8'><title>宁波市某协会</title></head><body>协会简介、通知公告</body></html>"
GAMBLING = ("<html><head><meta charset='utf-8'><title>澳门葡京娱乐城</title></head><body>百家乐 真人视讯 体育投注"
            " 首存送彩金</body></html>")
PARKED = "<html><body><h1>This domain is for sale!</h1><p>Buy this domain at HugeDomains.</p></body></html>"


class Host:
    """A fixture host: ``page`` served at /, or a 302 to ``redirect``; requests counted by method."""

    def __init__(self, page: str = NORMAL):
        self.page, self.redirect = page, None
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bool) -> None:
                with host.lock:
                    host.requests[f"{self.command} {self.path}"] += 1
                if self.path == "/robots.txt":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if host.redirect:
                    self.send_response(302)
                    self.send_header("Location", host.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = host.page.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_HEAD(self) -> None:
                self._answer(False)

            def do_GET(self) -> None:
                self._answer(True)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.mark.parametrize("html, flag", [
    (GAMBLING.encode(), "gambling"),
    (PARKED.encode(), "parked"),
    ("<html><body>成人视频 色情 在线观看</body></html>".encode("gb18030"), "adult"),
    (NORMAL.encode(), None),
    ("<html><body>本站发布彩票中奖公告（福利彩票）</body></html>".encode(), None),  # one word is no verdict
])
def test_content_flags_read_gambling_adult_and_parked_pages(html, flag):
    found = content_flag(html)
    assert (found[0] if found else None) == flag


def test_the_word_lists_are_a_file_the_centre_edits(tmp_path):
    words = tmp_path / "words.toml"
    words.write_text('[lottery]\nmin = 1\nwords = ["福利彩票", "lottery  draw"]\n', encoding="utf-8")
    rules = outbound_rules(str(words))
    assert [r.kind for r in rules] == ["lottery"]
    # the edited list flags what the packaged one lets pass, and a space in a word matches any white space
    assert content_flag("<p>本站发布彩票中奖公告（福利彩票）</p>".encode(), rules) == ("lottery", "福利彩票")
    assert content_flag(b"<p>the Lottery\n draw</p>", rules) == ("lottery", "lottery draw")
    assert content_flag(GAMBLING.encode(), rules) is None
    for bad, field in [('[x]\nmin = 0\nwords = ["a"]\n', "min"), ('[x]\nwords = []\n', "words"),
                       ('x = 1\n', "table"), ('[x\n', "cannot read")]:
        words.write_text(bad, encoding="utf-8")
        outbound_rules.cache_clear()
        with pytest.raises(ValueError, match=field) as raised:
            outbound_rules(str(words))
        assert str(words) in str(raised.value)
    outbound_rules.cache_clear()


def test_a_bad_word_list_stops_the_link_check_naming_the_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gateway.cli import main
    from gateway.settings import get_settings

    words = tmp_path / "words.toml"
    words.write_text('[x]\nmin = "two"\nwords = ["a"]\n', encoding="utf-8")
    monkeypatch.setenv("BLGW_OUTBOUND_WORDS", str(words))
    monkeypatch.setenv("BLGW_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["links", "check", "--all"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert f"{words}: [x] min must be" in result.output


def test_outbound_links_that_changed_hands_are_named_with_their_pages(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.migrate()
    hosts = {"partner": Host(), "oldgov": Host(), "parked": Host(PARKED), "steady": Host()}
    with ExitStack() as stack:
        urls = {name: stack.enter_context(threaded_http_server(h.handler())) for name, h in hosts.items()}
        public = {name: f"http://{name}.example.org/" for name in hosts}
        # the fixture hosts stand for hosts on the internet: configured as origins (a loopback
        # address is otherwise never checked), outside the site group (own_hosts)
        bases = {"rsj": "http://rsj.bl.gov.cn/", **public}
        origins = {name: urls[name] for name in hosts}
        home, page = "http://rsj.bl.gov.cn/", "http://rsj.bl.gov.cn/yqlj.html"
        with store.session() as session, session.begin():
            record_links(session, "rsj", home, [public["partner"], public["oldgov"], public["steady"]])
            record_links(session, "rsj", page, [public["oldgov"]])

        def check(**kw):
            return asyncio.run(check_links(store, ["rsj"], origins=origins, base_urls=bases, delay=0, timeout=2,
                                           own_hosts=["rsj.bl.gov.cn"], **kw))

        first = check()
        assert first.ok == 3 and not any(r.content_flag for r in first.results)
        # each outbound link: robots.txt, HEAD, one GET of its page
        assert hosts["steady"].requests == Counter({"GET /robots.txt": 1, "HEAD /": 1, "GET /": 1})

        hosts["partner"].page = GAMBLING  # the partner's domain was sold
        hosts["oldgov"].redirect = public["parked"]  # the expired domain now redirects to a parked one
        second = check(recheck_after=dt.timedelta(0))
        flags = {r.url: (r.content_flag, r.final_url) for r in second.results}
        assert flags[public["partner"]] == ("gambling", public["partner"])
        assert flags[public["oldgov"]] == ("parked", public["parked"])
        assert flags[public["steady"]] == (None, public["steady"])

        spec = parse_site_toml('[site]\ncode = "rsj"\nname = "人社局"\nbase_url = "http://rsj.bl.gov.cn/"\n'
                               '[list]\nitem = "li"\n[detail]\ntitle = "h1"\nbody = "div"\n'
                               '[[columns]]\nname = "工作动态"\nurl = "/gzdt/"\n', source="rsj.toml")
        with store.session() as session:
            card = site_health(session, spec, dt.datetime.now(dt.UTC))
        outbound = next(i for i in card.indicators if i.key == "outbound")
        assert (outbound.status, outbound.value) == ("veto", 2)
        by_url = {e.split(": ", 1)[0]: e for e in outbound.evidence}
        assert set(by_url) == {public["partner"], public["oldgov"]}
        assert "赌博 (" in by_url[public["partner"]] and "百家乐" in by_url[public["partner"]]
        assert (f"ended at {public['oldgov']} before, now at {public['parked']}" in by_url[public["oldgov"]]
                and "linked from 2 page(s)" in by_url[public["oldgov"]])

        hosts["partner"].page = NORMAL  # put right: the next check clears it
        hosts["oldgov"].redirect = None
        check(recheck_after=dt.timedelta(0))
        with store.session() as session:
            outbound = next(i for i in site_health(session, spec, dt.datetime.now(dt.UTC)).indicators
                            if i.key == "outbound")
        assert outbound.status == "pass" and outbound.evidence == []
    store.dispose()
