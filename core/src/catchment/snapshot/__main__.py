"""``python -m catchment.snapshot [PROJECT_DIR] [--no-cache]``: the project's encoded
definitions snapshot on stdout (msgpack, see ``catchment.snapshot.format``), for a workspace
that loads each project in its own environment. Exit 1 with one message when it cannot."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot of the project named on the command line to stdout."""
    from catchment.errors import CatchmentError
    from catchment.snapshot.cache import locate_file, read_snapshot, refresh, snapshot_path

    args = list(sys.argv[1:] if argv is None else argv)
    no_cache = "--no-cache" in args
    paths = [a for a in args if a != "--no-cache"]
    if len(paths) > 1:
        print("usage: python -m catchment.snapshot [PROJECT_DIR] [--no-cache]", file=sys.stderr)
        return 2
    try:
        file = locate_file(paths[0] if paths else None)
        data = None
        if not no_cache and read_snapshot(file) is not None:
            data = snapshot_path(file).read_bytes()
        if data is None:
            _, data = refresh(file)
    except CatchmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if data is None:
        print("error: the project's definitions cannot be snapshotted", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
