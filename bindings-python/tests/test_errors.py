"""Every error code maps to its class, with status, request id and retry_after, and pickles."""

from __future__ import annotations

import builtins
import pickle

import ctt_onboard as ctt
import pytest
from conftest import unique_name
from ctt_onboard._generated import ERROR_CODES
from ctt_onboard.errors import ERROR_CLASSES
from ctt_onboard.testing import Simulator

EXPECTED = {
    "invalid_input": ctt.InvalidInputError,
    "authentication": ctt.AuthenticationError,
    "forbidden": ctt.ForbiddenError,
    "not_found": ctt.NotFoundError,
    "conflict": ctt.ConflictError,
    "rate_limited": ctt.RateLimitedError,
    "server": ctt.ServerError,
    "api": ctt.ApiError,
    "tenant_roles_missing": ctt.TenantRolesMissingError,
    "timeout": ctt.TimeoutError,
    "network": ctt.NetworkError,
    "decode": ctt.DecodeError,
    "callback_invalid": ctt.CallbackInvalidError,
    "flow_state": ctt.FlowStateError,
    "outcome_unknown": ctt.OutcomeUnknownError,
}


def fail(client: ctt.Client, code: str, message: str, **fields: object) -> ctt.CttError:
    """The exception a core error with these fields becomes, through the path every call takes
    (core's hidden ``__fail`` call, which sends nothing)."""
    with pytest.raises(ctt.CttError) as info:
        client._call({"call": "__fail", "code": code, "message": message, **fields})
    return info.value


def test_the_classes_cover_every_core_code() -> None:
    # The generated ERROR_CODES are core's codes (`make check-generated`), and each has its class.
    assert [code for code, _ in ERROR_CODES] == list(EXPECTED)
    for code in EXPECTED:
        assert ERROR_CLASSES[code] is EXPECTED[code]
        assert getattr(ctt, EXPECTED[code].__name__) is EXPECTED[code]


def test_is_transient_is_cores_rule(client: ctt.Client) -> None:
    errors = [fail(client, code, "x") for code in EXPECTED]
    transient = {e.code for e in errors if isinstance(e, ctt.CttError) and e.is_transient}
    assert transient == {"rate_limited", "server", "timeout", "network"}


@pytest.mark.parametrize("code", list(EXPECTED))
def test_each_code_becomes_its_class_with_status_and_request_id(
    client: ctt.Client, code: str
) -> None:
    err = fail(client, code, "it failed", status=503, requestId="req-42", retryAfterMs=1500)
    cls = EXPECTED[code]
    assert type(err) is cls
    assert isinstance(err, ctt.CttError)
    assert err.code == code
    assert err.status == 503
    assert err.request_id == "req-42"
    assert err.retry_after == 1.5
    assert str(err) == "it failed (HTTP 503, request id req-42)"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls
    assert (again.code, again.status, again.request_id, again.retry_after, str(again)) == (
        code,
        503,
        "req-42",
        1.5,
        str(err),
    )


def test_builtin_bases(client: ctt.Client) -> None:
    assert issubclass(ctt.InvalidInputError, ValueError)
    assert issubclass(ctt.TimeoutError, builtins.TimeoutError)
    assert issubclass(ctt.NetworkError, ConnectionError)
    assert issubclass(ctt.NotFoundError, LookupError)
    err = fail(client, "timeout", "slow")
    assert isinstance(err, builtins.TimeoutError)
    assert (err.status, err.request_id, err.retry_after) == (None, None, None)
    assert str(err) == "slow"


def test_conflict_from_the_api(sim: Simulator, client: ctt.Client) -> None:
    enterprise = ctt.NewEnterprise(enterprise_name=unique_name(), services=[ctt.Service.SMS])
    client.create_enterprise(enterprise)
    with pytest.raises(ctt.ConflictError) as info:
        client.create_enterprise(enterprise)
    assert info.value.status == 409
    assert info.value.request_id
    assert info.value.request_id in str(info.value)
    assert not info.value.is_transient


def test_invalid_input_names_the_field_and_sends_nothing(
    sim: Simulator, client: ctt.Client
) -> None:
    bad = ctt.NewEnterprise(enterprise_name="Trunk Co", services=[ctt.Service.TRUNK])
    with pytest.raises(ctt.InvalidInputError, match="sbcGateways"):
        client.create_enterprise(bad)
    with pytest.raises(ValueError, match="sbcGateways"):
        bad.validate()
    assert not any(r["path"] == "/reseller/newEnterprise" for r in sim.requests())


def test_authentication(sim: Simulator) -> None:
    wrong = ctt.ResellerCredentials(
        client_id=sim.reseller.client_id,
        client_secret=sim.reseller.client_secret,
        username=sim.reseller.username,
        password="wrong-password",
    )
    with sim.client(reseller=wrong) as c, pytest.raises(ctt.AuthenticationError) as info:
        c.authenticated_user()
    assert info.value.status in (400, 401)


def test_rate_limited_carries_retry_after(sim: Simulator) -> None:
    sim.set_faults(rate=1.0, kinds=["429"], retry_after=120)
    retry = ctt.RetryPolicy(max_attempts=2, max_retry_after=1.0)
    with sim.client(retry=retry, reseller_id=sim.reseller_id) as c:
        with pytest.raises(ctt.RateLimitedError) as info:
            c.sbc_gateways(sim.reseller_id)
    assert info.value.status == 429
    assert info.value.retry_after == 120
    assert info.value.request_id
    assert info.value.is_transient


def test_server_error(sim: Simulator) -> None:
    sim.set_faults(rate=1.0, kinds=["500"], paths=["/reseller"])
    with sim.client(retry=ctt.RetryPolicy.none(), reseller_id=sim.reseller_id) as c:
        with pytest.raises(ctt.ServerError) as info:
            c.sbc_gateways(sim.reseller_id)
    assert info.value.status == 500
    assert info.value.request_id


def test_timeout(sim: Simulator) -> None:
    sim.set_faults(rate=1.0, kinds=["latency"], latency_ms=5_000, paths=["/reseller"])
    with sim.client(retry=ctt.RetryPolicy.none(), timeout=0.2, reseller_id=sim.reseller_id) as c:
        with pytest.raises(ctt.TimeoutError) as info:
            c.sbc_gateways(sim.reseller_id)
    assert isinstance(info.value, builtins.TimeoutError)
    assert info.value.code == "timeout"


def test_network() -> None:
    with Simulator() as gone:
        base_url = gone.base_url
    with ctt.Client(base_url=base_url, reseller_token="t", retry=ctt.RetryPolicy.none()) as c:
        with pytest.raises(ctt.NetworkError) as info:
            c.authenticated_user()
    assert info.value.status is None
    assert isinstance(info.value, ConnectionError)


def test_outcome_unknown(sim: Simulator, client: ctt.Client) -> None:
    client.reseller_id()
    sim.set_faults(rate=1.0, kinds=["drop-after"], paths=["/reseller"])
    enterprise = ctt.NewEnterprise(enterprise_name=unique_name(), services=[ctt.Service.SMS])
    with pytest.raises(ctt.OutcomeUnknownError):
        client.create_enterprise(enterprise)


def test_tenant_roles_missing(sim: Simulator, client: ctt.Client) -> None:
    name = unique_name()
    client.create_enterprise(ctt.NewEnterprise(enterprise_name=name, services=[ctt.Service.SMS]))
    redirect = "https://portal.example/cb"
    sim.approve(client.action_item_url("REGISTRATION", name, redirect), "northwind")
    url = client.action_item_url("GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT", name, redirect)
    payload = ctt.CallbackPayload.from_json(sim.approve(url, "northwind").body)
    assert payload.tenant_id is not None
    with pytest.raises(ctt.TenantRolesMissingError) as info:
        client.update_management_consent(
            payload.authentication_result, sim.reseller_id, payload.tenant_id
        )
    assert info.value.status == 400
    assert info.value.request_id


def test_callback_invalid() -> None:
    with pytest.raises(ctt.CallbackInvalidError):
        ctt.verify_callback("k" * 32, "https://portal.example/cb?ctt_flow=x", "{}")


def test_decode_when_a_response_exceeds_the_cap(sim: Simulator) -> None:
    with sim.client(max_response_bytes=16, reseller_id=sim.reseller_id) as c:
        with pytest.raises(ctt.DecodeError) as info:
            c.sbc_gateways(sim.reseller_id)
    assert info.value.code == "decode"


def test_the_cause_chain_becomes_dunder_cause(sim: Simulator) -> None:
    sim.set_faults(rate=1.0, kinds=["drop-before"], paths=["/reseller"])
    with sim.client(retry=ctt.RetryPolicy.none(), reseller_id=sim.reseller_id) as c:
        with pytest.raises(ctt.NetworkError) as info:
            c.sbc_gateways(sim.reseller_id)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert str(info.value.__cause__)


PANIC = {"call": "__fail", "code": "api", "message": "unused", "panic": True}


def test_a_panic_becomes_an_api_error_not_an_unwind(client: ctt.Client) -> None:
    with pytest.raises(ctt.ApiError, match="internal error") as info:
        client._call(PANIC)
    assert info.value.code == "api"


async def test_a_panic_in_an_async_client_call_becomes_an_api_error(
    async_client: ctt.AsyncClient,
) -> None:
    # The path every AsyncClient call and advance_async take: the loop's completion queue.
    with pytest.raises(ctt.ApiError, match="forced panic"):
        await async_client._call(PANIC)
    assert await async_client.reseller_id() > 0, "the client still answers"
