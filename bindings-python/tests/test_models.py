"""Models: wire names, open enums, equality, and masked reprs."""

from __future__ import annotations

import json

import ctt_onboard as ctt
import pytest

SAMPLE_CALLBACK = {
    "msalAuthenticationResult": {
        "authenticationResult": {
            "accessToken": "CANARY-ACCESS",
            "accessTokenType": "login.microsoftonline.com",
            "expiresAfter": None,
            "expiresOn": 1742985175242681,
            "expiresOnDate": None,
            "idToken": "CANARY-ID",
            "multipleResourceRefreshToken": False,
            "refreshToken": "CANARY-REFRESH",
            "userInfo": {
                "displayableId": "globaladmin@example.com",
                "identityProvider": "user",
                "tenantId": "tenant-1",
            },
        },
        "resellerId": None,
        "tenantId": None,
    },
    "organization": "MSFT",
    "officeUserType": "GLOBAL_ADMIN",
    "companyAdmin": True,
    "containsTeamsTenantAdminAPI": True,
}


def test_unknown_enum_values_pass_through() -> None:
    fax = ctt.Service("FAX")
    assert fax == "FAX"
    assert str(fax) == "FAX"
    assert not fax.is_known
    assert ctt.Service("PBX") is ctt.Service.PBX
    assert ctt.Service.PBX.is_known
    e = ctt.NewEnterprise.from_dict({"enterpriseName": "A", "services": ["SMS", "FAX"]})
    assert e.services == [ctt.Service.SMS, "FAX"]
    assert e.to_dict()["services"] == ["SMS", "FAX"]
    assert ctt.ActionType("NEW_THING").value == "NEW_THING"


def test_new_enterprise_uses_wire_names() -> None:
    e = ctt.NewEnterprise(
        enterprise_name="Acme",
        services=[ctt.Service.PBX],
        sbc_gateways=[5678],
        pbx_id=[1234],
        restrict_admin_access=True,
        user_limit=50,
    )
    wire = e.to_dict()
    assert wire == {
        "enterpriseName": "Acme",
        "services": ["PBX"],
        "sbcGateways": [5678],
        "pbxId": [1234],
        "restrictAdminAccess": True,
        "userLimit": 50,
    }
    assert ctt.NewEnterprise.from_dict(wire) == e
    assert ctt.NewEnterprise.from_json(e.to_json()) == e
    e.validate()


def test_validation_names_the_field() -> None:
    with pytest.raises(ctt.InvalidInputError, match="enterpriseName"):
        ctt.NewEnterprise(enterprise_name=" ", services=[ctt.Service.SMS]).validate()
    with pytest.raises(ctt.InvalidInputError, match="pbxId"):
        ctt.NewEnterprise(enterprise_name="A", services=[ctt.Service.CALL_APP]).validate()


def test_callback_payload_round_trips_and_masks_tokens() -> None:
    payload = ctt.CallbackPayload.from_dict(SAMPLE_CALLBACK)
    assert payload.tenant_id == "tenant-1"
    assert payload.authentication_result.access_token == "CANARY-ACCESS"
    assert payload.to_dict() == {
        "msalAuthenticationResult": {
            "authenticationResult": {
                k: v
                for k, v in SAMPLE_CALLBACK["msalAuthenticationResult"][  # type: ignore[index]
                    "authenticationResult"
                ].items()
                if v is not None
            },
        },
        "organization": "MSFT",
        "officeUserType": "GLOBAL_ADMIN",
        "companyAdmin": True,
        "containsTeamsTenantAdminAPI": True,
    }
    assert ctt.CallbackPayload.from_json(json.dumps(SAMPLE_CALLBACK)) == payload
    for text in (repr(payload), str(payload), repr(payload.authentication_result)):
        assert "CANARY" not in text
        assert "***" in text


def test_extra_fields_are_kept() -> None:
    user = ctt.AuthenticatedUser.from_dict({"username": "u", "type": "RESELLER", "x": 1})
    assert user.user_type == "RESELLER"
    assert user.extra == {"x": 1}
    assert user.to_dict() == {"username": "u", "type": "RESELLER", "x": 1}


def test_credentials_repr_hides_secrets() -> None:
    creds = ctt.ResellerCredentials(
        client_id="id", client_secret="CANARY-S", username="u", password="CANARY-P"
    )
    assert "CANARY" not in repr(creds)
    assert "CANARY" not in str(creds)
