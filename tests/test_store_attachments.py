"""The store's attachment rows: links replaced with their document, pending until fetched,
a failure named and retried, text read once per SHA-256, blobs verified for the restore, and a
Content-Disposition that carries a Chinese file name. Every test runs on SQLite and PostgreSQL."""

import email.message
import hashlib
from urllib.parse import unquote

import pytest
from conftest import site_row
from sqlalchemy import select

from gateway.store.attachments import (
    KnownText,
    content_disposition,
    due_attachments,
    known_text,
    link_attachments,
    record_failed,
    record_stored,
    verify_blobs,
)
from gateway.store.blobs import FolderBlobStore
from gateway.store.models import AttachmentFile, DocumentAttachment
from gateway.store.repository import mark_gone, start_run, upsert_article, upsert_site
from normalizers.models import document_id
from plugins.manager import build_registry

PDF = "http://rsj.bl.gov.cn/uploadfile/2024/0105/a.pdf"
DOC = "http://rsj.bl.gov.cn/downfile.jsp?id=7"


@pytest.fixture
def store_url(store_url_any: str) -> str:
    return store_url_any


def _documents(store, article_factory, n=2):
    spec = build_registry([], include_builtin=True).get("rsj")
    articles = [article_factory(f"http://rsj.bl.gov.cn/show.php?id={i}") for i in range(n)]
    with store.session() as s:
        upsert_site(s, **site_row(spec))
        run_id = start_run(s, "rsj").id
        for a in articles:
            upsert_article(s, a, fetch_url=str(a.source_url), raw_body=b"x", content_type="text/html",
                           http_status=200, run_id=run_id)
    return [a.id for a in articles]


def _stored(s, att_id, data=b"%PDF-1.4 x", text="正文"):
    return record_stored(s, att_id, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                         content_type="application/pdf", family="pdf", name="通知.pdf", etag='"1"',
                         last_modified=None, text=KnownText("ok", text, False, 1, None))


def test_links_create_pending_rows_once_and_are_replaced_with_their_document(store, article_factory):
    a, b = _documents(store, article_factory)
    with store.session() as s:
        due = link_attachments(s, "rsj", {a: [PDF, DOC], b: [PDF]})
    assert due == [document_id(PDF), document_id(DOC)]  # one row per URL however many documents link it
    with store.session() as s:
        assert s.scalar(select(AttachmentFile.status).where(AttachmentFile.id == document_id(DOC))) == "pending"
        assert len(s.scalars(select(AttachmentFile)).all()) == 2
        assert {x.id for x in due_attachments(s, "rsj")} == {document_id(PDF), document_id(DOC)}
        link_attachments(s, "rsj", {a: [PDF]})  # the document was stored again without its DOC link
    with store.session() as s:
        pairs = set(s.execute(select(DocumentAttachment.document_id, DocumentAttachment.attachment_id)).all())
        assert pairs == {(a, document_id(PDF)), (b, document_id(PDF))}
        # the DOC row stays (its bytes may be kept) but no active document links it: not due
        assert [x.id for x in due_attachments(s, "rsj")] == [document_id(PDF)]


def test_a_stored_file_is_not_due_a_failed_one_is_and_a_failure_keeps_the_last_good_copy(store, article_factory):
    a, _ = _documents(store, article_factory)
    with store.session() as s:
        link_attachments(s, "rsj", {a: [PDF, DOC]})
        assert _stored(s, document_id(PDF)) is True  # first copy: changed
        record_failed(s, document_id(DOC), error="http: HTTP 503 on " + DOC)
    with store.session() as s:
        assert [x.id for x in due_attachments(s, "rsj")] == [document_id(DOC)]
        assert link_attachments(s, "rsj", {a: [PDF, DOC]}) == [document_id(DOC)]
        record_failed(s, document_id(PDF), error="network: timeout")
        assert _stored(s, document_id(PDF)) is False  # same bytes again: not a change
        assert _stored(s, document_id(PDF), data=b"%PDF-1.4 y") is True
        record_failed(s, document_id(DOC), error="too-large: over 50 MB", too_large=True)
    with store.session() as s:
        pdf, doc = s.get(AttachmentFile, document_id(PDF)), s.get(AttachmentFile, document_id(DOC))
        assert (pdf.status, pdf.attempts, pdf.error) == ("stored", 0, None)
        assert (doc.status, doc.attempts) == ("too-large", 2) and "50 MB" in doc.error
        assert due_attachments(s, "rsj") == []  # too large: not fetched again by every run


def test_text_is_read_once_per_sha256(store, article_factory):
    a, b = _documents(store, article_factory)
    with store.session() as s:
        link_attachments(s, "rsj", {a: [PDF], b: [DOC]})
        _stored(s, document_id(PDF), data=b"same", text="同一文件")
    with store.session() as s:
        known = known_text(s, hashlib.sha256(b"same").hexdigest())
        assert known is not None and known.text == "同一文件" and known.pages == 1
        assert known_text(s, hashlib.sha256(b"other").hexdigest()) is None


def test_verify_blobs_names_missing_and_corrupt_files_of_active_documents_only(store, article_factory, tmp_path):
    a, b = _documents(store, article_factory)
    blobs = FolderBlobStore(tmp_path / "blobs")
    good = blobs.put_bytes(b"%PDF-1.4 good")
    bad = blobs.put_bytes(b"%PDF-1.4 bad")
    blobs.path(bad.sha256).write_bytes(b"%PDF-1.4 tampered")
    with store.session() as s:
        link_attachments(s, "rsj", {a: [PDF, DOC], b: ["http://rsj.bl.gov.cn/gone.xls"]})
        _stored(s, document_id(PDF), data=b"%PDF-1.4 good")
        _stored(s, document_id(DOC), data=b"%PDF-1.4 bad")
        _stored(s, document_id("http://rsj.bl.gov.cn/gone.xls"), data=b"never stored")
        mark_gone(s, b)
    with store.session() as s:
        checked, missing = verify_blobs(s, blobs, "rsj")
    assert checked == 2  # the gone document's file is not required
    assert [(m.attachment_url, m.why) for m in missing] == [(DOC, "corrupt")]
    assert good.sha256 not in {m.sha256 for m in missing}


@pytest.mark.parametrize("name", ["附件1：2024年度部门预算公开表.xls", 'a"b\\c/d.pdf', "报名表\r\n.doc",
                                  "plain name.docx"])
def test_content_disposition_carries_the_name_and_nothing_else(name):
    value = content_disposition(name)
    assert "\r" not in value and "\n" not in value
    msg = email.message.EmailMessage()
    msg["Content-Disposition"] = value
    assert msg.get_content_disposition() == "attachment"
    star = value.split("filename*=UTF-8''", 1)[1]
    decoded = unquote(star, encoding="utf-8")
    assert decoded == "".join(c for c in name if c.isprintable() and c not in '/\\"').strip()
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1].strip()
