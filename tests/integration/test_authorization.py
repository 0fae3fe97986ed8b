"""Nobody let in: every admin command and every admin or staff button, tried by a
resident, by members of other groups (another staff group, an unrelated group) and by the
right person. Only the right person changes anything; the others are refused politely
(or, in groups the bot does not serve, ignored) and the database stays exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from bot.storage.broadcasts import Audience, BroadcastRepository, NewBroadcast
from bot.testing import CallbackQueryRecord, FakeChat, FakeMessage, FakeUser
from tests.harness import Harness
from tests.integration.test_events import publish as publish_event
from tests.integration.test_faults import record_figures
from tests.integration.test_report_flow import file_report
from tests.integration.test_survey_flow import SURVEY_ID
from tests.integration.test_survey_flow import publish as publish_survey

ADMIN_COMMANDS = (
    "/newevent",
    "/myevents",
    "/broadcast",
    "/surveys",
    f"/results {SURVEY_ID}",
    f"/export {SURVEY_ID}",
    "/stats",
    "/digestnote",
    "/digestnote The streetlights on Main St were fixed.",
    "/staffcheck",
)
REFUSALS = (
    "only the program's admins can do that",
    "Statistics are for the liaison staff",
    "Only the liaison staff can change",
    "no longer works",
    "I don't know that command",
)


def refused(text: str | None) -> bool:
    return text is not None and any(fragment in text for fragment in REFUSALS)


async def snapshot(harness: Harness) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, except the update log and when residents were last seen."""
    db = harness.services.db
    tables = [
        row[0]
        for row in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]
    found: dict[str, list[tuple[object, ...]]] = {}
    for table in tables:
        if table == "processed_updates":
            continue
        columns = [
            row[1]
            for row in await db.fetchall(f"PRAGMA table_info({table})")
            if (table, row[1]) != ("residents", "last_seen_at")
        ]
        rows = await db.fetchall(f"SELECT {', '.join(columns)} FROM {table}")
        found[table] = sorted((tuple(row) for row in rows), key=repr)
    return found


@dataclass
class World:
    admin: FakeUser
    sam: FakeUser  # a member of the staff chat
    rita: FakeUser  # a resident
    wendy: FakeUser  # a member of another staff group (the roads category's chat)
    otto: FakeUser  # a member of a group the bot does not serve
    roads: FakeChat
    watch: FakeChat
    card: FakeMessage  # a report card in the staff chat
    roads_card: FakeMessage  # a report card in the roads chat
    event_id: int
    broadcast_id: int
    rita_report_id: int
    admin_buttons: dict[str, str]  # label -> callback data, from the admin's own screens


async def build_world(harness: Harness) -> World:
    roads = harness.tg.group("Public works liaison", forum=False)
    city = harness.settings.city
    categories = tuple(
        replace(c, staff_chat_id=roads.id) if c.id == "road" else c for c in city.categories
    )
    await harness.restart(city=replace(city, categories=categories))
    admin, sam = harness.admin, harness.staff_member("Sam")
    rita = harness.resident("Rita")
    wendy = harness.tg.user("Wendy")
    harness.tg.add_member(roads, wendy)
    otto = harness.tg.user("Otto")
    watch = harness.tg.group("Neighborhood watch", members=[otto])
    for user in (admin, rita, wendy, otto):
        await user.send("/start")
    noise = await file_report(harness, rita, category="Noise")
    await file_report(harness, rita, category="Pothole or damaged sidewalk")
    await harness.deliver_outbox()
    stored = await harness.services.reports.get(noise.id)
    assert stored is not None and stored.card_message_id is not None
    card = harness.staff_chat.message(stored.card_message_id)
    assert card is not None and len(roads.bot_messages) == 1
    event = await publish_event(harness)
    await publish_survey(harness)
    async with harness.services.db.transaction() as tx:
        broadcast_id = await BroadcastRepository.insert_in(
            tx,
            NewBroadcast(
                created_by=admin.id,
                admin_chat_id=admin.id,
                admin_language="en",
                texts={"en": "Cleanup on Saturday"},
                photo_file_id=None,
                audience=Audience((), ()),
                send_at=harness.clock.time() + 86400,
                progress_message_id=None,
            ),
            "scheduled",
            harness.clock.time(),
        )
    buttons: dict[str, str] = {}
    await admin.send("/newevent")
    buttons["new event: type"] = admin.last_message.callback_data(admin.last_message.buttons[0])
    await admin.send("/cancel")
    await admin.send("/myevents")
    for label in admin.last_message.buttons:
        buttons[f"my events: {label}"] = admin.last_message.callback_data(label)
    await admin.send("/surveys")
    for label in admin.last_message.buttons:
        data = admin.last_message.inline_button(label)
        if data is not None and "callback_data" in data:
            buttons[f"surveys: {label}"] = str(data["callback_data"])
    await admin.send("/digestnote")
    for label in admin.last_message.buttons:
        data = admin.last_message.inline_button(label)
        if data is not None and "callback_data" in data:
            buttons[f"digest note: {label}"] = str(data["callback_data"])
    buttons["my events: confirm cancel"] = f"me:cy:{event.id}"
    buttons["broadcast: cancel"] = f"bx:{broadcast_id}"
    buttons["broadcast: confirm cancel"] = f"bxy:{broadcast_id}"
    buttons["event edit: save"] = "ee:1:save"
    buttons["broadcast: send"] = "bc:1:send"
    assert any(data.startswith("me:c:") for data in buttons.values())
    assert any(data.startswith("sva:close:") for data in buttons.values())
    assert any(data.startswith("dn:") for data in buttons.values())
    return World(
        admin=admin,
        sam=sam,
        rita=rita,
        wendy=wendy,
        otto=otto,
        roads=roads,
        watch=watch,
        card=card,
        roads_card=roads.bot_messages[0],
        event_id=event.id,
        broadcast_id=broadcast_id,
        rita_report_id=noise.id,
        admin_buttons=buttons,
    )


async def test_admin_commands_refuse_everyone_but_admins(harness: Harness) -> None:
    world = await build_world(harness)
    tried = 0
    for user, chat in (
        (world.rita, None),
        (world.wendy, None),
        (world.wendy, world.roads),
        (world.otto, None),
        (world.otto, world.watch),
        (world.sam, harness.staff_chat),
    ):
        for command in ADMIN_COMMANDS:
            if chat is harness.staff_chat and command.startswith("/stats"):
                continue  # a staff command: the staff chat may use it
            if chat in (harness.staff_chat, world.roads) and command == "/staffcheck":
                continue  # any staff group may check the bot's rights there (read-only)
            before = await snapshot(harness)
            seen = len(chat.bot_messages if chat is not None else user.messages)
            if chat is None:
                await user.send(command)
                answer = user.last_message.text
                assert refused(answer), f"{user.first_name} {command}: {answer!r}"
            else:
                await user.send_in(chat, command)
                new = chat.bot_messages[seen:]
                # A group the bot serves answers politely; any other group is ignored.
                assert all(refused(m.text) for m in new), (command, [m.text for m in new])
                if chat is world.watch:
                    assert new == []
            assert await snapshot(harness) == before, f"{user.first_name} {command}"
            tried += 1
    record_figures("authorization_commands", {"refused_attempts": tried})
    assert tried >= 50

    admin = world.admin
    for command in ADMIN_COMMANDS:
        await admin.send(command)
        replies = [m.text for m in admin.messages[-3:]]
        assert not any(refused(text) for text in replies), (command, replies)
        await admin.send("/cancel")
    # The right person changes something: a note for the digest was stored or drafted.
    before = await snapshot(harness)
    await admin.send("/digestnote The potholes on Elm St were filled.")
    assert await snapshot(harness) != before


async def press(user: FakeUser, message: FakeMessage, data: str) -> CallbackQueryRecord:
    record = await user.tg.press_callback(user, message, data)
    assert record.answered, data
    return record


async def test_admin_and_staff_buttons_refuse_everyone_but_the_right_person(
    harness: Harness,
) -> None:
    world = await build_world(harness)
    staff_buttons = {
        label: world.card.callback_data(label) for label in world.card.buttons if label
    }
    other = {"Rita's report history": f"rh:{world.rita_report_id}"}
    everything = {**world.admin_buttons, **staff_buttons}
    tried = 0
    # Each wrong person presses each button's data on a message they can see.
    attempts: list[tuple[FakeUser, FakeMessage, dict[str, str]]] = [
        (world.rita, world.rita.last_message, everything),
        (world.wendy, world.wendy.last_message, {**everything, **other}),
        (world.wendy, world.roads_card, everything),
        (world.otto, world.otto.last_message, {**everything, **other}),
    ]
    for user, message, buttons in attempts:
        for label, data in buttons.items():
            before = await snapshot(harness)
            record = await press(user, message, data)
            assert refused(record.text), f"{user.first_name} pressed {label}: {record.text!r}"
            assert await snapshot(harness) == before, f"{user.first_name} pressed {label}"
            tried += 1
    record_figures("authorization_buttons", {"refused_presses": tried})
    assert tried >= 40

    # The right people: staff change a report's status; the admin cancels the broadcast.
    before = await snapshot(harness)
    record = await world.sam.tap("👀 Acknowledge", message=world.card)
    assert isinstance(record, CallbackQueryRecord) and not refused(record.text)
    report = await harness.services.reports.get(world.rita_report_id)
    assert report is not None and report.status == "acknowledged"
    admin = world.admin
    record = await press(admin, admin.last_message, f"bxy:{world.broadcast_id}")
    assert not refused(record.text)
    broadcast = await harness.services.broadcasts.get(world.broadcast_id)
    assert broadcast is not None and broadcast.status == "cancelled"
    assert await snapshot(harness) != before


@pytest.mark.parametrize(
    "payload",
    [
        "nb_" + "x" * 80,
        "nb_<b>bold</b>",
        "nb_../../etc",
        "ev_1 OR 1=1",
        "ev_99999999999999999999",
        "ev_-1",
        "ev_",
        "sv_" + "a" * 70,
        "sv_<script>",
        "sv_UPPER",
        "%00",
        "nb_downtown extra words",
        "ev_١٢",  # Arabic-Indic digits
    ],
)
async def test_garbage_deep_links_are_refused_and_change_nothing(
    harness: Harness, payload: str
) -> None:
    rita = harness.resident("Rita")
    await rita.send("/start")
    await publish_event(harness)
    before = await snapshot(harness)
    await rita.send(f"/start {payload}")
    text = rita.last_message.text
    assert any(kind in text for kind in ("not valid any more", "don't know", "can't find"))
    assert "<b>" not in text and "<script>" not in text
    assert await snapshot(harness) == before


async def test_callbacks_are_bound_to_their_chat(harness: Harness) -> None:
    """Private-chat buttons pressed in a group, and staff buttons forged in private."""
    world = await build_world(harness)
    before = await snapshot(harness)
    # Resident buttons replayed in the staff chat by a staff member.
    for data in ("lang:set:es", "al:stop:yes", "rf:1:ok", "pv:export", "ev:r:1:going"):
        record = await press(world.sam, world.card, data)
        assert refused(record.text), data
    # Oversized and empty data.
    for data in ("x" * 65, ""):
        record = await press(world.rita, world.rita.last_message, data)
        assert refused(record.text)
    assert await snapshot(harness) == before
