"""Server-free tests of the Elasticsearch backend's request/response SEQUENCES: the real client
over a scripted transport (tests/es_transport.py) that records requests and injects timeouts
and errors. What they prove: the alias swap never deletes the index behind the alias (a
timeout after the master applied it, a retry, an error), no write ever auto-creates an index, a
delete against a missing index is a failure, reads create nothing, the process follows a
rebuild made by another one."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from elastic_transport import ConnectionTimeout

from index import elasticsearch as es
from index.base import IndexSchemaError, SearchQuery
from normalizers.models import SHANGHAI, Article, Category, document_id
from tests.es_transport import Cluster, Request, client_for

PREFIX = "blgw-t"


def art(n: int, title: str = "关于调整社保缴费基数的通知") -> Article:
    url = f"http://rsj.bl.gov.cn/art/{n}.html"
    body = f"第{n}号：根据有关规定，现就调整社保缴费基数有关事项通知如下。"
    return Article(id=document_id(url), site_code="rsj", column_path=["政务公开", "通知公告"],
                   category=Category.GOVERNMENT_INFORMATION, title=title,
                   published_at=dt.datetime(2024, 3, n % 28 + 1, tzinfo=SHANGHAI), body_text=body,
                   body_html=f"<p>{html.escape(body)}</p>", source_url=url,
                   fetched_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))


def open_on(cluster: Cluster, **kw: Any) -> es.ElasticsearchIndex:
    return es.ElasticsearchIndex(None, prefix=PREFIX, analyzer="cjk", client=client_for(cluster),
                                 where="http://es.test:9200", initial_backoff=0.01, **kw)


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def loaded(cluster: Cluster) -> tuple[es.ElasticsearchIndex, str]:
    """An index with one rebuilt generation behind the alias; returns (index, its name)."""
    idx = open_on(cluster)
    idx.rebuild([art(1), art(2)])
    (live,) = cluster.alias_indices(PREFIX)
    cluster.requests.clear()
    return idx, live


def swap_calls(cluster: Cluster) -> list[Request]:
    return cluster.calls("POST", "/_aliases")


def test_a_rebuild_swaps_in_one_call_and_removes_the_old_index_in_it(loaded, cluster) -> None:
    idx, old = loaded
    assert idx.rebuild([art(3)]) == 1
    (new,) = cluster.alias_indices(PREFIX)
    assert new != old and old not in cluster.indices
    (swap,) = swap_calls(cluster)
    kinds = [next(iter(a)) for a in swap.body["actions"]]
    assert kinds == ["add", "remove", "remove_index"]
    assert swap.body["actions"][2] == {"remove_index": {"index": old}}
    # The load went through the private loading alias, which the swap removed.
    bulks = [r for r in cluster.requests if r.path.endswith("_bulk")]
    assert bulks and all(r.query.get("require_alias") == "true" for r in bulks)
    assert cluster.indices[new]["aliases"] == {PREFIX}
    assert cluster.auto_created == []


def test_a_swap_that_timed_out_after_the_master_applied_it_is_kept(loaded, cluster) -> None:
    idx, old = loaded

    def applied_then_timeout(req: Request, apply) -> Any:
        apply()
        raise ConnectionTimeout("read timed out")

    cluster.hook("POST", "/_aliases", applied_then_timeout)
    assert idx.rebuild([art(3), art(4)]) == 2
    (live,) = cluster.alias_indices(PREFIX)
    assert live != old
    assert live not in cluster.deleted  # the new index behind the alias is never deleted
    assert len(swap_calls(cluster)) == 1  # never retried (a retry's remove would fail)
    assert idx.count() == 2 and cluster.auto_created == []


def test_a_swap_that_timed_out_before_it_applied_keeps_the_old_index(loaded, cluster) -> None:
    idx, old = loaded
    cluster.hook("POST", "/_aliases", lambda req, apply: (_ for _ in ()).throw(ConnectionTimeout("timeout")))
    with pytest.raises(es.ElasticsearchUnavailableError, match="still points to"):
        idx.rebuild([art(3)])
    assert cluster.alias_indices(PREFIX) == [old]
    assert len(swap_calls(cluster)) == 1
    # The half-built index was deleted, the live one never.
    assert old not in cluster.deleted and len(cluster.deleted) == 1


def test_a_swap_the_cluster_refuses_keeps_the_old_index(loaded, cluster) -> None:
    idx, old = loaded
    cluster.hook("POST", "/_aliases", lambda req, apply: (400, {"error": {"type": "illegal_argument_exception"},
                                                                 "status": 400}))
    with pytest.raises(es.ElasticsearchIndexError, match="swapping the alias"):
        idx.rebuild([art(3)])
    assert cluster.alias_indices(PREFIX) == [old] and old not in cluster.deleted
    assert idx.count() == 2


def test_when_the_alias_cannot_be_read_after_a_failed_swap_nothing_is_deleted(loaded, cluster, monkeypatch) -> None:
    idx, old = loaded
    monkeypatch.setattr(es.time, "sleep", lambda s: None)

    def applied_then_timeout(req: Request, apply) -> Any:
        apply()
        cluster.hook("GET", f"/_alias/{PREFIX}", lambda r, a: (503, {"error": {"type": "master_not_discovered"}}))
        raise ConnectionTimeout("read timed out")

    cluster.hook("POST", "/_aliases", applied_then_timeout)
    with pytest.raises(es.ElasticsearchUnavailableError, match="is kept"):
        idx.rebuild([art(3)])
    (live,) = cluster.alias_indices(PREFIX)
    assert live != old and live in cluster.indices and live not in cluster.deleted


def test_a_failing_load_deletes_only_the_new_index(loaded, cluster) -> None:
    idx, old = loaded

    def broken() -> Any:
        yield art(5)
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        idx.rebuild(broken())
    assert cluster.alias_indices(PREFIX) == [old] and old not in cluster.deleted
    assert set(cluster.indices) == {old}


def test_writes_never_auto_create_an_index(loaded, cluster) -> None:
    idx, old = loaded
    # Someone deletes the alias's index by hand: the next write fails, nothing is created.
    cluster.indices.pop(old)
    with pytest.raises(es.ElasticsearchIndexError, match="missing"):
        idx.upsert([art(7)])
    assert cluster.auto_created == []
    writes = [r for r in cluster.requests if r.path.endswith("_bulk")]
    assert writes and all(r.query.get("require_alias") == "true" for r in writes)


def test_a_delete_against_a_missing_index_is_a_failure(loaded, cluster) -> None:
    idx, old = loaded
    assert idx.delete([art(1).id, "unknown-id"]) == 1  # an unknown id is fine
    cluster.indices.pop(old)
    cluster.alias_indices(PREFIX)
    idx._state = es._State("cjk", None, indices=(old,))  # this process still believes in it
    with pytest.raises(es.ElasticsearchIndexError, match="missing"):
        idx.delete([art(2).id])


def test_reads_create_nothing(cluster) -> None:
    idx = open_on(cluster)
    assert idx.search(SearchQuery(q="社保")).total == 0
    assert idx.count() == 0 and idx.get("x") is None and idx.suggest("关于") == []
    assert cluster.indices == {} and cluster.templates == {}
    assert not [r for r in cluster.requests if r.method in ("PUT", "POST")]
    # The first write creates the first index behind the alias.
    assert idx.upsert([art(1)]) == 1
    assert len(cluster.alias_indices(PREFIX)) == 1 and cluster.auto_created == []


def test_the_process_follows_a_rebuild_made_by_another(loaded, cluster) -> None:
    idx, _ = loaded
    idx.state_ttl = 0.0
    other = open_on(cluster)
    other.rebuild([art(9)])
    # The first process's next write goes to the alias, which now points to the new index.
    assert idx.upsert([art(10)]) == 1
    (live,) = cluster.alias_indices(PREFIX)
    assert set(cluster.docs[live]) == {art(9).id, art(10).id}


def test_a_schema_error_is_not_cached_forever(cluster) -> None:
    idx = open_on(cluster, state_ttl=0.0)
    cluster.indices["blgw-t-v1-20240101000000000000"] = {
        "aliases": {PREFIX}, "settings": {},
        "mappings": {"_meta": {"blgw_schema_version": "1", "analyzer": "cjk", "analyzer_version": 1}}}
    with pytest.raises(IndexSchemaError, match="blgw index rebuild"):
        idx.count()
    other = open_on(cluster)
    other.rebuild([art(1)])  # another process rebuilds
    assert idx.count() == 1  # read again: no IndexSchemaError any more
    assert cluster.alias_indices(PREFIX) != ["blgw-t-v1-20240101000000000000"]


def test_old_orphans_are_deleted_by_the_next_rebuild(loaded, cluster) -> None:
    idx, _ = loaded
    orphan = "blgw-t-v2-20200101000000000000"
    young = es.concrete_index_name(PREFIX)  # e.g. being loaded by a rebuild right now
    for name in (orphan, young):
        cluster.indices[name] = {"aliases": {es.loading_alias(name)}, "mappings": {}, "settings": {}}
        cluster.docs[name] = {}
    assert set(idx.orphans()) == {orphan, young}
    idx.rebuild([art(3)])
    assert orphan in cluster.deleted and young in cluster.indices


def test_analyzer_auto_asks_the_nodes_and_fails_loudly_without_monitor(cluster) -> None:
    cluster.plugins = ["analysis-ik"]
    assert open_on(cluster).available_analyzers() == ("cjk", "ik")
    auto = es.ElasticsearchIndex(None, prefix=PREFIX, analyzer="auto", client=client_for(cluster))
    cluster.hook("GET", "/_nodes/plugins", lambda r, a: (403, {"error": {"type": "security_exception"}}))
    with pytest.raises(es.ElasticsearchIndexError, match="monitor"):
        auto.rebuild([art(1)])


def test_relevance_pages_carry_one_preference_per_query(loaded, cluster) -> None:
    idx, _ = loaded
    idx.search(SearchQuery(q="社保", page=1))
    idx.search(SearchQuery(q="社保", page=2))
    idx.search(SearchQuery(q="医保", page=1))
    prefs = [r.query.get("preference") for r in cluster.calls("POST", f"/{PREFIX}/_search")]
    assert prefs[0] == prefs[1] != prefs[2] and all(prefs)


def test_no_refresh_when_nothing_was_written(loaded, cluster) -> None:
    idx, _ = loaded
    idx.upsert([])
    idx.delete(["unknown"])
    assert not cluster.calls("POST", r".*/_refresh")
    idx.upsert([art(11)])
    assert len(cluster.calls("POST", r".*/_refresh")) == 1


def test_check_names_missing_privileges_in_one_line(loaded, cluster) -> None:
    idx, _ = loaded
    cluster.hook("POST", "/_security/user/_has_privileges", lambda r, a: (200, {
        "has_all_requested": False, "cluster": {"manage_index_templates": False, "monitor": True},
        "index": {PREFIX: {"read": True, "view_index_metadata": True, "write": False},
                  f"{PREFIX}-*": {"read": True, "view_index_metadata": True}}}))
    report = idx.check()
    assert len(report.problems) == 1
    (line,) = report.problems
    assert "write" in line and "manage_index_templates" in line and "\n" not in line
    reader = idx.check(read_only=True)
    assert reader.problems == [] and any("read-only" in line for line in reader.lines)


def test_blgw_index_check_with_a_read_only_key_is_one_line_per_problem(loaded, cluster, monkeypatch, tmp_path) -> None:
    """``blgw index check`` end to end (settings, factory, CLI) on the scripted cluster: a key
    with only read privileges passes ``--read-only`` and fails the gateway's check naming what
    is missing, on one line."""
    from click.testing import CliRunner
    from elasticsearch import Elasticsearch

    from gateway.cli import main
    from gateway.settings import get_settings
    from tests.es_transport import ScriptedNode

    ScriptedNode.cluster = cluster
    monkeypatch.setattr(es, "Elasticsearch", lambda **kw: Elasticsearch(**kw, node_class=ScriptedNode))
    read_only = {"read": True, "view_index_metadata": True, "write": False, "create_index": False,
                 "delete_index": False, "manage": False}
    cluster.hook("POST", "/_security/user/_has_privileges", lambda r, a: (200, {
        "has_all_requested": False, "cluster": {"manage_index_templates": False, "monitor": False},
        "index": {PREFIX: read_only, f"{PREFIX}-*": read_only}}))
    monkeypatch.setenv("BLGW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLGW_INDEX_URL", f"http://127.0.0.1:9200/{PREFIX}")
    monkeypatch.setenv("BLGW_ES_API_KEY", "cmVhZGVyOmtleQ==")
    monkeypatch.setenv("BLGW_ES_ANALYZER", "cjk")
    get_settings.cache_clear()
    try:
        reader = CliRunner().invoke(main, ["index", "check", "--read-only"], catch_exceptions=False)
        gateway = CliRunner().invoke(main, ["index", "check"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert reader.exit_code == 0, reader.output
    assert "Elasticsearch 8.15.0" in reader.output and "2 documents" in reader.output
    assert "index check OK" in reader.output
    assert gateway.exit_code == 1, gateway.output
    (problem,) = [line for line in gateway.output.splitlines() if line.startswith("problem:")]
    assert "write" in problem and "manage_index_templates" in problem and "create_index" in problem
    # the check wrote nothing
    assert not [r for r in cluster.requests if r.method in ("PUT", "DELETE")]
    assert not [r for r in cluster.requests if r.method == "POST" and r.path.endswith(("_aliases", "_bulk", "_refresh"))]
