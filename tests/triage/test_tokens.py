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


# ---------------------------------------------------------------- service accounts
def test_a_service_token_reads_alerts_pseudonymised_and_nothing_else(app_env):
    """A machine client (case management, a SIEM): the queue and an alert, people masked,
    never the ACU's; every other endpoint, page and /metrics answer 403."""
    api = TestClient(app_env["app"])
    svc = bearer(app_env["tokens"][Role.SERVICE])
    ordinary, acu = app_env["ordinary"].id, app_env["acu"].id
    queue = api.get("/api/alerts", headers=svc)
    assert queue.status_code == 200
    assert [a["id"] for a in queue.json()["items"]] == [ordinary]  # not the ACU's alert
    one = api.get(f"/api/alerts/{ordinary}", headers=svc)
    assert one.status_code == 200 and one.json()["id"] == ordinary
    for body in (queue.text, one.text):
        assert "P-9003" not in body and "+447700900999" not in body  # pseudonyms only
    assert api.get(f"/api/alerts/{acu}", headers=svc).status_code == 404  # like unknown
    assert api.get("/api/alerts/no-such-alert", headers=svc).status_code == 404
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    forbidden = [
        ("POST", f"/api/alerts/{ordinary}/reveal",
         {"subject": pseudo, "reason": "for the case file", "reference": "CASE-1"}),
        ("POST", f"/api/alerts/{ordinary}/assign", {"assignee": "service"}),
        ("POST", f"/api/alerts/{ordinary}/notes", {"text": "a machine's note"}),
        ("POST", f"/api/alerts/{ordinary}/close",
         {"outcome": "no_further_action", "rationale": "closed by a machine client"}),
        ("GET", "/api/suppressions", None), ("GET", "/api/reveal-requests", None),
        ("GET", "/api/audit", None), ("GET", "/api/users", None),
        ("GET", "/api/account/tokens", None), ("POST", "/api/account/tokens", {"name": "more"}),
        ("POST", "/api/account/password",
         {"current_password": "anything at all", "new_password": "another good one 1"}),
        ("GET", "/metrics", None), ("GET", "/openapi.json", None),
        ("GET", "/", None), ("GET", "/queue", None), ("GET", f"/alerts/{ordinary}", None),
    ]  # fmt: skip
    for method, path, body in forbidden:
        r = api.request(method, path, json=body, headers=svc)
        assert r.status_code == 403, (method, path, r.status_code)
    store = app_env["store"]
    alert, notes = store.view_alert(ordinary, app_env["users"][Role.SUPERVISOR], audit=False)
    assert (alert.status.value, alert.assignee, notes) == ("new", None, [])  # nothing changed
    viewed = [e for e in store.audit_entries() if e.action == "alert.viewed"]
    assert viewed[-1].username == "service"  # its reads are audited like anyone's


def test_a_service_account_is_not_a_person(app_env):
    """No password (no login, no reset), no OIDC, no full token; service tokens for service
    accounts only; an admin creates it without a password."""
    store, app = app_env["store"], app_env["app"]
    admin, service = app_env["users"][Role.ADMIN], app_env["users"][Role.SERVICE]
    analyst = app_env["users"][Role.ANALYST]
    assert store.authenticate("service", PASSWORD) is None  # the fixture's password: ignored
    assert store.audit_entries()[-1].action == "login_failed"
    page = TestClient(app).get("/login")
    from tests.triage.helpers import CSRF

    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    r = TestClient(app, follow_redirects=False, cookies=page.cookies).post(
        "/login", data={"username": "service", "password": PASSWORD, "csrf_token": csrf}
    )
    assert r.status_code != 303  # no session
    with pytest.raises(InvalidTransition, match="no password"):
        store.reset_password(service.id, "temporary pass 2026", admin)
    with pytest.raises(Forbidden, match="metrics and service tokens only"):
        store.create_token(service.id, "act as it", admin, TokenScope.FULL)
    with pytest.raises(Forbidden, match="service account"):  # a person gets no service token
        store.create_token(analyst.id, "x", admin, TokenScope.SERVICE)
    with pytest.raises(Forbidden, match="service tokens"):  # nor issues one for themselves
        store.create_token(analyst.id, "x", analyst, TokenScope.SERVICE)
    api = TestClient(app)
    me = bearer(app_env["tokens"][Role.ANALYST])
    assert api.post("/api/account/tokens", json={"name": "x", "scope": "service"},
                    headers=me).status_code == 422  # fmt: skip
    # an admin creates one through the API, without a password (a person's needs one)
    adm = bearer(app_env["tokens"][Role.ADMIN])
    cms = {"username": "cms", "role": "service", "staff_id": "SVC-CMS"}
    assert api.post("/api/users", json={**cms, "password": "a password here 1"},
                    headers=adm).status_code == 422  # fmt: skip
    assert api.post("/api/users", json={**cms, "role": "analyst"}, headers=adm).status_code == 422
    made = api.post("/api/users", json=cms, headers=adm)
    assert made.status_code == 201, made.text
    assert (made.json()["role"], made.json()["must_change_password"]) == ("service", False)
    issued = api.post(f"/api/users/{made.json()['id']}/tokens",
                      json={"name": "cms-read", "scope": "service"}, headers=adm)  # fmt: skip
    assert issued.status_code == 201
    assert api.get("/api/alerts", headers=bearer(issued.json()["token"])).status_code == 200
    assert api.post(f"/api/users/{analyst.id}/tokens", json={"name": "x", "scope": "service"},
                    headers=adm).status_code == 403  # fmt: skip
    created = [e for e in store.audit_entries() if e.action == "token.created"]
    assert (created[-1].username, created[-1].detail["scope"]) == ("admin", "service")
    # the OIDC path cannot sign in as it either
    with pytest.raises(Forbidden, match="service account"):
        store.oidc_account("cms", "sub-1", "https://idp.example", create_with_staff_id=None)


def test_the_admin_page_issues_service_tokens_for_service_accounts(app_env):
    import re

    client, csrf = login(app_env["app"], "admin")
    service = app_env["users"][Role.SERVICE]
    page = client.get("/admin/users")
    assert 'value="service"' in page.text and "Issue service token" in page.text
    r = client.post(f"/admin/users/{service.id}/tokens",
                    data={"name": "siem", "scope": "service", "csrf_token": csrf})  # fmt: skip
    token = re.search(r"<code>(prb_[^<]+)</code>", r.text).group(1)  # type: ignore[union-attr]
    api = TestClient(app_env["app"])
    assert api.get("/api/alerts", headers=bearer(token)).status_code == 200
    r = client.post("/admin/users", data={"username": "siem", "role": "service",
                                          "staff_id": "SVC-SIEM", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 303
    r = client.post("/admin/users", data={"username": "nopass", "role": "analyst",
                                          "staff_id": "S-NP", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 400


def test_service_tokens_expire_and_are_revoked_one_by_one(app_env):
    store, admin = app_env["store"], app_env["users"][Role.ADMIN]
    service = app_env["users"][Role.SERVICE]
    longest = store.policy.service_token_max_days
    assert longest < store.policy.token_max_days  # a machine's credential lives shorter
    with pytest.raises(InvalidTransition, match="service token lasts 1 to"):
        store.create_token(service.id, "long", admin, TokenScope.SERVICE, days=longest + 1)
    token = store.create_token(service.id, "siem", admin, TokenScope.SERVICE)
    other = store.create_token(service.id, "cms", admin, TokenScope.SERVICE, days=1)
    [info] = [t for t in store.tokens(service.id) if t.name == "siem"]
    assert info.expires_at == info.created_at + timedelta(days=longest)
    api = TestClient(app_env["app"])
    adm = bearer(app_env["tokens"][Role.ADMIN])
    listed = api.get(f"/api/users/{service.id}/tokens", headers=adm).json()
    assert {(t["name"], t["scope"]) for t in listed} >= {("siem", "service"), ("cms", "service")}
    r = api.delete(f"/api/users/{service.id}/tokens/{info.id}", headers=adm)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert api.get("/api/alerts", headers=bearer(token)).status_code == 401
    assert api.get("/api/alerts", headers=bearer(other)).status_code == 200  # one by one
    [revoked] = [e for e in store.audit_entries() if e.action == "token.revoked"]
    assert (revoked.detail["scope"], revoked.detail["user"]) == ("service", "service")
    later = store.clock() + timedelta(days=1, seconds=1)
    store.clock = lambda: later
    assert api.get("/api/alerts", headers=bearer(other)).status_code == 401  # expired


def test_ops_commands_for_service_accounts(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/queue.db"
    made = run(["user", "create", "--username", "cms", "--staff-id", "SVC-CMS",
                "--role", "service"], url)  # fmt: skip
    assert made.returncode == 0 and "(service) created, active" in made.stdout, made.stderr
    tok = run(["token", "create", "--username", "cms", "--name", "cms-read",
               "--scope", "service", "--days", "7"], url)  # fmt: skip
    assert tok.returncode == 0 and tok.stdout.startswith("prb_"), tok.stderr
    too_long = run(["token", "create", "--username", "cms", "--name", "x",
                    "--scope", "service", "--days", "365"], url)  # fmt: skip
    assert too_long.returncode != 0 and "service token lasts" in too_long.stderr
    [line] = run(["token", "list", "--username", "cms"], url).stdout.splitlines()
    token_id, owner, name, scope, _expires, state = line.split("\t")
    assert (owner, name, scope, state) == ("cms", "cms-read", "service", "live")
    assert run(["token", "create", "--username", "cms", "--name", "x", "--scope", "full"],
               url).returncode != 0  # fmt: skip
    assert run(["token", "revoke", token_id], url).returncode == 0
    assert run(["token", "list"], url).stdout.rstrip().endswith("revoked")
