"""Shared fixtures: article factory, a migrated store (SQLite, or each backend in turn), a
throwaway PostgreSQL server, the PHP fixture subsite, and how tests run the ``blgw`` command.

The test suite's own environment variables (not settings of the gateway, which are all in
``gateway/settings.py``) are :data:`TEST_VARIABLES`."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from normalizers.models import (
    SHANGHAI,
    Article,
    Category,
    DisclosureMetadata,
    document_id,
)

REPO = Path(__file__).resolve().parent.parent

BLGW = [str(Path(sys.executable).with_name("blgw"))]
"""The installed ``blgw`` command (the virtualenv's entry point), as an operator runs it."""

WORKDIR = Path(tempfile.mkdtemp(prefix="blgw-cwd-"))
"""Where tests run ``blgw``: a folder outside the repository, as an installed ``blgw`` runs (the
data dir is always given by BLGW_DATA_DIR; nothing may depend on the working directory)."""
atexit.register(shutil.rmtree, WORKDIR, ignore_errors=True)

TEST_VARIABLES = {
    "BLGW_REQUIRE_FIXTURES": "a missing fixture runtime (php, mono, chromium, PostgreSQL) fails the test instead of "
                             "skipping it (.ci/run sets it)",
    "BLGW_TEST_POSTGRES_URL": "an existing PostgreSQL server for the store tests (default: a throwaway one)",
    "BLGW_TEST_ELASTICSEARCH_URL": "an Elasticsearch cluster for the index conformance suite (default: not run)",
    "BLGW_FIXTURE_CACHE": "a folder where generated fixture data is kept between runs",
    "BLGW_SCREENSHOTS": "a folder where the browser tests keep their screenshots (the site-health pages)",
}
"""The test suite's environment variables, with what each does."""


def site_row(spec) -> dict:
    """The ``upsert_site`` arguments of a site plugin (as the crawl passes them)."""
    return {"code": spec.code, "name": spec.name, "base_url": spec.site.base_url,
            "platform": spec.site.platform, "plugin_source": spec.source}


def make_article(url: str = "http://rsj.bl.gov.cn/show.php?id=1", **overrides) -> Article:
    """A valid article; override any field."""
    fields = dict(  # noqa: C408 - the fields as keyword arguments, like the overrides
        id=document_id(url),
        site_code="rsj",
        column_path=["政务公开", "通知公告"],
        category=Category.GOVERNMENT_INFORMATION,
        title="关于做好2024年度社会保险缴费基数调整工作的通知",
        published_at=dt.datetime(2024, 1, 5, 14, 29, tzinfo=SHANGHAI),
        body_text="各参保单位：\n\n为做好社保缴费基数调整工作，现将有关事项通知如下。",
        body_html="<p>各参保单位：</p><p>为做好社保缴费基数调整工作，现将有关事项通知如下。</p>",
        disclosure=DisclosureMetadata(index_number="002948120/2024-00123", publisher="区人力社保局"),
        attachments=[],
        source_url=url,
        fetched_at=dt.datetime(2024, 2, 1, 8, 0, tzinfo=SHANGHAI),
    )
    fields.update(overrides)
    return Article(**fields)


@pytest.fixture
def article_factory():
    return make_article


@pytest.fixture
def store_url(tmp_path) -> str:
    """The database of the ``store`` fixture: a SQLite file. Modules whose tests must pass on
    every backend override it with ``store_url_any`` (see tests/test_store.py)."""
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url_any(request, tmp_path) -> str:
    """An empty database on each backend in turn: a SQLite file, then a fresh database on the
    PostgreSQL test server (``postgres_database``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def store(store_url):
    from gateway.store.session import Store

    s = Store(store_url)
    s.migrate()
    yield s
    s.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------
# The store also runs on PostgreSQL (production). The tests start one throwaway server per
# session from Debian's packages (apt-get install postgresql), or use BLGW_TEST_POSTGRES_URL.

PG_INSTALL_HINT = "apt-get install postgresql (Debian 12: PostgreSQL 15; ./bootstrap.sh installs it)"


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("BLGW_REQUIRE_FIXTURES"):
        pytest.fail(f"{reason}, but BLGW_REQUIRE_FIXTURES is set (.ci/run sets it): {PG_INSTALL_HINT}")
    pytest.skip(f"PostgreSQL store tests NOT EXECUTED: {reason} ({PG_INSTALL_HINT}, "
                "or set BLGW_TEST_POSTGRES_URL)")


def _postgres_binaries() -> tuple[Path, Path] | None:
    """(initdb, pg_ctl) of the newest PostgreSQL installed the Debian way, or None."""
    import re

    def version(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", bin_dir.parent.name))

    bin_dirs = [d for d in Path("/usr/lib/postgresql").glob("*/bin")
                if (d / "initdb").is_file() and (d / "pg_ctl").is_file()]
    if not bin_dirs:
        return None
    newest = max(bin_dirs, key=version)
    return newest / "initdb", newest / "pg_ctl"


def _psycopg_url(url: str) -> str:
    """``postgresql://…`` (any driver spelling) as the SQLAlchemy URL of the psycopg 3 driver."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"BLGW_TEST_POSTGRES_URL must be a PostgreSQL URL, not {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _admin_engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _wait_for_postgres(url: str, timeout: float = 30.0) -> None:
    import time

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    engine = _admin_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        engine.dispose()


@contextlib.contextmanager
def _throwaway_postgres_server() -> Iterator[tuple[str, int]]:
    """Start a PostgreSQL server from the Debian packages in a temporary folder, listening on
    127.0.0.1 on a free port with trust authentication and without fsync; yield (host, port);
    stop it (immediately) and remove the folder afterwards. As root, the server runs as the
    ``postgres`` system user (created by the Debian package): PostgreSQL refuses to run as root."""
    import subprocess
    import tempfile

    from fixture_sites.servers import free_port

    binaries = _postgres_binaries()
    if binaries is None:
        _postgres_unavailable("no /usr/lib/postgresql/*/bin/{initdb,pg_ctl}")
    initdb, pg_ctl = binaries
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _postgres_unavailable("running as root and there is no 'postgres' system user to run the server as")
        runuser = shutil.which("runuser")
        if runuser is None:
            _postgres_unavailable("running as root and runuser (util-linux) is missing")
        as_user = [runuser, "-u", "postgres", "--"]

    def run(*args: object, check: bool = True) -> subprocess.CompletedProcess:
        command = [*as_user, *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/", check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n"
                               f"{result.stdout}\n{result.stderr}")
        return result

    # Not under pytest's tmp_path: that is private to root, and the server user must reach it.
    home = Path(tempfile.mkdtemp(prefix="blgw-pg-"))
    data, log = home / "data", home / "server.log"
    started = False
    try:
        if owner is not None:
            os.chown(home, owner.pw_uid, owner.pw_gid)
        run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
        for _attempt in range(5):  # the free port may be taken before the server binds it
            port = free_port()
            # fast and disposable; a server time zone other than UTC, as in production here, so
            # that time zone mistakes show
            options = (f"-F -c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                       "-c timezone=Asia/Shanghai")
            result = run(pg_ctl, "start", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, check=False)
            if result.returncode == 0:
                started = True
                break
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            if "could not bind" not in tail and "Address already in use" not in tail:
                raise RuntimeError(f"pg_ctl start failed ({result.returncode}):\n{result.stdout}\n"
                                   f"{result.stderr}\n{tail}")
        else:
            raise RuntimeError("pg_ctl start: no free port after 5 attempts")
        yield "127.0.0.1", port
    finally:
        if started:
            run(pg_ctl, "stop", "-D", data, "-m", "immediate", "-w", check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of an empty PostgreSQL database for this test session:
    ``BLGW_TEST_POSTGRES_URL`` when set, else the database ``blgw_test`` on a throwaway server
    started from Debian's packages (skipped when they are missing, failed when
    BLGW_REQUIRE_FIXTURES is set). Tests that need an empty database of their own use
    ``postgres_database``."""
    from sqlalchemy import text

    given = os.environ.get("BLGW_TEST_POSTGRES_URL")
    if given:
        url = _psycopg_url(given)
        _wait_for_postgres(url, timeout=10)
        yield url
        return
    with _throwaway_postgres_server() as (host, port):
        admin = f"postgresql+psycopg://postgres@{host}:{port}/postgres"
        _wait_for_postgres(admin)
        engine = _admin_engine(admin)
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE blgw_test"))
        engine.dispose()
        yield f"postgresql+psycopg://postgres@{host}:{port}/blgw_test"


@contextlib.contextmanager
def fresh_postgres_database(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``postgres_url`` (unique name), dropped (with any
    connection still open to it) afterwards; yields its SQLAlchemy URL."""
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"blgw_t_{uuid.uuid4().hex[:16]}"
    engine = _admin_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture
def postgres_database(postgres_url) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database for one test (dropped after it)."""
    with fresh_postgres_database(postgres_url) as url:
        yield url


def _php_available() -> bool:
    return shutil.which("php") is not None


@pytest.fixture(scope="session")
def php_site(tmp_path_factory):
    """The PHP fixture subsite (rsj) on a free loopback port: (base_url, data_dir, truth)."""
    import json

    if not _php_available():
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail("php-cli is missing but BLGW_REQUIRE_FIXTURES is set (.ci/run sets it)")
        pytest.skip("php-cli is not installed (apt-get install php-cli php-sqlite3 php-mbstring); "
                    ".ci/run installs it")
    from fixture_sites.generator import generate
    from fixture_sites.servers import php_bureau_server

    data_dir = generate(tmp_path_factory.mktemp("rsj-site"), seed=2024)
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    with php_bureau_server(data_dir) as base_url:
        yield base_url, data_dir, truth


@pytest.fixture()
def trs(tmp_path):
    """A TRS fixture subsite of the test's own (fgj, 40 articles; static pages with ETag and 304
    answers, editable on disk): (base_url, data_dir, truth)."""
    import json

    from fixture_sites.legacy_sites import generate_trs, trs_server

    data_dir = generate_trs(tmp_path / "fgj", seed=11, n_articles=40)
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    with trs_server(data_dir) as base_url:
        yield base_url, data_dir, truth


def pytest_terminal_summary(terminalreporter):
    """Group skips by reason, so a skipped Elasticsearch run is one loud line, not 96."""
    from collections import Counter

    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reasons[report.longrepr[2].removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.section("skipped (grouped)", sep="=", yellow=True, bold=True)
        for reason, n in reasons.most_common():
            terminalreporter.write_line(f"SKIPPED {n:4d} × {reason}", yellow=True, bold=True)
