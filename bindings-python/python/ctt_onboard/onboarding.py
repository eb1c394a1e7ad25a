"""The onboarding flow: a resumable state machine over Parts I to III of the vendor's guide.

``Onboarding(plan)`` starts a flow; ``advance(client)`` (or ``await advance_async(client)``)
performs every API step it can and returns where it stopped: ``AwaitingAdmin`` (show ``url`` to
the Global Admin), ``WaitingUntil`` (the vendor's 30-minute wait) or ``Complete``. The portal
passes each callback to ``handle_callback(key, url, body)``. ``to_json()`` / ``from_json()``
persist the flow between requests and processes; its JSON holds the admin's latest MSAL result,
so store it as you would store a token. The logic is the core's; this module only converts.
"""

from __future__ import annotations

import enum
import sys

from . import _logs, _native
from ._record import Record, field
from .models import ActionType, CallbackPayload, NewEnterprise

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from typing import Any, Optional, Union

    from ._client import AsyncClient, Client


class OnboardingPlan(Record):
    """What to onboard and how.

    ``enterprise.sbc_gateways`` and ``pbx_id`` may be left empty to have them chosen in Part I:
    gateways by ``gateway_regions``, the PBX type marked default. With ``existing_enterprise_id``
    the flow starts at Part II with an enterprise that already exists.
    """

    #: The enterprise to create.
    enterprise: NewEnterprise
    #: The portal's callback URL (https, or http on a loopback host).
    redirect_url: str
    #: Region names (``sbcGatewayRegion``) to choose gateways by.
    gateway_regions: list[str] = field(default_factory=list)
    #: The id of an enterprise that already exists.
    existing_enterprise_id: Optional[int] = None
    #: Optional consents to ask for: contacts, CDR, call recording.
    optional_consents: list[ActionType] = field(default_factory=list)
    #: Ask for "Allow Management by Service Provider" and record it (recommended).
    service_provider_management: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The plan as the core serializes it (the enterprise with the wire's names)."""
        return {
            "enterprise": self.enterprise.to_dict(),
            "redirect_url": self.redirect_url,
            "gateway_regions": list(self.gateway_regions),
            "existing_enterprise_id": self.existing_enterprise_id,
            "optional_consents": [ActionType(a).value for a in self.optional_consents],
            "service_provider_management": self.service_provider_management,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnboardingPlan:
        """The plan from ``to_dict()``'s shape."""
        return cls(
            enterprise=NewEnterprise.from_dict(data["enterprise"]),
            redirect_url=data["redirect_url"],
            gateway_regions=list(data.get("gateway_regions") or []),
            existing_enterprise_id=data.get("existing_enterprise_id"),
            optional_consents=[ActionType(a) for a in data.get("optional_consents") or []],
            service_provider_management=bool(data.get("service_provider_management", True)),
        )


class AwaitingAdmin(Record, frozen=True):
    """Show ``url`` to the enterprise's Global Admin; the flow continues after the callback."""

    #: What the admin is asked to do.
    action: ActionType
    #: The action item URL.
    url: str


class WaitingUntil(Record, frozen=True):
    """Nothing can happen before ``not_before`` (the vendor's 30 minutes after enabling the
    Teams admin roles); call ``advance`` again then."""

    #: The earliest time to call ``advance`` again (UTC).
    not_before: datetime.datetime
    #: Why.
    reason: str


class Complete(Record, frozen=True):
    """Every step is done."""

    #: The enterprise's id.
    enterprise_id: int
    #: The Microsoft tenant it is registered to.
    tenant_id: str


# ``typing`` is a sixth of the package's import time on its own; since 3.10 a union needs none.
if sys.version_info >= (3, 10):
    #: Where ``advance`` stopped.
    Progress = AwaitingAdmin | WaitingUntil | Complete
else:
    from typing import Union

    Progress = Union[AwaitingAdmin, WaitingUntil, Complete]


class CallbackOutcome(str, enum.Enum):
    """What ``handle_callback`` did with a callback."""

    #: The callback advanced the flow.
    ACCEPTED = "accepted"
    #: The same callback arrived before; nothing changed.
    DUPLICATE = "duplicate"


def _utc(seconds: Optional[float]) -> Optional[datetime.datetime]:
    if seconds is None:
        return None
    # Only the flow's status and progress need datetime: clients never pay for importing it.
    import datetime

    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


class StepStatus(Record, frozen=True):
    """One line of ``Onboarding.status()``."""

    #: The step's snake_case name, such as ``create_enterprise``.
    step: str
    #: The step's title for people, such as "Create the enterprise".
    title: str
    #: ``pending``, ``done``, ``skipped``, ``waiting`` or ``failed``.
    state: str
    #: The result that matters (an id, a URL), why it was skipped, or what failed.
    detail: Optional[str]
    #: When the state last changed (UTC).
    updated_at: Optional[datetime.datetime]
    #: The error code of the last failure, for ``failed``.
    error_code: Optional[str]


def _progress(data: dict[str, Any]) -> Progress:
    kind = data["kind"]
    if kind == "awaiting_admin":
        return AwaitingAdmin(action=ActionType(data["action"]), url=data["url"])
    if kind == "waiting_until":
        not_before = _utc(data["not_before"])
        assert not_before is not None
        return WaitingUntil(not_before=not_before, reason=data["reason"])
    if kind == "complete":
        return Complete(enterprise_id=int(data["enterprise_id"]), tenant_id=data["tenant_id"])
    raise ValueError(f"unknown progress kind {kind!r}")


def _key(key: Union[str, bytes]) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


class Onboarding:
    """One enterprise's onboarding. See the module docs."""

    def __init__(self, plan: OnboardingPlan) -> None:
        self._native = _native.NativeOnboarding(plan.to_dict())

    @classmethod
    def _wrap(cls, native: _native.NativeOnboarding) -> Onboarding:
        flow = cls.__new__(cls)
        flow._native = native
        return flow

    @classmethod
    def from_json(cls, text: str) -> Onboarding:
        """Restores a flow saved by ``to_json()`` (a newer schema raises
        ``InvalidInputError``)."""
        return cls._wrap(_native.NativeOnboarding.from_json(text))

    def to_json(self) -> str:
        """The flow as versioned JSON (it holds the admin's MSAL result: store it like a
        token)."""
        return self._native.to_json()

    @property
    def id(self) -> str:
        """The flow's id (it is in every redirect URL the flow asks for)."""
        return self._native.id

    @property
    def plan(self) -> OnboardingPlan:
        """The plan."""
        return OnboardingPlan.from_dict(self._native.plan())

    @property
    def enterprise_id(self) -> Optional[int]:
        """The enterprise's id, once created (or given)."""
        return self._native.enterprise_id()

    @property
    def tenant_id(self) -> Optional[str]:
        """The Microsoft tenant bound at registration."""
        return self._native.tenant_id()

    @property
    def is_complete(self) -> bool:
        """True once every step is done or skipped."""
        return self._native.is_complete()

    def status(self) -> list[StepStatus]:
        """Every step in the seed's order with its state."""
        return [
            StepStatus(
                step=s["step"],
                title=s["title"],
                state=s["state"],
                detail=s["detail"],
                updated_at=_utc(s["updated_at"]),
                error_code=s["error_code"],
            )
            for s in self._native.status()
        ]

    def progress(self) -> Optional[Progress]:
        """What the last ``advance`` returned (no call is made), or None before the first."""
        data = self._native.progress()
        return _progress(data) if data is not None else None

    def advance(self, client: Union[Client, AsyncClient]) -> Progress:
        """Performs every API step it can, in the seed's order, and returns where it stopped.
        The client needs a ``callback_key``. A failed step raises its ``CttError`` and is
        retried by the next ``advance``."""
        _logs.flush()
        try:
            return _progress(self._native.advance(client.native))
        finally:
            _logs.flush()

    async def advance_async(self, client: Union[AsyncClient, Client]) -> Progress:
        """Awaitable twin of ``advance``. Cancelling it keeps every step that finished."""
        _logs.flush()
        try:
            return _progress(await self._native.advance_async(client.native))
        finally:
            _logs.flush()

    def handle_callback(self, key: Union[str, bytes], url: str, body: str) -> CallbackOutcome:
        """Takes the callback the portal received at ``url`` (absolute, or the path and query)
        with ``body``, after checking it is genuine (``key``), for this flow, for the action the
        flow waits for, from a Global Admin, and from the tenant bound at registration. A
        rejection raises ``CallbackInvalidError`` and changes nothing; a repeat is
        ``DUPLICATE``."""
        try:
            return CallbackOutcome(self._native.handle_callback(_key(key), url, body))
        finally:
            _logs.flush()

    def __repr__(self) -> str:
        progress = self.progress()
        where = type(progress).__name__ if progress is not None else "not started"
        return f"<Onboarding {self.id} {where}>"


class VerifiedCallback(Record, frozen=True):
    """A callback that passed verification."""

    #: The id of the flow that asked for the URL.
    flow_id: str
    #: The action the URL was for.
    action: ActionType
    #: The parsed body (its tokens print as ``***``).
    payload: CallbackPayload


def verify_callback(key: Union[str, bytes], url: str, body: str) -> VerifiedCallback:
    """Verifies a callback (``url`` as delivered, ``body`` as posted) without loading its flow:
    returns the flow id, the action and the payload, or raises ``CallbackInvalidError``."""
    flow_id, action, payload = _native.verify_callback(_key(key), url, body)
    return VerifiedCallback(
        flow_id=flow_id, action=ActionType(action), payload=CallbackPayload.from_dict(payload)
    )


__all__ = [
    "AwaitingAdmin",
    "CallbackOutcome",
    "Complete",
    "Onboarding",
    "OnboardingPlan",
    "Progress",
    "StepStatus",
    "VerifiedCallback",
    "WaitingUntil",
    "verify_callback",
]
