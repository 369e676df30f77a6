"""The fault suite at a reduced size: nothing accepted is lost or doubled, nothing unaccepted stays.

These tests stop RabbitMQ and restart PostgreSQL on this machine (they are the services the
tests use): run them alone. ``scripts/chaos.py`` runs the same at full size with a report.
"""

from __future__ import annotations

from pathlib import Path

import chaos
import pytest

pytestmark = pytest.mark.faults


async def test_every_accepted_package_arrives_once_through_all_four_faults(tmp_path: Path) -> None:
    report = await chaos.run(systems=4, documents=24, rate=4.0, gap=3.0, keys=tmp_path / "keys")
    print("\n".join(report.lines()))
    assert report.accepted == report.documents
    assert report.lost == 0
    assert report.duplicates_in_effect == 0
    assert report.unaccepted_stored == 0
    assert report.missing_receipts == 0
    assert report.delivered_pairs == report.expected_pairs
    assert {"RabbitMQ stopped", "PostgreSQL restarted"} <= set(report.faults)
    assert any("SIGKILL" in f for f in report.faults)
    assert any("consumer crashed" in f for f in report.faults)
    # /readyz told the truth while RabbitMQ was down; /healthz never said the process was unwell.
    assert 503 in report.readiness.get("rabbitmq down", [])
    assert 200 in report.readiness.get("normal", [])
    assert not {500, 503} & set(report.healthz)
    assert all(500 not in statuses for statuses in report.readiness.values())  # "not ready", never a crash
