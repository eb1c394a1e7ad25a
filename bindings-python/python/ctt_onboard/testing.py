"""The embedded simulator for tests and demos, and a pytest fixture.

``Simulator`` starts the ConnecttoTeams stand-in in-process on 127.0.0.1 (its own thread and
runtime) and stops it when closed::

    from ctt_onboard.testing import Simulator

    with Simulator() as sim:
        with sim.client() as client:
            print(client.authenticated_user())

With the package installed, pytest loads this module as a plugin, so tests can ask for the
``ctt_simulator`` fixture directly (or import it: ``from ctt_onboard.testing import
ctt_simulator``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Optional

from . import _logs, _native
from ._client import AsyncClient, Client, EnterpriseCredentials, ResellerCredentials

#: The simulated tenants, one for each branch of the onboarding: ``contoso`` is ready,
#: ``fabrikam`` lacks the Tenant Admin API, ``northwind`` lacks the Teams admin roles (30-minute
#: wait), and ``tailspin``'s signer is not a Global Admin.
TENANTS = ("contoso", "fabrikam", "northwind", "tailspin")


@dataclasses.dataclass(frozen=True)
class Callback:
    """What ConnecttoTeams posts to the redirect URL after the admin acted."""

    #: The redirect URL exactly as given to ``action_item_url``.
    url: str
    #: The JSON body, as the portal receives it (it holds MSAL tokens: never print it).
    body: str = dataclasses.field(repr=False)

    @property
    def payload(self) -> dict[str, Any]:
        """The body, parsed."""
        data: dict[str, Any] = json.loads(self.body)
        return data


def _ms(name: str, seconds: float) -> int:
    """Seconds as the whole milliseconds ``SimCall`` takes."""
    if not seconds >= 0:
        raise ValueError(f"{name} must be a non-negative number of seconds, got {seconds}")
    return round(seconds * 1000)


class Simulator:
    """A running simulator; use it as a context manager or call ``close()``.

    ``faults`` injects failures, in the CLI form (``"rate=0.2,seed=7,kinds=429+500"``).
    ``credentials`` overrides some of the credentials it accepts (keys ``client_id``,
    ``client_secret``, ``username``, ``password``, ``enterprise_username``,
    ``enterprise_password``), e.g. canary values for a secrets test.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        token_ttl: float = 3600.0,
        faults: Optional[str] = None,
        credentials: Optional[Mapping[str, str]] = None,
    ) -> None:
        if not token_ttl >= 0:
            raise ValueError(f"token_ttl must be a non-negative number of seconds, got {token_ttl}")
        options: dict[str, Any] = {"port": port, "tokenTtlMs": round(token_ttl * 1000)}
        if credentials is not None:
            options["credentials"] = dict(credentials)
        self._sim = _native.NativeSimulator(options, faults)
        creds = self._call("credentials")
        #: The reseller credentials it accepts.
        self.reseller = ResellerCredentials(
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            username=creds["username"],
            password=creds["password"],
        )
        #: The enterprise-level credentials it accepts (for ``/provisioning/*``).
        self.enterprise = EnterpriseCredentials(
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            username=creds["enterprise_username"],
            password=creds["enterprise_password"],
        )
        _logs.flush()

    def _call(self, call: str, **args: Any) -> Any:
        """Performs one of ``ctt_sim``'s ``SimCall`` (camelCase arguments)."""
        return self._sim.call({"call": call, **args})

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self._sim.base_url

    @property
    def reseller_id(self) -> int:
        """The reseller id of its one reseller."""
        reseller_id: int = self._call("resellerId")
        return reseller_id

    def client(self, **settings: Any) -> Client:
        """A blocking ``Client`` pointed at this simulator with its credentials; ``settings``
        are passed on (``callback_key=``, ``clock=``, ``retry=``, ...)."""
        settings.setdefault("base_url", self.base_url)
        settings.setdefault("reseller", self.reseller)
        settings.setdefault("enterprise", self.enterprise)
        return Client(**settings)

    def async_client(self, **settings: Any) -> AsyncClient:
        """An ``AsyncClient`` pointed at this simulator (see ``client``)."""
        settings.setdefault("base_url", self.base_url)
        settings.setdefault("reseller", self.reseller)
        settings.setdefault("enterprise", self.enterprise)
        return AsyncClient(**settings)

    def approve(self, url: str, tenant: str = "contoso", *, post: bool = True) -> Callback:
        """Acts as ``tenant``'s admin on an action item URL the API returned: signs in, accepts,
        and returns the callback. With ``post`` it is also posted to the redirect URL when that
        is on a loopback host."""
        try:
            callback = self._call("approve", url=url, tenant=tenant, post=post)
        finally:
            _logs.flush()
        return Callback(url=callback["url"], body=callback["bodyText"])

    def redirect_url_of(self, url: str) -> Optional[str]:
        """The redirect URL (with the flow's genuine tag) an action item URL sends the admin's
        browser to, without approving anything: what leaks through browser history, a Referer
        or a log, for tests that post a body of their own choosing there, as an attacker would.
        None when the URL is not pending."""
        redirect: Optional[str] = self._call("redirectUrlOf", url=url)
        return redirect

    def now(self) -> float:
        """The simulator's time, in seconds since the Unix epoch."""
        now_ms: int = self._call("nowMs")
        return now_ms / 1000

    def advance_clock(self, seconds: float) -> None:
        """Moves the simulator's clock forward (tokens and MSAL results expire, waits pass)."""
        self._call("advanceClock", ms=_ms("seconds", seconds))

    def set_token_ttl(self, seconds: float) -> None:
        """Changes the lifetime of tokens issued from now on."""
        self._call("setTokenTtl", ms=_ms("seconds", seconds))

    def set_faults(
        self,
        *,
        rate: float,
        seed: int = 1,
        kinds: Optional[Sequence[str]] = None,
        latency_ms: Optional[int] = None,
        retry_after: Optional[int] = None,
        paths: Optional[Sequence[str]] = None,
    ) -> None:
        """Injects faults into that fraction of API requests, reproducibly by ``seed``. Kinds:
        ``latency``, ``429``, ``500``, ``502``, ``503``, ``drop-before``, ``drop-after``,
        ``truncate`` (default all); ``paths`` limits them to path prefixes."""
        parts = [f"rate={rate}", f"seed={seed}"]
        if kinds is not None:
            parts.append("kinds=" + "+".join(kinds))
        if latency_ms is not None:
            parts.append(f"latency-ms={latency_ms}")
        if retry_after is not None:
            parts.append(f"retry-after={retry_after}")
        if paths is not None:
            parts.append("paths=" + "+".join(paths))
        self._call("setFaultsSpec", spec=",".join(parts))

    def clear_faults(self) -> None:
        """Turns injected faults off."""
        self._call("setFaultsSpec", spec="rate=0")

    def set_canned(
        self,
        path_prefix: str,
        body: str,
        *,
        status: int = 200,
        content_type: str = "application/json",
    ) -> None:
        """Answers every API request whose path starts with ``path_prefix`` with this response
        instead (a test knob for answers the real service should never give: huge, deeply
        nested, mistyped). ``clear_canned`` removes it."""
        canned = {"path_prefix": path_prefix, "status": status, "content_type": content_type}
        self._call("setCanned", canned={**canned, "body": body})

    def clear_canned(self) -> None:
        """Removes the canned responses."""
        self._call("clearCanned")

    def requests(self) -> list[dict[str, Any]]:
        """Every API request answered so far: ``method``, ``path``, ``status``, ``fault``."""
        requests: list[dict[str, Any]] = self._call("requests")
        return requests

    def token_requests(self, level: str = "reseller") -> int:
        """Token requests that succeeded at ``level`` (``reseller`` or ``enterprise``)."""
        count: int = self._call("tokenRequests", level=level)
        return count

    def snapshot(self) -> dict[str, Any]:
        """Everything it holds: enterprises, consents, requests, token counts."""
        snapshot: dict[str, Any] = self._call("snapshot")
        return snapshot

    def enterprises(self) -> list[dict[str, Any]]:
        """The enterprises it holds."""
        data: list[dict[str, Any]] = self.snapshot()["enterprises"]
        return data

    def consents(self) -> list[dict[str, Any]]:
        """The consents granted so far."""
        data: list[dict[str, Any]] = self.snapshot()["consents"]
        return data

    def close(self) -> None:
        """Stops the server. Closing twice is harmless."""
        self._sim.close()
        _logs.flush()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Simulator {self.base_url}>"


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is only needed for the fixture
    pass
else:

    @pytest.fixture
    def ctt_simulator() -> Iterator[Simulator]:
        """A fresh simulator for one test, closed afterwards."""
        with Simulator() as sim:
            yield sim


__all__ = ["TENANTS", "Callback", "Simulator", "ctt_simulator"]
