"""Benchmark `bot.i18n.detect.detect_language` against plain langdetect on our corpus.

    python -m bench.bench_detect            # full run, prints the tables
    python -m bench.bench_detect --smoke    # a small subset, a few seconds
    python -m bench.bench_detect --json     # the figures as JSON

Methods compared on the same messages, in the same run:

- ours        `detect_language(text, CANDIDATES)`
- langdetect  plain `langdetect.detect(text)` with the seed fixed; an answer outside our
              languages (e.g. "ca" for a short Spanish text) counts as unknown
- filter      one factory with all 55 profiles; the most probable of our languages
- restricted  one factory with only our six profiles (no decoys, no rules)

Corpora (bench/corpus/): detect.tsv (our six languages, 10-200 characters),
detect_short.tsv (under 10 characters: unknown is right, a wrong language is not) and
detect_unsupported.tsv (languages we do not serve: unknown is right).
Targets: >= 95 % correct on messages of 30+ characters, >= 85 % on 10-29, and no wrong
answer under 10 characters. Timings are per message, after the profiles are loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from langdetect import DetectorFactory, LangDetectException, detector_factory
from langdetect.detector_factory import PROFILES_DIRECTORY

from bot.i18n.detect import detect_language, profile_name, warm_up

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CORPUS = CORPUS_DIR / "detect.tsv"
SHORT = CORPUS_DIR / "detect_short.tsv"
UNSUPPORTED = CORPUS_DIR / "detect_unsupported.tsv"

CANDIDATES: tuple[str, ...] = ("en", "es", "pt", "vi", "ar", "sq")
BUCKETS: tuple[str, ...] = ("10-29", "30-79", "80-200")
TARGETS: dict[str, float] = {"30+": 0.95, "10-29": 0.85}
SEED = 0

Detect = Callable[[str], str | None]


def load_corpus(path: Path) -> list[tuple[str, str]]:
    """(lang, text) rows of a `lang<TAB>text` file with a header line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != "lang\ttext":
        raise ValueError(f"{path}: the first line must be 'lang<TAB>text'")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        lang, sep, text = line.partition("\t")
        if not sep or not lang or not text:
            raise ValueError(f"{path}:{number}: expected 'lang<TAB>text'")
        rows.append((lang, text))
    return rows


def bucket(text: str) -> str:
    """The length bucket of a message, by its raw length in characters."""
    n = len(text)
    if n < 10:
        return "<10"
    if n < 30:
        return "10-29"
    return "30-79" if n < 80 else "80-200"


# --- the methods --------------------------------------------------------------------------
def _ours() -> tuple[Detect, float]:
    start = time.perf_counter()
    warm_up(CANDIDATES)
    load = time.perf_counter() - start
    return (lambda text: detect_language(text, CANDIDATES)), load


def _ours_code(lang: str) -> str | None:
    """Our code for a langdetect answer, None if it is not one of our languages."""
    for code in CANDIDATES:
        if profile_name(code) == lang:
            return code
    return None


def _plain() -> tuple[Detect, float]:
    start = time.perf_counter()
    detector_factory.init_factory()  # langdetect's lazy global load, done before timing
    load = time.perf_counter() - start

    def detect(text: str) -> str | None:
        try:
            return _ours_code(detector_factory.detect(text))
        except LangDetectException:
            return None

    return detect, load


def _own_factory(langs: Iterable[str] | None) -> Any:
    factory = DetectorFactory()
    factory.set_seed(SEED)
    if langs is None:
        factory.load_profile(PROFILES_DIRECTORY)
    else:
        profiles = [(Path(PROFILES_DIRECTORY) / lang).read_text("utf-8") for lang in langs]
        factory.load_json_profile(profiles)
    return factory


def _ranked(factory: Any, text: str) -> list[Any]:
    detector = factory.create()
    detector.append(text)
    try:
        return list(detector.get_probabilities())
    except LangDetectException:
        return []


def _filter() -> tuple[Detect, float]:
    start = time.perf_counter()
    factory = _own_factory(None)
    load = time.perf_counter() - start

    def detect(text: str) -> str | None:
        detector = factory.create()
        detector.append(text)
        try:
            detector.get_probabilities()
        except LangDetectException:
            return None
        # get_probabilities() drops languages under 0.1, so read all of them (internals).
        probabilities = dict(zip(detector.langlist, detector.langprob, strict=True))
        best = max(CANDIDATES, key=lambda code: probabilities[profile_name(code)])
        return best if probabilities[profile_name(best)] > 0 else None

    return detect, load


def _restricted() -> tuple[Detect, float]:
    start = time.perf_counter()
    factory = _own_factory(p for code in CANDIDATES if (p := profile_name(code)))
    load = time.perf_counter() - start

    def detect(text: str) -> str | None:
        ranked = _ranked(factory, text)
        return _ours_code(ranked[0].lang) if ranked else None

    return detect, load


METHODS: dict[str, Callable[[], tuple[Detect, float]]] = {
    "ours": _ours,
    "langdetect": _plain,
    "filter": _filter,
    "restricted": _restricted,
}


# --- measuring ----------------------------------------------------------------------------
def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _measure(
    detect: Detect,
    corpus: Sequence[tuple[str, str]],
    short: Sequence[tuple[str, str]],
    unsupported: Sequence[tuple[str, str]],
    repeats: int,
) -> dict[str, Any]:
    seconds: list[float] = []
    outcome: dict[tuple[str, str], list[str]] = {}  # (lang, bucket) -> ok/unknown/wrong
    for lang, text in corpus:
        answers, spent = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            answers.append(detect(text))
            spent.append(time.perf_counter() - start)
        if len(set(answers)) != 1:
            raise AssertionError(f"not deterministic: {text!r} -> {answers}")
        seconds.append(statistics.median(spent))
        answer = answers[0]
        kind = "ok" if answer == lang else "unknown" if answer is None else "wrong"
        outcome.setdefault((lang, bucket(text)), []).append(kind)

    def rate(kind: str, langs: Iterable[str], buckets: Iterable[str]) -> float | None:
        kinds = [k for lang in langs for b in buckets for k in outcome.get((lang, b), [])]
        return _rate(kinds.count(kind), len(kinds))

    langs = [lang for lang in CANDIDATES if any(key[0] == lang for key in outcome)]
    short_answers = [(lang, detect(text)) for lang, text in short]
    unsupported_answers = [detect(text) for _, text in unsupported]
    ms = sorted(s * 1000 for s in seconds)
    return {
        "accuracy": rate("ok", langs, BUCKETS),
        "unknown_rate": rate("unknown", langs, BUCKETS),
        "wrong_rate": rate("wrong", langs, BUCKETS),
        "by_language": {lang: rate("ok", [lang], BUCKETS) for lang in langs},
        "by_bucket": {
            **{b: rate("ok", langs, [b]) for b in BUCKETS},
            "30+": rate("ok", langs, BUCKETS[1:]),
        },
        "by_language_bucket": {
            lang: {b: rate("ok", [lang], [b]) for b in BUCKETS} for lang in langs
        },
        "short": {
            "messages": len(short),
            "unknown_rate": _rate(sum(a is None for _, a in short_answers), len(short)),
            "wrong_rate": _rate(
                sum(a not in (None, lang) for lang, a in short_answers), len(short)
            ),
        },
        "unsupported": {
            "messages": len(unsupported),
            "unknown_rate": _rate(sum(a is None for a in unsupported_answers), len(unsupported)),
            "wrong_rate": _rate(sum(a is not None for a in unsupported_answers), len(unsupported)),
        },
        "ms_mean": statistics.fmean(ms) if ms else None,
        "ms_p99": ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))] if ms else None,
    }


def _meets_targets(figures: dict[str, Any]) -> dict[str, bool]:
    by_bucket = figures["by_bucket"]
    return {
        "30+ >= 95%": (by_bucket["30+"] or 0.0) >= TARGETS["30+"],
        "10-29 >= 85%": (by_bucket["10-29"] or 0.0) >= TARGETS["10-29"],
        "<10 never wrong": figures["short"]["wrong_rate"] in (0.0, None),
    }


def run(smoke: bool = False) -> dict[str, Any]:
    """Measure every method; `smoke` uses every 8th message and no timing repeats."""
    corpus, short, unsupported = load_corpus(CORPUS), load_corpus(SHORT), load_corpus(UNSUPPORTED)
    if smoke:
        corpus, short, unsupported = corpus[::8], short[::4], unsupported[::4]
    saved_seed = DetectorFactory.seed
    DetectorFactory.seed = SEED  # plain langdetect reads the class-wide seed
    try:
        methods: dict[str, Any] = {}
        for name, make in METHODS.items():
            detect, load = make()
            figures = _measure(detect, corpus, short, unsupported, repeats=1 if smoke else 3)
            figures["load_ms"] = load * 1000
            methods[name] = figures
    finally:
        DetectorFactory.seed = saved_seed
    return {
        "smoke": smoke,
        "candidates": list(CANDIDATES),
        "messages": {
            "corpus": len(corpus),
            "short": len(short),
            "unsupported": len(unsupported),
            "by_language": {
                lang: sum(1 for row in corpus if row[0] == lang) for lang in CANDIDATES
            },
            "by_bucket": {b: sum(1 for row in corpus if bucket(row[1]) == b) for b in BUCKETS},
        },
        "methods": methods,
        "targets": {name: _meets_targets(figures) for name, figures in methods.items()},
    }


# --- printing -----------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return (
        "   -" if value is None else f"{100 * value:4.0f}" if value == 1 else f"{100 * value:4.1f}"
    )


def format_report(results: dict[str, Any]) -> str:
    counts = results["messages"]
    out = [
        f"Language detection, candidates {' '.join(results['candidates'])}"
        + (" (smoke subset)" if results["smoke"] else ""),
        f"corpus: {counts['corpus']} messages "
        + ", ".join(f"{lang} {n}" for lang, n in counts["by_language"].items())
        + " | "
        + ", ".join(f"{b}: {n}" for b, n in counts["by_bucket"].items())
        + f" | <10 chars: {counts['short']} | unsupported languages: {counts['unsupported']}",
        "",
        "% correct by language and length; unknown/wrong over the whole corpus; "
        "<10 and unsupp.: % wrong (unknown is right there)",
    ]
    langs = list(counts["by_language"])
    head = (
        f"{'method':<11}"
        + "".join(f"{lang:>6}" for lang in langs)
        + " |"
        + "".join(f"{b:>7}" for b in (*BUCKETS, "30+"))
        + " | unknown  wrong | <10 unsupp. | ms mean    p99   load"
    )
    out += [head, "-" * len(head)]
    for name, f in results["methods"].items():
        out.append(
            f"{name:<11}"
            + "".join(f"{_pct(f['by_language'].get(lang)):>6}" for lang in langs)
            + " |"
            + "".join(f"{_pct(f['by_bucket'][b]):>7}" for b in (*BUCKETS, "30+"))
            + f" |  {_pct(f['unknown_rate']):>6} {_pct(f['wrong_rate']):>6}"
            + f" | {_pct(f['short']['wrong_rate']):>3} {_pct(f['unsupported']['wrong_rate']):>7}"
            + f" | {f['ms_mean']:7.3f} {f['ms_p99']:6.3f} {f['load_ms']:6.0f}"
        )
    ours, plain = results["methods"]["ours"], results["methods"]["langdetect"]
    out += ["", "% correct by language and length, ours / langdetect"]
    out.append(f"{'lang':<6}" + "".join(f"{b:>16}" for b in BUCKETS))
    for lang in langs:
        mine, theirs = ours["by_language_bucket"][lang], plain["by_language_bucket"][lang]
        cells = (f"{_pct(mine[b])} / {_pct(theirs[b])}" for b in BUCKETS)
        out.append(f"{lang:<6}" + "".join(f"{cell:>16}" for cell in cells))
    out += [
        "",
        "targets: "
        + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in results["targets"]["ours"].items()),
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_detect", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="a small subset, quick")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    results = run(smoke=args.smoke)
    print(json.dumps(results, indent=2) if args.json else format_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
