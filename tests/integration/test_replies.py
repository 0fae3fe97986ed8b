"""Immediate answers sent without parsing Telegram's reply (bot.delivery.replies)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonPollType,
    LoginUrl,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import ExtBot

from bot.config import City
from bot.delivery import TelegramRateLimiter
from bot.delivery.replies import (
    answer_press,
    edit_html,
    markup_json,
    remove_buttons,
    reply_html,
    send_html,
)
from bot.i18n import Catalogs
from bot.services.reports import Draft
from bot.testing import FakeRequest, FakeTelegram
from bot.views import common as common_views
from bot.views import reports as report_views
from bot.views.markup import markup_param


@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[ExtBot[None]]:
    limiter = TelegramRateLimiter(
        overall_per_second=None, private_burst=None, group_per_minute=None
    )
    instance: ExtBot[None] = ExtBot(
        tg.token,
        request=FakeRequest(tg),
        get_updates_request=FakeRequest(tg),
        rate_limiter=limiter,
    )
    async with instance:
        yield instance


def _params(tg: FakeTelegram, method: str) -> dict[str, Any]:
    calls = tg.calls_to(method)
    assert calls, f"no {method} call"
    return dict(calls[-1].params)


# --------------------------------------------------------------------------- keyboards


def _view_keyboards(city: City, catalogs: Catalogs) -> list[Any]:
    """Every keyboard of the report flow and the main menu, in every language."""
    keyboards: list[Any] = []
    draft = Draft(category=city.categories[0].id, neighborhood=city.neighborhoods[0].id)
    draft.text = "The streetlight on the corner has been dark for a week."
    for language in city.languages:
        tr = catalogs.get(language)
        keyboards += [
            common_views.main_menu(tr),
            report_views.cancel_keyboard(tr),
            report_views.category_step(tr, city, 7).keyboard,
            report_views.where_step(tr, city).keyboard,
            report_views.outside_area(tr, city, 7).keyboard,
            report_views.what_received(tr, draft, 7).keyboard,
            report_views.identity_step(tr, default_anonymous=True, sensitive=True, version=7),
            report_views.summary(tr, city, draft, version=7).keyboard,
            report_views.edit_picker(tr, 7).keyboard,
        ]
    return [k.keyboard if isinstance(k, common_views.View) else k for k in keyboards]


def test_markup_json_is_ptb_json_for_every_flow_keyboard(city: City, catalogs: Catalogs) -> None:
    keyboards = _view_keyboards(city, catalogs)
    assert len(keyboards) == 9 * len(city.languages) and all(k is not None for k in keyboards)
    for keyboard in keyboards:
        assert markup_json(keyboard) == keyboard.to_dict()


@pytest.mark.parametrize(
    "markup",
    [
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("a", callback_data="x:1"),
                    InlineKeyboardButton("b", url="https://example.org"),
                ],
                [InlineKeyboardButton("web", web_app=WebAppInfo("https://example.org/app"))],
                [InlineKeyboardButton("login", login_url=LoginUrl("https://example.org/login"))],
                [InlineKeyboardButton("share", switch_inline_query="")],
            ]
        ),
        ReplyKeyboardMarkup(
            [
                [KeyboardButton("where", request_location=True), "plain"],
                [KeyboardButton("poll", request_poll=KeyboardButtonPollType("quiz"))],
            ],
            resize_keyboard=True,
            one_time_keyboard=False,
            input_field_placeholder="Type here",
        ),
        ReplyKeyboardRemove(),
        ForceReply(input_field_placeholder="Your answer"),
        InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x")]], api_kwargs={"z": 1}),
    ],
)
def test_markup_json_falls_back_to_ptb_for_nested_fields(markup: Any) -> None:
    assert markup_json(markup) == markup.to_dict()


def test_shared_reply_keyboards_are_built_once_and_sent_as_ptb_would(
    city: City, catalogs: Catalogs
) -> None:
    for language in city.languages:
        tr = catalogs.get(language)
        shared = [
            common_views.main_menu(tr),
            report_views.cancel_keyboard(tr),
            report_views.where_step(tr, city).keyboard,
        ]
        again = [
            common_views.main_menu(tr),
            report_views.cancel_keyboard(tr),
            report_views.where_step(tr, city).keyboard,
        ]
        assert all(a is b for a, b in zip(shared, again, strict=True))
        for keyboard in shared:
            assert isinstance(keyboard, ReplyKeyboardMarkup)
            assert json.loads(markup_param(keyboard)) == keyboard.to_dict()  # type: ignore[arg-type]
    where = report_views.where_step(catalogs.get(city.default_language), city).keyboard
    assert isinstance(where, ReplyKeyboardMarkup)
    assert where.keyboard[0][0].request_location is True
    # A keyboard built elsewhere is converted each time, never mistaken for a shared one.
    other = ReplyKeyboardMarkup([["a"]], resize_keyboard=True)
    assert markup_param(other) == other.to_dict()


def test_flow_steps_share_their_inline_keyboard_per_version(city: City, catalogs: Catalogs) -> None:
    tr = catalogs.get("es")
    first = report_views.category_step(tr, city, 3).keyboard
    assert report_views.category_step(tr, city, 3).keyboard is first
    other = report_views.category_step(tr, city, 4).keyboard
    assert isinstance(first, InlineKeyboardMarkup) and isinstance(other, InlineKeyboardMarkup)
    assert other is not first
    assert first.inline_keyboard[0][0].callback_data == f"rf:3:cat:{city.categories[0].id}"
    assert other.inline_keyboard[0][0].callback_data == f"rf:4:cat:{city.categories[0].id}"
    assert json.loads(markup_param(first)) == first.to_dict()  # type: ignore[arg-type]


async def test_a_shared_keyboard_reaches_telegram_as_json_text(
    tg: FakeTelegram, bot: Bot, city: City, catalogs: Catalogs
) -> None:
    user = tg.user("Rosa", language="es")
    keyboard = common_views.main_menu(catalogs.get("es"))
    await send_html(bot, user.chat.id, "hola", keyboard)
    assert user.chat.messages[-1].reply_markup == keyboard.to_dict()


# --------------------------------------------------------------------------- calls


async def test_send_html_sends_and_returns_the_message_id(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="y")]])
    message_id = await send_html(bot, alice.id, "<b>Step 1</b> of 4", keyboard)
    assert message_id == alice.last_message.message_id
    assert alice.last_message.text == "Step 1 of 4"
    assert alice.last_message.entities[0]["type"] == "bold"
    assert alice.last_message.buttons == ["Yes"]
    params = _params(tg, "sendMessage")
    assert params["parse_mode"] == "HTML" and "reply_parameters" not in params
    assert bot.rate_limiter is not None
    assert bot.rate_limiter.stats.sends == 1  # type: ignore[attr-defined]


async def test_reply_html_matches_reply_text(tg: FakeTelegram, bot: Bot) -> None:
    """In a private chat, a forum topic and a plain group: the request of `reply_text`."""
    alice = tg.user("Alice")
    forum = tg.group("Staff", forum=True, members=[alice])
    group = tg.group("Neighbors", members=[alice])
    topic = await bot.create_forum_topic(forum.id, "Reports")
    incoming = [
        await alice.send("hello"),
        await alice.send_in(group, "hello group"),
        await alice.send_in(forum, "in a topic", thread_id=topic.message_thread_id),
    ]
    keyboard = ReplyKeyboardMarkup([["One", "Two"]], resize_keyboard=True)
    for fake in incoming:
        message = Message.de_json(fake.to_json(), bot)
        assert message is not None
        await message.reply_text("<i>ok</i>", parse_mode="HTML", reply_markup=keyboard)
        expected = _params(tg, "sendMessage")
        await reply_html(bot, message, "<i>ok</i>", keyboard)
        assert _params(tg, "sendMessage") == expected
    threads = [call.params.get("message_thread_id") for call in tg.calls_to("sendMessage")]
    quoted = ["reply_parameters" in call.params for call in tg.calls_to("sendMessage")]
    topic_id = str(topic.message_thread_id)  # logged as sent: form values
    assert threads == [None, None, None, None, topic_id, topic_id]
    assert quoted == [False, False, True, True, True, True]


async def test_edits_and_button_removal(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    first = await send_html(bot, alice.id, "pick one", keyboard)
    await remove_buttons(bot, alice.id, first)
    assert alice.last_message.buttons == []
    await edit_html(
        bot,
        alice.id,
        first,
        "Concern: <b>Noise</b> https://example.org",
        keyboard,
        link_preview=False,
    )
    edited = alice.last_message
    assert edited.text == "Concern: Noise https://example.org" and edited.buttons == ["A"]
    assert _params(tg, "editMessageText")["link_preview_options"] == {"is_disabled": True}
    await edit_html(bot, alice.id, first, "Concern: <b>Noise</b>")
    assert alice.last_message.buttons == []


async def test_answer_press_answers_the_callback_query_once(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    await send_html(bot, alice.id, "pick one", keyboard)
    first = await tg.press_callback(alice, alice.last_message, "a")
    await answer_press(bot, first.id)
    assert first.answered and first.text is None and not first.show_alert
    second = await tg.press_callback(alice, alice.last_message, "a")
    await answer_press(bot, second.id, "Acknowledged. The resident was told.")
    assert second.text == "Acknowledged. The resident was told."
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await answer_press(bot, second.id)


async def test_telegram_errors_are_ptb_errors(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await edit_html(bot, alice.id, 999, "x")
    sent = await send_html(bot, alice.id, "no buttons")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await remove_buttons(bot, alice.id, sent)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await send_html(bot, alice.id, "<b>unclosed")
    await alice.block()
    with pytest.raises(Forbidden):
        await send_html(bot, alice.id, "hello")
