"""Bahasa Indonesia (``--lang id``, scenario ``[report] lang``).

* The catalogue: every message the code and the report's template use (as Babel
  extracts them) has an Indonesian translation, the catalogue holds nothing unused,
  and each translation keeps its message's placeholders and colour tags.
* ``report.html`` in Indonesian shows none of the catalogue's English texts, its map
  speaks Indonesian and its numbers are written 1.234,5.
* ``priority.csv``'s ``why`` and the units' ``reason`` are Indonesian with ``--lang
  id`` (figures in the id_ID locale), the CSVs' numbers are the same as in English.
* The closing summaries of ``demo``, ``national`` and ``sweep`` are Indonesian; an
  unknown language is one clear error with exit code 2, on the command line and in a
  scenario file.
"""

from __future__ import annotations

import ast
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bundler.cli.commands import app
from bundler.config.scenario import load_scenario
from bundler.config.sharing import ScheduleSection
from bundler.economics.schedule import schedule_table
from bundler.errors import EXIT_OK, InputError
from bundler.i18n.catalogue import translator
from bundler.i18n.extract import PACKAGE, catalogue_file, extract_messages
from bundler.i18n.languages import LANGUAGES, LOCALES, SOURCE_LANGUAGE
from bundler.outputs.report import write_report
from bundler.planning.problem_builder import REASON_ISOLATED, reason_too_small
from bundler.synthetic.generator import generate_units, write_layer
from tests.report_fixtures import report_inputs

runner = CliRunner()
OTHER = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"\{[^{}]*\}|\[/?[a-z ]*\]")  # {name} and rich's [green] ... [/]


def catalogue(lang: str = "id"):
    with catalogue_file(lang).open("rb") as fh:
        return read_po(fh, locale=LOCALES[lang])


def english_phrases(lang: str = "id") -> set[str]:
    """The English texts a page in ``lang`` must not show: every stretch of two or more
    words between the placeholders of a message whose translation differs from it.

    Column names (context ``column``) are not among them: a header shows its label and
    keeps the column's name, as in the CSV files, in its ``title``.
    """
    out = set()
    for m in catalogue(lang):
        if not m.id or m.string == m.id or m.context == "column":
            continue
        for piece in PLACEHOLDER.split(m.id):
            piece = piece.strip(" .,:;()")
            if piece in m.string:  # the same in both languages, e.g. a list of file names
                continue
            if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2 and len(piece.split()) >= 2:
                out.add(piece)
    return out


# ---------------------------------------------------------------- the catalogue


@pytest.fixture(scope="module")
def used():
    return extract_messages()


@pytest.mark.parametrize("lang", OTHER)
def test_every_message_in_use_has_a_translation(used, lang):
    cat = catalogue(lang)
    missing = []
    for m in used:
        if not m.id:
            continue
        entry = cat.get(m.id, m.context)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(f"{m.context or ''}|{m.id!r} ({m.locations[0][0]})")
    assert len(used) > 200  # the extraction found the code's and the template's messages
    assert not missing, "untranslated (python -m bundler.i18n.extract, then translate):\n" + (
        "\n".join(missing)
    )


@pytest.mark.parametrize("lang", OTHER)
def test_the_catalogue_holds_nothing_unused(used, lang):
    unused = [
        f"{m.context or ''}|{m.id!r}"
        for m in catalogue(lang)
        if m.id and used.get(m.id, m.context) is None
    ]
    assert not unused, "no longer used (python -m bundler.i18n.extract drops them):\n" + (
        "\n".join(unused)
    )


@pytest.mark.parametrize("lang", OTHER)
def test_translations_keep_placeholders_and_write_no_markup(lang):
    for m in catalogue(lang):
        if not m.id:
            continue
        assert sorted(PLACEHOLDER.findall(m.string)) == sorted(PLACEHOLDER.findall(m.id)), m.id
        # the template marks translations safe: no character HTML would read that the
        # English text does not have (the Python side escapes what it writes)
        assert not (set('<>&"') & set(m.string)) - set(m.id), m.id


def test_no_message_is_hidden_from_the_extraction():
    """A gettext call inside an f-string is invisible to Babel (and so to the tests above)."""
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and (
                    getattr(call.func, "id", None) in ("_", "N_")
                    or getattr(call.func, "attr", None) in ("gettext", "pgettext")
                ):
                    hidden.append(f"{path.relative_to(PACKAGE)}:{call.lineno}")
    assert not hidden


def test_the_catalogue_ships_in_the_package_and_english_is_the_source():
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"bundler.i18n" = ["locales/*/LC_MESSAGES/*.po"]' in pyproject
    assert re.search(r'^\s*"babel>=2\.14",$', pyproject, re.M)
    assert translator("id").gettext("Map") == "Peta"
    assert translator("id").pgettext("column", "start_year") == "Tahun mulai"
    en = translator("en")
    assert en.gettext("Map") == "Map" and en.pgettext("column", "start_year") == "start_year"
    with pytest.raises(ValueError, match="en, id"):
        translator("fr")


def test_numbers_are_written_for_the_locale():
    en, id_ = translator("en"), translator("id")
    assert (en.number(1234567.891), id_.number(1234567.891)) == ("1,234,568", "1.234.568")
    assert (en.number(12.345), id_.number(12.345)) == ("12.35", "12,35")  # as f"{:.2f}"
    assert (en.number(0.0001234), id_.number(0.0001234)) == ("0.000123", "0,000123")
    assert (en.percent(0.052987), id_.percent(0.052987)) == ("5.30%", "5,30%")
    assert (en.exact(130000.0), id_.exact(130000.0)) == ("130000.0", "130000,0")
    assert id_.decimal(-1234.5, 1) == "-1.234,5"


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(st.floats(-1e15, 1e15, allow_nan=False), st.integers(-(10**12), 10**12)),
    digits=st.integers(0, 4),
    group=st.booleans(),
    lang=st.sampled_from(sorted(LANGUAGES)),
)
def test_decimals_are_babels_text_of_the_rounded_value(value, digits, group, lang):
    # Translator.decimal writes Python's rounding and grouping in the locale's symbols; the
    # text must be what Babel's format_decimal makes of the same rounded value
    tr = translator(lang)
    pattern = ("#,##0" if group else "0") + ("." + "0" * digits if digits else "")
    shown = value if isinstance(value, int) else float(value)
    expected = format_decimal(Decimal(f"{shown:.{digits}f}"), format=pattern, locale=tr.locale)
    assert tr.decimal(value, digits, group) == expected


# ---------------------------------------------------------------- texts with figures


def test_reasons_with_figures_are_translated_whole():
    en = reason_too_small(30.0, 10, 1234.4, 5000.0)
    assert en == (
        "no bundle can reach the minimum area: within bundling.max_radius_km = 30 km of a "
        "centre unit and with at most bundling.max_units = 10 units, the largest bundle its "
        "group allows has 1,234 ha, short of the 5,000 ha minimum"
    )
    text = reason_too_small(12.5, 0, 1234.4, 5000.0, "id")
    assert text == (
        "tidak ada bundel yang dapat mencapai luas minimum: dalam radius "
        "bundling.max_radius_km = 12,5 km dari unit pusat, bundel terbesar yang dimungkinkan "
        "kelompoknya hanya 1.234 ha, kurang dari minimum 5.000 ha"
    )


def test_the_priority_lists_why_in_indonesian():
    table = pd.DataFrame(
        {
            "bundle_id": ["A", "B", "C", "D"],
            "npv_usd": [3e6, 2e6, -1e6, 1e6],
            "upfront_usd": [1e5, 1e5, 1e5, 5e6],
            "n_units": [5, 5, 5, 5],
            "readiness": [0.5, 0.8, 0.5, 0.5],
            "forest_cover": [0.6, 0.6, 0.6, 0.6],
            "main_intervention": ["protect"] * 4,
        }
    )
    sec = ScheduleSection(documents_per_year=1)
    en, _ = schedule_table(table, sec, 0.07)
    out, _ = schedule_table(table, sec, 0.07, lang="id")
    assert out.drop(columns="why").equals(en.drop(columns="why"))  # same list, other words
    why = dict(zip(out["bundle_id"], out["why"], strict=True))
    assert why["A"] == "kesiapan 0,50, NPV 3,0 juta USD, ada kapasitas pada tahun ke-1"
    assert why["B"].startswith("kesiapan 0,80, NPV 2,0 juta USD, mulai pada tahun ke-2: tahun")
    assert why["C"] == "NPV -1,0 juta USD: tidak bernilai positif untuk dimulai pada tahun 1-5"
    assert why["D"] == "biaya awal 5,0 juta USD melebihi anggaran tahunan 1,0 juta USD"


# ---------------------------------------------------------------- report.html


class _Visible(HTMLParser):
    """What a reader sees: text outside scripts and styles, and the interface's attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title") and value:
                self.text.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def visible_text(html_text: str) -> str:
    page = _Visible()
    page.feed(html_text)
    return " ".join(" ".join(page.text).split())


def map_text(html_text: str) -> dict:
    found = re.search(r"var MAP_TEXT = (\{.*?\});\n", html_text, re.S)
    assert found, "no MAP_TEXT in the page"
    return json.loads(found.group(1))


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def english_left(text: str) -> list[str]:
    return sorted(p for p in english_phrases() if p in text)


FIXTURE_REASONS_ID = {"below minimum area": "di bawah luas minimum", "not ready": "belum siap"}


@pytest.fixture(scope="module")
def fixture_pages(tmp_path_factory):
    """The report fixture (and its empty plan) written in English and in Indonesian."""
    pages = {}
    for lang in ("en", "id"):
        for empty in (False, True):
            folder = tmp_path_factory.mktemp(f"report-{lang}-{empty}")
            units, bundles, tables, yearly, facts = report_inputs(empty=empty)
            # the data as a plan gives it: interventions as codes, reasons and the tables'
            # titles in the plan's language (the fixture's are English sentences)
            bundles = bundles.assign(main_intervention=["protect", "peat", "arr"][: len(bundles)])
            tables["Bundles"] = bundles.drop(columns="geometry")
            if lang == "id":
                units = units.assign(reason=units["reason"].replace(FIXTURE_REASONS_ID))
            tables = {translator(lang).gettext(t): df for t, df in tables.items()}
            if empty:
                facts = {k: v for k, v in facts.items() if k != "explanation"}
            write_report(folder, units, bundles, tables, yearly, facts, lang=lang)
            pages[lang, empty] = (folder / "report.html").read_text(encoding="utf-8")
    return pages


def test_the_english_report_shows_the_catalogues_texts(fixture_pages):
    # the check below would see English texts if there were any
    en = visible_text(fixture_pages["en", False] + fixture_pages["en", True])
    assert len(english_left(en)) > 20
    assert '<html lang="en">' in fixture_pages["en", False]


@pytest.mark.parametrize("empty", [False, True])
def test_the_indonesian_report_shows_no_english_text(fixture_pages, empty):
    html_text = fixture_pages["id", empty]
    assert '<html lang="id">' in html_text
    text = visible_text(html_text)
    shown = " ".join(_strings(map_text(html_text)))
    assert not english_left(text + " " + shown)
    assert "Alasan unit tidak dipilih" in text and "Keterangan proses" in text
    if empty:
        assert "Tidak ada bundel yang dipilih: rencana ini tidak memiliki proyek karbon." in text
        assert "Terbukti optimal oleh highs" in text
    else:
        assert "Tidak terbukti optimal oleh highs: status akhir feasible, batas 130.000" in text
        assert "celah 5,30%" in text
        assert "Kurva biaya bundel" in html_text and "Tahun" in html_text  # the charts


def test_the_indonesian_map_speaks_indonesian(fixture_pages):
    en, id_ = map_text(fixture_pages["en", False]), map_text(fixture_pages["id", False])
    assert (en["locale"], id_["locale"]) == ("en-US", "id-ID")
    tr = translator("id")
    del en["locale"], id_["locale"]
    pairs = list(zip(_strings(en), _strings(id_), strict=True))
    assert all(tr.gettext(e) == i for e, i in pairs)
    changed = [e for e, i in pairs if e != i]
    assert len(changed) >= 45
    assert id_["fields"]["start_year"] == "Tahun mulai" and id_["search_button"] == "Cari"


def test_the_indonesian_reports_numbers_and_headers(fixture_pages):
    html_text = fixture_pages["id", False]
    text = visible_text(html_text)
    assert "780.000" in text and "780,000" not in text  # a table's figure, id_ID
    assert '<th scope="col" title="npv_usd">NPV (USD)</th>' in html_text
    assert "Kredit per tahun, semua bundel: total 72.000 tCO2e" in html_text
    # the map's panel: figures formatted for the locale
    data = json.loads(
        re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html_text).group(
            1
        )
    )
    figures = [f for row in data["bundles"]["fig"] for f in row]
    assert {"4.000", "400,00", "6,50"} <= set(figures)


# ---------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    """``psbundle demo`` in English and in Indonesian (heuristic: quick)."""
    out = {}
    for lang in ("en", "id"):
        folder = tmp_path_factory.mktemp(f"demo-{lang}") / "demo"
        args = ["demo", "--out", str(folder), "--solver", "heuristic", "--time-limit", "5"]
        result = runner.invoke(app, [*args, "--lang", lang])
        assert result.exit_code == EXIT_OK, result.output
        out[lang] = (folder, " ".join(result.output.split()))
    return out


def test_demo_closing_summary_is_indonesian(demos):
    _, output = demos["id"]
    summary = output.split("Rencana", 1)[1]  # the closing summary: the plan table on
    for text in ("fungsi tujuan", "status akhir", "luas dalam bundel", "rencana ditulis ke"):
        assert text in summary
    assert "demo ditulis ke" in summary and "dan berkas rencana di atas" in summary
    assert re.search(r"\d{1,3}(\.\d{3})+ ha", summary)  # 18.722 ha
    assert re.search(r"\d+,\d detik", summary)
    assert not english_left(summary), english_left(summary)
    _, english = demos["en"]
    assert "area in bundles" in english and "demo written to" in english


def test_demo_priority_and_reasons_are_indonesian_the_numbers_unchanged(demos):
    (en_dir, _), (id_dir, _) = demos["en"], demos["id"]
    en = pd.read_csv(en_dir / "priority.csv")
    id_ = pd.read_csv(id_dir / "priority.csv")
    pd.testing.assert_frame_equal(en.drop(columns="why"), id_.drop(columns="why"))
    assert len(id_) and (en["why"] != id_["why"]).all()
    assert not english_left(" ".join(id_["why"]))
    # CSV figures keep a decimal point
    assert "," not in (id_dir / "bundles.csv").read_text().splitlines()[1].split(",")[2]
    en_units = gpd.read_file(en_dir / "plan.gpkg", layer="units", read_geometry=False)
    id_units = gpd.read_file(id_dir / "plan.gpkg", layer="units", read_geometry=False)
    assert (en_units["bundle_id"] == id_units["bundle_id"]).all()
    given = id_units["reason"].fillna("") != ""
    assert given.any() and not english_left(" ".join(id_units.loc[given, "reason"]))
    assert (en_units.loc[given, "reason"] != id_units.loc[given, "reason"]).all()
    isolated = en_units["reason"] == REASON_ISOLATED
    assert (id_units.loc[isolated, "reason"] == translator("id").gettext(REASON_ISOLATED)).all()
    page = (id_dir / "report.html").read_text(encoding="utf-8")
    before_facts = page.split('<h2 id="facts">')[0]  # run facts hold the layer's warnings
    assert not english_left(visible_text(before_facts))
    assert "Daftar prioritas lima tahun" in page and "terlalu terpencil" in page


@pytest.mark.parametrize("command", ["plan", "demo", "national", "sweep"])
def test_an_unknown_language_is_one_clear_error(tmp_path, command):
    args = {
        "plan": ["plan", "layer.gpkg", "--out", str(tmp_path / "o")],
        "demo": ["demo", "--out", str(tmp_path / "o")],
        "national": ["national", "layer.gpkg", "--out", str(tmp_path / "o")],
        "sweep": ["sweep", "layer.gpkg", "--out", str(tmp_path / "o"), "--grid", "price=5"],
    }[command]
    result = runner.invoke(app, [*args, "--lang", "fr"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--lang" in errors[0] and "'en', 'id'" in result.output
    assert not (tmp_path / "o").exists()
    assert "Bahasa Indonesia" in runner.invoke(app, [command, "--help"]).output


def test_the_scenario_key_is_checked_and_used(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[report]\nlang = "fr"\n')
    with pytest.raises(InputError) as caught:
        load_scenario(bad)
    assert "report.lang: must be one of en, id; got 'fr'" in str(caught.value.problems)
    result = runner.invoke(app, ["scenario", str(bad)])
    assert result.exit_code == 2 and "report.lang" in result.output
    good = tmp_path / "good.toml"
    good.write_text('[report]\nlang = "id"\n')
    assert load_scenario(good).report.lang == "id"
    assert load_scenario(None).report.lang == "en"


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    """Two generated provinces, 80 units."""
    path = tmp_path_factory.mktemp("i18n-layer") / "units.gpkg"
    write_layer(generate_units(80, seed=5, n_provinces=2), path)
    return path


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as c:
        yield c


def test_national_in_indonesian(layer, cluster, tmp_path):
    out = tmp_path / "national"
    result = runner.invoke(
        app,
        ["national", str(layer), "--out", str(out), "--cache", str(tmp_path / "cache"),
         "--solver", "heuristic", "--time-limit", "2", "--carbon-price", "15",
         "--scheduler", cluster.scheduler_address, "--lang", "id"],
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    output = " ".join(result.output.split()).split("Provinsi", 1)[1]  # the closing summary
    assert "proses nasional ditulis ke" in output and "Potensi menurut intervensi" in output
    assert "perlindungan hutan" in output and not english_left(output)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Bundel karbon Perhutanan Sosial: laporan nasional" in page
    assert not english_left(visible_text(page.split('<h2 id="facts">')[0]))
    why = pd.read_csv(out / "priority.csv")["why"]
    assert len(why) and not english_left(" ".join(why))
    units = gpd.read_file(out / "plan.gpkg", layer="units", read_geometry=False)
    reasons = units["reason"].dropna()
    assert len(reasons[reasons != ""]) and not english_left(" ".join(reasons))


def test_sweep_in_indonesian(layer, cluster, tmp_path):
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        ["sweep", str(layer), "--out", str(out), "--cache", str(tmp_path / "cache"),
         "--grid", "price=15", "--solver", "heuristic", "--time-limit", "2",
         "--scheduler", cluster.scheduler_address, "--lang", "id"],
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    output = " ".join(result.output.split())
    assert "Perbandingan skenario" in output and "perbandingan skenario ditulis ke" in output
    output = output.split("Perbandingan skenario", 1)[1]  # the closing summary
    assert not english_left(output)
    why = pd.read_csv(Path(out) / "scenarios" / "price=15" / "priority.csv")["why"]
    assert len(why) and not english_left(" ".join(why))
