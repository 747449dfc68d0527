"""Whole-pipeline fuzzing of gitlint-flux (see docs/robustness.md).

``python -m fuzz.pipeline --help``.  Nothing here is part of the installed package.
"""
