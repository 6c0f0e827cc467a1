"""Languages: the reports and summaries in English (the source) or Indonesian.

One gettext catalogue per language (``locales/<lang>/LC_MESSAGES/psbundle.po``),
read with Babel; numbers written for the language's locale. ``languages`` holds
the list of languages (no Babel import, for the scenario's checks), ``catalogue``
the :class:`Translator`, ``extract`` the messages the code uses.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.i18n.catalogue import Translator, translator
    from bundler.i18n.languages import LANGUAGES, N_

_EXPORTS = {
    "LANGUAGES": "bundler.i18n.languages",
    "N_": "bundler.i18n.languages",
    "Translator": "bundler.i18n.catalogue",
    "translator": "bundler.i18n.catalogue",
}
__all__ = ["LANGUAGES", "N_", "Translator", "translator"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
