from __future__ import annotations

import logging
import pickle

import pytest

from credplane.runtime import UNKNOWN, Secret
from credplane.runtime.secret import unwrap, wrap
from helpers import reveal


def test_secret_is_masked_everywhere() -> None:
    s = Secret("hunter2")
    assert repr(s) == "[secret]"
    assert str(s) == "[secret]"
    assert f"{s}" == "[secret]" and f"{s!r}" == "[secret]" and "{:>10}".format(s) == "[secret]"
    assert "hunter2" not in repr({"k": s, "l": [s]})
    assert s.value == "hunter2"


def test_secret_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("value %s %r", Secret("hunter2"), Secret("hunter2"))
    assert "hunter2" not in caplog.text


def test_secret_equality_and_hash() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert hash(Secret("a")) == hash(Secret("a"))
    assert Secret(Secret("a")).value == "a"
    assert len({Secret("a"), Secret("a")}) == 1


def test_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))


def test_envelope_round_trip_nested() -> None:
    value = {"a": Secret("x"), "b": [1, Secret({"c": "d"})], "u": UNKNOWN, "n": None}
    wire = wrap(value)
    assert wire == {
        "a": {"$credplane": "secret", "value": "x"},
        "b": [1, {"$credplane": "secret", "value": {"c": "d"}}],
        "u": {"$credplane": "unknown"},
        "n": None,
    }
    assert unwrap(wire) == value
    assert unwrap(wrap(unwrap(wire))) == value


def test_nested_envelopes_collapse() -> None:
    wire = {"$credplane": "secret", "value": {"$credplane": "secret", "value": "x"}}
    got = unwrap(wire)
    assert isinstance(got, Secret) and got.value == "x"


def test_helpers() -> None:
    v = {"a": [Secret("x")], "b": UNKNOWN}
    assert reveal(v) == {"a": ["x"], "b": UNKNOWN}
    assert repr(UNKNOWN) == "(unknown)"
