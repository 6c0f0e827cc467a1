"""The report drawn in a forked child (``bundler.outputs.forked``) beside the other files.

The child's files must be the ones the caller would have written itself, its failure must
reach the caller as the same exception, and a caller that fails must not leave it running.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bundler.errors import InputError
from bundler.outputs import plan as plan_output
from bundler.outputs.forked import can_fork, start_forked
from tests.test_workbook import write_small_plan

needs_fork = pytest.mark.skipif(not can_fork(), reason="no os.fork or a single core")


def test_without_fork_the_task_runs_in_the_caller_when_it_joins():
    ran = []
    task = start_forked(lambda: ran.append(os.getpid()), fork=False)
    assert ran == []
    task.join()
    assert ran == [os.getpid()]
    cancelled = start_forked(lambda: ran.append("again"), fork=False)
    cancelled.cancel()
    cancelled.join()
    assert ran == [os.getpid()]


@needs_fork
def test_a_forked_task_runs_in_another_process_and_its_files_are_there_after_join(tmp_path):
    out = tmp_path / "pid.txt"
    task = start_forked(lambda: out.write_text(str(os.getpid())))
    task.join()
    assert int(out.read_text()) != os.getpid()


@needs_fork
def test_the_childs_exception_is_raised_again_in_the_caller_with_its_message():
    def fail():
        raise InputError("units.gpkg: column 'luas' has text in row 7")

    task = start_forked(fail)
    with pytest.raises(InputError, match="column 'luas' has text in row 7"):
        task.join()


class _UnpicklableError(Exception):
    def __init__(self, a, b):  # pickling re-calls __init__ with one argument: fails
        super().__init__(f"{a}/{b}")


@needs_fork
def test_an_exception_that_does_not_unpickle_still_reaches_the_caller_as_text():
    def fail():
        raise _UnpicklableError("map", "broken")

    task = start_forked(fail)
    with pytest.raises(RuntimeError, match="_UnpicklableError: map/broken"):
        task.join()


@needs_fork
def test_cancel_stops_a_running_child(tmp_path):
    late = tmp_path / "late.txt"

    def slow():
        time.sleep(30)
        late.write_text("written")

    task = start_forked(slow)
    t0 = time.perf_counter()
    task.cancel()
    assert time.perf_counter() - t0 < 10
    assert not late.exists()
    task.join()  # a cancelled task has nothing left to join


@needs_fork
def test_a_plan_written_with_the_report_forked_is_the_plan_written_in_one_process(
    tmp_path, monkeypatch
):
    # the same plan twice (fixed dates so the GeoPackage and workbook repeat byte for
    # byte): once with the report in the caller, once in a forked child
    monkeypatch.setenv("OGR_CURRENT_DATE", "2026-01-01T00:00:00.000Z")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setattr(plan_output, "FORK_MIN_UNITS", 10**9)
    # the same output path both times, since the report quotes its input's path
    inline = write_small_plan(tmp_path / "plan", report=True).rename(tmp_path / "inline")
    monkeypatch.setattr(plan_output, "FORK_MIN_UNITS", 0)
    asked = []

    def spy(task, fork=True):
        asked.append(fork)
        return start_forked(task, fork)

    monkeypatch.setattr(plan_output, "start_forked", spy)
    forked = write_small_plan(tmp_path / "plan", report=True)
    assert asked == [True]
    names = sorted(p.name for p in inline.iterdir())
    assert "report.html" in names and "map.png" in names
    assert names == sorted(p.name for p in forked.iterdir())
    for name in names:
        if name in ("run.json", "report.html"):
            continue  # they quote the heuristic's runtime
        assert (inline / name).read_bytes() == (forked / name).read_bytes(), name
    assert _without_runtime(inline / "report.html") == _without_runtime(forked / "report.html")


def _without_runtime(path: Path) -> str:
    import re

    return re.sub(r"runtime_s</dt><dd>[0-9.]+", "runtime_s</dt><dd>", path.read_text())
