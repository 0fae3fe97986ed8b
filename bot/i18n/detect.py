"""Guess the language of a resident's free-text message, among the languages we serve.

`detect_language(text, candidates)` returns one of `candidates`, or None for "unknown".
None is the safe answer: the caller keeps the resident's current language. A wrong guess
would switch a resident to a language they may not read, so every doubtful case (too
short, only emoji/digits/links, not confident, a language we do not serve) gives None.

How a message is decided - each step is a rule one can check, not a tuned blob:

1. Cleaning. Links, e-mail addresses, @mentions and /commands are removed, then every
   character that is not a letter (digits, punctuation, emoji, symbols) becomes a space.
   Shouted text (mostly capitals) is lower-cased, since langdetect skips words in
   capitals. Fewer than `MIN_LENGTH` characters left -> None.
2. Script. Letters are counted per Unicode script; the dominant script decides which
   languages are possible (Arabic script: ar/fa/ur; Cyrillic: ru/uk/bg/mk; ...). When no
   candidate is written in it (Russian or Chinese while we serve en/es/pt/vi/ar/sq), the
   answer is None without any statistics.
3. Vietnamese letters. đ, ơ, ư and the tone-marked vowels (ạ ả ấ ầ ... U+1EA0-U+1EF9)
   belong to no other language langdetect knows. When at least two words, and a third
   of all words, carry one, the text is Vietnamese: vi if it is a candidate, else None.
   A name such as "Nguyễn" in an English sentence does not reach that share.
4. langdetect with decoys. Per (script, candidate set) we build, once, a langdetect
   factory holding the candidates' profiles plus every other profile of that script as
   a "decoy" (German, French, Tagalog, Croatian... for Latin; Persian and Urdu for
   Arabic). A confident candidate wins; if a decoy wins, the text is probably in a
   language we do not serve.
5. Function words, for short texts. Short messages share most n-grams with neighbouring
   languages ("La luz de la calle no sirve" comes out as Italian, "Muito satisfeita"
   too), so langdetect's answer is checked against the very frequent function words of
   every language in the factory ("el", "não", "është", "của", "the"...) and a few
   spelling marks (ñ ¿ ¡ Spanish, ã õ Portuguese, ë Albanian, پ چ ژ گ Persian...).
   A winner that has fewer of them than another language is not trusted. When in doubt
   (decoy won, low confidence, or words disagree) we ask langdetect again among the
   candidates only, with the word counts as its prior (`Detector.set_prior_map`), and
   accept its answer only if the words clearly side with it: more hits than any other
   language, decoys included. Otherwise None.
6. Confidence. langdetect averages `TRIALS` (2) random trials; `MIN_CONFIDENCE` = 0.8
   means both of them settled on the same language.
7. Clear function words first. Before any statistics, a candidate with at least
   `WORDS_DECIDE` (4) hints and at least `WORDS_MARGIN` (3) times as many as any other
   language of the script (decoys included) is the answer: "The streetlight at the corner
   of Main and Hollis has been dark for a week" has nine English function words and one
   shared with Spanish and Portuguese ("a"). That is how most report texts read, and it
   costs a few µs instead of langdetect's sampling over every profile of the script.

Determinism and concurrency: each factory has its own fixed seed (the global
`DetectorFactory.seed` is left alone), each call creates its own `Detector` (with its own
random generator), and factories are read-only once built. Profiles are loaded at most
once per candidate set, under a lock, by `warm_up()` or the first call - never per message.
bench/bench_detect.py measures all this against plain `langdetect.detect`.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from langdetect import DetectorFactory, LangDetectException
from langdetect.detector_factory import PROFILES_DIRECTORY

__all__ = ["MIN_CONFIDENCE", "MIN_LENGTH", "detect_language", "profile_name", "warm_up"]

log = logging.getLogger(__name__)

MIN_LENGTH: Final = 10
"""Characters (letters and single spaces) left after cleaning, below which we say None."""

MIN_CONFIDENCE: Final = 0.8
"""langdetect probability of the winner below which we say None (all trials agree)."""

TRIALS: Final = 2
"""langdetect's random trials per text (its default is 7)."""

CONVERGENCE: Final = 0.9999
"""A trial stops sampling n-grams once one language's probability passes this (langdetect's
default is 0.99999: each extra 9 costs about 25 more samples per trial).

Both values were measured on the detection corpus (`python -m bench.bench_detect`, 433
messages): with 2 trials to 0.9999 every column is as good as with langdetect's 7 trials
to 0.99999 or better (Vietnamese 97.2 -> 98.6%, 30-79 characters 99.5 -> 100%, never
wrong, no unsupported language taken for ours), in 0.27 ms a message instead of 0.73
(0.39 with 3 trials). Fewer samples (2 trials to 0.999) start to cost Spanish answers."""

WORDS_DECIDE: Final = 4
WORDS_MARGIN: Final = 3
"""Step 7: the hints a candidate needs, and its lead over every other language, to be the
answer without langdetect. On the detection corpus this decides 112 of the 420 messages
langdetect would see, none of them wrongly; (3 hints, twice the rival) would decide 216,
also none wrongly, but leaves less room for languages that have no word list."""

SEED: Final = 0
"""langdetect's random seed: the same text always gets the same answer."""

MAX_CHARS: Final = 1000
"""Only the start of a long message is analysed (plenty to tell its language)."""

VI_MIN_WORDS: Final = 2
VI_MIN_SHARE: Final = 1 / 3
"""Vietnamese rule: words carrying a Vietnamese-only letter, as a count and a share."""

# Every langdetect profile, by the script it is written in (a test checks this table
# against langdetect's profile directory).
_SCRIPTS: Final[Mapping[str, tuple[str, ...]]] = {
    "Latin": (
        "af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id",
        "it", "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw",
        "tl", "tr", "vi",
    ),
    "Arabic": ("ar", "fa", "ur"),
    "Cyrillic": ("bg", "mk", "ru", "uk"),
    "Greek": ("el",),
    "Hebrew": ("he",),
    "Devanagari": ("hi", "mr", "ne"),
    "Bengali": ("bn",),
    "Gujarati": ("gu",),
    "Gurmukhi": ("pa",),
    "Kannada": ("kn",),
    "Malayalam": ("ml",),
    "Tamil": ("ta",),
    "Telugu": ("te",),
    "Thai": ("th",),
    "Han": ("ja", "zh-cn", "zh-tw"),  # Chinese characters and Japanese kana
    "Hangul": ("ko",),
}  # fmt: skip
_SCRIPT_OF_PROFILE: Final = {lang: script for script, langs in _SCRIPTS.items() for lang in langs}
_SCRIPT_OF_NAME: Final = {  # first word of a letter's Unicode name -> script
    **{script.upper(): script for script in _SCRIPTS},
    "CJK": "Han",
    "HIRAGANA": "Han",
    "KATAKANA": "Han",
}

_ALIASES: Final[Mapping[str, str]] = {
    "zh": "zh-cn", "zh-hans": "zh-cn", "zh-sg": "zh-cn",
    "zh-hant": "zh-tw", "zh-hk": "zh-tw", "zh-mo": "zh-tw",
    "nb": "no", "nn": "no", "iw": "he", "fil": "tl", "in": "id",
}  # fmt: skip

# The most frequent closed-class words of each language, as people type them (with and
# without accents, and the pieces elision leaves: "c'est" -> "c", "est"). A word shared
# by several languages ("de", "la", "no") counts for each of them, so only distinctive
# ones tip the balance. Lists exist for our languages and for the decoys residents here
# plausibly write in or that share our function words. Languages without a list get no
# hints and are caught by their n-grams alone; Catalan is deliberately one of them: it
# shares nearly all of Spanish's function words, so a list would only make short Spanish
# messages tie with it.
_WORDS: Final[Mapping[str, frozenset[str]]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": """the a an and or but of to in on at for with from by is are was were be been
            it its this that these those there here i you he she we they my your our their
            me him her us them not no yes do does did dont can cant could will would should
            have has had what when where who how why which if so just please thanks thank hi
            hello about again still all very too also im ive ill thats theres""",
        "es": """el la los las un una unos unas y o a pero de del al en con por para que qué
            es son está están estoy hay muy más mas no sí mi mis tu su sus nos le les lo se
            me te yo usted ustedes como cómo cuando cuándo dónde donde esta este esto eso
            también tambien aquí aqui ahí ahi gracias hola porque ya voy va van tiene tengo
            hace desde hasta sin sobre todo todos nada bien""",
        "pt": """o a os as um uma uns umas e ou mas de do da dos das no na nos nas em com por
            para pra que é são está estão tá to tô não nao sim muito mais meu minha meus
            minhas seu sua você vocês vc vcs eu ele ela gente tem têm ter vai vou foi isso
            isto esse essa aqui lá já ja obrigado obrigada oi olá também tambem porque
            quando onde como até sem sobre todo toda todos nada bem""",
        "vi": """và của có không là được cho với các những một người tôi bạn anh chị em này
            đó ở trong trên đã đang sẽ rất lắm nhiều thì mà nhưng vì khi nào gì sao đi đến
            ạ nhé nha vậy rồi cũng còn cảm ơn xin
            khong ko dc duoc cua voi cac nhung mot nguoi toi nay tren dang rat lam nhieu thi
            khi gi nhe vay roi cung xin cam""",
        "sq": """dhe në ne të te një nje për per me nga është eshte janë jane ka kam kemi
            keni kanë kane nuk jo po që qe i e u do si por edhe ky kjo këtu ketu aty ku kur
            çfarë cfare shumë shume mirë mire faleminderit flm ju unë une ime im tim time
            tonë tone juaj pse sepse mund duhet ishte vetëm vetem më sot nesër neser""",
        "it": """il lo la l i gli le un una uno di del della dei delle che non è e per con su
            da in al alla sono ho ha hanno mi ti ci si ma come dove quando perché anche
            molto grazie ciao questo questa siamo essere""",
        "fr": """le la les l un une des de du d et est c sont en dans pour pas ne n que qu
            qui je j tu il elle on nous vous ils au aux a à y avec sur ce ça cette mais ou
            où merci bonjour très ai suis chez moi""",
        "de": """der die das den dem des ein eine einen und ist sind nicht ich du er sie wir
            ihr es mit von zu auf für im in an bei auch aber wie was wo wann danke bitte ja
            nein sehr""",
        "nl": """de het een en is zijn niet ik je jij hij zij we wij jullie met van op voor
            in aan bij ook maar hoe wat waar wanneer dank bedankt ja nee heel er dat die
            deze""",
        "tl": """ang ng mga sa na ay at ako ka ko mo siya kami tayo kayo sila hindi oo po
            salamat naman lang din rin ito iyan yan para may wala kung pero""",
        "ro": """și si de la în in cu pe nu este sunt un o mai pentru că ca ce eu tu el ea
            noi voi ei mulțumesc foarte""",
        "pl": "i w z na nie się to jest że do jak co ale tak dziękuję bardzo",
        "tr": "ve bir bu da de ne için çok mi ben sen biz siz teşekkür",
        "sw": "na ya wa kwa ni za la katika hii asante sana",
        "so": "iyo waa ku ka la ee ayaa in aan oo",
        "ar": """في من على إلى الى عن مع هذا هذه ذلك التي الذي هل لا ما أن ان إن كان هو هي
            نحن أنا انا شكرا شكراً""",
        "fa": "از به با در که این آن است را هم برای یک می نمی هست بود شما ما من",
        "ur": "کے کی ہے میں سے اور کو نہیں یہ وہ ہیں تھا آپ",
    }.items()
}  # fmt: skip

# Spelling marks: a word containing one of these letters counts as one hint. Spanish "¿"
# and "¡" are punctuation, gone after cleaning, so they are counted in the raw text.
_MARKS: Final[Mapping[str, frozenset[str]]] = {
    "es": frozenset("ñ"),
    "pt": frozenset("ãõ"),
    "sq": frozenset("ë"),
    "fa": frozenset("پچژگکی"),  # Persian letters (Arabic writes ك and ي)
    "ur": frozenset("ٹڈڑںےھ"),
}
_PUNCTUATION: Final[Mapping[str, frozenset[str]]] = {"es": frozenset("¿¡")}
# The languages each function word belongs to: one lookup a word instead of one a language.
_LANGS_OF_WORD: Final[Mapping[str, frozenset[str]]] = {
    word: frozenset(lang for lang, words in _WORDS.items() if word in words)
    for word in frozenset().union(*_WORDS.values())
}

PRIOR_BOOST: Final = 100.0
PRIOR_CAP: Final = 3
"""When in doubt, langdetect's second run starts from a prior favouring the languages with
the most hints: each hint fewer than the best divides by PRIOR_BOOST, at most PRIOR_CAP
times. It has to be strong because langdetect stops sampling once a language passes
0.99999. It cannot push through a language the words do not favour: the answer must
still lead on hints."""

_VI_LETTERS: Final = frozenset("đơưĩũĐƠƯĨŨ") | frozenset(map(chr, range(0x1EA0, 0x1EFA)))

_NOISE_RE: Final = re.compile(
    r"""(?:https?://|www\.)\S+              # links
      | \b[\w-]+(?:\.[\w-]+)+/\S*          # bare links: maps.app.goo.gl/x7Kq2
      | [\w.+-]+@[\w-]+(?:\.[\w-]+)+       # e-mail addresses
      | (?<![^\s(])[@/]\w+                 # @mentions and /commands
    """,
    re.VERBOSE,
)
_MARK_CATEGORIES: Final = frozenset({"Mn", "Mc"})  # combining marks belong to their letter


@lru_cache(maxsize=256)
def profile_name(code: str) -> str | None:
    """langdetect's profile for a language code, or None if it has none.

    Babel and BCP 47 spellings are accepted: "pt", "pt_BR", "pt-BR" -> "pt";
    "zh_Hant_TW" -> "zh-tw"; "nb" -> "no".
    """
    parts = code.strip().lower().replace("_", "-").split("-")
    for end in range(len(parts), 0, -1):
        key = "-".join(parts[:end])
        if key in _ALIASES:
            return _ALIASES[key]
        if key in _SCRIPT_OF_PROFILE:
            return key
    return None


# --- text ---------------------------------------------------------------------------------
def _clean(text: str) -> str:
    """Letters only, words separated by single spaces, at most MAX_CHARS."""
    text = unicodedata.normalize("NFC", text)
    text = _NOISE_RE.sub(" ", text)
    kept = "".join(
        ch if ch.isalpha() or unicodedata.category(ch) in _MARK_CATEGORIES else " " for ch in text
    )
    cleaned = " ".join(kept.split())[:MAX_CHARS]
    upper = sum(ch.isupper() for ch in cleaned)
    if upper * 2 > sum(ch.islower() for ch in cleaned) + upper:
        cleaned = cleaned.lower()  # shouting: langdetect ignores words in capitals
    return cleaned


@lru_cache(maxsize=4096)
def _script(ch: str) -> str | None:
    """The script of one letter, with the names of `_SCRIPTS`; None for marks etc."""
    return _SCRIPT_OF_NAME.get(unicodedata.name(ch, "").split(" ", 1)[0])


def _is_vietnamese(words: list[str]) -> bool:
    marked = sum(1 for word in words if not _VI_LETTERS.isdisjoint(word))
    return marked >= VI_MIN_WORDS and marked >= VI_MIN_SHARE * len(words)


def _hints(raw: str, words: list[str], langs: Iterable[str]) -> dict[str, int]:
    """Per language: how many words are among its function words or carry its marks."""
    counts = dict.fromkeys(langs, 0)
    for word in words:
        word = word.lower()
        found = _LANGS_OF_WORD.get(word, frozenset())
        marked = [lang for lang, marks in _MARKS.items() if not marks.isdisjoint(word)]
        for lang in found.union(marked) if marked else found:
            if lang in counts:
                counts[lang] += 1
    for lang, punctuation in _PUNCTUATION.items():
        if lang in counts:
            counts[lang] += sum(1 for ch in raw if ch in punctuation)
    return {lang: count for lang, count in counts.items() if count}


# --- factories ----------------------------------------------------------------------------
def _read_profile(lang: str) -> str:
    """One langdetect profile (JSON text); only called while a factory is built."""
    return (Path(PROFILES_DIRECTORY) / lang).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class _Group:
    """What is needed to choose among the candidates written in one script.

    `wide` knows the candidates and the decoys (None when the script has no other
    language); `narrow` only the candidates (None when there is a single one).
    """

    candidates: tuple[str, ...]  # langdetect profile names, sorted
    decoys: tuple[str, ...]
    wide: Any  # langdetect's DetectorFactory is untyped
    narrow: Any


_GROUPS: dict[tuple[str, frozenset[str]], _Group] = {}
_GROUPS_LOCK: Final = threading.Lock()


def _factory(profiles: Mapping[str, str]) -> Any:
    if len(profiles) < 2:  # langdetect compares at least two languages
        return None
    factory = DetectorFactory()
    factory.set_seed(SEED)  # an instance attribute: the class-wide default is untouched
    factory.load_json_profile(list(profiles.values()))
    return factory


def _group(script: str, candidates: frozenset[str]) -> _Group:
    key = (script, candidates)
    group = _GROUPS.get(key)
    if group is None:
        with _GROUPS_LOCK:
            group = _GROUPS.get(key)
            if group is None:
                ours = tuple(sorted(candidates))
                decoys = tuple(lang for lang in _SCRIPTS[script] if lang not in candidates)
                profiles = {lang: _read_profile(lang) for lang in ours + decoys}
                group = _Group(
                    candidates=ours,
                    decoys=decoys,
                    wide=_factory(profiles) if decoys else None,
                    narrow=_factory({lang: profiles[lang] for lang in ours}),
                )
                _GROUPS[key] = group
    return group


@lru_cache(maxsize=64)
def _warn_unknown(code: str) -> None:
    log.warning("language %r has no langdetect profile: it is never detected", code)


def _candidate_profiles(candidates: Iterable[str]) -> dict[str, str]:
    """langdetect profile -> the caller's code (the first in sorted order if two share one)."""
    if isinstance(candidates, str):
        raise TypeError("candidates must be a collection of language codes, not one string")
    by_profile: dict[str, str] = {}
    for code in sorted(set(candidates)):
        profile = profile_name(code)
        if profile is None:
            _warn_unknown(code)
        else:
            by_profile.setdefault(profile, code)
    return by_profile


def _by_script(profiles: Iterable[str]) -> dict[str, frozenset[str]]:
    scripts: dict[str, set[str]] = {}
    for profile in profiles:
        scripts.setdefault(_SCRIPT_OF_PROFILE[profile], set()).add(profile)
    return {script: frozenset(langs) for script, langs in scripts.items()}


def warm_up(candidates: Iterable[str]) -> None:
    """Load now the profiles `detect_language(..., candidates)` needs (e.g. at start-up).

    Codes langdetect has no profile for are logged and ignored.
    """
    for script, langs in _by_script(_candidate_profiles(candidates)).items():
        _group(script, langs)


# --- detection ----------------------------------------------------------------------------
def _langdetect(
    factory: Any, text: str, hints: Mapping[str, int] | None = None
) -> tuple[str, float] | None:
    """langdetect's best language and its probability; None if it has nothing to go on.

    With `hints`, each language starts from a prior of PRIOR_BOOST to the power of its
    hints minus the most hints, but at least PRIOR_BOOST ** -PRIOR_CAP.
    """
    detector = factory.create()
    detector.n_trial = TRIALS
    detector.CONV_THRESHOLD = CONVERGENCE
    if hints:
        most = max(hints.values())
        detector.set_prior_map(
            {
                lang: PRIOR_BOOST ** -min(most - hints.get(lang, 0), PRIOR_CAP)
                for lang in factory.get_lang_list()
            }
        )
    detector.append(text)
    try:
        ranked = detector.get_probabilities()
    except LangDetectException:  # no usable n-gram in the text
        return None
    if not ranked:
        return None
    return str(ranked[0].lang), float(ranked[0].prob)


def _decide(group: _Group, raw: str, text: str) -> str | None:
    """The candidate profile `text` is written in, or None (module docstring, steps 4-6)."""
    if group.wide is None and group.narrow is None:
        return group.candidates[0]  # the only language of its script: the script decides
    hints = _hints(raw, text.split(), group.candidates + group.decoys)

    def rival(lang: str) -> int:
        return max((n for other, n in hints.items() if other != lang), default=0)

    if hints:
        leader = max(hints, key=hints.__getitem__)
        count = hints[leader]
        if (
            leader in group.candidates
            and count >= WORDS_DECIDE
            and count >= WORDS_MARGIN * rival(leader)
        ):
            return leader
    if group.wide is not None:
        result = _langdetect(group.wide, text)
        if result is None:
            return None
        winner, confidence = result
        if (
            winner in group.candidates
            and confidence >= MIN_CONFIDENCE
            and hints.get(winner, 0) >= rival(winner)
        ):
            return winner
    # In doubt (a decoy won, low confidence, or the words side with another language):
    # among the candidates only, and only if the words clearly side with the answer.
    if group.narrow is None:
        best = group.candidates[0]
    else:
        result = _langdetect(group.narrow, text, hints)
        if result is None or result[1] < MIN_CONFIDENCE:
            return None
        best = result[0]
    return best if hints.get(best, 0) > rival(best) else None


def detect_language(text: str, candidates: Iterable[str]) -> str | None:
    """The language `text` is written in, as one of `candidates`, or None for "unknown".

    `candidates` are language codes ("en", "pt", "pt_BR", "vi"...); the answer is spelled
    as given there. None when the text is too short once links, mentions, digits,
    punctuation and emoji are removed, when no candidate is confident enough, or when
    the text looks like a language that is not a candidate. Never raises on any text.
    """
    if not isinstance(text, str):
        return None
    by_profile = _candidate_profiles(candidates)
    text = text[: MAX_CHARS * 4]  # links and emoji are cut later; bound the work first
    if not by_profile:
        return None
    cleaned = _clean(text)
    if len(cleaned) < MIN_LENGTH:
        return None
    scripts = Counter(script for script in map(_script, cleaned) if script is not None)
    if not scripts:
        return None
    script = scripts.most_common(1)[0][0]
    candidates_here = _by_script(by_profile).get(script)
    if not candidates_here:
        return None  # written in a script none of the candidates uses
    if script == "Latin" and _is_vietnamese(cleaned.split()):
        return by_profile.get("vi")
    best = _decide(_group(script, candidates_here), text, cleaned)
    return None if best is None else by_profile[best]
