"""The ``probity`` command. Subcommands live beside the code they drive and are loaded lazily,
so ``probity --help`` stays fast and a broken optional part does not break the rest."""

from __future__ import annotations

import importlib
from typing import Any

import click

from probity import __version__

# name -> "module:attribute" of a click command or group. Add a line to add a subcommand.
_COMMANDS: dict[str, str] = {
    "run": "streams.cli:run",
    "worker": "streams.cli:worker",
    "broker": "streams.cli:broker",
    "topics": "streams.cli:topics",
    "ingest": "streams.cli:ingest",
    "replay": "streams.cli:replay",
    "sink": "streams.cli:sink",
    "bench": "streams.cli:bench",
    "detectors": "streams.cli:detectors_cmd",
    "graph": "streams.graph_cli:graph",
    "simulate": "simulation.cli:simulate",
    "evaluate": "simulation.cli:evaluate",
    "triage": "triage.cli:triage",
    "convert": "adapters.cli:convert",
    "intake": "intake.cli:intake",
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
