"""How a ``blgw`` command ends when it cannot go on (gateway/cli/__init__.py, gateway/cli/common.py):
a store or an index that cannot be reached is ONE line on stderr naming it, without its
credentials, and the status 3 (failed, gateway/ops/exits.py); ``-v`` adds the traceback. The real installed ``blgw``
runs from a temporary folder against a closed loopback port (nothing listens there), or an
index file that cannot be opened."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest
from conftest import BLGW, WORKDIR

from gateway.cli.common import outage, shown_url
from gateway.ops.exits import EXIT_FAILED, EXIT_USAGE


@pytest.fixture(scope="module")
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k.startswith("BLGW_TEST")}
    environ.update(BLGW_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run([*BLGW, *args], cwd=WORKDIR, env=environ, capture_output=True, text=True, timeout=120)


def assert_one_line(result: subprocess.CompletedProcess[str], *named: str) -> str:
    assert result.returncode == EXIT_FAILED, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("blgw: ") and "Traceback" not in result.stderr
    for text in named:
        assert text in lines[0], lines[0]
    assert "secret" not in result.stderr + result.stdout
    return lines[0]


# Every command that reads or writes the store (`crawl` before Scrapy starts).
STORE_COMMANDS = [
    ["runs"], ["report"], ["export", "rsj"], ["navigation"], ["links", "report", "rsj"], ["links", "check", "rsj"],
    ["index", "sync"], ["index", "rebuild"], ["restore"], ["restore", "--check"], ["db", "upgrade"],
    ["crawl", "rsj", "-q"], ["crawl", "--due", "-q"], ["scheduler", "--once"],
]


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=" ".join)
def test_an_unreachable_store_is_one_line_naming_it_without_its_password(tmp_path, closed_port, args):
    url = f"postgresql+psycopg://blgw:secret@127.0.0.1:{closed_port}/blgw"
    line = assert_one_line(run(tmp_path, *args, BLGW_DATABASE_URL=url),
                           f"the store postgresql+psycopg://blgw:***@127.0.0.1:{closed_port}/blgw cannot be used",
                           "Connection refused")
    assert "\n" not in line


@pytest.mark.parametrize("args", [["search", "社保"], ["index", "sync"], ["index", "rebuild"]], ids=" ".join)
def test_an_unreachable_elasticsearch_cluster_is_one_line(tmp_path, closed_port, args):
    url = f"http://elastic:secret@127.0.0.1:{closed_port}/blgw-articles"
    assert_one_line(run(tmp_path, *args, BLGW_INDEX_URL=url),
                    "the search index cannot be used", f"cannot reach http://127.0.0.1:{closed_port}")


@pytest.mark.parametrize("args", [["search", "社保"], ["index", "sync"]], ids=" ".join)
def test_an_index_file_that_cannot_be_opened_is_one_line(tmp_path, args):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "index.sqlite"
    assert_one_line(run(tmp_path, *args, BLGW_INDEX_URL=f"sqlite:///{path}"),
                    f"cannot open the search index {path}")


def test_verbose_adds_the_traceback(tmp_path, closed_port):
    url = f"postgresql+psycopg://blgw:secret@127.0.0.1:{closed_port}/blgw"
    result = run(tmp_path, "-v", "runs", BLGW_DATABASE_URL=url)
    assert result.returncode == EXIT_FAILED
    assert "Traceback (most recent call last)" in result.stderr and "OperationalError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("blgw: the store postgresql+psycopg://blgw:***@")
    assert "secret" not in result.stderr


def test_usage_errors_keep_clicks_status_2_apart_from_failures(tmp_path):
    result = run(tmp_path, "crawl", "nosuchsite")
    assert result.returncode == EXIT_USAGE and "no site plugin 'nosuchsite'" in result.stderr


@pytest.mark.parametrize("url, shown", [
    ("postgresql://user:secret@host/db", "postgresql://user:***@host/db"),
    ("postgresql+psycopg://user@host/db?sslmode=require&password=secret",
     "postgresql+psycopg://user@host/db?sslmode=require&password=***"),
    ("http://elastic:secret@es:9200/blgw", "http://elastic:***@es:9200/blgw"),
    ("sqlite:///data/gateway.sqlite", "sqlite:///data/gateway.sqlite"),
])
def test_shown_urls_carry_no_credentials(url, shown):
    assert shown_url(url) == shown


def test_other_errors_are_not_outages():
    assert outage(ValueError("a bug")) is None
    assert outage(RuntimeError("wrapped")) is None
