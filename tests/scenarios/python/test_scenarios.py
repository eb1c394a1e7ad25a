"""The shared scenarios (tests/scenarios/*.json) through the Python binding's public API: one
pytest case per scenario case, named ``<family>/<case>``. Each family's runner drives the case
and builds an *observed* dict with the keys the data's ``expect`` uses; ``matches`` compares the
two (``message``, ``waitReason`` and ``jsonHolds`` are fragments, everything else is equal).

Run: ``.venv/bin/python -m pytest tests/scenarios/python`` (after ``make python-setup``).
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import ctt_onboard as ctt
import pytest
from ctt_onboard.testing import Callback, Simulator

LANGUAGE = "python"
SCENARIOS = Path(__file__).resolve().parents[1]
#: Expected keys whose value is a fragment of the observed text, not the whole of it.
FRAGMENTS = {"message", "waitReason", "jsonHolds"}
#: Keys of a case's expectation that describe it and are not compared.
NOT_COMPARED = {"description"}

Json = dict[str, Any]
_names = itertools.count(1)


# ---------------------------------------------------------------- the data


def families() -> list[tuple[str, Json]]:
    out = []
    for path in sorted(SCENARIOS.glob("*.json")):
        with path.open(encoding="utf-8") as f:
            out.append((path.stem, json.load(f)))
    return out


def all_cases() -> list[Any]:
    params = []
    for family, data in families():
        # A family without a runner, or without cases, fails the collection.
        if family not in RUNNERS or not data["cases"]:
            raise RuntimeError(f"tests/scenarios/{family}.json has no Python runner or no cases")
        for case in data["cases"]:
            params.append(
                pytest.param(family, data.get("defaults", {}), case, id=f"{family}/{case['name']}")
            )
    return params


def text(value: Any) -> str:
    """A string of the data: itself, or ``{"repeat": s, "times": n}``."""
    if isinstance(value, dict):
        return str(value["repeat"]) * int(value["times"])
    return str(value)


def opt(data: Json, key: str, default: Any) -> Any:
    """``data[key]``, or ``default`` when the data leaves it out."""
    return data[key] if key in data else default


def expectation(case: Json) -> Json:
    expected: Json = opt(opt(case, "expectByLanguage", {}), LANGUAGE, opt(case, "expect", {}))
    return expected


def matches(expected: Any, observed: Any, path: str = "expect") -> list[str]:
    """Every difference between ``expected`` and ``observed``, as readable lines."""
    if isinstance(expected, dict):
        if not isinstance(observed, dict):
            return [f"{path}: expected an object, observed {observed!r}"]
        problems = []
        for key, want in expected.items():
            if key in NOT_COMPARED:
                continue
            where = f"{path}.{key}"
            if key not in observed:
                problems.append(f"{where}: expected {want!r}, observed nothing")
            elif key in FRAGMENTS:
                got = observed[key]
                wanted = want if isinstance(want, list) else [want]
                if not isinstance(got, str) or not all(text(w) in got for w in wanted):
                    problems.append(f"{where}: expected a text holding {want!r}, observed {got!r}")
            else:
                problems += matches(want, observed[key], where)
        return problems
    if expected != observed:
        return [f"{path}: expected {expected!r}, observed {observed!r}"]
    return []


def check(expected: Json, observed: Json) -> None:
    problems = matches(expected, observed)
    assert not problems, "\n".join([*problems, f"observed: {json.dumps(observed, default=str)}"])


# ---------------------------------------------------------------- shared pieces


def unique(prefix: str) -> str:
    return f"{prefix} {next(_names)}"


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def plan_of(defaults: Json, case_plan: Json, name: str) -> ctt.OnboardingPlan:
    """The plan of the data (camelCase plan fields, the wire's enterprise fields) as a plan."""
    base: Json = dict(defaults.get("plan", {}))
    enterprise: Json = {"enterpriseName": name, **base.pop("enterprise", {})}
    enterprise.update(case_plan.get("enterprise", {}))
    fields: Json = {"redirectUrl": defaults["redirectUrl"], **base}
    fields.update({k: v for k, v in case_plan.items() if k != "enterprise"})
    data: Json = {"enterprise": {k: plain(v) for k, v in enterprise.items()}}
    for key, value in fields.items():
        data[snake(key)] = plain(value)
    data.setdefault("gateway_regions", [])
    data.setdefault("optional_consents", [])
    return ctt.OnboardingPlan.from_dict(data)


def plain(value: Any) -> Any:
    """A value of the data as the language's value: texts expanded, ``idText`` as an int."""
    if isinstance(value, dict) and "idText" in value:
        return int(value["idText"])
    if isinstance(value, dict) and "repeat" in value:
        return text(value)
    return value


def error_of(e: ctt.CttError) -> Json:
    return {"code": e.code, "message": str(e)}


def snapshot(flow: ctt.Onboarding) -> tuple[str, int]:
    return flow.to_json(), flow.revision


def creates(sim: Simulator) -> int:
    return len([r for r in sim.requests() if r["path"] == "/reseller/newEnterprise"])


def awaiting(progress: ctt.Progress) -> ctt.AwaitingAdmin:
    assert isinstance(progress, ctt.AwaitingAdmin), f"expected an ask, got {progress!r}"
    return progress


def replace_param(url: str, name: str, value: str) -> str:
    base, _, query = url.partition("?")
    pairs = [p if p.split("=", 1)[0] != name else f"{name}={value}" for p in query.split("&")]
    assert any(p.startswith(f"{name}=") for p in query.split("&")), f"{name} not in {url}"
    return f"{base}?{'&'.join(pairs)}"


def param(url: str, name: str) -> str:
    for pair in url.partition("?")[2].split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    raise AssertionError(f"{name} not in {url}")


def access_token(body: str) -> str:
    token: str = json.loads(body)["msalAuthenticationResult"]["authenticationResult"]["accessToken"]
    return token


def with_access_token(body: str, token: str) -> str:
    data = json.loads(body)
    data["msalAuthenticationResult"]["authenticationResult"]["accessToken"] = token
    return json.dumps(data)


def jwt(claims: Json) -> str:
    def part(data: Json) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


# ---------------------------------------------------------------- flows


def run_flow(defaults: Json, case: Json, _logs: pytest.LogCaptureFixture) -> None:
    expected = expectation(case)
    step = int(opt(case, "clockStepSeconds", defaults["clockStepSeconds"]))
    observed: Json = {}
    with Simulator() as sim:
        clock = ctt.ManualClock()
        with sim.client(callback_key=defaults["callbackKey"], clock=clock) as client:
            flow = ctt.Onboarding(plan_of(defaults, case["plan"], unique(case["name"])))
            actions: list[str] = []
            observed["outcome"] = "unfinished"
            for _ in range(int(defaults["maxRounds"])):
                progress = flow.advance(client)
                if isinstance(progress, ctt.AwaitingAdmin):
                    actions.append(progress.action.value)
                    callback = sim.approve(progress.url, case["tenant"], post=False)
                    before = snapshot(flow)
                    try:
                        outcome = flow.handle_callback(client, callback.url, callback.body)
                    except ctt.CttError as e:
                        observed["outcome"] = "refused"
                        observed["refused"] = {
                            "action": progress.action.value,
                            **error_of(e),
                            "flowUnchanged": snapshot(flow) == before,
                        }
                        again = awaiting(flow.advance(client))
                        observed["reasked"] = {
                            "action": again.action.value,
                            "sameUrl": again.url == progress.url,
                        }
                        break
                    assert outcome is ctt.CallbackOutcome.ACCEPTED, outcome
                elif isinstance(progress, ctt.WaitingUntil):
                    actions.append("wait")
                    observed["waitReason"] = progress.reason
                    clock.advance(step)
                    sim.advance_clock(step)
                else:
                    assert isinstance(progress, ctt.Complete)
                    observed["outcome"] = "complete"
                    assert flow.is_complete and progress.tenant_id == flow.tenant_id
                    assert progress.enterprise_id == flow.enterprise_id
                    break
            observed["actions"] = actions
            observed["tenantId"] = flow.tenant_id
            observed["enterprisesCreated"] = len(sim.enterprises())
            observed["createRequests"] = creates(sim)
            observed["steps"] = {s.step: s.state for s in flow.status()}
    check(expected, observed)


# ---------------------------------------------------------------- callbacks


def run_callback(defaults: Json, case: Json, _logs: pytest.LogCaptureFixture) -> None:
    expected = expectation(case)
    attack: Json = case["attack"]
    kind = attack["kind"]
    tenant: str = opt(case, "tenant", defaults["tenant"])
    services = {"enterprise": {"services": opt(case, "services", defaults["services"])}}
    observed: Json = {}
    with Simulator() as sim:
        clock = ctt.ManualClock()
        ring = ctt.CallbackKeys(defaults["callbackKey"], defaults["callbackKeyId"], clock=clock)
        with sim.client(callback_keys=ring, clock=clock) as client:

            def new_flow() -> ctt.Onboarding:
                return ctt.Onboarding(plan_of(defaults, services, unique(case["name"])))

            flow = new_flow()
            ask = awaiting(flow.advance(client))
            assert ask.action is ctt.ActionType.REGISTRATION
            genuine = sim.approve(ask.url, tenant, post=False)
            keys: Any = client
            url, body, verify_only = genuine.url, genuine.body, False
            if kind == "genuine":
                pass
            elif kind == "replay":
                first = flow.handle_callback(client, genuine.url, genuine.body)
                assert first is ctt.CallbackOutcome.ACCEPTED, first
                if attack.get("reformat"):
                    data = json.loads(genuine.body)
                    body = json.dumps(dict(reversed(list(data.items()))), indent=2)
                    assert body != genuine.body
            elif kind == "tampered_tag":
                tag = param(genuine.url, "ctt_tag")
                url = replace_param(url, "ctt_tag", ("B" if tag[0] == "A" else "A") + tag[1:])
            elif kind == "tampered_param":
                url = replace_param(url, attack["param"], attack["value"])
            elif kind == "foreign_key":
                keys = ctt.CallbackKeys(attack["key"], attack["keyId"], clock=clock)
            elif kind == "other_flow":
                other = new_flow()
                other_ask = awaiting(other.advance(client))
                theirs: Callback = sim.approve(other_ask.url, tenant, post=False)
                url, body = theirs.url, theirs.body
            elif kind == "superseded":
                forged = with_access_token(genuine.body, "opaque-forged-token-0001")
                taken = flow.handle_callback(client, genuine.url, forged)
                assert taken is ctt.CallbackOutcome.ACCEPTED, taken
                again = awaiting(flow.advance(client))
                assert again.url != ask.url, "the refused ask was asked again with a new URL"
                observed["reaskedAction"] = again.action.value
            elif kind == "answered_different_body":
                taken = flow.handle_callback(client, genuine.url, genuine.body)
                assert taken is ctt.CallbackOutcome.ACCEPTED, taken
                awaiting(flow.advance(client))
                data = json.loads(genuine.body)
                field = attack["flipField"]
                data[field] = not data.get(field, True)
                body = json.dumps(data)
            elif kind == "expired":
                clock.advance(float(attack["clockAdvanceSeconds"]))
            elif kind == "tenant_mismatch":
                data = json.loads(genuine.body)
                auth = data["msalAuthenticationResult"]["authenticationResult"]
                auth["accessToken"] = jwt({"tid": attack["tokenTenant"]})
                auth["userInfo"]["tenantId"] = attack["bodyTenant"]
                body = json.dumps(data)
            elif kind == "relative_url":
                parts = urlsplit(genuine.url)
                url = f"{attack.get('path', parts.path)}?{parts.query}"
                verify_only = bool(attack.get("verifyOnly"))
            elif kind == "body":
                body = text(attack["body"])
            else:
                raise AssertionError(f"unknown attack kind {kind!r}")
            before = snapshot(flow)
            try:
                if verify_only:
                    ctt.verify_callback(keys, url, body)
                    observed["outcome"] = "verified"
                else:
                    observed["outcome"] = flow.handle_callback(keys, url, body).value
            except ctt.CttError as e:
                observed.update(outcome="refused", **error_of(e))
            observed["flowUnchanged"] = snapshot(flow) == before
    check(expected, observed)


# ---------------------------------------------------------------- hostile inputs


def run_hostile(defaults: Json, case: Json, _logs: pytest.LogCaptureFixture) -> None:
    expected = expectation(case)
    if case["kind"] == "plan":
        observed = hostile_plan(defaults, case)
    elif case["kind"] == "flow_json":
        observed = hostile_flow_json(defaults, case)
    else:
        raise AssertionError(f"unknown hostile kind {case['kind']!r}")
    check(expected, observed)


def hostile_plan(defaults: Json, case: Json) -> Json:
    with Simulator() as sim:
        try:
            flow = ctt.Onboarding(plan_of(defaults, case["plan"], "Hostile Scenario"))
        except ctt.CttError as e:
            return {"outcome": "refused", "stage": "new", **error_of(e)}
        if not case.get("advance", True):
            kept = ctt.Onboarding.from_json(flow.to_json()).plan
            return {
                "outcome": "kept",
                "planServices": [s.value for s in kept.enterprise.services],
                "existingEnterpriseId": None
                if kept.existing_enterprise_id is None
                else str(kept.existing_enterprise_id),
            }
        with sim.client(callback_key=defaults["callbackKey"]) as client:
            observed: Json
            try:
                progress = awaiting(flow.advance(client))
                observed = {"outcome": "accepted", "action": progress.action.value}
            except ctt.CttError as e:
                observed = {"outcome": "refused", "stage": "advance", **error_of(e)}
            observed["createRequests"] = creates(sim)
            observed["enterprisesCreated"] = len(sim.enterprises())
            return observed


def hostile_flow_json(defaults: Json, case: Json) -> Json:
    if "text" in case:
        source = text(case["text"])
    else:
        plan = plan_of(defaults, {}, "Hostile Scenario")
        source = ctt.Onboarding(plan).to_json()
        for old, new in case.get("replace", []):
            assert old in source, f"{old!r} is not in a new flow's JSON: {source[:300]}"
            source = source.replace(old, new)
        if case.get("truncate"):
            source = source[: len(source) // 2]
    try:
        flow = ctt.Onboarding.from_json(source)
    except ctt.CttError as e:
        return {"outcome": "refused", **error_of(e)}
    try:
        enterprise_id = flow.enterprise_id
    except ctt.CttError as e:
        return {"outcome": "refused_on_read", "read": "enterpriseId", **error_of(e)}
    return {
        "outcome": "kept",
        "enterpriseId": None if enterprise_id is None else str(enterprise_id),
        "jsonHolds": flow.to_json(),
    }


# ---------------------------------------------------------------- secrets


def run_secrets(defaults: Json, case: Json, logs: pytest.LogCaptureFixture) -> None:
    logs.set_level(logging.DEBUG, logger="ctt_onboard")
    credentials = {snake(k): v for k, v in case.get("simCredentials", {}).items()}
    key: str = opt(case, "callbackKey", defaults["callbackKey"])
    texts: dict[str, list[str]] = {}
    dynamic: dict[str, str] = {}

    def show(surface: str, *values: Any) -> None:
        for value in values:
            texts.setdefault(surface, []).extend([repr(value), str(value)])

    def show_error(e: BaseException) -> None:
        cause: Optional[BaseException] = e
        while cause is not None:
            show("errors", cause, cause.args)
            cause = cause.__cause__ or cause.__context__

    with Simulator(credentials=credentials or None) as sim:
        client_spec = case["client"]
        clock = ctt.ManualClock()
        client: ctt.Client
        if client_spec == "simulator":
            client = sim.client(callback_key=key, clock=clock)
        elif "resellerToken" in client_spec:
            client = ctt.Client(
                base_url=sim.base_url, reseller_token=client_spec["resellerToken"], clock=clock
            )
        else:
            reseller = sim.reseller.replace(
                **{snake(k): v for k, v in client_spec.items() if k != "resellerToken"}
            )
            client = sim.client(reseller=reseller, callback_key=key, clock=clock)
        with client:
            show("client", client)
            if client.callback_keys is not None:
                show("keys", client.callback_keys)
            if case["run"] == "failing_call":
                with pytest.raises(ctt.CttError) as info:
                    client.reseller_id()
                assert info.value.code == case["expectCode"], info.value
                show_error(info.value)
            else:
                flow = secrets_flow(sim, client, defaults, case, dynamic, show_error)
                show("flow", flow)
                texts["flowJsonWithoutTokens"] = [flow.to_json_without_tokens()]
                texts["flowJson"] = [flow.to_json()]
                show("status", flow.status(), *flow.status())
                show("progress", flow.progress())
    texts["logs"] = [r.getMessage() for r in logs.records] + [logs.text]
    assert logs.records, "the library logged nothing at debug level: the logs were not captured"
    problems = []
    for canary_spec in case["canaries"]:
        spec: Json = canary_spec if isinstance(canary_spec, dict) else {"value": canary_spec}
        canary = dynamic[spec["from"]] if "from" in spec else spec["value"]
        assert canary, f"canary {canary_spec!r} is empty"
        for surface in case["surfaces"]:
            assert surface in texts, f"surface {surface} was not collected in this case"
            for t in texts[surface]:
                if canary in t:
                    problems.append(f"canary {canary_spec!r} leaked into {surface}: {t[:300]}")
        for surface in spec.get("mustAppearIn", []):
            if not any(canary in t for t in texts.get(surface, [])):
                problems.append(f"canary {canary_spec!r} should be in {surface} but is not")
    assert not problems, "\n".join(problems)


def secrets_flow(
    sim: Simulator,
    client: ctt.Client,
    defaults: Json,
    case: Json,
    dynamic: dict[str, str],
    show_error: Callable[[BaseException], None],
) -> ctt.Onboarding:
    services = {"enterprise": {"services": opt(case, "services", defaults["services"])}}
    flow = ctt.Onboarding(plan_of(defaults, services, unique(case["name"])))
    tenant: str = opt(case, "tenant", defaults["tenant"])
    forge = case.get("forgeAccessToken")
    for _ in range(20):
        progress = flow.advance(client)
        if isinstance(progress, ctt.Complete):
            break
        ask = awaiting(progress)
        callback = sim.approve(ask.url, tenant, post=False)
        dynamic.setdefault("firstCallbackAccessToken", access_token(callback.body))
        dynamic["lastCallbackAccessToken"] = access_token(callback.body)
        if forge:
            forged = with_access_token(callback.body, forge)
            assert flow.handle_callback(client, callback.url, forged).value == "accepted"
            forge = None
            continue
        if "probed" not in dynamic:
            tag = param(callback.url, "ctt_tag")
            bad = replace_param(callback.url, "ctt_tag", ("B" if tag[0] == "A" else "A") + tag[1:])
            with pytest.raises(ctt.CttError) as info:
                flow.handle_callback(client, bad, callback.body)
            show_error(info.value)
            dynamic["probed"] = "yes"
        assert flow.handle_callback(client, callback.url, callback.body).value == "accepted"
    assert flow.is_complete, flow.status()
    return flow


RUNNERS: dict[str, Callable[[Json, Json, pytest.LogCaptureFixture], None]] = {
    "flows": run_flow,
    "callbacks": run_callback,
    "hostile_inputs": run_hostile,
    "secrets": run_secrets,
}


@pytest.mark.parametrize(("family", "defaults", "case"), all_cases())
def test_scenario(
    family: str, defaults: Json, case: Json, caplog: pytest.LogCaptureFixture
) -> None:
    reason = case.get("skip", {}).get(LANGUAGE)
    if reason:
        pytest.skip(f"{family}/{case['name']}: {reason}")
    RUNNERS[family](defaults, case, caplog)
