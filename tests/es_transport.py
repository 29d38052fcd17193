"""A scripted transport for server-free tests of the Elasticsearch backend: the REAL client
(``elasticsearch.Elasticsearch``, its serializer, retries and timeouts) over a node class that
records every request and answers it from a small model of the cluster's index/alias state,
with hooks that inject timeouts and errors. It models only the requests the backend makes,
and only their effect on indices and aliases; it is not an Elasticsearch server (no search).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node._base import NodeApiResponse  # the node interface's return type

__all__ = ["Cluster", "Request", "ScriptedNode", "client_for"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Cluster:
    """Indices (name → aliases, mappings, settings) and what happened to them."""

    indices: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[str, Any] = field(default_factory=dict)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # index → id → source
    requests: list[Request] = field(default_factory=list)
    auto_created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # (method, path regex) → hook(request, apply) returning a response or raising; ``apply()``
    # performs the request's normal effect and returns its normal response.
    hooks: list[tuple[str, str, Callable[..., Any]]] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)

    # -- helpers for tests --------------------------------------------------------------------

    def alias_indices(self, alias: str) -> list[str]:
        return sorted(n for n, i in self.indices.items() if alias in i["aliases"])

    def calls(self, method: str, pattern: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def hook(self, method: str, pattern: str, fn: Callable[..., Any]) -> None:
        self.hooks.append((method, pattern, fn))

    # -- the model ----------------------------------------------------------------------------

    def handle(self, req: Request) -> tuple[int, Any]:
        self.requests.append(req)
        for method, pattern, fn in self.hooks:
            if method == req.method and re.fullmatch(pattern, req.path):
                return fn(req, lambda: self._apply(req))
        return self._apply(req)

    def _resolve(self, name: str) -> list[str]:
        names = [n for n in self.indices if fnmatch.fnmatchcase(n, name)] if "*" in name else []
        if name in self.indices:
            names = [name]
        return names or self.alias_indices(name)

    def _apply(self, req: Request) -> tuple[int, Any]:
        m, p, b = req.method, req.path, req.body
        parts = [unquote(x) for x in p.strip("/").split("/")] if p != "/" else []
        if m in ("POST", "PUT") and parts and parts[-1] == "_bulk":
            return self._bulk(req)
        if m == "GET" and not parts:
            return 200, {"version": {"number": "8.15.0", "build_flavor": "default"}, "tagline": "You Know, for Search"}
        if m == "GET" and parts == ["_nodes", "plugins"]:
            return 200, {"nodes": {"n1": {"plugins": [{"name": n} for n in self.plugins]}}}
        if m == "GET" and len(parts) == 2 and parts[0] == "_alias":
            found = self.alias_indices(parts[1])
            if not found:
                return 404, {"error": f"alias [{parts[1]}] missing", "status": 404}
            return 200, {n: {"aliases": {parts[1]: {}}} for n in found}
        if m == "HEAD" and len(parts) == 1:
            return (200 if parts[0] in self.indices else 404), None
        if m == "GET" and len(parts) == 2 and parts[1] == "_mapping":
            found = self._resolve(parts[0])
            if not found:
                return 404, {"error": {"type": "index_not_found_exception"}, "status": 404}
            return 200, {n: {"mappings": self.indices[n]["mappings"]} for n in found}
        if m == "PUT" and len(parts) == 2 and parts[0] == "_index_template":
            self.templates[parts[1]] = b
            return 200, {"acknowledged": True}
        if m == "PUT" and len(parts) == 1:
            if parts[0] in self.indices:
                return 400, {"error": {"type": "resource_already_exists_exception"}, "status": 400}
            self.indices[parts[0]] = {"aliases": set((b or {}).get("aliases") or {}),
                                      "mappings": (b or {}).get("mappings") or {},
                                      "settings": (b or {}).get("settings") or {}}
            self.docs[parts[0]] = {}
            return 200, {"acknowledged": True, "index": parts[0]}
        if m == "POST" and parts == ["_aliases"]:
            return self._aliases(b["actions"])
        if m == "DELETE" and len(parts) == 1:
            for name in self._resolve(parts[0]) if "*" not in parts[0] else []:
                self.indices.pop(name, None)
                self.docs.pop(name, None)
                self.deleted.append(name)
            return 200, {"acknowledged": True}
        if len(parts) == 2 and parts[1] in ("_refresh", "_settings"):
            if not self._resolve(parts[0]):
                return 404, {"error": {"type": "index_not_found_exception"}, "status": 404}
            return 200, {"acknowledged": True}
        if m == "GET" and len(parts) == 1:
            return 200, {n: {"settings": {"index": {"uuid": n}}} for n in self._resolve(parts[0])}
        if len(parts) == 2 and parts[1] == "_count":
            return 200, {"count": sum(len(self.docs[n]) for n in self._resolve(parts[0]))}
        if len(parts) == 2 and parts[1] == "_search":
            return 200, {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}
        if m == "POST" and parts[:3] == ["_security", "user", "_has_privileges"]:
            return 200, {"has_all_requested": True, "cluster": {}, "index": {}}
        return 400, {"error": {"type": "unmodelled", "reason": f"{m} {p}"}, "status": 400}

    def _aliases(self, actions: list[dict[str, Any]]) -> tuple[int, Any]:
        # All or nothing, like the real call: check first, then apply.
        for action in actions:
            (kind, spec), = action.items()
            if spec["index"] not in self.indices:
                return 404, {"error": {"type": "index_not_found_exception", "reason": spec["index"]}, "status": 404}
            if kind == "remove" and spec["alias"] not in self.indices[spec["index"]]["aliases"]:
                return 404, {"error": {"type": "aliases_not_found_exception", "reason": spec["alias"]}, "status": 404}
        for action in actions:
            (kind, spec), = action.items()
            if kind == "add":
                self.indices[spec["index"]]["aliases"].add(spec["alias"])
            elif kind == "remove":
                self.indices[spec["index"]]["aliases"].discard(spec["alias"])
            elif kind == "remove_index":
                self.indices.pop(spec["index"])
                self.docs.pop(spec["index"], None)
                self.deleted.append(spec["index"])
        return 200, {"acknowledged": True}

    def _bulk(self, req: Request) -> tuple[int, Any]:
        lines = [json.loads(x) for x in req.body.decode().splitlines() if x.strip()]
        require_alias = req.query.get("require_alias") == "true"
        items, i = [], 0
        while i < len(lines):
            (op, meta), = lines[i].items()
            source = lines[i + 1] if op in ("index", "create", "update") else None
            i += 2 if source is not None else 1
            target = meta["_index"]
            resolved = self.alias_indices(target) or ([target] if target in self.indices else [])
            item: dict[str, Any] = {"_index": target, "_id": meta["_id"]}
            if op == "delete":
                if not resolved:
                    item.update(status=404, error={"type": "index_not_found_exception", "reason": target})
                elif meta["_id"] in self.docs[resolved[0]]:
                    del self.docs[resolved[0]][meta["_id"]]
                    item.update(status=200, result="deleted")
                else:
                    item.update(status=404, result="not_found")
            else:
                if not resolved:
                    if require_alias:
                        item.update(status=404, error={"type": "index_not_found_exception",
                                                       "reason": f"[require_alias] and [{target}] is not an alias"})
                        items.append({op: item})
                        continue
                    self.auto_created.append(target)
                    self.indices[target] = {"aliases": set(), "mappings": {}, "settings": {}}
                    self.docs[target] = {}
                    resolved = [target]
                self.docs[resolved[0]][meta["_id"]] = source
                item.update(status=201, result="created")
            items.append({op: item})
        return 200, {"took": 1, "errors": any("error" in next(iter(x.values())) for x in items), "items": items}


class ScriptedNode(BaseNode):
    """A node whose requests are answered by ``ScriptedNode.cluster`` (set by :func:`client_for`)."""

    cluster: Cluster | None = None
    _CLIENT_META_HTTP_CLIENT = ("sc", "1")

    def perform_request(self, method: str, target: str, body: bytes | None = None, headers: Any = None,
                        request_timeout: Any = None) -> NodeApiResponse:
        assert self.cluster is not None
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        parsed: Any = body
        if body and not parts.path.endswith("_bulk"):
            parsed = json.loads(body)
        status, answer = self.cluster.handle(Request(method, parts.path, query, parsed))
        raw = b"" if answer is None else json.dumps(answer).encode()
        meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.0, node=self.config,
                               headers=HttpHeaders({"content-type": "application/json",
                                                    "x-elastic-product": "Elasticsearch"}))
        return NodeApiResponse(meta, raw)


def client_for(cluster: Cluster, **options: Any) -> Any:
    """A real client whose one node is the scripted cluster."""
    from elasticsearch import Elasticsearch

    ScriptedNode.cluster = cluster
    options.setdefault("retry_on_timeout", True)
    options.setdefault("max_retries", 3)
    return Elasticsearch("http://es.test:9200", node_class=ScriptedNode, **options)
