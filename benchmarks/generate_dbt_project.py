#!/usr/bin/env python3
"""Generate a synthetic dbt-duckdb project of N models, for catchment's benchmarks.

Measured on the project machine (2 cores, Python 3.11, dbt-core 1.11.16, dbt-duckdb 1.11.1,
duckdb 1.4.5), in-process dbtRunner, first (full) parse, one dbt thread:
  --models 10000 --manifest-only : generate 0.5 s; `dbt parse` 59.1 s (+ dbt import 2.9 s);
                                   manifest.json 44.4 MB (10000 models, 10000 tests, 8 sources,
                                   9 hook `operation` nodes); whole process 66 s, peak RSS 650 MB
  --models 1000 --manifest-only --build : `dbt parse` 6.4 s, manifest.json 5.0 MB;
                                   `dbt build` 74.7 s (run_results elapsed 71.2 s: 1000 models
                                   + 1000 not_null tests + 9 hooks, all success/pass, ~35 ms
                                   per node); whole process 86 s, peak RSS 535 MB

Layout written to --out DIR:
  dbt_project.yml   project `bench` (on-run-start hooks create the source tables raw.src_*
                    with 100 rows each, so `dbt build` works on an empty DuckDB file)
  profiles.yml      profile `bench`, DuckDB path from $CATCHMENT_WAREHOUSE,
                    else DIR/warehouse.duckdb
  models/sources.yml                      source `raw` with --sources tables src_0..src_{k-1}
  models/layer_00/ .. layer_{L-1}/        models l{layer}_m{index}.sql + _layer_XX.yml
Layer 0 models select from 1-2 sources and are views; every later model joins 1-3 models
of earlier layers (mostly the previous one) and is a table. Every model gets a not_null test
on `id`. Output is deterministic for a given --seed.

  python benchmarks/generate_dbt_project.py --models 1000 --out /tmp/bench1k
  python benchmarks/generate_dbt_project.py --models 10000 --out /tmp/bench10k --manifest-only
  python benchmarks/generate_dbt_project.py --models 1000 --out /tmp/bench1k --build

--manifest-only also runs `dbt parse` in-process (dbt.cli.main.dbtRunner) and copies
target/manifest.json to DIR/manifest.json (the project stays in DIR too). --build runs
`dbt build` in-process. Both need dbt-core and dbt-duckdb installed; generation alone needs
only the standard library. DO_NOT_TRACK=1 is set unless already set.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROWS_PER_SOURCE = 100


def default_layers(n_models: int) -> int:
    """About log2(N) layers, between 2 and 12 (10 for N=1000, 12 for N=10000)."""
    return max(2, min(12, round(math.log2(max(n_models, 2)))))


def plan(n_models: int, n_layers: int, n_sources: int, seed: int) -> list[dict]:
    """Return one dict per model: name, layer, parents (model names) or sources."""
    rng = random.Random(seed)
    n_layers = max(1, min(n_layers, n_models))
    per_layer = [
        n_models // n_layers + (1 if i < n_models % n_layers else 0) for i in range(n_layers)
    ]
    models: list[dict] = []
    by_layer: list[list[str]] = []
    idx = 0
    for layer, count in enumerate(per_layer):
        names = []
        for _ in range(count):
            name = f"l{layer:02d}_m{idx:05d}"
            if layer == 0:
                k = rng.randint(1, min(2, n_sources))
                spec = {"sources": sorted(rng.sample(range(n_sources), k)), "parents": []}
            else:
                k = rng.randint(1, 3)
                parents: list[str] = []
                for _ in range(k):
                    # 70 %: the previous layer; otherwise any earlier layer
                    src_layer = layer - 1 if rng.random() < 0.7 else rng.randrange(layer)
                    cand = rng.choice(by_layer[src_layer])
                    if cand not in parents:
                        parents.append(cand)
                spec = {"sources": [], "parents": parents}
            models.append({"name": name, "layer": layer, **spec})
            names.append(name)
            idx += 1
        by_layer.append(names)
    return models


def model_sql(m: dict) -> str:
    if m["sources"]:
        refs = [f"{{{{ source('raw', 'src_{s}') }}}}" for s in m["sources"]]
        head = "{{ config(materialized='view') }}\n"
    else:
        refs = [f"{{{{ ref('{p}') }}}}" for p in m["parents"]]
        head = ""
    val = " + ".join(f"t{i}.val" for i in range(len(refs)))
    lines = [head + f"select t0.id, ({val}) % 1000003 as val", f"from {refs[0]} as t0"]
    for i, r in enumerate(refs[1:], start=1):
        lines.append(f"join {r} as t{i} on t{i}.id = t0.id")
    return "\n".join(lines) + "\n"


def write_project(out: Path, models: list[dict], n_sources: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    hooks = ["create schema if not exists raw"] + [
        f"create table if not exists raw.src_{s} as select i as id, "
        f"(i * {7 + s}) % 101 as val from range({ROWS_PER_SOURCE}) t(i)"
        for s in range(n_sources)
    ]
    hook_yaml = "\n".join(f'  - "{h}"' for h in hooks)
    (out / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0.0'\nconfig-version: 2\nprofile: bench\n"
        "model-paths: [models]\nflags:\n  send_anonymous_usage_stats: false\n"
        f"on-run-start:\n{hook_yaml}\n"
        "models:\n  bench:\n    +materialized: table\n"
    )
    default_path = (out / "warehouse.duckdb").resolve()
    (out / "profiles.yml").write_text(
        "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: \"{{{{ env_var('CATCHMENT_WAREHOUSE', '{default_path}') }}}}\"\n"
        "      schema: main\n      threads: 1\n"
    )
    (out / ".gitignore").write_text("target/\nlogs/\n*.duckdb\n")
    mdir = out / "models"
    if mdir.exists():
        shutil.rmtree(mdir)
    mdir.mkdir()
    tables = "\n".join(f"      - name: src_{s}" for s in range(n_sources))
    (mdir / "sources.yml").write_text(
        f"version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n{tables}\n"
    )
    layers: dict[int, list[dict]] = {}
    for m in models:
        layers.setdefault(m["layer"], []).append(m)
    for layer, ms in layers.items():
        ldir = mdir / f"layer_{layer:02d}"
        ldir.mkdir()
        yml = ["version: 2", "models:"]
        for m in ms:
            (ldir / f"{m['name']}.sql").write_text(model_sql(m))
            yml += [
                f"  - name: {m['name']}",
                "    columns:",
                "      - name: id",
                "        data_tests: [not_null]",
            ]
        (ldir / f"_layer_{layer:02d}.yml").write_text("\n".join(yml) + "\n")


def run_dbt(out: Path, command: str) -> float:
    """Run `dbt <command>` in-process for the project in `out`; return seconds taken."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    t0 = time.perf_counter()
    from dbt.cli.main import dbtRunner  # imported lazily: generation needs no dbt

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = dbtRunner().invoke(
        [
            command,
            "--project-dir",
            str(out),
            "--profiles-dir",
            str(out),
            "--log-path",
            str(out / "logs"),
            "--target-path",
            str(out / "target"),
            "--quiet",
        ]
    )
    took = time.perf_counter() - t1
    print(f"dbt {command}: {took:.1f} s (dbt import {t_import:.1f} s), success={res.success}")
    if not res.success:
        sys.exit(f"dbt {command} failed: {res.exception or 'see logs in ' + str(out / 'logs')}")
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, required=True, help="number of models (N)")
    ap.add_argument("--out", type=Path, required=True, help="project directory to write")
    ap.add_argument("--layers", type=int, default=None, help="folders/layers (default ~log2 N)")
    ap.add_argument("--sources", type=int, default=8, help="tables of source `raw` (default 8)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument(
        "--manifest-only",
        action="store_true",
        help="also run `dbt parse` in-process and copy manifest.json to DIR",
    )
    ap.add_argument("--build", action="store_true", help="also run `dbt build` in-process")
    a = ap.parse_args(argv)
    if a.models < 1 or a.sources < 1:
        ap.error("--models and --sources must be >= 1")

    t0 = time.perf_counter()
    models = plan(a.models, a.layers or default_layers(a.models), a.sources, a.seed)
    write_project(a.out, models, a.sources)
    n_layers = models[-1]["layer"] + 1
    print(
        f"generated {len(models)} models in {n_layers} layers, {a.sources} sources "
        f"-> {a.out} ({time.perf_counter() - t0:.1f} s)"
    )

    if a.manifest_only:
        run_dbt(a.out, "parse")
        dst = a.out / "manifest.json"
        shutil.copyfile(a.out / "target" / "manifest.json", dst)
        print(f"manifest: {dst} ({dst.stat().st_size / 1e6:.1f} MB)")
    if a.build:
        run_dbt(a.out, "build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
