"""Forged and wrong callbacks through the binding (issue 9 item 5; core/tests/onboarding.rs
``forged_and_wrong_callbacks_leave_the_state_unchanged`` is the Rust version): each is a
``CallbackInvalidError`` and leaves the flow's JSON as it was; the genuine one is accepted once,
and its replay is a duplicate that changes nothing."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import ctt_onboard as ctt
import pytest
from conftest import KEY, unique_name
from ctt_onboard.testing import Simulator

REDIRECT = "https://portal.example/onboarding/callback"
#: Every parameter the flow adds to the portal's redirect URL.
PARAMS = ("ctt_flow", "ctt_action", "ctt_nonce", "ctt_iat", "ctt_kid", "ctt_v", "ctt_tag")


def key_id(key: bytes) -> str:
    """The id core/src/callback.rs derives for a one-key ring, computed independently."""
    return "k" + hashlib.sha256(b"ctt-onboard/callback-key-id\n" + key).digest()[:4].hex()


def tag(key: bytes, url: str, **changes: str) -> str:
    """The tag core/src/callback.rs (v2) puts on ``url`` (with some parameters changed),
    computed independently: HMAC-SHA256 over length-prefixed fields (a domain, the version, the
    key id, the flow id, the action, the nonce, the issue time and the portal's own URL), as
    unpadded base64url."""
    params = {k: v[0] for k, v in query(url).items()}
    params.update(changes)
    parts = urlsplit(url)
    own = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in PARAMS]
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(own), ""))
    mac = hmac.new(key, digestmod=hashlib.sha256)
    fields = [b"ctt-onboard/callback"] + [
        params[name].encode()
        for name in ("ctt_v", "ctt_kid", "ctt_flow", "ctt_action", "ctt_nonce", "ctt_iat")
    ]
    for f in [*fields, base.encode()]:
        mac.update(len(f).to_bytes(8, "big") + f)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def retagged(key: bytes, url: str, **changes: str) -> str:
    """``url`` with some parameters changed and a genuine tag for them (what a holder of the
    key could make; an attacker cannot)."""
    out = url
    for name, value in changes.items():
        out = replace_param(out, name, value)
    return replace_param(out, "ctt_tag", tag(key, url, **changes))


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def replace_param(url: str, name: str, value: str) -> str:
    pairs = [(k, value if k == name else v) for k, vs in query(url).items() for v in vs]
    return with_query(url, pairs)


def pairs_of(url: str) -> list[tuple[str, str]]:
    return [(k, v) for k, vs in query(url).items() for v in vs]


def new_flow() -> ctt.Onboarding:
    return ctt.Onboarding(
        ctt.OnboardingPlan(
            enterprise=ctt.NewEnterprise(
                enterprise_name=unique_name("Callbacks"), services=[ctt.Service.SMS]
            ),
            redirect_url=REDIRECT,
        )
    )


@dataclasses.dataclass
class Case:
    url: str
    body: str
    key: str = KEY
    #: A fragment the error message must hold.
    names: str = ""


@dataclasses.dataclass
class Setup:
    flow: ctt.Onboarding
    genuine_url: str
    genuine_body: str
    cases: dict[str, Case]


@pytest.fixture
def setup(sim: Simulator, client: ctt.Client) -> Setup:
    flow, other = new_flow(), new_flow()
    progress = flow.advance(client)
    other_progress = other.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    assert isinstance(other_progress, ctt.AwaitingAdmin)
    genuine = sim.approve(progress.url, "contoso", post=False)
    other_cb = sim.approve(other_progress.url, "contoso", post=False)
    tailspin = sim.approve(progress.url, "tailspin", post=False)
    params = query(genuine.url)
    key = KEY.encode()

    # The library's tag is the documented HMAC: recompute it, then make genuine tags for what
    # the flow must still refuse (another action, a nonce it never issued), as a portal bug or
    # a holder of the key could.
    assert params["ctt_flow"] == [flow.id]
    assert params["ctt_action"] == ["REGISTRATION"]
    assert params["ctt_v"] == ["2"]
    assert params["ctt_kid"] == [key_id(key)]
    assert params["ctt_tag"] == [tag(key, genuine.url)]
    good_tag = params["ctt_tag"][0]
    flipped = ("B" if good_tag[0] == "A" else "A") + good_tag[1:]
    body = genuine.body
    payload = json.loads(body)
    no_token = json.loads(body)
    del no_token["msalAuthenticationResult"]
    all_pairs = pairs_of(genuine.url)
    expired_at = str(int(time.time()) - 73 * 3600)
    cases = {
        "bad tag": Case(replace_param(genuine.url, "ctt_tag", "00" + good_tag), body),
        "flipped tag": Case(replace_param(genuine.url, "ctt_tag", flipped), body),
        "non-base64 tag": Case(replace_param(genuine.url, "ctt_tag", "!" * 43), body),
        "padded tag": Case(replace_param(genuine.url, "ctt_tag", good_tag + "="), body),
        "empty tag": Case(replace_param(genuine.url, "ctt_tag", ""), body),
        "truncated tag": Case(replace_param(genuine.url, "ctt_tag", good_tag[:32]), body),
        "wrong key": Case(genuine.url, body, key="another-key-of-enough-length-0123"),
        "no flow parameters": Case(REDIRECT, body),
        "no tag": Case(with_query(genuine.url, [p for p in all_pairs if p[0] != "ctt_tag"]), body),
        "no nonce": Case(
            with_query(genuine.url, [p for p in all_pairs if p[0] != "ctt_nonce"]), body
        ),
        "older tag version": Case(retagged(key, genuine.url, ctt_v="1"), body, names="version"),
        "repeated flow parameter": Case(
            with_query(genuine.url, [*all_pairs, ("ctt_flow", other.id)]), body
        ),
        "altered flow id": Case(replace_param(genuine.url, "ctt_flow", other.id), body),
        "altered nonce": Case(replace_param(genuine.url, "ctt_nonce", "0" * 32), body),
        "altered issue time": Case(replace_param(genuine.url, "ctt_iat", expired_at), body),
        "altered portal URL": Case(genuine.url.replace("/onboarding/", "/other/"), body),
        "unknown key id": Case(
            replace_param(genuine.url, "ctt_kid", "another"), body, names="does not hold"
        ),
        "expired, genuine tag": Case(
            retagged(key, genuine.url, ctt_iat=expired_at), body, names="expired"
        ),
        "another flow's callback": Case(other_cb.url, other_cb.body),
        "another action, genuine tag": Case(
            retagged(key, genuine.url, ctt_action="GET_AGENT_CONSENT"), body
        ),
        "a nonce the flow did not issue, genuine tag": Case(
            retagged(key, genuine.url, ctt_nonce="f" * 32), body, names="earlier ask"
        ),
        "another action, old tag": Case(
            replace_param(genuine.url, "ctt_action", "GET_AGENT_CONSENT"), body
        ),
        "not a Global Admin": Case(tailspin.url, tailspin.body, names="Global Admin"),
        "malformed JSON": Case(genuine.url, '{"msal'),
        "empty body": Case(genuine.url, ""),
        "JSON array": Case(genuine.url, "[]"),
        "missing fields": Case(genuine.url, '{"msalAuthenticationResult":{}}'),
        "no MSAL result": Case(genuine.url, json.dumps(no_token)),
        "oversized body": Case(genuine.url, json.dumps({**payload, "pad": "x" * (2 << 20)})),
        "deeply nested body": Case(genuine.url, "[" * 100_000),
    }
    return Setup(flow, genuine.url, genuine.body, cases)


CASE_NAMES = [
    "bad tag",
    "flipped tag",
    "non-base64 tag",
    "padded tag",
    "empty tag",
    "truncated tag",
    "wrong key",
    "no flow parameters",
    "no tag",
    "no nonce",
    "older tag version",
    "repeated flow parameter",
    "altered flow id",
    "altered nonce",
    "altered issue time",
    "altered portal URL",
    "unknown key id",
    "expired, genuine tag",
    "another flow's callback",
    "another action, genuine tag",
    "a nonce the flow did not issue, genuine tag",
    "another action, old tag",
    "not a Global Admin",
    "malformed JSON",
    "empty body",
    "JSON array",
    "missing fields",
    "no MSAL result",
    "oversized body",
    "deeply nested body",
]


#: Genuine callbacks for something else: only the flow (not the stateless ``verify_callback``)
#: can tell them from the right one.
CHECKED_BY_THE_FLOW = {
    "another flow's callback",
    "another action, genuine tag",
    "a nonce the flow did not issue, genuine tag",
    "not a Global Admin",
}

#: Genuine tags for the ask that was answered (its nonce), with the body that answered it: once
#: that ask is consumed, a duplicate that changes nothing (only a holder of the key can make one).
SAME_ASK_SAME_BODY = {"another action, genuine tag"}


def test_the_table_is_complete(setup: Setup) -> None:
    assert sorted(setup.cases) == sorted(CASE_NAMES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_forged_or_wrong_callback_is_refused_and_changes_nothing(
    sim: Simulator, setup: Setup, name: str
) -> None:
    case = setup.cases[name]
    flow = setup.flow
    before = flow.to_json()
    sent = len(sim.requests())
    with pytest.raises(ctt.CallbackInvalidError) as info:
        flow.handle_callback(case.key, case.url, case.body)
    assert info.value.code == "callback_invalid"
    assert case.names in str(info.value)
    assert len(str(info.value)) < 4096
    assert flow.to_json() == before, f"{name}: the state changed"
    assert len(sim.requests()) == sent, "handling a callback sends nothing"
    if name not in CHECKED_BY_THE_FLOW:
        with pytest.raises(ctt.CallbackInvalidError):
            ctt.verify_callback(case.key, case.url, case.body)
    # The genuine callback is still accepted afterwards, once; its replay is a duplicate.
    outcome = flow.handle_callback(KEY, setup.genuine_url, setup.genuine_body)
    assert outcome is ctt.CallbackOutcome.ACCEPTED
    accepted = flow.to_json()
    assert accepted != before
    replay = flow.handle_callback(KEY, setup.genuine_url, setup.genuine_body)
    assert replay is ctt.CallbackOutcome.DUPLICATE
    assert flow.to_json() == accepted


def test_the_forged_callbacks_after_acceptance_change_nothing(setup: Setup) -> None:
    flow = setup.flow
    assert flow.handle_callback(KEY, setup.genuine_url, setup.genuine_body) is (
        ctt.CallbackOutcome.ACCEPTED
    )
    accepted = flow.to_json()
    for name, case in setup.cases.items():
        # Every forgery is refused; the answered ask's nonce under a genuine tag with the same
        # body is that ask's duplicate. Nothing changes either way.
        if name in SAME_ASK_SAME_BODY:
            assert flow.handle_callback(case.key, case.url, case.body) is (
                ctt.CallbackOutcome.DUPLICATE
            )
        else:
            with pytest.raises(ctt.CallbackInvalidError):
                flow.handle_callback(case.key, case.url, case.body)
        assert flow.to_json() == accepted, name


def test_a_tenant_switched_after_registration_is_refused(
    sim: Simulator, client: ctt.Client
) -> None:
    flow = new_flow()
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    registration = sim.approve(progress.url, "contoso", post=False)
    assert flow.handle_callback(KEY, registration.url, registration.body) is (
        ctt.CallbackOutcome.ACCEPTED
    )
    progress = flow.advance(client)
    assert isinstance(progress, ctt.AwaitingAdmin)
    assert progress.action is not ctt.ActionType.REGISTRATION
    before = flow.to_json()
    switched = sim.approve(progress.url, "fabrikam", post=False)
    with pytest.raises(ctt.CallbackInvalidError, match="registered to tenant") as info:
        flow.handle_callback(KEY, switched.url, switched.body)
    assert info.value.code == "callback_invalid"
    assert flow.to_json() == before
    genuine = sim.approve(progress.url, "contoso", post=False)
    # The library's URL for this action carries the tag computed here independently.
    assert query(genuine.url)["ctt_tag"] == [tag(KEY.encode(), genuine.url)]
    assert query(genuine.url)["ctt_action"] == [progress.action.value]
    assert flow.handle_callback(KEY, genuine.url, genuine.body) is ctt.CallbackOutcome.ACCEPTED
    after = flow.to_json()
    assert flow.handle_callback(KEY, genuine.url, genuine.body) is ctt.CallbackOutcome.DUPLICATE
    assert flow.to_json() == after
    # The switched tenant's callback is still refused after the right one was accepted.
    with pytest.raises(ctt.CallbackInvalidError):
        flow.handle_callback(KEY, switched.url, switched.body)
    assert flow.to_json() == after
