"""Results figures against hand-computed values, the CSV parsed back, charts as PNG."""

from __future__ import annotations

import csv
import io
import struct
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Catalogs
from bot.services.charts import PNG_SIGNATURE, bar_chart
from bot.services.survey_definitions import check_survey
from bot.services.surveys import Asking, Survey, build_csv, compute_results
from bot.storage.surveys import Answer, Response, SurveyData
from bot.views import surveys as views

NY = ZoneInfo("America/New_York")

SURVEY = """\
id = "figures"
anonymous = true
title = { en = "Figures", es = "Cifras" }
intro = { en = "Intro", es = "Intro" }

[[questions]]
id = "score"
type = "rating"
text = { en = "Score?", es = "¿Nota?" }

[[questions]]
id = "again"
type = "yes_no"
text = { en = "Again?", es = "¿Otra vez?" }

[[questions]]
id = "topics"
type = "multiple_choice"
skippable = true
text = { en = "Topics?", es = "¿Temas?" }
options = [
  { id = "a", label = { en = "Alpha", es = "Alfa" } },
  { id = "b", label = { en = "Bravo", es = "Bravo" } },
  { id = "c", label = { en = "Charlie", es = "Carlos" } },
]

[[questions]]
id = "note"
type = "text"
skippable = true
text = { en = "Note?", es = "¿Nota?" }
"""


def make_survey(*, anonymous: bool = True) -> Survey:
    text = SURVEY if anonymous else SURVEY.replace("anonymous = true", "anonymous = false")
    result = check_survey(text, languages=("en", "es"), default_language="en", timezone=NY)
    assert result.definition is not None, result.report()
    return Survey(result.definition, "open")


def response(
    rid: str, language: str, *, complete: bool = True, event: int | None = None
) -> Response:
    return Response(
        id=rid,
        survey_id="figures",
        respondent=f"key-{rid}",
        language=language,
        started_on="2026-12-01",
        status="complete" if complete else "in_progress",
        event_id=event,
        completed_on="2026-12-01" if complete else None,
        user_id=None,
    )


def data() -> SurveyData:
    responses = [
        response("r1", "en", event=7),
        response("r2", "en"),
        response("r3", "es", event=7),
        response("r4", "es", complete=False),
    ]
    answers = [
        Answer("r1", "score", 5),
        Answer("r1", "again", "yes"),
        Answer("r1", "topics", ["a", "b"]),
        Answer("r1", "note", "Great meeting, thanks", text_language="en"),
        Answer("r2", "score", 4),
        Answer("r2", "again", "no"),
        Answer("r2", "topics", ["b"]),
        Answer("r2", "note", None, skipped=True),
        Answer("r3", "score", 4),
        Answer("r3", "again", "yes"),
        Answer("r3", "topics", None, skipped=True),
        Answer("r3", "note", "=SUM(A1) señora", text_language=None),
        Answer("r4", "score", 2),
    ]
    return SurveyData(responses=responses, answers=answers, invited=4)


def test_figures_match_hand_computed_values() -> None:
    results = compute_results(make_survey(), data())
    assert (results.responses, results.complete, results.partial) == (4, 3, 1)
    assert results.invited == 4 and results.invited_complete == 2
    assert results.response_rate == 0.5  # 2 complete invited responses of 4 invitations
    assert results.completion_rate == 0.75
    assert dict(results.languages) == {"en": 2, "es": 2}

    score, again, topics, note = results.questions
    # Ratings 5, 4, 4, 2 (the unfinished response's answer counts too).
    assert score.answered == 4 and score.skipped == 0
    assert score.mean == pytest.approx(3.75)
    assert [(c.key, c.count) for c in score.counts] == [
        ("1", 0),
        ("2", 1),
        ("3", 0),
        ("4", 2),
        ("5", 1),
    ]
    assert [c.share for c in score.counts] == [0.0, 0.25, 0.0, 0.5, 0.25]
    assert score.by_language["en"].mean == pytest.approx(4.5)
    assert score.by_language["es"].mean == pytest.approx(3.0)
    assert score.by_language["es"].answered == 2

    assert again.answered == 3
    assert [(c.key, c.count) for c in again.counts] == [("yes", 2), ("no", 1)]
    assert again.counts[0].share == pytest.approx(2 / 3)
    assert [(c.key, c.count) for c in again.by_language["en"].counts] == [("yes", 1), ("no", 1)]

    # Multiple choice: shares are of the people who answered, so they add up past 100%.
    assert (topics.answered, topics.skipped) == (2, 1)
    assert [(c.key, c.count, c.share) for c in topics.counts] == [
        ("a", 1, 0.5),
        ("b", 2, 1.0),
        ("c", 0, 0.0),
    ]

    assert (note.answered, note.skipped) == (2, 1)
    assert [(t.text, t.language, t.response_language) for t in note.texts] == [
        ("Great meeting, thanks", "en", "en"),
        ("=SUM(A1) señora", None, "es"),
    ]


def test_no_invitations_means_no_response_rate() -> None:
    empty = compute_results(make_survey(), SurveyData())
    assert empty.responses == 0 and empty.response_rate is None and empty.completion_rate is None
    assert all(q.answered == 0 for q in empty.questions)


def test_results_text_shows_the_figures(catalogs: Catalogs) -> None:
    tr = catalogs.get("en")
    results = compute_results(make_survey(), data())
    text = "\n\n".join(views.results_texts(tr, results, now=0.0))
    assert "Responses: 4 (3 complete, 1 unfinished)" in text
    assert "Invited after events: 4 · response rate: 50%" in text
    assert "Completion rate: 75%" in text
    assert "Languages: English 2 · Spanish 2" in text
    assert "Average: 3.75 out of 5" in text
    assert "4 ★ — 2 (50%)" in text and "2 ★ — 1 (25%)" in text
    assert "English: average 4.5 (2 answers)" in text
    assert "Spanish: average 3 (2 answers)" in text
    assert "Yes — 2 (67%)" in text
    assert "Bravo — 2 (100%)" in text and "Charlie — 0 (0%)" in text
    assert "“Great meeting, thanks” — English" in text
    assert "“=SUM(A1) señora” — language unknown" in text


def test_counts_next_to_a_noun_agree_with_one(catalogs: Catalogs) -> None:
    en, es = catalogs.get("en"), catalogs.get("es")
    one_each = SurveyData(
        responses=[response("r1", "en"), response("r2", "es")],
        answers=[Answer("r1", "score", 5), Answer("r2", "score", 2)],
    )
    results = compute_results(make_survey(), one_each)
    assert "English: average 5 (1 answer)" in "\n".join(views.results_texts(en, results, now=0.0))
    assert "(1 respuesta)" in "\n".join(views.results_texts(es, results, now=0.0))
    survey = make_survey()
    (note,) = [q for q in survey.definition.questions if q.id == "note"]
    for limit, english, spanish in (
        (1, "(up to 1 character)", "(hasta 1 carácter)"),
        (2, "(up to 2 characters)", "(hasta 2 caracteres)"),
    ):
        asking = Asking(survey, replace(note, max_length=limit), 4, 4, 1)
        assert english in views.question_view(en, asking).text
        assert spanish in views.question_view(es, asking).text


def test_results_are_split_into_telegram_sized_messages(catalogs: Catalogs) -> None:
    tr = catalogs.get("en")
    base = data()
    many = [
        Answer(f"x{i}", "note", f"comment number {i} " + "x" * 150, text_language="en")
        for i in range(60)
    ]
    extra = [response(f"x{i}", "en") for i in range(60)]
    results = compute_results(
        make_survey(),
        SurveyData(base.responses + extra, base.answers + many, base.invited),
    )
    messages = views.results_texts(tr, results, now=0.0)
    assert len(messages) > 1
    assert all(len(message) <= views.MESSAGE_LIMIT for message in messages)
    joined = "\n".join(messages)
    assert "… and 22 more in /export figures" in joined  # 62 texts, 40 shown


def test_csv_parses_back_with_accents_and_no_formulas(catalogs: Catalogs) -> None:
    raw = build_csv(make_survey(), data(), catalogs.get("en"))
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets then read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "response",
        "status",
        "language",
        "event",
        "started",
        "completed",
        "score",
        "again",
        "topics",
        "note",
        "note_language",
    ]  # anonymous: no user column
    by_id = {row["response"]: row for row in rows}
    assert by_id["r1"]["topics"] == "Alpha; Bravo"
    assert by_id["r1"]["again"] == "Yes" and by_id["r1"]["event"] == "7"
    assert by_id["r2"]["note"] == "(skipped)"
    assert by_id["r3"]["note"] == "'=SUM(A1) señora"  # never run as a formula
    assert by_id["r3"]["note_language"] == ""
    assert by_id["r4"]["status"] == "in_progress" and by_id["r4"]["score"] == "2"
    assert by_id["r4"]["again"] == "" and by_id["r4"]["completed"] == ""


def test_csv_of_a_named_survey_has_the_user_and_labels_in_the_translator_language(
    catalogs: Catalogs,
) -> None:
    named = data()
    responses = [replace(r, user_id=1000 + i) for i, r in enumerate(named.responses)]
    raw = build_csv(
        make_survey(anonymous=False),
        SurveyData(responses, named.answers, named.invited),
        catalogs.get("es"),
    )
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["user_id"] == "1000"
    assert rows[0]["topics"] == "Alfa; Bravo"


def test_bar_chart_is_a_valid_png() -> None:
    image = bar_chart(
        "¿Qué tal la reunión? — a long title that needs wrapping to fit the chart width",
        ["1", "2", "Vivienda y más opciones con acentos", "4", "5"],
        [0, 1, 0, 2, 1],
        annotations=["0 (0%)", "1 (25%)", "0 (0%)", "2 (50%)", "1 (25%)"],
    )
    assert image.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", image[8:16])
    width, height = struct.unpack(">II", image[16:24])
    assert kind == b"IHDR" and length == 13 and width > 300 and height > 150
    assert image.endswith(b"IEND\xaeB`\x82")
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(image), format="png")
    assert pixels.shape[0] == height and pixels.shape[1] == width


def test_bar_chart_with_no_answers_and_bad_arguments() -> None:
    assert bar_chart("Empty", ["a", "b"], [0, 0]).startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError):
        bar_chart("Bad", ["a"], [1, 2])
    with pytest.raises(ValueError):
        bar_chart("Bad", ["a"], [1], annotations=["1", "2"])


def test_chart_specs_cover_questions_answered_with_buttons(catalogs: Catalogs) -> None:
    tr = catalogs.get("en")
    specs = views.charts(tr, compute_results(make_survey(), data()))
    assert [spec.title for spec in specs] == ["1. Score?", "2. Again?", "3. Topics?"]
    assert specs[0].labels == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]
    assert specs[0].values == [0, 1, 0, 2, 1]
    assert specs[0].annotations[3] == "2 (50%)"
    assert specs[2].labels == ["Alpha", "Bravo", "Charlie"] and specs[2].values == [1, 2, 0]
    assert specs[0].caption == "1. Score? — 4 answers"


def test_typed_answers_ignore_case_and_accents() -> None:
    from bot.views.surveys import _folded

    assert _folded(" Sí ") == _folded("si") == _folded("SI")
    assert _folded("Não") == _folded("nao")
    assert _folded("Po") != _folded("Jo")
