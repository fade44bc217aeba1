"""OpenID Connect login against a real provider started in the test (tests/triage/
oidc_provider.py, on a loopback port): a good login with the provider's MFA claim; and
refusals, each audited, for no MFA claim, a wrong audience or issuer, a signature from
another key, a tampered state, an unmapped user and a name reused for another person."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.triage.conftest import SECRET
from tests.triage.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from triage.base import Role


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as p:
        yield p


def _app(env: dict[str, Any], provider: Provider, **oidc: Any) -> Any:
    from prometheus_client import CollectorRegistry
    from pydantic import SecretStr

    from probity.settings import Settings
    from triage.app import create_app

    settings = Settings(secret_key=SecretStr(SECRET), store_url="sqlite://", triage={
        "cookie_secure": False,
        "oidc": {"issuer": provider.issuer, "client_id": CLIENT_ID,
                 "client_secret": CLIENT_SECRET, **oidc},
    })  # fmt: skip
    return create_app(settings, env["store"], registry=CollectorRegistry())


@pytest.fixture
def sso(app_env: dict[str, Any], provider: Provider) -> Any:
    return _app(app_env, provider)


def sign_in(client: TestClient, tamper_state: bool = False) -> httpx.Response:
    """The browser's round trip: to the provider and back, following the redirects."""
    start = client.get("/login/oidc")
    assert start.status_code == 302, start.text
    with httpx.Client() as browser:  # the provider is a real server on a loopback port
        at_provider = browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    query = back.query
    if tamper_state:
        state = parse_qs(query)["state"][0]
        query = query.replace(state, state[:-2] + ("AA" if not state.endswith("AA") else "BB"))
    return client.get(f"{back.path}?{query}")


def _refusals(env: dict[str, Any]) -> list[dict[str, object]]:
    return [
        {"user": e.username, **e.detail}
        for e in env["store"].audit_entries()
        if e.action == "login.oidc_refused"
    ]


def test_a_login_with_the_providers_second_factor(app_env, provider, sso):
    provider.person = {"sub": "idp-0001", "preferred_username": "admin", "amr": ["pwd", "otp"]}
    client = TestClient(sso, follow_redirects=False)
    assert "Sign in with the force" in client.get("/login").text
    done = sign_in(client)
    assert done.status_code == 200 and 'http-equiv="refresh"' in done.text
    # the admin works at once: the provider's factor counts as the session's
    assert client.get("/admin/users").status_code == 200
    # state, nonce and PKCE (S256) went with the request
    [asked] = provider.authorize_requests
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    assert asked["redirect_uri"] == "http://testserver/login/oidc/callback"
    login = [e for e in app_env["store"].audit_entries() if e.action == "login"][-1]
    assert (login.username, login.detail["method"], login.detail["bound"]) == (
        "admin", "oidc", True)  # fmt: skip
    # a sensitive act needs no code again while the provider's factor is fresh
    assert client.get("/account/mfa").status_code == 200


def test_an_acr_value_can_stand_for_the_second_factor(app_env, provider):
    app = _app(app_env, provider, mfa_acr=["urn:force:loa:substantial"])
    provider.person = {"sub": "s-1", "preferred_username": "analyst", "amr": ["pwd"],
                       "acr": "urn:force:loa:substantial"}  # fmt: skip
    client = TestClient(app, follow_redirects=False)
    assert sign_in(client).status_code == 200
    assert client.get("/queue").status_code == 200


def test_no_mfa_claim_is_refused_with_a_clear_message(app_env, provider, sso):
    provider.person = {"sub": "idp-0002", "preferred_username": "analyst", "amr": ["pwd"]}
    client = TestClient(sso, follow_redirects=False)
    r = sign_in(client)
    assert r.status_code == 403 and "did not confirm a second factor" in r.text
    assert client.get("/queue").headers["location"] == "/login"
    assert _refusals(app_env)[-1] == {"user": "analyst", "why": "no_mfa",
                                      "issuer": provider.issuer}  # fmt: skip


@pytest.mark.parametrize("bend", [{"aud": "someone-else"}, {"iss": "https://evil.example"},
                                  {"exp": 1_000_000}, {"nonce": "not-the-one-sent"}])
def test_a_token_for_another_audience_issuer_time_or_request_is_refused(
    app_env, provider, sso, bend
):
    provider.person = {"sub": "idp-3", "preferred_username": "analyst", "amr": ["mfa"]}
    provider.bend = bend
    client = TestClient(sso, follow_redirects=False)
    r = sign_in(client)
    assert r.status_code == 403 and "did not verify" in r.text
    assert client.get("/queue").headers["location"] == "/login"
    assert str(_refusals(app_env)[-1]["why"]).startswith("id_token:")


def test_a_token_signed_by_another_key_is_refused(app_env, provider, sso):
    provider.person = {"sub": "idp-4", "preferred_username": "analyst", "amr": ["mfa"]}
    provider.other_key = True
    client = TestClient(sso, follow_redirects=False)
    assert sign_in(client).status_code == 403
    assert client.get("/queue").headers["location"] == "/login"
    assert str(_refusals(app_env)[-1]["why"]).startswith("id_token:")


def test_a_tampered_state_is_refused(app_env, provider, sso):
    provider.person = {"sub": "idp-5", "preferred_username": "analyst", "amr": ["mfa"]}
    client = TestClient(sso, follow_redirects=False)
    r = sign_in(client, tamper_state=True)
    assert r.status_code == 403 and "start again" in r.text
    assert client.get("/queue").headers["location"] == "/login"
    assert str(_refusals(app_env)[-1]["why"]).startswith("oauth:")
    # a callback from another browser (no state cookie at all) likewise
    fresh = TestClient(sso, follow_redirects=False)
    assert fresh.get("/login/oidc/callback?code=x&state=y").status_code == 403


def test_an_unmapped_user_is_refused_and_never_created_by_default(app_env, provider, sso):
    provider.person = {"sub": "idp-6", "preferred_username": "stranger", "amr": ["mfa"]}
    client = TestClient(sso, follow_redirects=False)
    r = sign_in(client)
    assert r.status_code == 403 and "no account here matches" in r.text
    assert "stranger" not in {u.username for u in app_env["store"].users()}
    assert _refusals(app_env)[-1] == {"user": "(unknown)", "why": "unmapped",
                                      "issuer": provider.issuer}  # fmt: skip


def test_a_name_the_provider_gives_to_another_person_is_refused(app_env, provider, sso):
    provider.person = {"sub": "idp-7", "preferred_username": "supervisor", "amr": ["mfa"]}
    assert sign_in(TestClient(sso, follow_redirects=False)).status_code == 200
    provider.person = {**provider.person, "sub": "idp-somebody-else"}
    r = sign_in(TestClient(sso, follow_redirects=False))
    assert r.status_code == 403 and "bound to another identity" in r.text
    assert _refusals(app_env)[-1]["why"] == "subject_mismatch"


def test_analysts_only_are_created_when_configured(app_env, provider):
    app = _app(app_env, provider, create_analysts=True)
    provider.person = {"sub": "idp-8", "preferred_username": "newcomer", "amr": ["mfa"],
                       "employee_id": "S-NEW-8", "role": "admin"}  # fmt: skip
    client = TestClient(app, follow_redirects=False)
    assert sign_in(client).status_code == 200
    made = next(u for u in app_env["store"].users() if u.username == "newcomer")
    assert (made.role, made.staff_id, made.created_by) == (Role.ANALYST, "S-NEW-8", "sso")
    assert client.get("/admin/users").status_code == 403  # whatever the provider claims
    # no staff id, no account
    provider.person = {"sub": "idp-9", "preferred_username": "nobody", "amr": ["mfa"]}
    assert sign_in(TestClient(app, follow_redirects=False)).status_code == 403
    assert _refusals(app_env)[-1]["why"] == "no_staff_id"


def test_without_a_provider_the_routes_are_not_found(app_env):
    client = TestClient(app_env["app"], follow_redirects=False)
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/login").text


def test_the_provider_is_configured_from_the_environment(monkeypatch):
    from pydantic import ValidationError

    from probity.settings import OidcSettings, Settings

    monkeypatch.setenv("PROBITY_TRIAGE__OIDC__ISSUER", "https://login.force.example/acu")
    monkeypatch.setenv("PROBITY_TRIAGE__OIDC__CLIENT_ID", "probity")
    monkeypatch.setenv("PROBITY_TRIAGE__OIDC__CLIENT_SECRET", "a-very-secret-value-42")
    monkeypatch.setenv("PROBITY_TRIAGE__MFA_ROLES", '["admin", "head_of_unit", "supervisor"]')
    settings = Settings()
    oidc = settings.triage.oidc
    assert oidc.enabled and oidc.client_secret is not None
    assert oidc.client_secret.get_secret_value() == "a-very-secret-value-42"
    assert "a-very-secret-value-42" not in repr(settings)
    assert settings.triage.mfa_roles == ("admin", "head_of_unit", "supervisor")
    with pytest.raises(ValidationError, match="https"):
        OidcSettings(issuer="http://login.force.example", client_id="x")
    assert not Settings().model_copy(update={"triage": settings.triage.model_copy(
        update={"oidc": OidcSettings()})}).triage.oidc.enabled  # fmt: skip
