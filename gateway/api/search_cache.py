"""A cache of search results and suggestions that can never serve a stale one.

An entry is the index's answer to one request (the :class:`~index.base.SearchQuery`, or the
suggestion prefix, size and sites) together with the index **generation** it was read at: a
value the embedded index stores in its file and changes in the same transaction as every write,
whoever writes (this process, ``blgw index sync`` in another one, a rebuild). Before answering
from the cache, the current generation is read (one row of ``meta``, ~10 µs); an entry is used
only when its generation is the current one, and a miss stores the answer under the generation
read in the same snapshot as the answer itself. So a result served from the cache is exactly
what the index would answer now.

Only indexes that report their generation together with an answer (``generation()``,
``search_at()``, ``suggest_at()``: :class:`index.embedded.EmbeddedIndex`) are cached; any other
backend (Elasticsearch) is asked every time. At most :data:`MAX_ENTRIES` entries are kept, least
recently used first out. Entries are the index's own result objects, shared between requests,
which only read them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Protocol, cast, runtime_checkable

from index.base import SearchIndex, SearchQuery, SearchResult, Suggestion

__all__ = ["MAX_ENTRIES", "ResultCache"]

MAX_ENTRIES = 2048
"""Entries kept (a result page is a few KiB: some 10 MiB at most)."""


@runtime_checkable
class _Generational(Protocol):
    def generation(self) -> str: ...

    def search_at(self, query: SearchQuery) -> tuple[str, SearchResult]: ...

    def suggest_at(self, prefix: str, size: int = 8,
                   site_codes: list[str] | None = None) -> tuple[str, list[Suggestion]]: ...


class ResultCache:
    """Search results and suggestions keyed by request and checked against the index's
    generation (see the module documentation). ``enabled = False`` asks the index every time."""

    def __init__(self, max_entries: int = MAX_ENTRIES, *, enabled: bool = True) -> None:
        self.max_entries = max_entries
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[Any, ...], tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _get(self, key: tuple[Any, ...], generation: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != generation:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def _put(self, key: tuple[Any, ...], generation: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = (generation, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def search(self, index: SearchIndex, query: SearchQuery) -> SearchResult:
        """``index.search(query)``, from the cache when the index has not changed since."""
        if not self.enabled or not isinstance(index, _Generational):
            return index.search(query)
        key = ("search", query.model_dump_json())
        found = self._get(key, index.generation())
        if found is not None:
            return cast(SearchResult, found)
        generation, result = index.search_at(query)
        self._put(key, generation, result)
        return result

    def suggest(self, index: SearchIndex, prefix: str, size: int,
                site_codes: list[str] | None) -> list[Suggestion]:
        """``index.suggest(...)``, from the cache when the index has not changed since."""
        if not self.enabled or not isinstance(index, _Generational):
            return index.suggest(prefix, size=size, site_codes=site_codes)
        key = ("suggest", prefix, size, tuple(site_codes or ()))
        found = self._get(key, index.generation())
        if found is not None:
            return list(cast(list[Suggestion], found))
        generation, suggestions = index.suggest_at(prefix, size=size, site_codes=site_codes)
        self._put(key, generation, list(suggestions))
        return suggestions
