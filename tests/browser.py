"""Headless Chromium for the report: the browser tests, the README's screenshot, the benchmark.

Debian's ``chromium`` and ``chromedriver`` driven by Selenium, with the page's console
log kept (``goog:loggingPrefs``) and the network switched off, so a report that
needed anything from outside would show it. The README's screenshot is made here::

    python -m tests.browser docs/report-screenshot.png

which runs ``psbundle demo`` into a scratch folder and saves the map of its report
with the demo's first bundle selected (:func:`save_report_screenshot`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
)
READY = "var m = document.getElementById('ps-map'); return m && m.getAttribute('data-ready');"


def chromium_paths() -> tuple[str, str] | None:
    """``(chromium, chromedriver)`` executables, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(width: int = 1400, height: int = 1000) -> webdriver.Chrome:
    """A headless Chromium with its console log kept and no network.

    Parameters
    ----------
    width, height : int
        Window size in CSS pixels.

    Returns
    -------
    selenium.webdriver.Chrome
        Call ``quit()`` when done.
    """
    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium and chromedriver are needed (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the driver's own path: Selenium then never looks for (or downloads) another one
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    return driver


def open_report(driver: webdriver.Chrome, page: Path, timeout: float = 120.0) -> float:
    """Load ``page`` and wait until its map has drawn its first frame.

    Returns
    -------
    float
        Seconds from the request to the map's ``data-ready`` attribute.
    """
    start = time.perf_counter()
    driver.get(Path(page).resolve().as_uri())
    WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: d.execute_script(READY))
    return time.perf_counter() - start


def console_messages(driver: webdriver.Chrome) -> list[dict]:
    """Every console message since the last call (each ``level``, ``message``, ``source``)."""
    return driver.get_log("browser")


def find(driver: webdriver.Chrome, text: str) -> None:
    """Type ``text`` into the map's search box and press Enter."""
    box = driver.find_element(By.ID, "map-q")
    box.clear()
    box.send_keys(text, Keys.ENTER)


def save_report_screenshot(
    page: Path, out: Path, select: str | None = None, width: int = 1280, height: int = 900
) -> Path:
    """A PNG of the report's map (with its tools and legend), as a reader sees it.

    Parameters
    ----------
    page : Path
        A ``report.html``.
    out : Path
        The PNG to write.
    select : str, optional
        A bundle or unit id to find first, so its panel shows.
    width, height : int
        Browser window, CSS pixels.

    Returns
    -------
    Path
        ``out``.
    """
    driver = start_chromium(width, height)
    try:
        open_report(driver, page)
        if select:
            find(driver, select)
            driver.execute_script("document.activeElement.blur()")  # no caret in the picture
        # one frame for the zoom and the panel, then the figure as it is on screen
        driver.execute_script("return new Promise(r => requestAnimationFrame(() => r()))")
        figure = driver.find_element(By.CSS_SELECTOR, "figure.mapfig")
        driver.execute_script("arguments[0].scrollIntoView()", figure)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        figure.screenshot(str(out))
    finally:
        driver.quit()
    return Path(out)


def demo_screenshot(out: Path) -> Path:
    """Run ``psbundle demo`` in a scratch folder and save its map with bundle B001 selected."""
    with tempfile.TemporaryDirectory(prefix="psbundle-shot-") as tmp:
        folder = Path(tmp) / "demo"
        subprocess.run(
            [sys.executable, "-m", "bundler.cli", "demo", "--out", str(folder)],
            check=True,
            capture_output=True,
        )
        return save_report_screenshot(folder / "report.html", out, select="B001")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Screenshot of the demo report's map.")
    ap.add_argument("out", type=Path, nargs="?", default=Path("docs/report-screenshot.png"))
    print(demo_screenshot(ap.parse_args(argv).out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
