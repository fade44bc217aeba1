"""The ``probity`` command. Subcommands live in :mod:`probity.commands`, one module per group,
and are loaded lazily, so ``probity --help`` stays fast and a broken optional part does not
break the rest."""

from __future__ import annotations

import importlib
from typing import Any

import click

from probity import __version__

# name -> "module:attribute" of a click command or group. Add a line to add a subcommand.
_COMMANDS: dict[str, str] = {
    "run": "probity.commands.streams:run",
    "worker": "probity.commands.streams:worker",
    "broker": "probity.commands.streams:broker",
    "topics": "probity.commands.streams:topics",
    "ingest": "probity.commands.streams:ingest",
    "replay": "probity.commands.streams:replay",
    "sink": "probity.commands.streams:sink",
    "coverage": "probity.commands.streams:coverage",
    "bench": "probity.commands.bench:bench",
    "detectors": "probity.commands.detectors:detectors_cmd",
    "graph": "probity.commands.graph:graph",
    "simulate": "probity.commands.simulation:simulate",
    "evaluate": "probity.commands.simulation:evaluate",
    "triage": "probity.commands.triage:triage",
    "convert": "probity.commands.adapters:convert",
    "intake": "probity.commands.intake:intake",
    "tune": "probity.commands.tune:tune",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: Any = getattr(importlib.import_module(module), attr)
        return command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="probity")
def main() -> None:
    """Probity: integrity-risk detection for police Anti-Corruption Units."""
