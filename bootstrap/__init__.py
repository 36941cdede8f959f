"""The composition root: the one place that knows every concrete dependency.

It builds the typed services (settings, Redis, scripts, sessionmaker, clock, payments)
once per process and knows every part's schema; the gateway, the worker, the CLI, the
demo and the tests all get them from here."""
