"""Declarative automation: conditions on assets, evaluated per partition in ticks."""
