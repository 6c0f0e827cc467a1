"""report.html and map.png: content, escaping, empty plans, determinism, the interactive
map's data, and a screenshot in a real browser (the map's behaviour in a browser is
tested in test_report_browser.py)."""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from bundler.outputs.national import _with_national_rank
from bundler.outputs.report import charts, static_map, write_report
from bundler.outputs.report import page as report_page
from bundler.outputs.report.map_data import DETAIL, map_data
from bundler.outputs.report.static_map import MAP_BACKGROUND, UNSELECTED_FILL, bundle_colors
from tests.report_fixtures import NASTY_ID, NASTY_REASON, UTM, X0, Y0, report_inputs


class _Page(HTMLParser):
    """What a reader of the page gets: headings, facts, table cells, text, tag counts."""

    _KEPT = ("h2", "dt", "dd", "td", "th", "title")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.h2: list[str] = []
        self.facts: dict[str, str] = {}
        self.cells: list[str] = []
        self.text: list[str] = []
        self.tags = Counter()
        self._open: list[tuple[str, list[str]]] = []  # kept elements and their text so far
        self._dt = ""

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        if tag in self._KEPT:
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        if tag not in self._KEPT or not self._open or self._open[-1][0] != tag:
            return
        text = "".join(self._open.pop()[1]).strip()
        if tag == "h2":
            self.h2.append(text)
        elif tag == "dt":
            self._dt = text
        elif tag == "dd":
            self.facts.setdefault(self._dt, text)
        elif tag in ("td", "th"):
            self.cells.append(text)

    def handle_data(self, data):
        for _, buf in self._open:
            buf.append(data)
        self.text.append(data)


def embedded_map(html_text: str) -> dict:
    """The interactive map's data, as the page's script reads it."""
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html_text)
    assert found, "no map data in the page"
    return json.loads(found.group(1))


def parse(html_text: str) -> _Page:
    page = _Page()
    page.feed(html_text)
    page.close()
    return page


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One report for the read-only tests (its inputs too)."""
    folder = tmp_path_factory.mktemp("report")
    inputs = report_inputs()
    write_report(folder, *inputs)
    return folder, inputs


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def as_rgb(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8:
        img = np.round(img * 255).astype(np.uint8)
    return img[..., :3]


def colour_pixels(rgb: np.ndarray, hex_colour: str, tol: int = 6) -> np.ndarray:
    want = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return (np.abs(rgb.astype(int) - want) <= tol).all(axis=-1)


# ---------------------------------------------------------------- content


def test_writes_both_files_and_nothing_else(written):
    folder, _ = written
    assert sorted(p.name for p in folder.iterdir()) == ["map.png", "report.html"]


def test_map_data_has_every_unit_once_with_its_bundle_and_reason(written):
    folder, (units, bundles, *_rest) = written
    data = embedded_map((folder / "report.html").read_text(encoding="utf-8"))
    assert data["units"]["id"] == list(units["unit_id"])
    assert all(d.startswith("M") and d.endswith("z") for d in data["units"]["d"])
    # each square is one ring of four corners: the simplification keeps them
    assert all(d.count("M") == 1 and len(re.findall(r"-?\d+", d)) == 8 for d in data["units"]["d"])
    reasons = [data["reasons"][r] for r in data["units"]["reason"]]
    assert reasons == list(units["reason"])
    assert "not ready" in reasons and NASTY_REASON in reasons
    members = {
        b: sorted(data["units"]["id"][i] for i in m)
        for b, m in zip(data["bundles"]["id"], data["bundles"]["members"], strict=True)
    }
    assert members == {
        b: sorted(units.loc[units["bundle_id"] == b, "unit_id"]) for b in ("B1", "B2", "B10")
    }
    assert data["units"]["excluded"] == []
    # the bundle panel's figures, formatted as the tables are
    b2 = data["bundles"]["fig"][data["bundles"]["id"].index("B2")]
    assert dict(zip(data["bundles"]["fields"], b2, strict=True)) == {
        "n_units": "3",
        "area_ha": "300.00",
        "credits_tco2e_yr": "2,500",
        "npv_usd": "187,500",
        "cost_per_tco2e": "11.25",
        "main_intervention": "peat rewetting",
    }
    # an outline and a label point inside the bundle for each, in grid steps
    assert all(data["bundles"]["d"]) and len(bundles) == len(data["bundles"]["at"])
    w, h = data["grid"]
    for (x, y), (x0, y0, x1, y1) in zip(data["bundles"]["at"], data["bundles"]["box"], strict=True):
        assert 0 <= x0 <= x <= x1 <= w and 0 <= y0 <= y <= y1 <= h


def test_map_geometry_is_on_the_grid_of_the_shared_frame(written):
    _, (units, bundles, *_rest) = written
    frame = static_map.map_frame(units, bundles)
    data = map_data(units, bundles, bundle_colors(bundles["bundle_id"]), frame)
    step = (max(frame.w, frame.h) + 2 * frame.pad) / DETAIL
    assert data["step_m"] == pytest.approx(step)  # UTM: metres
    assert data["grid"] == [
        math.ceil((frame.w + 2 * frame.pad) / step),
        math.ceil((frame.h + 2 * frame.pad) / step),
    ]
    # U00's square: 900 m wide, its lower-left corner 1 pad in and 1 pad above the bottom
    d = data["units"]["d"][list(units["unit_id"]).index("U00")]
    x, _, *moves = (int(v) for v in re.findall(r"-?\d+", d))
    sides = [abs(m) for m in moves if m]  # three moves along the sides, each corner snapped
    assert len(sides) == 3 and all(abs(v - 900 / step) <= 1 for v in sides)
    assert x in (round(frame.pad / step), round((frame.pad + 900) / step))
    assert data["context_scale"] == 1  # a small map: no unit is drawn coarser


def test_bundle_panel_shows_ranks_and_benefit_shares(written):
    _, (units, bundles, *_rest) = written
    ranked = bundles.assign(start_year=["1", "2", "later"], priority_rank=[2, 1, 3])
    sharing = pd.DataFrame(
        {
            "bundle_id": ["B1", "B1", "B1", "B1", "B2"],
            "party": ["state", "investor", "unit", "unit", "state"],
            "unit_id": ["", "", "U00", "U01", ""],
            "amount_usd": [1000.0, 45_000.0, 20_000.5, 30_000.25, 10.0],
            "share": [0.01, 0.45, 0.2, 0.3, 0.5],
        }
    )
    frame = static_map.map_frame(units, ranked)
    data = map_data(units, ranked, bundle_colors(ranked["bundle_id"]), frame, sharing)
    b1 = data["bundles"]["id"].index("B1")
    figures = dict(zip(data["bundles"]["fields"], data["bundles"]["fig"][b1], strict=True))
    assert (figures["start_year"], figures["priority_rank"]) == ("1", "2")
    assert data["bundles"]["shares"][b1] == [
        ["state", "1,000", "1.0%"],
        ["investor", "45,000", "45.0%"],
        ["unit", "50,001", "50.0%"],  # the units' rows together
    ]
    assert data["bundles"]["shares"][data["bundles"]["id"].index("B10")] == []


def test_national_report_ranks_bundles_in_the_national_list():
    # each province's plan.gpkg ranks its own bundles; the national map shows both ranks
    bundles = gpd.GeoDataFrame(
        {"bundle_id": ["11-B001", "11-B002", "12-B001"], "priority_rank": [1, 2, 1]},
        geometry=[Point(X0, Y0).buffer(500)] * 3,
        crs=UTM,
    )
    priority = pd.DataFrame({"rank": [1, 2, 3], "bundle_id": ["12-B001", "11-B001", "11-B002"]})
    ranked = _with_national_rank(bundles, priority)
    assert list(ranked["priority_rank"]) == [2, 3, 1]
    assert list(ranked["province_rank"]) == [1, 2, 1]
    data = map_data(
        ranked.assign(unit_id=ranked["bundle_id"], reason=""),
        ranked,
        bundle_colors(ranked["bundle_id"]),
        static_map.map_frame(ranked, ranked),
    )
    assert data["bundles"]["fields"] == ["priority_rank", "province_rank"]
    assert data["bundles"]["fig"] == [["2", "1"], ["3", "2"], ["1", "1"]]


def test_unit_scores_and_excluded_units_go_to_the_map(written):
    _, (units, bundles, *_rest) = written
    units = units.assign(
        typology=["HFLD", "LFHD"] * 12,
        readiness=np.linspace(0, 1, 24),
        potential_tco2e_yr=1234.4,
        excluded=units["unit_id"].isin(["U05", "U00"]),  # U00 is in a bundle: not excluded
        district=["Muara Enim"] * 12 + ["Lahat"] * 12,
    )
    data = map_data(
        units, bundles, bundle_colors(bundles["bundle_id"]), static_map.map_frame(units, bundles)
    )
    fields = [f for f, _ in data["units"]["fields"]]
    assert fields == ["area_ha", "typology", "potential_tco2e_yr", "readiness"]
    values = dict(zip(fields, data["units"]["values"], strict=True))
    assert values["area_ha"][:2] == [100, 100]
    assert values["readiness"][:3] == [0, 4, 9]  # hundredths: 0.0435 -> 4, 0.087 -> 9
    assert values["potential_tco2e_yr"][0] == 1234
    assert [data["units"]["cats"]["typology"][c] for c in values["typology"][:2]] == [
        "HFLD",
        "LFHD",
    ]
    assert [data["units"]["id"][i] for i in data["units"]["excluded"]] == ["U05"]
    assert len(data["districts"]) == 2  # rows 0-1 and rows 2-3, each one outline


def test_units_take_their_bundle_colour(written):
    folder, (_, bundles, *_rest) = written
    data = embedded_map((folder / "report.html").read_text(encoding="utf-8"))
    colors = bundle_colors(bundles["bundle_id"])
    assert len(set(colors.values())) == 3
    assert UNSELECTED_FILL not in colors.values()
    assert dict(zip(data["bundles"]["id"], data["bundles"]["color"], strict=True)) == colors
    # and the legend, whose entries select the bundle on the map
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    for b, c in colors.items():
        assert f'data-bundle="{b}"><span class="sw" style="background:{c}"></span>{b}' in html_text


def test_table_rows_with_a_bundle_link_to_the_map(written):
    folder, (_, _, tables, *_rest) = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    assert next(iter(tables)) == "Bundles"  # table-0 in the page
    for n, b in enumerate(tables["Bundles"]["bundle_id"]):
        assert (
            f'<tr id="table-0-r{n}" data-bundle="{b}"><td><a href="#map" class="to-map" '
            f'data-bundle="{b}">{b}</a></td>'
        ) in html_text
    # tables without a bundle column are left as they were
    assert '<tr id="table-1' not in html_text and '<tr id="table-2' not in html_text


def test_tables_and_facts_are_shown(written):
    folder, (_, _, tables, _, _) = written
    page = parse((folder / "report.html").read_text(encoding="utf-8"))
    for title in tables:
        assert title in page.h2
    assert {"Map", "Credits over time", "Cost curve", "Run facts"} <= set(page.h2)
    assert "agroforestry <mixed>" in page.cells
    assert "a < b & c" in page.cells
    assert "780,000" in page.cells  # numbers get thousands separators
    # termination and bound exactly as given, the gap as a percentage; nested facts nest
    assert page.facts["termination"] == "feasible"
    assert page.facts["bound"] == "130000.0"
    assert page.facts["gap"] == "5.30%"
    assert page.facts["objective"] == "123456.789"
    assert page.facts["sha256"] == "ab" * 32
    assert page.facts["path"] == "data/ps_<prov>.gpkg"
    text = " ".join(page.text)
    # the sentence rounds the bound like the tables
    assert "Not proven optimal by highs: termination feasible, bound 130,000, gap 5.30%" in text
    assert "Proven optimal" not in text


def test_text_is_escaped(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    assert NASTY_ID not in html_text
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in html_text
    assert "<script>alert" not in html_text  # the nasty reason carries one
    assert "&lt;script&gt;alert(&quot;r&quot;)&lt;/script&gt;" in html_text
    # inside the map's data: JSON whose <, > and & cannot end the script element
    assert "\\u003cscript\\u003ealert" in html_text and "\\u003cb\\u003ex" in html_text
    assert len(re.findall(r"<script\b", html_text)) == len(re.findall(r"</script>", html_text)) == 2
    data = embedded_map(html_text)
    assert NASTY_ID in data["units"]["id"] and NASTY_REASON in data["reasons"]
    assert "<b>" not in html_text
    assert "ps_&lt;prov&gt;.gpkg" in html_text


def test_page_is_self_contained(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    page = parse(html_text)
    # two inline scripts: the map's data (JSON) and its code, written in the project
    assert page.tags["script"] == 2 and page.tags["link"] == page.tags["img"] == 0
    assert page.tags["iframe"] == page.tags["object"] == 0
    assert not re.search(r"\b(src|srcset)=", html_text)
    code = html_text.split("<script>", 1)[1].split("</script>", 1)[0]
    assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|importScripts)\b", code)
    assert not re.search(r"https?:|\bimport\s*\(", code.replace("http://www.w3.org/2000/svg", ""))
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", html_text)
    hrefs = re.findall(r'href="([^"]*)"', html_text)
    assert hrefs and all(h.startswith("#") for h in hrefs), hrefs
    assert page.tags["svg"] == 3  # the map (drawn by its script) and two charts
    ids = re.findall(r'\bid="([^"]+)"', html_text)
    assert len(ids) == len(set(ids)), "duplicate ids between the inline SVGs"
    # every in-page reference points at an id of this page
    refs = set(re.findall(r'(?:href="|url\()#([^")]+)', html_text))
    assert refs <= set(ids)


def test_charts_are_inline_svg(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    svgs = re.findall(r'<div class="chart">(.*?)</div>', html_text, re.S)
    assert len(svgs) == 2
    assert all(c.lstrip().startswith("<svg") for c in svgs)
    assert "Credits per year, all bundles: 72,000 tCO2e in total" in svgs[0]
    assert "carbon price 10.0 USD/tCO2e" in svgs[1]
    for b, c in bundle_colors(["B1", "B2", "B10"]).items():  # bars coloured by bundle
        assert c in svgs[1]
        # one path per bundle holds all its years' bars: 10 years of credits
        paths = re.findall(rf'<path d="([^"]+)"[^>]*style="fill: {c}"', svgs[0])
        assert max(p.count("M") for p in paths) == 10, b  # the other: its legend patch


def test_cost_curve_is_cheapest_first(monkeypatch):
    _, bundles, _, _, facts = report_inputs()
    seen = {}

    def spy(ax_bar):
        def bar(self, x, height, width=0.8, **kw):
            seen.update(x=list(x), height=list(height), width=list(width))
            return ax_bar(self, x, height, width=width, **kw)

        return bar

    from matplotlib.axes import Axes

    monkeypatch.setattr(Axes, "bar", spy(Axes.bar))
    charts.cost_curve_html(bundles, facts, bundle_colors(bundles["bundle_id"]))
    assert seen["height"] == [3.0, 6.5, 11.25]  # B10, B1, B2
    assert seen["x"] == [0.0, 1500.0, 5500.0]  # cumulative credits
    assert seen["width"] == [1500.0, 4000.0, 2500.0]


def test_map_png_is_1600_wide_and_shows_the_bundles(written):
    folder, (_, bundles, *_rest) = written
    width, height = png_size(folder / "map.png")
    assert width == static_map.MAP_PNG_WIDTH_PX
    assert 500 < height < 2100
    rgb = as_rgb(mpimg.imread(folder / "map.png"))
    for c in bundle_colors(bundles["bundle_id"]).values():
        assert colour_pixels(rgb, c).sum() > 5000
    assert colour_pixels(rgb, UNSELECTED_FILL).sum() > 5000


def test_two_runs_give_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write_report(a, *report_inputs())
    write_report(b, *report_inputs())
    for name in ("report.html", "map.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_empty_plan_renders_and_says_why(tmp_path):
    units, bundles, tables, yearly, facts = report_inputs(empty=True)
    assert bundles.empty and yearly.empty
    write_report(tmp_path, units, bundles, tables, yearly, facts)
    html_text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = parse(html_text)
    text = " ".join(page.text)
    assert "No bundle was selected" in text
    assert facts["explanation"] in text
    assert "Proven optimal by highs (termination optimal, bound 0, gap 0.00%)" in text
    assert page.facts["gap"] == "0.00%"
    data = embedded_map(html_text)
    assert data["units"]["id"] == list(units["unit_id"]) and all(data["units"]["d"])
    assert "No credits" in text and "no cost curve" in text
    assert data["bundles"]["id"] == [] and 'data-layer="bundles"' not in html_text
    assert page.tags["svg"] == 1  # the map only
    # the reasons table accounts for every unit
    assert "below minimum area" in page.cells and "not ready" in page.cells
    assert png_size(tmp_path / "map.png")[0] == 1600


def test_plan_without_termination_or_price(tmp_path):
    units, bundles, _, yearly, _ = report_inputs()
    facts = {"solver": "heuristic", "bound": None}
    write_report(tmp_path, units, bundles, {}, yearly, facts)
    page = parse((tmp_path / "report.html").read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert "Termination was not reported by heuristic" in text
    assert "No carbon price was given" in text
    assert page.facts["bound"] == "none"


def test_gap_is_a_percentage_or_said_to_be_undefined(tmp_path):
    units, bundles, tables, yearly, facts = report_inputs()
    facts = {**facts, "objective": 0.0, "bound": 175_769.0, "gap": None}
    write_report(tmp_path, units, bundles, tables, yearly, facts)
    html_text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = parse(html_text)
    undefined = "undefined (objective 0; absolute gap 175,769)"
    assert page.facts["gap"] == undefined
    assert f"bound 175,769, gap {undefined}" in " ".join(page.text)
    # a gap given without objective and bound is still shown as a percentage
    given = {"termination": "feasible", "gap": 0.024}
    write_report(tmp_path, units, bundles, tables, yearly, given)
    page = parse((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert page.facts["gap"] == "2.40%"
    assert "gap 2.40%" in " ".join(page.text)


def test_a_failed_write_leaves_the_old_file_and_no_scraps(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("old")

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(report_page, "report_html", boom)
    with pytest.raises(RuntimeError, match="boom"):
        write_report(tmp_path, *report_inputs())
    assert (tmp_path / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png", "report.html"]


def test_html_stays_small_for_3000_detailed_units(tmp_path):
    # circles of 129 vertices each: detail the map must simplify away
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 150_000, size=(3000, 2))
    geoms = [Point(X0 + x, Y0 + y).buffer(rng.uniform(400, 1500), quad_segs=32) for x, y in xy]
    bid = np.where(np.arange(3000) % 3 == 0, [f"B{i % 40}" for i in range(3000)], "")
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"PS-{i:05d}" for i in range(3000)],
            "bundle_id": bid,
            "reason": np.where(bid == "", "not ready", ""),
            "area_ha": 100.0,
        },
        geometry=geoms,
        crs=UTM,
    )
    bundles = units[units["bundle_id"] != ""].dissolve("bundle_id").reset_index()
    bundles = bundles.assign(
        n_units=1,
        credits_tco2e_yr=1000.0,
        cost_usd=1.0,
        npv_usd=1.0,
        cost_per_tco2e=5.0,
        main_intervention="x",
    )
    write_report(
        tmp_path,
        units,
        bundles,
        {},
        pd.DataFrame({"bundle_id": ["B1"], "year": [2030], "credits": [5.0]}),
        {},
    )
    html_text = (tmp_path / "report.html").read_text(encoding="utf-8")
    data = embedded_map(html_text)
    assert len(data["units"]["d"]) == 3000
    # simplified to a 16,000th of the extent (about 10 m): a circle of 400 to 1,500 m keeps
    # a few dozen of its 129 vertices (median 32), and stays round
    vertices = [len(re.findall(r"-?\d+", d)) // 2 for d in data["units"]["d"]]
    assert min(vertices) >= 16 and np.median(vertices) < 48
    # 808 kB; the static SVG map alone took 1.0 MB, drawn four times coarser
    assert len(html_text) < 900_000
    assert png_size(tmp_path / "map.png")[0] == 1600


# ---------------------------------------------------------------- a real browser

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    return path


def open_in_browser(chromium: str, page: Path, work: Path) -> tuple[np.ndarray, str]:
    """Screenshot ``page`` as a person opening it sees it; also chromium's log."""
    shot = work / "shot.png"
    proc = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={work / 'profile'}",
            f"--screenshot={shot}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-3000:]
    return as_rgb(mpimg.imread(shot)), proc.stderr


def console_messages(stderr: str) -> list[str]:
    """Every message the page wrote to the console.

    Chromium logs console.error at INFO level with only the message text (see
    test_console_check_can_fail), so filtering on "Error" would miss it; the
    report has no script, so any console line at all is a failure.
    """
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE\b", line)]


def map_region(rgb: np.ndarray) -> tuple[slice, slice] | None:
    """The box of the screenshot covered by the map's background colour, if any."""
    ys, xs = np.nonzero(colour_pixels(rgb, MAP_BACKGROUND, tol=1))
    if len(ys) < 10_000:
        return None
    return slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)


def test_browser_shows_the_map_without_console_errors(chromium, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    units, bundles, tables, yearly, facts = report_inputs()
    write_report(out, units, bundles, tables, yearly, facts)
    rgb, log = open_in_browser(chromium, out / "report.html", tmp_path)
    assert rgb.shape[:2] == (1000, 1400)
    assert console_messages(log) == []
    region = map_region(rgb)
    assert region is not None, "no map in the first screen of the page"
    rows, cols = region
    assert cols.stop - cols.start > 800 and rows.stop - rows.start > 400
    inside = rgb[region]
    for b, c in bundle_colors(bundles["bundle_id"]).items():
        assert colour_pixels(inside, c).sum() > 2000, f"bundle {b} ({c}) not drawn"
    assert colour_pixels(inside, UNSELECTED_FILL).sum() > 2000
    # and not just a few coloured pixels: most of the map is units, not background
    assert colour_pixels(inside, MAP_BACKGROUND, tol=1).mean() < 0.5


def test_browser_check_fails_without_the_map(chromium, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_report(out, *report_inputs())
    page = out / "report.html"
    html_text = page.read_text(encoding="utf-8")
    # the map's figure and its two scripts out: nothing else refers to them
    html_text = re.sub(r'<figure class="mapfig">.*?</figure>', "", html_text, flags=re.S)
    page.write_text(re.sub(r"<script\b.*?</script>", "", html_text, flags=re.S), encoding="utf-8")
    rgb, log = open_in_browser(chromium, page, tmp_path)
    assert map_region(rgb) is None
    assert console_messages(log) == []


def test_console_check_can_fail(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>\n'
        '<script>console.error("deliberate failure marker")</script>\n'
        '<svg viewBox="0 0 9 9"><path d="M 0 0 L x"/></svg>\n'
        "<script>undefinedFunction()</script>\n</body></html>\n",
        encoding="utf-8",
    )
    _, log = open_in_browser(chromium, page, tmp_path)
    messages = console_messages(log)
    assert any("deliberate failure marker" in m for m in messages), log[-3000:]
    assert any("Uncaught" in m for m in messages)
    assert any("Error: <path> attribute d" in m for m in messages)


def test_odd_values_do_not_break_the_page(tmp_path):
    units, bundles, tables, yearly, facts = report_inputs()
    bundles.loc[bundles["bundle_id"] == "B2", ["credits_tco2e_yr", "cost_per_tco2e"]] = [
        0.0,
        float("nan"),
    ]
    units.loc[0, "bundle_id"] = None  # a missing bundle id reads as "not selected"
    tables = {
        "Odd <cells>": pd.DataFrame(
            {"a": [None, pd.NA, float("nan")], "b": [["x", "y"], "<i>", 1.5e-4]}
        )
    }
    write_report(tmp_path, units, bundles, tables, yearly, facts)
    html_text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = parse(html_text)
    assert "Not on the curve (no credits): B2." in " ".join(page.text)
    assert "Odd <cells>" in page.h2
    odd = ("x; y", "<i>", "0.00015")
    assert [c for c in page.cells if c in odd] == list(odd)
    assert "&lt;NA&gt;" not in html_text and "nan" not in page.cells
    data = embedded_map(html_text)
    assert all(0 not in m for m in data["bundles"]["members"])  # U00: in no bundle
    assert data["units"]["id"][0] == "U00"


# ---------------------------------------------------------------- template and shared map frame


def test_page_comes_from_the_packaged_template_and_css(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    templates = resources.files("bundler.outputs") / "templates"
    css = (templates / "report.css").read_text(encoding="utf-8")
    assert (templates / "report.html.j2").is_file()
    assert f"<style>\n{css}</style>\n" in html_text
    script = (templates / "map.js").read_text(encoding="utf-8")
    assert f"{script}</script>" in html_text
    assert html_text.startswith("<!DOCTYPE html>\n") and html_text.endswith("</html>\n")


def test_title_is_escaped_as_everywhere_else(tmp_path):
    units, bundles, tables, yearly, facts = report_inputs()
    facts = {**facts, "scenario_name": 'O\'B "x"'}
    html_text = report_page.report_html(units, bundles, tables, yearly, facts)
    # html.escape, as for every other text of the page (not markupsafe's &#39; / &#34;)
    assert (
        "<title>Social Forestry carbon bundles: plan report (O&#x27;B &quot;x&quot;)" in html_text
    )


def test_both_maps_take_their_scale_from_the_shared_frame(written):
    _, (units, bundles, *_rest) = written
    frame = static_map.map_frame(units, bundles)
    assert frame.bar is not None and frame.bar.label == "1 km"  # a fifth of 6 km, rounded
    assert frame.bar.length == 1000.0 and frame.pad == 0.02 * max(frame.w, frame.h)
    # the page's scale bar follows the zoom: the script needs metres per grid step
    data = map_data(units, bundles, bundle_colors(bundles["bundle_id"]), frame)
    assert data["step_m"] * DETAIL == pytest.approx(max(frame.w, frame.h) + 2 * frame.pad)
    ax = static_map.map_figure(units, bundles, bundle_colors(bundles["bundle_id"])).axes[0]
    assert frame.bar.label in [t.get_text() for t in ax.texts]
    (line,) = ax.lines
    xs, ys = line.get_data()
    assert xs[0] == frame.minx and xs[1] - xs[0] == frame.bar.length
    assert ys[0] == frame.miny - 3 * frame.pad


def test_no_scale_bar_in_either_map_without_a_projected_crs(written):
    _, (units, bundles, *_rest) = written
    units, bundles = units.to_crs(4326), bundles.to_crs(4326)
    frame = static_map.map_frame(units, bundles)
    assert frame.bar is None
    assert map_data(units, bundles, {}, frame)["step_m"] is None  # the script shows none
    colors = bundle_colors(bundles["bundle_id"])
    assert not static_map.map_figure(units, bundles, colors).axes[0].lines
