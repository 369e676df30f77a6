"""RabbitMQ's management HTTP API: virtual hosts, and one user per connected system.

A system's RabbitMQ user may read its own queue (``axis.system.<id>``) and write to the
``axis.intake`` exchange, nothing else: no configure rights, so it can neither declare nor delete
anything, and RabbitMQ's validated ``user_id`` tells the axis who published. Revoking deletes the
user rather than clearing its permissions, because RabbitMQ closes a deleted user's connections at
once, while channels that are already open keep their cached permissions when only those change.

The API is plain JSON over HTTP, so a thin aiohttp client is enough; every failure to reach it (or a
refusal of the axis's own credentials) becomes one stable error code.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import structlog
from yarl import URL

from axis.broker import topology
from axis.config import amqp_addresses
from axis.errors import AxisError

log = structlog.get_logger("axis.broker.management")

USER_PREFIX: Final = "axis-sys-"
#: Per request: a management API that hangs must not hang an admin command or a metrics scrape.
_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True, slots=True)
class AmqpGrant:
    """What a system needs to connect over AMQP; the password is shown once and never stored."""

    username: str
    password: str
    vhost: str
    queue: str
    intake_exchange: str


def username_for(system_id: str) -> str:
    """The RabbitMQ user of a system; the prefix keeps system users apart from operators' users."""
    return USER_PREFIX + system_id


def queue_for(system_id: str) -> str:
    """The system's delivery queue (``axis.system.<id>``), named in one place: the topology."""
    return topology.system_queue(system_id)


def _segment(text: str) -> str:
    # Vhost and user names are single path segments: "/" must travel as %2F (the default vhost).
    return quote(text, safe="")


def _node(url: str) -> tuple[str, dict[str, str]]:
    """One node's API: its URL without credentials, and the Basic auth header its credentials make."""
    parsed = URL(url)
    headers = {} if parsed.user is None else {"Authorization": _basic(parsed.user, parsed.password)}
    return str(parsed.with_user(None).with_query(None).with_fragment(None)).rstrip("/"), headers


class Management:
    """A client of one RabbitMQ management API (any node of a cluster answers for all of it).

    ``url`` carries the credentials (``http://user:password@host:15672``, optionally with the
    management plugin's path prefix); they are sent as Basic auth and never logged. A cluster's
    nodes are given as several URLs separated by commas: a node that cannot be reached, or answers
    5xx, is passed over for the next (and the one that answered is asked first next time). Without
    a ``session`` the client opens and closes its own; a given session stays the caller's.
    """

    def __init__(self, url: str, session: aiohttp.ClientSession | None = None) -> None:
        self._nodes = [_node(part) for part in amqp_addresses(url)]
        self._session = session
        self._owns_session = session is None

    @property
    def base(self) -> str:
        """The URL of the node asked first, without credentials: safe for error details and logs."""
        return self._nodes[0][0]

    @property
    def _headers(self) -> dict[str, str]:
        return self._nodes[0][1]

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running event loop (aiohttp wants one).
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Management:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        """One API call: the decoded JSON answer, or None for an empty answer or a tolerated 404.

        401, 403 and 5xx, and a server that cannot be reached, mean the broker is unusable for the
        axis (``broker.management.unavailable``); any other refusal means the request itself was
        wrong (``broker.management.refused``), with RabbitMQ's reason in the details.
        """
        for attempt in range(len(self._nodes)):
            try:
                async with self._client().request(
                    method, URL(f"{self.base}/api/{path}", encoded=True), json=body, headers=self._headers,
                    timeout=_TIMEOUT,
                ) as response:  # fmt: skip
                    status = response.status
                    text = await response.text()
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt + 1 < len(self._nodes):
                    self._nodes.append(self._nodes.pop(0))  # the next node of the cluster
                    continue
                raise AxisError(
                    "broker.management.unavailable",
                    f"The RabbitMQ management API at {self.base} cannot be reached: {exc!r}",
                    url=self.base,
                    status=None,
                ) from None
            if status >= 500 and attempt + 1 < len(self._nodes):
                self._nodes.append(self._nodes.pop(0))
                continue
            break
        if status < 300:
            return _json(text, self.base, status)
        if status == 404 and missing_ok:
            return None
        reason = _reason(text)
        if status in (401, 403) or status >= 500:
            raise AxisError(
                "broker.management.unavailable",
                f"The RabbitMQ management API at {self.base} answered {status} ({reason}).",
                url=self.base,
                status=status,
                reason=reason,
            )
        raise AxisError(
            "broker.management.refused",
            f"The RabbitMQ management API refused {method} /api/{path}: {status} ({reason}).",
            url=self.base,
            status=status,
            reason=reason,
            method=method,
            path=f"/api/{path}",
        )

    async def grant_system(self, vhost: str, system_id: str, *, password: str | None = None) -> AmqpGrant:
        """Create or update the system's user and set its permissions on ``vhost``.

        Idempotent. Without ``password`` a new random one is set (a rotation); connections that are
        already open stay open with the old one (RabbitMQ checks passwords only at login).
        """
        if await self._call("GET", f"vhosts/{_segment(vhost)}", missing_ok=True) is None:
            # Checked first, so that a mistyped vhost leaves no user behind.
            raise AxisError("broker.vhost.unknown", f"RabbitMQ has no virtual host {vhost!r}.", vhost=vhost)
        username = username_for(system_id)
        password = password if password is not None else secrets.token_urlsafe(32)
        # No tags: a system has no business with the management UI or API.
        await self._call("PUT", f"users/{_segment(username)}", {"password": password, "tags": ""})
        await self.set_permissions(
            vhost,
            username,
            configure="^$",
            write=f"^{re.escape(topology.INTAKE)}$",
            read=f"^{re.escape(queue_for(system_id))}$",
        )
        log.info("broker.system.granted", system=system_id, vhost=vhost, user=username)
        return AmqpGrant(username, password, vhost, queue_for(system_id), topology.INTAKE)

    async def revoke_system(self, vhost: str, system_id: str) -> None:
        """Delete the system's user; RabbitMQ then closes its connections (320 CONNECTION_FORCED).

        A user is broker-wide, so this ends its access on every vhost; ``vhost`` names the one the
        caller manages, for the log. Revoking a user that does not exist is not an error.
        """
        username = username_for(system_id)
        await self._call("DELETE", f"users/{_segment(username)}", missing_ok=True)
        log.info("broker.system.revoked", system=system_id, vhost=vhost, user=username)

    async def create_vhost(self, vhost: str) -> None:
        """Create the virtual host (idempotent). RabbitMQ grants its creator full permissions on it."""
        await self._call("PUT", f"vhosts/{_segment(vhost)}", {})

    async def delete_vhost(self, vhost: str) -> None:
        """Delete the virtual host with everything in it; a missing one is not an error."""
        await self._call("DELETE", f"vhosts/{_segment(vhost)}", missing_ok=True)

    async def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        """Replace ``user``'s permission regexes on ``vhost`` (both must exist: else a 400, refused)."""
        body = {"configure": configure, "write": write, "read": read}
        await self._call("PUT", f"permissions/{_segment(vhost)}/{_segment(user)}", body)

    async def queue_depth(self, vhost: str, queue: str) -> int | None:
        """Messages in the queue, ready plus unacknowledged; None when the queue does not exist.

        These are the management plugin's statistics, refreshed every few seconds
        (``collect_statistics_interval``, 5 s by default), not a live count; a queue too new to
        have statistics counts 0.
        """
        answer = await self._call("GET", f"queues/{_segment(vhost)}/{_segment(queue)}", missing_ok=True)
        if answer is None:
            return None
        ready = answer.get("messages_ready", 0)
        unacked = answer.get("messages_unacknowledged", 0)
        return int(ready or 0) + int(unacked or 0)

    async def queue_depths(self, vhost: str) -> dict[str, int]:
        """Every queue of the vhost with its messages (ready + unacknowledged), for metrics."""
        answer = await self._call(
            "GET", f"queues/{_segment(vhost)}?columns=name,messages_ready,messages_unacknowledged"
        )
        return {
            q["name"]: int(q.get("messages_ready") or 0) + int(q.get("messages_unacknowledged") or 0)
            for q in answer or []
        }

    async def queue_info(self, vhost: str, queue: str) -> dict[str, Any] | None:
        """The management API's view of a queue (statistics, effective policy); None when missing."""
        answer: dict[str, Any] | None = await self._call(
            "GET", f"queues/{_segment(vhost)}/{_segment(queue)}", missing_ok=True
        )
        return answer

    async def set_policy(
        self, vhost: str, name: str, pattern: str, definition: dict[str, Any], *, apply_to: str = "queues"
    ) -> None:
        """Apply a policy (e.g. length limits) to the queues whose names match ``pattern``."""
        body = {"pattern": pattern, "definition": definition, "apply-to": apply_to}
        await self._call("PUT", f"policies/{_segment(vhost)}/{_segment(name)}", body)

    async def delete_policy(self, vhost: str, name: str) -> None:
        await self._call("DELETE", f"policies/{_segment(vhost)}/{_segment(name)}", missing_ok=True)

    async def close_connections(self, vhost: str, *, user: str | None = None, reason: str = "closed by axis") -> int:
        """Close the vhost's client connections (of ``user`` only, when given); returns how many."""
        connections = await self._call("GET", f"vhosts/{_segment(vhost)}/connections") or []
        names = [c["name"] for c in connections if user is None or c.get("user") == user]
        for name in names:
            await self._call("DELETE", f"connections/{_segment(name)}", missing_ok=True)
        return len(names)

    async def ping(self) -> bool:
        """Whether the management API answers and accepts the axis's credentials."""
        try:
            await self._call("GET", "whoami")
        except AxisError as exc:
            log.warning("broker.management.ping_failed", code=exc.code, **exc.details)
            return False
        return True


def _basic(user: str, password: str | None) -> str:
    # Built by hand: aiohttp deprecates BasicAuth in 3.14, and its replacement is not in 3.9.
    token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
    return f"Basic {token}"


def _json(text: str, base: str, status: int) -> Any:
    """A success's JSON answer (None when empty); anything else is not a RabbitMQ management API."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise AxisError(
            "broker.management.unavailable",
            f"{base} answered with something other than JSON: is it a RabbitMQ management API?",
            url=base,
            status=status,
        ) from None


def _reason(text: str) -> str:
    """RabbitMQ's own explanation from an error body (``{"error": …, "reason": …}``), if any."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(body, dict):
        return str(body.get("reason") or body.get("error") or "")
    return text[:200]
