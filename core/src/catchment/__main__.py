"""``python -m catchment`` runs the CLI."""

from catchment.cli.main import main

main()
