"""Survey definitions: TOML files under `surveys/`, validated with line-precise messages.

A survey file holds the survey's id, its title, intro and every question in each of the
city's enabled languages, whether it is anonymous, and optionally when it opens and
closes and which kinds of event it follows up. The checker never stops at the first
problem: `resident-bot surveys check FILE` lists every one with its line number, so a
program coordinator can fix a file in one go.

    id = "community-meeting"
    anonymous = true
    after_event_types = ["meeting"]  # optional: meeting, workshop, youth, community
    send_after_hours = 1                         # how long after the end
    opens = 2026-01-01                           # optional dates (city time)
    closes = 2027-12-31
    title = { en = "...", es = "..." }
    intro = { en = "...", es = "..." }

    [[questions]]
    id = "overall"
    type = "rating"            # rating | single_choice | multiple_choice | yes_no | text
    text = { en = "...", es = "..." }
    skippable = true           # optional, default false
    show_if = { question = "earlier-id", answers = ["option-id", ...] }   # optional
    max_length = 500           # text questions only
    [[questions.options]]      # single_choice and multiple_choice only
    id = "safety"
    label = { en = "...", es = "..." }
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.storage.events import EVENT_TYPES as _EVENT_TYPES

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")

RATING = "rating"
SINGLE = "single_choice"
MULTIPLE = "multiple_choice"
YES_NO = "yes_no"
TEXT = "text"
QUESTION_TYPES = (RATING, SINGLE, MULTIPLE, YES_NO, TEXT)
CLOSED_TYPES = (RATING, SINGLE, MULTIPLE, YES_NO)
RATING_VALUES = (1, 2, 3, 4, 5)
YES_NO_VALUES = ("yes", "no")

# The kinds of event the events feature knows, and the longer names people also write.
EVENT_TYPES = _EVENT_TYPES
EVENT_TYPE_ALIASES = {
    "community_meeting": "meeting",
    "youth_program": "youth",
    "community_event": "community",
}

MAX_QUESTIONS = 30
MAX_OPTIONS = 12
MAX_LABEL = 64  # longer button labels are cut off on phones
MAX_QUESTION_TEXT = 1000
MAX_TITLE = 200
MAX_INTRO = 2000
DEFAULT_TEXT_LENGTH = 1000
MAX_TEXT_LENGTH = 3500
MAX_SEND_AFTER_HOURS = 14 * 24

_TOP_KEYS = {
    "id",
    "anonymous",
    "title",
    "intro",
    "after_event_types",
    "send_after_hours",
    "opens",
    "closes",
    "questions",
}
_QUESTION_KEYS = {"id", "type", "text", "skippable", "show_if", "max_length", "options"}
_OPTION_KEYS = {"id", "label"}
_CONDITION_KEYS = {"question", "answers"}

Path_ = tuple[str | int, ...]


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    labels: Mapping[str, str]

    def label(self, language: str, fallback: str) -> str:
        return self.labels.get(language) or self.labels.get(fallback) or self.id


@dataclass(frozen=True, slots=True)
class Condition:
    """Show a question only when an earlier question's answer is one of `answers`."""

    question: str
    answers: tuple[str, ...]

    def matches(self, value: Any) -> bool:
        """Whether a stored answer value (int, str or list of option ids) satisfies it."""
        if value is None:
            return False
        if isinstance(value, list):
            return any(str(item) in self.answers for item in value)
        return str(value) in self.answers


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: str
    texts: Mapping[str, str]
    options: tuple[Option, ...] = ()
    skippable: bool = False
    max_length: int = DEFAULT_TEXT_LENGTH
    condition: Condition | None = None

    def text(self, language: str, fallback: str) -> str:
        return self.texts.get(language) or self.texts.get(fallback) or self.id

    @property
    def closed(self) -> bool:
        """A question answered with buttons (its results can be charted)."""
        return self.type in CLOSED_TYPES

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, slots=True)
class SurveyDefinition:
    id: str
    titles: Mapping[str, str]
    intros: Mapping[str, str]
    anonymous: bool
    questions: tuple[Question, ...]
    default_language: str
    after_event_types: tuple[str, ...] = ()
    send_after_hours: float | None = None
    opens_at: float | None = None
    closes_at: float | None = None

    def title(self, language: str) -> str:
        return self.titles.get(language) or self.titles.get(self.default_language) or self.id

    def intro(self, language: str) -> str:
        return self.intros.get(language) or self.intros.get(self.default_language) or ""

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def index(self, question_id: str) -> int:
        return next(i for i, q in enumerate(self.questions) if q.id == question_id)

    @property
    def post_event(self) -> bool:
        return bool(self.after_event_types)

    def structure(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """What stored answers depend on: question ids, types and option ids."""
        return [(q.id, q.type, tuple(o.id for o in q.options)) for q in self.questions]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, stored with the published survey."""
        return {
            "id": self.id,
            "titles": dict(self.titles),
            "intros": dict(self.intros),
            "anonymous": self.anonymous,
            "default_language": self.default_language,
            "after_event_types": list(self.after_event_types),
            "send_after_hours": self.send_after_hours,
            "opens_at": self.opens_at,
            "closes_at": self.closes_at,
            "questions": [
                {
                    "id": q.id,
                    "type": q.type,
                    "texts": dict(q.texts),
                    "options": [{"id": o.id, "labels": dict(o.labels)} for o in q.options],
                    "skippable": q.skippable,
                    "max_length": q.max_length,
                    "condition": None
                    if q.condition is None
                    else {"question": q.condition.question, "answers": list(q.condition.answers)},
                }
                for q in self.questions
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SurveyDefinition:
        questions = []
        for q in data["questions"]:
            condition = q.get("condition")
            questions.append(
                Question(
                    id=q["id"],
                    type=q["type"],
                    texts=dict(q["texts"]),
                    options=tuple(Option(o["id"], dict(o["labels"])) for o in q["options"]),
                    skippable=bool(q["skippable"]),
                    max_length=int(q["max_length"]),
                    condition=None
                    if condition is None
                    else Condition(condition["question"], tuple(condition["answers"])),
                )
            )
        return cls(
            id=data["id"],
            titles=dict(data["titles"]),
            intros=dict(data["intros"]),
            anonymous=bool(data["anonymous"]),
            questions=tuple(questions),
            default_language=data["default_language"],
            after_event_types=tuple(data.get("after_event_types") or ()),
            send_after_hours=data.get("send_after_hours"),
            opens_at=data.get("opens_at"),
            closes_at=data.get("closes_at"),
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a survey file, with where it is."""

    line: int
    key: str
    message: str

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    definition: SurveyDefinition | None
    problems: tuple[Problem, ...]
    source: str = ""
    filename: str = ""

    @property
    def ok(self) -> bool:
        return self.definition is not None and not self.problems

    def report(self) -> list[str]:
        return [problem.format(self.filename) for problem in self.problems]


# --------------------------------------------------------------------------- line numbers


def format_key(path: Path_) -> str:
    """`("questions", 2, "text", "es")` -> `questions[2].text.es`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class _Locator:
    """Where each key of a (syntactically valid) TOML document is written.

    tomllib keeps no positions, so this scanner walks the text once, following tables,
    arrays of tables, dotted keys, inline tables and multi-line arrays, and remembers the
    line of every key path. Only used on text tomllib has already accepted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path_, int] = {}
        self._arrays: dict[Path_, int] = {}
        self._scan()

    def line_of(self, path: Path_) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    # -- scanning ------------------------------------------------------------------------

    def _record(self, path: Path_, line: int | None = None) -> None:
        self.lines.setdefault(path, self.line if line is None else line)

    def _peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def _advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.pos < len(self.text):
                if self.text[self.pos] == "\n":
                    self.line += 1
                self.pos += 1

    def _skip_space(self, *, newlines: bool) -> None:
        while self.pos < len(self.text):
            char = self._peek()
            if char in " \t\r" or (newlines and char == "\n"):
                self._advance()
            elif char == "#":
                while self.pos < len(self.text) and self._peek() != "\n":
                    self._advance()
            else:
                return

    def _scan(self) -> None:
        table: Path_ = ()
        while True:
            self._skip_space(newlines=True)
            if self.pos >= len(self.text):
                return
            if self._peek() == "[":
                table = self._header()
            else:
                self._key_value(table)

    def _resolve(self, parts: Sequence[str]) -> Path_:
        path: Path_ = ()
        for part in parts:
            path = (*path, part)
            if path in self._arrays:
                path = (*path, self._arrays[path])
        return path

    def _header(self) -> Path_:
        line = self.line
        is_array = self._peek(1) == "["
        self._advance(2 if is_array else 1)
        self._skip_space(newlines=False)
        parts = self._key()
        self._skip_space(newlines=False)
        self._advance(2 if is_array else 1)
        if is_array:
            parent = self._resolve(parts[:-1])
            full: Path_ = (*parent, parts[-1])
            index = self._arrays.get(full, -1) + 1
            self._arrays[full] = index
            self._record(full, line)
            path: Path_ = (*full, index)
        else:
            path = self._resolve(parts)
        self._record(path, line)
        return path

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._skip_space(newlines=False)
            char = self._peek()
            if char in "\"'":
                parts.append(self._string())
            else:
                start = self.pos
                while self.pos < len(self.text) and (
                    self._peek().isalnum() or self._peek() in "_-"
                ):
                    self._advance()
                parts.append(self.text[start : self.pos])
            self._skip_space(newlines=False)
            if self._peek() == ".":
                self._advance()
                continue
            return parts

    def _key_value(self, base: Path_) -> None:
        line = self.line
        parts = self._key()
        path: Path_ = base
        for part in parts:
            path = (*path, part)
            self._record(path, line)
        self._skip_space(newlines=False)
        if self._peek() == "=":
            self._advance()
        self._skip_space(newlines=False)
        self._value(path)

    def _value(self, path: Path_) -> None:
        char = self._peek()
        if char in "\"'":
            self._string()
        elif char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        else:
            while self.pos < len(self.text) and self._peek() not in ",]}#\n":
                self._advance()

    def _string(self) -> str:
        quote = self._peek()
        if self.text.startswith(quote * 3, self.pos):
            self._advance(3)
            end = self.text.find(quote * 3, self.pos)
            end = len(self.text) if end < 0 else end
            # A closing run may hold up to two extra quotes that belong to the string.
            while self.text.startswith(quote, end + 3):
                end += 1
            value = self.text[self.pos : end]
            self._advance(end - self.pos + 3)
            return value
        self._advance()
        start = self.pos
        while self.pos < len(self.text) and self._peek() != quote:
            if quote == '"' and self._peek() == "\\":
                self._advance()
            self._advance()
        value = self.text[start : self.pos]
        self._advance()
        return value

    def _array(self, path: Path_) -> None:
        self._advance()
        index = 0
        while True:
            self._skip_space(newlines=True)
            if self.pos >= len(self.text) or self._peek() == "]":
                self._advance()
                return
            if self._peek() == ",":
                self._advance()
                continue
            self._record((*path, index))
            self._value((*path, index))
            index += 1

    def _inline_table(self, path: Path_) -> None:
        self._advance()
        while True:
            self._skip_space(newlines=True)
            if self.pos >= len(self.text) or self._peek() == "}":
                self._advance()
                return
            if self._peek() == ",":
                self._advance()
                continue
            self._key_value(path)


# --------------------------------------------------------------------------- checking


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


class _Checker:
    """Walks the parsed TOML, collecting every problem with its line."""

    def __init__(
        self,
        data: dict[str, Any],
        locator: _Locator,
        *,
        languages: tuple[str, ...],
        default_language: str,
        timezone: ZoneInfo,
    ) -> None:
        self.data = data
        self.locator = locator
        self.languages = languages
        self.default_language = default_language
        self.timezone = timezone
        self.problems: list[Problem] = []

    def problem(self, path: Path_, message: str) -> None:
        key = format_key(path)
        if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
            questions = self.data.get("questions")
            if isinstance(questions, list) and path[1] < len(questions):
                question_id = (
                    questions[path[1]].get("id") if isinstance(questions[path[1]], dict) else None
                )
                if isinstance(question_id, str):
                    key += f' (question "{question_id}")'
        self.problems.append(Problem(self.locator.line_of(path), key, message))

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], path: Path_) -> None:
        for key in table:
            if key not in allowed:
                self.problem(
                    (*path, key),
                    f"unknown key; expected one of {', '.join(sorted(allowed))}",
                )

    def localized(
        self, table: Mapping[str, Any], key: str, path: Path_, *, limit: int
    ) -> dict[str, str]:
        where = (*path, key)
        value = table.get(key)
        if value is None:
            self.problem(
                where,
                f"missing; give it in every enabled language ({', '.join(self.languages)}),"
                f' e.g. {key} = {{ {self.languages[0]} = "..." }}',
            )
            return {}
        if not isinstance(value, dict):
            self.problem(where, "expected a table with one text per language")
            return {}
        texts: dict[str, str] = {}
        for language, text in value.items():
            if not _is_text(text):
                self.problem((*where, language), "expected a non-empty text")
            elif len(text) > limit:
                self.problem((*where, language), f"too long ({len(text)} characters, max {limit})")
            else:
                texts[language] = text
        missing = [code for code in self.languages if code not in value]
        if missing:
            self.problem(
                where,
                f"missing translation for {', '.join(missing)}"
                f" (every enabled language is needed: {', '.join(self.languages)})",
            )
        return texts

    def identifier(self, table: Mapping[str, Any], path: Path_, what: str) -> str | None:
        value = table.get("id")
        if value is None:
            self.problem(path, f"{what} has no id")
            return None
        if not isinstance(value, str) or not _ID_RE.match(value):
            self.problem(
                (*path, "id"),
                f"{value!r} is not a valid id: use 1-31 lowercase letters, digits, '-' or '_'",
            )
            return None
        return value

    def boolean(self, table: Mapping[str, Any], key: str, path: Path_, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem((*path, key), f"expected true or false, found {value!r}")
            return default
        return value

    def moment(self, key: str, *, end_of_day: bool) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            parsed: date | datetime | None = None
            for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
                try:
                    parsed = datetime.strptime(value.strip(), pattern)
                except ValueError:
                    continue
                if pattern == "%Y-%m-%d":
                    parsed = parsed.date()
                break
            if parsed is None:
                self.problem((key,), f"expected a date like 2026-12-31, found {value!r}")
                return None
            value = parsed
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=self.timezone)
            return moment.timestamp()
        if isinstance(value, date):
            day = value + timedelta(days=1) if end_of_day else value
            return datetime.combine(day, time(0, 0), tzinfo=self.timezone).timestamp()
        self.problem((key,), f"expected a date like 2026-12-31, found {value!r}")
        return None

    def check(self) -> SurveyDefinition | None:
        data = self.data
        self.unknown_keys(data, _TOP_KEYS, ())
        survey_id = self.identifier(data, ("id",), "the survey")
        if "anonymous" not in data:
            self.problem(
                ("anonymous",),
                "missing; say anonymous = true (answers cannot be traced to anyone)"
                " or anonymous = false",
            )
        anonymous = self.boolean(data, "anonymous", (), True)
        titles = self.localized(data, "title", (), limit=MAX_TITLE)
        intros = self.localized(data, "intro", (), limit=MAX_INTRO)
        event_types = self.event_types()
        send_after = self.send_after(event_types)
        opens_at = self.moment("opens", end_of_day=False)
        closes_at = self.moment("closes", end_of_day=True)
        if opens_at is not None and closes_at is not None and closes_at <= opens_at:
            self.problem(("closes",), "the survey must close after it opens")
        questions = self.questions()
        if self.problems or survey_id is None:
            return None
        return SurveyDefinition(
            id=survey_id,
            titles=titles,
            intros=intros,
            anonymous=anonymous,
            questions=tuple(questions),
            default_language=self.default_language,
            after_event_types=event_types,
            send_after_hours=send_after,
            opens_at=opens_at,
            closes_at=closes_at,
        )

    def event_types(self) -> tuple[str, ...]:
        value = self.data.get("after_event_types", [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(("after_event_types",), "expected a list of event types")
            return ()
        kinds: list[str] = []
        for index, kind in enumerate(value):
            kind = EVENT_TYPE_ALIASES.get(kind, kind)
            if kind not in EVENT_TYPES:
                self.problem(
                    ("after_event_types", index),
                    f"unknown event type {value[index]!r}; expected one of"
                    f" {', '.join(EVENT_TYPES)}",
                )
            elif kind not in kinds:
                kinds.append(kind)
        return tuple(kinds)

    def send_after(self, event_types: tuple[str, ...]) -> float | None:
        value = self.data.get("send_after_hours")
        if value is None:
            return 1.0 if event_types else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(("send_after_hours",), f"expected a number of hours, found {value!r}")
            return None
        if not 0 <= value <= MAX_SEND_AFTER_HOURS:
            self.problem(
                ("send_after_hours",), f"expected 0 to {MAX_SEND_AFTER_HOURS} hours, found {value}"
            )
        if not event_types:
            self.problem(
                ("send_after_hours",),
                "only used with after_event_types (which events the survey follows up)",
            )
        return float(value)

    def questions(self) -> list[Question]:
        raw = self.data.get("questions")
        if raw is None:
            self.problem((), "the survey has no questions; add [[questions]] tables")
            return []
        if not isinstance(raw, list) or not all(isinstance(q, dict) for q in raw):
            self.problem(("questions",), "expected [[questions]] tables")
            return []
        if not raw:
            self.problem(("questions",), "the survey has no questions")
        if len(raw) > MAX_QUESTIONS:
            self.problem(
                ("questions",),
                f"{len(raw)} questions; keep it under {MAX_QUESTIONS}, residents stop answering",
            )
        seen: dict[str, int] = {}
        questions: list[Question] = []
        for index, table in enumerate(raw):
            path: Path_ = ("questions", index)
            question_id = self.identifier(table, path, f"question {index + 1}")
            if question_id is not None:
                if question_id in seen:
                    self.problem(
                        (*path, "id"),
                        f"duplicate question id {question_id!r}"
                        f" (also question {seen[question_id] + 1})",
                    )
                else:
                    seen[question_id] = index
            question = self.question(table, path, question_id or f"#{index + 1}", raw, index)
            if question is not None:
                questions.append(question)
        return questions

    def question(
        self,
        table: dict[str, Any],
        path: Path_,
        question_id: str,
        all_questions: list[dict[str, Any]],
        index: int,
    ) -> Question | None:
        self.unknown_keys(table, _QUESTION_KEYS, path)
        kind = table.get("type")
        if kind not in QUESTION_TYPES:
            shown = "missing" if kind is None else repr(kind)
            self.problem(
                (*path, "type") if kind is not None else path,
                f"question type {shown}; expected one of {', '.join(QUESTION_TYPES)}",
            )
        texts = self.localized(table, "text", path, limit=MAX_QUESTION_TEXT)
        skippable = self.boolean(table, "skippable", path, False)
        options = self.options(table, path, kind)
        max_length = DEFAULT_TEXT_LENGTH
        if "max_length" in table:
            value = table["max_length"]
            if kind != TEXT:
                self.problem((*path, "max_length"), "only text questions have a max_length")
            elif isinstance(value, bool) or not isinstance(value, int):
                self.problem((*path, "max_length"), f"expected a whole number, found {value!r}")
            elif not 1 <= value <= MAX_TEXT_LENGTH:
                self.problem(
                    (*path, "max_length"), f"expected 1 to {MAX_TEXT_LENGTH}, found {value}"
                )
            else:
                max_length = value
        condition = self.condition(table, path, all_questions, index)
        if not isinstance(kind, str) or kind not in QUESTION_TYPES:
            return None
        return Question(
            id=question_id,
            type=kind,
            texts=texts,
            options=tuple(options),
            skippable=skippable,
            max_length=max_length,
            condition=condition,
        )

    def options(self, table: dict[str, Any], path: Path_, kind: object) -> list[Option]:
        raw = table.get("options")
        where = (*path, "options")
        if kind not in (SINGLE, MULTIPLE):
            if raw is not None and kind in QUESTION_TYPES:
                self.problem(where, f"{kind} questions have no options")
            return []
        if raw is None:
            self.problem(path, f"{kind} questions need at least two [[questions.options]]")
            return []
        if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
            self.problem(where, "expected [[questions.options]] tables with id and label")
            return []
        if len(raw) < 2:
            self.problem(where, "give at least two options")
        if len(raw) > MAX_OPTIONS:
            self.problem(where, f"{len(raw)} options; at most {MAX_OPTIONS} fit on a phone")
        options: list[Option] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            option_path: Path_ = (*where, index)
            self.unknown_keys(item, _OPTION_KEYS, option_path)
            option_id = self.identifier(item, option_path, f"option {index + 1}")
            if option_id is not None and option_id in seen:
                self.problem((*option_path, "id"), f"duplicate option id {option_id!r}")
            labels = self.localized(item, "label", option_path, limit=MAX_LABEL)
            if option_id is not None:
                seen.add(option_id)
                options.append(Option(option_id, labels))
        return options

    def condition(
        self, table: dict[str, Any], path: Path_, all_questions: list[dict[str, Any]], index: int
    ) -> Condition | None:
        raw = table.get("show_if")
        if raw is None:
            return None
        where = (*path, "show_if")
        if not isinstance(raw, dict):
            self.problem(where, 'expected show_if = { question = "earlier-id", answers = ["..."] }')
            return None
        self.unknown_keys(raw, _CONDITION_KEYS, where)
        target = raw.get("question")
        answers = raw.get("answers")
        if not isinstance(target, str):
            self.problem((*where, "question"), "expected the id of an earlier question")
            return None
        positions = [i for i, q in enumerate(all_questions) if q.get("id") == target]
        if not positions:
            self.problem((*where, "question"), f"there is no question {target!r}")
            return None
        position = positions[0]
        if position == index:
            self.problem((*where, "question"), "a question cannot depend on its own answer")
            return None
        if position > index:
            self.problem(
                (*where, "question"),
                f"{target!r} is asked later (question {position + 1}); a condition can only"
                " use answers to earlier questions",
            )
            return None
        source = all_questions[position]
        if not isinstance(answers, list) or not answers:
            self.problem((*where, "answers"), "expected a non-empty list of answers")
            return None
        allowed = _answer_values(source)
        if allowed is None:
            self.problem(
                (*where, "question"),
                f"{target!r} is a {source.get('type')} question; conditions need a question"
                " answered with buttons",
            )
            return None
        values: list[str] = []
        for i, answer in enumerate(answers):
            value = _normalise_answer(answer, source.get("type"))
            if value is None or value not in allowed:
                self.problem(
                    (*where, "answers", i),
                    f"{answer!r} is not a possible answer to {target!r};"
                    f" expected one of {', '.join(allowed)}",
                )
            else:
                values.append(value)
        return Condition(target, tuple(values))


def _answer_values(question: Mapping[str, Any]) -> list[str] | None:
    kind = question.get("type")
    if kind == RATING:
        return [str(v) for v in RATING_VALUES]
    if kind == YES_NO:
        return list(YES_NO_VALUES)
    if kind in (SINGLE, MULTIPLE):
        options = question.get("options")
        if not isinstance(options, list):
            return []
        return [str(o.get("id")) for o in options if isinstance(o, dict)]
    return None


def _normalise_answer(answer: object, kind: object) -> str | None:
    if isinstance(answer, bool):
        return ("yes" if answer else "no") if kind == YES_NO else None
    if isinstance(answer, int | str):
        return str(answer)
    return None


# --------------------------------------------------------------------------- entry points


def check_survey(
    text: str,
    *,
    languages: tuple[str, ...],
    default_language: str,
    timezone: ZoneInfo,
    filename: str = "<survey>",
) -> CheckResult:
    """Parse and validate a survey file's text; every problem comes with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _decode_error_line(str(error))
        return CheckResult(None, (Problem(line, "", f"not valid TOML: {error}"),), text, filename)
    checker = _Checker(
        data,
        _Locator(text),
        languages=languages,
        default_language=default_language,
        timezone=timezone,
    )
    definition = checker.check()
    problems = tuple(sorted(checker.problems, key=lambda p: p.line))
    return CheckResult(None if problems else definition, problems, text, filename)


def load_survey_file(
    path: Path, *, languages: tuple[str, ...], default_language: str, timezone: ZoneInfo
) -> CheckResult:
    """Read and check a survey file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        problem = Problem(1, "", f"cannot read the file: {error.strerror}")
        return CheckResult(None, (problem,), "", str(path))
    except UnicodeDecodeError as error:
        problem = Problem(1, "", f"the file is not UTF-8 text ({error.reason})")
        return CheckResult(None, (problem,), "", str(path))
    return check_survey(
        text,
        languages=languages,
        default_language=default_language,
        timezone=timezone,
        filename=str(path),
    )


def _decode_error_line(message: str) -> int:
    marker = "at line "
    if marker in message:
        digits = message.split(marker, 1)[1].split(",", 1)[0].strip(" )")
        if digits.isdigit():
            return int(digits)
    return 1


def is_shown(question: Question, answers: Mapping[str, Any]) -> bool:
    """Shown when it has no condition, or its condition's question was answered to match.

    `answers` maps question id -> stored value; a skipped question maps to None.
    """
    if question.condition is None:
        return True
    return question.condition.matches(answers.get(question.condition.question))
