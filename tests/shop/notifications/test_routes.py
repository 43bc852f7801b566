"""The HTTP API: a user's own notifications, and the sink for admins only."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from evp.messaging import MessagingSettings
from evp.service import ServiceSettings
from evp.web import Role
from tests.shop.notifications.mailroom import confirmed, mailroom, placed, registered

Settings = Callable[[str], ServiceSettings]


async def test_a_user_lists_their_own_notifications_newest_first(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Each user sees only their notifications, newest first, with status and subject."""
    ada, bob = registered(name="Ada"), registered(name="Bob")
    order = placed(ada.user_id)
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        # Topics keep no order between them: the welcomes first, so "newest" is the order's.
        await room.publish(ada, bob)
        await room.service.wait_for(lambda: room.settled(2))
        await room.publish(order, confirmed(order))
        await room.service.wait_for(lambda: room.settled(3))
        mine = await room.service.http.get("/notifications", headers=room.headers(ada.user_id))
        theirs = await room.service.http.get("/notifications", headers=room.headers(bob.user_id))
    items = mine.json()["items"]
    assert mine.status_code == 200
    assert [i["template"] for i in items] == ["order_confirmed", "welcome"]
    assert {i["status"] for i in items} == {"sent"}
    assert {i["recipient"] for i in items} == {ada.email}
    assert items[1]["subject"] == "Welcome to the shop, Ada"
    assert all(i["sent_at"] is not None for i in items)
    assert [i["subject"] for i in theirs.json()["items"]] == ["Welcome to the shop, Bob"]


async def test_the_list_pages_with_a_cursor(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """limit=1 gives one item and a cursor to the next; the last page has none."""
    user = registered()
    order = placed(user.user_id)
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user)
        await room.service.wait_for(lambda: room.settled(1))
        await room.publish(order, confirmed(order))
        await room.service.wait_for(lambda: room.settled(2))
        headers = room.headers(user.user_id)
        first = (await room.service.http.get("/notifications?limit=1", headers=headers)).json()
        cursor = first["next_cursor"]
        second = (
            await room.service.http.get(f"/notifications?limit=1&cursor={cursor}", headers=headers)
        ).json()
        bad = await room.service.http.get("/notifications?cursor=nonsense", headers=headers)
    assert [i["template"] for i in first["items"]] == ["order_confirmed"]
    assert [i["template"] for i in second["items"]] == ["welcome"]
    assert second["next_cursor"] is None
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["query.cursor"]


async def test_the_list_needs_a_token(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """GET /notifications without a bearer token is a 401 problem."""
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        response = await room.service.http.get("/notifications")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_sink_is_for_admins_only(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """A customer gets 403 and an anonymous caller 401 at /notifications/sink; an admin 200."""
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        http = room.service.http
        customer = await http.get(
            "/notifications/sink", headers=room.headers(uuid.uuid4(), Role.CUSTOMER)
        )
        anonymous = await http.get("/notifications/sink")
        admin = await http.get("/notifications/sink", headers=room.admin)
    assert customer.status_code == 403
    assert anonymous.status_code == 401
    assert admin.status_code == 200
    assert admin.json() == {"items": [], "next_cursor": None}
