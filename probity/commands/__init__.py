"""The ``probity`` command's subcommands, one module per group: :mod:`.streams` (the Kafka
runtime: worker, broker, topics, ingest, replay, sink, run), :mod:`.graph`,
:mod:`.detectors`, :mod:`.simulation`, :mod:`.triage` and :mod:`.bench`.

Each module is imported only when its command runs (:mod:`probity.cli`'s lazy table), and
imports what it drives inside the command, so ``probity --help`` stays fast and needs no
optional library.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from probity.settings import Settings


def setup_logging(settings: Settings) -> None:
    """Logging as the settings say (JSON or text), for a command that runs the runtime."""
    from probity.logging import configure_logging

    configure_logging(settings)


def say(msg: str) -> None:
    """A progress or status line for the operator, on stderr (stdout is the command's output)."""
    click.echo(msg, err=True)


def require_extra(extra: str, *modules: str) -> None:
    """Stop the command with an instruction if a library of an optional extra is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"this command needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install 'probity[{extra}]'"
        )
