"""One generic name → object registry (methods, stages, builders, models).

A :class:`Registry` maps names to factories (functions or classes).  Objects
register where they are defined, with the :meth:`Registry.register`
decorator; a lookup of an unknown name fails with
:class:`~tracklearn.errors.UnknownNameError` listing the valid names.  An
optional ``load`` callable imports the modules that register (lazily, so that
listing names need not import torch); it runs before every lookup and must be
cheap after its first call.  A package whose registry and registering modules
are side by side sets ``load`` in its ``__init__`` (the registry module then
never imports the modules that import it).

>>> shapes: Registry[type] = Registry("shape")
>>> @shapes.register("square")
... class Square: ...
>>> shapes.names()
['square']
>>> shapes.get("circle")
Traceback (most recent call last):
...
tracklearn.errors.UnknownNameError: unknown shape 'circle'; valid: square
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tracklearn.errors import UnknownNameError

T = TypeVar("T")
F = TypeVar("F")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """Objects of one kind by name.

    Parameters
    ----------
    kind
        What the names name, for messages (``"reconstruction method"``).
    load
        Imports the modules that register (called before every lookup).
    """

    def __init__(self, kind: str, load: Callable[[], None] | None = None) -> None:
        self.kind = kind
        #: imports the registering modules; may be set after construction
        self.load = load
        self._items: dict[str, T] = {}
        self._descriptions: dict[str, str] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def add(self, name: str, item: T, description: str = "", **meta: Any) -> None:
        """Register ``item`` under ``name``, with any ``meta`` data about it (e.g. when
        to use it); the same name twice for another item fails."""
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._items[name] = item
        self._descriptions[name] = description or (item.__doc__ or "").strip().split("\n")[0]
        self._meta[name] = dict(meta)

    def remove(self, name: str) -> None:
        """Forget ``name`` and its data (tests that register a temporary item clean up)."""
        self._items.pop(name, None)
        self._descriptions.pop(name, None)
        self._meta.pop(name, None)

    def register(self, name: str, description: str = "", **meta: Any) -> Callable[[F], F]:
        """Decorator form of :meth:`add` (returns the decorated object unchanged)."""

        def deco(item: F) -> F:
            self.add(name, item, description, **meta)  # type: ignore[arg-type]
            return item

        return deco

    def meta(self, name: str) -> dict[str, Any]:
        """The data registered with ``name`` (a copy); an unknown name lists the valid ones."""
        items = self._loaded()
        if name not in items:
            raise UnknownNameError(self.kind, name, list(items))
        return dict(self._meta.get(name, {}))

    def _loaded(self) -> dict[str, T]:
        if self.load is not None:
            self.load()
        return self._items

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._loaded())

    def descriptions(self) -> dict[str, str]:
        """Name → one-line description (the first docstring line by default), sorted."""
        self._loaded()
        return dict(sorted(self._descriptions.items()))

    def get(self, name: str) -> T:
        """The object registered as ``name``; an unknown name lists the valid ones."""
        items = self._loaded()
        if name not in items:
            raise UnknownNameError(self.kind, name, list(items))
        return items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded()
