"""``probity detectors``: what the registered detectors read and how they are tuned."""

from __future__ import annotations

import click


@click.command("detectors")
def detectors_cmd() -> None:
    """List the registered detectors with their kinds and parameters."""
    from detectors.registry import registered

    for det_id, cls in registered().items():
        click.echo(f"{det_id}  [{cls.category.value}]  {cls.description}")
        click.echo(f"    reads: {', '.join(sorted(cls.kinds))}")
        params = ", ".join(f"{k}={v!r}" for k, v in cls.parameters().items())
        if params:
            click.echo(f"    parameters: {params}")


