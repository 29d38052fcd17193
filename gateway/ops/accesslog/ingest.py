"""Counting access-log files into the store, incrementally and crash-safe (docs/logs.md).

A file is known by its identity (:func:`file_identity`): the SHA-256 of its bytes up to the end of
its first request line (after its ``#`` directives: every IIS W3C file starts with the same
``#Software`` line, its ``#Date`` and first request tell it apart), read decompressed. Its
``log_files`` row says how far it is counted; each batch of :data:`BLGW_LOG_BATCH_LINES` lines
is written in one transaction with the new offset, by compare-and-set (the offset must still be
the one the batch started from), so a line is counted once whatever stops the ingest and two
ingests of one file never both count it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import gzip
import hashlib
import io
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.ops.accesslog.classify import Classifier
from gateway.ops.accesslog.formats import Malformed, W3CReader, guess_format, reader
from gateway.store.models import LogCount, LogFile, LogMalformed, LogVisitor
from gateway.store.session import Store
from plugins.spec import LogRules

IDENTITY_READ = 64 * 1024  # the most read for a file's identity
SAMPLES_PER_FILE = 20
TIME_BUCKETS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b")


@dataclass(frozen=True)
class LogSite:
    """A site whose logs are read: its code, its public base URL (targets are joined to it), its
    ``[logs]`` rules, and other host names that are its own (internal referrers)."""

    code: str
    base_url: str
    rules: LogRules = field(default_factory=LogRules)
    hosts: frozenset[str] = frozenset()


@dataclass
class FileResult:
    path: str
    status: str  # new | resumed | unchanged | waiting | error | busy
    identity: str | None = None
    format: str | None = None
    lines: int = 0
    requests: int = 0
    malformed: int = 0
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class IngestSummary:
    site: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def requests(self) -> int:
        return sum(f.requests for f in self.files)

    @property
    def malformed(self) -> int:
        return sum(f.malformed for f in self.files)

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status in ("error", "busy")]

    def as_json(self) -> dict[str, Any]:
        return {"site": self.site, "lines": self.lines, "requests": self.requests, "malformed": self.malformed,
                "files": [f.as_json() for f in self.files]}

    def format(self) -> str:
        out = [f"{self.site}: {self.lines} line(s) read, {self.requests} request(s) counted, "
               f"{self.malformed} malformed, {len(self.files)} file(s)"]
        for f in self.files:
            what = f" ({f.message})" if f.message else ""
            out.append(f"  {f.status:<9} {f.path}: {f.lines} line(s), {f.requests} request(s), "
                       f"{f.malformed} malformed{what}")
        return "\n".join(out)


def log_key(data_dir: Path, configured: str | None) -> bytes:
    """The visitor-hash key: ``BLGW_LOG_KEY``, else ``data_dir/log.key`` (made once, random)."""
    if configured:
        return configured.encode("utf-8")
    path = data_dir / "log.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _compressed(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _open(path: Path) -> IO[bytes]:
    if _compressed(path):
        return io.BufferedReader(gzip.GzipFile(path, "rb"), buffer_size=1 << 20)
    return path.open("rb", buffering=1 << 20)


def file_identity(path: Path) -> str | None:
    """The SHA-256 of a file's bytes up to the end of its first line that is not a ``#``
    directive (decompressed); None while it has no complete such line."""
    digest = hashlib.sha256()
    read = 0
    with _open(path) as handle:
        try:
            for line in handle:
                if not line.endswith(b"\n"):
                    return None
                digest.update(line)
                read += len(line)
                if not line.startswith(b"#") and line.strip():
                    return digest.hexdigest()
                if read >= IDENTITY_READ:
                    return digest.hexdigest()
        except (EOFError, gzip.BadGzipFile):
            return None
    return None


def watched_files(rules: LogRules) -> list[Path]:
    """The files of a site's watched folder that match its pattern, oldest first."""
    if not rules.folder:
        return []
    folder = Path(rules.folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, rules.pattern)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _insert(session: Session) -> Callable[..., Any]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _bucket(ms: float) -> str:
    for bound in TIME_BUCKETS:
        if ms <= bound:
            return str(bound)
    return "inf"


class _Batch:
    """The counters of the lines read since the last commit."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], list[int]] = {}
        self.visitors: set[tuple[str, str]] = set()
        self.samples: list[tuple[int, str, str]] = []
        self.lines = 0
        self.requests = 0
        self.malformed = 0


class _FileCounter:
    """Counts one file's lines into batches and commits them (see the module doc)."""

    def __init__(self, store: Store, site: LogSite, classifier: Classifier, *, batch_lines: int,
                 flood_per_minute: int):
        self.store = store
        self.site = site
        self.classifier = classifier
        self.batch_lines = batch_lines
        self.flood_per_minute = flood_per_minute

    def count(self, path: Path) -> FileResult:
        result = FileResult(str(path), "new")
        try:
            identity = file_identity(path)
        except OSError as exc:
            result.status, result.message = "error", f"cannot read: {exc.strerror or exc}"
            return result
        if identity is None:
            result.status, result.message = "waiting", "no complete request line yet"
            return result
        result.identity = identity
        with self.store.session() as session, session.begin():
            row = session.get(LogFile, identity)
            if row is None:
                session.add(LogFile(identity=identity, site_code=self.site.code, path=str(path.resolve()),
                                    format=self._format(path), offset=0, lines=0, malformed=0, state={}))
                start, state, fmt, samples = 0, {}, None, 0
            else:
                if row.site_code != self.site.code:
                    result.status = "error"
                    result.message = f"this file was ingested for site {row.site_code}"
                    return result
                start, state, fmt = row.offset, dict(row.state or {}), row.format
                samples = min(row.malformed, SAMPLES_PER_FILE)
                result.status = "resumed"
        fmt = fmt or self._format(path)
        result.format = fmt
        try:
            self._read(path, identity, fmt, start, state, samples, result)
        except _Busy:
            pass  # named in the result
        except OSError as exc:
            result.status, result.message = "error", f"cannot read: {exc.strerror or exc}"
        except (EOFError, gzip.BadGzipFile, ValueError) as exc:
            result.status, result.message = "error", f"stopped: {exc}"
        if result.status == "resumed" and not result.lines:
            result.status = "unchanged"
        return result

    def _format(self, path: Path) -> str:
        if self.site.rules.format != "auto":
            return self.site.rules.format
        first: list[str] = []
        with _open(path) as handle:
            for raw in handle:
                first.append(raw.decode("utf-8", "replace"))
                if len(first) >= 20:
                    break
        return guess_format(first)

    def _read(self, path: Path, identity: str, fmt: str, start: int, state: dict[str, Any], samples: int,
              result: FileResult) -> None:
        read_line = reader(fmt, self.site.rules.timezone, state.get("fields"))
        w3c = read_line if isinstance(read_line, W3CReader) else None
        window: dict[int, dict[str, Any]] = {int(k): v for k, v in (state.get("flood") or {}).items()}
        c = self.classifier
        agent_of, target_of, referrer_of, visitor_of, client_of = c.agent, c.target, c.referrer, c.visitor, c.client
        forwarded_rule = self.site.rules.forwarded
        flood_at = self.flood_per_minute + 1
        offset = start
        batch = _Batch()
        counts = batch.counts

        def add(key: tuple[str, str, str], size: int) -> None:
            found = counts.get(key)
            if found is None:
                counts[key] = [1, size]
            else:
                found[0] += 1
                found[1] += size

        with _open(path) as handle:
            if start:
                if not _compressed(path):
                    if path.stat().st_size < start:
                        result.message = "shorter than the part already counted (an older copy)"
                        return
                    handle.seek(start)
                else:
                    left = start
                    while left:
                        chunk = handle.read(min(left, 1 << 20))
                        if not chunk:
                            break
                        left -= len(chunk)
                    if left:  # shorter than what was counted: an older copy of the file
                        result.message = "shorter than the part already counted (an older copy)"
                        return
            line_no = 0
            try:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break  # being written: the rest waits for the next ingest
                    offset += len(raw)
                    line_no += 1
                    batch.lines += 1
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if not line:
                        pass
                    elif line[0] == "#" and w3c is not None:
                        try:
                            w3c.directive(line)
                        except Malformed as exc:
                            self._malformed(batch, samples, offset, str(exc), line)
                    else:
                        try:
                            hit = read_line(line)
                        except (Malformed, ValueError, IndexError) as exc:
                            self._malformed(batch, samples, offset, str(exc) or "unreadable", line)
                        else:
                            batch.requests += 1
                            day, minute, client, method, target, status, size, time_ms, referrer, agent, xff = hit
                            if forwarded_rule and xff:
                                client = xff.split(",", 1)[0].strip() or client
                            cls, bot, device, os_family, browser = agent_of(agent)
                            add((day, "traffic", "hits"), size)
                            add((day, "traffic", cls), size)
                            add((day, "status", str(status)), size)
                            add((day, "method", method[:16]), size)
                            if time_ms is not None:
                                add((day, "time", _bucket(time_ms)), size)
                            if cls != "crawler":
                                kind, url, signals = target_of(target)
                                for signal in signals:
                                    add((day, "security", signal), size)
                                if status == 404:
                                    add((day, "notfound", f"{url}\t{referrer or '-'}"[:400]), size)
                                if cls == "bot":
                                    add((day, "bot", bot[:100]), size)
                                minute_counts = window.get(minute)
                                if minute_counts is None:
                                    minute_counts = window[minute] = {"day": day, "n": {}}
                                    for old in [m for m in window if m < minute - 2]:
                                        del window[old]
                                who = client_of(client)
                                n = minute_counts["n"][who] = minute_counts["n"].get(who, 0) + 1
                                if n == flood_at:
                                    add((day, "security", f"flood\t{who}"), 0)
                                if cls == "human" and method == "GET" and (200 <= status < 300 or status == 304):
                                    if kind == "page":
                                        add((day, "traffic", "pageviews"), size)
                                        add((day, "page", url), size)
                                        _internal, host, phrase = referrer_of(referrer)
                                        if host is not None:
                                            add((day, "referrer", host[:400]), size)
                                        if phrase is not None:
                                            add((day, "keyphrase", phrase), size)
                                        add((day, "device", device), size)
                                        add((day, "os", os_family[:100]), size)
                                        add((day, "browser", browser[:100]), size)
                                        batch.visitors.add((day, visitor_of(client, agent)))
                                    elif kind == "download":
                                        add((day, "traffic", "downloads"), size)
                                        add((day, "download", url), size)
                    if batch.lines >= self.batch_lines:
                        samples = self._commit(identity, path, start, offset, batch, w3c, window, result, samples)
                        start = offset
                        batch = _Batch()
                        counts = batch.counts
            except (EOFError, gzip.BadGzipFile):
                # a compressed file still being written, or cut: what is complete is counted
                result.message = "compressed stream ends early (still being written?)"
        if batch.lines:
            self._commit(identity, path, start, offset, batch, w3c, window, result, samples)

    def _malformed(self, batch: _Batch, samples: int, offset: int, reason: str, line: str) -> None:
        batch.malformed += 1
        if samples + len(batch.samples) < SAMPLES_PER_FILE:
            hide = self.classifier.visitor
            text = _IPV4.sub(lambda m: f"[{hide(m.group(0), None)[:12]}]", line[:500])
            text = _IPV6.sub(lambda m: f"[{hide(m.group(0), None)[:12]}]", text)
            batch.samples.append((offset, reason[:200], text))

    def _commit(self, identity: str, path: Path, start: int, offset: int, batch: _Batch, w3c: W3CReader | None,
                window: dict[int, dict[str, Any]], result: FileResult, samples: int) -> int:
        state: dict[str, Any] = {"flood": {str(k): v for k, v in window.items()}}
        if w3c is not None:
            state["fields"] = w3c.fields
        with self.store.session() as session, session.begin():
            moved = session.execute(
                update(LogFile).where(LogFile.identity == identity, LogFile.offset == start)
                .values(offset=offset, lines=LogFile.lines + batch.lines, malformed=LogFile.malformed + batch.malformed,
                        state=state, path=str(path.resolve()), updated_at=dt.datetime.now(dt.UTC)))
            if getattr(moved, "rowcount", 1) != 1:
                session.rollback()
                result.status, result.message = "busy", "another ingest counted this file meanwhile"
                raise _Busy
            insert = _insert(session)
            code = self.site.code
            if batch.counts:
                rows = [{"site_code": code, "day": d, "kind": k, "key": key, "hits": v[0], "bytes": v[1]}
                        for (d, k, key), v in batch.counts.items()]
                statement = insert(LogCount.__table__)
                statement = statement.on_conflict_do_update(
                    index_elements=["site_code", "day", "kind", "key"],
                    set_={"hits": LogCount.__table__.c.hits + statement.excluded.hits,
                          "bytes": LogCount.__table__.c.bytes + statement.excluded.bytes})
                for chunk in _chunks(rows, 5000):
                    session.connection().execute(statement, chunk)
            if batch.visitors:
                rows = [{"site_code": code, "day": d, "visitor": v} for d, v in batch.visitors]
                statement = insert(LogVisitor.__table__).on_conflict_do_nothing(index_elements=["site_code", "day", "visitor"])
                for chunk in _chunks(rows, 5000):
                    session.connection().execute(statement, chunk)
            for line_no, reason, text in batch.samples:
                session.add(LogMalformed(identity=identity, site_code=code, line_no=line_no, reason=reason,
                                         sample=text))
        result.lines += batch.lines
        result.requests += batch.requests
        result.malformed += batch.malformed
        return samples + len(batch.samples)


class _Busy(Exception):
    """Another ingest moved the file's offset: this one stops counting it."""


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def ingest_paths(store: Store, site: LogSite, paths: Sequence[Path | str], *, key: bytes,
                 crawler_token: str = "blgw/", batch_lines: int = 50_000, flood_per_minute: int = 300,
                 progress: Callable[[FileResult], None] | None = None) -> IngestSummary:
    """Count the lines of ``paths`` not counted yet into ``site``'s counters (module doc). A file
    that cannot be read is named in the summary (status ``error``) and the others go on."""
    classifier = Classifier(site.base_url, key, crawler_token, set(site.hosts))
    counter = _FileCounter(store, site, classifier, batch_lines=batch_lines, flood_per_minute=flood_per_minute)
    summary = IngestSummary(site.code)
    for path in paths:
        path = Path(path)
        if not path.is_file():
            result = FileResult(str(path), "error", message="no such file")
        else:
            result = counter.count(path)
        summary.files.append(result)
        if progress is not None:
            progress(result)
    return summary


def crawler_token(user_agent: str) -> str:
    """The product token of the gateway's User-Agent (``blgw/``): what marks its own requests."""
    product = user_agent.split(" ", 1)[0]
    return product.split("/", 1)[0] + "/" if "/" in product else product


def known_files(session: Session, site_code: str) -> list[LogFile]:
    return list(session.scalars(select(LogFile).where(LogFile.site_code == site_code).order_by(LogFile.first_seen_at)))
