"""``python -m catchment`` runs the CLI."""

from catchment.cli.fast import main

main()
