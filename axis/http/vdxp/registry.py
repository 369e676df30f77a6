"""The SDK's registry operations: the lists read the registry snapshot (and, for the units'
change dates, the registry's history); changes are the administrator's.

The lists are large (every agency of the country) and the same for every caller until the
registry changes, so each is answered once per registry version and kept as bytes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from axis.errors import AxisError
from axis.http.vdxp.call import Call
from axis.registry import agencies, codes, history
from axis.registry.model import Agency
from axis.vdxp import answers

_LEVELS = ("1", "2", "3", "4")


async def _cached(call: Call, key: str, build: Callable[[], Awaitable[list[dict[str, Any]]]]) -> web.Response:
    version = call.axis.registry.snapshot.version
    kept = call.compat.lists.get((call.operation.lower(), key))
    if kept is None or kept[0] != version:
        kept = (version, answers.dumps(answers.ok(data=await build())))
        call.compat.lists[(call.operation.lower(), key)] = kept
    return web.Response(body=kept[1], content_type="application/json")


def _all(call: Call) -> list[Agency]:
    """The registry's agencies, and on a provincial axis those of the axis above (external ones,
    where no local agency has the code): an SDK vendor there looks up another province's codes
    the way it looks up its own."""
    snapshot = call.axis.registry.snapshot
    local = snapshot.agencies
    external = (a for code, a in snapshot.external.items() if code not in local)
    return sorted([*local.values(), *external], key=lambda a: a.code)


async def agencies_list(call: Call) -> web.Response:
    """The active agencies; each names, in ``oldCode``, the retired codes that lead to it."""

    async def build() -> list[dict[str, Any]]:
        everyone = _all(call)
        olds: dict[str, list[str]] = defaultdict(list)
        for agency in everyone:
            if agency.retired and agency.successor_code:
                olds[agency.successor_code].append(agency.code)
        return [answers.agency_item(a, olds.get(a.code, ())) for a in everyone if not a.retired]

    return await _cached(call, "", build)


async def agencies_list_qd20(call: Call) -> web.Response:
    """The active agencies with both code forms; ``level`` (1–4, QCVN 102 levels) narrows them."""
    level = (call.param("level") or "").strip()
    if level and level not in _LEVELS:
        raise AxisError("vdxp.param.invalid", f"level {level!r} is not 1, 2, 3 or 4.", parameter="level")

    async def build() -> list[dict[str, Any]]:
        return [answers.qd20_item(a) for a in _all(call) if not a.retired and (not level or _level(a) == int(level))]

    return await _cached(call, level, build)


def _level(agency: Agency) -> int:
    try:
        return codes.parse(agency.code).level
    except AxisError:  # a legacy code that breaks the pattern: no level
        return 0


async def synchronize_units(call: Call) -> web.Response:
    """Every agency, retired ones as ``deleted``, with the system that serves it, when it last
    changed and how many changes its history holds (``version``)."""

    async def build() -> list[dict[str, Any]]:
        resolver = call.axis.registry.resolver
        async with call.axis.connection() as conn:
            changes = await history.agency_versions(conn)
        units = []
        for agency in _all(call):
            modified, version = changes.get(agency.code, (None, 0))
            try:
                serving = resolver.serving_system(agency.code)
            except AxisError:
                serving = None
            center = serving.id if serving else ""
            if not center and not resolver.served_here(agency.code):
                center = resolver.upstream_system() or ""  # an agency of the axis above
            units.append(answers.unit_item(agency, center=center, modified=modified, version=version))
        return units

    return await _cached(call, "", build)


async def register_agency(call: Call) -> Any:
    """Refused: the SDK sends the new agency in the body, which nothing signs."""
    raise AxisError(
        "vdxp.agency.register_refused",
        "This axis does not take new agencies from registerAgency: the SDK does not sign its data, so anyone "
        "who saw one of your requests could add agencies. Ask the administrator of this axis to add it.",
    )


async def delete_agency(call: Call) -> dict[str, Any]:
    """Agencies are never deleted (old documents name them): with ``AXIS_VDXP_AGENCY_CHANGES`` the
    agency retires, if it lies below one the system serves and is not a binding's root."""
    if not call.compat.settings.vdxp_agency_changes:
        raise AxisError(
            "vdxp.agency.changes_disabled",
            "Agencies are retired by the administrator of this axis, who can name the successor new documents "
            "go to. Ask them.",
        )
    code = call.required("AgencyCode")
    call.may_change()
    agency = call.axis.registry.resolver.agency(code)
    serving = call.axis.registry.resolver.serving_system(agency.code)
    if serving is None or serving.id != call.system.id or agency.code in call.axis.registry.snapshot.bindings:
        raise AxisError(
            "vdxp.agency.not_served",
            f"{agency.code} is not in a subtree {call.system.id} serves (or is the root of a binding).",
            agency_code=agency.code,
        )
    if not agency.retired:
        await call.axis.registrar.change(
            f"vdxp:{call.system.id}", lambda conn, actor: agencies.retire(conn, actor, agency.code)
        )
    return answers.ok()
