"""Ship the remote module to where the job runs: a standalone copy for ``--py-files``, a
container image or a directory next to a script."""

from __future__ import annotations

import shutil
from pathlib import Path

STANDALONE_NAME = "catchment_pipes.py"


def remote_module_path() -> Path:
    """The source file of :mod:`catchment.pipes.remote` (standard library only)."""
    return Path(__file__).with_name("remote.py")


def copy_remote_module(directory: str | Path, name: str = STANDALONE_NAME) -> Path:
    """Copy the remote module into ``directory`` as ``name``, so a script there can
    ``from catchment_pipes import open_pipes`` without catchment installed."""
    target = Path(directory) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(remote_module_path(), target)
    return target
