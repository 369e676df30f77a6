"""Packages dated far in the future or long ago are refused; replays change nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import builders
import pytest
from security_world import SecondAxis, sent_now
from world import World, status_of

from axis.edxml import model as m
from axis.errors import AxisError
from axis.exchange import freshness
from axis.exchange.freshness import Window

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
WINDOW = Window(max_skew=dt.timedelta(minutes=10), max_age=dt.timedelta(days=30))


def sent_at(when: dt.datetime) -> m.DocumentPackage:
    """A document whose sending hop (its last TraceHeader) is ``when``."""
    earlier = m.TraceHeader(builders.SOUTH, when - dt.timedelta(days=400))  # an old hop before it does not count
    return dataclasses.replace(builders.document(), traces=(earlier, m.TraceHeader(builders.NORTH, when)))


def refusal(package: m.Package) -> AxisError:
    with pytest.raises(AxisError) as refused:
        freshness.check(package, NOW, WINDOW)
    return refused.value


def test_timestamps_inside_the_window_pass_at_both_edges() -> None:
    for when in (NOW, NOW + WINDOW.max_skew, NOW - WINDOW.max_age, NOW.astimezone(m.VN_TZ)):
        freshness.check(sent_at(when), NOW, WINDOW)
        freshness.check(dataclasses.replace(builders.status(), timestamp=when), NOW, WINDOW)


def test_a_document_from_the_future_is_refused_with_the_window_in_the_details() -> None:
    error = refusal(sent_at(NOW + dt.timedelta(minutes=11)))
    assert error.code == "intake.timestamp.future"
    assert error.details["timestamp"] == (NOW + dt.timedelta(minutes=11)).isoformat()
    assert error.details["latest"] == (NOW + WINDOW.max_skew).isoformat()
    assert error.details["earliest"] == (NOW - WINDOW.max_age).isoformat()


def test_a_stale_status_is_refused() -> None:
    error = refusal(dataclasses.replace(builders.status(), timestamp=NOW - dt.timedelta(days=31)))
    assert error.code == "intake.timestamp.stale"
    assert error.details["element"] == "Timestamp"


def test_a_document_without_trace_is_not_judged_and_age_zero_means_no_limit() -> None:
    freshness.check(dataclasses.replace(builders.document(), traces=()), NOW, WINDOW)
    freshness.check(sent_at(NOW - dt.timedelta(days=3650)), NOW, Window(max_age=dt.timedelta(0)))


async def test_intake_refuses_documents_and_statuses_outside_the_window(world: World, second_axis: SecondAxis) -> None:
    now = dt.datetime.now(m.VN_TZ).replace(microsecond=0)
    # The default window, stated: the world's own settings may relax it for old test data.
    async with second_axis(max_clock_skew_seconds=600, max_package_age_days=30) as axis:

        async def post(package: m.Package, by: str, expect: int) -> dict[str, Any]:
            response = await axis.post("/api/v1/packages", data=world.signed(package, by), headers=world[by].headers)
            body: dict[str, Any] = await response.json()
            assert response.status == expect, body
            return body

        future = dataclasses.replace(
            world.document(number="1"), traces=(m.TraceHeader(builders.NORTH, now + dt.timedelta(hours=1)),)
        )
        answer = await post(future, "north", 422)
        assert answer["error"]["code"] == "intake.timestamp.future"
        assert set(answer["error"]["details"]) >= {"timestamp", "earliest", "latest", "now"}
        stale = dataclasses.replace(
            world.document(number="2"), traces=(m.TraceHeader(builders.NORTH, now - dt.timedelta(days=45)),)
        )
        assert (await post(stale, "north", 422))["error"]["code"] == "intake.timestamp.stale"

        document = dataclasses.replace(world.document(number="3"), traces=(m.TraceHeader(builders.NORTH, now),))
        await post(document, "north", 202)
        old_status = dataclasses.replace(
            status_of(document, m.StatusCode.ARRIVED, "south", builders.SOUTH), timestamp=now - dt.timedelta(days=40)
        )
        assert (await post(old_status, "south", 422))["error"]["code"] == "intake.timestamp.stale"
    assert await world.count("packages") == 1


async def test_a_package_accepted_while_fresh_is_still_answered_as_a_repeat_once_stale(
    world: World, second_axis: SecondAxis
) -> None:
    now = dt.datetime.now(m.VN_TZ).replace(microsecond=0)
    sent = dataclasses.replace(
        world.document(number="4"), traces=(m.TraceHeader(builders.NORTH, now - dt.timedelta(days=45)),)
    )
    data = world.signed(sent)
    first = await world.post(data)  # the world's window is relaxed: fresh enough there
    async with second_axis(max_clock_skew_seconds=600, max_package_age_days=30) as axis:
        response = await axis.post("/api/v1/packages", data=data, headers=world["north"].headers)
        again = await response.json()
    assert response.status == 200, again
    assert (again["package_id"], again["repeated"]) == (first["package_id"], True)
    assert await world.count("packages") == 1


async def test_a_replay_by_the_same_system_has_no_effect_and_by_another_is_refused(world: World) -> None:
    data = world.signed(sent_now(world.document(to=("000.00.00.H99", "000.00.00.G98"))))
    first = await world.post(data)
    deliveries = await world.count("deliveries")
    again = await world.post(data, expect=200)
    assert again["repeated"] is True
    assert again["package_id"] == first["package_id"]
    # Captured bytes sent with another system's token: that system does not serve the sender.
    for thief in ("south", "dept"):
        refused = await world.post(data, by=thief, expect=403)
        assert refused["error"]["code"] == "registry.sender.not_served"
    assert await world.count("packages") == 1
    assert await world.count("deliveries") == deliveries == 2
    inbox = await world.get("/api/v1/inbox", "south")
    assert [item["package_id"] for item in inbox["items"]] == [first["package_id"]]
