"""The languages ps-bundler writes its reports and summaries in, without loading Babel.

English is the source language: every message in the code is an English string, and
the catalogue (``locales/<lang>/LC_MESSAGES/psbundle.po``) gives its translation.
The scenario (``[report] lang``) and ``--lang`` take one of :data:`LANGUAGES`.
"""

from __future__ import annotations

# the gettext domain: the catalogue's file name
DOMAIN = "psbundle"
SOURCE_LANGUAGE = "en"
# language code -> the Babel (CLDR) locale its numbers are written in
LOCALES = {"en": "en_US", "id": "id_ID"}
LANGUAGES = tuple(LOCALES)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    """``message`` unchanged: marks a module-level text for the catalogue, translated at use."""
    return message
