"""report.html and map.png: content, escaping, empty plans, determinism, and a real browser."""

from __future__ import annotations

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

from bundler.outputs import report
from bundler.outputs.report import MAP_BACKGROUND, UNSELECTED_FILL, bundle_colors, write_report
from tests.report_fixtures import NASTY_ID, NASTY_REASON, UTM, X0, Y0, report_inputs


class _Page(HTMLParser):
    """What a reader of the page gets: unit paths with their titles, headings, facts, text."""

    _KEPT = ("h2", "dt", "dd", "td", "th", "title")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.unit_paths: list[dict] = []
        self.h2: list[str] = []
        self.facts: dict[str, str] = {}
        self.cells: list[str] = []
        self.text: list[str] = []
        self.tags = Counter()
        self._open: list[tuple[str, list[str]]] = []  # kept elements and their text so far
        self._dt = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if tag == "path" and a.get("class") == "unit":
            self.unit_paths.append({"id": a["data-unit"], "d": a["d"], "title": ""})
        if tag in self._KEPT:
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        if tag not in self._KEPT or not self._open or self._open[-1][0] != tag:
            return
        text = "".join(self._open.pop()[1]).strip()
        if tag == "title" and self.unit_paths and not self.unit_paths[-1]["title"]:
            self.unit_paths[-1]["title"] = text
        elif tag == "h2":
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


def test_map_svg_has_one_path_and_title_per_unit(written):
    folder, (units, bundles, *_rest) = written
    page = parse((folder / "report.html").read_text(encoding="utf-8"))
    assert sorted(p["id"] for p in page.unit_paths) == sorted(units["unit_id"])
    assert all(p["d"].startswith("M") and p["d"].endswith("Z") for p in page.unit_paths)
    titles = {p["id"]: p["title"] for p in page.unit_paths}
    assert titles["U00"].startswith("U00 — bundle B1")
    assert titles["U20"] == "U20 — not selected: not ready (100.00 ha)"
    assert titles[NASTY_ID] == f"{NASTY_ID} — not selected: {NASTY_REASON} (100.00 ha)"
    # bundle outlines and labels are drawn over the units
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    assert html_text.count('<path class="bundle"') == len(bundles)
    for b in bundles["bundle_id"]:
        assert f'dominant-baseline="middle">{b}</text>' in html_text


def test_units_take_their_bundle_colour(written):
    folder, (units, bundles, *_rest) = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    colors = bundle_colors(bundles["bundle_id"])
    assert len(set(colors.values())) == 3
    assert UNSELECTED_FILL not in colors.values()
    for b, c in colors.items():
        group = re.search(rf'<g fill="{c}"[^>]*>(.*?)</g>', html_text, re.S).group(1)
        ids = re.findall(r'data-unit="([^"]+)"', group)
        assert sorted(ids) == sorted(units.loc[units["bundle_id"] == b, "unit_id"])


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
    assert "Not proven optimal by highs: termination feasible, bound 130000.0, gap 5.30%" in text
    assert "Proven optimal" not in text


def test_text_is_escaped(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    assert NASTY_ID not in html_text
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in html_text
    assert "<script" not in html_text  # the nasty reason carries one
    assert "&lt;script&gt;alert(&quot;r&quot;)&lt;/script&gt;" in html_text
    assert "<b>" not in html_text
    assert "ps_&lt;prov&gt;.gpkg" in html_text


def test_page_is_self_contained(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    page = parse(html_text)
    assert page.tags["script"] == page.tags["link"] == page.tags["img"] == 0
    assert page.tags["iframe"] == page.tags["object"] == 0
    assert not re.search(r"\b(src|srcset)=", html_text)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", html_text)
    hrefs = re.findall(r'href="([^"]*)"', html_text)
    assert hrefs and all(h.startswith("#") for h in hrefs), hrefs
    assert page.tags["svg"] == 3  # the map and two charts
    ids = re.findall(r'\bid="([^"]+)"', html_text)
    assert len(ids) == len(set(ids)), "duplicate ids between the inline SVGs"
    # every in-page reference points at an id of this page
    refs = set(re.findall(r'(?:href="|url\()#([^")]+)', html_text))
    assert refs <= set(ids)


def test_charts_are_inline_svg(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    charts = re.findall(r'<div class="chart">(.*?)</div>', html_text, re.S)
    assert len(charts) == 2
    assert all(c.lstrip().startswith("<svg") for c in charts)
    assert "Credits per year, all bundles: 72,000 tCO2e in total" in charts[0]
    assert "carbon price 10.0 USD/tCO2e" in charts[1]
    for b in ("B1", "B2", "B10"):  # bars coloured by bundle
        assert bundle_colors(["B1", "B2", "B10"])[b] in charts[1]


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
    report._cost_curve_html(bundles, facts, bundle_colors(bundles["bundle_id"]))
    assert seen["height"] == [3.0, 6.5, 11.25]  # B10, B1, B2
    assert seen["x"] == [0.0, 1500.0, 5500.0]  # cumulative credits
    assert seen["width"] == [1500.0, 4000.0, 2500.0]


def test_map_png_is_1600_wide_and_shows_the_bundles(written):
    folder, (_, bundles, *_rest) = written
    width, height = png_size(folder / "map.png")
    assert width == report.MAP_PNG_WIDTH_PX
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
    assert "Proven optimal by highs (termination optimal, bound 0.0, gap 0.00%)" in text
    assert page.facts["gap"] == "0.00%"
    assert len(page.unit_paths) == len(units)
    assert "No credits" in text and "no cost curve" in text
    assert '<path class="bundle"' not in html_text
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
    assert f"bound 175769.0, gap {undefined}" in " ".join(page.text)
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

    monkeypatch.setattr(report, "report_html", boom)
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
    assert html_text.count('<path class="unit"') == 3000
    assert len(html_text) < 2_000_000
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
    page.write_text(
        re.sub(r'<svg class="map".*?</svg>', "", html_text, flags=re.S), encoding="utf-8"
    )
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
    titles = {p["id"]: p["title"] for p in page.unit_paths}
    assert titles["U00"].startswith("U00 — not selected")


# ---------------------------------------------------------------- template and shared map frame


def test_page_comes_from_the_packaged_template_and_css(written):
    folder, _ = written
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    templates = resources.files("bundler.outputs") / "templates"
    css = (templates / "report.css").read_text(encoding="utf-8")
    assert (templates / "report.html.j2").is_file()
    assert f"<style>\n{css}</style>\n" in html_text
    assert html_text.startswith("<!DOCTYPE html>\n") and html_text.endswith("</html>\n")


def test_title_is_escaped_as_everywhere_else(tmp_path):
    units, bundles, tables, yearly, facts = report_inputs()
    facts = {**facts, "scenario_name": 'O\'B "x"'}
    page = report.report_html(units, bundles, tables, yearly, facts)
    # html.escape, as for every other text of the page (not markupsafe's &#39; / &#34;)
    assert "<title>Social Forestry carbon bundles: plan report (O&#x27;B &quot;x&quot;)" in page


def test_both_maps_draw_the_scale_bar_of_the_shared_frame(written):
    _, (units, bundles, *_rest) = written
    frame = report.map_frame(units, bundles)
    assert frame.bar is not None and frame.bar.label == "1 km"  # a fifth of 6 km, rounded
    assert frame.bar.length == 1000.0 and frame.pad == 0.02 * max(frame.w, frame.h)
    svg = report.map_svg(units, bundles, bundle_colors(bundles["bundle_id"]))
    assert f'text-anchor="middle">{frame.bar.label}</text></g>' in svg
    ax = report.map_figure(units, bundles, bundle_colors(bundles["bundle_id"])).axes[0]
    assert frame.bar.label in [t.get_text() for t in ax.texts]
    (line,) = ax.lines
    xs, ys = line.get_data()
    assert xs[0] == frame.minx and xs[1] - xs[0] == frame.bar.length
    assert ys[0] == frame.miny - 3 * frame.pad


def test_no_scale_bar_in_either_map_without_a_projected_crs(written):
    _, (units, bundles, *_rest) = written
    units, bundles = units.to_crs(4326), bundles.to_crs(4326)
    assert report.map_frame(units, bundles).bar is None
    svg = report.map_svg(units, bundles, bundle_colors(bundles["bundle_id"]))
    assert 'stroke-width="3"' not in svg
    assert not report.map_figure(units, bundles, bundle_colors(bundles["bundle_id"])).axes[0].lines
