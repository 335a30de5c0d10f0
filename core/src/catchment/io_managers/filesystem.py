"""An IO manager that pickles each asset's value into a file under a base directory."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from catchment.errors import ExecutionError
from catchment.io import InputContext, OutputContext
from catchment.io_managers._partitions import assemble, output_parts
from catchment.keys import AssetKey
from catchment.observation import Observation

_SUFFIX = ".pkl"


class FilesystemIOManager:
    """Pickle values to ``base_dir/<key path>.pkl``; a partitioned asset gets one file per
    partition in ``base_dir/<key path>.partitions/``. Stores any picklable value; writes are
    atomic (a crash never leaves half a file)."""

    def __init__(self, base_dir: Path | str):
        """``base_dir`` is created on first write."""
        self.base_dir = Path(base_dir).expanduser().resolve()

    def path_for(self, key: AssetKey, partition: str | None = None) -> Path:
        """Where the value of ``key`` (or one of its partitions) lives."""
        *parents, name = key.path
        folder = self.base_dir.joinpath(*parents)
        if partition is None:
            return folder / f"{name}{_SUFFIX}"
        return folder / f"{name}.partitions" / f"{quote(partition, safe='-_.=')}{_SUFFIX}"

    def handle_output(self, context: OutputContext, obj: Any) -> Mapping[str, Any] | None:
        """Pickle ``obj`` (per partition when the run is partitioned)."""
        paths = []
        for partition, value in output_parts(context, obj, "filesystem"):
            path = self.path_for(context.key, partition)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                Path(tmp).unlink(missing_ok=True)
                raise ExecutionError(
                    f"cannot pickle the value of asset {context.key}: {exc}",
                    where=f"asset {context.key}",
                    hint="return a picklable value, or use the DuckDB IO manager for dataframes",
                ) from exc
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            paths.append(str(path))
        return {"path": paths[0] if len(paths) == 1 else str(Path(paths[0]).parent)}

    def observe(self, keys: Sequence[AssetKey]) -> dict[AssetKey, Observation]:
        """What is stored for each of ``keys`` now: its file, or its partitions' folder."""
        from catchment.observers.files import observe_path

        out = {}
        for key in keys:
            whole = self.path_for(key)
            out[key] = observe_path(whole if whole.exists() else self.path_for(key, "x").parent)
        return out

    def load_input(self, context: InputContext) -> Any:
        """Unpickle the value (a dict ``{partition: value}`` for several partitions)."""
        folder = self.path_for(context.key, "x").parent
        stored = (
            sorted(
                unquote(p.name[: -len(_SUFFIX)])
                for p in folder.glob(f"*{_SUFFIX}")
                if not p.name.startswith(".tmp-")
            )
            if folder.is_dir()
            else []
        )
        whole = self.path_for(context.key)

        def load(partition: str | None) -> Any:
            with self.path_for(context.key, partition).open("rb") as f:
                return pickle.load(f)

        return assemble(context, stored, whole.is_file(), load, "filesystem")
