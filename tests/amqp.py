"""Real RabbitMQ for tests: one fresh virtual host per test, deleted afterwards.

A vhost is RabbitMQ's unit of isolation (exchanges, queues, permissions), and creating one takes
milliseconds, so every test gets a broker nobody else touches, and nothing depends on test order.
Use it from a fixture::

    @pytest.fixture
    async def vhost() -> AsyncIterator[tuple[str, str]]:
        name, url = await amqp.new_vhost()
        yield name, url
        await amqp.delete_vhost(name)
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

from axis.broker.management import Management
from axis.errors import AxisError

MANAGEMENT_URL = os.environ.get("AXIS_TEST_AMQP_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
#: The broker as the administrator (guest); the path (the vhost) is replaced per test.
SERVER = os.environ.get("AXIS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def url(vhost: str, username: str | None = None, password: str | None = None) -> str:
    """An AMQP URL for ``vhost`` (URL-encoded), as guest or as the given user."""
    parts = urlsplit(SERVER)
    netloc = parts.netloc
    if username is not None:
        netloc = f"{quote(username, safe='')}:{quote(password or '', safe='')}@{parts.hostname}"
        if parts.port is not None:
            netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + quote(vhost, safe="")))


async def new_vhost() -> tuple[str, str]:
    """A new vhost ``axis-test-<hex>`` where guest may do anything: (its name, guest's AMQP URL)."""
    name = f"axis-test-{uuid.uuid4().hex[:12]}"
    guest = urlsplit(SERVER).username or "guest"
    try:
        async with Management(MANAGEMENT_URL) as management:
            await management.create_vhost(name)
            await management.set_permissions(name, guest, ".*", ".*", ".*")
    except AxisError as exc:
        raise RuntimeError(
            f"RabbitMQ's management API is not usable ({exc}); the tests need RabbitMQ with the "
            "management plugin (AXIS_TEST_AMQP_MANAGEMENT_URL)"
        ) from exc
    return name, url(name)


async def delete_vhost(name: str) -> None:
    """Delete the vhost and everything in it (RabbitMQ closes its connections); idempotent."""
    async with Management(MANAGEMENT_URL) as management:
        await management.delete_vhost(name)
