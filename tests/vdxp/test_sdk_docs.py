"""The Python example of docs/integration.md §1.6 works against a running axis, as printed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from sdk_world import Sdk
from world import status_of

from axis.edxml import codec
from axis.edxml import model as m

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


def example(sdk: Sdk, name: str) -> dict[str, Any]:
    """The documented Python code, configured for one of the world's systems."""
    section = DOCS.read_text(encoding="utf-8").split("### 1.6 ", 1)[1].split("\n### ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    namespace["AXIS"] = str(sdk.world.client.make_url("")).rstrip("/")
    namespace["SYSTEM_ID"] = sdk.world[name].system_id
    namespace["SECRET"] = sdk.secrets[name]
    return namespace


async def test_the_documented_python_example_runs_the_sdk_loop(sdk: Sdk) -> None:
    world = sdk.world
    north, south = example(sdk, "north"), example(sdk, "south")
    document = world.document("north", to=(world["south"].code,))
    sent = await asyncio.to_thread(north["send_edoc"], world.signed(document, by="north"))
    assert (sent["status"], bool(sent["DocId"])) == ("OK", True), sent

    received = await asyncio.to_thread(lambda: list(south["receive"]()))  # runs the loop to its end
    ((item, edxml),) = received
    assert item["docId"] == sent["DocId"]
    package = codec.parse(edxml).package
    assert isinstance(package, m.DocumentPackage)
    arrived = world.signed(status_of(package, m.StatusCode.ARRIVED, "south", world["south"].code), by="south")
    assert (await asyncio.to_thread(south["send_edoc"], arrived, "status"))["status"] == "OK"

    statuses = await asyncio.to_thread(lambda: list(north["receive"]("status")))
    assert [codec.parse(data).package.kind for _, data in statuses] == [m.Kind.STATUS]
    assert await asyncio.to_thread(lambda: list(south["receive"]())) == []  # acknowledged
