"""``probity triage``: serve the queue, accounts and tokens for operations, the audit chain."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
import orjson
from pydantic import SecretStr

from probity.logging import configure_logging
from probity.settings import Settings, get_settings
from triage.audit import to_event
from triage.base import Role, TokenScope, User
from triage.exceptions import AuditChainBroken, TriageError
from triage.grants import runtime_role_sql
from triage.store import Store, store_from_settings
from triage.store.accounts import CLI


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
    if problem is None and settings.triage.mfa_key is not None:
        problem = secret_key_problem(settings.triage.mfa_key, settings.store_url)
        problem = problem and problem.replace("PROBITY_SECRET_KEY", "PROBITY_TRIAGE__MFA_KEY")
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
    password = _password(password_stdin)
    store = _store()
    try:
        admin = store.create_user(username, password, Role.ADMIN, staff_id)
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    state = " (awaiting a second admin's approval)" if admin.awaiting_approval else ""
    click.echo(f"admin {admin.username!r} created{state}")


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _user_named(store: Store, username: str) -> User:
    found = next((u for u in store.users() if u.username == username), None)
    if found is None:
        raise click.ClickException(f"no user {username!r}")
    return found


@triage.group()
def user() -> None:
    """Accounts, for operations."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--staff-id", required=True, help="the person's staff id")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--line-manager", default=None, help="staff id (conflict of interest)")
@click.option("--associate", "associates", multiple=True, help="staff or person id (repeat)")
@click.option("--password-stdin", is_flag=True, help="read the first password from stdin")
def user_create(
    username: str, staff_id: str, role: str, line_manager: str | None,
    associates: tuple[str, ...], password_stdin: bool,
) -> None:  # fmt: skip
    """Create an account; its user must change the password at first login. An admin or
    head of unit waits for a second admin's approval (in the service's accounts page). A
    ``service`` account (a machine client) has no password: none is asked."""
    password = "" if role == Role.SERVICE.value else _password(password_stdin)
    store = _store()
    try:
        created = store.create_user(
            username, password, Role(role), staff_id, line_manager=line_manager,
            associates=associates, must_change_password=True,
        )  # fmt: skip
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    state = "awaiting a second admin's approval" if created.awaiting_approval else "active"
    click.echo(f"user {created.username!r} ({created.role.value}) created, {state}")


@user.command("mfa-reset")
@click.option("--username", required=True, help="the account whose second factor goes")
@click.option("--admin", "admins", multiple=True, required=True,
              help="an admin asking (first) and one approving (second); give it twice")
def user_mfa_reset(username: str, admins: tuple[str, ...]) -> None:
    """Remove an account's second factor (a lost phone): two admins, neither the account's
    owner, each giving their password on a line of stdin (first the asker's, then the
    approver's). The account's sessions and tokens end; its user enrols again."""
    if len(admins) != 2 or admins[0] == admins[1]:
        raise click.ClickException("give --admin twice: two different admins")
    store = _store()
    try:
        target = _user_named(store, username)
        actors = []
        for name in admins:
            password = sys.stdin.readline().rstrip("\n")
            actor = store.authenticate(name, password)  # audited, as a login is
            if actor is None or actor.role is not Role.ADMIN:
                raise click.ClickException(f"{name!r} is not an admin with that password")
            actors.append(actor)
        store.request_mfa_reset(target.id, actors[0])
        store.approve_mfa_reset(target.id, actors[1])
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(f"second factor of {username!r} removed; its sessions and tokens ended")


@triage.group()
def token() -> None:
    """API tokens, for operations: metrics and service tokens only (a full token is its
    owner's)."""


@token.command("create")
@click.option("--username", required=True, help="the account the token reads as")
@click.option("--name", required=True, help="what the token is for, e.g. prometheus")
@click.option("--scope", type=click.Choice([TokenScope.METRICS.value, TokenScope.SERVICE.value]),
              default=TokenScope.METRICS.value, show_default=True,
              help="metrics: reads /metrics; service: a service account's, reads alerts "
              "pseudonymised")  # fmt: skip
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="default: the most")
def token_create(username: str, name: str, scope: str, days: int | None) -> None:
    """Issue a metrics token (reads /metrics only) or a service account's service token
    (reads alerts through the API, pseudonymised) and print it once."""
    store = _store()
    try:
        owner = _user_named(store, username)
        secret = store.create_token(owner.id, name, CLI, TokenScope(scope), days=days)
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(secret)


@token.command("list")
@click.option("--username", default=None, help="only this account's tokens")
def token_list(username: str | None) -> None:
    """List tokens (id, owner, name, scope, expiry, state), never the tokens themselves."""
    store = _store()
    try:
        owners = {u.id: u.username for u in store.users()}
        only = _user_named(store, username).id if username else None
        now = store.clock()
        for t in store.tokens(only):
            state = "revoked" if t.revoked_at else ("live" if t.live_at(now) else "expired")
            expires = t.expires_at.isoformat() if t.expires_at else "never"
            click.echo(f"{t.id}\t{owners.get(t.user_id, t.user_id)}\t{t.name}\t"
                       f"{t.scope.value}\t{expires}\t{state}")  # fmt: skip
    finally:
        store.dispose()


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
def token_revoke(token_id: int) -> None:
    """Revoke one token by its id (from ``token list``)."""
    store = _store()
    try:
        revoked = store.revoke_token(token_id, CLI)
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(f"token {revoked.id} ({revoked.name}) revoked")


@triage.command()
@click.argument("alerts_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--store-url",
    default=None,
    help="the (shadow) store to load into; default: settings' store_url",
)
def load(alerts_file: str, store_url: str | None) -> None:
    """Load a replay's alerts (JSONL, contract v1) into a store, e.g. a shadow queue for
    reviewing a replay without touching the live one. Idempotent by alert id; invalid
    lines are named and skipped (exit 1 if any)."""
    from triage.load import load_alerts

    settings = get_settings()
    if store_url:
        settings = settings.model_copy(update={"store_url": store_url})
    store = store_from_settings(settings)
    store.migrate()
    try:
        with Path(alerts_file).open("rb") as lines:
            result = load_alerts(store, lines, source=Path(alerts_file).name)
    finally:
        store.dispose()
    click.echo(f"{result.read} alerts read: {result.new} new, {result.known} already there, "
               f"{len(result.rejected)} rejected")  # fmt: skip
    for number, reason in result.rejected[:20]:
        click.echo(f"line {number}: {reason}", err=True)
    if result.rejected:
        sys.exit(1)


@triage.group()
def db() -> None:
    """The queue's database, for its administrators."""


@db.command("migrate")
@click.option("--grant-to", "grant_to", default=None, metavar="ROLE",
              help="then grant the runtime ROLE its rights (PostgreSQL; the role must exist)")
@click.option("--grant-reader", "reader", default=None, metavar="ROLE",
              help="and grant the workers' ROLE reading suppressions only")
def db_migrate(grant_to: str | None, reader: str | None) -> None:
    """Bring the schema to the latest revision, as the migration owner (the deployments run
    this once before the services, which then connect as the runtime role)."""
    store = store_from_settings(get_settings())
    try:
        store.migrate()
        if grant_to is not None:
            store.grant_role(grant_to)
        if reader is not None:
            store.grant_role(reader, reader=True)
    except (TriageError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    granted = [r for r in (grant_to, reader) if r]
    click.echo("schema at the latest revision" + (f"; granted {', '.join(granted)}"
                                                  if granted else ""))  # fmt: skip


@db.command("grants")
@click.option("--role", default="probity_app", show_default=True, help="the runtime role")
def db_grants(role: str) -> None:
    """Print the GRANTs for the runtime role (INSERT and SELECT only on the audit log); run
    them as the migration owner in the queue's schema (PostgreSQL)."""
    try:
        click.echo(runtime_role_sql(role), nl=False)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@triage.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command()
def verify() -> None:
    """Verify the audit chain (HMACs) and compare it with the latest signed checkpoint in
    ``settings.triage.audit_checkpoint_dir``; exit 1 naming the first bad row on a rewrite,
    a truncation or an older copy restored."""
    store = _store()
    directory = Path(get_settings().triage.audit_checkpoint_dir)
    cp = None
    try:
        keyed = store.has_audit_key
        rows = store.verify_audit(directory if keyed else None)
        cp = store.latest_checkpoint(directory) if keyed else None
    except AuditChainBroken as exc:
        click.echo(f"audit log BROKEN at row {exc.seq}: {exc.reason}", err=True)
        sys.exit(1)
    except TriageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(f"audit log OK: {rows} rows verify")
    if not keyed:
        click.echo("warning: no audit key set: the chain is unkeyed and no checkpoint is "
                   "checked", err=True)  # fmt: skip
    elif cp is None:
        click.echo(f"warning: no checkpoint in {directory} yet: run `probity triage audit "
                   "checkpoint` (truncation and rollback are caught only against one)",
                   err=True)  # fmt: skip
    else:
        click.echo(f"matches the checkpoint of {cp.at.isoformat()} (row {cp.seq})")


@audit.command()
@click.option("--every", type=click.FloatRange(min=1.0), default=None, metavar="SECONDS",
              help="keep running: a checkpoint every SECONDS (the scheduled form; a broken "
              "chain is reported and retried, not ended)")  # fmt: skip
@click.option("--publish/--no-publish", default=False, show_default=True,
              help="also send each signed checkpoint to the audit-checkpoints topic: a "
              "copy off this host, that no database administrator can edit")  # fmt: skip
def checkpoint(every: float | None, publish: bool) -> None:
    """Write a signed checkpoint of the audit chain's head (row, hash, count, time) to
    ``settings.triage.audit_checkpoint_dir``, after verifying the chain. Run it on a
    schedule (``--every``); keep the directory out of the database administrators' reach."""
    settings = get_settings()
    store = _store()
    directory = Path(settings.triage.audit_checkpoint_dir)
    producer = _checkpoint_producer(settings) if publish else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while True:
            ok = _one_checkpoint(store, directory, producer, settings.topics.audit_checkpoints)
            if every is None:
                sys.exit(0 if ok else 1)
            if stop.wait(every):
                return
    finally:
        if producer is not None:
            producer.close()
        store.dispose()


def _checkpoint_producer(settings: Settings) -> Any:
    from kafka import KafkaProducer

    from probity.transport import kafka_client_config

    return KafkaProducer(**kafka_client_config(settings, "kafka-python"), acks="all",
                         client_id="probity-audit-checkpoint")  # fmt: skip


def _one_checkpoint(store: Store, directory: Path, producer: Any, topic: str) -> bool:
    """One checkpoint written (and sent, given a producer); False, said on stderr, if the
    chain is broken (nothing is written then) or the store or broker failed."""
    try:
        cp, path = store.write_checkpoint(directory)
    except AuditChainBroken as exc:
        click.echo(f"audit log BROKEN at row {exc.seq}: {exc.reason}; no checkpoint written",
                   err=True)  # fmt: skip
        return False
    except TriageError as exc:
        click.echo(f"error: {exc}", err=True)
        return False
    click.echo(f"checkpoint of row {cp.seq} written to {path}")
    if producer is not None:
        try:
            producer.send(topic, key=b"audit-checkpoint", value=path.read_bytes()).get(timeout=30)
        except Exception as exc:  # the broker's error, whatever its class: say it, go on
            click.echo(f"error: checkpoint of row {cp.seq} not sent to {topic}: {exc}",
                       err=True)  # fmt: skip
            return False
        click.echo(f"checkpoint of row {cp.seq} sent to {topic}")
    return True


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
