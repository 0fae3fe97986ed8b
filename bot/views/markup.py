"""Keyboards as Telegram's JSON, and the keyboards shared by many residents.

A reply keyboard (the main menu, Cancel, the neighborhoods) depends only on its labels,
and a flow step's inline keyboard only on its labels and callback data (which carry the
dialog's version: the same small numbers for everyone starting a report). Each is built
once per set of labels and its JSON encoded once: almost every step of a flow sends one,
and PTB builds and checks every button of a new keyboard object (about 10 µs a button).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
)

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
Rows = tuple[tuple[str, ...], ...]
Button = tuple[str, str]  # label, callback data
ButtonRows = tuple[tuple[Button, ...], ...]
SharedMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup
_M = TypeVar("_M", InlineKeyboardMarkup, ReplyKeyboardMarkup)

_PLAIN = (str, int, float)  # bool is an int
_FIELDS: dict[type, tuple[str, ...]] = {}
# id(shared keyboard) -> (the keyboard, its JSON text). The keyboard is kept here, so its
# id cannot be taken by another object while the entry exists.
_ENCODED: dict[int, tuple[SharedMarkup, str]] = {}
_ENCODED_MAX = 4096


def _fields(kind: type) -> tuple[str, ...]:
    """The Bot API fields of a PTB class: its public slots, along the class hierarchy."""
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(
            name
            for klass in kind.__mro__
            for name in getattr(klass, "__slots__", ())
            if not name.startswith("_") and name != "api_kwargs"
        )
    return fields


def _object_json(value: TelegramObject) -> dict[str, Any]:
    """`value.to_dict()` for an object of plain fields and rows of such objects."""
    if value.api_kwargs:
        return value.to_dict()
    out: dict[str, Any] = {}
    for name in _fields(type(value)):
        field = getattr(value, name)
        if field is None:
            continue
        if isinstance(field, _PLAIN):
            out[name] = field
        elif isinstance(field, tuple) and all(isinstance(row, tuple) for row in field):
            out[name] = [
                [_object_json(item) if isinstance(item, TelegramObject) else item for item in row]
                for row in field
            ]
        else:  # a nested object (a web app, a poll request, ...): PTB's own conversion
            return value.to_dict()
    return out


def markup_json(markup: ReplyMarkup) -> dict[str, Any]:
    """A keyboard as Telegram's JSON, the same dict as `markup.to_dict()`.

    PTB's `to_dict` is generic and walks each button's every attribute through several
    layers: about 45 µs for a nine-button keyboard, sent with almost every flow step.
    Keyboards are plain data (text, callback data, a few flags), read here directly in
    a few µs; a button with anything nested goes through `to_dict` as before.
    """
    return _object_json(markup)


def markup_param(markup: ReplyMarkup) -> str | dict[str, Any]:
    """The `reply_markup` parameter of a call: a shared keyboard's JSON text, else its dict.

    Telegram takes `reply_markup` as JSON text; PTB passes a string through as it is.
    """
    shared = _ENCODED.get(id(markup))
    if shared is not None and shared[0] is markup:
        return shared[1]
    return markup_json(markup)


def in_pairs(labels: Sequence[str]) -> Rows:
    """Labels two to a row, as the main menu and the neighborhoods are shown."""
    return tuple(tuple(labels[i : i + 2]) for i in range(0, len(labels), 2))


@lru_cache(maxsize=1024)
def reply_keyboard(
    rows: Rows, *, persistent: bool = False, location: str | None = None
) -> ReplyKeyboardMarkup:
    """A resized reply keyboard of `rows` of labels, built once per set of arguments.

    `location`: the label of a first row's button that shares the resident's location.
    The same object is returned for the same arguments: never change it (PTB objects are
    frozen anyway).
    """
    keyboard: list[list[KeyboardButton | str]] = []
    if location is not None:
        keyboard.append([KeyboardButton(location, request_location=True)])
    keyboard += [list(row) for row in rows]
    markup = ReplyKeyboardMarkup(keyboard, resize_keyboard=True, is_persistent=persistent or None)
    return _shared(markup)


@lru_cache(maxsize=2048)
def inline_keyboard(rows: ButtonRows) -> InlineKeyboardMarkup:
    """Inline buttons from rows of (label, callback data), built once per set of rows.

    The same object is returned for the same rows: never change it.
    """
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
    return _shared(markup)


def _shared(markup: _M) -> _M:
    if len(_ENCODED) >= _ENCODED_MAX:  # more keyboards than the caches keep: start afresh
        _ENCODED.clear()
    _ENCODED[id(markup)] = (markup, json.dumps(markup_json(markup)))
    return markup
