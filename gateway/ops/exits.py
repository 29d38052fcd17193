"""The exit statuses of every ``blgw`` command, defined once (README, "Exit statuses").

* 0 (:data:`EXIT_OK`): finished, no errors.
* 1 (:data:`EXIT_ERRORS`): finished with errors: the work was done and the output names what it
  could not do (pages the next run fetches again, items skipped, rows quarantined).
* 2 (:data:`EXIT_USAGE`): a usage error (click's own: an unknown option or site, a bad setting).
* 3 (:data:`EXIT_FAILED`): failed: the work could not be done (a run failed, a site was not
  crawled, the store or the index unreachable).
"""

from __future__ import annotations

__all__ = ["EXIT_ERRORS", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "exit_status"]

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


def exit_status(outcome: str) -> int:
    """The exit status of a run's outcome (:data:`gateway.ops.reports.OUTCOMES`)."""
    return {"finished": EXIT_OK, "finished with errors": EXIT_ERRORS}.get(outcome, EXIT_FAILED)
