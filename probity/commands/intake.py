"""``probity intake``: serve the HTTP intake (and its syslog ports); ``probity intake token``
creates, lists and revokes the sources' tokens."""

from __future__ import annotations

import logging

import click

from intake.exceptions import TokenStoreError
from intake.tokens import TokenStore, tokens_path
from probity.settings import get_settings


def _store() -> TokenStore:
    return TokenStore(tokens_path(get_settings()))


@click.group(invoke_without_command=True)
@click.pass_context
def intake(ctx: click.Context) -> None:
    """Serve the HTTP intake (POST /v1/events) on PROBITY_INTAKE__PORT, with the syslog
    ports of PROBITY_INTAKE__SYSLOG; see docs/intake.md."""
    if ctx.invoked_subcommand is not None:
        return
    from intake.server import serve
    from probity.logging import configure_logging
    from streams.topics import ensure_topics

    settings = get_settings()
    configure_logging(settings)
    if not settings.kafka:
        raise click.UsageError("the intake needs a broker: set PROBITY_KAFKA=kafka://host:port")
    ensure_topics(settings, settings.bootstrap_servers)
    logging.getLogger(__name__).info(
        "intake starting", extra={"host": settings.intake.host, "port": settings.intake.port}
    )
    serve(settings)


@intake.group()
def token() -> None:
    """The sources' bearer tokens (stored hashed in the token file)."""


@token.command("create")
@click.option("--source", required=True, help="the source the token writes as")
@click.option("--format", "format_name", help="the format the source sends (default: contract)")
@click.option("--tz", help="IANA zone of the source's times written without an offset")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="csv mapping")
@click.option("--replace", is_flag=True, help="revoke the source's current token")
def create(
    source: str, format_name: str | None, tz: str | None, mapping: str | None, replace: bool
) -> None:
    """Create a token for SOURCE and print it (once: only its hash is kept)."""
    from pathlib import Path

    from adapters.registry import registered
    from intake.batch import CONTRACT

    if format_name and format_name != CONTRACT and format_name not in registered():
        raise click.UsageError(f"--format: unknown format {format_name!r}")
    store = _store()
    try:
        record, secret = store.create(
            source,
            format_name=format_name,
            tz=tz,
            mapping=str(Path(mapping).resolve()) if mapping else None,
            replace=replace,
        )
    except TokenStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {record.id} for source {record.source} (in {store.path}):", err=True)
    click.echo(secret)


@token.command("list")
@click.option("--all", "show_all", is_flag=True, help="revoked tokens too")
def list_tokens(show_all: bool) -> None:
    """The tokens: id, source, format, created, revoked."""
    try:
        records = _store().tokens()
    except TokenStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    for r in records:
        if r.active or show_all:
            revoked = r.revoked.isoformat() if r.revoked else "-"
            click.echo(
                f"{r.id}\t{r.source}\t{r.format or 'contract'}\t{r.created.isoformat()}\t{revoked}"
            )


@token.command("revoke")
@click.option("--id", "token_id", help="the token's id")
@click.option("--source", help="every active token of this source")
def revoke(token_id: str | None, source: str | None) -> None:
    """Revoke a token by id, or a source's tokens; a running intake stops taking them."""
    try:
        done = _store().revoke(token_id=token_id, source=source)
    except TokenStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    for r in done:
        click.echo(f"revoked {r.id} ({r.source})")


@intake.command()
@click.option(
    "--unresolved",
    is_flag=True,
    required=True,
    help="the accounts that resolved to no member of staff",
)
@click.option("--url", help="the running intake (default: http://<intake host>:<intake port>)")
def accounts(unresolved: bool, url: str | None) -> None:
    """List, from a running intake, the accounts that resolved to no member of staff:
    source, account, events, first and last seen (tab-separated, most events first). Sends
    the admin token, PROBITY_INTAKE__ADMIN_TOKEN."""
    import json
    import urllib.error
    import urllib.request

    settings = get_settings()
    base = url or f"http://{settings.intake.host}:{settings.intake.port}"
    if not base.startswith(("http://", "https://")):
        raise click.UsageError("--url must be http(s)://host:port")
    admin = settings.intake.admin_token
    if admin is None:
        raise click.UsageError("set PROBITY_INTAKE__ADMIN_TOKEN: /admin needs the admin token")
    request = urllib.request.Request(  # noqa: S310
        f"{base}/admin/accounts/unresolved",
        headers={"Authorization": f"Bearer {admin.get_secret_value()}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            items = json.load(r)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise click.ClickException(f"{base}: {exc}") from exc
    for item in items:
        click.echo(
            f"{item['source']}\t{item['account']}\t{item['count']}\t{item['first']}\t{item['last']}"
        )
