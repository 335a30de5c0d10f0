"""A file a run rewrites inside ``rewritten_by_run`` keeps the snapshot key it had before the
run (dbt's ``target/manifest.json``); any other write, a removal or a corrupt record is seen."""

from __future__ import annotations

import os
from pathlib import Path

from catchment.run_rewrites import RECORD_FILE, key_line, rewritten_by_run
from catchment.snapshot.key import project_key


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text("project: {name: shop}\n")
    (root / "dbt" / "target").mkdir(parents=True)
    for p in root.rglob("*"):  # older than the racy window: the key is by stat alone
        if p.is_file():
            os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns - 60 * 10**9))
    return root / "catchment.yaml"


def _rewrite(path: Path, text: str) -> None:
    """Write ``text`` with a modification time of its own (a later timestamp tick)."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(old + 10**9, max(old + 10**9, path.stat().st_mtime_ns)))


def test_a_run_rewriting_the_kept_manifest_keeps_the_key(tmp_path: Path) -> None:
    file = _project(tmp_path)
    manifest = tmp_path / "dbt" / "target" / "manifest.json"
    _rewrite(manifest, '{"parsed_by": "the user"}')
    key = project_key(file)
    for n in range(3):
        with rewritten_by_run(manifest):
            _rewrite(manifest, f'{{"written_by": "run {n}"}}')
        assert project_key(file) == key
    _rewrite(manifest, '{"parsed_by": "the user, again"}')  # not a run: seen
    assert project_key(file) != key


def test_a_manifest_a_run_created_stays_out_until_written_otherwise(tmp_path: Path) -> None:
    file = _project(tmp_path)
    manifest = tmp_path / "dbt" / "target" / "manifest.json"
    key = project_key(file)
    with rewritten_by_run(manifest):
        _rewrite(manifest, "{}")
    assert key_line(str(manifest)) is None
    assert project_key(file) == key
    manifest.unlink()
    assert project_key(file) == key
    _rewrite(manifest, '{"a": 1}')
    assert project_key(file) != key


def test_a_run_that_did_not_write_records_nothing(tmp_path: Path) -> None:
    file = _project(tmp_path)
    manifest = tmp_path / "dbt" / "target" / "manifest.json"
    _rewrite(manifest, "{}")
    key = project_key(file)
    with rewritten_by_run(manifest):
        pass
    assert not (manifest.parent / RECORD_FILE).exists()
    assert project_key(file) == key


def test_a_corrupt_record_is_ignored(tmp_path: Path) -> None:
    file = _project(tmp_path)
    manifest = tmp_path / "dbt" / "target" / "manifest.json"
    _rewrite(manifest, "{}")
    key = project_key(file)
    with rewritten_by_run(manifest):
        _rewrite(manifest, '{"b": 2}')
    assert project_key(file) == key
    for junk in (b"not json", b"[1, 2]", b'{"manifest.json": [1]}'):
        (manifest.parent / RECORD_FILE).write_bytes(junk)
        assert key_line(str(manifest)) == (
            f"{manifest}\0{manifest.stat().st_size}\0{manifest.stat().st_mtime_ns}"
        )
        assert project_key(file) != key
