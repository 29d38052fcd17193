"""Shared fixtures: article factory, a migrated store, and the PHP fixture subsite."""

from __future__ import annotations

import datetime as dt
import os
import shutil
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


def make_article(url: str = "http://rsj.bl.gov.cn/show.php?id=1", **overrides) -> Article:
    """A valid article; override any field."""
    fields = dict(
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
def store(tmp_path):
    from gateway.store.session import Store

    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    s.migrate()
    yield s
    s.dispose()


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
