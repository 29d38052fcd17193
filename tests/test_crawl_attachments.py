"""Attachments through the crawl, end to end: ``blgw crawl`` (a subprocess, as an operator runs
it) against the attachment fixture subsite (``fixture_sites.attachment_site``: the seeded
attachment set behind static links, a GBK ``Content-Disposition`` download script and an
RFC 5987 one; a PDF bomb, an endless download and a truncated one).

* every file is fetched through the crawl, kept once per SHA-256 (the file two items link is
  one row and one blob), its type sniffed from the bytes, its name from the response;
* the text of every digital file against its ground truth: token F1 >= 0.98 per format (printed);
  the formats without a reader yet are named ``unsupported``, never silently empty;
* the bomb, the endless and the truncated file each end as one named error of the run (kinds
  ``extraction``, ``too-large``, ``network``) while every page and every other file is stored;
* the exchange standard's attachment entries carry sha256, size, the sniffed type, the text,
  pages, status and error; the item's search finds a string that occurs only in an attachment,
  first, with the attachment named;
* a second ordinary run fetches no kept file again; the failed one is fetched again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.attachment_site import SFJ_ORIGIN, attachment_server
from normalizers.fidelity import token_f1
from spiders.attachment_text import READABLE

FAST = ["-q", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0",
        "-s", "RETRY_TIMES=1", "-s", "BLGW_RETRY_BACKOFF_BASE=0.1"]
CAP = 4 * 1024 * 1024


def _blgw(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, *args], cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One crawl of the site into a store of its own: (env, data dir, truth, site, first output)."""
    data = tmp_path_factory.mktemp("attachments") / "data"
    with attachment_server(seed=3) as (url, site):
        env = {**os.environ, "BLGW_DATA_DIR": str(data), "BLGW_ATTACHMENT_MAX_BYTES": str(CAP),
               "BLGW_ATTACHMENT_CPU_SECONDS": "4"}
        first = _blgw(env, "crawl", "sfj", "--origin", f"sfj={url}", *FAST)
        truth = site.truth()
        first_requests = Counter(site.requests)
        second = _blgw(env, "crawl", "sfj", "--origin", f"sfj={url}", *FAST)
    # the subsite is stopped from here on
    yield env, data, truth, site, first, first_requests, second


def _rows(data: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(data / "gateway.sqlite") as c:
        return c.execute(sql).fetchall()


def _files(truth: dict) -> dict[str, dict]:
    return {a["url"]: a for art in truth["articles"] for a in art["attachments"]}


def _report(env: dict, run: int) -> dict:
    out = _blgw(env, "report", str(run), "--json", "--max-errors", "100")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_every_page_is_stored_and_each_hostile_file_is_one_named_error(crawled):
    env, data, truth, _, first, _, _ = crawled
    assert first.returncode == 1, first.stderr[-3000:]  # finished with errors
    stored = {u for (u,) in _rows(data, "SELECT url FROM documents")}
    assert stored == {a["url"] for a in truth["articles"]}
    report = _report(env, 1)  # the first run
    errors = [(e["kind"], e["url"]) for e in report["errors"]["first"]]
    assert report["errors"]["total"] == len(errors)
    files = _files(truth)
    bomb = next(u for u, f in files.items() if f["kind"] == "hostile" and not f["endless"] and not f["truncated"])
    endless = next(u for u, f in files.items() if f["endless"])
    truncated = next(u for u, f in files.items() if f["truncated"])
    assert sorted(errors) == sorted([("extraction", bomb), ("too-large", endless), ("network", truncated)]), errors
    messages = {e["url"]: e["message"] for e in report["errors"]["first"]}
    assert "CPU-time limit" in messages[bomb]
    assert "cap" in messages[endless] and "truncated" in messages[truncated]
    kept = {f["sha256"] for f in files.values() if not (f["endless"] or f["truncated"])}
    assert report["attachments"]["stored"] == len(kept) and report["attachments"]["new"] == len(kept)
    assert report["attachments"]["too_large"] == 1 and report["attachments"]["failed"] == 1
    states = dict(_rows(data, "SELECT url, status FROM attachments"))
    assert states[endless] == "too-large" and states[truncated] == "failed" and states[bomb] == "stored"


def test_each_file_is_kept_once_by_sha256_with_its_name_and_sniffed_type(crawled):
    _, data, truth, _, _, _, _ = crawled
    files = _files(truth)
    rows = {url: (status, sha, size, family, name) for url, status, sha, size, family, name in _rows(
        data, "SELECT url, status, sha256, size, family, name FROM attachments")}
    assert set(rows) == set(files)
    blobs = [p for p in (data / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp"]
    kept = {sha for status, sha, *_ in rows.values() if status == "stored"}
    assert sorted(p.name for p in blobs) == sorted(kept)
    for url, f in files.items():
        status, sha, size, family, name = rows[url]
        if f["endless"] or f["truncated"]:
            continue
        assert status == "stored" and sha == f["sha256"] and size == (data / "blobs" / sha[:2] / sha[2:4] / sha).stat().st_size
        assert hashlib.sha256((data / "blobs" / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() == sha
        assert family == f["family"], (url, f["name"])
        if f["style"] != "static":  # the download scripts' Content-Disposition: GBK bytes, RFC 5987
            assert name == f["name"], url
    # the file two items link: one row, linked by both
    links = Counter(a for (a,) in _rows(data, "SELECT attachment_id FROM document_attachments"))
    assert max(links.values()) == 2 and sum(links.values()) == sum(len(a["attachments"]) for a in truth["articles"])


def test_text_of_every_digital_file_matches_its_ground_truth(crawled):
    _, data, truth, _, _, _, _ = crawled
    texts = {url: (status, text) for url, status, text in _rows(data, "SELECT url, text_status, text FROM attachments")}
    by_format: dict[str, list[float]] = {}
    for url, f in _files(truth).items():
        if f["kind"] != "digital":
            continue
        status, text = texts[url]
        if f["family"] not in READABLE:
            assert status == "unsupported", (url, status)
            continue
        assert status == "ok", (url, status)
        by_format.setdefault(f["family"], []).append(token_f1(text or "", f["truth"]))
    print("\nattachment text token F1 per format (crawl):",
          {k: round(min(v), 4) for k, v in sorted(by_format.items())})
    assert set(by_format) == {f["family"] for f in _files(truth).values() if f["kind"] == "digital"} & set(READABLE)
    assert all(min(v) >= 0.98 for v in by_format.values()), by_format


def test_the_standard_carries_the_files_and_the_search_finds_text_only_in_an_attachment(crawled):
    env, data, truth, _, _, _, _ = crawled
    items = {url: json.loads(item) for url, item in _rows(data, "SELECT url, item FROM documents")}
    files = _files(truth)
    docx = next(u for u, f in files.items() if f["family"] == "ooxml-word")
    owner = next(a for a in truth["articles"] if any(x["url"] == docx for x in a["attachments"]))
    entry = next(a for a in items[owner["url"]]["attachments"] if a["url"] == docx)
    assert entry["status"] == "stored" and entry["sha256"] == files[docx]["sha256"]
    assert entry["size"] > 0 and entry["content_type"].endswith("wordprocessingml.document")
    assert entry["text_status"] == "ok" and entry["text"] and entry["file_format"] == "ooxml-word"
    # a table cell of the DOCX: text that is in no page of the site
    words = [w for w in files[docx]["truth"].split() if len(w) >= 6 and not any(
        w in json.dumps(i["body_text"], ensure_ascii=False) + i["title"] for i in items.values())]
    assert words, "the fixture DOCX has text of its own"
    out = _blgw(env, "search", words[0], "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    hits = json.loads(out.stdout)["hits"]
    assert hits and hits[0]["url"] == owner["url"], (words[0], hits[:2])
    assert hits[0]["attachment"] and files[docx]["name"] in hits[0]["attachment"], (words[0], hits[0])
    assert "<mark>" in hits[0]["snippet_html"]


def test_a_second_run_fetches_no_kept_file_again(crawled):
    _, _, truth, site, _, first_requests, second = crawled
    assert second.returncode in (0, 1), second.stderr[-3000:]
    files = _files(truth)
    again = Counter(site.requests) - first_requests
    for url, f in files.items():
        path = url.split("bl.gov.cn", 1)[1]
        if f["truncated"]:
            assert again[path] >= 1, "the failed file is fetched again"
        else:
            assert again[path] == 0, (path, again[path])


def test_with_the_subsite_stopped_every_kept_attachment_downloads_with_its_original_name(crawled):
    from fastapi.testclient import TestClient

    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    _, data, truth, _, _, _, _ = crawled
    settings = GatewaySettings(data_dir=data, plugin_dirs=[], origins={})
    files = _files(truth)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        downloaded = 0
        for art in truth["articles"]:
            doc_id = _rows(data, f"SELECT id FROM documents WHERE url = '{art['url']}'")[0][0]
            page = client.get(f"/cached/{doc_id}")
            assert page.status_code == 200
            for a in art["attachments"]:
                att_id = _rows(data, f"SELECT id FROM attachments WHERE url = '{a['url']}'")[0][0]
                href = f"/cached/{doc_id}/attachments/{att_id}"
                response = client.get(href)
                if a["endless"] or a["truncated"]:  # never kept: the copy says so, the link is the original
                    assert response.status_code == 404 and href not in page.text
                    continue
                assert href in page.text
                assert response.status_code == 200, (a["name"], response.text)
                assert hashlib.sha256(response.content).hexdigest() == a["sha256"]
                assert response.headers["x-content-type-options"] == "nosniff"
                disposition = response.headers["content-disposition"]
                assert disposition.startswith("attachment;")
                # the Chinese name: the server's (download scripts), else the link's (static files)
                assert unquote(disposition.split("filename*=UTF-8''", 1)[1]).endswith(a["name"]), disposition
                assert not response.headers["content-type"].startswith("text/html")
                downloaded += 1
        assert downloaded == sum(1 for f in files.values() if not (f["endless"] or f["truncated"])) + 1  # one twice


def test_restore_verifies_every_kept_file_and_names_a_lost_one(crawled, tmp_path):
    import shutil

    env, data, truth, _, _, _, _ = crawled
    copy = tmp_path / "data"  # the module's store stays as it is for the other tests
    shutil.copytree(data, copy)
    env = {**env, "BLGW_DATA_DIR": str(copy)}
    ok = _blgw(env, "restore")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    kept = len({f["sha256"] for f in _files(truth).values() if not (f["endless"] or f["truncated"])})
    assert f"attachments: {kept}/{kept} kept files" in ok.stdout
    lost_sha, lost_url = _rows(copy, "SELECT sha256, url FROM attachments WHERE family = 'ofd'")[0]
    (copy / "blobs" / lost_sha[:2] / lost_sha[2:4] / lost_sha).unlink()
    bad = _blgw(env, "restore")
    assert bad.returncode == 1
    assert f"missing: {lost_url}" in bad.stderr and "1 attachment file(s)" in bad.stderr
    # the next crawl fetches it again, whole (no validators left to answer 304)
    assert _rows(copy, f"SELECT checked_at, etag FROM attachments WHERE sha256 = '{lost_sha}'") == [(None, None)]


def test_the_portal_names_the_attachment_and_filters_by_file_type(crawled):
    from fastapi.testclient import TestClient

    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    _, data, truth, _, _, _, _ = crawled
    files = _files(truth)
    xlsx = next(u for u, f in files.items() if f["family"] == "ooxml-excel")
    owner = next(a for a in truth["articles"] if any(x["url"] == xlsx for x in a["attachments"]))
    name = next(line.split("\t")[0] for line in files[xlsx]["truth"].splitlines()[2:] if line)  # a name in the list
    with TestClient(create_app(GatewaySettings(data_dir=data, plugin_dirs=[], origins={}))) as client:
        api = client.get("/api/search", params={"q": name, "file": "excel"}).json()
        assert api["hits"] and api["hits"][0]["url"] == owner["url"] and api["hits"][0]["attachment"]
        assert client.get("/api/search", params={"q": name, "file": "ofd"}).json()["total"] == 0
        assert client.get("/api/search", params={"q": name, "file": "exe"}).status_code == 422
        page = client.get("/", params={"q": name, "file": "excel"})
        assert page.status_code == 200 and "附件《" in page.text and 'value="excel" selected' in page.text


def test_a_crawl_killed_while_it_fetches_files_leaves_them_pending_and_the_next_run_gets_them(tmp_path):
    """kill -9 in the middle of the files: the kept ones stay kept (each fetched once), the rest
    are pending rows of the store, which the next ordinary run fetches."""
    import signal
    import time

    from fixture_sites.attachment_site import build_site

    data = tmp_path / "data"
    site = build_site(seed=5, hostile=False)
    site.file_delay = 0.4
    with attachment_server(site=site) as (url, site):
        env = {**os.environ, "BLGW_DATA_DIR": str(data)}
        proc = subprocess.Popen([*BLGW, "crawl", "sfj", "--origin", f"sfj={url}", *FAST], cwd=WORKDIR, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = data / "gateway.sqlite"
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            if db.exists():
                try:
                    stored = _rows(data, "SELECT count(*) FROM attachments WHERE status = 'stored'")[0][0]
                except sqlite3.OperationalError:  # not created yet, or locked
                    continue
                if stored >= 3:
                    break
        assert proc.poll() is None and stored >= 3, "the crawl ended before it could be killed mid-files"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kept_before = {u for (u,) in _rows(data, "SELECT url FROM attachments WHERE status = 'stored'")}
        pending = _rows(data, "SELECT count(*) FROM attachments WHERE status = 'pending'")[0][0]
        assert pending > 0
        before = Counter(site.requests)
        again = _blgw(env, "crawl", "sfj", "--origin", f"sfj={url}", *FAST)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        truth = site.truth()
    files = _files(truth)
    rows = dict(_rows(data, "SELECT url, status FROM attachments"))
    assert set(rows) == set(files) and set(rows.values()) == {"stored"}
    second = Counter(site.requests) - before
    for url in kept_before:  # a file kept before the kill is not fetched again
        assert second[url.split("bl.gov.cn", 1)[1]] == 0, url


def test_a_site_that_asks_for_ocr_gets_the_text_of_its_scans(tmp_path):
    """``ocr = true``: the scanned PDF (an image per page, no text layer) is read by Tesseract
    chi_sim through the crawl; its token F1 is printed (``pytest -s``)."""
    import shutil

    from fixture_sites.attachment_site import build_site

    site = build_site(seed=3, hostile=False)
    scans = {p: s for p, s in site.files.items() if s.file.kind == "scanned"}
    if not scans or shutil.which("tesseract") is None:
        assert not os.environ.get("BLGW_REQUIRE_FIXTURES"), "a CJK font and tesseract-ocr-chi-sim are required"
        pytest.skip("no CJK font for the scanned fixture, or no tesseract (./bootstrap.sh installs both)")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    spec = (Path(__file__).resolve().parent.parent / "plugins" / "sites" / "sfj.toml").read_text(encoding="utf-8")
    (plugins / "sfjocr.toml").write_text(spec.replace('code = "sfj"', 'code = "sfjocr"').replace(
        'schedule = "every 12h"', 'schedule = "every 12h"\nocr = true\nocr_pages = 3'), encoding="utf-8")
    data = tmp_path / "data"
    with attachment_server(site=site) as (url, _):
        env = {**os.environ, "BLGW_DATA_DIR": str(data), "BLGW_PLUGIN_DIRS": str(plugins)}
        run = _blgw(env, "crawl", "sfjocr", "--origin", f"sfjocr={url}", *FAST)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    for path, scan in scans.items():
        status, text = _rows(data, f"SELECT text_status, text FROM attachments WHERE url = '{SFJ_ORIGIN}{path}'")[0]
        f1 = token_f1(text or "", scan.file.truth or "")
        print(f"\nOCR through the crawl: {scan.file.name}: token F1 {f1:.4f}")
        assert status == "ok" and f1 >= 0.9


def test_an_off_site_list_entry_does_not_keep_its_list_page_from_counting_as_known(tmp_path):
    """A list entry linking off the site is refused and named in each run, and an incremental run
    still stops paging at the list page whose other entries are all known (issue 18)."""
    from fixture_sites.attachment_site import build_site

    site = build_site(seed=4, hostile=False)
    site.offsite_entry = "http://www.example.com/news/1.html"
    data = tmp_path / "data"
    with attachment_server(site=site) as (url, site):
        env = {**os.environ, "BLGW_DATA_DIR": str(data)}
        first = _blgw(env, "crawl", "sfj", "--origin", f"sfj={url}", *FAST)
        assert first.returncode == 1 and "offsite" in first.stdout  # named
        before = Counter(site.requests)
        second = _blgw(env, "crawl", "sfj", "--origin", f"sfj={url}", *FAST)
        assert second.returncode == 1 and "offsite" in second.stdout  # named again, never fetched
        again = Counter(site.requests) - before
    assert again["/col/zcwj.jsp"] == 1 and again["/col/zcwj.jsp?page=2"] == 0, again


def test_plugin_check_shows_list_titles_and_warns_when_they_disagree(tmp_path):
    """``plugin check`` prints an entry's list title beside its page title when they differ, and a
    warning when the list's is not the page's cut (a wrong title selector, issue 18)."""
    from fixture_sites.attachment_site import build_site

    site = build_site(seed=4, hostile=False)
    newest = site.articles[:3]
    site.list_titles = {newest[0]["id"]: newest[0]["title"][:8] + "···",  # cut: fine
                        newest[1]["id"]: "【转载】" + newest[1]["title"]}  # not the page's: a warning
    with attachment_server(site=site) as (url, _):
        env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data")}
        out = _blgw(env, "plugin", "check", "sfj", "--origin", f"sfj={url}", "--pages", "1", "--items", "3", "--json")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    report = json.loads(out.stdout)
    warned = report["title_warnings"]
    ids = {item["source_url"].rsplit("/", 1)[1]: item["id"] for item in report["items"]}
    cut, decorated = (ids[f"{a['id']}.jsp"] for a in newest[:2])
    assert decorated in warned and "【转载】" in warned[decorated] and cut not in warned
    assert report["list_titles"][cut].endswith("···")
