"""The Problems view: every finding the packer reported for the open project, by asset."""

from studio.panels.problems.panel import ProblemsPanel

__all__ = ["ProblemsPanel"]
