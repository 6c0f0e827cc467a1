"""The messages the code and the report's template use, as Babel extracts them.

For the tests (every message has a translation, the catalogue holds nothing unused)
and for updating a catalogue after messages change::

    python -m bundler.i18n.extract id   # bundler/i18n/locales/id/LC_MESSAGES/psbundle.po

New messages are added with an empty translation (fill it in), changed or dropped
ones are removed; the existing translations are kept.

Python modules mark messages with ``_("...")`` (``_ = translator(lang).gettext``),
``tr.gettext("...")``, ``tr.pgettext("column", "...")`` or, for module-level texts
translated later, ``N_("...")``; the template with ``_("...")``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bundler.i18n.languages import DOMAIN, LANGUAGES, LOCALES, SOURCE_LANGUAGE

PACKAGE = Path(__file__).resolve().parents[1]
METHODS = [
    ("**/templates/**.j2", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.j2": {"trim_blocks": "true"}}


def extract_messages(root: Path = PACKAGE) -> Catalog:
    """Every message marked for translation under ``root`` (the ``bundler`` package).

    Returns
    -------
    babel.messages.catalog.Catalog
        Keyed by message (and context), each with the places that use it.
    """
    catalog = Catalog(domain=DOMAIN, project="ps-bundler", fuzzy=False)
    found = extract_from_dir(
        root, METHODS, OPTIONS, keywords=DEFAULT_KEYWORDS, comment_tags=("TRANSLATORS:",)
    )
    for filename, lineno, message, comments, context in found:
        where = (f"{root.name}/{Path(filename).as_posix()}", lineno)
        known = catalog.get(message, context)
        if known is not None:
            known.locations.append(where)
            continue
        catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def catalogue_file(lang: str, root: Path = PACKAGE) -> Path:
    """The source tree's catalogue file of ``lang``."""
    return root / "i18n" / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def update_catalogue(lang: str) -> Path:
    """Bring the catalogue of ``lang`` in line with the code's messages; return its path."""
    path = catalogue_file(lang)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=LOCALES[lang], domain=DOMAIN)
    catalog.update(extract_messages(), no_fuzzy_matching=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, ignore_obsolete=True, sort_output=False)
    return path


def main(argv: list[str]) -> int:
    """``python -m bundler.i18n.extract LANG ...``: update those catalogues."""
    langs = argv or [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
    for lang in langs:
        print(update_catalogue(lang))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
