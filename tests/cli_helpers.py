"""Running ``psbundle`` in-process for tests (``typer.testing.CliRunner``)."""

from __future__ import annotations

from typer.testing import CliRunner

from bundler.cli.commands import app
from tests.layers import scoreable_export

runner = CliRunner()


def run_cli(*args):
    """``psbundle *args`` (each turned into a string); a traceback in the output fails."""
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def one_error(result) -> list[str]:
    """The output's ``error:`` lines."""
    return [line for line in result.output.splitlines() if line.startswith("error:")]


# a plan of the scoreable export (tests.layers.scoreable_export) that has bundles, quickly
EXPORT_PLAN = ("--min-area-ha", 1000, "--max-gap-m", 2000, "--carbon-price", 20, "--time-limit", 6)


def write_scoreable_export(folder):
    """:func:`tests.layers.scoreable_export` as ``folder/export.gpkg``; returns the path."""
    path = folder / "export.gpkg"
    scoreable_export().to_file(path)
    return path
