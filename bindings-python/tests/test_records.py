"""The models' base (``Record``) and the native fast path that builds result models.

The native calls build their results without ``from_dict`` (``models.rs`` fills each instance's
``__dict__``); these tests pin that both paths give equal models, keep unknown keys where the
model keeps them, and share no mutable state between instances. They also pin the ``Record``
behaviour the models used to get from ``dataclasses``. Results are built by the path of every
call, through core's hidden ``__probe`` call, which sends nothing and answers its ``echo``.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from typing import Any

import ctt_onboard as ctt
import pytest
from conftest import KEY
from ctt_onboard import _native
from ctt_onboard._record import FrozenInstanceError
from ctt_onboard.testing import Simulator


def build_models(name: str, items: list[Any]) -> list[Any]:
    """``items`` (wire-named dicts) as the result of a call whose result class is ``name``."""
    with ctt.Client(base_url="http://127.0.0.1:9") as client:
        built: list[Any] = client.native.call(
            {"call": "__probe", "hops": 0, "echo": items}, getattr(ctt, name)
        )
        return built


WIRE = {
    "AuthenticatedUser": {"username": "api", "type": "RESELLER", "resellerId": 7, "x": [1, {}]},
    "SbcGateway": {"sbcGatewayId": 3, "sbcGatewayRegion": "US-East"},
    "PbxType": {"id": 2, "pbxName": "P", "pbxLabel": None, "isDefault": True},
    "O365UserInfo": {"containsTeamsTenantAdminAPI": True, "mail": "a@b", "n": 1.5},
    "EnterpriseSummary": {"enterpriseId": 9, "enterpriseName": "Acme"},
}


@pytest.mark.parametrize("name", sorted(WIRE))
def test_native_path_equals_from_dict(name: str) -> None:
    cls = getattr(ctt, name)
    data = WIRE[name]
    (native,) = build_models(name, [data])
    expected = cls.from_json(json.dumps(data))
    assert type(native) is cls
    assert native == expected
    assert repr(native) == repr(expected)
    assert native.to_dict() == expected.to_dict()


def test_native_path_keeps_extra_and_fills_defaults() -> None:
    user, bare = build_models("AuthenticatedUser", [WIRE["AuthenticatedUser"], {}])
    assert user.extra == {"x": [1, {}]}
    assert (user.username, user.user_type, user.reseller_id) == ("api", "RESELLER", 7)
    assert bare == ctt.AuthenticatedUser()
    assert bare.extra == {} and bare.extra is not ctt.AuthenticatedUser().extra
    (pbx,) = build_models("PbxType", [{"id": 1}])
    assert (pbx.pbx_name, pbx.is_default, pbx.hosting_type) == ("", False, None)
    # Models that do not keep extra keys drop them, as from_dict does.
    (gw,) = build_models("SbcGateway", [{"sbcGatewayId": 1, "unknown": 2}])
    assert not hasattr(gw, "extra") and gw == ctt.SbcGateway(sbc_gateway_id=1)


def test_native_path_refuses_a_non_object() -> None:
    with pytest.raises(TypeError):
        build_models("SbcGateway", [[1]])


def test_client_results_are_models(client: ctt.Client) -> None:
    rid = client.reseller_id()
    gateways = client.sbc_gateways(rid)
    assert gateways and all(type(g) is ctt.SbcGateway for g in gateways)
    assert gateways == [ctt.SbcGateway.from_dict(g.to_dict()) for g in gateways]
    gateways[0].sbc_gateway_region = "changed"
    assert client.sbc_gateways(rid)[0] != gateways[0]
    user = client.authenticated_user()
    assert type(user) is ctt.AuthenticatedUser and user.reseller_id == rid


def test_record_construction_equality_and_replace() -> None:
    gw = ctt.SbcGateway(3, "US-East")
    assert gw == ctt.SbcGateway(sbc_gateway_id=3, sbc_gateway_region="US-East")
    assert gw != ctt.PbxType(id=3)
    assert gw.replace(sbc_gateway_region="EU") == ctt.SbcGateway(3, "EU")
    assert [f.name for f in ctt.SbcGateway.fields()] == ["sbc_gateway_id", "sbc_gateway_region"]
    assert ctt.SbcGateway.__match_args__ == ("sbc_gateway_id", "sbc_gateway_region")
    with pytest.raises(TypeError):
        ctt.SbcGateway(1, "a", "b")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ctt.SbcGateway(nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ctt.SbcGateway(1, sbc_gateway_id=2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(gw)
    # Mutable defaults are per instance.
    a, b = ctt.NewEnterprise(), ctt.NewEnterprise()
    a.services.append(ctt.Service.SMS)
    assert b.services == []


def test_frozen_records_are_read_only_hashable_and_pickle() -> None:
    creds = ctt.ResellerCredentials(client_id="c", client_secret="S", username="u", password="P")
    with pytest.raises(FrozenInstanceError):
        creds.password = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del creds.username  # type: ignore[misc]
    with pytest.raises(TypeError):
        ctt.ResellerCredentials(client_id="c")  # type: ignore[call-arg]
    assert hash(creds) == hash(creds.replace())
    assert creds.replace(password="Q").password == "Q" and creds.password == "P"
    assert repr(creds) == "ResellerCredentials(client_id='c', username='u')"
    assert pickle.loads(pickle.dumps(creds)) == creds
    ent = ctt.EnterpriseCredentials("c", "S", "u", "P")
    assert ent != creds and isinstance(ent, ctt.ResellerCredentials)
    policy = ctt.RetryPolicy.none()
    assert policy == ctt.RetryPolicy(max_attempts=1) and {policy: 1}[ctt.RetryPolicy(1)] == 1


def test_model_repr_masks_secrets_on_both_paths() -> None:
    auth = ctt.AuthenticationResult(access_token="CANARY-A", id_token="CANARY-I")
    assert "CANARY" not in repr(auth) and "CANARY" not in str(auth)
    assert "access_token=***," in repr(auth) and "refresh_token=None" in repr(auth)
    again = ctt.AuthenticationResult.from_dict(auth.to_dict())
    assert again == auth and "CANARY" not in repr(again)


def test_import_loads_no_heavy_stdlib_module() -> None:
    # What made ``import ctt_onboard`` slow: none of it may come back unnoticed.
    heavy = ("dataclasses", "inspect", "logging", "json", "re", "typing", "datetime")
    code = (
        "import sys; before = set(sys.modules); import ctt_onboard; "
        f"print(sorted((set(sys.modules) - before) & set({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_arguments_cross_as_dicts() -> None:
    good = ctt.NewEnterprise(enterprise_name="Acme", services=[ctt.Service.SMS]).to_dict()
    _native.validate_enterprise(good)
    _native.validate_enterprise({**good, "services": ("SMS",), "entConfigInfos": [{"k": 1.5}]})
    with pytest.raises(ctt.InvalidInputError, match="enterprise"):
        _native.validate_enterprise({**good, "enterpriseName": 5})
    # What json.dumps refuses, the native conversion refuses too, as TypeError.
    for bad in (
        {**good, "entConfigInfos": [object()]},
        {**good, "entConfigInfos": [{1: "non-string key"}]},
        {**good, "entConfigInfos": [{"k": float("nan")}]},
    ):
        with pytest.raises(TypeError):
            _native.validate_enterprise(bad)
    deep: list[object] = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        _native.validate_enterprise({**good, "entConfigInfos": deep})
    with pytest.raises(OverflowError):
        _native.validate_enterprise({**good, "userLimit": 2**70})


def test_records_reach_logging_imported_after_the_package(sim: Simulator) -> None:
    # In a fresh process: the package is imported before logging, then a DEBUG level set just
    # before a call applies to it.
    code = f"""
import json, sys
import ctt_onboard as ctt
s = json.loads(sys.argv[1])
creds = ctt.ResellerCredentials(**s["reseller"])
with ctt.Client(base_url=s["base_url"], reseller=creds, callback_key={KEY!r}) as c:
    c.reseller_id()
    import logging
    records = []
    class H(logging.Handler):
        def emit(self, record): records.append(record.getMessage())
    logger = logging.getLogger("ctt_onboard")
    logger.addHandler(H())
    logger.setLevel(logging.DEBUG)
    c.sbc_gateways(c.reseller_id())
    print(len(records) > 0)
"""
    r = sim.reseller
    arg = json.dumps(
        {
            "base_url": sim.base_url,
            "reseller": {
                "client_id": r.client_id,
                "client_secret": r.client_secret,
                "username": r.username,
                "password": r.password,
            },
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", code, arg], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True", out.stderr
