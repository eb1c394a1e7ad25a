"""Every client method, blocking and asyncio, against the simulator."""

from __future__ import annotations

import asyncio

import ctt_onboard as ctt
import pytest
from conftest import unique_name
from ctt_onboard.testing import Simulator

REDIRECT = "https://portal.example/callback"


def pbx_enterprise(name: str) -> ctt.NewEnterprise:
    return ctt.NewEnterprise(
        enterprise_name=name,
        services=[ctt.Service.PBX, ctt.Service.SMS],
        sbc_gateways=[5678],
        pbx_id=[1234],
        restrict_admin_access=True,
    )


def test_every_method_blocking(sim: Simulator, client: ctt.Client) -> None:
    user = client.authenticated_user()
    assert user.user_type == "RESELLER"
    assert user.reseller_id == sim.reseller_id
    assert user.username == sim.reseller.username
    reseller_id = client.reseller_id()
    assert reseller_id == sim.reseller_id

    gateways = client.sbc_gateways(reseller_id)
    assert ctt.SbcGateway(sbc_gateway_id=5678, sbc_gateway_region="US-East") in gateways
    pbx_types = client.pbx_types(reseller_id)
    assert [p.id for p in pbx_types if p.is_default] == [1234]

    name = unique_name()
    enterprise_id = client.create_enterprise(pbx_enterprise(name))
    assert [(e["id"], e["name"]) for e in sim.enterprises()] == [(enterprise_id, name)]
    assert ctt.EnterpriseSummary(enterprise_id, name, billing_references=[]) in client.enterprises(
        reseller_id
    )
    assert client.find_enterprise(reseller_id, name) == ctt.EnterpriseSummary(
        enterprise_id, name, billing_references=[]
    )
    assert client.find_enterprise(reseller_id, "nobody") is None

    url = client.action_item_url(ctt.ActionType.REGISTRATION, name, REDIRECT)
    assert url.startswith(sim.base_url)
    callback = sim.approve(url, "fabrikam")
    assert callback.url == REDIRECT
    auth = ctt.CallbackPayload.from_json(callback.body).authentication_result

    assert client.o365_user_info(auth).contains_teams_tenant_admin_api is False
    client.provision_tenant_admin_api(auth)
    assert client.o365_user_info(auth).contains_teams_tenant_admin_api is True

    consent_url = client.action_item_url("GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT", name, REDIRECT)
    consent = ctt.CallbackPayload.from_json(sim.approve(consent_url, "fabrikam").body)
    assert consent.tenant_id is not None
    client.update_management_consent(consent.authentication_result, reseller_id, consent.tenant_id)
    assert sim.enterprises()[0]["managed_by_provider"] is True


async def test_every_method_async(sim: Simulator, async_client: ctt.AsyncClient) -> None:
    user = await async_client.authenticated_user()
    assert user.reseller_id == sim.reseller_id
    reseller_id = await async_client.reseller_id()
    assert reseller_id == sim.reseller_id
    gateways = await async_client.sbc_gateways(reseller_id)
    assert {g.sbc_gateway_region for g in gateways} == {"US-East", "US-West", "EU-West"}
    pbx_types = await async_client.pbx_types(reseller_id)
    assert {p.id for p in pbx_types} == {1234, 1235, 1236}

    name = unique_name()
    enterprise_id = await async_client.create_enterprise(pbx_enterprise(name))
    assert sim.enterprises()[0]["id"] == enterprise_id
    listed = await async_client.enterprises(reseller_id)
    assert ctt.EnterpriseSummary(enterprise_id, name, billing_references=[]) in listed
    found = await async_client.find_enterprise(reseller_id, name)
    assert found is not None and found.enterprise_id == enterprise_id
    assert await async_client.find_enterprise(reseller_id, "nobody") is None

    url = await async_client.action_item_url(ctt.ActionType.REGISTRATION, name, REDIRECT)
    auth = ctt.CallbackPayload.from_json(sim.approve(url, "fabrikam").body).authentication_result
    assert (await async_client.o365_user_info(auth)).contains_teams_tenant_admin_api is False
    await async_client.provision_tenant_admin_api(auth)
    assert (await async_client.o365_user_info(auth)).contains_teams_tenant_admin_api is True

    consent_url = await async_client.action_item_url(
        ctt.ActionType.GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT, name, REDIRECT
    )
    consent = ctt.CallbackPayload.from_json(sim.approve(consent_url, "fabrikam").body)
    assert consent.tenant_id is not None
    await async_client.update_management_consent(
        consent.authentication_result, reseller_id, consent.tenant_id
    )
    assert sim.enterprises()[0]["managed_by_provider"] is True


async def test_gather_of_100_calls_shares_one_token(
    sim: Simulator, async_client: ctt.AsyncClient
) -> None:
    users = await asyncio.gather(*(async_client.authenticated_user() for _ in range(100)))
    assert len(users) == 100
    assert all(u == users[0] for u in users)
    assert sim.token_requests("reseller") == 1
    answered = [r for r in sim.requests() if r["path"] == "/reseller/getAuthenticatedUser"]
    assert len(answered) == 100


async def test_cancelling_an_awaited_call_leaves_the_client_usable(
    sim: Simulator, async_client: ctt.AsyncClient
) -> None:
    await async_client.authenticated_user()
    sim.set_faults(rate=1.0, kinds=["latency"], latency_ms=30_000)
    task = asyncio.ensure_future(async_client.authenticated_user())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if any(r["path"] == "/reseller/getAuthenticatedUser" for r in sim.requests()[1:]):
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sim.clear_faults()
    user = await async_client.authenticated_user()
    assert user.reseller_id == sim.reseller_id


def test_context_managers_close(sim: Simulator) -> None:
    with sim.client() as c:
        assert c.reseller_id() == sim.reseller_id
    assert c.closed
    with pytest.raises(RuntimeError, match="closed"):
        c.reseller_id()
    assert "closed" in repr(c)


async def test_async_context_manager_closes(sim: Simulator) -> None:
    async with sim.async_client() as c:
        assert await c.reseller_id() == sim.reseller_id
    with pytest.raises(RuntimeError, match="closed"):
        await c.reseller_id()


def test_configuration_is_checked_before_any_call() -> None:
    with pytest.raises(ctt.InvalidInputError) as info:
        ctt.Client(base_url="http://api.example.com")
    assert info.value.code == "invalid_input"
    assert isinstance(info.value, ValueError)
    with pytest.raises(ctt.InvalidInputError, match="o365_user_info"):
        ctt.Client(paths={"o365_user_info": "no-leading-slash"})


def test_reseller_id_and_retry_settings_are_used(sim: Simulator) -> None:
    with sim.client(reseller_id=sim.reseller_id, retry=ctt.RetryPolicy.none(), timeout=5.0) as c:
        assert c.reseller_id() == sim.reseller_id
    assert not any(r["path"] == "/reseller/getAuthenticatedUser" for r in sim.requests())


def test_path_override_reaches_another_path(sim: Simulator) -> None:
    with sim.client(paths={"authenticated_user": "PUT /reseller/renamedUser"}) as c:
        with pytest.raises(ctt.NotFoundError) as info:
            c.authenticated_user()
    assert info.value.status == 404
    assert any(r["path"] == "/reseller/renamedUser" for r in sim.requests())


def test_enterprise_token_is_accepted(sim: Simulator) -> None:
    with sim.client(enterprise="not-a-real-token", retry=ctt.RetryPolicy.none()) as c:
        with pytest.raises(ctt.AuthenticationError) as info:
            c.o365_user_info(ctt.AuthenticationResult(access_token="x"))
    assert info.value.status == 401


def test_tls_and_proxy_settings_are_checked(sim: Simulator) -> None:
    with pytest.raises(ctt.InvalidInputError, match="ca_cert_pem"):
        ctt.Client(ca_cert_pem="not a pem")
    with pytest.raises(ctt.InvalidInputError, match="proxy"):
        ctt.Client(proxy="::not a url")
    with pytest.raises(ValueError, match="timeout"):
        ctt.Client(timeout=-1.0)
    with sim.client(proxy="http://127.0.0.1:9", retry=ctt.RetryPolicy.none()) as c:
        with pytest.raises(ctt.NetworkError):
            c.authenticated_user()
    assert sim.requests() == []
