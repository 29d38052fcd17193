"""Site plugins: what a subsite is (its columns, paging and selectors), found through pluggy.

Plugin authors import ``hookimpl`` from here; everything else is in ``plugins.spec`` (the
declarative format), ``plugins.manager`` (discovery) and ``plugins.cron`` (schedules). The test
helpers for plugin authors are the pytest plugin ``spiders.testing``.
"""

from plugins.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
