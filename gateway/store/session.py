"""The one way to reach the store: ``Store(url)`` owns the engine and the session factory."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from gateway.settings import get_settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK_ID = 0x626C6777  # "blgw": the PostgreSQL advisory lock held while migrating


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:  # a DB-API connection
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (API, CLI) never block the crawler
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for a database URL; SQLite files get their folder created and WAL enabled."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Store:
    """The store at one database URL. ``Store(url).migrate()`` brings its schema up to date
    with Alembic; ``with store.session() as s:`` gives a session committed on success."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_store_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision`` (idempotent).

        Processes that start together (several crawls on a new database, or after an upgrade)
        migrate one after the other: each holds a lock for its whole migration (PostgreSQL: an
        advisory lock; SQLite: the write lock, ``BEGIN IMMEDIATE``, which also makes the
        migration one transaction there), so the ones that waited find nothing left to do."""
        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def needs_migration(self) -> bool:
        script = ScriptDirectory.from_config(alembic_config(self.url))
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        return set(current) != set(script.get_heads())

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def dialect_insert(session: Session) -> Callable[[Any], postgresql.Insert | sqlite.Insert] | None:
    """The ``insert`` construct with ``ON CONFLICT`` of the session's database (SQLite and
    PostgreSQL), or None for another database (callers then read before they write)."""
    inserts: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
        "postgresql": postgresql.insert, "sqlite": sqlite.insert}
    return inserts.get(session.get_bind().dialect.name)


def open_store(url: str | None = None) -> Store:
    """The store of the settings (or at ``url``), migrated to the latest schema."""
    store = Store(url or get_settings().database_url)
    if store.needs_migration():
        store.migrate()
    return store
