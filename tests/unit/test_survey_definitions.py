"""Survey files: the example is valid; every kind of mistake is found with its line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import PROJECT_ROOT, City
from bot.services.survey_definitions import (
    CheckResult,
    SurveyDefinition,
    check_survey,
    load_survey_file,
)
from bot.services.surveys import progress, shown_questions

EXAMPLE = PROJECT_ROOT / "surveys" / "community-meeting.toml"
NY = ZoneInfo("America/New_York")

GOOD = """\
id = "demo"
anonymous = false
title = { en = "Demo", es = "Demostración" }
intro = { en = "Hi", es = "Hola" }

[[questions]]
id = "happy"
type = "yes_no"
text = { en = "Happy?", es = "¿Contento?" }

[[questions]]
id = "why"
type = "text"
max_length = 50
show_if = { question = "happy", answers = ["no"] }
text = { en = "Why not?", es = "¿Por qué no?" }
"""


def check(text: str, languages: tuple[str, ...] = ("en", "es")) -> CheckResult:
    return check_survey(
        text, languages=languages, default_language="en", timezone=NY, filename="s.toml"
    )


def problems(text: str) -> list[tuple[int, str]]:
    result = check(text)
    assert result.definition is None, "a broken file must not produce a definition"
    return [(p.line, p.format("s.toml")) for p in result.problems]


def test_example_survey_is_valid_for_the_example_city(city: City) -> None:
    result = load_survey_file(
        EXAMPLE,
        languages=city.languages,
        default_language=city.default_language,
        timezone=city.timezone,
    )
    assert result.problems == ()
    survey = result.definition
    assert survey is not None and survey.id == "community-meeting" and survey.anonymous
    assert survey.title("en") == "How was tonight's community meeting?"
    assert survey.title("es").startswith("¿Qué tal la reunión")
    assert [q.type for q in survey.questions] == [
        "rating",
        "yes_no",
        "single_choice",
        "multiple_choice",
        "text",
    ]
    assert survey.after_event_types == ("meeting",) and survey.send_after_hours == 1.0


def test_example_has_every_language_the_project_ships() -> None:
    result = load_survey_file(
        EXAMPLE,
        languages=("en", "es", "pt", "vi", "ar", "sq"),
        default_language="en",
        timezone=NY,
    )
    assert result.ok, result.report()


def test_good_file_round_trips_through_its_stored_form() -> None:
    result = check(GOOD)
    assert result.ok
    survey = result.definition
    assert survey is not None
    assert SurveyDefinition.from_dict(survey.to_dict()) == survey
    why = survey.question("why")
    assert why is not None and why.max_length == 50 and why.condition is not None
    assert why.condition.answers == ("no",)


def test_missing_language_is_reported_on_its_line() -> None:
    text = GOOD.replace(
        'text = { en = "Why not?", es = "¿Por qué no?" }', 'text = { en = "Why not?" }'
    )
    found = problems(text)
    assert found == [
        (
            16,
            's.toml:16: questions[1].text (question "why"): missing translation for es'
            " (every enabled language is needed: en, es)",
        )
    ]


def test_missing_language_in_an_option_table_is_reported_on_the_label_line() -> None:
    text = GOOD + (
        '\n[[questions]]\nid = "pick"\ntype = "single_choice"\n'
        'text = { en = "Pick", es = "Elija" }\n'
        '[[questions.options]]\nid = "a"\nlabel.en = "A"\nlabel.es = "A"\n'
        '[[questions.options]]\nid = "b"\nlabel.en = "B"\n'
    )
    found = problems(text)
    assert len(found) == 1
    line, message = found[0]
    assert text.splitlines()[line - 1] == 'label.en = "B"'
    assert "questions[2].options[1].label" in message and "missing translation for es" in message


def test_condition_on_a_later_question_is_refused() -> None:
    text = """\
id = "later"
anonymous = true
title = { en = "T", es = "T" }
intro = { en = "I", es = "I" }

[[questions]]
id = "first"
type = "yes_no"
show_if = { question = "second", answers = ["yes"] }
text = { en = "Q1", es = "P1" }

[[questions]]
id = "second"
type = "yes_no"
text = { en = "Q2", es = "P2" }
"""
    [(line, message)] = problems(text)
    assert line == 9
    assert "'second' is asked later (question 2)" in message
    assert "questions[0].show_if.question" in message


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('{ question = "nope", answers = ["yes"] }', "there is no question 'nope'"),
        ('{ question = "happy", answers = ["maybe"] }', "'maybe' is not a possible answer"),
        ('{ question = "happy", answers = [] }', "non-empty list of answers"),
        ('{ question = "why", answers = ["x"] }', "a question cannot depend on its own answer"),
    ],
)
def test_bad_conditions_are_refused(condition: str, expected: str) -> None:
    text = GOOD.replace('{ question = "happy", answers = ["no"] }', condition)
    found = problems(text)
    assert len(found) == 1 and found[0][0] == 15
    assert expected in found[0][1]


def test_condition_on_a_free_text_question_is_refused() -> None:
    text = GOOD + (
        '\n[[questions]]\nid = "more"\ntype = "yes_no"\n'
        'show_if = { question = "why", answers = ["x"] }\n'
        'text = { en = "More?", es = "¿Más?" }\n'
    )
    [(line, message)] = problems(text)
    assert line == 21 and "conditions need a question answered with buttons" in message


def test_duplicate_ids_are_reported_where_the_second_one_is() -> None:
    text = GOOD.replace('id = "why"', 'id = "happy"').replace(
        'show_if = { question = "happy", answers = ["no"] }\n', ""
    )
    [(line, message)] = problems(text)
    assert line == 12 and "duplicate question id 'happy' (also question 1)" in message


def test_duplicate_option_ids_unknown_types_and_typos_are_all_listed() -> None:
    text = """\
id = "many"
anonymous = true
title = { en = "T", es = "T" }
intro = { en = "I", es = "I" }
tilte = "typo"

[[questions]]
id = "kind"
type = "stars"
text = { en = "Q", es = "P" }

[[questions]]
id = "pick"
type = "single_choice"
text = { en = "Q", es = "P" }
options = [
  { id = "a", label = { en = "A", es = "A" } },
  { id = "a", label = { en = "B", es = "B" } },
]

[[questions]]
id = "yn"
type = "yes_no"
max_length = 10
text = { en = "Q", es = "P" }
"""
    found = problems(text)
    lines = [line for line, _ in found]
    assert lines == [5, 9, 18, 24]
    messages = "\n".join(message for _, message in found)
    assert "tilte: unknown key" in messages
    assert "question type 'stars'" in messages
    assert "duplicate option id 'a'" in messages
    assert "only text questions have a max_length" in messages


def test_missing_anonymous_title_and_questions() -> None:
    found = problems('id = "bare"\n')
    messages = "\n".join(message for _, message in found)
    assert "anonymous: missing" in messages
    assert "title: missing" in messages and "intro: missing" in messages
    assert "no questions" in messages


def test_toml_syntax_error_gives_its_line() -> None:
    text = GOOD.replace('type = "text"', 'type = "text')
    [(line, message)] = problems(text)
    assert line == 13 and "not valid TOML" in message


def test_dates_and_event_follow_up_settings() -> None:
    text = GOOD.replace(
        "anonymous = false\n",
        'anonymous = false\nopens = 2026-12-01\ncloses = "2026-12-31"\n'
        'after_event_types = ["community_meeting", "workshop"]\nsend_after_hours = 2\n',
    )
    result = check(text)
    assert result.ok, result.report()
    survey = result.definition
    assert survey is not None
    assert survey.opens_at == datetime(2026, 12, 1, tzinfo=NY).timestamp()
    assert survey.closes_at == datetime(2027, 1, 1, tzinfo=NY).timestamp()  # end of the 31st
    assert survey.after_event_types == ("meeting", "workshop")  # long names are accepted
    assert survey.send_after_hours == 2.0


def test_bad_dates_and_follow_up_settings() -> None:
    text = GOOD.replace(
        "anonymous = false\n",
        "anonymous = false\nopens = 2026-12-31\ncloses = 2026-12-01\n"
        'after_event_types = ["party"]\n',
    )
    found = problems(text)
    messages = "\n".join(message for _, message in found)
    assert "s.toml:4: closes: the survey must close after it opens" in messages
    assert "s.toml:5: after_event_types[0]: unknown event type 'party'" in messages
    alone = GOOD.replace("anonymous = false\n", "anonymous = false\nsend_after_hours = 2\n")
    assert "only used with after_event_types" in problems(alone)[0][1]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    missing = load_survey_file(
        tmp_path / "nope.toml", languages=("en",), default_language="en", timezone=NY
    )
    assert not missing.ok and "cannot read the file" in missing.report()[0]
    latin = tmp_path / "latin.toml"
    latin.write_bytes('title = "Demostración"'.encode("latin-1"))
    broken = load_survey_file(latin, languages=("en",), default_language="en", timezone=NY)
    assert not broken.ok and "not UTF-8" in broken.report()[0]


def test_shown_questions_and_progress_follow_conditions() -> None:
    result = check(GOOD)
    survey = result.definition
    assert survey is not None
    assert [q.id for q in shown_questions(survey, {})] == ["happy"]
    assert [q.id for q in shown_questions(survey, {"happy": "no"})] == ["happy", "why"]
    assert [q.id for q in shown_questions(survey, {"happy": None})] == ["happy"]  # skipped
    # Before "happy" is answered "why" may still come: the total never grows later.
    assert progress(survey, {}, "happy") == (1, 2)
    assert progress(survey, {"happy": "yes"}, "happy") == (1, 1)
    assert progress(survey, {"happy": "no"}, "why") == (2, 2)
