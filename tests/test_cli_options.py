"""The options several commands share: --mip-gap (and its old name --gap), --solver,
--time-limit and --out, through typer's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from bundler.cli import scale as cli_scale
from bundler.cli.commands import app
from bundler.cli.common import DEFAULT_MIP_GAP, OUT_RULE, Solver
from solvers.registry import BACKENDS, BackendInfo
from tests.layers import layer, square

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
COMMANDS = get_command(app).commands
SOLVING = ("plan", "demo", "national", "sweep")  # the commands that run a solver
FOLDERS = ("score", "plan", "demo", "national", "sweep")  # the commands that write a folder


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def flat(text: str) -> str:
    """``text`` on one line, without rich's box characters: wrapped help reads as prose."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def help_text(*command: str) -> str:
    """``psbundle COMMAND --help``, flattened; wide, so that no column is squeezed."""
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0
    return flat(result.output)


def option(command: str, name: str):
    """The click option ``name`` of ``command``."""
    (found,) = [p for p in COMMANDS[command].params if name in p.opts]
    return found


@pytest.fixture
def units(tmp_path) -> Path:
    """Six 1 km squares in two touching rows, scorable, in one province."""
    geoms = [square(x, y, 1000) for y in (0, 1000) for x in (0, 1000, 2000)]
    n = len(geoms)
    gdf = layer(
        geoms,
        LUAS_SK=[100.0] * n,
        KODE_PROV=["16"] * n,
        NAMA_PROV=["Sumatera Selatan"] * n,
        forest_ha_2010=[90.0] * n,
        forest_ha_2020=[60.0] * n,
        peat_ha=[10.0] * n,
    )
    path = tmp_path / "units.gpkg"
    gdf.to_file(path)
    return path


def _args(command: str, units: Path, out: Path) -> list:
    """The least a command needs before its solver options."""
    if command == "demo":
        return ["demo", "--out", out]
    extra = ["--grid", "price=5,10"] if command == "sweep" else []
    return [command, units, "--out", out, *extra]


@pytest.fixture
def run_on(monkeypatch):
    """national and sweep stop where they hand their settings to Dask; the settings kept."""
    seen = {}

    def record(units, out_dir, solver, time_limit, gap, *rest):
        seen.update(solver=solver, time_limit=time_limit, rel_gap=gap)
        raise typer.Exit(0)

    monkeypatch.setattr(cli_scale, "_RunOn", record)
    return seen


# ---------------------------------------------------------------------------------------------
# --mip-gap and its old name --gap


def test_plan_solves_to_the_mip_gap_and_the_old_gap_still_works_with_a_warning(units, tmp_path):
    base = ("--min-area-ha", 150, "--carbon-price", 30, "--solver", "HiGHS")
    new = run("plan", units, "--out", tmp_path / "new", *base, "--mip-gap", 0.05)
    assert new.exit_code == 0, new.output
    assert "deprecated" not in new.output
    old = run("plan", units, "--out", tmp_path / "old", *base, "--gap", 0.05)
    assert old.exit_code == 0, old.output
    warning = [line for line in old.output.splitlines() if "--gap is deprecated" in line]
    assert warning == [
        "warning: --gap is deprecated; use --mip-gap (the MIP's relative optimality gap, "
        "a fraction in [0, 1), e.g. 0.01 for 1%)"
    ]
    for name in ("new", "old"):
        facts = json.loads((tmp_path / name / "run.json").read_text())
        assert facts["rel_gap_target"] == 0.05
        assert facts["solver"] == "highs"  # --solver is case-insensitive
        assert facts["n_bundles"] >= 1


@pytest.mark.parametrize("command", ["national", "sweep"])
def test_national_and_sweep_take_the_mip_gap_and_the_old_gap(units, tmp_path, run_on, command):
    result = run(*_args(command, units, tmp_path / "o"), "--mip-gap", 0.02)
    assert result.exit_code == 0, result.output
    assert run_on == {"solver": "highs", "time_limit": 10.0, "rel_gap": 0.02}
    result = run(*_args(command, units, tmp_path / "o"), "--gap", 0.03, "--solver", "cpsat")
    assert result.exit_code == 0, result.output
    assert "warning: --gap is deprecated; use --mip-gap" in result.output
    assert run_on == {"solver": "cpsat", "time_limit": 10.0, "rel_gap": 0.03}
    result = run(*_args(command, units, tmp_path / "o"))
    assert run_on["rel_gap"] == DEFAULT_MIP_GAP == 1e-4


@pytest.mark.parametrize("command", ["plan", "national", "sweep"])
@pytest.mark.parametrize("flag", ["--mip-gap", "--gap"])
@pytest.mark.parametrize("value", ["500", "1", "-0.01", "nan"])
def test_a_gap_that_is_no_fraction_is_one_clear_error(units, tmp_path, command, flag, value):
    out = tmp_path / "o"
    result = run(*_args(command, units, out), flag, value)
    assert result.exit_code == 2
    assert result.output.count("error:") == 1
    (message,) = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert message == (
        f"error: Invalid value for '{flag}': {float(value):g} is not a relative gap: the MIP's "
        "relative optimality gap is a fraction in [0, 1), e.g. 0.01 for 1%. The metres "
        f"between neighbouring units are --max-gap-m. (see psbundle {command} --help)"
    )
    assert ("deprecated" in result.output) == (flag == "--gap")
    assert not out.exists()


def test_mip_gap_and_gap_together_must_agree(units, tmp_path):
    result = run(*_args("plan", units, tmp_path / "o"), "--mip-gap", 0.02, "--gap", 0.05)
    assert result.exit_code == 2
    assert "error: --gap 0.05 and --mip-gap 0.02: --gap is the old name of --mip-gap" in flat(
        result.output
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["plan", "national", "sweep"])
def test_help_names_mip_gap_and_hides_gap(command):
    text = help_text(command)
    assert "--mip-gap" in text and "Relative optimality gap of the MIP, a fraction" in text
    assert "(0.01 = 1%, not metres)" in text and "[default: 0.0001]" in text
    assert re.search(r"--gap\b", text) is None
    assert option(command, "--gap").hidden


# ---------------------------------------------------------------------------------------------
# --solver


def test_solver_choices_are_the_registry_backends():
    assert [s.value for s in Solver] == list(BACKENDS) == ["highs", "cbc", "cpsat", "heuristic"]
    for command in SOLVING:
        assert "<highs|cbc|cpsat|heuristic>" in help_text(command)
        # what bash completion offers after --solver
        env = {
            "_PSBUNDLE_COMPLETE": "complete_bash",
            "COMP_WORDS": f"psbundle {command} --solver ",
            "COMP_CWORD": "3",
        }
        offered = runner.invoke(app, [], env=env, prog_name="psbundle")
        assert offered.exit_code == 0
        assert offered.output.split() == list(BACKENDS)


@pytest.mark.parametrize("command", SOLVING)
def test_an_unknown_solver_lists_the_choices(units, tmp_path, command):
    out = tmp_path / "o"
    result = run(*_args(command, units, out), "--solver", "bogus")
    assert result.exit_code == 2
    assert result.output.count("error:") == 1
    message = flat(result.output)
    assert "Invalid value for '--solver'" in message and "'bogus'" in message
    assert "'highs', 'cbc', 'cpsat', 'heuristic'" in message
    assert f"(see psbundle {command} --help)" in message
    assert not out.exists()


@pytest.mark.parametrize("command", ["plan", "demo"])
def test_a_backend_that_does_not_import_is_a_clear_error(units, tmp_path, monkeypatch, command):
    broken = BackendInfo("cbc", "mip", "CBC", "solvers.mip.no_such_module")
    monkeypatch.setitem(BACKENDS, "cbc", broken)
    out = tmp_path / "o"
    result = run(*_args(command, units, out), "--solver", "cbc")
    assert result.exit_code == 2
    assert result.output.count("error:") == 1
    assert (
        "error: --solver: solver backend 'cbc' is not usable here: cannot import "
        "solvers.mip.no_such_module" in flat(result.output)
    )
    assert not out.exists()


def test_a_backend_whose_solver_does_not_load_is_a_clear_error(units, tmp_path, monkeypatch):
    import solvers.mip.cbc

    monkeypatch.setattr(solvers.mip.cbc, "is_available", lambda: False)
    out = tmp_path / "o"
    result = run(*_args("plan", units, out), "--solver", "cbc")
    assert result.exit_code == 2
    message = flat(result.output)
    assert (
        "error: --solver: solver backend 'cbc' is installed but its solver does not load on "
        "this machine; usable here: " in message
    )
    usable = message.split("usable here: ")[1].split(" (see psbundle solvers)")[0].split(", ")
    assert "cbc" not in usable and "heuristic" in usable
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# --time-limit: each command's help says what it limits


TIME_LIMITS = {
    "plan": (60.0, "Seconds the solver may spend on the whole plan, shared among its groups"),
    "demo": (30.0, "Seconds the solver may spend on the whole plan, shared among its groups"),
    "national": (10.0, "Seconds the solver may spend on each province's plan: every province"),
    "sweep": (10.0, "Seconds the solver may spend on each province under each scenario: every"),
}


@pytest.mark.parametrize("command", SOLVING)
def test_help_says_what_the_time_limit_limits(command):
    default, says = TIME_LIMITS[command]
    limit = option(command, "--time-limit")
    assert limit.default == default and limit.help.startswith(says)
    assert "Reading, scoring and writing come on top." in limit.help
    text = help_text(command)
    assert says in text and f"[default: {default}]" in text


def test_national_gives_each_province_the_whole_time_limit(units, tmp_path, run_on):
    # the limit goes to the province tasks as it is (bundler/scale applies it per province)
    result = run("national", units, "--out", tmp_path / "o", "--time-limit", 7)
    assert result.exit_code == 0, result.output
    assert run_on["time_limit"] == 7.0


# ---------------------------------------------------------------------------------------------
# --out: required by every command that writes a folder, except demo


@pytest.mark.parametrize("command", FOLDERS)
def test_out_is_required_except_for_demo(command):
    out = option(command, "--out")
    assert out.required == (command != "demo")
    assert out.opts == ["--out", "-o"]
    text = help_text(command)
    if command == "demo":
        assert out.default == Path("psbundle-demo")
        assert "[default: psbundle-demo]" in text and "The one command with a default" in text
    else:
        assert "Output folder (required)." in text and "[required]" in text


@pytest.mark.parametrize("command", ["score", "plan", "national", "sweep"])
def test_a_missing_out_is_one_clear_error(units, command):
    extra = ["--grid", "price=5"] if command == "sweep" else []
    result = run(command, units, *extra)
    assert result.exit_code == 2
    assert flat(result.output) == (
        f"error: Missing option '--out' / '-o'. (see psbundle {command} --help)"
    )


def test_the_out_rule_is_in_the_help_and_the_readme():
    assert OUT_RULE in help_text()
    assert option("generate", "--out").required
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[3].startswith("pip install . && psbundle demo --out demo-out ")
    rows = {m[2]: m[1] for m in re.finditer(r"^\| `(psbundle (\w+)[^`]*)`", readme, flags=re.M)}
    for command in FOLDERS:
        optional = option(command, "--out").required is False
        assert ("[--out DIR]" in rows[command]) == optional, rows[command]
        assert ("--out DIR" in rows[command]) is True, rows[command]
    assert "`generate --out FILE` (required)" in readme
    assert "Required by every command that reads your layer and writes a folder" in readme
