"""Messages and numbers in the reader's language: the catalogue, through Babel and gettext.

:func:`translator` gives a :class:`Translator` for a language of
:data:`~bundler.i18n.languages.LANGUAGES`. Its ``gettext`` and ``pgettext`` look an
English message up in the catalogue ``locales/<lang>/LC_MESSAGES/psbundle.po``,
which ships as text and is compiled in memory with Babel's ``pofile`` and ``mofile``
on first use (no build step, nothing to go stale). Its number methods write numbers
as the language's locale does (``1,234.5`` in English, ``1.234,5`` in Indonesian):
the figures are rounded as Python's own formats round them, then written by
``babel.numbers``.

Messages with figures keep named placeholders in the catalogue and are filled in
after translation (``_("{n} units").format(n=...)``), so a translator can move a
figure within the sentence and no sentence is glued together from pieces.
"""

from __future__ import annotations

import functools
import gettext
import io
import math
import numbers
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from babel.messages import mofile, pofile
from babel.numbers import (
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)
from babel.support import Translations

from bundler.i18n.languages import DOMAIN, LANGUAGES, LOCALES, SOURCE_LANGUAGE

# the browser locale (BCP 47) of each language, for the report's map script
_JS_LOCALES = {lang: locale.replace("_", "-") for lang, locale in LOCALES.items()}


def catalogue_path(lang: str):
    """The catalogue (``.po``) of ``lang`` inside the installed package."""
    return resources.files("bundler.i18n") / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with catalogue_path(lang).open("rb") as fh:
        catalog = pofile.read_po(fh, locale=LOCALES[lang], domain=DOMAIN)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """Messages and numbers in one language. Build with :func:`translator`."""

    lang: str
    translations: gettext.NullTranslations

    @property
    def locale(self) -> str:
        """The Babel locale of the language (``en_US``, ``id_ID``)."""
        return LOCALES[self.lang]

    @property
    def js_locale(self) -> str:
        """The same locale as a browser names it (``en-US``, ``id-ID``)."""
        return _JS_LOCALES[self.lang]

    @property
    def decimal_sign(self) -> str:
        """The locale's decimal sign (``.`` in English, ``,`` in Indonesian)."""
        return get_decimal_symbol(self.locale)

    def gettext(self, message: str) -> str:
        """``message`` (English) in this language; itself when the catalogue lacks it."""
        return self.translations.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in this language, as meant in ``context`` (``column``: a table header)."""
        return self.translations.pgettext(context, message)

    def decimal(self, value, digits: int = 0, group: bool = True) -> str:
        """``value`` with ``digits`` decimals (rounded like Python's ``f"{value:.2f}"``), in
        the locale's digits and separators; with ``group``, thousands are grouped."""
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                return str(value)
        # Python rounds and groups; the locale's symbols replace its ",", "." and "-". The
        # same text as Babel's format_decimal of the rounded value (tests/test_i18n.py),
        # ten times faster, which counts in a report of tens of thousands of cells
        return f"{value:{',' if group else ''}.{digits}f}".translate(_symbols(self.locale))

    def significant(self, value: float, digits: int = 3) -> str:
        """``value`` to ``digits`` significant digits (like ``f"{value:.3g}"``), localized."""
        text = f"{float(value):.{digits}g}"
        if "e" in text or not math.isfinite(float(value)):
            return text.replace(".", self.decimal_sign)
        decimals = len(text.partition(".")[2])
        pattern = "0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(Decimal(text), format=pattern, locale=self.locale)

    def percent(self, fraction: float, digits: int = 2) -> str:
        """A fraction as a percentage with ``digits`` decimals (like ``f"{x:.2%}"``), localized."""
        if not math.isfinite(float(fraction)):
            return str(fraction)
        hundredths = Decimal(f"{float(fraction) * 100:.{digits}f}")
        pattern = "0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(hundredths / 100, format=pattern, locale=self.locale)

    def number(self, value) -> str:
        """A figure for a table: thousands grouped; 2 decimals from 1, 3 significant below."""
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return self.decimal(value)
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return self.decimal(value, 0)
        if abs(value) >= 1:
            return self.decimal(value, 2)
        return self.significant(value, 3)

    def exact(self, value: float) -> str:
        """A value exactly as given (Python's shortest repr), with the locale's decimal sign."""
        text = str(value)
        if self.lang == SOURCE_LANGUAGE:
            return text
        return text.replace(".", self.decimal_sign)


@functools.cache
def _symbols(locale: str) -> dict[int, str]:
    """``str.translate`` table from Python's number symbols to the locale's."""
    return str.maketrans(
        {
            ",": get_group_symbol(locale),
            ".": get_decimal_symbol(locale),
            "-": get_minus_sign_symbol(locale),
        }
    )


@functools.cache
def translator(lang: str = SOURCE_LANGUAGE) -> Translator:
    """The :class:`Translator` of ``lang`` (one of :data:`LANGUAGES`).

    Raises
    ------
    ValueError
        For a language without a catalogue.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return Translator(lang, _translations(lang))
