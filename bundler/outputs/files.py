"""Atomic writing: a run's files appear all together or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd

from bundler.errors import InputError, OutputExistsError
from bundler.text import short_list
from bundler.version import __version__

RUN_FILE = "run.json"
# how many foreign file names an error message lists before "and N more"
_SHOWN = 5


def output_files(folder: Path) -> list[str]:
    """Every file under ``folder``, as sorted relative POSIX paths.

    Sub-folders are walked, not listed; a symbolic link (even to a folder) and
    any other entry that is not a real folder counts as a file.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        links = [d for d in dirnames if (here / d).is_symlink()]
        found += [(here / name).relative_to(folder).as_posix() for name in filenames + links]
    return sorted(found)


# key in a unit table's ``attrs``: the CRS of the file it was read from (WKT)
SOURCE_CRS = "source_crs"


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame], like: gpd.GeoDataFrame) -> None:
    """Write GeoPackage layers in the CRS of the input that ``like`` was read from.

    Work happens in an equal-area CRS; the files go back to the input's CRS so that
    a layer opened next to its source needs no custom projection.
    """
    crs = like.attrs.get(SOURCE_CRS)
    for k, (name, layer) in enumerate(layers.items()):
        out = layer.to_crs(crs) if crs and layer.crs is not None else layer
        out.to_file(path, layer=name, driver="GPKG", mode="w" if k == 0 else "a")


def check_output_dir(out: Path, force: bool) -> None:
    """Refuse ``out`` unless it is absent, empty, or (with ``force``) an earlier output.

    ``--force`` replaces a folder only when it holds an earlier ps-bundler output:
    a readable ``run.json`` whose object has a ``"ps_bundler"`` key and, when it
    has a ``"files"`` list (written by :func:`atomic_output_dir`), no file in the
    folder that is not on that list. A ``run.json`` without ``"files"`` (an older
    version's output) is accepted on its ``"ps_bundler"`` key alone.

    Raises
    ------
    InputError
        ``out`` exists and is not a folder.
    OutputExistsError
        ``out`` is a non-empty folder and either ``force`` is false or the
        folder holds files ps-bundler did not write. Nothing is touched.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise OutputExistsError(
            f"{out}: folder exists and is not empty; pass --force to replace an earlier "
            "ps-bundler output there"
        )
    refusal = _not_replaceable(out)
    if refusal is not None:
        why, foreign = refusal
        names = short_list(foreign, _SHOWN)
        raise OutputExistsError(
            f"{out}: --force refused, the folder is not just an earlier ps-bundler output: "
            f"{why}. Files ps-bundler did not write: {names}. --force replaces only an "
            "earlier ps-bundler output, never a folder with other files; nothing was "
            "touched. Choose another --out, or move those files out of the folder and run "
            "again."
        )


def _not_replaceable(out: Path) -> tuple[str, list[str]] | None:
    """``None`` when ``out`` is an earlier ps-bundler output, else why not and which files.

    The files are those ps-bundler did not write: every file in the folder when
    it holds no ``run.json`` of ps-bundler, else those missing from its ``"files"``.
    """
    record = out / RUN_FILE
    if not record.is_file():
        return f"it has no {RUN_FILE} of ps-bundler", output_files(out)
    try:
        facts = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return f"its {RUN_FILE} is unreadable or not valid JSON", output_files(out)
    if not isinstance(facts, dict) or "ps_bundler" not in facts:
        return f'its {RUN_FILE} has no "ps_bundler" key', output_files(out)
    if "files" not in facts:
        return None  # an older version's output: it did not list its files
    written = facts["files"]
    if not isinstance(written, list) or not all(isinstance(f, str) for f in written):
        return f'the "files" entry of its {RUN_FILE} is not a list of names', output_files(out)
    listed = set(written) | {RUN_FILE}
    foreign = [f for f in output_files(out) if f not in listed]
    if not foreign:
        return None
    return f"its {RUN_FILE} does not list every file in it", foreign


def run_envelope(
    kind: str | None = None,
    facts: Mapping | None = None,
    packages: Mapping | None = None,
    extra: Mapping | None = None,
) -> dict:
    """The object of a ``run.json``: what every run writes, in a fixed key order.

    ``{"ps_bundler": version, "kind": kind, **facts, "packages": packages, **extra}``:
    ``kind`` and ``packages`` only when given; ``facts`` are the writer's own
    figures, ``extra`` the caller's run facts (which may override any of them).
    A pure function: it reads nothing and writes nothing.
    """
    run: dict = {"ps_bundler": __version__}
    if kind is not None:
        run["kind"] = kind
    run.update(facts or {})
    if packages is not None:
        run["packages"] = dict(packages)
    run.update(extra or {})
    return run


def record_output_files(folder: Path) -> None:
    """List every file under ``folder`` in its ``run.json`` under ``"files"``.

    A ``run.json`` the run wrote keeps its facts and formatting (indent 2, a
    final newline) and gains ``"files"``; a run that wrote none gets a minimal
    one. The list leaves out ``run.json`` itself. This is what lets a later
    ``--force`` tell ps-bundler's files from anybody else's.
    """
    record = folder / RUN_FILE
    files = [f for f in output_files(folder) if f != RUN_FILE]
    if record.exists():
        facts = json.loads(record.read_text(encoding="utf-8"))
        if not isinstance(facts, dict):
            raise TypeError(f"{record}: run facts are not a JSON object")
        facts.setdefault("ps_bundler", __version__)
    else:
        facts = run_envelope()
    facts["files"] = files
    record.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Write a run's outputs into a scratch folder and move it into place at the end.

    The scratch folder sits beside ``out`` (same file system, so the final
    rename is atomic). If the block raises, or the process is killed, ``out``
    keeps its previous contents (or stays absent) and the scratch folder is
    removed (or, after a kill, left as a hidden ``.<name>.partial-*`` folder).
    When the block succeeds, the files it wrote are listed in ``run.json``
    (:func:`record_output_files`) before the folder is moved into place.

    Parameters
    ----------
    out : str or Path
        The final output folder.
    force : bool
        Replace a non-empty ``out`` that holds an earlier ps-bundler output
        (see :func:`check_output_dir`).

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
        record_output_files(scratch)
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
