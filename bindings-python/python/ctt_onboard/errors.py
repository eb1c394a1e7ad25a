"""The exceptions of ctt_onboard: one class per stable error code of the core.

Catch ``CttError`` for everything, or one subclass per code. Every instance carries ``code`` (the
core's stable snake_case string), ``status`` and ``request_id`` (when the API answered) and
``retry_after`` in seconds (for ``rate_limited``). Messages never contain a secret. The classes
pickle, so Celery can send them between processes.
"""

from __future__ import annotations

import builtins

from . import _native
from ._generated import ERROR_CODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


class CttError(Exception):
    """Every failure of this library; ``code`` says which kind."""

    #: The stable code of this class (every subclass sets its own).
    default_code: str = "api"

    def __init__(
        self,
        message: str,
        code: Optional[str] = None,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        #: The message for people, with the HTTP status and request id when there was one.
        self.message = message
        #: The stable, language-independent code, such as ``"conflict"``.
        self.code: str = code if code is not None else self.default_code
        #: The HTTP status, when the API answered.
        self.status = status
        #: The request id from the API's response headers, when there was one.
        self.request_id = request_id
        #: Seconds to wait before trying again (``rate_limited``, 503), when the API said.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, status={self.status!r}, "
            f"request_id={self.request_id!r}, retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.message, self.code, self.status, self.request_id, self.retry_after),
        )

    @property
    def is_transient(self) -> bool:
        """True when repeating the same call later may succeed (core's rule)."""
        return _native.is_transient(self.code)


class InvalidInputError(CttError, ValueError):
    """The caller's input is invalid (checked before anything is sent, or refused with 400)."""

    default_code = "invalid_input"


class AuthenticationError(CttError):
    """Credentials or a token were refused, or none was configured for a call that needs one."""

    default_code = "authentication"


class ForbiddenError(CttError):
    """The API refused the call for this caller (HTTP 403)."""

    default_code = "forbidden"


class NotFoundError(CttError, LookupError):
    """The API does not know the object, or it belongs to another reseller (HTTP 404)."""

    default_code = "not_found"


class ConflictError(CttError):
    """The object already exists, such as a duplicate enterprise name (HTTP 409)."""

    default_code = "conflict"


class RateLimitedError(CttError):
    """The API asked the caller to slow down (HTTP 429); see ``retry_after``."""

    default_code = "rate_limited"


class ServerError(CttError):
    """The API failed (HTTP 5xx) and retries, where allowed, ran out."""

    default_code = "server"


class ApiError(CttError):
    """Any other non-success answer from the API."""

    default_code = "api"


class TenantRolesMissingError(CttError):
    """The tenant lacks the Teams/Skype Administrator roles; provision the Tenant Admin API and
    retry 30 minutes later."""

    default_code = "tenant_roles_missing"


class TimeoutError(CttError, builtins.TimeoutError):
    """The call did not finish within its timeout (also a builtin ``TimeoutError``)."""

    default_code = "timeout"


class NetworkError(CttError, ConnectionError):
    """The connection failed or broke (also a builtin ``ConnectionError``)."""

    default_code = "network"


class DecodeError(CttError):
    """A response could not be read as the documented shape, or exceeded the size cap."""

    default_code = "decode"


class CallbackInvalidError(CttError):
    """A callback failed verification or does not belong where it was delivered."""

    default_code = "callback_invalid"


class FlowStateError(CttError):
    """The onboarding flow cannot do what was asked in its current state."""

    default_code = "flow_state"


class OutcomeUnknownError(CttError):
    """A create may or may not have happened, and looking it up did not settle it."""

    default_code = "outcome_unknown"


#: Every code of the core (the generated ``ERROR_CODES``, in its order) and its class; a code
#: without a class fails the import.
ERROR_CLASSES: dict[str, type[CttError]] = {
    code: {cls.default_code: cls for cls in CttError.__subclasses__()}[code]
    for code, _ in ERROR_CODES
}

__all__ = [
    "ERROR_CLASSES",
    "ApiError",
    "AuthenticationError",
    "CallbackInvalidError",
    "ConflictError",
    "CttError",
    "DecodeError",
    "FlowStateError",
    "ForbiddenError",
    "InvalidInputError",
    "NetworkError",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "ServerError",
    "TenantRolesMissingError",
    "TimeoutError",
]
