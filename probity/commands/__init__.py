"""The ``probity`` command's subcommands, one module per group: :mod:`.streams` (the Kafka
runtime: worker, broker, topics, ingest, replay, sink, run), :mod:`.graph`,
:mod:`.detectors`, :mod:`.simulation`, :mod:`.triage` and :mod:`.bench`.

Each module is imported only when its command runs (:mod:`probity.cli`'s lazy table), and
imports what it drives inside the command, so ``probity --help`` stays fast and needs no
optional library.
"""

from __future__ import annotations

import importlib.util

import click


def require_extra(extra: str, *modules: str) -> None:
    """Stop the command with an instruction if a library of an optional extra is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"this command needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install 'probity[{extra}]'"
        )
