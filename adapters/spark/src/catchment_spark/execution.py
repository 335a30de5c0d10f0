"""Running Spark: a PySpark script with ``spark-submit`` as a catchment pipes remote, and the
context a ``@spark_asset`` function runs in.

The script gets the catchment pipes module on ``--py-files`` (``import catchment_pipes``), its
outputs and inputs in the pipes extras, and reports materializations and checks; whatever it
does not report fails with the reason (exit code, exception, tail of stderr).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from catchment.context import StepContext
from catchment.errors import ConfigError
from catchment.keys import AssetKey
from catchment.pipes import PipesSubprocessClient, copy_remote_module
from catchment.results import StepResult
from catchment.tables import TableRef

from catchment_spark.reading import file_path, read_table, to_spark
from catchment_spark.resource import default_conf, local_spark_env


def pyspark_home() -> Path | None:
    """The Spark distribution inside the installed pyspark package, if any."""
    spec = find_spec("pyspark")
    if spec is None or spec.origin is None:
        return None
    home = Path(spec.origin).parent
    return home if (home / "bin" / "spark-submit").is_file() else None


def find_spark_submit(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Locate ``spark-submit``: the explicit setting, then ``$SPARK_HOME/bin``, then the pyspark
    package's ``bin/``, then ``PATH``; a clear error if none exists."""
    if explicit:
        chosen = Path(explicit).expanduser()
        if chosen.is_file() and os.access(chosen, os.X_OK):
            return chosen
        raise ConfigError(
            f"spark_submit {str(chosen)!r} is not an executable file",
            where="spark component attributes.spark_submit",
            hint="fix the path, or remove spark_submit to use SPARK_HOME or pyspark's own",
        )
    tried: list[str] = []
    candidates: list[Path] = []
    if os.environ.get("SPARK_HOME"):
        candidates.append(Path(os.environ["SPARK_HOME"]) / "bin" / "spark-submit")
    home = pyspark_home()
    if home is not None:
        candidates.append(home / "bin" / "spark-submit")
    on_path = shutil.which("spark-submit")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        tried.append(str(candidate))
    raise ConfigError(
        "cannot find spark-submit" + (f" (tried {', '.join(tried)})" if tried else ""),
        where="spark component",
        hint="pip install pyspark, set SPARK_HOME, or set attributes.spark_submit",
    )


def identity_extras(ref: TableRef) -> dict[str, Any]:
    """How a script finds a relation: its TableRef fields plus ``path`` (files), ``table``
    (Spark tables) or ``database_file`` (DuckDB)."""
    data: dict[str, Any] = ref.to_dict()
    if ref.system == "file":
        data["path"] = str(file_path(ref))
    elif ref.system == "spark":
        data["table"] = ref.qualified_name
    elif ref.system == "duckdb":
        data["database_file"] = ref.location
    return data


@dataclass
class SparkSubmit:
    """How to start ``spark-submit`` for a script: master, conf, environment, program path."""

    master: str = "local[*]"
    conf: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    spark_submit: str | None = None
    timeout: float | None = None
    extra_args: Sequence[str] = ()

    def command(self, script: Path, args: Sequence[str], py_files: Sequence[Path]) -> list[str]:
        """The spark-submit command line (catchment's loopback/UI defaults, then ``conf``)."""
        program = find_spark_submit(self.spark_submit)
        argv = [str(program), "--master", self.master]
        for key, value in {**default_conf(self.master), **self.conf}.items():
            argv += ["--conf", f"{key}={value}"]
        if py_files:
            argv += ["--py-files", ",".join(str(p) for p in py_files)]
        argv += [*self.extra_args, str(script), *args]
        return argv

    def environment(self) -> dict[str, str]:
        env = local_spark_env(self.master)
        home = pyspark_home()
        if home is not None and "SPARK_HOME" not in os.environ:
            env["SPARK_HOME"] = str(home)
        env.update(self.env)
        return env

    def run(
        self,
        context: StepContext,
        script: Path,
        *,
        args: Sequence[str] = (),
        outputs: Mapping[AssetKey, TableRef | None] | None = None,
        inputs: Sequence[TableRef] = (),
        extras: Mapping[str, Any] | None = None,
        cwd: Path | None = None,
    ) -> Iterator[StepResult]:
        """Run ``script`` for the step's selected assets; yield what it reports, and a failure
        for each selected asset it did not report."""
        if not script.is_file():
            raise ConfigError(f"Spark script {script} does not exist", where=context.step_key)
        all_extras: dict[str, Any] = {
            "outputs": {
                str(k): identity_extras(ref) if ref is not None else {}
                for k, ref in (outputs or {}).items()
                if k in context.selected_keys
            },
            "inputs": [identity_extras(ref) for ref in inputs],
            "args": list(args),
            **(extras or {}),
        }
        with tempfile.TemporaryDirectory(prefix="catchment-spark-") as tmp:
            module = copy_remote_module(tmp)
            client = PipesSubprocessClient(env=self.environment(), timeout=self.timeout)
            yield from client.run(
                context,
                self.command(script, args, [module]),
                cwd=cwd or script.parent,
                extras=all_extras,
                label=f"spark-submit {script.name}",
            )


class _ResourcesWithReads(Mapping[str, Any]):
    """The step's resources plus one entry per declared read, read on first access."""

    def __init__(self, resources: Mapping[str, Any], spark: Any, reads: Mapping[str, TableRef]):
        self._resources = resources
        self._spark = spark
        self._reads = reads
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._reads:
            if name not in self._loaded:
                self._loaded[name] = read_table(self._spark, self._reads[name])
            return self._loaded[name]
        return self._resources[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._resources
        yield from (n for n in self._reads if n not in self._resources)

    def __len__(self) -> int:
        return len(set(self._resources) | set(self._reads))


class SparkStepContext:
    """The engine's context, but upstreams load as Spark DataFrames and declared reads
    appear as extra 'resources' (read when the function asks for them)."""

    def __init__(self, inner: StepContext, resource_key: str, reads: Mapping[str, TableRef]):
        self._inner = inner
        self.spark = inner.resources[resource_key]
        self.resources = _ResourcesWithReads(inner.resources, self.spark, reads)

    def load_input(self, key: AssetKey) -> Any:
        return to_spark(self.spark, self._inner.load_input(key))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
