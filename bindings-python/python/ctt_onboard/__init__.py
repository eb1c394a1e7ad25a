"""ctt_onboard: the ConnecttoTeams restricted-access enterprise onboarding, from Python.

``Client`` (blocking) and ``AsyncClient`` (asyncio) call every vendor endpoint; the models are
typed classes; ``Onboarding`` is the resumable flow, ``CallbackKeys`` the key ring that signs
and verifies its callback URLs; every failure is a ``CttError`` subclass
per stable code. The simulator for tests is in ``ctt_onboard.testing``. The core is Rust; this
package is a thin binding over it.
"""

from __future__ import annotations

import atexit

from . import _native
from ._client import (
    AsyncClient,
    CallbackKeys,
    Client,
    EnterpriseCredentials,
    ManualClock,
    ResellerCredentials,
    RetryPolicy,
)
from .errors import (
    ApiError,
    AuthenticationError,
    CallbackInvalidError,
    ConflictError,
    CttError,
    DecodeError,
    FlowStateError,
    ForbiddenError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TenantRolesMissingError,
    TimeoutError,
)
from .models import (
    ActionType,
    AuthenticatedUser,
    AuthenticationResult,
    CallbackPayload,
    EnterpriseSummary,
    MsalAuthenticationResult,
    NewEnterprise,
    O365UserInfo,
    PbxType,
    SbcGateway,
    Service,
    UserInfo,
)
from .onboarding import (
    AwaitingAdmin,
    CallbackOutcome,
    Complete,
    Onboarding,
    OnboardingPlan,
    Progress,
    StepStatus,
    VerifiedCallback,
    WaitingUntil,
    claimed_flow_id,
    verify_callback,
)

__version__: str = _native.__version__

# The runtime's worker threads must stop before the interpreter finalizes (see the native
# module's shutdown_runtime).
atexit.register(_native.shutdown_runtime)

__all__ = [
    "ActionType",
    "ApiError",
    "AsyncClient",
    "AuthenticatedUser",
    "AuthenticationError",
    "AuthenticationResult",
    "AwaitingAdmin",
    "CallbackInvalidError",
    "CallbackKeys",
    "CallbackOutcome",
    "CallbackPayload",
    "Client",
    "Complete",
    "ConflictError",
    "CttError",
    "DecodeError",
    "EnterpriseCredentials",
    "EnterpriseSummary",
    "FlowStateError",
    "ForbiddenError",
    "InvalidInputError",
    "ManualClock",
    "MsalAuthenticationResult",
    "NetworkError",
    "NewEnterprise",
    "NotFoundError",
    "O365UserInfo",
    "Onboarding",
    "OnboardingPlan",
    "OutcomeUnknownError",
    "PbxType",
    "Progress",
    "RateLimitedError",
    "ResellerCredentials",
    "RetryPolicy",
    "SbcGateway",
    "ServerError",
    "Service",
    "StepStatus",
    "TenantRolesMissingError",
    "TimeoutError",
    "UserInfo",
    "VerifiedCallback",
    "WaitingUntil",
    "__version__",
    "claimed_flow_id",
    "verify_callback",
]
