"""The API's result cache through HTTP: a write made by another writer of the index file (as
``blgw index sync`` in another process) is seen by the very next request, for searches,
suggestions and the portal page; repeated requests are served from the cache."""

from __future__ import annotations

import warnings

from conftest import make_article

from index.embedded import EmbeddedIndex

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient warns about httpx
    from fastapi.testclient import TestClient


def test_cached_results_follow_every_write(tmp_path) -> None:
    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    path = tmp_path / "index.sqlite"
    one = make_article("http://rsj.bl.gov.cn/show.php?id=1", title="关于社保缴费的通知")
    two = make_article("http://rsj.bl.gov.cn/show.php?id=2", title="关于社保补贴的公告")
    with EmbeddedIndex(path) as writer:
        writer.upsert([one])
    settings = GatewaySettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'store.sqlite'}",
                               index_url=f"sqlite:///{path}", plugin_dirs=[], load_plugins=[])
    app = create_app(settings)
    with TestClient(app) as client, EmbeddedIndex(path) as writer:
        cache = app.state.resources.results

        def search() -> list[str]:
            r = client.get("/api/search", params={"q": "社保"})
            assert r.status_code == 200
            return [h["id"] for h in r.json()["hits"]]

        def suggest() -> list[str]:
            r = client.get("/api/suggest", params={"prefix": "关于社保"})
            assert r.status_code == 200
            return [s["id"] for s in r.json()["suggestions"]]

        assert search() == [one.id] and suggest() == [one.id]
        hits = cache.hits
        assert search() == [one.id] and suggest() == [one.id]
        assert cache.hits == hits + 2  # served from the cache
        writer.upsert([two])
        assert sorted(search()) == sorted([one.id, two.id])
        assert sorted(suggest()) == sorted([one.id, two.id])
        assert "show.php?id=2" in client.get("/", params={"q": "补贴"}).text
        writer.delete([one.id])
        assert search() == [two.id] and suggest() == [two.id]
        writer.rebuild([one])
        assert search() == [one.id] and suggest() == [one.id]
        assert "show.php?id=2" not in client.get("/", params={"q": "补贴"}).text
