"""A time budget for the parts of a plugin that can run away: regular expressions.

A plugin is untrusted input (docs/security.md), and a regular expression with nested quantifiers
(``(a+)+$``) can backtrack for minutes on one page; Python's ``re`` cannot be interrupted, and
a crawl process runs every site's spider on one reactor. So the selectors of a plugin that use
regular expressions (EXSLT ``re:`` functions in XPath, ``re:`` rules such as ``last_page``) are
evaluated in a worker process (:class:`Budget`), waited for from a thread (the reactor goes
on), and killed when they take longer than ``BLGW_SELECTOR_BUDGET_SECONDS`` on one page: the
page is an ``extraction`` error, the crawl and the other sites go on. Plugins without regular
expressions run in the crawl process as before.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

__all__ = ["Budget", "BudgetExceeded", "direct", "uses_regex"]

T = TypeVar("T")


class BudgetExceeded(Exception):
    """The evaluation took longer than its budget and was stopped."""


def direct(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` here (a plugin without regular expressions)."""
    return fn(*args)


def uses_regex(*selectors: str | None) -> bool:
    """Whether any of these plugin selectors can run a regular expression."""
    return any(s and ("re:" in s) for s in selectors)


def _serve(conn: Connection) -> None:
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send((True, fn(*args)))
        except Exception as exc:  # noqa: BLE001 - any failure of the evaluation goes back to the caller
            try:
                conn.send((False, exc))
            except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class Budget:
    """One worker process that runs pure functions, each within ``seconds`` (the worker is
    killed and replaced when one takes longer). Thread-safe: calls are served one at a time."""

    WARM_UP_SECONDS = 120.0  # a new worker's imports are not the page's time

    def __init__(self, seconds: float, warm: tuple[str, ...] = ("spiders.listing", "normalizers.items")):
        self.seconds = seconds
        self.warm = warm
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        context = multiprocessing.get_context("spawn")  # no fork of a process running a reactor and threads
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name="blgw-selector-budget", daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        for module in self.warm:
            parent.send((importlib.import_module, (module,)))
            if not parent.poll(self.WARM_UP_SECONDS):
                self._kill()
                raise BudgetExceeded(f"the selector worker did not start ({module} not imported)")
            parent.recv()
        return parent

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the worker; :class:`BudgetExceeded` when it takes longer than the
        budget (its own exceptions are raised here)."""
        with self._lock:
            conn = self._conn if self._process is not None and self._process.is_alive() else self._start()
            assert conn is not None
            conn.send((fn, args))
            if not conn.poll(self.seconds):
                self._kill()
                raise BudgetExceeded(f"the plugin's regular expressions ran longer than {self.seconds:g} s on "
                                     "this page and were stopped (BLGW_SELECTOR_BUDGET_SECONDS)")
            ok, value = conn.recv()
        if not ok:
            raise value
        result: T = value
        return result

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        with self._lock:
            self._kill()
