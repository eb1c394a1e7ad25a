"""Secrets never reach a repr, a str, an exception or a log record; tracing events reach the
``ctt_onboard`` logger.

The last test is the issue 9 item 6 check: canary client secret, passwords, callback key,
tokens, and the real MSAL access/id tokens of every callback of full flows never appear in a log
record (at the most detailed level, the HTTP stack's events included), a repr or str of any
public object, an exception's message, repr, traceback or pickle, or the JSON of a flow's status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import traceback
from collections.abc import Iterator
from typing import Any

import ctt_onboard as ctt
import pytest
from conftest import KEY, unique_name
from ctt_onboard.testing import Callback, Simulator

CANARY_SECRET = "CANARY-client-secret-7f3a"
CANARY_PASSWORD = "CANARY-password-19bc"
CANARY_TOKEN = "CANARY-token-55de"


def test_canaries_stay_out_of_errors_reprs_and_logs(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctt_onboard")
    creds = ctt.ResellerCredentials(
        client_id=sim.reseller.client_id,
        client_secret=CANARY_SECRET,
        username=sim.reseller.username,
        password=CANARY_PASSWORD,
    )
    texts: list[str] = []
    with sim.client(reseller=creds, enterprise=CANARY_TOKEN, callback_key=KEY) as c:
        texts += [repr(c), str(c), repr(creds)]
        with pytest.raises(ctt.AuthenticationError) as info:
            c.authenticated_user()
        texts += [str(info.value), repr(info.value), str(info.value.args)]
        with pytest.raises(ctt.AuthenticationError) as info2:
            c.o365_user_info(ctt.AuthenticationResult(access_token=CANARY_TOKEN))
        texts += [str(info2.value), repr(info2.value)]
    assert caplog.records, "the failed calls should have logged"
    texts += [r.getMessage() for r in caplog.records]
    texts.append(caplog.text)
    for text in texts:
        for canary in (CANARY_SECRET, CANARY_PASSWORD, CANARY_TOKEN):
            assert canary not in text


def test_msal_tokens_stay_out_of_flow_reprs_status_and_logs(
    sim: Simulator, client: ctt.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctt_onboard")
    plan = ctt.OnboardingPlan(
        enterprise=ctt.NewEnterprise(enterprise_name=unique_name(), services=[ctt.Service.SMS]),
        redirect_url="https://portal.example/cb",
    )
    flow = ctt.Onboarding(plan)
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    callback = sim.approve(progress.url, "contoso")
    payload = ctt.CallbackPayload.from_json(callback.body)
    tokens = [payload.authentication_result.access_token, payload.authentication_result.id_token]
    assert all(tokens)
    flow.handle_callback(KEY, callback.url, callback.body)
    flow.advance(client)
    verified = ctt.verify_callback(KEY, callback.url, callback.body)
    texts = [
        repr(flow),
        repr(flow.status()),
        repr(flow.progress()),
        repr(payload),
        repr(verified),
        repr(callback),
        caplog.text,
    ]
    for text in texts:
        for token in tokens:
            assert token is not None and token not in text
    # The flow's JSON holds the MSAL result on purpose (documented: store it like a token).
    assert payload.authentication_result.access_token in flow.to_json()


def test_tracing_events_reach_the_logger(
    sim: Simulator, client: ctt.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctt_onboard")
    client.authenticated_user()
    records = [r for r in caplog.records if r.name == "ctt_onboard"]
    assert any("fetching a token" in r.getMessage() for r in records)
    assert any(r.levelno == logging.DEBUG for r in records)
    targets = {getattr(r, "ctt_target", "") for r in records}
    assert "" not in targets
    assert any(t.startswith("ctt_onboard") for t in targets)


def test_logger_level_filters_records(
    sim: Simulator, client: ctt.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ctt_onboard")
    client.authenticated_user()
    client.reseller_id()
    assert not [r for r in caplog.records if r.name == "ctt_onboard"]
    caplog.set_level(logging.DEBUG, logger="ctt_onboard")
    client.sbc_gateways(sim.reseller_id)
    assert [r for r in caplog.records if r.name == "ctt_onboard"]


# ---- issue 9 item 6: every secret through every path, over full flows ----

CLIENT_SECRET = "CANARY-client-secret-3d91c"
PASSWORD = "CANARY-reseller-password-a7c2"
ENTERPRISE_PASSWORD = "CANARY-enterprise-password-0be4"
CALLBACK_KEY = "CANARY-callback-key-5f1e-0123456789abcdef"
WRONG_PASSWORD = "CANARY-wrong-password-61aa"
WRONG_KEY = "CANARY-wrong-callback-key-77b0-0123456789"
TOKEN = "CANARY-token-55de0f"
REDIRECT = "https://portal.example/onboarding/callback"
HALF_HOUR_AND_A_MINUTE = 31 * 60
TRACE = 5
OPTIONAL = [ctt.ActionType.GET_CONTACTS_CONSENT, ctt.ActionType.GET_CDR_CONSENT]


@pytest.fixture
def canary_sim() -> Iterator[Simulator]:
    """A simulator that accepts only the canary credentials."""
    with Simulator(
        credentials={
            "client_secret": CLIENT_SECRET,
            "password": PASSWORD,
            "enterprise_password": ENTERPRISE_PASSWORD,
        }
    ) as sim:
        yield sim


def tokens_in(body: str) -> set[str]:
    """The MSAL tokens (access, id, refresh) anywhere in a callback body."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("accessToken", "idToken", "refreshToken"):
            found.add(value)

    walk(json.loads(body))
    return found


class Seen:
    """Everything a person or a log could see, as text."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.errors: list[BaseException] = []

    def show(self, what: str, *objects: object) -> None:
        for obj in objects:
            self.texts.append((f"{what} repr", repr(obj)))
            self.texts.append((f"{what} str", str(obj)))

    def error(self, what: str, err: BaseException) -> None:
        self.errors.append(err)
        self.show(what, err)
        self.texts.append((f"{what} args", repr(err.args)))
        self.texts.append((f"{what} traceback", "".join(traceback.format_exception(err))))
        if isinstance(err, ctt.CttError):
            self.texts.append((f"{what} message", err.message))
            pickled = pickle.dumps(err)
            self.texts.append((f"{what} pickle", pickled.decode("latin-1")))
            again = pickle.loads(pickled)
            assert type(again) is type(err) and again.message == err.message
            self.show(f"{what} unpickled", again)
        cause = err.__cause__ or err.__context__
        if cause is not None:
            self.error(f"{what} cause", cause)

    def raises(self, what: str, expected: type[BaseException], call: Any, *args: Any) -> None:
        with pytest.raises(expected) as info:
            call(*args)
        self.error(what, info.value)


def drive(
    seen: Seen,
    sim: Simulator,
    client: ctt.Client,
    clock: ctt.ManualClock,
    flow: ctt.Onboarding,
    tenant: str,
) -> list[Callback]:
    callbacks = []
    for _ in range(20):
        progress = flow.advance(client)
        seen.show("progress", progress)
        seen.show("status", *flow.status())
        if isinstance(progress, ctt.AwaitingAdmin):
            callback = sim.approve(progress.url, tenant, post=False)
            callbacks.append(callback)
            payload = ctt.CallbackPayload.from_json(callback.body)
            verified = ctt.verify_callback(CALLBACK_KEY, callback.url, callback.body)
            seen.show("callback", callback, payload, verified)
            seen.show("payload parts", *(getattr(payload, f.name) for f in payload.fields()))
            seen.show("payload auth", payload.authentication_result)
            # Wrong, truncated and replayed callbacks, each carrying the real tokens.
            seen.raises(
                "wrong key",
                ctt.CallbackInvalidError,
                flow.handle_callback,
                WRONG_KEY,
                callback.url,
                callback.body,
            )
            seen.raises(
                "truncated body",
                ctt.CallbackInvalidError,
                flow.handle_callback,
                CALLBACK_KEY,
                callback.url,
                callback.body[: len(callback.body) // 2],
            )
            outcome = flow.handle_callback(CALLBACK_KEY, callback.url, callback.body)
            assert outcome is ctt.CallbackOutcome.ACCEPTED
            seen.show("outcome", outcome, flow)
        elif isinstance(progress, ctt.WaitingUntil):
            clock.advance(HALF_HOUR_AND_A_MINUTE)
            sim.advance_clock(HALF_HOUR_AND_A_MINUTE)
        else:
            return callbacks
    raise AssertionError("the flow did not finish")


def status_json(flow: ctt.Onboarding) -> str:
    return json.dumps(
        [{f.name: getattr(s, f.name) for f in s.fields()} for s in flow.status()], default=str
    )


def test_no_secret_reaches_a_log_repr_error_or_status(
    canary_sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim = canary_sim
    caplog.set_level(1, logger="ctt_onboard")
    seen = Seen()
    clock = ctt.ManualClock()
    assert sim.reseller.client_secret == CLIENT_SECRET
    assert sim.reseller.password == PASSWORD
    assert sim.enterprise.password == ENTERPRISE_PASSWORD
    seen.show("credentials", sim.reseller, sim.enterprise, sim, clock, ctt.RetryPolicy())

    callbacks: list[Callback] = []
    flows = []
    with sim.client(callback_key=CALLBACK_KEY, clock=clock) as client:
        seen.show("client", client)
        user = client.authenticated_user()
        reseller_id = client.reseller_id()
        seen.show("models", user, *client.sbc_gateways(reseller_id), *client.pbx_types(reseller_id))
        for tenant, services in [
            ("fabrikam", [ctt.Service.PBX, ctt.Service.SMS, ctt.Service.CALL_APP]),
            ("northwind", [ctt.Service.SMS]),
            ("contoso", [ctt.Service.TRUNK, ctt.Service.CHAT]),
        ]:
            plan = ctt.OnboardingPlan(
                enterprise=ctt.NewEnterprise(
                    enterprise_name=unique_name(tenant), services=services
                ),
                redirect_url=REDIRECT,
                gateway_regions=["US-East"],
                optional_consents=OPTIONAL if tenant == "fabrikam" else [],
            )
            flow = ctt.Onboarding(plan)
            seen.show("plan", plan, plan.enterprise)
            callbacks += drive(seen, sim, client, clock, flow, tenant)
            assert flow.is_complete
            flows.append(flow)
        seen.show("enterprises", *client.enterprises(reseller_id))
        auth = ctt.CallbackPayload.from_json(callbacks[0].body).authentication_result
        seen.show("user info", client.o365_user_info(auth))

        # A Global Admin who is not: refused, with the tenant's real tokens in the body.
        flow = ctt.Onboarding(
            ctt.OnboardingPlan(
                enterprise=ctt.NewEnterprise(
                    enterprise_name=unique_name("tailspin"), services=[ctt.Service.SMS]
                ),
                redirect_url=REDIRECT,
            )
        )
        progress = flow.advance(client)
        assert isinstance(progress, ctt.AwaitingAdmin)
        tailspin = sim.approve(progress.url, "tailspin", post=False)
        callbacks.append(tailspin)
        seen.raises(
            "tailspin",
            ctt.CallbackInvalidError,
            flow.handle_callback,
            CALLBACK_KEY,
            tailspin.url,
            tailspin.body,
        )
        flows.append(flow)
        seen.raises(
            "garbage token",
            ctt.InvalidInputError,
            client.o365_user_info,
            ctt.AuthenticationResult(access_token=TOKEN, id_token=TOKEN),
        )

    # Wrong credentials and tokens given by the caller.
    wrong = sim.reseller.replace(password=WRONG_PASSWORD)
    with sim.client(reseller=wrong, callback_key=CALLBACK_KEY) as c:
        seen.raises("wrong password", ctt.AuthenticationError, c.authenticated_user)
    with sim.client(reseller=None, reseller_token=TOKEN, enterprise=TOKEN) as c:
        seen.show("token client", c)
        seen.raises("unknown token", ctt.AuthenticationError, c.authenticated_user)
    async_client = sim.async_client(callback_key=CALLBACK_KEY)
    seen.show("async client", async_client)
    asyncio.run(async_client.aclose())

    # Token answers that hold a secret but are not a token answer: the error withholds them.
    for status, content_type, body in [
        (200, "application/json", json.dumps({"token": TOKEN, "password": PASSWORD})),
        (200, "text/plain", f"access_token={TOKEN}&client_secret={CLIENT_SECRET}"),
        (400, "text/plain", f"access_token={TOKEN} password={PASSWORD}"),
        (500, "text/html", f"<html>{TOKEN}"),
    ]:
        sim.set_canned("/oauth/token", body, status=status, content_type=content_type)
        with sim.client(retry=ctt.RetryPolicy.none()) as c:
            with pytest.raises(ctt.CttError) as info:
                c.authenticated_user()
            seen.error(f"token answer {status} {content_type}", info.value)
    sim.clear_canned()

    for flow in flows:
        seen.show("flow", flow, flow.progress(), flow.plan, *flow.status())
        seen.texts.append(("status JSON", status_json(flow)))

    records = [r for r in caplog.records if r.name == "ctt_onboard"]
    assert any(r.levelno == TRACE for r in records), "trace-level records were captured"
    targets = {getattr(r, "ctt_target", "") for r in records}
    assert any(not t.startswith(("ctt_onboard", "ctt_sim")) for t in targets), (
        f"the HTTP stack's events are among them: {sorted(targets)}"
    )
    for r in records:
        seen.texts.append((f"log {r.ctt_target}", r.getMessage()))  # type: ignore[attr-defined]
    seen.texts.append(("caplog text", caplog.text))

    assert all(len(tokens_in(cb.body)) >= 2 for cb in callbacks), "access and id tokens"
    msal = set().union(*(tokens_in(cb.body) for cb in callbacks))
    assert len(callbacks) >= 10
    canaries = {
        CLIENT_SECRET,
        PASSWORD,
        ENTERPRISE_PASSWORD,
        CALLBACK_KEY,
        WRONG_PASSWORD,
        WRONG_KEY,
        TOKEN,
        *msal,
    }
    assert len(seen.errors) > 10
    leaks = [
        (what, canary[:12]) for what, text in seen.texts for canary in canaries if canary in text
    ]
    assert leaks == [], sorted({what for what, _ in leaks})
