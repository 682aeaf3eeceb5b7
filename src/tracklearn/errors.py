"""Exception classes.  A :class:`DataError` always names its file and problem."""

from __future__ import annotations

from pathlib import Path


class TracklearnError(Exception):
    """Base class of every error tracklearn raises on purpose."""


class DataError(TracklearnError):
    """Input data are malformed: the message names the source and the problem.

    Parameters
    ----------
    source
        File (or object description) that holds the bad data.
    problem
        One short sentence: what is wrong.
    """

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ConfigError(TracklearnError):
    """A configuration or a name given by the user is not valid."""


class UnknownNameError(ConfigError, KeyError):
    """A registry lookup failed; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        self.kind, self.name, self.valid = kind, name, valid
        msg = f"unknown {kind} {name!r}; valid: {', '.join(sorted(valid)) or '(none)'}"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would add quotes
        return str(self.args[0])


class RunInterrupted(TracklearnError):
    """Ctrl-C stopped a run; ``done`` of ``total`` events had finished (exit code 130)."""

    def __init__(self, done: int, total: int, message: str | None = None) -> None:
        self.done, self.total = done, total
        super().__init__(message or f"interrupted after {done} of {total} events")
