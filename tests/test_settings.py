"""The settings registry (gateway/settings.py): every BLGW_* setting is registered and
documented, and has one value whether it comes from the default, the environment or a Scrapy
``-s``; each crawl setting given in the environment reaches the component that uses it."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TEST_VARIABLES
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from gateway.settings import ENV_PREFIX, GatewaySettings, SettingsError, from_scrapy, get_settings, setting_name

PRODUCT = ["gateway", "spiders", "plugins", "normalizers", "index"]
FIELDS = list(GatewaySettings.model_fields)
NAME = re.compile(r"\bBLGW_[A-Z0-9_]+\b")

# a valid value other than the default, as the environment would spell it, and its typed value
OTHER: dict[str, tuple[str, Any]] = {
    "data_dir": ("/srv/blgw-data", Path("/srv/blgw-data")),
    "database_url": ("sqlite:////srv/store.sqlite", "sqlite:////srv/store.sqlite"),
    "index_url": ("sqlite:////srv/index.sqlite", "sqlite:////srv/index.sqlite"),
    "es_api_key": ("k3y", "k3y"),
    "es_ca_certs": ("/srv/es/http_ca.crt", Path("/srv/es/http_ca.crt")),
    "es_ssl_fingerprint": ("AB:CD:" * 15 + "AB:CD", "AB:CD:" * 15 + "AB:CD"),
    "es_verify_certs": ("false", False),
    "es_cloud_id": ("blgw:ZXhhbXBsZS5lcy5pbzo0NDMkYWJjJGRlZg==", "blgw:ZXhhbXBsZS5lcy5pbzo0NDMkYWJjJGRlZg=="),
    "es_analyzer": ("smartcn", "smartcn"),
    "outbox_max_attempts": ("2", 2),
    "host_id": ("gw2", "gw2"),
    "retry_runs": ("5", 5),
    "lock_holder": ("gw2:1:claim-ab", "gw2:1:claim-ab"),
    "plugin_dirs": ("/srv/a:/srv/b", [Path("/srv/a"), Path("/srv/b")]),
    "load_plugins": ("one,two", ["one", "two"]),
    "origins": ("rsj=http://127.0.0.1:9999", {"rsj": "http://127.0.0.1:9999"}),
    "user_agent": ("test-agent/1", "test-agent/1"),
    "max_page_bytes": ("12345", 12345),
    "retry_backoff_base": ("0.25", 0.25),
    "retry_backoff_max": ("7", 7.0),
    "chromium": ("/opt/chrome/chrome", "/opt/chrome/chrome"),
    "browser_max_pages": ("1", 1),
    "browser_recycle_pages": ("7", 7),
    "browser_wait_ms": ("900", 900),
    "selector_budget_seconds": ("0.5", 0.5),
    "normalize_workers": ("2", 2),
    "store_enabled": ("false", False),
    "refetch_days": ("0", 0.0),
    "reverify_max_share": ("0.2", 0.2),
    "incremental_stop": ("3", 3),
    "full_every_days": ("1.5", 1.5),
    "purge_after_runs": ("5", 5),
    "adaptive_revisit": ("true", True),
    "revisit_min_hours": ("1", 1.0),
    "revisit_max_hours": ("48", 48.0),
    "lock_stale_seconds": ("60", 60.0),
    "lock_heartbeat_seconds": ("5", 5.0),
    "progress_enabled": ("true", True),
    "progress_interval": ("0.5", 0.5),
    "probes_per_day": ("48", 48),
    "probe_timeout": ("10", 10.0),
    "probe_pages": ("3", 3),
    "probe_control_url": ("http://www.bl.gov.cn/", "http://www.bl.gov.cn/"),
    "log_key": ("s3cret", "s3cret"),
    "log_batch_lines": ("1000", 1000),
    "log_flood_per_minute": ("60", 60),
    "log_ingest_minutes": ("5", 5),
    "outbound_words": ("/etc/blgw/outbound_words.toml", "/etc/blgw/outbound_words.toml"),
    "attachments_enabled": ("false", False),
    "blob_dir": ("/srv/blobs", Path("/srv/blobs")),
    "attachment_max_bytes": ("1000", 1000),
    "attachment_readers": ("2", 2),
    "attachment_cpu_seconds": ("3", 3),
    "attachment_memory_mb": ("256", 256),
}


SECRETS = {"es_api_key", "log_key"}


def typed(config: GatewaySettings, field: str) -> Any:
    value = getattr(config, field)
    return value.get_secret_value() if field in SECRETS and value is not None else value


@pytest.fixture
def clean_env(monkeypatch):
    """No BLGW_* variable of the outer environment; the process's settings read afresh."""
    for name in list(__import__("os").environ):
        if name.startswith(ENV_PREFIX) and name not in TEST_VARIABLES:
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


# --- the registry is complete and documented -------------------------------------------------


def test_every_setting_has_a_type_a_default_and_a_line_of_documentation():
    rows = GatewaySettings.documentation()
    assert [r["field"] for r in rows] == FIELDS
    for row in rows:
        assert row["name"] == setting_name(row["field"]) and row["name"].startswith("BLGW_")
        assert row["description"] and "\n" not in row["description"], row["name"]
        assert row["group"] and row["type"], row["name"]
    assert set(OTHER) == set(FIELDS), "every setting needs a test value in OTHER"


def _names_in(paths: list[Path]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in paths:
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def test_every_BLGW_name_the_code_uses_is_a_registered_setting():
    registered = {setting_name(f) for f in FIELDS}
    code = [p for package in PRODUCT for p in (REPO / package).rglob("*.py")]
    used = _names_in(code)
    unknown = {n: sorted(where) for n, where in used.items() if n not in registered | set(TEST_VARIABLES)}
    assert not unknown, f"BLGW_* names the code uses that gateway/settings.py does not register: {unknown}"


def test_every_BLGW_name_the_docs_mention_is_a_setting_or_a_test_variable():
    known = {setting_name(f) for f in FIELDS} | set(TEST_VARIABLES)
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "bootstrap.sh", REPO / ".ci" / "run"]
    unknown = {n: sorted(where) for n, where in _names_in(docs).items() if n not in known}
    assert not unknown, f"the docs mention BLGW_* names that are neither settings nor test variables: {unknown}"


def test_docs_settings_md_is_generated_from_the_registry():
    from gateway.cli.settings import markdown

    committed = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == markdown(), "docs/settings.md is out of date: blgw settings --markdown > docs/settings.md"
    for field in FIELDS:
        assert f"`{setting_name(field)}`" in committed


def test_a_bad_value_names_the_setting_whatever_its_source(clean_env):
    clean_env.setenv("BLGW_REFETCH_DAYS", "a week")
    with pytest.raises(SettingsError, match="BLGW_REFETCH_DAYS"):
        get_settings()
    clean_env.delenv("BLGW_REFETCH_DAYS")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="BLGW_INCREMENTAL_STOP"):
        from_scrapy({"BLGW_INCREMENTAL_STOP": "-1"})
    with pytest.raises(SettingsError, match="BLGW_REVISIT_MIN_HOURS"):
        from_scrapy({"BLGW_REVISIT_MIN_HOURS": "400"})


# --- one value, whatever its source ---------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_the_default_the_environment_and_scrapy_set_give_one_value(field, clean_env):
    from spiders.runner import crawl_settings

    default = typed(GatewaySettings(), field)
    text, value = OTHER[field]
    assert value != default
    clean_env.setenv(setting_name(field), text)
    get_settings.cache_clear()
    assert typed(get_settings(), field) == value  # the environment, read by the process
    if field in SECRETS:  # a secret: never a Scrapy setting (crawls do not use it)
        assert setting_name(field) not in get_settings().as_scrapy()
        return
    # blgw crawl: the process's settings carried into the crawl's Scrapy settings
    assert typed(from_scrapy(crawl_settings()), field) == value
    # scrapy crawl: the project's settings module, read with this environment
    module = importlib.reload(importlib.import_module("spiders.settings"))
    project = Settings()
    project.setmodule(module, priority="project")
    assert typed(from_scrapy(project), field) == value
    # -s NAME=VALUE on top of the environment wins
    clean_env.delenv(setting_name(field))
    get_settings.cache_clear()
    assert typed(from_scrapy(crawl_settings({setting_name(field): text})), field) == value
    assert typed(from_scrapy(crawl_settings()), field) == default
    importlib.reload(module)


def test_a_crawls_data_dir_moves_its_store_unless_the_store_is_named(clean_env):
    from spiders.runner import crawl_settings

    moved = from_scrapy(crawl_settings({"BLGW_DATA_DIR": "/srv/other"}))
    assert moved.database_url == "sqlite:////srv/other/gateway.sqlite"
    clean_env.setenv("BLGW_DATABASE_URL", "postgresql+psycopg://blgw@db/blgw")
    get_settings.cache_clear()
    named = from_scrapy(crawl_settings({"BLGW_DATA_DIR": "/srv/other"}))
    assert named.database_url == "postgresql+psycopg://blgw@db/blgw"


# --- each crawl setting in the environment reaches its component -----------------------------


def _crawler(code: str = "rsj", **spider_args: Any) -> Crawler:
    """A crawler of ``code`` with the settings ``blgw crawl`` builds, and its spider."""
    from plugins.manager import registry_from_settings
    from spiders.loader import PluginSpiderLoader
    from spiders.runner import crawl_settings

    loader = PluginSpiderLoader(registry_from_settings(get_settings()))
    crawler = Crawler(loader.load(code), crawl_settings())
    crawler.spider = crawler._create_spider(**spider_args)
    return crawler


def _state(crawler: Crawler):
    from spiders.crawlstate import CrawlState

    return CrawlState.from_crawler(crawler)


def _built(cls, crawler: Crawler):
    return cls.from_crawler(crawler)


# setting → what in the crawl shows it (given the crawler), for every setting a crawl uses
CRAWL_EFFECTS = {
    "refetch_days": lambda c: _state(c).refetch_after.total_seconds() / 86400,
    "reverify_max_share": lambda c: _state(c).reverify_max_share,
    "incremental_stop": lambda c: _state(c).incremental_stop,
    "full_every_days": lambda c: _state(c).full_every.total_seconds() / 86400,
    "purge_after_runs": lambda c: _state(c).purge_after,
    "adaptive_revisit": lambda c: _state(c).adaptive,
    "revisit_min_hours": lambda c: _state(c).revisit_min.total_seconds() / 3600,
    "revisit_max_hours": lambda c: _state(c).revisit_max.total_seconds() / 3600,
    "lock_stale_seconds": lambda c: _state(c).lock_stale.total_seconds(),
    "lock_heartbeat_seconds": lambda c: _state(c).heartbeat_every,
    "max_page_bytes": lambda c: _built(__import__("spiders.downloadermiddlewares.pagesize",
                                                  fromlist=["x"]).PageSizeLimitMiddleware, c).limit,
    "retry_backoff_base": lambda c: _built(__import__("spiders.downloadermiddlewares.retry",
                                                      fromlist=["x"]).BackoffRetryMiddleware, c).base,
    "retry_backoff_max": lambda c: _built(__import__("spiders.downloadermiddlewares.retry",
                                                     fromlist=["x"]).BackoffRetryMiddleware, c).cap,
    "user_agent": lambda c: c.settings["USER_AGENT"],
    "selector_budget_seconds": lambda c: c.spider.budget().seconds,
    "normalize_workers": lambda c: getattr(__import__("spiders.pipelines.store", fromlist=["x"]).StorePipeline(
        c, _state(c)).pool, "workers", 0),
    "origins": lambda c: {"rsj": c.spider.fetch_origin},
    "progress_interval": lambda c: _built(__import__("spiders.extensions.progress", fromlist=["x"]).Progress,
                                          c).interval,
}
BROWSER_EFFECTS = {  # the browser site (wlj renders its pages in Chromium)
    "chromium": lambda c: c.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")["executable_path"],
    "browser_max_pages": lambda c: c.settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"),
    "browser_recycle_pages": lambda c: _built(__import__("spiders.downloadermiddlewares.browser",
                                                         fromlist=["x"]).BrowserRecycleMiddleware, c).recycle_after,
    "browser_wait_ms": lambda c: _wait_ms(c),
}


def _wait_ms(crawler: Crawler) -> int:
    spider = crawler.spider
    request = spider.list_request(spider.fetch_url("/"), spider.site.columns[0], 1)
    return request.meta["playwright_page_methods"][0].kwargs["timeout"]


@pytest.mark.parametrize("field", sorted({**CRAWL_EFFECTS, **BROWSER_EFFECTS}))
def test_each_crawl_setting_in_the_environment_reaches_its_component(field, clean_env, tmp_path):
    clean_env.setenv("BLGW_DATA_DIR", str(tmp_path))
    if field == "progress_interval":
        clean_env.setenv("BLGW_PROGRESS_ENABLED", "1")
    get_settings.cache_clear()
    effect = CRAWL_EFFECTS.get(field) or BROWSER_EFFECTS[field]
    code = "wlj" if field in BROWSER_EFFECTS else "rsj"
    default = effect(_crawler(code))
    text, value = OTHER[field]
    clean_env.setenv(setting_name(field), text)
    get_settings.cache_clear()
    if field == "origins":
        value = {"rsj": "http://127.0.0.1:9999"}
    got = effect(_crawler(code))
    assert got == value and got != default


def test_the_store_setting_switches_the_crawl_state_off(clean_env, tmp_path):
    from scrapy.exceptions import NotConfigured

    clean_env.setenv("BLGW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert _state(_crawler()).store.url == f"sqlite:///{tmp_path.as_posix()}/gateway.sqlite"
    clean_env.setenv("BLGW_STORE_ENABLED", "false")
    get_settings.cache_clear()
    with pytest.raises(NotConfigured):
        _state(_crawler())


def test_the_progress_setting_switches_the_progress_lines(clean_env, tmp_path):
    from scrapy.exceptions import NotConfigured

    from spiders.extensions.progress import Progress

    clean_env.setenv("BLGW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    with pytest.raises(NotConfigured):
        Progress.from_crawler(_crawler())
    clean_env.setenv("BLGW_PROGRESS_ENABLED", "1")
    get_settings.cache_clear()
    assert isinstance(Progress.from_crawler(_crawler()), Progress)


def test_plugin_settings_reach_the_spider_loader_of_scrapy_crawl(clean_env, tmp_path):
    from spiders.loader import PluginSpiderLoader

    folder = tmp_path / "plugins.d"
    folder.mkdir()
    (folder / "zz.toml").write_text((REPO / "plugins" / "sites" / "rsj.toml").read_text(encoding="utf-8")
                                    .replace('code = "rsj"', 'code = "zz"'), encoding="utf-8")
    assert "zz" not in PluginSpiderLoader.from_settings(Settings({"BLGW_PLUGIN_DIRS": ""})).list()
    assert "zz" in PluginSpiderLoader.from_settings(Settings({"BLGW_PLUGIN_DIRS": str(folder)})).list()
    clean_env.setenv("BLGW_PLUGIN_DIRS", str(folder))
    get_settings.cache_clear()
    module = importlib.reload(importlib.import_module("spiders.settings"))
    try:
        project = Settings()
        project.setmodule(module)
        assert "zz" in PluginSpiderLoader.from_settings(project).list()
    finally:
        clean_env.delenv("BLGW_PLUGIN_DIRS")
        get_settings.cache_clear()
        importlib.reload(module)


def test_settings_command_lists_every_setting_and_its_source(clean_env):
    from click.testing import CliRunner

    from gateway.cli import main

    clean_env.setenv("BLGW_REFETCH_DAYS", "3")
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["settings", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in __import__("json").loads(result.output)["settings"]}
    assert set(rows) == {setting_name(f) for f in FIELDS}
    assert rows["BLGW_REFETCH_DAYS"]["value"] == 3.0 and rows["BLGW_REFETCH_DAYS"]["source"] == "environment"
    assert rows["BLGW_INCREMENTAL_STOP"]["source"] == "default"
    clean_env.setenv("BLGW_DATABASE_URL", "postgresql+psycopg://blgw:s3cret@db/blgw")
    clean_env.setenv("BLGW_ES_API_KEY", "s3cret-key")
    get_settings.cache_clear()
    shown = CliRunner().invoke(main, ["settings"]).output
    assert "s3cret" not in shown and "postgresql+psycopg://blgw:***@db/blgw" in shown


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
