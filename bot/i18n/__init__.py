"""Languages: per-resident translators, babel formatting and language detection."""

from bot.i18n.translator import N_, Catalogs, Translator, placeholders

__all__ = ["N_", "Catalogs", "Translator", "detect_language", "placeholders"]


def detect_language(
    text: str, candidates: "tuple[str, ...] | list[str] | set[str] | frozenset[str]"
) -> str | None:
    """The language of `text` among `candidates`, or None when unsure."""
    from bot.i18n.detect import detect_language as _detect

    return _detect(text, candidates)
