"""The ``catchment`` command line."""
