"""Languages: per-resident translators, babel formatting and language detection."""

from bot.i18n.detect import detect_language, warm_up
from bot.i18n.translator import N_, Catalogs, Translator, placeholders

__all__ = ["N_", "Catalogs", "Translator", "detect_language", "placeholders", "warm_up"]
