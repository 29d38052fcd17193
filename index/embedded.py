"""The embedded search backend: one SQLite file (WAL mode) with an FTS5 table.

Tables
    ``meta``        key/value: ``schema_version``, ``analyzer_version`` and ``generation``
                    (``<counter>.<64 random bits>``, changed by the last statement of every
                    write transaction, carried over by clear and rebuild: see
                    :meth:`EmbeddedIndex.generation`).
    ``documents``   one row per article: ``docid`` (integer key shared with the FTS rowid),
                    ``id`` (unique), ``site_code``, ``column_path`` (JSON array),
                    ``category``, ``published_at`` (integer microseconds since the Unix epoch,
                    NULL when unknown), ``title``, ``url``, ``body_text`` and ``article`` (the
                    full Article JSON, what :meth:`EmbeddedIndex.get` returns).
    ``facts``       the narrow copy of what searches filter, facet and order on, one row per
                    ``documents`` row with the same ``docid``: ``id``, ``site_code``,
                    ``category``, ``column_path``, ``published_at``, and the facet values
                    ``col`` (``json_extract(column_path, '$[#-1]')``, the last column) and
                    ``year`` (the Asia/Shanghai year of ``published_at`` as text). Every write
                    path writes it in the same transaction as ``documents``, computing ``col``
                    and ``year`` with the SQL expressions the facets were defined by. (A
                    ``documents`` row fills about a 4 KiB page, body and article JSON included,
                    so joining 60 000 matches to it read 60 000 pages; ``facts`` holds ~35 rows
                    a page.) ``k`` is the row's key in ``combos``.
    ``combos``      one row per distinct (``site_code``, ``category``, ``column_path``, facet
                    year) of the documents written since the last rebuild or clear, with its
                    facet values ``col`` and ``year``, computed once by the same expressions
                    (``year_key`` is ``year`` with '' for NULL, for the unique constraint).
                    Rows are never deleted before a rebuild; a combination without documents is
                    harmless (it only counts matches).
    ``fts``         contentless FTS5 table over (``title``, ``body``) holding the analyzer's
                    tokens (:func:`index.tokenize.token_text`) separated by spaces; tokenizer
                    ``unicode61`` with ``_`` (the end marker) as a token character, so it only
                    splits on the spaces; ``prefix='1'`` speeds up one-character queries.
                    Being contentless it stores no second copy of the text; deleting a row
                    re-analyzes the stored title and body to tell FTS5 which tokens to remove,
                    which is exact because the analyzer version is pinned in ``meta``.

Ranking is ``bm25(fts, 5.0, 1.0)`` (a title match weighs five body matches); filters are plain
SQL on ``facts`` (``column``: decided once per ``combos`` row, an ``instr`` pre-check on the
JSON text, then ``json_each`` for the exact element test, and the matches' ``k`` looked up in
that set); highlighting is :mod:`index.highlight` on the original text. A search is two
statements in one read transaction (one snapshot), each a pass over the matches of ``fts``
joined to ``facts``: the facets count the matches by ``k`` (one integer sort, no bm25; grouping
by the four text values cost twice as much) and sum the few combinations' values; the page is
the first rows in the query's order of bm25 and the tie-breaks (a bounded sort; only its rows
are kept). Then title, URL, body and path of the page's documents are read from ``documents``.
Materializing the matches once for both (the previous plan) costs more than the second pass when
there are many matches (通知, 68k: 99 vs 89 ms; 工作, 96k: 137 vs 115 ms).
Suggestions are ``title LIKE 'prefix%'`` (ASCII case-insensitive) over the covering index
``documents_title`` (``title COLLATE NOCASE, published_at, id, site_code``): the prefix's range
is read from the index alone, sorted with ``LIMIT`` (a bounded sort), and only the URLs of the
suggestions are read from the table.

:meth:`EmbeddedIndex.rebuild` fills ``documents_next`` / ``facts_next`` / ``combos_next`` / ``fts_next`` inside ONE
``BEGIN IMMEDIATE`` transaction (new ids in batches of ``executemany``, an id met again in the
same call through the upsert path), then in the
same transaction drops ``documents`` / ``facts`` / ``combos`` / ``fts`` / ``meta``, renames the
new tables and creates the secondary indexes, and commits:
other connections read the old contents (WAL snapshot) until the commit, this connection's
reads use the old tables until the swap; a failure rolls everything back (nothing half-built
remains). Freed pages are returned to the file system with ``PRAGMA incremental_vacuum`` (new
files are created with ``auto_vacuum=INCREMENTAL``). The instance lock is held for the whole
rebuild, so other threads of this process wait; other processes keep reading, and their writes
wait (busy timeout).

Writes go through one connection per instance (``check_same_thread=False``) guarded by a lock,
in ``BEGIN IMMEDIATE`` transactions of up to 500 documents. Reads of a file index use one
read-only connection per thread (WAL: readers never wait for each other or for a writer, and
SQLite runs them in parallel outside the GIL), so a threaded server answers searches on every
core; an in-memory index reads through the writer connection, under the lock. Reader
connections are ``query_only`` and memory-map the file (``mmap_size`` 256 MiB, see
``_READER_PRAGMAS``).

Schema version 2 added ``facts``; version 3 added ``combos``, ``facts.k``, the generation, the
covering ``documents_title``. A file of an older version opens, but every use
says to run ``blgw index rebuild`` (which, like :meth:`EmbeddedIndex.clear`, recreates it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from index.base import (
    FACET_KEYS,
    FACET_SIZE,
    FILE_KINDS,
    FacetValue,
    IndexClosedError,
    IndexSchemaError,
    IndexUnavailableError,
    SearchHit,
    SearchIndex,
    SearchIndexError,
    SearchQuery,
    SearchResult,
    Suggestion,
    ascii_lower,
    check_suggest_size,
    suggest_prefix,
)
from index.highlight import Highlighter
from index.tokenize import (
    ANALYZER_VERSION,
    ParsedQuery,
    clause_tokens,
    parse_query,
    token_text,
)
from normalizers.models import SHANGHAI, Article

SCHEMA_VERSION = "3"
"""Bump when the table layout changes (the analyzer has its own ANALYZER_VERSION)."""

TITLE_WEIGHT = 5.0
BODY_WEIGHT = 1.0
BATCH = 500

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_READER_PRAGMAS = (
    "PRAGMA query_only=ON",
    f"PRAGMA mmap_size={256 * 1024 * 1024}",
)
"""Set on every read-only connection (one per reading thread). ``mmap_size``: pages are read
from the mapped file instead of copied into each connection's cache (one copy in the OS page
cache, however many threads read). ``cache_size`` and ``temp_store`` stay at SQLite's defaults
on purpose: the sorter's memory budget is ``cache_size``, and with a larger one (4–64 MiB) or
``temp_store=MEMORY`` the searches with 60 000+ matches measured 5–15 % slower, the others
unchanged."""

_META = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES
    ('schema_version', '{SCHEMA_VERSION}'), ('analyzer_version', '{ANALYZER_VERSION}'),
    ('generation', '0.' || lower(hex(randomblob(8))));
"""

_BUMP = ("UPDATE meta SET value = (CAST(value AS INTEGER) + 1) || '.' || lower(hex(randomblob(8)))"
         " WHERE key = 'generation'")
"""Every write transaction ends with this (see :meth:`EmbeddedIndex.generation`): a counter
plus 64 random bits, so that a file deleted and made again never repeats a value either."""


_TABLES = """
CREATE TABLE {documents} (
    docid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    site_code TEXT NOT NULL,
    column_path TEXT NOT NULL,
    category TEXT NOT NULL,
    published_at INTEGER,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    body_text TEXT NOT NULL,
    article TEXT NOT NULL
);
CREATE TABLE {facts} (
    docid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    site_code TEXT NOT NULL,
    category TEXT NOT NULL,
    col TEXT,
    column_path TEXT NOT NULL,
    year TEXT,
    published_at INTEGER,
    k INTEGER NOT NULL
);
CREATE TABLE {combos} (
    k INTEGER PRIMARY KEY,
    site_code TEXT NOT NULL,
    category TEXT NOT NULL,
    column_path TEXT NOT NULL,
    col TEXT,
    year TEXT,
    year_key TEXT NOT NULL,
    UNIQUE (site_code, category, column_path, year_key)
);
CREATE VIRTUAL TABLE {fts} USING fts5(
    title, body, content='', prefix='1',
    tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
);
"""

_INDEXES = """
CREATE INDEX documents_site_published ON documents (site_code, published_at);
CREATE INDEX documents_published ON documents (published_at);
CREATE INDEX documents_title ON documents (title COLLATE NOCASE, published_at, id, site_code);
"""

_LIVE = ("documents", "facts", "combos", "fts")
_NEXT = ("documents_next", "facts_next", "combos_next", "fts_next")
"""The tables a rebuild fills before they replace ``documents``, ``facts``, ``combos`` and ``fts``."""


def _tables(names: tuple[str, ...]) -> str:
    documents, facts, combos, fts = names
    return _TABLES.format(documents=documents, facts=facts, combos=combos, fts=fts)


_SCHEMA = _META + _tables(_LIVE) + _INDEXES

_FACET_YEAR_SQL_FROM = 694_195_200_000_000
"""1992-01-01 00:00 Asia/Shanghai in microseconds: from then on Shanghai is UTC+8 all year, so
SQL computes the year; earlier dates (daylight saving, LMT) go through Python's zoneinfo."""

_RANK = f"bm25(fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"
_ORDER = {
    # Over the page statement of EmbeddedIndex.search (score_rank: bm25, lower is better).
    "relevance": "score_rank, d.published_at IS NULL, d.published_at DESC, d.id",
    "date": "d.published_at IS NULL, d.published_at DESC, score_rank, d.id",
}


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would commit the caller's transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _create_schema(conn: sqlite3.Connection) -> None:
    _run_script(conn, _SCHEMA)


def _stored_generation(conn: sqlite3.Connection) -> str | None:
    """The generation in ``meta`` (None: no meta table, or one written before generations)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    except sqlite3.OperationalError:
        return None
    return cast(str, row[0]) if row else None


def _continue_generation(conn: sqlite3.Connection, generation: str | None) -> None:
    """After ``meta`` was made again (clear, rebuild): carry the old generation over, bumped."""
    if generation is not None:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (generation,))
    conn.execute(_BUMP)


def _shanghai_year(micros: int | None) -> str | None:
    """The Asia/Shanghai year of a ``published_at`` value (SQL function ``blgw_year``)."""
    if micros is None:
        return None
    try:
        return str(_from_micros(micros).year)
    except (OverflowError, ValueError):
        return None


def _year_sql(micros: str) -> str:
    """The SQL expression of the facet year of ``micros`` (an SQL expression of
    ``published_at``): the Shanghai year as text, NULL when there is no date."""
    return (f"CASE WHEN {micros} IS NULL THEN NULL WHEN {micros} >= {_FACET_YEAR_SQL_FROM}"
            f" THEN strftime('%Y', {micros} / 1000000.0 + 28800, 'unixepoch')"
            f" ELSE blgw_year({micros}) END")


_COMBO_PUT = (
    "INSERT OR IGNORE INTO {combos} (site_code, category, column_path, col, year, year_key)"
    " VALUES (:site_code, :category, :column_path, json_extract(:column_path, '$[#-1]'),"
    f" {_year_sql(':published_at')}, ifnull({_year_sql(':published_at')}, ''))")
"""Makes sure the ``combos`` row of a document's (site, category, column path, facet year)
exists: the facet values are computed by SQLite from the values written to ``documents``, with
the very expressions the facets were defined by."""

_FACTS_PUT = (
    "INSERT OR REPLACE INTO {facts} (docid, id, site_code, category, col, column_path, year,"
    " published_at, k) SELECT :docid, :id, c.site_code, c.category, c.col, c.column_path, c.year,"
    " :published_at, c.k FROM {combos} AS c WHERE c.site_code = :site_code AND c.category = :category"
    f" AND c.column_path = :column_path AND c.year_key = ifnull({_year_sql(':published_at')}, '')")
"""Writes the ``facts`` row of a document (after :data:`_COMBO_PUT`), its facet values and key
``k`` copied from its ``combos`` row."""


def _micros(value: dt.datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=value)).astimezone(SHANGHAI)


def _day_start(day: dt.date) -> int:
    """Microseconds of 00:00 of ``day`` in Asia/Shanghai."""
    return _micros(dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI))


def _quote(token: str) -> str:
    # Tokens are alphanumeric (plus the end marker), so they never contain a double quote;
    # doubling is there for safety all the same.
    return '"' + token.replace('"', '""') + '"'


def fts5_query(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression of a parsed query (non-empty): each clause the phrase of its
    :func:`index.tokenize.clause_tokens` (a one-character last element a prefix, ``"…"*``),
    every token quoted, clauses joined by AND. An FTS5 phrase matches within one column."""
    parts: list[str] = []
    for clause in parsed.clauses:
        tokens, prefix = clause_tokens(clause)
        parts.append(_quote(" ".join(tokens)) + ("*" if prefix else ""))
    return " AND ".join(parts)


class EmbeddedIndex(SearchIndex):
    """The :class:`SearchIndex` on a SQLite FTS5 file (``path``) or in memory (``:memory:``)."""

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._timeout = timeout
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise IndexUnavailableError(f"cannot open the search index {self.path}: {exc}") from exc
        self._schema_error: str | None = None
        self._foreign = False
        try:
            self._conn.create_function("blgw_year", 1, _shanghai_year, deterministic=True)
            if not self._conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                # A new file: let rebuild/clear give freed pages back (before any table exists).
                self._conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._schema_error = self._check_or_create_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            self._conn = None
            # cannot open, locked…: the file may be fine; not a database, corrupt: it is not
            kind = IndexUnavailableError if isinstance(exc, sqlite3.OperationalError) else SearchIndexError
            raise kind(f"cannot open the search index {self.path}: {exc}") from exc

    def __repr__(self) -> str:
        return f"EmbeddedIndex({self.path!r})"

    # -- schema -------------------------------------------------------------------------------

    def _check_or_create_schema(self) -> str | None:
        """Create the tables in an empty database; return an error message if the database
        holds something else (another version, or not an index)."""
        conn = self._conn
        assert conn is not None
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created it meanwhile.
                if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
                    _create_schema(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return self._check_or_create_schema()
        rebuild = "run `blgw index rebuild` to recreate it from the store"
        meta: dict[str, str] = {}
        if "meta" in tables:
            try:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            except sqlite3.DatabaseError:
                meta = {}
        if "schema_version" not in meta:
            # Someone else's database (the store, say): never touch it, not even in clear().
            self._foreign = True
            return (f"{self.path} is not a search index (it holds other tables: "
                    f"{', '.join(sorted(tables)[:5])}); check BLGW_INDEX_URL")
        found = (meta.get("schema_version"), meta.get("analyzer_version"))
        wanted = (SCHEMA_VERSION, str(ANALYZER_VERSION))
        if found != wanted:
            return (f"the search index {self.path} has schema_version {found[0]} / analyzer_version "
                    f"{found[1]}, this program needs {wanted[0]} / {wanted[1]}; {rebuild}")
        return None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise IndexClosedError(f"the search index {self.path} is closed")
        if self._schema_error is not None:
            raise IndexSchemaError(self._schema_error)
        return self._conn

    def _write(self) -> _Transaction:
        return _Transaction(self._db())

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection to read with: this thread's own read-only connection for a file
        index, the writer connection (under the lock) for an in-memory one."""
        if self.path == ":memory:":
            with self._lock:
                yield self._db()
            return
        self._db()  # closed or outdated: fail before reading
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.create_function("blgw_year", 1, _shanghai_year, deterministic=True)
            for pragma in _READER_PRAGMAS:
                conn.execute(pragma)
            with self._lock:
                if self._conn is None:
                    conn.close()
                    raise IndexClosedError(f"the search index {self.path} is closed")
                self._readers.append(conn)
            self._local.conn = conn
        yield conn

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, articles: Iterable[Article]) -> int:
        written = 0
        iterator = iter(articles)
        with self._lock:
            self._db()  # a closed or outdated index fails even on empty input
            while True:
                chunk = _take(iterator, BATCH)
                if not chunk:
                    return written
                with self._write() as conn:
                    for article in chunk:
                        self._upsert_one(conn, article)
                written += len(chunk)

    def _upsert_one(self, conn: sqlite3.Connection, article: Article,
                    tables: tuple[str, ...] = _LIVE) -> None:
        if not isinstance(article, Article):
            raise TypeError(f"upsert takes Article items, not {type(article).__name__}")
        documents, facts, combos, fts = tables
        column_path = json.dumps(article.column_path, ensure_ascii=False)
        published_at = _micros(article.published_at) if article.published_at is not None else None
        values = (
            article.site_code,
            column_path,
            article.category.value,
            published_at,
            article.title,
            str(article.source_url),
            article.body_text,
            article.model_dump_json(),
        )
        old = conn.execute(f"SELECT docid, title, body_text FROM {documents} WHERE id = ?",
                           (article.id,)).fetchone()
        if old is None:
            cur = conn.execute(
                f"INSERT INTO {documents} (id, site_code, column_path, category, published_at, title,"
                " url, body_text, article) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (article.id, *values))
            docid = cast(int, cur.lastrowid)  # an INSERT into a rowid table always sets it
        else:
            docid = old[0]
            conn.execute(
                f"UPDATE {documents} SET site_code = ?, column_path = ?, category = ?, published_at = ?,"
                " title = ?, url = ?, body_text = ?, article = ? WHERE docid = ?", (*values, docid))
        fact = {"docid": docid, "id": article.id, "site_code": article.site_code,
                "category": article.category.value, "column_path": column_path,
                "published_at": published_at}
        conn.execute(_COMBO_PUT.format(combos=combos), fact)
        conn.execute(_FACTS_PUT.format(facts=facts, combos=combos), fact)
        if old is None:
            self._fts_insert(conn, docid, article.title, article.body_text, fts)
            return
        _, old_title, old_body = old
        if (old_title, old_body) != (article.title, article.body_text):
            self._fts_delete(conn, docid, old_title, old_body, fts)
            self._fts_insert(conn, docid, article.title, article.body_text, fts)

    @staticmethod
    def _fts_insert(conn: sqlite3.Connection, docid: int | None, title: str, body: str,
                    fts: str = "fts") -> None:
        conn.execute(f"INSERT INTO {fts} (rowid, title, body) VALUES (?, ?, ?)",
                     (docid, token_text(title), token_text(body)))

    @staticmethod
    def _fts_delete(conn: sqlite3.Connection, docid: int, title: str, body: str,
                    fts: str = "fts") -> None:
        conn.execute(f"INSERT INTO {fts} ({fts}, rowid, title, body) VALUES ('delete', ?, ?, ?)",
                     (docid, token_text(title), token_text(body)))

    def delete(self, ids: Iterable[str]) -> int:
        removed = 0
        iterator = iter(ids)
        with self._lock:
            self._db()
            while True:
                chunk = _take(iterator, BATCH)
                if not chunk:
                    return removed
                with self._write() as conn:
                    for id_ in chunk:
                        row = conn.execute("SELECT docid, title, body_text FROM documents WHERE id = ?",
                                           (id_,)).fetchone()
                        if row is None:
                            continue
                        self._fts_delete(conn, *row)
                        conn.execute("DELETE FROM documents WHERE docid = ?", (row[0],))
                        conn.execute("DELETE FROM facts WHERE docid = ?", (row[0],))
                        removed += 1

    def clear(self) -> None:
        """Drop and recreate the index tables (also after a schema change). A database that is
        not a search index (no ``schema_version`` in ``meta``) is never touched."""
        with self._lock:
            if self._conn is None:
                raise IndexClosedError(f"the search index {self.path} is closed")
            if self._foreign:
                raise IndexSchemaError(f"refusing to clear {self.path}: {self._schema_error}")
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                generation = _stored_generation(conn)
                for name in (*_LIVE, "meta", *_NEXT):
                    conn.execute(f"DROP TABLE IF EXISTS {name}")
                _create_schema(conn)
                _continue_generation(conn, generation)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._schema_error = None
            self._reclaim()

    def rebuild(self, documents: Iterable[Article]) -> int:
        written = 0
        with self._lock:
            if self._conn is None:
                raise IndexClosedError(f"the search index {self.path} is closed")
            if self._foreign:
                raise IndexSchemaError(f"refusing to rebuild {self.path}: {self._schema_error}")
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                generation = _stored_generation(conn)
                for name in _NEXT:
                    conn.execute(f"DROP TABLE IF EXISTS {name}")
                _run_script(conn, _tables(_NEXT))
                # New ids are written in batches (executemany, docids given here: the tables
                # are empty); an id met again in the same call takes the upsert path.
                seen: set[str] = set()
                batch: list[Article] = []
                next_docid = 1
                for article in documents:
                    if not isinstance(article, Article):
                        raise TypeError(f"upsert takes Article items, not {type(article).__name__}")
                    if article.id in seen:
                        next_docid = self._insert_new(conn, batch, next_docid, _NEXT)
                        batch = []
                        self._upsert_one(conn, article, _NEXT)
                    else:
                        seen.add(article.id)
                        batch.append(article)
                        if len(batch) >= BATCH:
                            next_docid = self._insert_new(conn, batch, next_docid, _NEXT)
                            batch = []
                    written += 1
                self._insert_new(conn, batch, next_docid, _NEXT)
                # The swap: same transaction, so it is all or nothing.
                for name in (*_LIVE, "meta"):
                    conn.execute(f"DROP TABLE IF EXISTS {name}")
                for new, live in zip(_NEXT, _LIVE, strict=True):
                    conn.execute(f"ALTER TABLE {new} RENAME TO {live}")
                _run_script(conn, _META + _INDEXES)
                _continue_generation(conn, generation)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._schema_error = None
            self._reclaim()
        return written

    @staticmethod
    def _insert_new(conn: sqlite3.Connection, articles: list[Article], docid: int,
                    tables: tuple[str, ...]) -> int:
        """Insert articles whose ids are in none of ``tables`` yet, with docids from ``docid``
        on (unused ones); returns the next unused docid. The same rows as :meth:`_upsert_one`."""
        if not articles:
            return docid
        documents, facts, combos, fts = tables
        doc_rows, fact_rows, fts_rows = [], [], []
        for article in articles:
            column_path = json.dumps(article.column_path, ensure_ascii=False)
            published_at = _micros(article.published_at) if article.published_at is not None else None
            doc_rows.append((docid, article.id, article.site_code, column_path, article.category.value,
                             published_at, article.title, str(article.source_url), article.body_text,
                             article.model_dump_json()))
            fact_rows.append({"docid": docid, "id": article.id, "site_code": article.site_code,
                              "category": article.category.value, "column_path": column_path,
                              "published_at": published_at})
            fts_rows.append((docid, token_text(article.title), token_text(article.body_text)))
            docid += 1
        conn.executemany(
            f"INSERT INTO {documents} (docid, id, site_code, column_path, category, published_at, title,"
            " url, body_text, article) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", doc_rows)
        conn.executemany(_COMBO_PUT.format(combos=combos), fact_rows)
        conn.executemany(_FACTS_PUT.format(facts=facts, combos=combos), fact_rows)
        conn.executemany(f"INSERT INTO {fts} (rowid, title, body) VALUES (?, ?, ?)", fts_rows)
        return docid

    def _reclaim(self) -> None:
        """Give the pages of dropped tables back to the file system (files made with
        auto_vacuum=INCREMENTAL; a no-op on others) and keep the WAL small."""
        conn = self._conn
        assert conn is not None
        try:
            # executescript() steps the pragma to the end (execute() frees one page only);
            # no transaction is open here, so its implicit COMMIT is harmless.
            conn.executescript("PRAGMA incremental_vacuum;")
            if self.path != ":memory:":
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError:
            pass  # another connection is busy: the pages are reused by later writes anyway

    # -- reads --------------------------------------------------------------------------------

    def get(self, id: str) -> Article | None:
        with self._read() as conn:
            row = conn.execute("SELECT article FROM documents WHERE id = ?", (id,)).fetchone()
        return Article.model_validate_json(row[0]) if row else None

    def count(self) -> int:
        with self._read() as conn:
            return cast(int, conn.execute("SELECT count(*) FROM documents").fetchone()[0])

    def generation(self) -> str:
        """The generation of the index's contents: a value stored in the file and changed in
        the same transaction as every write (upsert, delete, clear, rebuild, optimize), by any
        process. Equal values mean equal contents, so it can key a cache of results. Cheap: one
        row of ``meta``."""
        with self._read() as conn:
            return self._generation(conn)

    def _generation(self, conn: sqlite3.Connection) -> str:
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        if row is None:
            raise IndexSchemaError(f"the search index {self.path} has no generation; "
                                   "run `blgw index rebuild` to recreate it from the store")
        return cast(str, row[0])

    def search(self, query: SearchQuery) -> SearchResult:
        return self.search_at(query)[1]

    def search_at(self, query: SearchQuery) -> tuple[str, SearchResult]:
        """:meth:`search`, and the :meth:`generation` the result was read at (same snapshot)."""
        parsed = parse_query(query.q)
        empty = SearchResult(total=0, hits=[], page=query.page, size=query.size,
                             facets={key: [] for key in FACET_KEYS})
        if parsed.is_empty:
            return self.generation(), empty  # still reports a closed or outdated index
        where = ["fts MATCH ?"]
        params: list[Any] = [fts5_query(parsed)]
        if query.site_codes:
            where.append(f"d.site_code IN ({', '.join('?' * len(query.site_codes))})")
            params.extend(query.site_codes)
        if query.categories:
            where.append(f"d.category IN ({', '.join('?' * len(query.categories))})")
            params.extend(c.value for c in query.categories)
        if query.column is not None:
            # Decided once per combination of facet values (combos), not per match: instr() is
            # a cheap necessary condition (column_path is written by json.dumps with the same
            # settings, so an element's JSON text is a substring of the array's); json_each()
            # decides exactly.
            where.append("d.k IN (SELECT k FROM combos WHERE instr(column_path, ?) AND EXISTS"
                         " (SELECT 1 FROM json_each(column_path) AS e WHERE e.value = ?))")
            params.extend((json.dumps(query.column, ensure_ascii=False), query.column))
        if query.file_kinds:
            # the attachments' extensions, read from the stored items once per query (a
            # materialized set): no column of its own, so an index built before it answers too
            exts = sorted({e for kind in query.file_kinds for e in FILE_KINDS[kind]})
            where.append("d.docid IN (SELECT x.docid FROM documents AS x, json_each(x.article, '$.attachments')"
                         f" AS a WHERE lower(json_extract(a.value, '$.file_type')) IN ({', '.join('?' * len(exts))}))")
            params.extend(exts)
        if query.date_from is not None:
            where.append("d.published_at >= ?")
            params.append(_day_start(query.date_from))
        if query.date_to is not None:
            where.append("d.published_at < ?")
            params.append(_day_start(query.date_to + dt.timedelta(days=1)))
        # CROSS JOIN keeps fts as the outer loop, where bm25() is available.
        matches = f"FROM fts CROSS JOIN facts AS d ON d.docid = fts.rowid WHERE {' AND '.join(where)}"
        # The facets: the matches counted by their combination key k (one integer sort, no
        # bm25), then the few combinations' values. The page: bm25 of every match, the first
        # rows in the query's order (a bounded sort).
        facets_sql = (f"WITH g AS MATERIALIZED (SELECT d.k AS k, count(*) AS n {matches} GROUP BY d.k)"
                      " SELECT c.site_code, c.category, c.col, c.year, g.n FROM g JOIN combos AS c ON c.k = g.k")
        page_sql = (f"SELECT fts.rowid, {_RANK} AS score_rank {matches}"
                    f" ORDER BY {_ORDER[query.order]} LIMIT ? OFFSET ?")
        with self._read() as conn:
            conn.execute("BEGIN")  # one snapshot for every statement: no write in between
            try:
                generation = self._generation(conn)
                total, facets = _facets(conn.execute(facets_sql, params).fetchall())
                if total <= query.offset:
                    return generation, empty.model_copy(update={"total": total, "facets": facets})
                scores = {docid: -rank for docid, rank in
                          conn.execute(page_sql, [*params, query.size, query.offset])}
                found = {r[0]: r for r in conn.execute(
                    "SELECT docid, id, site_code, column_path, category, title, url, published_at,"
                    f" body_text FROM documents WHERE docid IN ({', '.join('?' * len(scores))})",
                    list(scores))}
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        highlighter = Highlighter(parsed)
        hits = []
        for docid, score in scores.items():
            _, id_, site_code, column_path, category, title, url, published, body = found[docid]
            title_html, snippet_html, attachment = highlighter.hit(title, body)
            hits.append(SearchHit(
                id=id_, site_code=site_code, column_path=json.loads(column_path), category=category,
                title=title, title_html=title_html, url=url,
                published_at=_from_micros(published) if published is not None else None,
                score=score, snippet_html=snippet_html, attachment=attachment))
        return generation, SearchResult(total=total, hits=hits, page=query.page, size=query.size,
                                        facets=facets)

    def suggest(self, prefix: str, size: int = 8,
                site_codes: list[str] | None = None) -> list[Suggestion]:
        return self.suggest_at(prefix, size, site_codes)[1]

    def suggest_at(self, prefix: str, size: int = 8,
                   site_codes: list[str] | None = None) -> tuple[str, list[Suggestion]]:
        """:meth:`suggest`, and the :meth:`generation` it was read at (same snapshot)."""
        size = check_suggest_size(size)
        text = suggest_prefix(prefix)
        sites = list(dict.fromkeys(s.strip() for s in site_codes or () if isinstance(s, str) and s.strip()))
        with self._read() as conn:
            if text is None:
                return self._generation(conn), []
            pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where = ["title LIKE ? ESCAPE '\\'"]
            params: list[Any] = [pattern]
            if sites:
                where.append(f"site_code IN ({', '.join('?' * len(sites))})")
                params.extend(sites)
            folded = ascii_lower(text)
            conn.execute("BEGIN")  # one snapshot for every statement
            try:
                generation = self._generation(conn)
                # Only columns of the covering index documents_title (title, published_at, id,
                # site_code, docid): the range of the prefix is read from the index alone and
                # the sort keeps the first rows only; url is read for those.
                order = " ORDER BY published_at IS NULL, published_at DESC, title, id"
                select = f"SELECT docid, id, title, site_code FROM documents WHERE {' AND '.join(where)}{order}"
                rows = conn.execute(f"{select} LIMIT ?", [*params, size]).fetchall()
                if not all(ascii_lower(title).startswith(folded) for _, _, title, _ in rows):
                    # LIKE folds ASCII only, as wanted, so this does not happen; if it ever
                    # did, the rows LIKE let through are filtered here, all of them read.
                    rows = [r for r in conn.execute(select, params) if ascii_lower(r[2]).startswith(folded)]
                    rows = rows[:size]
                urls = dict(conn.execute(
                    f"SELECT docid, url FROM documents WHERE docid IN ({', '.join('?' * len(rows))})",
                    [r[0] for r in rows]).fetchall()) if rows else {}
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
            return generation, [Suggestion(id=id_, title=title, url=urls[docid], site_code=site_code)
                                for docid, id_, title, site_code in rows]

    # -- lifecycle ----------------------------------------------------------------------------

    def optimize(self) -> None:
        """Merge the FTS5 b-trees (optional maintenance after large loads)."""
        with self._lock, self._write() as conn:
            conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")

    def close(self) -> None:
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _facets(rows: list[tuple[str, str, str | None, str | None, int]]) -> tuple[int, dict[str, list[FacetValue]]]:
    """The number of matching documents and the facets, from (site, category, col, year,
    count) rows, one per combination of facet values."""
    sums: list[dict[str, int]] = [{} for _ in FACET_KEYS]
    for row in rows:
        count = row[4]
        for i in range(len(FACET_KEYS)):
            value = row[i]
            if value is not None:  # col and year: not counted without a value
                sums[i][str(value)] = sums[i].get(str(value), 0) + count
    total = sum(sums[0].values())
    facets = {
        name: [FacetValue(value=v, count=c)
               for v, c in sorted(sums[i].items(), key=lambda vc: (-vc[1], vc[0]))[:FACET_SIZE]]
        for i, name in enumerate(FACET_KEYS)
    }
    return total, facets


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection; the
    generation is bumped just before the commit."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.conn.execute("ROLLBACK")
            return
        try:
            self.conn.execute(_BUMP)  # in the same transaction as the write
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


def _take(iterator: Iterator[Any], n: int) -> list[Any]:
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) >= n:
            break
    return chunk
