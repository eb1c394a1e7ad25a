"""The vendor's bodies as typed classes with snake_case attributes.

The classes are generated from the core's declarations (``_generated.py``, by ctt-codegen), on
the shared behaviour of ``_model.py``. ``to_dict()`` and ``from_dict()`` use the wire's names
(``enterpriseName``, ``pbxId``, ...), exactly as the core serializes them. Fields marked secret
(MSAL tokens) print as ``***`` in ``repr``/``str``. ``Service`` and ``ActionType`` are ``str``
enums whose unknown values still pass through (``Service("FAX")`` works and stays ``"FAX"``).
"""

from __future__ import annotations

from . import _native
from ._generated import (
    ActionType,
    AuthenticatedUser,
    AuthenticationResult,
    CallbackPayload,
    ConfigDetails,
    EntConfigInfo,
    EnterpriseSummary,
    MsalAuthenticationResult,
    NewEnterprise,
    O365UserInfo,
    PbxType,
    SbcGateway,
    Service,
    UserInfo,
)
from ._model import Model
from ._record import MASK as MASK
from ._record import MISSING


def _register_native_results() -> None:
    """Tells the native layer how to build the classes its calls return (see ``models.rs``): it
    fills ``__dict__`` from the core's result directly, as ``from_dict`` would. Only flat models
    qualify (no nested kind, no per-instance default); the others are built by ``from_dict``."""
    for cls in Model.__subclasses__() + [
        sub for base in Model.__subclasses__() for sub in base.__subclasses__()
    ]:
        plan = cls._plan_
        if not plan or any(
            kind is not None or factory is not None or default is MISSING
            for _, _, kind, default, factory in plan
        ):
            continue
        fields = [(wire, name, default) for name, wire, _, default, _ in plan]
        _native.register_model(cls, fields, cls._KEEPS_EXTRA)


_register_native_results()

__all__ = [
    "ActionType",
    "AuthenticatedUser",
    "AuthenticationResult",
    "CallbackPayload",
    "ConfigDetails",
    "EntConfigInfo",
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
