"""Bot API methods that send new messages: text, media, locations, polls, albums."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.testing import media
from bot.testing.errors import bad_request
from bot.testing.inbound import poll_json
from bot.testing.objects import JSON
from bot.testing.outgoing import (
    MEDIA_WHAT,
    format_for,
    markup_of,
    store_bot_message,
    target_of,
    text_fields,
)
from bot.testing.params import Params
from bot.testing.records import StoredFile
from bot.testing.registry import api_method

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram


@api_method("sendMessage")
async def send_message(tg: FakeTelegram, p: Params) -> JSON:
    target = target_of(tg, p)
    text = p.get_str("text") or ""
    if not text.strip():
        raise bad_request("message text is empty")
    formatted, parse_mode = format_for(tg, text, p, caption=False)
    markup = markup_of(p)
    content = text_fields(formatted, caption=False)
    preview = p.get_json("link_preview_options", "link preview options")
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    message = store_bot_message(
        tg,
        target,
        content,
        raw_text=text,
        parse_mode=parse_mode,
        markup=markup,
        protect=p.get_bool("protect_content"),
    )
    return message.to_json()


async def _send_media(tg: FakeTelegram, p: Params, kind: str) -> JSON:
    target = target_of(tg, p, MEDIA_WHAT[kind])
    files = media.resolve_input(tg, p, kind, kind)
    content: JSON = {kind: media.media_json(kind, files)}
    if kind == "sticker" and p.get_str("emoji"):
        content[kind]["emoji"] = p.get_str("emoji")
    raw = p.get_str("caption") or ""
    formatted, parse_mode = format_for(tg, raw, p, caption=True)
    if kind != "sticker":
        content.update(text_fields(formatted, caption=True))
    if p.get_bool("has_spoiler"):
        content["has_media_spoiler"] = True
    message = store_bot_message(
        tg,
        target,
        content,
        raw_text=raw or None,
        parse_mode=parse_mode,
        markup=markup_of(p),
        files=files,
        protect=p.get_bool("protect_content"),
    )
    return message.to_json()


@api_method("sendPhoto")
async def send_photo(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "photo")


@api_method("sendDocument")
async def send_document(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "document")


@api_method("sendVoice")
async def send_voice(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "voice")


@api_method("sendAudio")
async def send_audio(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "audio")


@api_method("sendVideo")
async def send_video(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "video")


@api_method("sendAnimation")
async def send_animation(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "animation")


@api_method("sendSticker")
async def send_sticker(tg: FakeTelegram, p: Params) -> JSON:
    return await _send_media(tg, p, "sticker")


def _coordinates(p: Params) -> JSON:
    latitude, longitude = p.get_float("latitude"), p.get_float("longitude")
    if latitude is None or longitude is None:
        raise bad_request("wrong latitude or longitude specified")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude specified")
    return {"latitude": latitude, "longitude": longitude}


@api_method("sendLocation")
async def send_location(tg: FakeTelegram, p: Params) -> JSON:
    target = target_of(tg, p)
    location = _coordinates(p)
    return store_bot_message(tg, target, {"location": location}, markup=markup_of(p)).to_json()


@api_method("sendVenue")
async def send_venue(tg: FakeTelegram, p: Params) -> JSON:
    target = target_of(tg, p)
    location = _coordinates(p)
    title, address = p.get_str("title"), p.get_str("address")
    if not title or not address:
        raise bad_request("venue title and address must be non-empty")
    venue: JSON = {"location": location, "title": title, "address": address}
    for optional in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if p.get_str(optional):
            venue[optional] = p.get_str(optional)
    content = {"venue": venue, "location": location}
    return store_bot_message(tg, target, content, markup=markup_of(p)).to_json()


@api_method("sendContact")
async def send_contact(tg: FakeTelegram, p: Params) -> JSON:
    target = target_of(tg, p)
    phone, first_name = p.get_str("phone_number"), p.get_str("first_name")
    if not phone or not first_name:
        raise bad_request("phone number and first name must be non-empty")
    contact: JSON = {"phone_number": phone, "first_name": first_name}
    if p.get_str("last_name"):
        contact["last_name"] = p.get_str("last_name")
    return store_bot_message(tg, target, {"contact": contact}, markup=markup_of(p)).to_json()


@api_method("sendPoll")
async def send_poll(tg: FakeTelegram, p: Params) -> JSON:
    target = target_of(tg, p, "polls")
    question = p.get_str("question") or ""
    options = p.get_json("options") or []
    if not question.strip():
        raise bad_request("poll question must be non-empty")
    texts = [o.get("text") if isinstance(o, dict) else o for o in options]
    if not 2 <= len(texts) <= 12 or not all(isinstance(t, str) and t for t in texts):
        raise bad_request("POLL_ANSWERS_INVALID")
    poll = poll_json(
        tg,
        question,
        [str(text) for text in texts],
        is_anonymous=p.get_bool("is_anonymous", True),
        kind=p.get_str("type") or "regular",
        allows_multiple_answers=p.get_bool("allows_multiple_answers"),
    )
    return store_bot_message(tg, target, {"poll": poll}, markup=markup_of(p)).to_json()


@api_method("sendMediaGroup")
async def send_media_group(tg: FakeTelegram, p: Params) -> list[JSON]:
    items = p.get_json("media", "InputMedia")
    if not isinstance(items, list) or not items:
        raise bad_request('parameter "media" is required')
    if len(items) > 10:
        raise bad_request("too many messages to send as an album")
    target = target_of(tg, p, "photos")
    group_id = tg.new_query_id()
    prepared: list[tuple[JSON, str | None, list[StoredFile], str]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in (
            "photo",
            "video",
            "document",
            "audio",
        ):
            raise bad_request("can't parse InputMedia: media type is invalid")
        kind = str(item["type"])
        files = media.resolve_input(tg, p, "media", kind, value=item.get("media"))
        caption_params = Params(
            {k: item[k] for k in ("parse_mode", "caption_entities") if k in item}
        )
        raw = str(item.get("caption") or "")
        formatted, parse_mode = format_for(tg, raw, caption_params, caption=True)
        content: JSON = {kind: media.media_json(kind, files), "media_group_id": group_id}
        content.update(text_fields(formatted, caption=True))
        prepared.append((content, parse_mode, files, raw))
    messages = [
        store_bot_message(
            tg, target, content, raw_text=raw or None, parse_mode=mode, files=files
        ).to_json()
        for content, mode, files, raw in prepared
    ]
    return messages
