"""Projects: ``catchment.yaml`` loaded into definitions, an asset graph and a list of problems."""

from __future__ import annotations

from catchment.project.loader import PROJECT_FILE, Problem, Project, load_defaults, load_project

__all__ = ["PROJECT_FILE", "Problem", "Project", "load_defaults", "load_project"]
