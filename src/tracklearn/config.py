"""Loading YAML configs into frozen pydantic models, with one-line errors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tracklearn.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with ``yaml.safe_load``; raise :class:`ConfigError` otherwise."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def validate(model: type[M], data: dict[str, Any] | BaseModel | None, source: str) -> M:
    """Build ``model`` from ``data``; a typo or bad value fails with one line naming ``source``."""
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump()
    try:
        return model.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid config ({validation_problems(exc)})") from None


def validation_problems(exc: ValidationError) -> str:
    """pydantic's errors on one line: ``key: message; other: message``."""
    return "; ".join(
        f"{'.'.join(str(x) for x in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
    )


def first_difference(old: Any, new: Any, path: str = "") -> str | None:
    """``"method: 'dbscan' -> 'ckf'"`` for the first differing leaf, or None when equal."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for k in [*new, *(k for k in old if k not in new)]:  # the new settings' order
            sub = f"{path}.{k}" if path else str(k)
            if k not in old:
                return f"{sub}: (not set) -> {new[k]!r}"
            if k not in new:
                return f"{sub}: {old[k]!r} -> (not set)"
            diff = first_difference(old[k], new[k], sub)
            if diff:
                return diff
        return None
    if old != new:
        return f"{path or 'settings'}: {old!r} -> {new!r}"
    return None
