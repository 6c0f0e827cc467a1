"""Running ``psbundle`` in-process for tests (``typer.testing.CliRunner``)."""

from __future__ import annotations

from typer.testing import CliRunner

from bundler.cli.commands import app

runner = CliRunner()


def run_cli(*args):
    """``psbundle *args`` (each turned into a string); a traceback in the output fails."""
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def one_error(result) -> list[str]:
    """The output's ``error:`` lines."""
    return [line for line in result.output.splitlines() if line.startswith("error:")]
