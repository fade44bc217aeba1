"""``probity convert``: files in a source format to contract events (JSONL on stdout).

Every record that does not become an event goes to ``--rejects`` (JSONL: file, line,
reason naming the field, original text); a summary goes to stderr. The exit status is
non-zero only for usage errors (unknown format, unreadable file or mapping): rejects are
an expected part of real feeds, counted and kept, not a failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from adapters.base import Adapter, AdapterConfig, Reject
from adapters.convert import ConvertSummary, convert_files
from adapters.exceptions import ConfigError
from adapters.identity import IdentityResolver
from adapters.registry import create, registered

F = TypeVar("F", bound=Callable[..., Any])


def adapter_options(required: bool = True) -> Callable[[F], F]:
    """``--format``, ``--source``, ``--mapping``, ``--tz``: shared by ``convert`` (format
    required, the formats listed) and ``ingest`` (optional: without it, contract JSONL)."""
    where = "listed below" if required else "see probity convert --help"

    def decorate(func: F) -> F:
        options = [
            click.option(
                "--format", "format_name", required=required, metavar="FORMAT",
                help=f"input format ({where})",
            ),
            click.option("--source", help="contract source name (default: the format's)"),
            click.option(
                "--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="mapping file (TOML) for formats that need one (csv)",
            ),
            click.option(
                "--tz", default="UTC", show_default=True,
                help="IANA zone of times written without an offset (e.g. Europe/London)",
            ),
            click.option(
                "--staff", multiple=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="contract JSONL whose staff.upsert events list the staff's accounts: "
                "actors are resolved to staff ids (repeatable; see docs/contract.md)",
            ),
        ]  # fmt: skip
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def build_adapter(
    format_name: str,
    source: str | None,
    mapping: Path | None,
    tz: str,
    staff: tuple[Path, ...] = (),
) -> Adapter:
    """The adapter the options describe; :class:`click.UsageError` for a usage mistake."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.UsageError(f"--tz: unknown time zone {tz!r}") from exc
    try:
        identity = IdentityResolver.from_files(staff) if staff else None
        config = AdapterConfig(source=source, tz=zone, mapping=mapping, identity=identity)
        return create(format_name, config)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


class _ConvertCommand(click.Command):
    """Lists the registered formats after the options (found when help is asked for, so
    importing this module does not import every format)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        with formatter.section("Formats"):
            formatter.write_dl([(name, cls.description) for name, cls in registered().items()])


@click.command(cls=_ConvertCommand)
@adapter_options()
@click.option(
    "--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path),
    help="write records that did not convert here (JSONL); without it they are only counted",
)  # fmt: skip
@click.option(
    "--unresolved", "unresolved_path", type=click.Path(dir_okay=False, path_type=Path),
    help="with --staff: write the accounts that resolved to no one here (JSONL: source, "
    "account, count, first, last)",
)  # fmt: skip
@click.argument("files", nargs=-1, required=True)
def convert(
    format_name: str,
    source: str | None,
    mapping: Path | None,
    tz: str,
    staff: tuple[Path, ...],
    rejects_path: Path | None,
    unresolved_path: Path | None,
    files: tuple[str, ...],
) -> None:
    """Convert FILE ... (- for stdin) from FORMAT to contract events on stdout."""
    adapter = build_adapter(format_name, source, mapping, tz, staff)
    for path in files:
        if path != "-" and not Path(path).is_file():
            raise click.UsageError(f"{path}: no such file")
    summary = ConvertSummary()
    out = sys.stdout.buffer
    rejects: IO[bytes] | None = rejects_path.open("wb") if rejects_path else None
    try:
        for item in convert_files(adapter, files):
            summary.count(item)
            if isinstance(item, Reject):
                if rejects is not None:
                    rejects.write(item.dumps() + b"\n")
            else:
                out.write(item.json + b"\n")
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        out.flush()
        if rejects is not None:
            rejects.close()
    for line in summary.lines(adapter.format):
        click.echo(line, err=True)
    identity = adapter.config.identity
    if identity is not None:
        unresolved = identity.unresolved()
        n = sum(u.count for u in unresolved)
        click.echo(f"  unresolved accounts: {len(unresolved)} ({n} events)", err=True)
        if unresolved_path is not None:
            unresolved_path.write_bytes(identity.unresolved_jsonl())
