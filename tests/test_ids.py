"""Package and receipt ids made later sort later, so that a year of them fills each index at its end."""

from __future__ import annotations

import time
import uuid

from axis import ids


def test_an_id_is_a_standard_version_7_uuid_carrying_the_time_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = ids.time_ordered()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert uuid.UUID(str(made)) == made  # what PostgreSQL's uuid type and the API's JSON carry


def test_ids_made_a_millisecond_apart_sort_in_that_order_and_never_repeat() -> None:
    made = []
    for _ in range(5):
        made.append(ids.time_ordered())
        time.sleep(0.002)
    assert sorted(made) == made
    assert len({ids.time_ordered() for _ in range(10_000)}) == 10_000
