"""``Client`` (blocking) and ``AsyncClient`` (asyncio): the same methods over one core client.

Both are thin: they convert models to and from the wire's JSON and forward log records; the
requests, tokens, retries and errors are the core's.
"""

from __future__ import annotations

from . import _logs, _native
from ._generated import AsyncClientCalls, ClientCalls
from ._record import Record, field
from .errors import InvalidInputError

# Registers the classes the native calls return (models.py), before any call.
from .models import Model as _Model

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    import weakref
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from types import TracebackType
    from typing import Any, Optional, Union

ManualClock = _native.ManualClock


def _key_bytes(key: Union[bytes, bytearray, memoryview, str], what: str = "callback_key") -> bytes:
    """A key as the bytes the core takes: a ``str`` is its UTF-8 bytes."""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"{what} must be bytes or str, not {type(key).__name__}")


class CallbackKeys:
    """The portal's callback key ring: the key that signs the redirect URLs the flow asks for,
    older keys that still verify the URLs they signed, the ids of retired keys (their URLs are
    refused with a message saying so), and how long a URL answers (``max_age``, default 72
    hours, at least 60 seconds).

    Keys are bytes (any bytes: ``os.urandom(32)`` is a good one) or ``str`` (taken as its UTF-8
    bytes), at least 16 bytes each. Every URL carries the id of the key that signed it:
    ``key_id`` (1 to 32 of ``A-Z a-z 0-9 - _ .``), or one derived from the key when omitted, so
    a portal with one key never names it. To rotate, sign with the new key and keep the old one
    verifying until its URLs have expired, then retire it::

        keys = CallbackKeys(new_key, "2026-06", verify={"2026-01": old_key})
        later = CallbackKeys(new_key, "2026-06", retired=["2026-01"])
        client = Client(..., callback_keys=keys)

    A ring is immutable: ``verify_also``, ``retire`` and ``with_max_age`` return a new ring
    (a client keeps the ring it was built with). Give it to ``Client`` / ``AsyncClient``
    (``callback_keys=``), or to ``Onboarding.handle_callback`` and ``verify_callback``. The
    secrets never appear in ``repr``. URLs are judged by the system clock, or ``clock``; a
    client lends its own clock to a ring that has none.
    """

    __slots__ = ("_native", "_retired", "_verify_ids")

    def __init__(
        self,
        signing_key: Union[bytes, bytearray, memoryview, str],
        key_id: Optional[str] = None,
        *,
        verify: Optional[Mapping[str, Union[bytes, bytearray, memoryview, str]]] = None,
        retired: Iterable[str] = (),
        max_age: Optional[float] = None,
        clock: Optional[_native.ManualClock] = None,
    ) -> None:
        ring = _native.NativeCallbackKeys(_key_bytes(signing_key, "signing_key"), key_id)
        verify_ids: list[str] = []
        for kid, key in (verify or {}).items():
            ring = ring.with_verify_key(_key_bytes(key, "verify key"), kid)
            verify_ids.append(kid)
        retired_ids = tuple(retired)
        for kid in retired_ids:
            ring = ring.with_retired(kid)
        if max_age is not None:
            ring = ring.with_max_age(max_age)
        if clock is not None:
            ring = ring.with_clock(clock)
        self._native = ring
        self._verify_ids = tuple(verify_ids)
        self._retired = retired_ids

    @classmethod
    def _wrap(
        cls,
        native: _native.NativeCallbackKeys,
        verify_ids: tuple[str, ...],
        retired: tuple[str, ...],
    ) -> CallbackKeys:
        ring = cls.__new__(cls)
        ring._native = native
        ring._verify_ids = verify_ids
        ring._retired = retired
        return ring

    def verify_also(
        self, key: Union[bytes, bytearray, memoryview, str], key_id: str
    ) -> CallbackKeys:
        """A new ring that also verifies the URLs ``key`` signed as ``key_id`` (it signs nothing
        new); ``InvalidInputError`` when the id is in the ring already or retired."""
        native = self._native.with_verify_key(_key_bytes(key, "verify key"), key_id)
        return self._wrap(native, (*self._verify_ids, key_id), self._retired)

    def retire(self, key_id: str) -> CallbackKeys:
        """A new ring that refuses the URLs key ``key_id`` signed, saying the key was retired
        (``CallbackInvalidError``); ``InvalidInputError`` when that key is still in the ring."""
        native = self._native.with_retired(key_id)
        return self._wrap(native, self._verify_ids, (*self._retired, key_id))

    def with_max_age(self, seconds: float) -> CallbackKeys:
        """A new ring whose URLs answer for ``seconds`` (at least 60) after they were issued."""
        return self._wrap(self._native.with_max_age(seconds), self._verify_ids, self._retired)

    @property
    def signing_key_id(self) -> str:
        """The id of the key that signs new URLs (the ``ctt_kid`` they carry)."""
        return self._native.signing_key_id

    @property
    def verify_key_ids(self) -> tuple[str, ...]:
        """The ids of the older keys that still verify."""
        return self._verify_ids

    @property
    def retired_key_ids(self) -> tuple[str, ...]:
        """The ids of the retired keys."""
        return self._retired

    @property
    def max_age(self) -> float:
        """How long a URL answers after it was issued, in seconds."""
        return self._native.max_age

    def __repr__(self) -> str:
        return (
            f"CallbackKeys(signing_key_id={self.signing_key_id!r}, "
            f"verify_key_ids={self._verify_ids!r}, retired_key_ids={self._retired!r}, "
            f"max_age={self.max_age!r})"
        )


class ResellerCredentials(Record, frozen=True):
    """The reseller API user's password-grant credentials (for ``/reseller/*`` and
    ``/enterprise/*``). The secret and password never appear in ``repr``."""

    #: The OAuth client id.
    client_id: str
    #: The OAuth client secret (secret).
    client_secret: str = field(repr=False)
    #: The API user's name.
    username: str
    #: The API user's password (secret).
    password: str = field(repr=False)

    def _tuple(self) -> tuple[str, str, str, str]:
        return (self.client_id, self.client_secret, self.username, self.password)


class EnterpriseCredentials(ResellerCredentials, frozen=True):
    """The enterprise's API credentials (password grant) for the ``/provisioning/*`` calls."""


class RetryPolicy(Record, frozen=True):
    """When and how often the client repeats a call that failed in a way a repeat may fix.

    Only calls that cannot do harm when repeated are retried; a create never is. Times in seconds.
    """

    #: Attempts in all, the first included (1 disables retries).
    max_attempts: int = 4
    #: The first backoff.
    initial_backoff: float = 0.2
    #: The longest backoff.
    max_backoff: float = 10.0
    #: The longest ``Retry-After`` the client waits for by itself; a longer one is raised as
    #: ``RateLimitedError``.
    max_retry_after: float = 60.0
    #: The longest one call may take in all (attempts, backoffs, ``Retry-After`` waits); a wait
    #: that would end past it is not slept, the call raises the error that asked for it.
    deadline: float = 60.0

    @classmethod
    def none(cls) -> RetryPolicy:
        """No retries at all."""
        return cls(max_attempts=1)


def _ms(name: str, seconds: float) -> int:
    """Seconds as the whole milliseconds core's options take; negative is ``InvalidInputError``."""
    if not seconds >= 0:
        raise InvalidInputError(f"{name} must be a non-negative number of seconds, got {seconds}")
    return round(seconds * 1000)


def _credentials(c: ResellerCredentials) -> dict[str, str]:
    return {
        "clientId": c.client_id,
        "clientSecret": c.client_secret,
        "username": c.username,
        "password": c.password,
    }


def _native_client(
    *,
    base_url: Optional[str],
    reseller: Optional[ResellerCredentials],
    reseller_token: Optional[str],
    enterprise: Union[EnterpriseCredentials, ResellerCredentials, str, None],
    timeout: Optional[float],
    connect_timeout: Optional[float],
    retry: Optional[RetryPolicy],
    user_agent: Optional[str],
    proxy: Optional[str],
    ca_cert_pem: Union[str, Sequence[str], None],
    paths: Optional[Mapping[str, str]],
    callback_key: Union[bytes, bytearray, memoryview, str, None],
    callback_keys: Optional[CallbackKeys],
    clock: Optional[_native.ManualClock],
    reseller_id: Optional[int],
    max_response_bytes: Optional[int],
) -> _native.NativeClient:
    """The native client from core's ``ClientOptions`` (camelCase, times in ms)."""
    if callback_keys is not None and not isinstance(callback_keys, CallbackKeys):
        raise TypeError(f"callback_keys must be a CallbackKeys, not {type(callback_keys).__name__}")
    if callback_key is not None and callback_keys is not None:
        raise InvalidInputError(
            "callback_key and callback_keys: give one of them (a ring holds the signing key)"
        )
    options: dict[str, Any] = {
        "baseUrl": base_url,
        "reseller": _credentials(reseller) if reseller is not None else None,
        "resellerToken": reseller_token,
        "enterprise": _credentials(enterprise)
        if isinstance(enterprise, ResellerCredentials)
        else None,
        "enterpriseToken": enterprise if isinstance(enterprise, str) else None,
        "timeoutMs": _ms("timeout", timeout) if timeout is not None else None,
        "connectTimeoutMs": _ms("connect_timeout", connect_timeout)
        if connect_timeout is not None
        else None,
        "userAgent": user_agent,
        "proxy": proxy,
        "caCertPem": [ca_cert_pem]
        if isinstance(ca_cert_pem, str)
        else ca_cert_pem and list(ca_cert_pem),
        "paths": dict(paths) if paths is not None else None,
        "resellerId": reseller_id,
        "maxResponseBytes": max_response_bytes,
    }
    if retry is not None:
        options["retry"] = {
            "maxAttempts": retry.max_attempts,
            "initialBackoffMs": _ms("retry.initial_backoff", retry.initial_backoff),
            "maxBackoffMs": _ms("retry.max_backoff", retry.max_backoff),
            "maxRetryAfterMs": _ms("retry.max_retry_after", retry.max_retry_after),
            "deadlineMs": _ms("retry.deadline", retry.deadline),
        }
    _logs.flush()
    try:
        return _native.NativeClient(
            {k: v for k, v in options.items() if v is not None},
            callback_key=_key_bytes(callback_key) if callback_key is not None else None,
            callback_keys=callback_keys._native if callback_keys is not None else None,
            clock=clock,
        )
    finally:
        _logs.flush()


_call_async = _native.NativeClient.call_async
_before = _logs.before
_pending = _logs.pending
_drain = _logs.drain


def _running_loop() -> asyncio.AbstractEventLoop:
    # Only coroutines call this, so asyncio is already imported: the package does not import it.
    import asyncio

    return asyncio.get_running_loop()


#: Each running loop's completion queue (see the native ``Completions``), dropped with its loop.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _native.Completions] | None = None


def _completions(loop: asyncio.AbstractEventLoop) -> _native.Completions:
    global _queues
    if _queues is None:
        import weakref

        _queues = weakref.WeakKeyDictionary()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = _native.Completions()
        loop.add_reader(queue.fileno(), queue.drain)
    return queue


async def _awaited(method: Callable[..., int], native: Any, *args: Any) -> Any:
    """Starts ``method(native, completions, future, *args)`` (a native call resolved through the
    running loop's ``Completions``) and awaits it; a cancelled wait stops the core future."""
    loop = _running_loop()
    completions = _completions(loop)
    future = loop.create_future()
    _before()
    try:
        call = method(native, completions, future, *args)
        try:
            return await future
        except BaseException:
            # Cancelled (or the call failed, when this is harmless): stop the core future.
            completions.cancel(call)
            raise
    finally:
        if _pending():
            _drain()


class _Base:
    _inner: Optional[_native.NativeClient]
    _ring_ids: tuple[tuple[str, ...], tuple[str, ...]]

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        reseller: Optional[ResellerCredentials] = None,
        reseller_token: Optional[str] = None,
        enterprise: Union[EnterpriseCredentials, ResellerCredentials, str, None] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retry: Optional[RetryPolicy] = None,
        user_agent: Optional[str] = None,
        proxy: Optional[str] = None,
        ca_cert_pem: Union[str, Sequence[str], None] = None,
        paths: Optional[Mapping[str, str]] = None,
        callback_key: Union[bytes, bytearray, memoryview, str, None] = None,
        callback_keys: Optional[CallbackKeys] = None,
        clock: Optional[_native.ManualClock] = None,
        reseller_id: Optional[int] = None,
        max_response_bytes: Optional[int] = None,
    ) -> None:
        self._inner = _native_client(
            base_url=base_url,
            reseller=reseller,
            reseller_token=reseller_token,
            enterprise=enterprise,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retry=retry,
            user_agent=user_agent,
            proxy=proxy,
            ca_cert_pem=ca_cert_pem,
            paths=paths,
            callback_key=callback_key,
            callback_keys=callback_keys,
            clock=clock,
            reseller_id=reseller_id,
            max_response_bytes=max_response_bytes,
        )
        self._base_url = self._inner.base_url
        self._ring_ids = (
            (callback_keys._verify_ids, callback_keys._retired)
            if callback_keys is not None
            else ((), ())
        )

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._base_url

    @property
    def native(self) -> _native.NativeClient:
        """The native client (raises ``RuntimeError`` once closed)."""
        if self._inner is None:
            raise self._closed_error()
        return self._inner

    @property
    def callback_keys(self) -> Optional[CallbackKeys]:
        """The ring the flow signs its redirect URLs with, on this client's clock (from
        ``callback_key`` or ``callback_keys``), or None. ``Onboarding.handle_callback(client,
        ...)`` verifies with it."""
        native = self.native.callback_keys()
        if native is None:
            return None
        return CallbackKeys._wrap(native, *self._ring_ids)

    def _closed_error(self) -> RuntimeError:
        return RuntimeError(f"this {type(self).__name__} is closed")

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._inner is None

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<{type(self).__name__} {self._base_url}{state}>"


class Client(_Base, ClientCalls):
    """The blocking client: every method waits for the answer with the GIL released.

    ``with Client(...) as client:`` closes it at the end of the block. Every setting is
    keyword-only and optional. The onboarding flow needs a callback key: ``callback_key`` (bytes
    or ``str``, at least 16 bytes: a one-key ring) or ``callback_keys`` (a ``CallbackKeys``
    ring, for rotation), not both.
    """

    def close(self) -> None:
        """Releases the client; calls after this raise ``RuntimeError``."""
        self._inner = None

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def _call(self, call: dict[str, Any], model: Optional[type[_Model]] = None) -> Any:
        # The hot path of every call: one level check before, one lock-free check after.
        native = self._inner
        if native is None:
            raise self._closed_error()
        _before()
        try:
            return native.call(call, model)
        finally:
            if _pending():
                _drain()


class AsyncClient(_Base, AsyncClientCalls):
    """The asyncio client: every method is a coroutine; calls run concurrently on the core's
    runtime. ``async with AsyncClient(...) as client:`` closes it at the end of the block."""

    async def aclose(self) -> None:
        """Releases the client; calls after this raise ``RuntimeError``."""
        self._inner = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    async def _call(self, call: dict[str, Any], model: Optional[type[_Model]] = None) -> Any:
        native = self._inner
        if native is None:
            raise self._closed_error()
        return await _awaited(_call_async, native, call, model)
