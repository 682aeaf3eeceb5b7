"""Fail the setup if the environment pulled a torch other than the pinned CPU build."""

from __future__ import annotations

import sys
from importlib import metadata

PINNED_TORCH = "2.13.0"


def main() -> int:
    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        print("check_env: torch is not installed", file=sys.stderr)
        return 1
    if not version.startswith(PINNED_TORCH):
        print(
            f"check_env: torch {version} installed, expected {PINNED_TORCH} (CPU)", file=sys.stderr
        )
        return 1
    cuda = [
        d.metadata["Name"]
        for d in metadata.distributions()
        if (d.metadata["Name"] or "").lower().startswith("nvidia-")
    ]
    if cuda:
        print(
            f"check_env: CUDA packages were pulled in: {', '.join(sorted(cuda))}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
