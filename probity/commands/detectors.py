"""``probity detectors``: what the registered detectors read and how they are tuned."""

from __future__ import annotations

import click


@click.command("detectors")
@click.option("--json", "as_json", is_flag=True, help="print the catalogue as JSON")
def detectors_cmd(as_json: bool) -> None:
    """List the detectors: id, mode, kinds, category and parameters (type, default, unit)."""
    from detectors.catalogue import describe

    click.echo(describe(json=as_json))
