"""Hostile and bad input through the binding (issue 9 item 4; core/tests/hostile.rs is the Rust
version): the caller's mistakes are ``InvalidInputError`` naming the problem with nothing sent,
the server's oddities (the simulator's canned responses) are ``DecodeError`` naming the problem,
and neither changes a flow's JSON."""

from __future__ import annotations

import json
from typing import Any

import ctt_onboard as ctt
import pytest
from conftest import unique_name
from ctt_onboard.testing import Simulator

REDIRECT = "https://portal.example/onboarding/callback"
GATEWAYS = "/reseller/getAvailableSBCGatewayRegionsByResellerId"


def trunk(name: str, **fields: Any) -> ctt.NewEnterprise:
    fields.setdefault("sbc_gateways", [5678])
    return ctt.NewEnterprise(enterprise_name=name, services=[ctt.Service.TRUNK], **fields)


def other(service: str, **fields: Any) -> ctt.NewEnterprise:
    return ctt.NewEnterprise(enterprise_name="A", services=[ctt.Service(service)], **fields)


BAD_ENTERPRISES = [
    ("blank name", trunk("   "), "enterpriseName"),
    ("empty name", trunk(""), "enterpriseName"),
    ("10,000-character name", trunk("n" * 10_000), "enterpriseName"),
    ("NUL in name", trunk("Acme\x00Ltd"), "enterpriseName"),
    ("newline in name", trunk("Acme\nLtd"), "enterpriseName"),
    ("escape in name", trunk("Acme\x1b[31mLtd"), "enterpriseName"),
    ("no services", ctt.NewEnterprise(enterprise_name="A", services=[]), "services"),
    ("malformed service", other("PBX; DROP"), "services"),
    ("empty service", other(""), "services"),
    ("oversized service", other("S" * 500), "services"),
    ("gateways missing for PBX", other("PBX", pbx_id=[1]), "sbcGateways"),
    ("gateways missing for Trunk", other("Trunk"), "sbcGateways"),
    ("PBX type missing for PBX", other("PBX", sbc_gateways=[5678]), "pbxId"),
    ("PBX type missing for CALLAPP", other("CALLAPP"), "pbxId"),
    ("negative gateway", trunk("A", sbc_gateways=[-1]), "sbcGateways"),
    ("zero PBX type", other("CALLAPP", pbx_id=[0]), "pbxId"),
    ("negative PBX type", other("CALLAPP", pbx_id=[-7]), "pbxId"),
    ("negative reseller", other("SMS", reseller_id=-4), "resellerId"),
]


@pytest.mark.parametrize(
    ("enterprise", "field"),
    [pytest.param(e, f, id=what) for what, e, f in BAD_ENTERPRISES],
)
def test_an_invalid_enterprise_is_refused_and_nothing_is_sent(
    sim: Simulator, client: ctt.Client, enterprise: ctt.NewEnterprise, field: str
) -> None:
    with pytest.raises(ctt.InvalidInputError) as info:
        enterprise.validate()
    assert field in str(info.value)
    with pytest.raises(ctt.InvalidInputError) as info:
        client.create_enterprise(enterprise)
    message = str(info.value)
    assert info.value.code == "invalid_input"
    assert field in message, message
    assert len(message) < 400, "the message does not echo oversized input"
    assert sim.requests() == []


@pytest.mark.parametrize(
    ("enterprise", "field"),
    [pytest.param(e, f, id=what) for what, e, f in BAD_ENTERPRISES if "missing" not in what],
)
def test_a_plan_with_an_invalid_enterprise_never_starts(
    sim: Simulator, client: ctt.Client, enterprise: ctt.NewEnterprise, field: str
) -> None:
    # (Missing gateways and PBX types are not here: the flow looks them up from the plan's
    # gateway regions and PBX type.)
    plan = ctt.OnboardingPlan(enterprise=enterprise, redirect_url=REDIRECT)
    try:
        flow = ctt.Onboarding(plan)
    except ctt.InvalidInputError as e:
        assert field in str(e)
    else:
        before = flow.to_json()
        with pytest.raises(ctt.InvalidInputError) as info:
            flow.advance(client)
        assert field in str(info.value)
        assert flow.to_json() == before
    assert sim.requests() == []


@pytest.mark.parametrize("service", ["FAX", "Voicemail2", "NEW_SERVICE"])
def test_an_unknown_well_formed_service_passes_through_and_the_api_names_it(
    sim: Simulator, client: ctt.Client, service: str
) -> None:
    enterprise = ctt.NewEnterprise(enterprise_name=unique_name(), services=[ctt.Service(service)])
    assert not enterprise.services[0].is_known
    enterprise.validate()
    with pytest.raises(ctt.InvalidInputError) as info:
        client.create_enterprise(enterprise)
    assert info.value.status == 400
    assert service in str(info.value)
    sent = [r for r in sim.requests() if r["path"].startswith("/reseller/newEnterprise")]
    assert len(sent) == 1, "it was sent: the API refused it"
    assert sim.enterprises() == []


BAD_URLS = [
    ("public http", "http://portal.example/cb"),
    ("private-range http", "http://192.168.1.10/cb"),
    ("ftp", "ftp://portal.example/cb"),
    ("javascript", "javascript:alert(1)"),
    ("relative", "/cb"),
    ("empty", ""),
    ("oversized", "https://portal.example/" + "a" * 5000),
]


@pytest.mark.parametrize("url", [pytest.param(u, id=what) for what, u in BAD_URLS])
def test_a_bad_redirect_url_is_refused_and_nothing_is_sent(
    sim: Simulator, client: ctt.Client, url: str
) -> None:
    with pytest.raises(ctt.InvalidInputError) as info:
        client.action_item_url(ctt.ActionType.REGISTRATION, "A", url)
    assert "redirectUrl" in str(info.value), str(info.value)
    assert len(str(info.value)) < 1000
    plan = ctt.OnboardingPlan(
        enterprise=ctt.NewEnterprise(enterprise_name="A", services=[ctt.Service.SMS]),
        redirect_url=url,
    )
    with pytest.raises(ctt.InvalidInputError) as info:
        ctt.Onboarding(plan)
    assert "redirect" in str(info.value), str(info.value)
    assert sim.requests() == []


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://api.connecttoteams.com", id="public http"),
        pytest.param("http://10.0.0.8:8080", id="private-range http"),
        pytest.param("ftp://api.connecttoteams.com", id="ftp"),
        pytest.param("api.connecttoteams.com", id="no scheme"),
        pytest.param("https://" + "a" * 5000 + ".example", id="oversized"),
    ],
)
def test_a_bad_base_url_is_refused_before_any_client_exists(sim: Simulator, url: str) -> None:
    with pytest.raises(ctt.InvalidInputError) as info:
        ctt.Client(base_url=url, reseller=sim.reseller)
    assert "base_url" in str(info.value), str(info.value)
    assert len(str(info.value)) < 6000
    assert sim.requests() == []


CANNED = [
    ("2 MiB body", "application/json", "[" + "1," * (1 << 20) + "1]", "cap"),
    ("deeply nested", "application/json", "[" * 100_000, "not the documented JSON"),
    ("deeply nested objects", "application/json", '{"a":' * 50_000, "not the documented JSON"),
    ("HTML", "text/html", "<html><body>Login</body></html>", "not the documented JSON"),
    ("XML", "application/xml", "<gateways/>", "not the documented JSON"),
    ("wrong shape", "application/json", '{"sbcGatewayId": "x"}', "sbc_gateways"),
    ("empty", "application/json", "", "not the documented JSON"),
]


@pytest.mark.parametrize(
    ("content_type", "body", "expect"),
    [pytest.param(c, b, e, id=what) for what, c, b, e in CANNED],
)
def test_an_odd_answer_is_a_decode_error_naming_the_problem(
    sim: Simulator, client: ctt.Client, content_type: str, body: str, expect: str
) -> None:
    client.reseller_id()
    sim.set_canned(GATEWAYS, body, content_type=content_type)
    with pytest.raises(ctt.DecodeError) as info:
        client.sbc_gateways(sim.reseller_id)
    message = str(info.value)
    assert info.value.code == "decode"
    assert expect in message, message
    assert len(message) < 2048, "the message is cut short"
    sim.clear_canned()
    assert client.sbc_gateways(sim.reseller_id)


def test_odd_answers_on_other_endpoints_are_decode_errors(sim: Simulator) -> None:
    with sim.client() as client:
        sim.set_canned("/reseller/newEnterprise", "<html>created</html>", content_type="text/plain")
        with pytest.raises(ctt.DecodeError, match="enterprise id"):
            client.create_enterprise(
                ctt.NewEnterprise(enterprise_name="A", services=[ctt.Service.SMS])
            )
        sim.set_canned("/enterprise/getActionItemUrl", "<html>no</html>", content_type="text/html")
        with pytest.raises(ctt.DecodeError, match="not a URL"):
            client.action_item_url(ctt.ActionType.REGISTRATION, "A", REDIRECT)
        sim.set_canned("/reseller/v3", "{}")
        with pytest.raises(ctt.DecodeError):
            client.find_enterprise(sim.reseller_id, "A")
    sim.set_canned("/oauth/token", '{"token":"x"}')
    with sim.client() as fresh:
        with pytest.raises(ctt.DecodeError, match="token response"):
            fresh.sbc_gateways(sim.reseller_id)


def new_flow() -> ctt.Onboarding:
    return ctt.Onboarding(
        ctt.OnboardingPlan(
            enterprise=ctt.NewEnterprise(
                enterprise_name=unique_name("Hostile"), services=[ctt.Service.TRUNK]
            ),
            redirect_url=REDIRECT,
            gateway_regions=["US-East"],
        )
    )


@pytest.mark.parametrize(
    ("content_type", "body", "expect"),
    [pytest.param(c, b, e, id=what) for what, c, b, e in CANNED],
)
def test_a_failed_advance_leaves_the_flow_json_unchanged(
    sim: Simulator, client: ctt.Client, content_type: str, body: str, expect: str
) -> None:
    flow = new_flow()
    before = flow.to_json()
    sim.set_canned(GATEWAYS, body, content_type=content_type)
    with pytest.raises(ctt.DecodeError) as info:
        flow.advance(client)
    assert expect in str(info.value)
    assert flow.to_json() == before, "the stored state did not change"
    [shown] = [s for s in flow.status() if s.step == "sbc_gateways"]
    assert shown.state == "failed"
    assert shown.error_code == "decode"
    sim.clear_canned()
    assert isinstance(flow.advance(client), ctt.AwaitingAdmin)
    assert len(sim.enterprises()) == 1


def test_a_failed_advance_after_progress_keeps_only_what_finished(
    sim: Simulator, client: ctt.Client
) -> None:
    flow = new_flow()
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    callback = sim.approve(progress.url, "contoso")
    flow.handle_callback(b"test-portal-callback-key-0001", callback.url, callback.body)
    before = json.loads(flow.to_json())
    sim.set_canned("/enterprise", "[" * 100_000, content_type="application/json")
    sim.set_canned("/provisioning", "<html>no</html>", content_type="text/html")
    with pytest.raises(ctt.DecodeError):
        flow.advance(client)
    # Steps that need no request (credentials, the admin API check read from the callback) may
    # finish before the failing request; nothing else changes, and a failed step is not stored.
    after_first = json.loads(flow.to_json())
    assert {k: v for k, v in after_first.items() if k != "steps"} == {
        k: v for k, v in before.items() if k != "steps"
    }
    for step, entry in before["steps"].items():
        assert after_first["steps"][step] == entry
    # Registration stays "waiting" until advance has confirmed the callback with the vendor (the
    # failing request here): every step that finished since is done.
    assert before["steps"]["registration"]["state"] == "waiting"
    assert all(
        e["state"] == "done" for k, e in after_first["steps"].items() if k not in before["steps"]
    )
    # A failed advance that finishes nothing leaves the JSON exactly as it was.
    text = flow.to_json()
    with pytest.raises(ctt.DecodeError):
        flow.advance(client)
    assert flow.to_json() == text
    sim.clear_canned()
    assert flow.advance(client) is not None


BAD_FLOW_JSON = [
    ("empty", "", None),
    ("array", "[]", None),
    ("number", "42", None),
    ("null", "null", None),
    ("schema only", '{"schema":1}', None),
    ("schema as a string", '{"schema":"1"}', None),
    ("truncated", '{"schema":1,"id":"', None),
    ("deeply nested", "[" * 50_000, None),
    ("deeply nested object", '{"schema":' * 50_000, None),
    ("2 MiB string", '{"schema":1,"id":"' + "x" * (2 << 20) + '"}', None),
    ("NUL bytes", '{"schema":1}\x00\x00', None),
]


@pytest.mark.parametrize("text", [pytest.param(t, id=what) for what, t, _ in BAD_FLOW_JSON])
def test_malformed_flow_json_is_refused(text: str) -> None:
    with pytest.raises(ctt.InvalidInputError) as info:
        ctt.Onboarding.from_json(text)
    assert info.value.code == "invalid_input"
    assert "flow JSON" in str(info.value), str(info.value)
    assert len(str(info.value)) < 2048


def test_flow_json_with_a_field_of_the_wrong_type_is_refused() -> None:
    good = json.loads(new_flow().to_json())
    for key in list(good):
        broken = dict(good)
        broken[key] = "not-a-boolean" if key == "contains_admin_api" else True
        with pytest.raises(ctt.InvalidInputError, match="flow JSON"):
            ctt.Onboarding.from_json(json.dumps(broken))
