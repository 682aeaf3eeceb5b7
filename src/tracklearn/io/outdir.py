"""Output folders: created or checked up front, with one clear line when they cannot be used."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from tracklearn.errors import DataError


def prepare_out_dir(path: str | Path, *, create: bool = True) -> Path:
    """Create ``path`` (and its parents) if needed and check that files can be written in it.

    Raises :class:`DataError` naming ``path`` when it is a file, lies under a file,
    or is not writable (checked by creating and removing a temporary file, which
    also holds for root and read-only file systems).  ``create=False`` checks the
    same without creating anything (the nearest existing folder must be writable).
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise DataError(out, "output folder exists and is a file")
    if not create:
        existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
        if not existing.is_dir():
            raise DataError(out, "cannot create the output folder: a parent is a file")
        _check_writable(existing, out)
        return out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataError(out, "cannot create the output folder: a parent is a file") from None
    except NotADirectoryError:
        raise DataError(out, "cannot create the output folder: a parent is a file") from None
    except OSError as exc:
        raise DataError(out, f"cannot create the output folder ({_reason(exc)})") from None
    _check_writable(out, out)
    return out


def _check_writable(folder: Path, name: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tracklearn-write-check.", dir=folder)
    except OSError as exc:
        raise DataError(name, f"output folder is not writable ({_reason(exc)})") from None
    os.close(fd)
    os.unlink(tmp)


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    return exc.strerror or str(exc)
