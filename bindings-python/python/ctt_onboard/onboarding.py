"""The onboarding flow: a resumable state machine over Parts I to III of the vendor's guide.

``Onboarding(plan)`` starts a flow; ``advance(client)`` (or ``await advance_async(client)``)
performs every API step it can and returns where it stopped: ``AwaitingAdmin`` (show ``url`` to
the Global Admin), ``WaitingUntil`` (the vendor's 30-minute wait) or ``Complete``. The portal
passes each callback to ``handle_callback(client, url, body)`` (``claimed_flow_id(url)`` says
which stored flow to load). ``to_json()`` / ``from_json()`` persist the flow between requests
and processes; its JSON holds the admin's latest MSAL result, so store it as you would store a
token (or save ``to_json_without_tokens()``).

Every change raises ``revision``. With several workers, save with compare-and-swap on it (``UPDATE
flows SET json = ?, revision = ? WHERE id = ? AND revision = ?``; a writer whose row moved on
reloads the flow and applies its change again), and give ``advance`` a ``checkpoint`` that saves
that way: it runs after every step that changed the flow and before the create, so two workers
advancing one flow send one create and a callback saved meanwhile is never lost. The logic is
the core's; this module only converts.
"""

from __future__ import annotations

import enum

from . import _logs, _native
from ._client import CallbackKeys, _awaited, _Base, _key_bytes
from ._generated import (
    AwaitingAdmin,
    Complete,
    OnboardingPlan,
    Progress,
    StepStatus,
    VerifiedCallback,
    WaitingUntil,
)
from ._generated import progress_from_dict as _progress
from .errors import CttError, FlowStateError, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Optional, Union

    from ._client import AsyncClient, Client

    #: What ``handle_callback`` and ``verify_callback`` verify with: a key (bytes, or ``str``
    #: as its UTF-8 bytes), a ``CallbackKeys`` ring, or a client (its ring and its clock).
    Keys = Union[bytes, bytearray, memoryview, str, CallbackKeys, Client, AsyncClient]


class CallbackOutcome(str, enum.Enum):
    """What ``handle_callback`` did with a callback."""

    #: The callback advanced the flow.
    ACCEPTED = "accepted"
    #: The same callback arrived before; nothing changed.
    DUPLICATE = "duplicate"


def _ring(keys: Keys) -> _native.NativeCallbackKeys:
    """The native ring ``keys`` stands for."""
    if isinstance(keys, CallbackKeys):
        return keys._native
    if isinstance(keys, _Base):
        ring = keys.native.callback_keys()
        if ring is None:
            raise InvalidInputError(
                "the client has no callback key: build it with callback_key or callback_keys"
            )
        return ring
    return _native.NativeCallbackKeys(_key_bytes(keys, "keys"), None)


class _Saves:
    """A checkpoint as the native layer calls it, with the Python manners of what it raises: a
    ``CttError`` stops the advance with its code and message, anything else as a
    ``FlowStateError`` naming it; ``error`` then gives back what ``advance`` raises."""

    def __init__(self, save: Callable[[_native.NativeOnboarding, int], None]) -> None:
        self._save = save
        #: What the checkpoint raised, and the ``CttError`` it became.
        self._raised: Optional[tuple[BaseException, CttError]] = None

    def __call__(self, snapshot: _native.NativeOnboarding, previous_revision: int) -> None:
        try:
            self._save(snapshot, previous_revision)
        except CttError as e:
            self._raised = (e, e)
            raise
        except BaseException as e:
            name = type(e).__qualname__
            became = FlowStateError(f"the checkpoint raised {name}: {e}")
            self._raised = (e, became)
            raise became from e

    def error(self, error: CttError) -> BaseException:
        """What ``advance`` raises for ``error``: when it is what the checkpoint's exception
        became, that exception itself if it is a ``CttError`` or not an ``Exception`` at all
        (``KeyboardInterrupt``), else ``error`` with it as ``__cause__``."""
        if self._raised is None:
            return error
        original, became = self._raised
        if (error.code, error.message) != (became.code, became.message):
            return error
        if isinstance(original, CttError) or not isinstance(original, Exception):
            return original
        error.__cause__ = original
        return error


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

    def to_json_without_tokens(self) -> str:
        """The flow as JSON with no MSAL token in it: a flow loaded from it asks the Global Admin
        to sign in again (``LOGIN_ENTERPRISE_ADMIN``) when a step needs the admin's sign-in. A
        callback not yet confirmed by ``advance`` is not kept (its tokens would be): ``advance``
        right after ``handle_callback`` before saving this way, or the ask is made again."""
        return self._native.to_json_without_tokens()

    @property
    def revision(self) -> int:
        """0 for a new flow, rising with every change (a step, an accepted callback); at most
        2**53 - 1. Save with compare-and-swap on it (see the module docs)."""
        return self._native.revision()

    @property
    def has_unconfirmed_callback(self) -> bool:
        """True while a callback was accepted and ``advance`` has yet to confirm its MSAL
        result with ConnecttoTeams."""
        return self._native.has_unconfirmed_callback()

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
        return [StepStatus.from_dict(s) for s in self._native.status()]

    def progress(self) -> Optional[Progress]:
        """What the last ``advance`` returned (no call is made), or None before the first."""
        data = self._native.progress()
        return _progress(data) if data is not None else None

    def advance(
        self,
        client: Union[Client, AsyncClient],
        checkpoint: Optional[Callable[[Onboarding, int], None]] = None,
    ) -> Progress:
        """Performs every API step it can, in the seed's order, and returns where it stopped.
        The client needs a callback key. A callback accepted by ``handle_callback`` is first
        confirmed with ConnecttoTeams; one it refuses sends the step back to asking (a new URL,
        the reason in ``status()``). A failed step raises its ``CttError`` and is retried by the
        next ``advance``; a create whose name belongs to an enterprise this flow did not create
        raises ``ConflictError`` naming the name.

        ``checkpoint(flow, previous_revision)`` saves the flow: it is called on this thread (so
        it may use this thread's ``sqlite3`` connection, or call the blocking client) after
        every step that changed the flow and before the create (the one request that must not
        be repeated), with the flow being saved (a snapshot) and the revision the previous save
        stored (the revision this flow had, for the first). Save
        ``flow.to_json()`` and ``flow.revision`` only if the stored row is still at
        ``previous_revision``, and raise otherwise (``FlowStateError`` is the usual answer).
        When it raises, ``advance`` stops (before the create, nothing is sent) and raises: a
        ``CttError`` (or an exception that is not an ``Exception``) as it was raised, any other
        exception as a ``FlowStateError`` naming it, with the exception as ``__cause__``. A
        failed save before the create leaves ``revision`` where it was.

        While an advance runs, this flow can still be read from any thread (the checkpoint
        included): it shows the state as of the last step that finished and was saved. A second
        ``advance`` or a ``handle_callback`` meanwhile raises ``FlowStateError`` and changes
        nothing."""
        _logs.flush()
        try:
            if checkpoint is None:
                return _progress(self._native.advance(client.native))
            wrap = Onboarding._wrap

            def save(snapshot: _native.NativeOnboarding, previous_revision: int) -> None:
                _logs.flush()
                checkpoint(wrap(snapshot), previous_revision)

            saves = _Saves(save)
            try:
                return _progress(self._native.advance(client.native, saves))
            except CttError as e:
                raised = saves.error(e)
                raise raised from raised.__cause__
        finally:
            _logs.flush()

    async def advance_async(
        self,
        client: Union[AsyncClient, Client],
        checkpoint: Optional[Callable[[Onboarding, int], Optional[Awaitable[None]]]] = None,
    ) -> Progress:
        """Awaitable twin of ``advance``. Cancelling it keeps every step that finished.

        The ``checkpoint`` is as for ``advance`` and runs on the event loop's thread; it may be a
        coroutine function (``async def``), which is awaited there. While this call is in
        flight, reads of this flow see the last step that finished (as for ``advance``)."""
        _logs.flush()
        try:
            start = _native.NativeOnboarding.advance_async
            if checkpoint is None:
                return _progress(await _awaited(start, self._native, client.native))
            # Only coroutines get here, so asyncio is already imported.
            import asyncio

            loop = asyncio.get_running_loop()
            wrap = Onboarding._wrap

            async def run(snapshot: _native.NativeOnboarding, previous_revision: int) -> None:
                _logs.flush()
                result = checkpoint(wrap(snapshot), previous_revision)
                if result is not None:
                    await result

            def save(snapshot: _native.NativeOnboarding, previous_revision: int) -> None:
                # On a blocking thread of the runtime: run it on the loop and wait for it there.
                asyncio.run_coroutine_threadsafe(run(snapshot, previous_revision), loop).result()

            saves = _Saves(save)
            try:
                return _progress(await _awaited(start, self._native, client.native, saves))
            except CttError as e:
                raised = saves.error(e)
                raise raised from raised.__cause__
        finally:
            _logs.flush()

    def handle_callback(self, keys: Keys, url: str, body: str) -> CallbackOutcome:
        """Takes the callback the portal received at ``url`` (absolute, or the path and query)
        with ``body``. Offline: it checks the tag with ``keys`` (the client that advanced the
        flow, preferably: its ring and its clock; or a ``CallbackKeys``, or one key as bytes or
        ``str``), that the URL is the ask this flow waits for now and not older than the ring's
        ``max_age``, that the signer is a Global Admin, that the body's tenant agrees with the
        access token's and the one bound at registration, and that the token is new. A rejection
        raises ``CallbackInvalidError`` and changes nothing (a callback for an earlier ask, or
        for one already answered with another body, too); the same ask with the same payload
        (whitespace and key order aside) is ``DUPLICATE``. Accepting consumes the ask; the next
        ``advance`` confirms the result with ConnecttoTeams before relying on it. While an
        ``advance`` of this flow runs it raises ``FlowStateError`` (post the callback again once
        the advance returns)."""
        try:
            return CallbackOutcome(self._native.handle_callback(_ring(keys), url, body))
        finally:
            _logs.flush()

    def __repr__(self) -> str:
        if self._native.is_advancing():
            return f"<Onboarding {self.id} advancing>"
        progress = self.progress()
        where = type(progress).__name__ if progress is not None else "not started"
        return f"<Onboarding {self.id} {where}>"


def verify_callback(keys: Keys, url: str, body: str) -> VerifiedCallback:
    """Verifies a callback (``url`` absolute, as delivered; ``body`` as posted) without loading
    its flow, with ``keys`` as for ``Onboarding.handle_callback``: returns the flow id, the
    action, the nonce, the issue time and the payload, or raises ``CallbackInvalidError``."""
    return VerifiedCallback.from_dict(_native.verify_callback(_ring(keys), url, body))


def claimed_flow_id(url: str) -> Optional[str]:
    """The flow id a callback URL (absolute, or the path and query) claims, unverified: which
    stored flow to load before ``handle_callback`` verifies the callback. None when it names
    none."""
    return _native.claimed_flow_id(url)


__all__ = [
    "AwaitingAdmin",
    "CallbackKeys",
    "CallbackOutcome",
    "Complete",
    "Onboarding",
    "OnboardingPlan",
    "Progress",
    "StepStatus",
    "VerifiedCallback",
    "WaitingUntil",
    "claimed_flow_id",
    "verify_callback",
]
