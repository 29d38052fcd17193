"""``python -m gateway.cli``: the same as ``blgw`` (the scheduler starts its crawls this way)."""

from gateway.cli import main

main()
