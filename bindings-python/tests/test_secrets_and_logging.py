"""Secrets never reach a repr, a str, an exception or a log record; tracing events reach the
``ctt_onboard`` logger."""

from __future__ import annotations

import logging

import ctt_onboard as ctt
import pytest
from conftest import KEY, unique_name
from ctt_onboard.testing import Simulator

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
