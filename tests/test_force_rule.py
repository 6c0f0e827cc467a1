"""``--force`` never deletes what ps-bundler did not write.

Every output folder records, in its ``run.json`` under ``"files"``, the files the run wrote.
``--force`` replaces a folder only when it holds an earlier ps-bundler output (a readable
``run.json`` with a ``"ps_bundler"`` key) and no file outside that list; otherwise it exits 3,
names the foreign files and touches nothing. A ``run.json`` without ``"files"`` (an older
version's output) is accepted on its ``"ps_bundler"`` key alone.

The demo takes several seconds, so it runs twice in this module: once for the shared
earlier output and once replacing a copy of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler import __version__
from bundler.cli.commands import app
from bundler.errors import EXIT_OUTPUT_EXISTS, InputError, OutputExistsError
from bundler.outputs.files import atomic_output_dir, check_output_dir, output_files
from bundler.scale.parts_cache import PartsCache
from bundler.scale.province_job import ProvinceResult
from tests.layers import layer, square

runner = CliRunner()

# a user's own document, with bytes no ps-bundler writer produces
DOCX = b"PK\x03\x04 my field notes, not a plan \x00\xff" * 40


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Relative path -> bytes of every file (and "dir" for every folder) under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): "dir" if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def hidden_beside(out: Path) -> list[Path]:
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def flat(text: str) -> str:
    """The CLI's message with line breaks (the console may wrap it) turned into spaces."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    """One complete demo output, shared by the tests (copy it before changing it)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = run("demo", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def _copy(demo_out: Path, tmp_path: Path) -> Path:
    out = tmp_path / "demo"
    shutil.copytree(demo_out, out)
    return out


# ---------------------------------------------------------------------------------------------
# what a run records


def test_the_demo_run_json_lists_every_file_it_wrote(demo_out):
    text = (demo_out / "run.json").read_text()
    facts = json.loads(text)
    # the plan's facts are kept, with the same formatting, and "files" is added
    assert text == json.dumps(facts, indent=2) + "\n"
    assert next(iter(facts)) == "ps_bundler" and facts["demo"] is True
    assert facts["files"] == sorted(p.name for p in demo_out.iterdir() if p.name != "run.json")
    assert {"units.gpkg", "edges.csv", "plan.gpkg", "bundles.csv"} <= set(facts["files"])


def test_a_block_without_run_json_gets_a_minimal_one_listing_nested_files(tmp_path):
    out = tmp_path / "out"
    with atomic_output_dir(out) as tmp:
        (tmp / "b.csv").write_text("b\n")
        (tmp / "sub" / "deeper").mkdir(parents=True)
        (tmp / "sub" / "deeper" / "a.txt").write_text("a\n")
        (tmp / "sub" / "z.csv").write_text("z\n")
    text = (out / "run.json").read_text()
    assert json.loads(text) == {
        "ps_bundler": __version__,
        "files": ["b.csv", "sub/deeper/a.txt", "sub/z.csv"],
    }
    assert text.endswith("}\n")
    # and it is recognised as ps-bundler's own output
    check_output_dir(out, force=True)


def test_score_writes_a_minimal_run_json_and_can_replace_its_own_output(tmp_path):
    geoms = [square(x, 0, 1000) for x in (0, 1000, 2000)]
    units = tmp_path / "units.gpkg"
    layer(geoms, LUAS_SK=[100.0] * 3, forest_ha_2010=[90.0] * 3, forest_ha_2020=[60.0] * 3).to_file(
        units
    )
    out = tmp_path / "scored"
    first = run("score", units, "--out", out)
    assert first.exit_code == 0, first.output
    facts = json.loads((out / "run.json").read_text())
    written = [f for f in output_files(out) if f != "run.json"]
    assert facts == {"ps_bundler": __version__, "files": written}
    assert "scored_units.gpkg" in facts["files"]
    again = run("score", units, "--out", out, "--force")
    assert again.exit_code == 0, again.output
    (out / "mine.txt").write_text("mine\n")
    refused = run("score", units, "--out", out, "--force")
    assert refused.exit_code == EXIT_OUTPUT_EXISTS, refused.output
    assert (out / "mine.txt").read_text() == "mine\n"


# ---------------------------------------------------------------------------------------------
# through the CLI


def test_force_never_replaces_a_folder_with_a_foreign_file(tmp_path):
    out = tmp_path / "D"
    out.mkdir()
    (out / "notes.docx").write_bytes(DOCX)
    result = run("demo", "--out", out, "--force")
    assert result.exit_code == EXIT_OUTPUT_EXISTS, result.output
    message = flat(result.output)
    assert "notes.docx" in message and "nothing was touched" in message
    assert "another --out" in message
    # the document is there byte for byte, and nothing else appeared in or beside D
    assert snapshot(out) == {"notes.docx": DOCX}
    assert hidden_beside(out) == []


def test_the_demo_replaces_its_own_earlier_output(demo_out, tmp_path):
    out = _copy(demo_out, tmp_path)
    (out / "edges.csv").write_text("stale\n")  # a file it wrote, changed since: still its own
    result = run("demo", "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in demo_out.iterdir())
    assert (out / "edges.csv").read_text() != "stale\n"
    assert hidden_beside(out) == []


def test_an_earlier_output_with_a_file_added_later_is_kept(demo_out, tmp_path):
    out = _copy(demo_out, tmp_path)
    (out / "notes.docx").write_bytes(DOCX)
    (out / "analysis").mkdir()
    (out / "analysis" / "my-map.qgz").write_bytes(b"qgis project\n")
    before = snapshot(out)
    result = run("demo", "--out", out, "--force")
    assert result.exit_code == EXIT_OUTPUT_EXISTS, result.output
    message = flat(result.output)
    assert "analysis/my-map.qgz" in message and "notes.docx" in message
    assert snapshot(out) == before and (out / "notes.docx").read_bytes() == DOCX
    assert hidden_beside(out) == []


# ---------------------------------------------------------------------------------------------
# check_output_dir


def test_absent_and_empty_folders_are_fine(tmp_path):
    for force in (False, True):
        check_output_dir(tmp_path / "absent", force)
        check_output_dir(tmp_path, force)
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.write_text("x\n")
    with pytest.raises(InputError, match="is not a folder"):
        check_output_dir(out, force=True)


@pytest.mark.parametrize(
    ("run_json", "why"),
    [
        (None, "no run.json"),
        ('{"x": 1}\n', 'no "ps_bundler" key'),
        ('["ps_bundler"]\n', 'no "ps_bundler" key'),
        ('{"ps_bundler": "0.1.0", \n', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        ('{"ps_bundler": "0.1.0", "files": "plan.gpkg"}\n', '"files" entry'),
    ],
    ids=["missing", "foreign-json", "array", "invalid-json", "not-utf8", "files-not-a-list"],
)
def test_force_refuses_a_folder_that_is_no_ps_bundler_output(tmp_path, run_json, why):
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.gpkg").write_bytes(b"my own plan\n")
    if isinstance(run_json, str):
        (out / "run.json").write_text(run_json)
    elif run_json is not None:
        (out / "run.json").write_bytes(run_json)
    before = snapshot(out)
    with pytest.raises(OutputExistsError, match="--force"):
        check_output_dir(out, force=False)
    with pytest.raises(OutputExistsError) as refused:
        check_output_dir(out, force=True)
    message = str(refused.value)
    assert why in message and "nothing was touched" in message
    # every file there is named: none of them is known to be ps-bundler's
    expected = "plan.gpkg" if run_json is None else "plan.gpkg, run.json"
    assert f"did not write: {expected}." in message
    assert refused.value.exit_code == EXIT_OUTPUT_EXISTS
    assert snapshot(out) == before


def test_force_names_the_first_foreign_files_and_counts_the_rest(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "run.json").write_text('{"ps_bundler": "0.1.0", "files": ["plan.gpkg"]}\n')
    (out / "plan.gpkg").write_bytes(b"plan")
    for i in range(7):
        (out / "sub" / f"mine{i}.txt").write_text("mine\n")
    with pytest.raises(OutputExistsError) as refused:
        check_output_dir(out, force=True)
    message = str(refused.value)
    assert "sub/mine0.txt" in message and "sub/mine4.txt" in message
    assert "sub/mine5.txt" not in message and "and 2 more" in message
    assert "plan.gpkg" not in message.split("did not write:")[1]


def test_an_older_run_json_without_a_file_list_is_accepted(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text('{"ps_bundler": "0.0.9", "n_bundles": 3}\n')
    (out / "bundles.csv").write_text("bundle_id\n")
    check_output_dir(out, force=True)


def test_national_and_sweep_outputs_are_recognised_with_their_nested_files(tmp_path):
    # national writes provinces/<code>/..., sweep scenarios/<name>/...; nested run.json
    # files are ordinary listed files
    out = tmp_path / "national"
    with atomic_output_dir(out) as tmp:
        (tmp / "provinces" / "16").mkdir(parents=True)
        (tmp / "provinces" / "16" / "run.json").write_text('{"ps_bundler": "x"}\n')
        (tmp / "provinces" / "16" / "bundles.csv").write_text("bundle_id\n")
        (tmp / "provinces.csv").write_text("province_code\n")
        (tmp / "run.json").write_text(json.dumps({"ps_bundler": "x", "kind": "national"}))
    facts = json.loads((out / "run.json").read_text())
    assert facts["kind"] == "national" and facts["files"] == [
        "provinces.csv",
        "provinces/16/bundles.csv",
        "provinces/16/run.json",
    ]
    check_output_dir(out, force=True)
    (out / "provinces" / "16" / "notes.txt").write_text("mine\n")
    with pytest.raises(OutputExistsError, match="provinces/16/notes.txt"):
        check_output_dir(out, force=True)


def test_a_failing_block_records_nothing_and_keeps_the_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.docx").write_bytes(DOCX)
    with pytest.raises(OutputExistsError), atomic_output_dir(out, force=True):
        raise AssertionError("the block must not run")
    assert snapshot(out) == {"notes.docx": DOCX}
    assert hidden_beside(out) == []


def test_the_parts_cache_replaces_its_own_parts(tmp_path):
    cache = PartsCache(tmp_path / "cache")
    plan_run = json.dumps({"ps_bundler": __version__}, indent=2) + "\n"
    first = ProvinceResult({"n_bundles": 1}, {"run.json": plan_run.encode(), "a.csv": b"1\n"})
    folder = cache.store("k", first)
    facts = json.loads((folder / "run.json").read_text())
    assert facts["files"] == ["a.csv", "summary.json"]
    # a part whose summary was lost is planned again and stored over its own folder
    (folder / "summary.json").unlink()
    assert cache.load("k") is None
    cache.store("k", ProvinceResult({"n_bundles": 2}, {"b.csv": b"2\n"}))
    assert cache.load("k") == {"n_bundles": 2}
    assert sorted(p.name for p in folder.iterdir()) == ["b.csv", "run.json", "summary.json"]
