"""Credentials inside URLs the caller gives (a base URL's userinfo, a proxy password) never show
in ``repr``, in errors, or in what the client reports as its base URL."""

from __future__ import annotations

import ctt_onboard as ctt
import pytest
from ctt_onboard.testing import Simulator

PROXY_PW = "CANARY-proxy-pw-4242"
BASE_USER = "CANARY-base-user-4242"
BASE_PW = "CANARY-base-pw-4242"


def _assert_clean(text: str) -> None:
    for secret in (PROXY_PW, BASE_USER, BASE_PW):
        assert secret not in text, f"{secret} leaked into {text!r}"


def test_userinfo_and_proxy_passwords_stay_out_of_repr_and_errors(sim: Simulator) -> None:
    base = sim.base_url.replace("http://", f"http://{BASE_USER}:{BASE_PW}@", 1)
    with sim.client(base_url=base, proxy=f"http://proxy-user:{PROXY_PW}@127.0.0.1:9") as client:
        _assert_clean(repr(client))
        _assert_clean(client.base_url)
        with pytest.raises(ctt.CttError) as caught:
            client.sbc_gateways(54)  # the proxy refuses: a network error
        _assert_clean(f"{caught.value} {caught.value!r}")
    for settings in (
        {"proxy": f"http://u:{PROXY_PW}@[not a host"},
        {"base_url": f"http://{BASE_USER}:{BASE_PW}@api.example.com"},
    ):
        with pytest.raises(ctt.InvalidInputError) as refused:
            sim.client(**settings)
        _assert_clean(f"{refused.value} {refused.value!r}")
