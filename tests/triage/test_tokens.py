"""Accounts and tokens (issue 19), the review's own steps: an admin minting a full token
for the head of unit and reading under that name; tokens that never expire, survive a
reset and skip the forced password change; a second admin for privileged accounts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.triage.helpers import PASSWORD, bearer, enrol_totp, login
from tests.triage.test_cli import run
from triage.base import Role, TokenScope
from triage.exceptions import Forbidden, InvalidTransition

NEW_USER = {"password": "a first passphrase here", "staff_id": "S-NEW"}


def test_an_admin_cannot_mint_a_token_to_act_as_someone_else(app_env):
    api = TestClient(app_env["app"])
    admin = bearer(app_env["tokens"][Role.ADMIN])
    head = app_env["users"][Role.HEAD_OF_UNIT]
    r = api.post(f"/api/users/{head.id}/tokens", json={"name": "x", "scope": "full"},
                 headers=admin)  # fmt: skip
    assert r.status_code == 422  # the admin's endpoint issues metrics and service tokens only
    with pytest.raises(Forbidden, match="metrics and service tokens only"):
        app_env["store"].create_token(head.id, "x", app_env["users"][Role.ADMIN])
    with pytest.raises(Forbidden, match="owner"):  # nor may anyone else but an admin
        app_env["store"].create_token(
            head.id, "x", app_env["users"][Role.SUPERVISOR], TokenScope.METRICS
        )
    metrics = api.post(f"/api/users/{head.id}/tokens", json={"name": "scrape"}, headers=admin)
    assert metrics.status_code == 201
    assert api.get("/api/alerts", headers=bearer(metrics.json()["token"])).status_code == 403


def test_owners_issue_list_and_revoke_their_own_tokens(app_env):
    api = TestClient(app_env["app"])
    me = bearer(app_env["tokens"][Role.ANALYST])
    made = api.post("/api/account/tokens", json={"name": "siem", "days": 7}, headers=me)
    assert made.status_code == 201
    siem = bearer(made.json()["token"])
    assert api.get("/api/alerts", headers=siem).status_code == 200
    listed = api.get("/api/account/tokens", headers=me).json()
    assert {t["name"] for t in listed} == {"siem", "test"}
    assert all("token" not in t for t in listed)  # never the secret
    [mine] = [t for t in listed if t["name"] == "siem"]
    # another user cannot revoke it (it is not theirs: answered as unknown)
    other = bearer(app_env["tokens"][Role.SUPERVISOR])
    assert api.delete(f"/api/account/tokens/{mine['id']}", headers=other).status_code == 404
    assert api.delete(f"/api/account/tokens/{mine['id']}", headers=me).status_code == 200
    assert api.get("/api/alerts", headers=siem).status_code == 401
    assert api.get("/api/alerts", headers=me).status_code == 200  # the other one lives
    # an admin sees and revokes any account's tokens one by one
    admin = bearer(app_env["tokens"][Role.ADMIN])
    analyst = app_env["users"][Role.ANALYST]
    tokens = api.get(f"/api/users/{analyst.id}/tokens", headers=admin).json()
    [live] = [t for t in tokens if t["revoked_at"] is None]
    assert api.delete(f"/api/users/{analyst.id}/tokens/{live['id']}", headers=admin).json()[
        "revoked_at"] is not None  # fmt: skip
    assert api.get("/api/alerts", headers=me).status_code == 401
    actions = [e.action for e in app_env["store"].audit_entries()]
    assert actions.count("token.revoked") == 2


def test_tokens_expire(store, users):
    analyst = users[Role.ANALYST]
    token = store.create_token(analyst.id, "siem", analyst)
    [info] = store.tokens(analyst.id)
    assert info.expires_at == info.created_at + timedelta(days=store.policy.token_max_days)
    later = info.expires_at + timedelta(seconds=1)
    store.clock = lambda: later
    assert store.resolve_token(token) is None
    with pytest.raises(InvalidTransition):
        store.create_token(analyst.id, "long", analyst, days=store.policy.token_max_days + 1)


def test_tokens_die_with_a_password_reset(store, users):
    analyst, admin = users[Role.ANALYST], users[Role.ADMIN]
    full = store.create_token(analyst.id, "siem", analyst)
    scrape = store.create_token(analyst.id, "prom", admin, TokenScope.METRICS)
    store.reset_password(analyst.id, "temporary pass 2026", admin)
    assert store.resolve_token(full) is None and store.resolve_token(scrape) is None
    assert store.audit_entries()[-1].detail["tokens_revoked"] == 2


def test_a_token_does_not_skip_the_forced_password_change(app_env):
    store = app_env["store"]
    fresh = store.create_user("fresh", **NEW_USER, role=Role.ANALYST,
                              must_change_password=True)  # fmt: skip
    token = store.create_token(fresh.id, "siem", fresh)
    api = TestClient(app_env["app"])
    r = api.get("/api/alerts", headers=bearer(token))
    assert r.status_code == 403 and r.json() == {"detail": "password change required"}


def test_a_privileged_account_needs_a_second_admin(app_env):
    store, app = app_env["store"], app_env["app"]
    api = TestClient(app)
    admin = bearer(app_env["tokens"][Role.ADMIN])
    for role in ("head_of_unit", "admin"):
        made = api.post("/api/users", json={**NEW_USER, "username": f"new-{role}", "role": role},
                        headers=admin).json()  # fmt: skip
        assert (made["active"], made["awaiting_approval"]) == (False, True)
        assert store.authenticate(f"new-{role}", NEW_USER["password"]) is None
        # the admin who created it cannot approve it, nor re-enable it another way
        assert api.post(f"/api/users/{made['id']}/approve", headers=admin).status_code == 403
        with pytest.raises(InvalidTransition):
            store.set_active(made["id"], True, app_env["users"][Role.ADMIN])
    # an ordinary role is active at once
    plain = api.post("/api/users", json={**NEW_USER, "username": "plain", "role": "analyst"},
                     headers=admin).json()  # fmt: skip
    assert plain["active"] is True
    # a second admin: from the command line it too waits, for the first admin's approval
    second = store.create_user("second", PASSWORD, Role.ADMIN, "S-A2")
    assert second.awaiting_approval
    store.approve_user(second.id, app_env["users"][Role.ADMIN])
    enrol_totp(app, store, store.get_user(second.id))  # an admin works with a second factor
    client, csrf = login(app, "second")
    head = next(u for u in store.users() if u.username == "new-head_of_unit")
    r = client.post(f"/admin/users/{head.id}/approve", data={"csrf_token": csrf})
    assert r.status_code == 303
    approved = next(u for u in store.users() if u.username == "new-head_of_unit")
    assert (approved.active, approved.approved_by, approved.created_by) == (True, "second", "admin")
    assert store.authenticate("new-head_of_unit", NEW_USER["password"]) is not None


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_ops_commands_for_users_and_tokens(kind: str, tmp_path: Path, request):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/queue.db"
    else:
        schema = request.getfixturevalue("pg_schema")
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    pw = "a long enough passphrase\n"
    assert run(["create-admin", "--username", "root", "--staff-id", "S-IT-1",
                "--password-stdin"], url, pw).returncode == 0  # fmt: skip
    made = run(["user", "create", "--username", "prometheus", "--staff-id", "SVC-PROM",
                "--role", "auditor", "--password-stdin"], url, pw)  # fmt: skip
    assert made.returncode == 0 and "active" in made.stdout, made.stderr
    head = run(["user", "create", "--username", "boss", "--staff-id", "S-HOU",
                "--role", "head_of_unit", "--password-stdin"], url, pw)  # fmt: skip
    assert head.returncode == 0 and "awaiting a second admin" in head.stdout, head.stderr
    tok = run(["token", "create", "--username", "prometheus", "--name", "scrape",
               "--days", "30"], url)  # fmt: skip
    assert tok.returncode == 0 and tok.stdout.startswith("prb_"), tok.stderr
    listed = run(["token", "list"], url)
    assert listed.returncode == 0
    [line] = listed.stdout.splitlines()
    token_id, owner, name, scope, _expires, state = line.split("\t")
    assert (owner, name, scope, state) == ("prometheus", "scrape", "metrics", "live")
    assert tok.stdout.strip() not in listed.stdout
    assert run(["token", "revoke", token_id], url).returncode == 0
    assert run(["token", "list", "--username", "prometheus"], url).stdout.endswith("revoked\n")
    assert run(["token", "revoke", "999"], url).returncode != 0


def test_a_token_never_grants_more_than_its_issuer_may(app_env):
    """Scope rules (issue 19): the admin page cannot mint a full token for someone else
    either; a metrics token mints nothing; a token minted by a token dies no later."""
    store, admin = app_env["store"], app_env["users"][Role.ADMIN]
    analyst = app_env["users"][Role.ANALYST]
    client, csrf = login(app_env["app"], "admin")
    r = client.post(f"/admin/users/{analyst.id}/tokens",
                    data={"csrf_token": csrf, "name": "x", "scope": "full"})  # fmt: skip
    assert r.status_code == 403
    assert [t.scope for t in store.tokens(analyst.id)] == [TokenScope.FULL]  # its own only
    # an admin's metrics token for a service account reads /metrics and nothing else
    r = client.post(f"/admin/users/{analyst.id}/tokens", data={"csrf_token": csrf, "name": "p"})
    assert r.status_code == 200
    api = TestClient(app_env["app"])
    scrape = store.create_token(analyst.id, "prom", admin, TokenScope.METRICS)
    assert api.get("/metrics", headers=bearer(scrape)).status_code == 200
    for method, path in (("GET", "/api/alerts"), ("POST", "/api/account/tokens"),
                         ("GET", "/api/account/tokens")):  # fmt: skip
        r = api.request(method, path, json={"name": "more"}, headers=bearer(scrape))
        assert r.status_code == 403, (method, path)
    # a full token issued with a short life mints tokens that die with it
    short = store.create_token(analyst.id, "short", analyst, days=1)
    made = api.post("/api/account/tokens", json={"name": "child", "days": 90},
                    headers=bearer(short))  # fmt: skip
    assert made.status_code == 201
    assert store.token_expiry(made.json()["token"]) == store.token_expiry(short)
