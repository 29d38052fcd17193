"""The Beilun site-group gateway: its settings and store at the bottom of the layers, the
operations, the HTTP API and the CLI on top (see docs/architecture.md). This package imports
nothing itself, so that the layers below can use :mod:`gateway.settings` and
:mod:`gateway.store` alone."""
