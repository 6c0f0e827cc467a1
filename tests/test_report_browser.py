"""The report's interactive map in a real browser: headless Chromium through Selenium.

A plan made with the command line on a small generated layer, opened offline: the map
draws every unit, zooms (wheel, keys, buttons, pinch) and pans, a click on a bundle
shows the figures of ``bundles.csv`` and ``benefit_sharing.csv``, the search box and
the tables' links select what they name, layers switch, and the console stays clean.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from typer.testing import CliRunner

from bundler.cli.commands import app
from bundler.outputs.report import write_report
from bundler.outputs.report.cells import fmt_num
from bundler.outputs.report.static_map import bundle_colors
from tests import browser
from tests.report_fixtures import NASTY_ID, report_inputs

pytestmark = pytest.mark.skipif(
    browser.chromium_paths() is None,
    reason="chromium and chromedriver are not installed (Debian: apt-get install chromium "
    "chromium-driver)",
)


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """``psbundle generate`` then ``psbundle plan``: 400 units, six bundles."""
    tmp = tmp_path_factory.mktemp("browser-plan")
    runner = CliRunner()
    layer, out = tmp / "layer.gpkg", tmp / "plan"
    args = [
        ["generate", "--units", "400", "--seed", "7", "--out", str(layer)],
        ["plan", str(layer), "--out", str(out), "--carbon-price", "20", "--solver", "heuristic"],
    ]
    for a in args:
        result = runner.invoke(app, a)
        assert result.exit_code == 0, result.output
    bundles = pd.read_csv(out / "bundles.csv", dtype={"bundle_id": str, "start_year": str})
    assert len(bundles) >= 3, "the test wants a few bundles to choose from"
    return out


@pytest.fixture(scope="module")
def driver():
    d = browser.start_chromium(1400, 1000)
    yield d
    d.quit()


@pytest.fixture
def page(driver, plan):
    """The plan's report, loaded and drawn, its console log emptied; checked clean after."""
    browser.open_report(driver, plan / "report.html")
    browser.console_messages(driver)
    yield driver
    problems = [m for m in browser.console_messages(driver) if m["level"] in ("SEVERE", "WARNING")]
    assert problems == []


# ---------------------------------------------------------------- helpers


def view_state(d) -> tuple[float, float, float]:
    """``(k, tx, ty)`` of the map's zoomed group: screen = grid * k + t."""
    t = d.execute_script(
        "return document.querySelector('svg.map g.world').getAttribute('transform')"
    )
    k, _, _, _, tx, ty = (float(v) for v in re.findall(r"-?[\d.e+-]+", t))
    return k, tx, ty


def frame(d) -> None:
    """Wait for the next two animation frames (the map redraws in one)."""
    d.execute_async_script(
        "var done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));"
    )


def view_rect(d) -> dict:
    return d.execute_script(
        "var r = document.querySelector('.map-view').getBoundingClientRect();"
        "return {x: r.left, y: r.top, w: r.width, h: r.height};"
    )


def map_data(d) -> dict:
    return d.execute_script("return JSON.parse(document.getElementById('map-data').textContent)")


def point_in_unit(d, unit_index: int) -> tuple[float, float] | None:
    """Client coordinates of a point of the unit's drawn shape that a click there hits."""
    return d.execute_script(
        """
        document.querySelector('.map-view').scrollIntoView();
        var want = arguments[0], p = null;
        document.querySelectorAll('svg.map path').forEach(e => { if (e.psUnit === want) p = e; });
        if (!p) return null;
        var b = p.getBBox(), m = p.getScreenCTM();
        for (var i = 1; i < 24; i++) for (var j = 1; j < 24; j++) {
          var pt = new DOMPoint(b.x + b.width * i / 24, b.y + b.height * j / 24);
          if (!p.isPointInFill(pt)) continue;
          var s = pt.matrixTransform(m), x = Math.round(s.x), y = Math.round(s.y);
          if (document.elementFromPoint(x, y) === p) return [x, y];  // clicks land on pixels
        }
        return null;
        """,
        unit_index,
    )


def click_at(d, x: float, y: float) -> None:
    """A mouse click at client coordinates ``(x, y)`` (over the map)."""
    r = view_rect(d)
    dx, dy = round(x - (r["x"] + r["w"] / 2)), round(y - (r["y"] + r["h"] / 2))
    view = d.find_element(By.CSS_SELECTOR, ".map-view")
    ActionChains(d).move_to_element_with_offset(view, dx, dy).click().perform()
    frame(d)


def panel(d) -> dict:
    """The open panel: ``title``, ``figures`` (key -> text) and ``shares`` (party -> cells)."""
    return d.execute_script(
        """
        var p = document.querySelector('.map-panel');
        if (p.hidden) return null;
        var figures = {}, shares = {}, links = [];
        p.querySelectorAll('dd[data-key]').forEach(e => {
          figures[e.dataset.key] = e.textContent;
        });
        p.querySelectorAll('tr[data-party]').forEach(tr => {
          shares[tr.dataset.party] = Array.from(tr.cells).map(c => c.textContent);
        });
        p.querySelectorAll('a.to-table').forEach(a => links.push(a.getAttribute('href')));
        return {title: p.querySelector('h3').textContent, figures: figures, shares: shares,
                links: links, text: p.textContent};
        """
    )


def selected(d) -> str | None:
    return d.find_element(By.ID, "ps-map").get_attribute("data-selected")


# ---------------------------------------------------------------- drawing


def test_map_draws_every_unit_offline_without_console_messages(page, plan):
    units = gpd.read_file(plan / "plan.gpkg", layer="units")
    in_bundle = units["bundle_id"].fillna("").ne("")
    counts = page.execute_script(
        "var n = s => document.querySelectorAll('svg.map ' + s).length;"
        "return {unselected: n('.unselected path'), bundled: n('.bundled path'),"
        " outlines: n('.outlines path'), labels: n('.labels text'),"
        " districts: n('.districts path')};"
    )
    bundles = pd.read_csv(plan / "bundles.csv", dtype={"bundle_id": str})
    assert counts["unselected"] == int((~in_bundle).sum())
    assert counts["bundled"] == int(in_bundle.sum())
    assert counts["outlines"] == counts["labels"] == len(bundles)
    assert counts["districts"] >= 1  # the generated layer has NAMA_KAB
    # the map fills its box: the whole layer, centred
    k, tx, ty = view_state(page)
    grid = map_data(page)["grid"]
    r = view_rect(page)
    assert math.isclose(k, min(r["w"] / grid[0], r["h"] / grid[1]), rel_tol=0.02)
    assert min(tx, ty) >= -1 and tx + grid[0] * k <= r["w"] + 1
    # the scale bar: a round length about 120 px long at this zoom
    mpp = map_data(page)["step_m"] / k
    nice = max(m * 10**e for e in range(9) for m in (1, 2, 5) if m * 10**e <= 120 * mpp)
    bar = page.execute_script(
        "return [document.querySelector('.map-scale-bar').getBoundingClientRect().width,"
        " document.querySelector('.map-scale-label').textContent]"
    )
    assert bar[0] == pytest.approx(nice / mpp, abs=0.1)
    assert bar[1] == (f"{nice // 1000:,} km" if nice >= 1000 else f"{nice} m")
    # the whole console, not only errors: the map writes nothing there
    assert browser.console_messages(page) == []


def test_console_check_sees_errors(driver, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>'
        '<script>console.error("deliberate failure marker"); undefinedFunction();</script>'
        "</body></html>",
        encoding="utf-8",
    )
    driver.get(bad.as_uri())
    messages = browser.console_messages(driver)
    assert any("deliberate failure marker" in m["message"] for m in messages)
    assert any(m["level"] == "SEVERE" and "undefinedFunction" in m["message"] for m in messages)


# ---------------------------------------------------------------- zoom and pan


def test_wheel_zooms_about_the_pointer(page):
    k0, tx0, ty0 = view_state(page)
    r = view_rect(page)
    view = page.find_element(By.CSS_SELECTOR, ".map-view")
    page.execute_script("arguments[0].scrollIntoView()", view)
    ActionChains(page).scroll_from_origin(ScrollOrigin.from_element(view, 0, 0), 0, -300).perform()
    frame(page)
    k1, tx1, ty1 = view_state(page)
    assert k1 > k0 * 1.5
    # the grid point under the pointer (the view's centre) stays where it was
    r = view_rect(page)
    cx, cy = r["w"] / 2, r["h"] / 2
    assert abs((cx - tx0) / k0 - (cx - tx1) / k1) * k1 < 1.5
    assert abs((cy - ty0) / k0 - (cy - ty1) / k1) * k1 < 1.5
    # the page itself did not scroll with the wheel
    assert abs(view_rect(page)["y"] - r["y"]) < 1


def test_keys_and_buttons_zoom_and_pan(page):
    view = page.find_element(By.CSS_SELECTOR, ".map-view")
    k0, tx0, ty0 = view_state(page)
    view.send_keys("+")
    frame(page)
    assert math.isclose(view_state(page)[0], k0 * 1.5, rel_tol=1e-6)
    view.send_keys("-")
    frame(page)
    assert math.isclose(view_state(page)[0], k0, rel_tol=1e-6)
    view.send_keys(Keys.ARROW_LEFT)
    frame(page)
    assert math.isclose(view_state(page)[1], tx0 + 80, abs_tol=0.01)
    page.find_element(By.CSS_SELECTOR, "button[data-zoom='in']").click()
    frame(page)
    assert view_state(page)[0] > k0 * 1.4
    page.find_element(By.CSS_SELECTOR, "button[data-zoom='reset']").click()
    frame(page)
    assert view_state(page) == pytest.approx((k0, tx0, ty0), abs=1e-6)


def test_drag_pans_without_selecting(page):
    k0, tx0, ty0 = view_state(page)
    view = page.find_element(By.CSS_SELECTOR, ".map-view")
    page.execute_script("arguments[0].scrollIntoView()", view)
    ActionChains(page).move_to_element(view).click_and_hold().move_by_offset(60, 30).move_by_offset(
        60, 30
    ).release().perform()
    frame(page)
    k1, tx1, ty1 = view_state(page)
    assert k1 == k0
    assert math.isclose(tx1 - tx0, 120, abs_tol=1) and math.isclose(ty1 - ty0, 60, abs_tol=1)
    assert selected(page) is None


def test_pinch_zooms(page):
    view = page.find_element(By.CSS_SELECTOR, ".map-view")
    page.execute_script("arguments[0].scrollIntoView()", view)
    r = view_rect(page)
    cx, cy = r["x"] + r["w"] / 2, r["y"] + r["h"] / 2
    k0 = view_state(page)[0]
    page.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})

    def touch(kind, spread):
        points = [] if spread is None else [(cx - spread, cy), (cx + spread, cy)]
        page.execute_cdp_cmd(
            "Input.dispatchTouchEvent",
            {
                "type": kind,
                "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
            },
        )

    touch("touchStart", 50)
    for spread in (70, 90, 110, 130, 150):
        touch("touchMove", spread)
    touch("touchEnd", None)
    frame(page)
    page.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    assert math.isclose(view_state(page)[0], k0 * 3, rel_tol=0.05)  # fingers 3x further apart
    assert selected(page) is None


# ---------------------------------------------------------------- panels


def expected_figure(value) -> str:
    """A bundles.csv value as the panel (and the report's tables) write it."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return fmt_num(int(value))
    return fmt_num(float(value))


def test_click_on_a_bundle_shows_its_figures_from_bundles_csv(page, plan):
    bundles = pd.read_csv(plan / "bundles.csv", dtype={"bundle_id": str, "start_year": str})
    sharing = pd.read_csv(plan / "benefit_sharing.csv", dtype={"bundle_id": str})
    data = map_data(page)
    for b in (0, len(bundles) - 1):
        row = bundles.iloc[b]
        bundle = data["bundles"]["id"].index(row["bundle_id"])
        at = None
        for member in data["bundles"]["members"][bundle]:
            at = point_in_unit(page, member)
            if at:
                break
        assert at is not None, "no clickable point in the bundle's units"
        click_at(page, *at)
        assert selected(page) == f"bundle:{row['bundle_id']}"
        shown = panel(page)
        assert shown["title"] == f"Bundle {row['bundle_id']}"
        keys = (
            "n_units",
            "area_ha",
            "credits_tco2e_yr",
            "npv_usd",
            "cost_per_tco2e",
            "main_intervention",
            "start_year",
            "priority_rank",
        )
        assert {k: shown["figures"][k] for k in keys} == {k: expected_figure(row[k]) for k in keys}
        mine = sharing[sharing["bundle_id"] == row["bundle_id"]]
        for party, rows in mine.groupby("party"):
            _, amount, share = shown["shares"][party]
            assert float(amount.replace(",", "")) == pytest.approx(rows["amount_usd"].sum(), abs=1)
            # the CSV rounds each row's share to 0.01, the panel the sum to 0.1%
            off = 0.005 * len(rows) + 0.0005
            assert float(share.rstrip("%")) / 100 == pytest.approx(rows["share"].sum(), abs=off)
        assert shown["shares"]["investor"][0] == "Investor"
        # the panel links back to the bundle's row in each table that lists it
        for href in shown["links"]:
            assert (
                page.find_element(By.ID, href[1:]).get_attribute("data-bundle") == row["bundle_id"]
            )
        assert len(shown["links"]) == 3  # priority list, bundles, benefit sharing


def test_click_on_a_unit_in_no_bundle_shows_its_scores_and_reason(page, plan):
    units = gpd.read_file(plan / "plan.gpkg", layer="units")
    data = map_data(page)
    free = units.index[units["bundle_id"].fillna("").eq("")]
    i, at = next((i, at) for i in free if (at := point_in_unit(page, int(i))))
    click_at(page, *at)
    unit = units.loc[i]
    assert selected(page) == f"unit:{unit['unit_id']}"
    shown = panel(page)
    assert shown["figures"]["reason"] == unit["reason"]
    assert shown["figures"]["readiness"] == f"{unit['readiness']:.2f}"
    assert shown["figures"]["additionality"] == f"{unit['additionality']:.2f}"
    assert shown["figures"]["potential_tco2e_yr"] == f"{unit['potential_tco2e_yr']:,.0f}"
    assert shown["figures"]["typology"] == unit["typology"]
    assert "In no bundle." in shown["text"]
    assert data["units"]["id"][i] == unit["unit_id"]


def test_search_finds_a_unit_and_zooms_to_it(page, plan):
    units = gpd.read_file(plan / "plan.gpkg", layer="units")
    unit = units[units["bundle_id"].fillna("").eq("")].iloc[-1]
    k0 = view_state(page)[0]
    browser.find(page, unit["unit_id"])
    frame(page)
    assert selected(page) == f"unit:{unit['unit_id']}"
    assert panel(page)["title"] == f"Unit {unit['unit_id']}"
    assert view_state(page)[0] > 2 * k0
    # it is highlighted, and on screen
    data = map_data(page)
    i = data["units"]["id"].index(unit["unit_id"])
    box = page.execute_script(
        "var r = document.querySelector('svg.map .selection path.line');"
        "var b = r.getBoundingClientRect(); return [r.getAttribute('d'), b.left, b.top, b.right,"
        " b.bottom];"
    )
    assert box[0] == data["units"]["d"][i]
    r = view_rect(page)
    assert r["x"] <= box[1] and box[3] <= r["x"] + r["w"]
    assert r["y"] <= box[2] and box[4] <= r["y"] + r["h"]


def test_search_finds_a_bundled_unit_a_bundle_or_says_no(page, plan):
    bundles = pd.read_csv(plan / "bundles.csv", dtype={"bundle_id": str})
    member = bundles.iloc[1]["unit_ids"].split(";")[0]
    browser.find(page, member)
    shown = panel(page)
    assert shown["title"] == f"Unit {member}"
    assert shown["figures"]["bundle"] == bundles.iloc[1]["bundle_id"]
    # the bundle link in the unit's panel selects the bundle
    page.find_element(By.CSS_SELECTOR, ".map-panel a.to-map").click()
    assert selected(page) == f"bundle:{bundles.iloc[1]['bundle_id']}"
    browser.find(page, bundles.iloc[0]["bundle_id"].lower())  # ids match regardless of case
    assert selected(page) == f"bundle:{bundles.iloc[0]['bundle_id']}"
    browser.find(page, "no-such-unit")
    message = page.find_element(By.CSS_SELECTOR, ".map-msg").text
    assert message == "No unit or bundle has the id “no-such-unit”."
    assert selected(page) == f"bundle:{bundles.iloc[0]['bundle_id']}"  # unchanged


def test_table_row_selects_its_bundle_and_the_panel_links_back(page, plan):
    bundles = pd.read_csv(plan / "bundles.csv", dtype={"bundle_id": str})
    target = bundles.iloc[-1]["bundle_id"]
    heading = page.find_element(By.XPATH, "//h2[text()='Bundles']")
    table = heading.get_attribute("id")
    row = page.find_element(By.CSS_SELECTOR, f"tr[id^='{table}-r'][data-bundle='{target}']")
    link = row.find_element(By.CSS_SELECTOR, "a.to-map")
    page.execute_script("arguments[0].scrollIntoView()", link)
    link.click()
    frame(page)
    assert selected(page) == f"bundle:{target}"
    # the map came into view, zoomed to the bundle
    assert (
        abs(
            page.execute_script("return document.getElementById('map').getBoundingClientRect().top")
        )
        < 5
    )
    data = map_data(page)
    x0, y0, x1, y1 = data["bundles"]["box"][data["bundles"]["id"].index(target)]
    k, tx, ty = view_state(page)
    r = view_rect(page)
    assert x0 * k + tx >= 0 and x1 * k + tx <= r["w"]
    assert y0 * k + ty >= 0 and y1 * k + ty <= r["h"]
    assert (x1 - x0) * k > 0.3 * r["w"] or (y1 - y0) * k > 0.3 * r["h"]
    back = f"#{row.get_attribute('id')}"
    assert back in panel(page)["links"]
    page.find_element(By.CSS_SELECTOR, f".map-panel a[href='{back}']").click()
    assert page.execute_script("return location.hash") == back
    top = page.execute_script("return arguments[0].getBoundingClientRect().top", row)
    assert 0 <= top < 1000


def test_layers_switch(page):
    assert page.find_elements(By.CSS_SELECTOR, "input[data-layer='excluded']") == []
    shown = "return getComputedStyle(document.querySelector('svg.map .' + arguments[0])).display"
    for layer, group in (
        ("unselected", "unselected"),
        ("districts", "districts"),
        ("bundles", "bundled"),
    ):
        box = page.find_element(By.CSS_SELECTOR, f"input[data-layer='{layer}']")
        assert box.is_selected()
        box.click()
        assert page.execute_script(shown, group) == "none"
        box.click()
        assert page.execute_script(shown, group) != "none"


def test_excluded_units_get_their_own_layer(driver, tmp_path):
    units, bundles, tables, yearly, facts = report_inputs()
    units["excluded"] = units["unit_id"].isin(["U05", "U15"])
    write_report(tmp_path, units, bundles, tables, yearly, facts)
    browser.open_report(driver, tmp_path / "report.html")
    assert driver.find_element(By.CSS_SELECTOR, "input[data-layer='excluded']").is_selected()
    assert driver.find_elements(By.CSS_SELECTOR, "input[data-layer='districts']") == []
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.map .excluded path")) == 2
    browser.find(driver, "U15")
    assert "Excluded before planning." in panel(driver)["text"]
    # an id that needs escaping is found and shown as text
    browser.find(driver, NASTY_ID)
    assert panel(driver)["title"] == f"Unit {NASTY_ID}"
    colors = bundle_colors(bundles["bundle_id"])
    fills = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.map .bundled > g'))"
        ".map(g => g.getAttribute('fill'))"
    )
    assert fills == list(colors.values())
    assert [m for m in browser.console_messages(driver) if m["level"] == "SEVERE"] == []


def test_screenshot_of_the_map(plan, tmp_path):
    out = browser.save_report_screenshot(plan / "report.html", tmp_path / "shot.png", "B001")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rgb = (mpimg.imread(out)[..., :3] * 255).round().astype(int)
    assert rgb.shape[1] > 1000
    colour = bundle_colors(["B001"])["B001"]
    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(rgb - want).max(axis=-1) <= 6).sum() > 2000  # the bundle, zoomed to
