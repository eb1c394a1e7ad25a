"""ctt_onboard._native: the pyo3 layer over the Rust core (``ctt-onboard`` crate).

Models cross as Python objects: arguments as the wire-named dicts ``to_dict()`` makes, results
as instances of the model class a call names (built as ``ctt_onboard.models`` registered them,
``register_model``), flow results as plain dicts. Every client call is one ``ClientCall`` dict
(the methods of ``Client`` and ``AsyncClient`` are generated from it), every simulator control
call one ``SimCall`` dict. The public, typed API is in the ``ctt_onboard`` package. Blocking
methods release the GIL; ``call_async`` resolves an asyncio future through a loop's
``Completions``.
"""

from collections.abc import Callable
from typing import Any, Optional, final

__all__ = [
    "Completions",
    "ManualClock",
    "ModelSpec",
    "NativeCallbackKeys",
    "NativeClient",
    "NativeOnboarding",
    "NativeSimulator",
    "__version__",
    "auth_tenant_id",
    "callback_tenant_id",
    "claimed_flow_id",
    "drain_logs",
    "is_transient",
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
    def call(self, call: dict[str, Any], model: Optional[type] = None) -> Any:
        """Performs ``call`` (core's ``ClientCall``: a dict with the call's name under ``"call"``
        and its camelCase arguments) with the GIL released; its result as ``model`` instances (one,
        a list, or None) when given, else plain dicts, lists and scalars."""
    def call_async(
        self,
        completions: Completions,
        future: Any,
        call: dict[str, Any],
        model: Optional[type] = None,
    ) -> int:
        """``call`` for asyncio: resolves ``future`` through ``completions`` and returns the call
        number for ``Completions.cancel``."""

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
    def call(self, call: dict[str, Any]) -> Any:
        """Performs ``call`` (``ctt_sim``'s ``SimCall``: a dict with the call's name under
        ``"call"`` and its camelCase arguments, times in ms) with the GIL released; its result as
        plain dicts, lists and scalars."""
    def close(self) -> None:
        """Stops the server (once no call on it is in flight). Closing twice is harmless."""

def is_transient(code: str) -> bool:
    """True when repeating a call that failed with ``code`` may succeed (core's
    ``Error::is_transient``)."""

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

@final
class ModelSpec:
    """How native results become instances of one model class without running Python code per
    field; ``register_model`` keeps it on the class as ``_native_spec_``."""

def register_model(cls: type, fields: list[tuple[str, str, Any]], keeps_extra: bool) -> None:
    """Registers how native results become instances of ``cls``: ``fields`` is (wire name,
    attribute name, default) per field; with ``keeps_extra`` the other wire keys go to ``extra``.
    The defaults are shared between instances, so they must be immutable."""

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
