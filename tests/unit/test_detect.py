"""bot.i18n.detect: language of residents' messages, or None when unsure."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY

from bot.i18n import detect
from bot.i18n.detect import detect_language, profile_name, warm_up

OURS = ("en", "es", "pt", "vi", "ar", "sq")
ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "bench" / "corpus"


def load(name: str) -> list[tuple[str, str]]:
    lines = (CORPUS_DIR / name).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "lang\ttext"
    rows = [tuple(line.split("\t")) for line in lines[1:]]
    assert all(len(row) == 2 for row in rows)
    return [(lang, text) for lang, text in rows]


def bucket(text: str) -> str:
    return "<10" if len(text) < 10 else "10-29" if len(text) < 30 else "30+"


# --- fixed answers ------------------------------------------------------------------------
EXAMPLES = [
    ("en", "The streetlight on Chandler St has been out since Friday"),
    ("en", "Yes, I'll come to the meeting on Thursday"),
    ("es", "Hay un hoyo enorme frente a mi casa en la calle Main"),
    ("es", "¿A qué hora empieza la reunión del jueves?"),
    ("pt", "Tem um buraco enorme na frente da minha casa"),
    ("pt", "Não vou conseguir ir na reunião, desculpa"),
    ("vi", "Đèn đường trước nhà tôi bị hư cả tuần nay rồi"),
    ("vi", "Cảm ơn, tôi sẽ đi họp"),
    ("ar", "ضوء الشارع أمام بيتي لا يعمل منذ أسبوع"),
    ("ar", "شكراً، سأحضر الاجتماع"),
    ("sq", "Drita e rrugës para shtëpisë sime nuk punon prej një jave"),
    ("sq", "Faleminderit, do të vij në mbledhje"),
]


@pytest.mark.parametrize(("lang", "text"), EXAMPLES)
def test_fixed_examples_get_their_language(lang: str, text: str) -> None:
    assert detect_language(text, OURS) == lang


def test_answers_are_deterministic_within_a_process() -> None:
    texts = [text for _, text in load("detect.tsv")[::5]]
    first = [detect_language(text, OURS) for text in texts]
    assert [detect_language(text, OURS) for text in texts] == first


def test_answers_do_not_depend_on_hash_seed_or_process() -> None:
    # Set iteration order changes with PYTHONHASHSEED; langdetect's sampling changes with
    # its seed. Same answers in two fresh interpreters means neither leaks in.
    script = (
        "import json, sys\n"
        "from bot.i18n.detect import detect_language\n"
        "texts = json.load(sys.stdin)\n"
        "print(json.dumps([detect_language(t, ['sq', 'ar', 'vi', 'pt', 'es', 'en']) "
        "for t in texts]))\n"
    )
    texts = [text for _, text in load("detect.tsv")[::4]]
    answers = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
            check=True,
        )
        answers.append(json.loads(done.stdout))
    assert answers[0] == answers[1]
    assert answers[0] == [detect_language(text, OURS) for text in texts]


def test_global_langdetect_seed_is_left_alone() -> None:
    before = DetectorFactory.seed
    detect_language("The light on my street is out again", OURS)
    assert DetectorFactory.seed == before


# --- candidates ---------------------------------------------------------------------------
def test_spanish_with_english_and_portuguese_candidates_is_never_spanish() -> None:
    text = "Hay un hoyo enorme frente a mi casa en la calle Main"
    assert detect_language(text, ["en", "pt"]) in ("pt", None)
    assert detect_language(text, ["en", "pt", "es"]) == "es"


def test_answer_is_always_a_candidate_or_none() -> None:
    subsets = [("en", "pt"), ("es",), ("vi", "sq"), ("ar", "en"), ("pt", "es", "sq")]
    for lang, text in load("detect.tsv")[::3]:
        for subset in subsets:
            answer = detect_language(text, subset)
            assert answer is None or answer in subset
            if lang not in subset:
                assert answer != lang


def test_codes_are_answered_as_the_caller_spells_them() -> None:
    assert profile_name("pt_BR") == "pt"
    assert profile_name("pt-BR") == "pt"
    assert profile_name("zh_Hant_TW") == "zh-tw"
    assert profile_name("zh") == "zh-cn"
    assert profile_name("nb") == "no"
    assert profile_name("xx") is None
    text = "Tem um buraco enorme na frente da minha casa"
    assert detect_language(text, ["pt_BR", "en"]) == "pt_BR"


def test_candidates_without_a_profile_are_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    detect._warn_unknown.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bot.i18n.detect"):
        answer = detect_language("The streetlight is out again on Main St", ["en", "ht"])
        assert detect_language("Limyè nan lari a etenn ankò", ["ht"]) is None
    assert answer == "en"
    assert "'ht'" in caplog.text


def test_a_single_string_is_not_a_candidate_list() -> None:
    with pytest.raises(TypeError):
        detect_language("The streetlight is out again", "en")


def test_other_langdetect_languages_can_be_candidates() -> None:
    assert detect_language("Die Straßenlaterne vor unserem Haus ist kaputt", ["en", "de"]) == "de"
    assert detect_language("На нашей улице уже неделю не горит фонарь", ["en", "ru"]) == "ru"
    assert detect_language("Ευχαριστώ πολύ για τη βοήθεια", ["en", "el"]) == "el"


# --- no answer ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["", " ", "\n\t  ", "🙂", "👍👍👍👍👍👍👍👍👍👍👍👍", "1234567890", "42 42 42 42 42 42",
     "!!! ??? ...", "https://maps.app.goo.gl/x7Kq2Lm", "@liaison_bot /start 123",
     "ok", "Gracias", "Obrigado!", "Cảm ơn!", "شكراً", "Flm!", "\x00\x01\x02\ufffd"],
)  # fmt: skip
def test_too_little_text_is_unknown(text: str) -> None:
    assert detect_language(text, OURS) is None


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_gives_a_candidate_or_none_and_never_raises(text: str) -> None:
    assert detect_language(text, OURS) in (*OURS, None)


def test_links_mentions_and_emoji_do_not_count_towards_the_length() -> None:
    assert detect_language("@neighbor https://example.org/a/b 👍👍 ok 123", OURS) is None
    text = "@liaison_bot hay un bache enorme en la calle 👉 https://maps.app.goo.gl/x7Kq2"
    assert detect_language(text, OURS) == "es"


UNSUPPORTED = [
    "Die Straßenlaterne vor unserem Haus ist seit einer Woche kaputt.",
    "Est-ce que la réunion aura lieu jeudi soir ?",
    "A che ora inizia la riunione di giovedì?",
    "На нашей улице уже неделю не горит фонарь.",
    "我们街上的路灯坏了一个星期了。",
    "우리 동네 가로등이 일주일째 고장났어요.",
    "چراغ خیابان ما یک هفته است که خاموش است.",  # Persian, in Arabic script
    "Dziękuję bardzo za szybką pomoc!",
    "Gatlampan utanför vårt hus har varit trasig i en vecka",
]


@pytest.mark.parametrize("text", UNSUPPORTED)
def test_languages_we_do_not_serve_are_unknown(text: str) -> None:
    assert detect_language(text, OURS) is None


def test_arabic_script_is_arabic_only_if_arabic_is_a_candidate() -> None:
    text = "ضوء الشارع أمام بيتي لا يعمل منذ أسبوع"
    assert detect_language(text, ["en", "es", "ar"]) == "ar"
    assert detect_language(text, ["en", "es", "fa"]) in ("fa", None)
    assert detect_language(text, ["en", "es"]) is None


def test_vietnamese_letters_are_a_strong_signal() -> None:
    assert detect_language("Cảm ơn mọi người nhiều", OURS) == "vi"
    assert detect_language("Cảm ơn mọi người nhiều", ["en", "pt", "es"]) is None
    # a Vietnamese name in an English sentence does not make it Vietnamese
    text = "Pothole in front of Phở Nguyễn on Main St, please fix it"
    assert detect_language(text, OURS) == "en"


# --- mixed and shouted text ---------------------------------------------------------------
def test_mixed_text_gets_the_dominant_language() -> None:
    text = "Hay un hoyo grande en Main Street frente al Dunkin, por favor vengan a verlo. Thanks!"
    assert detect_language(text, OURS) == "es"
    text = "The guy at the corner store said 'obrigado' but the light is still broken on Park Ave"
    assert detect_language(text, OURS) == "en"
    text = "شكراً جزيلاً، الضوء في شارع Main Street ما زال لا يعمل"
    assert detect_language(text, OURS) == "ar"


def test_shouted_text_is_detected() -> None:
    assert detect_language("HAY UN BACHE ENORME EN LA CALLE MAIN", OURS) == "es"
    assert detect_language("TEM UM BURACO ENORME NA MINHA RUA", OURS) == "pt"


# --- profiles -----------------------------------------------------------------------------
def test_script_table_covers_every_langdetect_profile() -> None:
    profiles = {p.name for p in Path(PROFILES_DIRECTORY).iterdir() if not p.name.startswith(".")}
    assert profiles == set(detect._SCRIPT_OF_PROFILE)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """A fresh factory cache, and a count of profile reads per language."""
    counted: Counter[str] = Counter()
    read = detect._read_profile

    def counting(lang: str) -> str:
        counted[lang] += 1
        return read(lang)

    monkeypatch.setattr(detect, "_GROUPS", {})
    monkeypatch.setattr(detect, "_read_profile", counting)
    return counted


def test_profiles_are_loaded_once_not_per_message(reads: Counter[str]) -> None:
    texts = [text for _, text in load("detect.tsv")[::6]]
    detect_language(texts[0], OURS)
    detect_language(texts[-1], OURS)  # both scripts (the corpus ends with Albanian)
    detect_language("ضوء الشارع أمام بيتي لا يعمل منذ أسبوع", OURS)
    after_first = sum(reads.values())
    assert after_first > 0
    assert set(reads.values()) == {1}
    for text in texts:
        detect_language(text, list(reversed(OURS)))  # same set, other order
    assert sum(reads.values()) == after_first


def test_warm_up_loads_everything_in_advance(reads: Counter[str]) -> None:
    warm_up(OURS)
    loaded = sum(reads.values())
    assert {"en", "es", "pt", "vi", "ar", "sq", "fa", "ur", "fr"} <= set(reads)
    for _, text in load("detect.tsv")[::6]:
        detect_language(text, OURS)
    assert sum(reads.values()) == loaded
    warm_up(set(OURS))
    assert sum(reads.values()) == loaded


def test_concurrent_first_calls_load_each_profile_once(reads: Counter[str]) -> None:
    start = threading.Barrier(8)
    answers: list[str | None] = []

    def worker() -> None:
        start.wait()
        answers.append(detect_language("The streetlight on my street is out again", OURS))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["en"] * 8
    assert reads and set(reads.values()) == {1}


async def test_usable_from_asyncio_worker_threads() -> None:
    import asyncio

    rows = load("detect.tsv")[::10]
    answers = await asyncio.gather(
        *(asyncio.to_thread(detect_language, text, OURS) for _, text in rows)
    )
    assert answers == [detect_language(text, OURS) for _, text in rows]


def test_clear_function_words_decide_without_langdetect(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    sample = detect._langdetect

    def counting(factory: object, text: str, hints: object = None) -> object:
        calls.append(text)
        return sample(factory, text, hints)  # type: ignore[arg-type]

    monkeypatch.setattr(detect, "_langdetect", counting)
    clear = "The streetlight at the corner of Main and Hollis has been dark for a week."
    assert detect_language(clear, OURS) == "en"
    assert calls == []
    # "un", "en", "la": Spanish, but French and Italian share them: langdetect decides.
    shared = "Un coche abandonado lleva un mes en la calle, sin placas."
    assert detect_language(shared, OURS) == "es"
    assert len(calls) >= 1
    # A decoy's clear words never make a candidate the answer.
    calls.clear()
    french = "Je suis chez moi et il y a un trou dans la rue devant la maison."
    assert detect_language(french, OURS) is None
    assert calls


def _hints_by_language(raw: str, words: list[str], langs: tuple[str, ...]) -> dict[str, int]:
    """The function-word rule read literally, language by language."""
    lowered = [word.lower() for word in words]
    hints: dict[str, int] = {}
    for lang in langs:
        vocabulary = detect._WORDS.get(lang, frozenset())
        marks = detect._MARKS.get(lang, frozenset())
        count = sum(1 for word in lowered if word in vocabulary or not marks.isdisjoint(word))
        count += sum(1 for ch in raw if ch in detect._PUNCTUATION.get(lang, ""))
        if count:
            hints[lang] = count
    return hints


def test_hints_count_each_word_once_per_language_it_belongs_to() -> None:
    langs = (*detect._WORDS, "ca", "hr")
    texts = [text for name in ("detect.tsv", "detect_unsupported.tsv") for _, text in load(name)]
    texts += ["¿Dónde está la reunión? ¡Gracias!", "Não, não é aqui", "Kjo është rruga"]
    for text in texts:
        words = detect._clean(text).split()
        assert detect._hints(text, words, langs) == _hints_by_language(text, words, langs), text
    assert detect._hints("¿qué?", ["qué"], ("es",)) == {"es": 2}  # the word and the "¿"


# --- accuracy on the corpus (fixed data, no timings) --------------------------------------
def test_corpus_has_the_agreed_shape() -> None:
    rows = load("detect.tsv")
    assert len(rows) >= 300
    per_lang = Counter(lang for lang, _ in rows)
    assert set(per_lang) == set(OURS)
    assert min(per_lang.values()) >= 50
    assert all(10 <= len(text) <= 200 for _, text in rows)
    short = Counter(lang for lang, text in rows if len(text) < 30)
    assert min(short[lang] for lang in OURS) >= 15


def test_accuracy_meets_the_targets() -> None:
    totals: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for lang, text in load("detect.tsv"):
        totals[bucket(text)] += 1
        correct[bucket(text)] += detect_language(text, OURS) == lang
    assert correct["30+"] / totals["30+"] >= 0.95
    assert correct["10-29"] / totals["10-29"] >= 0.85


def test_accuracy_per_language_on_longer_messages() -> None:
    totals: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for lang, text in load("detect.tsv"):
        if len(text) >= 30:
            totals[lang] += 1
            correct[lang] += detect_language(text, OURS) == lang
    for lang in OURS:
        assert correct[lang] / totals[lang] >= 0.95, lang


def test_wrong_answers_are_rare_and_never_under_ten_characters() -> None:
    wrong = [
        (lang, text, answer)
        for lang, text in load("detect.tsv")
        if (answer := detect_language(text, OURS)) not in (lang, None)
    ]
    assert len(wrong) <= 3, wrong
    short_wrong = [
        (lang, text, answer)
        for lang, text in load("detect_short.tsv")
        if (answer := detect_language(text, OURS)) is not None
    ]
    assert short_wrong == []


def test_unsupported_corpus_is_mostly_unknown() -> None:
    rows = load("detect_unsupported.tsv")
    guessed = [(lang, text, a) for lang, text in rows if (a := detect_language(text, OURS))]
    assert len(guessed) <= len(rows) // 20, guessed
