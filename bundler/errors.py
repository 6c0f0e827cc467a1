"""User-facing errors and the exit codes the CLI maps them to.

Exit codes
----------
0   success (warnings may have been printed)
1   internal error: a bug, including a plan the verifier rejected
2   bad input: unreadable or invalid layer, raster, scenario file or option
3   the output folder exists and is not empty; ``--force`` replaces it only when it
    holds an earlier ps-bundler output and nothing else
4   a solver failed to return any answer
5   partly done: some provinces or scenarios of a national run or sweep failed;
    the others were written, and ``provinces.csv`` says what failed and why
130 interrupted (Ctrl-C); nothing was written
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_OUTPUT_EXISTS = 3
EXIT_SOLVER = 4
EXIT_PARTIAL = 5
EXIT_INTERRUPTED = 130


class PsBundlerError(Exception):
    """Base class of errors that carry a message meant for the user."""

    exit_code = EXIT_INTERNAL


class InputError(PsBundlerError):
    """Invalid or unreadable input: a layer, raster, scenario file or option.

    The message names the file and, where it applies, the column, rows or key.
    Several problems may be joined into one message so that the user sees all
    of them at once.
    """

    exit_code = EXIT_INPUT

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        full = message
        if self.problems:
            full = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(full)


class OutputExistsError(PsBundlerError):
    """The output folder is not empty and ``--force`` was not given."""

    exit_code = EXIT_OUTPUT_EXISTS


class SolverError(PsBundlerError):
    """A solver backend failed without returning any usable answer."""

    exit_code = EXIT_SOLVER


class VerificationError(PsBundlerError):
    """A plan broke one of its rules. This is a bug in ps-bundler, never a user error."""

    exit_code = EXIT_INTERNAL


class PartialFailureError(PsBundlerError):
    """Some parts of a national run or sweep failed; the others were written."""

    exit_code = EXIT_PARTIAL
