"""ctt_onboard._native: the pyo3 layer over the Rust core (``ctt-onboard`` crate).

Models cross as Python objects: arguments as the wire-named dicts ``to_dict()`` makes, results
as the model instances that ``ctt_onboard.models`` registers (``register_model``), flow results
as plain dicts. The public, typed API is in the ``ctt_onboard`` package. Blocking methods
release the GIL; the client's ``*_async`` methods resolve an asyncio future through a loop's
``Completions``.
"""

from collections.abc import Callable
from typing import Any, Optional, final

from ctt_onboard.models import (
    AuthenticatedUser,
    EnterpriseSummary,
    O365UserInfo,
    PbxType,
    SbcGateway,
)

__all__ = [
    "Completions",
    "ManualClock",
    "NativeCallbackKeys",
    "NativeClient",
    "NativeOnboarding",
    "NativeSimulator",
    "__version__",
    "auth_tenant_id",
    "build_models",
    "callback_tenant_id",
    "claimed_flow_id",
    "drain_logs",
    "error_codes",
    "error_for_code",
    "forced_panic",
    "forced_panic_start",
    "is_transient",
    "known_action_types",
    "known_services",
    "logs_pending",
    "register_model",
    "set_log_level",
    "shutdown_runtime",
    "validate_enterprise",
    "verify_callback",
]

__version__: str

@final
class ManualClock:
    """A test clock: the system time plus an offset that only moves when told to. Give it to a
    client (``clock=``) and move it together with the simulator's clock to cross the 30-minute
    wait."""

    def __new__(cls) -> ManualClock:
        """A clock that starts at the system time."""
    def advance(self, seconds: float) -> None:
        """Moves this clock (and every client using it) forward by ``seconds``."""
    def now(self) -> float:
        """The clock's current time, in seconds since the Unix epoch."""

@final
class Completions:
    """One asyncio loop's completion queue; the Python layer makes one per loop and registers
    ``drain`` with ``loop.add_reader(fileno(), drain)``."""

    def __new__(cls) -> Completions:
        """A queue with its wake-up socket."""
    def fileno(self) -> int:
        """The file descriptor that becomes readable when calls have finished."""
    def drain(self) -> None:
        """Resolves the futures of every finished call (run by the loop when ``fileno`` is
        readable). A future cancelled meanwhile is left alone."""
    def cancel(self, call: int) -> None:
        """Aborts call ``call`` (its awaiting task was cancelled); a finished call is not
        affected."""

@final
class NativeClient:
    """The core client. Cheap to share: clones share the connection pool and the token cache."""

    def __new__(
        cls,
        options: dict[str, Any],
        *,
        callback_key: Optional[bytes] = None,
        callback_keys: Optional[NativeCallbackKeys] = None,
        clock: Optional[ManualClock] = None,
    ) -> NativeClient:
        """Builds a client from ``options`` (core's ``ClientOptions``: camelCase names, times in
        ms); ``callback_key`` (a one-key ring) or ``callback_keys``, and ``clock``, are the
        handles beside them."""
    @property
    def base_url(self) -> str:
        """The base URL."""
    def callback_keys(self) -> Optional[NativeCallbackKeys]:
        """The callback key ring the flow signs its redirect URLs with (on the client's clock), or
        None when the client has no callback key."""
    def authenticated_user(self) -> AuthenticatedUser:
        """``PUT /reseller/getAuthenticatedUser``: the reseller API user (``AuthenticatedUser``)."""
    def authenticated_user_async(self, completions: Completions, future: Any) -> int:
        """``authenticated_user`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def reseller_id(self) -> int:
        """The reseller id: the configured one, or read once from ``getAuthenticatedUser``."""
    def reseller_id_async(self, completions: Completions, future: Any) -> int:
        """``reseller_id`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def sbc_gateways(self, reseller_id: int) -> list[SbcGateway]:
        """The SBC gateways the reseller may assign (``list[SbcGateway]``)."""
    def sbc_gateways_async(self, completions: Completions, future: Any, reseller_id: int) -> int:
        """``sbc_gateways`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def pbx_types(self, reseller_id: int) -> list[PbxType]:
        """The PBX types the reseller may assign (``list[PbxType]``)."""
    def pbx_types_async(self, completions: Completions, future: Any, reseller_id: int) -> int:
        """``pbx_types`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def create_enterprise(self, enterprise: dict[str, Any]) -> int:
        """Creates the enterprise (a dict with the wire's names) and returns its id."""
    def create_enterprise_async(
        self, completions: Completions, future: Any, enterprise: dict[str, Any]
    ) -> int:
        """``create_enterprise`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def action_item_url(self, action: str, enterprise_name: str, redirect_url: str) -> str:
        """The URL to show the Global Admin for ``action``."""
    def action_item_url_async(
        self,
        completions: Completions,
        future: Any,
        action: str,
        enterprise_name: str,
        redirect_url: str,
    ) -> int:
        """``action_item_url`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def o365_user_info(self, auth: dict[str, Any]) -> O365UserInfo:
        """Whether the tenant has the Teams Tenant Admin API (``O365UserInfo``), given the MSAL
        result (its wire-named dict)."""
    def o365_user_info_async(
        self, completions: Completions, future: Any, auth: dict[str, Any]
    ) -> int:
        """``o365_user_info`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def provision_tenant_admin_api(self, auth: dict[str, Any]) -> None:
        """Provisions the "Skype and Teams Tenant Admin API" for the admin's tenant."""
    def provision_tenant_admin_api_async(
        self, completions: Completions, future: Any, auth: dict[str, Any]
    ) -> int:
        """``provision_tenant_admin_api`` for asyncio: resolves ``future`` through
        ``completions``; returns the call number for ``Completions.cancel``."""
    def update_management_consent(
        self, auth: dict[str, Any], reseller_id: int, tenant_id: str
    ) -> None:
        """Records "management by service provider" after the Global Admin granted that
        consent."""
    def update_management_consent_async(
        self,
        completions: Completions,
        future: Any,
        auth: dict[str, Any],
        reseller_id: int,
        tenant_id: str,
    ) -> int:
        """``update_management_consent`` for asyncio: resolves ``future`` through
        ``completions``; returns the call number for ``Completions.cancel``."""
    def enterprises(self, reseller_id: int) -> list[EnterpriseSummary]:
        """The reseller's enterprises (``list[EnterpriseSummary]``)."""
    def enterprises_async(self, completions: Completions, future: Any, reseller_id: int) -> int:
        """``enterprises`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""
    def find_enterprise(self, reseller_id: int, name: str) -> Optional[EnterpriseSummary]:
        """One of the reseller's enterprises by exact name (``EnterpriseSummary`` or ``None``)."""
    def find_enterprise_async(
        self, completions: Completions, future: Any, reseller_id: int, name: str
    ) -> int:
        """``find_enterprise`` for asyncio: resolves ``future`` through ``completions``; returns
        the call number for ``Completions.cancel``."""

@final
class NativeSimulator:
    """A running simulator on 127.0.0.1."""

    def __new__(cls, options: dict[str, Any], faults: Optional[str] = None) -> NativeSimulator:
        """Starts a simulator from ``options`` (``ctt_sim``'s ``SimOptions``: ``port``,
        ``tokenTtlMs``, ``credentials``); ``faults`` is the CLI form
        (``rate=0.2,seed=7,kinds=429+500``)."""
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
    def credentials(self) -> dict[str, str]:
        """The credentials it accepts."""
    def reseller_id(self) -> int:
        """The reseller id of its one reseller."""
    def now(self) -> float:
        """The simulator's current time, in seconds since the Unix epoch."""
    def advance_clock(self, seconds: float) -> None:
        """Moves the simulator's clock forward by ``seconds``."""
    def set_faults(self, spec: str) -> None:
        """Replaces the fault configuration (CLI form; ``rate=0`` turns faults off)."""
    def set_canned(self, canned: dict[str, Any]) -> None:
        """Answers every API request whose path starts with ``path_prefix`` with this response
        (a test knob for answers the real service should never give: huge, nested, mistyped)."""
    def clear_canned(self) -> None:
        """Removes the canned responses."""
    def set_token_ttl(self, seconds: float) -> None:
        """Changes the lifetime of tokens issued from now on."""
    def approve(self, url: str, tenant: str, post: bool = True) -> tuple[str, str]:
        """Acts as ``tenant``'s admin on an action item URL and returns the callback as
        (redirect URL, JSON body); posts it there too when ``post`` and the URL is on
        loopback."""
    def redirect_url_of(self, url: str) -> Optional[str]:
        """The redirect URL (with the flow's tag) a pending action item URL will post its
        callback to, without approving it; None when the URL is not pending."""
    def requests(self) -> list[dict[str, Any]]:
        """Every API request answered so far."""
    def token_requests(self, level: str) -> int:
        """Token requests that succeeded at ``level`` (``reseller`` or ``enterprise``)."""
    def snapshot(self) -> dict[str, Any]:
        """Everything it holds (enterprises, consents, requests, token counts)."""
    def close(self) -> None:
        """Stops the server (once no call on it is in flight). Closing twice is harmless."""

def known_services() -> list[str]:
    """The service names this version of the core knows, in documentation order."""

def known_action_types() -> list[str]:
    """The action types this version of the core knows, in documentation order."""

def error_codes() -> list[str]:
    """Every error code of the core, in documentation order."""

def is_transient(code: str) -> bool:
    """True when repeating a call that failed with ``code`` may succeed (core's
    ``Error::is_transient``)."""

def error_for_code(
    code: str,
    message: str,
    status: Optional[int] = None,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> BaseException:
    """Builds the exception a core error with these fields becomes, without raising it: lets the
    test suite check the mapping of every code, including those the simulator never answers
    with."""

def forced_panic() -> None:
    """Panics inside a core call on purpose (``ctt_onboard::error::forced_panic_for_tests``),
    through the same wrapper every blocking call uses: shows that a panic becomes an
    ``ApiError``."""

def forced_panic_start(completions: Completions, future: Any) -> int:
    """``forced_panic`` through ``Completions``, the path every ``AsyncClient`` call takes:
    resolves ``future`` with the error."""

def validate_enterprise(enterprise: dict[str, Any]) -> None:
    """Checks a new enterprise (its wire-named dict) the way ``create_enterprise`` does before
    sending anything."""

def auth_tenant_id(auth: dict[str, Any]) -> Optional[str]:
    """The tenant id of an MSAL result (its wire-named dict): the core's rule."""

def callback_tenant_id(payload: dict[str, Any]) -> Optional[str]:
    """The tenant id a callback payload (its wire-named dict) names: the core's rule (the access
    token's tenant, else the wrapper's)."""

def drain_logs() -> list[tuple[int, str, str]]:
    """Takes every queued record: (level number, target, message)."""

def logs_pending() -> bool:
    """True when records may be waiting for ``drain_logs``; a cheap check the Python layer makes
    after every call."""

def register_model(
    name: str, cls: type, fields: list[tuple[str, str, Any]], keeps_extra: bool
) -> None:
    """Registers the class native results of kind ``name`` become: ``fields`` is (wire name,
    attribute name, default) per field; with ``keeps_extra`` the other wire keys go to ``extra``.
    The defaults are shared between instances, so they must be immutable."""

def build_models(name: str, items: list[str]) -> tuple[Any, ...]:
    """Builds registered model instances from wire-named JSON objects, through the same path native
    results take: lets the tests compare it with ``from_dict``."""

def set_log_level(level: int) -> bool:
    """Sets the lowest Python level number that is queued at all (the Python layer passes the
    ``ctt_onboard`` logger's effective level). False when another subscriber owns the process."""

def shutdown_runtime() -> None:
    """Stops this process's runtime; the package registers it with ``atexit``, so its worker
    threads are gone before the interpreter finalizes. A later call builds a new runtime."""

@final
class NativeCallbackKeys:
    """The portal's callback keys (the core's ``CallbackKeys``): one key that signs new redirect
    URLs, older keys that still verify, retired key ids, the maximum age of a URL and the clock
    that judges it. Immutable: every ``with_*`` method returns a new ring. The secrets never leave
    the ring (its repr masks them)."""

    def __new__(cls, signing_key: bytes, key_id: Optional[str] = None) -> NativeCallbackKeys:
        """A ring whose signing key is ``signing_key`` (bytes, at least 16); ``key_id`` is the id
        the URLs carry (1 to 32 of ``A-Z a-z 0-9 - _ .``), derived from the key when None.
        ``InvalidInputError`` names what is wrong."""
    def with_verify_key(self, key: bytes, key_id: str) -> NativeCallbackKeys:
        """A copy of this ring that also verifies the URLs ``key`` (with id ``key_id``) tagged; it
        signs nothing new."""
    def with_retired(self, key_id: str) -> NativeCallbackKeys:
        """A copy of this ring that refuses the URLs key ``key_id`` tagged, saying it was
        retired."""
    def with_max_age(self, seconds: float) -> NativeCallbackKeys:
        """A copy of this ring whose URLs answer for ``seconds`` (at least 60)."""
    def with_clock(self, clock: ManualClock) -> NativeCallbackKeys:
        """A copy of this ring that stamps and judges URLs by ``clock``."""
    @property
    def signing_key_id(self) -> str:
        """The id of the key that signs new URLs."""
    @property
    def max_age(self) -> float:
        """How long a tagged URL answers, in seconds."""
    def now(self) -> float:
        """The time on the ring's clock, in seconds since the Unix epoch."""

@final
class NativeOnboarding:
    """One enterprise's onboarding, resumable from its JSON."""

    def __new__(cls, plan: dict[str, Any]) -> NativeOnboarding:
        """A new flow for a plan (a dict in the shape of the core's ``OnboardingPlan``);
        ``InvalidInputError`` names what is wrong with it."""
    @staticmethod
    def from_json(json: str) -> NativeOnboarding:
        """Restores a flow saved by ``to_json`` (a newer schema is ``InvalidInputError``)."""
    @property
    def id(self) -> str:
        """The flow's id (it is in every redirect URL the flow asks for)."""
    def to_json(self) -> str:
        """The flow as versioned JSON. It holds the Global Admin's latest MSAL result: store it
        as you would store a token."""
    def to_json_without_tokens(self) -> str:
        """The flow as JSON with no MSAL token in it (a flow loaded from it asks the admin to
        sign in again when a step needs it)."""
    def revision(self) -> int:
        """The flow's revision: 0 when new, rising with every change."""
    def is_advancing(self) -> bool:
        """True while an advance of this flow runs."""
    def has_unconfirmed_callback(self) -> bool:
        """True while a callback was accepted and ``advance`` has yet to confirm it."""
    def plan(self) -> dict[str, Any]:
        """The plan (a dict)."""
    def status(self) -> list[dict[str, Any]]:
        """Every step in the seed's order (core's ``StepStatus``: ``step``, ``title``, ``state``,
        ``detail``, ``updatedAt`` in Unix ms, ``errorCode``)."""
    def progress(self) -> Optional[dict[str, Any]]:
        """What the last ``advance`` returned (core's ``Progress``: tagged by ``kind``, camelCase,
        ``notBefore`` in Unix ms), or None before the first."""
    def enterprise_id(self) -> Optional[int]:
        """The enterprise's id, once created (or given)."""
    def tenant_id(self) -> Optional[str]:
        """The Microsoft tenant bound at registration."""
    def is_complete(self) -> bool:
        """True once every step is done or skipped."""
    def advance(
        self,
        client: NativeClient,
        checkpoint: Optional[Callable[[NativeOnboarding, int], None]] = None,
    ) -> dict[str, Any]:
        """Performs every API step it can and returns where it stopped (a progress dict).
        ``checkpoint(snapshot, previous_revision)`` is called on this thread after every step
        that changed the flow and before the create; what it raises stops the advance."""
    def advance_async(
        self,
        completions: Completions,
        future: Any,
        client: NativeClient,
        checkpoint: Optional[Callable[[NativeOnboarding, int], None]] = None,
    ) -> int:
        """``advance`` for asyncio: resolves ``future`` through ``completions`` and returns the
        call number for ``Completions.cancel`` (cancelling keeps every step that finished). The
        checkpoint is called on a blocking thread of the runtime."""
    def handle_callback(self, keys: NativeCallbackKeys, url: str, body: str) -> str:
        """Takes the callback the portal received at ``url`` with ``body``, after verifying it
        with ``keys``; returns ``"accepted"`` or ``"duplicate"``, or raises
        ``CallbackInvalidError``."""

def verify_callback(keys: NativeCallbackKeys, url: str, body: str) -> dict[str, Any]:
    """Verifies a callback without loading its flow (``url`` absolute): core's
    ``VerifiedCallback`` as a dict (camelCase names, ``issuedAt`` in Unix ms), or raises
    ``CallbackInvalidError``."""

def claimed_flow_id(url: str) -> Optional[str]:
    """The flow id a callback URL claims (absolute, or the path and query), unverified: which
    stored flow to load before ``handle_callback`` verifies it. None when it names none."""
