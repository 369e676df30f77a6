"""A package's bytes as they arrive: small ones stay in memory, large ones go to a temporary file,
and either way the axis knows their size and digest without reading them again."""

from __future__ import annotations

import hashlib

from axis.exchange.received import Received


def test_a_small_body_stays_in_memory() -> None:
    with Received(spill=100) as received:
        for part in (b"<edXML>", b"...", b"</edXML>"):
            received.append(part)
        assert not received.spooled
        assert received.data() == b"<edXML>...</edXML>"
        assert (received.size, received.digest) == (18, hashlib.sha256(b"<edXML>...</edXML>").hexdigest())


def test_a_large_body_is_spooled_and_read_back_in_chunks_exactly() -> None:
    data = bytes(range(256)) * 40  # 10 KB
    with Received(spill=1000) as received:
        for offset in range(0, len(data), 700):
            received.append(data[offset : offset + 700])
        assert received.spooled
        assert received.file().read() == data
        assert [bytes(c) for c in received.chunks(4096)] == [data[:4096], data[4096:8192], data[8192:]]
        assert received.data() == data
        assert (received.size, received.digest) == (len(data), hashlib.sha256(data).hexdigest())
        spooled = received.file()
    assert spooled.closed  # closing deletes the temporary file


def test_bytes_already_in_memory_are_never_spooled() -> None:
    data = b"x" * (3 << 20)
    received = Received.of(data)
    assert not received.spooled
    assert received.data() is data
    assert b"".join(bytes(c) for c in received.chunks(1 << 20)) == data
