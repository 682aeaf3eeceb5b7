"""The generic registry: register, list, look up, fail listing the valid names."""

from __future__ import annotations

import pytest

from tracklearn.errors import ConfigError, UnknownNameError
from tracklearn.registry import Registry


def test_register_list_and_get() -> None:
    reg: Registry[type] = Registry("shape")

    @reg.register("square")
    class Square:
        """A square."""

    reg.add("circle", int, "a circle")
    assert reg.names() == ["circle", "square"]
    assert reg.get("square") is Square
    assert "circle" in reg and "oval" not in reg
    assert reg.descriptions() == {"circle": "a circle", "square": "A square."}
    reg.remove("circle")
    assert reg.names() == ["square"] and reg.descriptions() == {"square": "A square."}


def test_unknown_name_lists_the_valid_ones() -> None:
    reg: Registry[int] = Registry("colour")
    reg.add("red", 1)
    reg.add("blue", 2)
    with pytest.raises(UnknownNameError) as info:
        reg.get("green")
    assert str(info.value) == "unknown colour 'green'; valid: blue, red"
    assert isinstance(info.value, ConfigError)


def test_same_name_twice_fails_unless_same_object() -> None:
    reg: Registry[object] = Registry("thing")
    marker = object()
    reg.add("x", marker)
    reg.add("x", marker)  # re-registering the same object is harmless
    with pytest.raises(ValueError, match="thing 'x' registered twice"):
        reg.add("x", object())


def test_loader_runs_before_lookups() -> None:
    calls: list[int] = []
    reg: Registry[int] = Registry("number")

    def load() -> None:
        calls.append(1)
        reg.add("one", 1)

    reg.load = load
    assert reg.get("one") == 1
    assert reg.names() == ["one"]
    assert len(calls) == 2


def test_data_registered_with_an_item_is_kept_and_removed_with_it() -> None:
    reg: Registry[object] = Registry("thing")
    reg.add("a", object(), "first", use_for="tests", fast=True)
    reg.add("b", object())
    assert reg.meta("a") == {"use_for": "tests", "fast": True} and reg.meta("b") == {}
    reg.meta("a")["fast"] = False  # a copy: the registry keeps its own
    assert reg.meta("a")["fast"] is True
    reg.remove("a")
    with pytest.raises(UnknownNameError, match="valid: b"):
        reg.meta("a")


def test_methods_say_what_they_are_for_and_what_they_need() -> None:
    import tracklearn.pipeline  # noqa: F401  (imports the registering modules on lookups)
    from tracklearn.methods import needs_trackml_geometry, use_for

    assert use_for("fullspectrum") and needs_trackml_geometry("ckf")
    assert not needs_trackml_geometry("hough")
