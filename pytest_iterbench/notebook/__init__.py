"""The notebook processor: an assignment notebook in, a completed notebook, HTML and report out.

``iterbench notebook run input/`` parses each notebook's exercises, solves
them, builds the completed notebook, validates it through nbmake pytest items,
exports HTML and archives the input (see ``pipeline``). Everything here is
re-exported from the module that owns it, on first use: importing the package
(as ``iterbench --help`` does) loads neither nbconvert nor a Jupyter client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iterbench import lazy

if TYPE_CHECKING:
    from pytest_iterbench.notebook.build import build_notebook
    from pytest_iterbench.notebook.claude_solver import ClaudeApiSolver
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

#: Each public name and the module that owns it.
_OWNERS = {
    "AlternativesError": "pytest_iterbench.notebook.errors",
    "AnswerRegion": "pytest_iterbench.notebook.exercises",
    "ArchiveError": "pytest_iterbench.notebook.errors",
    "BuildError": "pytest_iterbench.notebook.errors",
    "CellExecutionFailed": "pytest_iterbench.notebook.errors",
    "CheckCell": "pytest_iterbench.notebook.exercises",
    "ClaudeApiSolver": "pytest_iterbench.notebook.claude_solver",
    "Exercise": "pytest_iterbench.notebook.exercises",
    "ExerciseMap": "pytest_iterbench.notebook.exercises",
    "ExportOptions": "pytest_iterbench.notebook.export",
    "FilesSolver": "pytest_iterbench.notebook.solvers",
    "KernelPool": "pytest_iterbench.notebook.kernels",
    "NotebookOutputsMissing": "pytest_iterbench.notebook.errors",
    "NotebookProcessorError": "pytest_iterbench.notebook.errors",
    "NotebookReadError": "pytest_iterbench.notebook.errors",
    "Pipeline": "pytest_iterbench.notebook.pipeline",
    "PipelineOptions": "pytest_iterbench.notebook.pipeline",
    "PipelineSummary": "pytest_iterbench.notebook.pipeline",
    "Solution": "pytest_iterbench.notebook.solvers",
    "SolutionMissing": "pytest_iterbench.notebook.errors",
    "SolveContext": "pytest_iterbench.notebook.solvers",
    "Solver": "pytest_iterbench.notebook.solvers",
    "SolverError": "pytest_iterbench.notebook.errors",
    "SolverNotConfigured": "pytest_iterbench.notebook.errors",
    "StateError": "pytest_iterbench.notebook.errors",
    "ValidationFailed": "pytest_iterbench.notebook.errors",
    "ValidationReport": "pytest_iterbench.notebook.validate",
    "ValidationTarget": "pytest_iterbench.notebook.validate",
    "add_notebook_parser": "pytest_iterbench.notebook.cli",
    "build_notebook": "pytest_iterbench.notebook.build",
    "export_html": "pytest_iterbench.notebook.export",
    "find_exercises": "pytest_iterbench.notebook.parse",
    "read_notebook": "pytest_iterbench.notebook.nbio",
    "run_notebook_command": "pytest_iterbench.notebook.cli",
    "run_notebook_iteration": "pytest_iterbench.notebook.notebook_iteration",
    "validate_notebooks": "pytest_iterbench.notebook.validate",
}


__getattr__, __dir__ = lazy.exports(__name__, _OWNERS)


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
