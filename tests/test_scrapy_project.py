"""The repository is a Scrapy project: `scrapy list` and `scrapy crawl <site>` work at its root."""

import json
import os
import subprocess
import sys
from pathlib import Path

from normalizers.models import Article

REPO = Path(__file__).resolve().parent.parent


def scrapy(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=env or dict(os.environ))


def test_scrapy_list_prints_the_site_codes():
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    assert "rsj" in result.stdout.split()


def test_scrapy_crawl_runs_a_plugin_and_exports_the_exchange_standard(php_site, tmp_path):
    base_url, _, truth = php_site
    out = tmp_path / "items.jsonl"
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data")}
    result = scrapy("crawl", "rsj", "-a", "columns=人事任免", "-s", f"BLGW_ORIGINS=rsj={base_url}",
                    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-O", str(out), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    items = [Article.model_validate(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = {a["title"] for a in truth["articles"] if a["column"] == "人事任免"}
    assert {i.title for i in items} == expected
    assert all(i.column_path == ["政务公开", "人事任免"] for i in items)
