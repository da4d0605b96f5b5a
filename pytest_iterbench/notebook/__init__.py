"""The notebook processor: an assignment notebook in, a completed notebook, HTML and report out.

``iterbench notebook run input/`` parses each notebook's exercises, solves
them, builds the completed notebook, validates it through nbmake pytest items,
exports HTML and archives the input (see ``pipeline``). Everything here is
re-exported from the module that owns it.
"""

from __future__ import annotations

from pytest_iterbench.notebook.build import build_notebook
from pytest_iterbench.notebook.cli import add_notebook_parser, run_notebook_command
from pytest_iterbench.notebook.errors import (
    AlternativesError,
    ArchiveError,
    BuildError,
    CellExecutionFailed,
    NotebookOutputsMissing,
    NotebookProcessorError,
    NotebookReadError,
    SolutionMissing,
    SolverError,
    SolverNotConfigured,
    StateError,
    ValidationFailed,
)
from pytest_iterbench.notebook.exercises import AnswerRegion, CheckCell, Exercise, ExerciseMap
from pytest_iterbench.notebook.export import ExportOptions, export_html
from pytest_iterbench.notebook.kernels import KernelPool
from pytest_iterbench.notebook.nbio import read_notebook
from pytest_iterbench.notebook.notebook_iteration import run_notebook_iteration
from pytest_iterbench.notebook.parse import find_exercises
from pytest_iterbench.notebook.pipeline import Pipeline, PipelineOptions, PipelineSummary
from pytest_iterbench.notebook.solvers import (
    ClaudeApiSolver,
    FilesSolver,
    Solution,
    SolveContext,
    Solver,
)
from pytest_iterbench.notebook.validate import (
    ValidationReport,
    ValidationTarget,
    validate_notebooks,
)

__all__ = [
    "AlternativesError",
    "AnswerRegion",
    "ArchiveError",
    "BuildError",
    "CellExecutionFailed",
    "CheckCell",
    "ClaudeApiSolver",
    "Exercise",
    "ExerciseMap",
    "ExportOptions",
    "FilesSolver",
    "KernelPool",
    "NotebookOutputsMissing",
    "NotebookProcessorError",
    "NotebookReadError",
    "Pipeline",
    "PipelineOptions",
    "PipelineSummary",
    "Solution",
    "SolutionMissing",
    "SolveContext",
    "Solver",
    "SolverError",
    "SolverNotConfigured",
    "StateError",
    "ValidationFailed",
    "ValidationReport",
    "ValidationTarget",
    "add_notebook_parser",
    "build_notebook",
    "export_html",
    "find_exercises",
    "read_notebook",
    "run_notebook_command",
    "run_notebook_iteration",
    "validate_notebooks",
]
