"""Event-socket addresses: what call control listens on and what the dialplan hands FreeSWITCH."""

from __future__ import annotations

import pytest

from esl.addresses import connect_address, parse_address


def test_connect_address_reaches_a_wildcard_listener_on_the_loopback():
    assert connect_address(*parse_address("0.0.0.0:8084")) == "127.0.0.1:8084"
    assert connect_address(*parse_address(":8084")) == "127.0.0.1:8084"
    assert connect_address(*parse_address("10.0.0.5:9000")) == "10.0.0.5:9000"


def test_ipv6_goes_in_brackets_both_ways():
    assert parse_address("[2001:db8::5]:8084") == ("2001:db8::5", 8084)
    assert connect_address("2001:db8::5", 8084) == "[2001:db8::5]:8084"


def test_a_bad_address_names_what_was_wrong():
    with pytest.raises(ValueError, match="CALLCONTROL_LISTEN must be host:port, not 'localhost'"):
        parse_address("localhost", "CALLCONTROL_LISTEN")
    with pytest.raises(ValueError, match="--listen must be host:port"):
        parse_address("127.0.0.1:http", "--listen")
