"""Keep what a started axis process holds for its whole life out of the garbage collector's walks.

CPython's cyclic collector stops the event loop while it runs, and a full collection walks every
tracked object. A started process holds about 120,000 of them from its modules and schemas, and
the national registry's snapshot (112,000 agencies) brings the count to about 230,000: a full
collection then took 70–95 ms on the benchmark machine, every request in flight waiting behind
it. Nothing of that is ever garbage, so once the process is started it is moved to the permanent
generation (``gc.freeze``), after one collection so that no garbage goes with it. Frozen objects
are still freed when nothing refers to them (reference counting); only a cycle among them would
stay, and the startup objects form none that ends before the process does. A registry reloaded
later (an administrator's change) is a new snapshot, walked as usual.

Only ``axis serve`` does this: a test process starts and stops many axes, whose cycles must stay
collectable.
"""

from __future__ import annotations

import gc

from aiohttp import web


async def freeze_startup_objects(_: web.Application) -> None:
    """An ``on_startup`` hook, after the axis has started (the registry loaded)."""
    gc.collect()
    gc.freeze()
