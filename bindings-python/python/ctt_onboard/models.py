"""The vendor's bodies as typed classes with snake_case attributes.

``to_dict()`` and ``from_dict()`` use the wire's names (``enterpriseName``, ``pbxId``, ...),
exactly as the core serializes them. Fields marked secret (MSAL tokens) print as ``***`` in
``repr``/``str``. ``Service`` and ``ActionType`` are ``str`` enums whose unknown values still pass
through (``Service("FAX")`` works and stays ``"FAX"``).
"""

from __future__ import annotations

import enum

from . import _native
from ._record import MASK as MASK
from ._record import MISSING, Field, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Optional

    from typing_extensions import Self


class _OpenEnum(str, enum.Enum):
    """A ``str`` enum that keeps values it does not know."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """True when this version of the library knows the value."""
        return self._name_ in type(self).__members__


class Service(_OpenEnum):
    """A service an enterprise subscribes to (``services`` in the create body)."""

    #: Teams calling through the provider's PBX; needs SBC gateways and a PBX type.
    PBX = "PBX"
    #: Direct-routing trunk; needs SBC gateways.
    TRUNK = "Trunk"
    #: The CallApp add-on; needs a PBX type and the CallApp consent.
    CALL_APP = "CALLAPP"
    #: The Call Recording add-on.
    CALL_RECORDING = "CallRecording"
    #: SMS.
    SMS = "SMS"
    #: Chat.
    CHAT = "CHAT"


class ActionType(_OpenEnum):
    """What a Global Admin is asked to do at an action item URL (``actionType``)."""

    #: Register the enterprise (Part II).
    REGISTRATION = "REGISTRATION"
    #: Sign in again to hand over a fresh MSAL token.
    LOGIN_ENTERPRISE_ADMIN = "LOGIN_ENTERPRISE_ADMIN"
    #: The mandatory user sync consent.
    GET_USER_SYNC_CONSENT = "GET_USER_SYNC_CONSENT"
    #: The mandatory presence consent.
    GET_PRESENCE_CONSENT = "GET_PRESENCE_CONSENT"
    #: The mandatory "App Deployment Agent" consent.
    GET_AGENT_CONSENT = "GET_AGENT_CONSENT"
    #: The CallApp consent, mandatory with the CallApp add-on.
    GET_CALL_APP_CONSENT = "GET_CALL_APP_CONSENT"
    #: "Allow Management by Service Provider" (optional, recommended).
    GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT = "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT"
    #: Optional contacts sync consent.
    GET_CONTACTS_CONSENT = "GET_CONTACTS_CONSENT"
    #: Optional call records (CDR) consent.
    GET_CDR_CONSENT = "GET_CDR_CONSENT"
    #: Call recording consent (ASSUMED name: the vendor does not publish it).
    GET_CALL_RECORDING_CONSENT = "GET_CALL_RECORDING_CONSENT"


def _f(wire: str, default: Any = None, *, secret: bool = False, kind: Any = None) -> Any:
    """A model field: its wire name, whether it is a secret, and how to convert nested values.
    A list or dict default is copied for each instance."""
    if isinstance(default, (list, dict)):
        return Field(default_factory=type(default), secret=secret, wire=wire, kind=kind)
    return Field(default, secret=secret, wire=wire, kind=kind)


def _from_wire(kind: Any, value: Any) -> Any:
    if value is None or kind is None:
        return value
    if isinstance(kind, list):
        return [_from_wire(kind[0], v) for v in value]
    if isinstance(kind, type) and issubclass(kind, Model):
        return kind.from_dict(value)
    return kind(value)


def _to_wire(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


class Model(Record):
    """Shared behaviour of the models: wire-named dicts, JSON, masked repr, ``replace()``."""

    #: True when unknown wire keys are kept in ``extra``.
    _KEEPS_EXTRA: ClassVar[bool] = False
    #: The fields without ``extra``: (name, wire name, kind, default, default factory).
    _plan_: ClassVar[tuple[tuple[str, str, Any, Any, Any], ...]] = ()
    #: The wire names of ``_plan_``.
    _known_: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plan_ = tuple(
            (f.name, f.wire, f.kind, f.default, f.default_factory)
            for f in cls._fields_
            if f.name != "extra"
        )
        cls._known_ = frozenset(wire for _, wire, _, _, _ in cls._plan_)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Builds the model from a dict with the wire's names; unknown keys go to ``extra``
        where the model keeps them, and are ignored otherwise."""
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_dict needs a dict, got {type(data).__name__}")
        attrs: dict[str, Any] = {}
        for name, wire, kind, default, factory in cls._plan_:
            if wire in data:
                value = data[wire]
                attrs[name] = value if kind is None else _from_wire(kind, value)
            else:
                attrs[name] = factory() if factory is not None else default
        if cls._KEEPS_EXTRA:
            known = cls._known_
            attrs["extra"] = {k: v for k, v in data.items() if k not in known}
        return cls._build(attrs)

    def to_dict(self) -> dict[str, Any]:
        """The model as a dict with the wire's names (``None`` values left out)."""
        out: dict[str, Any] = {}
        for name, wire, _kind, _default, _factory in self._plan_:
            value = getattr(self, name)
            if value is not None:
                out[wire] = _to_wire(value)
        if self._KEEPS_EXTRA:
            for k, v in getattr(self, "extra", {}).items():
                out.setdefault(k, v)
        return out

    # ``json`` (with ``re``) is imported by these two only: nothing else in the package needs
    # it, since models cross to the native layer as dicts.
    def to_json(self) -> str:
        """``to_dict()`` as JSON text."""
        import json

        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Self:
        """``from_dict()`` of JSON text."""
        import json

        return cls.from_dict(json.loads(text))

    __str__ = Record.__repr__


class AuthenticatedUser(Model):
    """The reseller API user, from ``getAuthenticatedUser``."""

    _KEEPS_EXTRA: ClassVar[bool] = True
    #: The user name.
    username: Optional[str] = _f("username")
    #: The user's level, such as ``RESELLER``.
    user_type: Optional[str] = _f("type")
    #: The reseller this user belongs to; most calls need it.
    reseller_id: Optional[int] = _f("resellerId")
    #: Every other field the API returned.
    extra: dict[str, Any] = _f("", {})


class SbcGateway(Model):
    """An SBC gateway region a reseller may assign."""

    #: The id to put in ``sbc_gateways``.
    sbc_gateway_id: int = _f("sbcGatewayId", 0)
    #: The region's name, such as ``US-East``.
    sbc_gateway_region: str = _f("sbcGatewayRegion", "")


class PbxType(Model):
    """A PBX type a reseller may assign."""

    #: The id to put in ``pbx_id``.
    id: int = _f("id", 0)
    #: The PBX type's name.
    pbx_name: str = _f("pbxName", "")
    #: Its label.
    pbx_label: Optional[str] = _f("pbxLabel")
    #: True for the reseller's default PBX type.
    is_default: bool = _f("isDefault", False)
    #: True when it may not be assigned.
    is_disabled: bool = _f("isDisabled", False)
    #: Hosting type, such as ``Cloud``.
    hosting_type: Optional[str] = _f("hostingType")


class NewEnterprise(Model):
    """The body of ``POST /reseller/newEnterprise``.

    Required: ``enterprise_name`` (unique), ``services``, ``sbc_gateways`` for PBX or Trunk,
    ``pbx_id`` for PBX or CALLAPP. ``validate()`` checks this before anything is sent.
    """

    #: The enterprise's name, unique in the vendor's system.
    enterprise_name: str = _f("enterpriseName", "")
    #: The services to enable.
    services: list[Service] = _f("services", [], kind=[Service])
    #: SBC gateway ids (``sbcGatewayId``), required for PBX and Trunk.
    sbc_gateways: list[int] = _f("sbcGateways", [])
    #: PBX type ids, required for PBX and CALLAPP.
    pbx_id: list[int] = _f("pbxId", [])
    #: Restrict the enterprise admin's access; the restricted-access flow sets it to True.
    restrict_admin_access: Optional[bool] = _f("restrictAdminAccess")
    #: The reseller creating it.
    reseller_id: Optional[int] = _f("resellerId")
    #: Country name.
    country_name: Optional[str] = _f("countryName")
    #: The provider's billing references.
    billing_references: Optional[list[str]] = _f("billingReferences")
    #: Whether external numbers may be used.
    allow_external_numbers: Optional[bool] = _f("allowExternalNumbers")
    #: Whether extensions may be added.
    can_add_extensions: Optional[bool] = _f("canAddExtensions")
    #: Whether the reseller may manage the enterprise's provisioning.
    can_reseller_manage_enterprise_provisioning: Optional[bool] = _f(
        "canResellerManageEnterpriseProvisioning"
    )
    #: Configuration entries (``entConfigInfos``), as wire-named dicts.
    ent_config_infos: Optional[list[dict[str, Any]]] = _f("entConfigInfos")
    #: The enterprise id, when the vendor asks for one (normally absent on create).
    enterprise_id: Optional[int] = _f("enterpriseId")
    #: Whether the enterprise is federated.
    federated: Optional[bool] = _f("federated")
    #: The federation domain.
    federation_domain: Optional[str] = _f("federationDomain")
    #: PBX music on hold.
    pbx_moh: Optional[bool] = _f("pbxMOH")
    #: Who registered it.
    registered_by: Optional[str] = _f("registeredBy")
    #: Whether secure SMS is enabled.
    secure_sms_enabled: Optional[bool] = _f("secureSMSEnabled")
    #: The user limit.
    user_limit: Optional[int] = _f("userLimit")
    #: Whether user provisioning is enabled.
    user_provisioning_enabled: Optional[bool] = _f("userProvisioningEnabled")

    def __post_init__(self) -> None:
        self.services = [Service(s) for s in self.services]

    def validate(self) -> None:
        """Checks what the vendor requires before anything is sent; raises
        ``InvalidInputError`` naming the field."""
        _native.validate_enterprise(self.to_dict())


class UserInfo(Model):
    """The signed-in Microsoft user inside an MSAL result."""

    #: The user's sign-in name, such as ``globaladmin@example.com``.
    displayable_id: Optional[str] = _f("displayableId")
    #: The identity provider.
    identity_provider: Optional[str] = _f("identityProvider")
    #: The Microsoft tenant id.
    tenant_id: Optional[str] = _f("tenantId")


class AuthenticationResult(Model):
    """The MSAL ``authenticationResult`` a Global Admin's sign-in produces; the provisioning
    calls need it. Its tokens print as ``***``."""

    #: The Microsoft access token (secret).
    access_token: str = _f("accessToken", "", secret=True)
    #: The token type, such as ``login.microsoftonline.com``.
    access_token_type: Optional[str] = _f("accessTokenType")
    #: Passed through as received.
    expires_after: Any = _f("expiresAfter")
    #: Expiry in microseconds since the Unix epoch.
    expires_on: Optional[int] = _f("expiresOn")
    #: Passed through as received.
    expires_on_date: Any = _f("expiresOnDate")
    #: The id token (secret).
    id_token: Optional[str] = _f("idToken", secret=True)
    #: As received.
    multiple_resource_refresh_token: Optional[bool] = _f("multipleResourceRefreshToken")
    #: The refresh token, usually None (secret).
    refresh_token: Optional[str] = _f("refreshToken", secret=True)
    #: Who signed in, and the tenant.
    user_info: Optional[UserInfo] = _f("userInfo", kind=UserInfo)

    @property
    def tenant_id(self) -> Optional[str]:
        """The tenant id from ``user_info``."""
        return self.user_info.tenant_id if self.user_info else None


class MsalAuthenticationResult(Model):
    """The ``msalAuthenticationResult`` wrapper of a callback."""

    #: The MSAL result.
    authentication_result: AuthenticationResult = _f(
        "authenticationResult", kind=AuthenticationResult
    )
    #: None in every sample.
    reseller_id: Optional[int] = _f("resellerId")
    #: None in every sample; the tenant is in ``authentication_result.user_info``.
    tenant_id: Optional[str] = _f("tenantId")


class CallbackPayload(Model):
    """The JSON ConnecttoTeams posts to a ``redirectUrl`` after the Global Admin acts."""

    #: The admin's MSAL result.
    msal_authentication_result: MsalAuthenticationResult = _f(
        "msalAuthenticationResult", kind=MsalAuthenticationResult
    )
    #: Such as ``MSFT``.
    organization: Optional[str] = _f("organization")
    #: ``GLOBAL_ADMIN`` for a Global Admin.
    office_user_type: Optional[str] = _f("officeUserType")
    #: True for a company (Global) admin.
    company_admin: Optional[bool] = _f("companyAdmin")
    #: Whether the tenant has the "Skype and Teams Tenant Admin API".
    contains_teams_tenant_admin_api: Optional[bool] = _f("containsTeamsTenantAdminAPI")

    @property
    def authentication_result(self) -> AuthenticationResult:
        """The MSAL result."""
        return self.msal_authentication_result.authentication_result

    @property
    def tenant_id(self) -> Optional[str]:
        """The tenant id the admin signed in to."""
        return self.authentication_result.tenant_id or self.msal_authentication_result.tenant_id


class O365UserInfo(Model):
    """The answer of ``getO365UserInfo``."""

    _KEEPS_EXTRA: ClassVar[bool] = True
    #: Whether the tenant has the "Skype and Teams Tenant Admin API".
    contains_teams_tenant_admin_api: bool = _f("containsTeamsTenantAdminAPI", False)
    #: Every other field (user details).
    extra: dict[str, Any] = _f("", {})


class EnterpriseSummary(Model):
    """An enterprise as the reseller's enterprise list reports it."""

    #: The enterprise's database id.
    enterprise_id: int = _f("enterpriseId", 0)
    #: Its name.
    enterprise_name: str = _f("enterpriseName", "")


def _register_native_results() -> None:
    """Tells the native layer how to build the classes its calls return (see ``models.rs``):
    it fills ``__dict__`` from the core's result directly, as ``from_dict`` would."""
    for cls in (AuthenticatedUser, SbcGateway, PbxType, O365UserInfo, EnterpriseSummary):
        fields = []
        for name, wire, kind, default, factory in cls._plan_:
            # Shared between instances, so only immutable, unconverted values qualify.
            assert kind is None and factory is None and default is not MISSING, name
            fields.append((wire, name, default))
        _native.register_model(cls.__name__, cls, fields, cls._KEEPS_EXTRA)


_register_native_results()

__all__ = [
    "ActionType",
    "AuthenticatedUser",
    "AuthenticationResult",
    "CallbackPayload",
    "EnterpriseSummary",
    "Model",
    "MsalAuthenticationResult",
    "NewEnterprise",
    "O365UserInfo",
    "PbxType",
    "SbcGateway",
    "Service",
    "UserInfo",
]
