"""Atomic writing: a run's files appear all together or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bundler.errors import InputError, OutputExistsError


def check_output_dir(out: Path, force: bool) -> None:
    """Refuse a non-empty output folder unless ``force``; refuse a file in its place."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(
            f"{out}: folder exists and is not empty; pass --force to replace its contents"
        )


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Write a run's outputs into a scratch folder and move it into place at the end.

    The scratch folder sits beside ``out`` (same file system, so the final
    rename is atomic). If the block raises, or the process is killed, ``out``
    keeps its previous contents (or stays absent) and the scratch folder is
    removed (or, after a kill, left as a hidden ``.<name>.partial-*`` folder).

    Parameters
    ----------
    out : str or Path
        The final output folder.
    force : bool
        Replace a non-empty ``out``.

    Yields
    ------
    Path
        The scratch folder to write into.
    """
    out = Path(out)
    check_output_dir(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(scratch, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write_file(path: str | Path, write) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path`` by rename.

    ``write`` receives a path with the final file name inside a hidden scratch
    folder beside ``path`` (so GIS drivers name layers after the final file).
    Formats that write sidecar files (a shapefile's .dbf, .shx, .prj ...) have
    them all moved; the main file is moved last, so a reader never sees it
    without its sidecars.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    try:
        write(scratch / path.name)
        produced = sorted(scratch.iterdir(), key=lambda f: f.name == path.name)
        if not produced:
            raise OSError(f"{path}: nothing was written")
        for f in produced:
            os.replace(f, path.parent / f.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
