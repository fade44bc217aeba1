"""``probity triage``: serve the queue, create the first admin, verify the audit chain."""

from __future__ import annotations

import sys

import click
import orjson
from pydantic import SecretStr

from probity.logging import configure_logging
from probity.settings import get_settings
from triage.audit import to_event
from triage.base import Role
from triage.exceptions import AuditChainBroken, TriageError
from triage.store import Store, store_from_settings


def _store() -> Store:
    store = store_from_settings(get_settings())
    store.migrate()
    return store


@click.group()
def triage() -> None:
    """The ACU queue: web service, accounts and audit."""
    configure_logging(get_settings())


@triage.command()
@click.option("--host", default=None, help="bind address (default: settings, 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default: settings, 8080)")
def serve(host: str | None, port: int | None) -> None:
    """Serve the triage API and pages with uvicorn."""
    import uvicorn

    from triage.app import create_app

    settings = get_settings()
    problem = secret_key_problem(settings.secret_key, settings.store_url)
    if problem is not None:
        raise click.ClickException(problem)
    app = create_app(settings, _store())
    uvicorn.run(
        app,
        host=host or settings.triage.host,
        port=port or settings.triage.port,
        proxy_headers=False,
        server_header=False,
        log_config=None,
    )


def secret_key_problem(key: SecretStr | None, store_url: str) -> str | None:
    """Why the service should not start with this key, or ``None``. Sessions and pseudonyms
    derive from it: a guessable key forges sessions (the store still has to know the session
    id) and undoes pseudonyms; a per-process key (unset) is only fit for a local SQLite demo."""
    if key is None:
        if store_url.startswith("sqlite"):
            return None
        return "PROBITY_SECRET_KEY is unset: set it (32+ random characters) for a shared store"
    value = key.get_secret_value()
    if len(value) < 32 or value.lower().startswith("change-me"):
        return "PROBITY_SECRET_KEY is too short or a placeholder: use 32+ random characters"
    return None


@triage.command("create-admin")
@click.option("--username", required=True)
@click.option("--staff-id", required=True, help="the admin's own staff id (audit actor)")
@click.option(
    "--password-stdin", is_flag=True, help="read the password from stdin instead of a prompt"
)
def create_admin(username: str, staff_id: str, password_stdin: bool) -> None:
    """Create an admin account. The password is prompted (or read from stdin), never defaulted."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _store()
    try:
        user = store.create_user(username, password, Role.ADMIN, staff_id)
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(f"admin {user.username!r} created")


@triage.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command()
def verify() -> None:
    """Verify the audit chain; exit 1 naming the first bad row."""
    store = _store()
    try:
        rows = store.verify_audit()
    except AuditChainBroken as exc:
        click.echo(f"audit log BROKEN at row {exc.seq}: {exc.reason}", err=True)
        sys.exit(1)
    finally:
        store.dispose()
    click.echo(f"audit log OK: {rows} rows verify")


@audit.command("events")
@click.option("--after", type=int, default=0, help="only rows after this sequence number")
def events(after: int) -> None:
    """Print the audit entries as contract-v1 events (JSON lines), for replay or publishing."""
    store = _store()
    try:
        for entry in store.audit_entries(after):
            sys.stdout.write(orjson.dumps(to_event(entry)).decode() + "\n")
    finally:
        store.dispose()
