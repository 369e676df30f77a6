"""Benchmark: what users feel after a year of national mail, not on an empty database (issue 19).

Starts the axis (``axis serve``) on a fresh database and vhost with four real systems (two over
HTTP, two over AMQP), adds the national registry's size beside them (the ~112k agencies of
``bench_registry.py``, 2,000 systems bound to them), then grows the database in steps to
``--packages`` and, at each step, measures p50/p99 of what agencies and clerks do, through the
real HTTP path, with real signed packages:

  intake (latency, and the rate of a burst of 200 submissions 8 at a time), inbox, fetch,
  acknowledge, status view, document search by each filter, the clerk's list and document pages,
  the admin systems list, a relay round, and ``axis audit verify``'s rate

and prints each figure at every step side by side, with the bytes on disk per package (heap,
indexes, TOAST) at the last.

The history is loaded in bulk inside PostgreSQL (``INSERT … SELECT`` from generated series, not
the HTTP path), shaped as the exchange writes it: documents to one recipient system mostly, to a
few often, to tens sometimes and to hundreds rarely (mean ~5); each recipient answers with status
packages (01 arrived on most, 03, 04, 05, 06 on many, 02 rejected on a few), each a package of
its own with its delivery, events and receipts; 3 % of deliveries failed, and the operators requeued
each a day later (then it was delivered) except those of the last week, still failed; a few still
waiting at bulk systems; spread over the twelve months before now; the events inserted already chained
(the hash chain ``axis audit verify`` checks, as ``audit_link_events`` computes it: the axis
chains rows with an UPDATE soon after they are written, and autovacuum gives the old row
versions' space to the next rows; chaining a bulk year at the end would count a year of dead
rows as bytes per package). ``--packages`` counts every package, status packages included (about 20
per document with this mix). Systems are picked by a power law (the busiest system sends ~8 % of
all, the top 1 % ~22 %); the four measured systems are the four busiest, so their searches and
lists are the worst case. What is smaller than life: package and receipt bodies in the bulk are
placeholders of 256 bytes (real: ~30 KB packages, ~2.3 KB receipts), so heap and TOAST bytes per
package understate a real year; rows, indexes and counts do not.

    .venv/bin/python scripts/bench_scale.py [--packages 1000000] [--steps 0,100000,1000000] [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_registry
import browsing
import builders
import cluster as cluster_module
from cluster import Cluster, Sim

from axis import audit
from axis.accounts import passwords, users
from axis.broker.management import Management
from axis.broker.outbox import PostgresOutbox
from axis.edxml import build, sign
from axis.registry import systems as registry_systems
from axis.registry.folding import fold
from axis.store import db

SYSTEMS = 2000
#: Subjects of the bulk documents: "Về việc <topic> số N", forty topics in turn, so that a search
#: by a topic's word matches one document in forty (the bench searches "chuyển đổi số").
TOPICS = [
    "triển khai nhiệm vụ năm",
    "báo cáo tình hình kinh tế xã hội",
    "tăng cường công tác phòng cháy",
    "chuyển đổi số trong cơ quan nhà nước",
    "phân bổ ngân sách",
    "tổ chức hội nghị trực tuyến",
    "kiểm tra công tác cải cách hành chính",
    "phòng chống thiên tai",
    "quản lý đất đai",
    "tuyển dụng công chức",
    "đào tạo bồi dưỡng cán bộ",
    "thi đua khen thưởng",
    "an toàn giao thông",
    "phòng chống dịch bệnh",
    "xây dựng nông thôn mới",
    "bảo vệ môi trường",
    "quản lý thuế",
    "giải quyết khiếu nại tố cáo",
    "công tác dân tộc",
    "phát triển du lịch",
    "an ninh mạng",
    "quy hoạch đô thị",
    "giáo dục đào tạo",
    "y tế cơ sở",
    "bảo hiểm xã hội",
    "lao động việc làm",
    "khoa học công nghệ",
    "văn hóa thể thao",
    "quốc phòng địa phương",
    "tài nguyên nước",
    "đầu tư công",
    "hỗ trợ doanh nghiệp",
    "thống kê dân số",
    "cấp giấy phép xây dựng",
    "quản lý chợ",
    "phòng chống tham nhũng",
    "công tác thanh niên",
    "bình đẳng giới",
    "chính sách người có công",
    "sắp xếp đơn vị hành chính",
]
PLACEHOLDER = 256  # bytes of a bulk package's or receipt's body
FAILING = 0.03  # share of bulk deliveries that fail (all but the last week's then requeued and delivered)
BATCH_DOCUMENTS = 5000  # documents per bulk transaction (about 100k packages)

# --- the bulk history --------------------------------------------------------------------------------

#: Rank 0 is the busiest system: rank = floor(S * random()^3) puts ~8 % of picks on it.
PICK = "floor({systems} * power(random(), 3))::int"

#: A package's or receipt's id as ``axis.ids.time_ordered`` makes it at ``{at}`` (UUID version 7:
#: milliseconds, then "7", then the random rest of a version 4 id, variant included).
TIME_ORDERED = "(lpad(to_hex((extract(epoch FROM {at}) * 1000)::bigint), 12, '0') || '7' || substr(gen_random_uuid()::text, 16))::uuid"

FILL = """
CREATE TEMP TABLE bd ON COMMIT DROP AS
SELECT n, {new_id} AS id, document_id, sender_rank, k, at FROM (
    SELECT n, 'BULK-' || n AS document_id,
           {pick} AS sender_rank,
           CASE WHEN r < 0.60 THEN 1 WHEN r < 0.85 THEN 2 + floor(random() * 3)::int
                WHEN r < 0.99 THEN 5 + floor(random() * 20)::int ELSE 100 + floor(random() * 200)::int END AS k,
           $3::timestamptz + least(n::float8 / $4, 1.0) * ($5::timestamptz - $3::timestamptz) AS at
      FROM (SELECT $1 + i AS n, random() AS r FROM generate_series(0, $2 - 1) i) g) timed;

CREATE TEMP TABLE br0 ON COMMIT DROP AS
SELECT DISTINCT ON (bd.id, s.system_id) bd.id AS package_id, bd.document_id, bd.at, bd.sender_rank,
       s.system_id, s.agency_code, s.http,
       CASE WHEN random() < {failing} THEN 'failed' WHEN s.rank >= 4 AND random() < 0.002 THEN 'queued'
            ELSE 'delivered' END AS state
  FROM bd CROSS JOIN LATERAL (SELECT {pick} AS rank FROM generate_series(1, bd.k)) picked
  JOIN bulk_systems s ON s.rank = picked.rank
 WHERE s.rank <> bd.sender_rank;

-- A failure older than the year's last week was requeued a day after it (by an operator), then
-- delivered: ``requeued_at`` says when, and the delivery's later times follow from it.
CREATE TEMP TABLE br ON COMMIT DROP AS
SELECT package_id, document_id, at, sender_rank, system_id, agency_code, http,
       CASE WHEN requeued THEN 'delivered' ELSE state END AS state,
       CASE WHEN requeued THEN at + interval '1 day' END AS requeued_at,
       CASE WHEN requeued THEN at + interval '1 day' ELSE at END AS sent_at
  FROM (SELECT *, state = 'failed' AND at < $5::timestamptz - interval '7 days' AS requeued FROM br0) failures;

CREATE TEMP TABLE bs ON COMMIT DROP AS
SELECT {new_id} AS id, * FROM (
    SELECT br.package_id AS document_package, br.document_id, br.system_id AS sender_system,
           br.agency_code AS sender_code, br.sender_rank, c.code,
           br.sent_at + (c.o * 3 + random() * 2) * interval '1 hour' AS at
      FROM br CROSS JOIN LATERAL (VALUES ('01', 0.95, 0), ('03', 0.85, 1), ('04', 0.60, 2), ('05', 0.50, 3),
                                         ('06', 0.70, 4), ('02', 0.03, 5)) AS c (code, p, o)
     WHERE br.state = 'delivered' AND random() < c.p) timed;

INSERT INTO packages (id, kind, dedupe_key, document_id, sender_code, sender_system, business_type, code_number,
                      code_notation, subject, subject_folded, promulgation_date, digest, size, body,
                      signature_policy, received_via, received_at)
SELECT bd.id, 'document', 'document:' || bd.document_id || ':0', bd.document_id, s.agency_code, s.system_id, 0,
       (bd.n % 9000 + 1)::text, 'QĐ-BULK' || bd.sender_rank,
       'Về việc ' || t.topic || ' số ' || bd.n, 've viec ' || t.folded || ' so ' || bd.n, bd.at::date,
       md5(bd.id::text), {placeholder}, convert_to(repeat('x', {placeholder}), 'UTF8'), 'strict',
       CASE WHEN s.http THEN 'http' ELSE 'amqp' END, bd.at
  FROM bd JOIN bulk_systems s ON s.rank = bd.sender_rank
  JOIN bulk_topics t ON t.n = bd.n % 40;

INSERT INTO documents (document_id, sender_code, sender_system, package_id, created_at, updated_at)
SELECT bd.document_id, s.agency_code, s.system_id, bd.id, bd.at, bd.at
  FROM bd JOIN bulk_systems s ON s.rank = bd.sender_rank;

INSERT INTO packages (id, kind, dedupe_key, document_id, sender_code, sender_system, status_code, digest, size,
                      body, signature_policy, received_via, received_at)
SELECT bs.id, 'status', 'status:' || bs.id, bs.document_id, bs.sender_code, bs.sender_system, bs.code,
       md5(bs.id::text), {placeholder}, convert_to(repeat('s', {placeholder}), 'UTF8'), 'strict', 'http', bs.at
  FROM bs;

INSERT INTO system_documents (system_id, package_id, sent, received_at, code_number, notation_folded,
                              promulgation_date, subject_folded)
SELECT s.system_id, bd.id, true, bd.at, (bd.n % 9000 + 1)::text, lower('QĐ-BULK' || bd.sender_rank), bd.at::date,
       've viec ' || t.folded || ' so ' || bd.n
  FROM bd JOIN bulk_systems s ON s.rank = bd.sender_rank JOIN bulk_topics t ON t.n = bd.n % 40
UNION ALL
SELECT br.system_id, br.package_id, false, br.at, (bd.n % 9000 + 1)::text, lower('QĐ-BULK' || bd.sender_rank),
       br.at::date, 've viec ' || t.folded || ' so ' || bd.n
  FROM br JOIN bd ON bd.id = br.package_id JOIN bulk_topics t ON t.n = bd.n % 40;

INSERT INTO system_counterparts (system_id, agency_code)
SELECT s.system_id, br.agency_code FROM br JOIN bulk_systems s ON s.rank = br.sender_rank
UNION
SELECT br.system_id, s.agency_code FROM br JOIN bulk_systems s ON s.rank = br.sender_rank
ON CONFLICT DO NOTHING;

INSERT INTO package_recipients (package_id, requested_code, agency_code, system_id)
SELECT package_id, agency_code, agency_code, system_id FROM br
UNION ALL
SELECT bs.id, s.agency_code, s.agency_code, s.system_id FROM bs JOIN bulk_systems s ON s.rank = bs.sender_rank;

INSERT INTO deliveries (package_id, system_id, state, created_at, published_at, fetched_at, delivered_at, failed_reason,
                        sender_system, requeued_at)
SELECT br.package_id, br.system_id, br.state, br.at, CASE WHEN NOT br.http THEN br.sent_at + interval '1 second' END,
       CASE WHEN br.http AND br.state = 'delivered' THEN br.sent_at + interval '1 minute' END,
       CASE WHEN br.state = 'delivered' THEN br.sent_at + interval '2 minutes' END,
       CASE WHEN br.state = 'failed' THEN 'the recipient system was disabled' END, s.system_id, br.requeued_at
  FROM br JOIN bulk_systems s ON s.rank = br.sender_rank
UNION ALL
SELECT bs.id, s.system_id, 'delivered', bs.at, NULL, bs.at + interval '1 minute', bs.at + interval '2 minutes', NULL,
       bs.sender_system, NULL
  FROM bs JOIN bulk_systems s ON s.rank = bs.sender_rank;

INSERT INTO receipts (id, package_id, kind, for_system, about_system, body, created_at, acknowledged_at)
SELECT {new_id}, package_id, kind, for_system, about_system, convert_to(repeat('r', {placeholder}), 'UTF8'),
       at, at + interval '1 minute' FROM (
    SELECT bd.id AS package_id, 'acceptance' AS kind, s.system_id AS for_system, NULL AS about_system, bd.at
      FROM bd JOIN bulk_systems s ON s.rank = bd.sender_rank
    UNION ALL
    SELECT br.package_id, 'delivery', s.system_id, br.system_id, br.sent_at + interval '2 minutes'
      FROM br JOIN bulk_systems s ON s.rank = br.sender_rank WHERE br.state = 'delivered'
    UNION ALL
    SELECT bs.id, 'acceptance', bs.sender_system, NULL, bs.at FROM bs
    UNION ALL
    SELECT bs.id, 'delivery', bs.sender_system, s.system_id, bs.at + interval '2 minutes'
      FROM bs JOIN bulk_systems s ON s.rank = bs.sender_rank) made;

CREATE TEMP TABLE be ON COMMIT DROP AS
SELECT at, document_id, package_id, kind, system_id, agency_code, detail FROM (
    SELECT bd.at, bd.document_id, bd.id AS package_id, 'accepted' AS kind, s.system_id, NULL AS agency_code,
           jsonb_build_object('via', 'http', 'kind', 'document', 'digest', md5(bd.id::text)) AS detail
      FROM bd JOIN bulk_systems s ON s.rank = bd.sender_rank
    UNION ALL
    SELECT at, document_id, package_id, 'queued', system_id, agency_code,
           jsonb_build_object('requested', agency_code, 'redirects', NULL) FROM br
    UNION ALL
    SELECT sent_at + interval '1 minute', document_id, package_id,
           CASE WHEN http THEN 'fetched' ELSE 'published' END, system_id, NULL, '{{}}'::jsonb
      FROM br WHERE state = 'delivered'
    UNION ALL
    SELECT sent_at + interval '2 minutes', document_id, package_id, 'delivered', system_id, NULL,
           jsonb_build_object('how', 'acknowledged', 'receipt', gen_random_uuid()::text) FROM br
     WHERE state = 'delivered'
    UNION ALL
    SELECT at + interval '1 minute', document_id, package_id, 'failed', system_id, NULL,
           jsonb_build_object('reason', 'the recipient system was disabled') FROM br
     WHERE state = 'failed' OR requeued_at IS NOT NULL
    UNION ALL
    SELECT requeued_at, document_id, package_id, 'requeued', system_id, NULL,
           jsonb_build_object('by', 'admin:bench', 'previous_reason', 'the recipient system was disabled')
      FROM br WHERE requeued_at IS NOT NULL
    UNION ALL
    SELECT bs.at, bs.document_id, bs.id, e.kind, CASE WHEN e.kind = 'status' THEN bs.sender_system ELSE s.system_id END,
           NULL, CASE WHEN e.kind = 'status' THEN jsonb_build_object('by', 'recipient', 'code', bs.code,
                                                                      'author', bs.sender_code)
                      WHEN e.kind = 'accepted' THEN jsonb_build_object('via', 'http', 'kind', 'status')
                      WHEN e.kind = 'delivered' THEN jsonb_build_object('how', 'acknowledged',
                                                                        'receipt', gen_random_uuid()::text)
                      ELSE '{{}}'::jsonb END
      FROM bs JOIN bulk_systems s ON s.rank = bs.sender_rank
     CROSS JOIN (VALUES ('accepted'), ('queued'), ('status'), ('fetched'), ('delivered')) AS e (kind)
) all_events;
SELECT pg_temp.insert_chained_events();
"""

#: The events of a batch go in already chained, in time order: the axis's linker chains rows after
#: they are written, an UPDATE whose old row versions autovacuum reclaims for the next rows as
#: traffic goes on; chaining a whole bulk year that way at the end would leave every event row
#: (and its index entries) written twice, a year of dead rows counted as bytes per package.
CHAINED_INSERT = """
CREATE FUNCTION pg_temp.insert_chained_events() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
    r events%ROWTYPE;
    added integer := 0;
BEGIN
    SELECT * INTO head FROM audit_heads WHERE chain = 'events' FOR UPDATE;
    FOR r IN SELECT nextval('events_id_seq'::regclass), be.at, be.document_id, be.package_id, be.kind, be.system_id,
                    be.agency_code, be.detail, NULL::bigint, NULL::bytea, NULL::bytea
               FROM be ORDER BY be.at LOOP
        r.chain_seq := head.last_seq + 1;
        r.prev_hash := head.last_hash;
        r.hash := sha256(r.prev_hash || convert_to(audit_event_text(r), 'UTF8'));
        INSERT INTO events VALUES (r.*);
        head.last_seq := r.chain_seq;
        head.last_hash := r.hash;
        added := added + 1;
    END LOOP;
    UPDATE audit_heads SET last_seq = head.last_seq, last_hash = head.last_hash WHERE chain = 'events';
    RETURN added;
END $$;
"""


@dataclass
class Filler:
    conn: Any  # asyncpg.Connection
    total_documents: int
    start: str  # ISO timestamps: the year's bounds
    end: str
    documents: int = 0

    async def packages(self) -> int:
        count: int = await self.conn.fetchval("SELECT count(*) FROM packages")
        return count

    async def grow_to(self, target_packages: int, say: Callable[[str], None]) -> float:
        """Add documents (with their statuses) in batches until ``target_packages``; seconds taken."""
        began = time.perf_counter()
        sql = FILL.format(
            pick=PICK.format(systems=SYSTEMS),
            placeholder=PLACEHOLDER,
            failing=FAILING,
            new_id=TIME_ORDERED.format(at="at"),  # each id at its own row's time
        )
        if not await self.conn.fetchval("SELECT to_regprocedure('pg_temp.insert_chained_events()') IS NOT NULL"):
            await self.conn.execute(CHAINED_INSERT)
        while (have := await self.packages()) < target_packages:
            per_document = have / self.documents if self.documents else 20.0
            batch = max(100, min(BATCH_DOCUMENTS, int((target_packages - have) / per_document) + 1))
            async with self.conn.transaction():
                await self.conn.execute(_bind(sql, self.documents, batch, self.start, self.total_documents, self.end))
            self.documents += batch
            say(f"  {await self.packages():>12,} packages ({self.documents:,} documents), "
                f"{time.perf_counter() - began:.0f} s")  # fmt: skip
        chained = 0  # the events of the measured requests, linked as the axis's linker would
        while linked := await self.conn.fetchval("SELECT audit_link_events('0 seconds'::interval, 200000)"):
            chained += linked
        say(f"  linked {chained:,} events of the measured requests; analyzing")
        await self.conn.execute("VACUUM ANALYZE")
        return time.perf_counter() - began


def _bind(sql: str, offset: int, batch: int, start: str, total: int, end: str) -> str:
    """The fill is several statements: asyncpg's simple protocol takes no parameters, so they are
    literals here (numbers and timestamps this script made)."""
    values = {"$1": str(offset), "$2": str(batch), "$3": f"'{start}'", "$4": str(total), "$5": f"'{end}'"}
    for name in sorted(values, reverse=True):
        sql = sql.replace(name, values[name])
    return sql


async def add_registry(conn: Any, sims: list[Sim], say: Callable[[str], None]) -> None:
    """The national registry's size: the generated agencies, 2,000 systems bound to them; the four
    real systems take ranks 0-3 (the busiest)."""
    rows, bindable = bench_registry.generate()
    await conn.execute("CREATE TEMP TABLE new_agencies (code text, name text, name_folded text, parent_code text)")
    await conn.copy_records_to_table(
        "new_agencies",
        records=[(r["code"], r["name"], fold(r["name"]), None) for r in rows],
    )
    await conn.execute(
        "INSERT INTO agencies (code, name, name_folded) SELECT code, name, name_folded FROM new_agencies "
        "ON CONFLICT (code) DO NOTHING"
    )
    taken = {s.code for s in sims}
    codes = [c for c in bindable if c not in taken][: SYSTEMS - len(sims)]
    bulk = [(f"bulk-{i:04d}", code) for i, code in enumerate(codes, len(sims))]
    await conn.executemany(
        "INSERT INTO systems (id, name, delivery_http, delivery_amqp) VALUES ($1, $2, $3, $4)",
        [(sid, f"Hệ thống {code}", i % 2 == 1, i % 2 == 0) for i, (sid, code) in enumerate(bulk)],
    )
    await conn.executemany("INSERT INTO bindings (agency_code, system_id) VALUES ($2, $1)", bulk)
    await conn.execute(
        "CREATE TABLE bulk_systems (rank int PRIMARY KEY, system_id text NOT NULL, agency_code text NOT NULL, "
        "http boolean NOT NULL)"
    )
    members = [(s.system_id, s.code, not s.amqp) for s in sims]
    members += [(sid, code, i % 2 == 1) for i, (sid, code) in enumerate(bulk)]
    ranked = [(rank, *member) for rank, member in enumerate(members)]
    assert len(ranked) == SYSTEMS, len(ranked)
    await conn.executemany("INSERT INTO bulk_systems VALUES ($1, $2, $3, $4)", ranked)
    await conn.execute("CREATE TABLE bulk_topics (n int PRIMARY KEY, topic text NOT NULL, folded text NOT NULL)")
    await conn.executemany(
        "INSERT INTO bulk_topics VALUES ($1, $2, $3)", [(i, t, fold(t)) for i, t in enumerate(TOPICS)]
    )
    await conn.execute("UPDATE registry_version SET version = version + 1")
    await conn.execute("NOTIFY axis_registry")
    say(f"registry: {await conn.fetchval('SELECT count(*) FROM agencies'):,} agencies, "
        f"{await conn.fetchval('SELECT count(*) FROM systems'):,} systems")  # fmt: skip


# --- the measurements --------------------------------------------------------------------------------


@dataclass
class Figures:
    times: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    intake_rate: float = 0.0  # packages/s of a concurrent burst of submissions
    warmed: set[str] = field(default_factory=set)  # operations whose first, uncounted call was made

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)

    def p(self, name: str, q: float) -> float | None:
        values = sorted(self.times.get(name, []))
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


async def timed(figures: Figures, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """Times ``call``, except the first call of each operation at a step: right after a bulk fill
    and its VACUUM, the pages it reads are cold as no running axis's are, and of a hundred samples
    that one read would be the p99."""
    began = time.perf_counter()
    result = await call()
    if name in figures.warmed:
        figures.add(name, time.perf_counter() - began)
    figures.warmed.add(name)
    return result


class Agent:
    """A system's software, over HTTP: each call raises on anything but success."""

    def __init__(self, session: aiohttp.ClientSession, base: str, sim: Sim) -> None:
        self.session, self.base, self.sim = session, base, sim
        self.headers = {"Authorization": f"Bearer {sim.token}"}

    async def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **(headers or {})}
        async with self.session.request(method, self.base + path, headers=headers, **kwargs) as response:
            body = await response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {body[:300]!r}")
            return await response.json() if response.content_type == "application/json" else body


#: Submissions of the throughput burst, and how many are in flight at once.
BURST, BURST_CONCURRENCY = 200, 8


async def intake_rate(out: Agent, packages: list[bytes]) -> float:
    """Packages/s the axis takes from one busy system sending ``BURST_CONCURRENCY`` at a time."""
    queue = list(packages)

    async def worker() -> None:
        while queue:
            data = queue.pop()
            await out.call(
                "POST", "/api/v1/packages", data=data, headers={**out.headers, "Content-Type": "application/xml"}
            )

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(BURST_CONCURRENCY)))
    return len(packages) / (time.perf_counter() - began)


def signed(sender: Sim, recipients: list[Sim], number: int) -> bytes:
    document = builders.document(
        sender=sender.code,
        recipients=tuple(r.code for r in recipients),
        number=str(number),
        notation=f"SCALE-{number}",
    )
    return sign(build(document), sender.identity.key, sender.identity.cert_chain)


async def measure(env: Cluster, samples: int, step: int, admin_token: str) -> Figures:
    figures = Figures()
    sender = env.sims[0]  # HTTP, the busiest system (rank 0)
    http_recipient = next(s for s in env.sims if not s.amqp and s != sender)
    amqp_recipient = next(s for s in env.sims if s.amqp)
    packages = [signed(sender, [http_recipient, amqp_recipient], step * 1000 + n) for n in range(samples)]
    burst = [signed(sender, [http_recipient, amqp_recipient], step * 1000 + 500 + n) for n in range(BURST)]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        out, into = Agent(session, env.base_url, sender), Agent(session, env.base_url, http_recipient)
        sent: list[dict[str, Any]] = []
        for data in packages:
            sent.append(
                await timed(
                    figures,
                    "intake",
                    lambda data=data: out.call(
                        "POST",
                        "/api/v1/packages",
                        data=data,
                        headers={**out.headers, "Content-Type": "application/xml"},
                    ),
                )
            )
        figures.intake_rate = await intake_rate(out, burst)
        await asyncio.sleep(1.0)
        for _ in range(samples):
            await timed(figures, "inbox", lambda: into.call("GET", "/api/v1/inbox?limit=100"))
        for item in sent:
            pid = item["package_id"]
            await timed(figures, "fetch", lambda pid=pid: into.call("GET", f"/api/v1/packages/{pid}"))
            await timed(figures, "acknowledge", lambda pid=pid: into.call("POST", f"/api/v1/packages/{pid}/ack"))
        documents = [item.get("document_id") for item in sent]
        bulk_document = await bulk_document_of(env, sender)
        for n in range(samples):
            doc = documents[n % len(documents)] if n % 2 or bulk_document is None else bulk_document
            await timed(figures, "status view", lambda doc=doc: out.call("GET", f"/api/v1/documents/{doc}/status"))
        filters = {
            "search sent": "direction=sent",
            "search received": "direction=received",
            "search document_id": f"document_id={documents[0]}",
            "search number": "number=17",
            "search notation": "notation=scale-1",
            "search words": "q=chuyen+doi+so",
            "search dates": "from=2026-01-01&to=2026-02-01",
            "search counterpart": f"counterpart={http_recipient.code}",
            "search delivery=failed": "delivery=failed",
            "search delivery=waiting": "delivery=waiting",
            "search delivery=done": "delivery=done",
        }
        for name, query in filters.items():
            # As many as every other request (a quarter of them made a p99 of ten samples: the
            # first, cold read).
            for _ in range(samples):
                await timed(figures, name, lambda query=query: out.call("GET", f"/api/v1/documents?{query}&limit=50"))
        clerk = browsing.Visitor(URL(env.base_url), session)
        await clerk.log_in(f"vanthu.{sender.system_id}")
        for n in range(max(5, samples // 4)):
            await timed(figures, "clerk list page", lambda: clerk.get("/ui/documents"))
            pid = sent[n % len(sent)]["package_id"]
            await timed(figures, "clerk document page", lambda pid=pid: clerk.get(f"/ui/documents/{pid}"))
        admin = {"Authorization": f"Bearer {admin_token}"}
        for _ in range(max(5, samples // 4)):

            async def systems_list() -> None:
                async with session.get(env.base_url + "/api/v1/admin/systems", headers=admin) as response:
                    assert response.status == 200, await response.text()
                    await response.read()

            await timed(figures, "admin systems list", systems_list)
        figures.notes["relay"] = await relay_round(env, [item["package_id"] for item in sent], amqp_recipient, figures)
    return figures


async def bulk_document_of(env: Cluster, sim: Sim) -> str | None:
    """One of the system's documents from the bulk history, with its statuses (None when empty)."""
    conn = await db.connect(env.settings.database_url)
    try:
        found = await conn.fetchval(
            "SELECT document_id FROM packages WHERE sender_system = $1 AND kind = 'document' AND document_id LIKE 'BULK-%'"
            " ORDER BY received_at DESC LIMIT 1",
            sim.system_id,
        )
        return str(found) if found else None
    finally:
        await conn.close()


class _ByReference:
    """What the relay asks its publisher while loading a row: bodies go by reference (not read)."""

    def by_reference(self, size: int, kind: str) -> bool:
        return True


async def relay_round(env: Cluster, package_ids: list[str], recipient: Sim, figures: Figures) -> str:
    """The database side of one relay round, with the relay's own code: claim the due rows
    (``FOR UPDATE SKIP LOCKED``), load each row's message, mark it published. Rows for packages just
    sent; the running axis's relay (every 2 s) rarely takes them first, and a round that finds
    none is not counted."""
    pool = await db.create_pool(env.settings.database_url, min_size=1, max_size=2)
    try:
        outbox = PostgresOutbox(pool)
        rounds = 0
        for pid in package_ids:
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO outbox (message_id, kind, system_id, next_attempt_at) VALUES ($1, 'package', $2, now())",
                    pid,
                    recipient.system_id,
                )
            began = time.perf_counter()
            async with outbox.claim(50) as claim:
                for row in claim.rows:
                    await claim.load(row, _ByReference())  # type: ignore[arg-type]
                    await claim.published(row)
            if claim.rows:
                figures.add("relay round", time.perf_counter() - began)
                rounds += 1
        return f"{rounds} rounds of one due row each"
    finally:
        await pool.close()


async def audit_rate(env: Cluster) -> str:
    conn = await db.connect(env.settings.database_url)
    try:
        began = time.perf_counter()
        report = await audit.verify(conn, "events")
        seconds = time.perf_counter() - began
        return f"{report.rows:,} rows in {seconds:.1f} s ({report.rows / max(seconds, 1e-9):,.0f}/s), intact={report.intact}"
    finally:
        await conn.close()


async def disk(env: Cluster) -> list[str]:
    conn = await db.connect(env.settings.database_url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM packages")
        rows = await conn.fetch(
            """SELECT c.relname, pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes,
                      coalesce(pg_total_relation_size(c.reltoastrelid), 0) AS toast
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 12"""
        )
        lines = [f"{'table':<22}{'heap B/pkg':>12}{'index B/pkg':>12}{'toast B/pkg':>12}"]
        totals = [0, 0, 0]
        for row in rows:
            heap, indexes, toast = row["heap"], row["indexes"], row["toast"]
            totals = [totals[0] + heap, totals[1] + indexes, totals[2] + toast]
            lines.append(f"{row['relname']:<22}{heap / count:>12,.0f}{indexes / count:>12,.0f}{toast / count:>12,.0f}")
        lines.append(f"{'all':<22}{totals[0] / count:>12,.0f}{totals[1] / count:>12,.0f}{totals[2] / count:>12,.0f}")
        lines.append(f"({count:,} packages; bodies in the bulk are {PLACEHOLDER}-byte placeholders)")
        return lines
    finally:
        await conn.close()


# --- the run -----------------------------------------------------------------------------------------


def say(line: str) -> None:
    print(line, flush=True)


async def main(args: argparse.Namespace) -> None:
    steps = sorted({int(s) for s in args.steps.split(",")} | {args.packages}) if args.steps else [0, args.packages]
    with tempfile.TemporaryDirectory() as keys:
        env = await cluster_module.create(4, Path(keys), prefix="axis_scale", AXIS_RATE_LIMIT_PER_MINUTE="0")
        try:
            conn = await db.connect(env.settings.database_url)
            async with conn.transaction():
                await add_registry(conn, env.sims, say)
                _, admin_token = await registry_systems.issue_admin_token(conn, "bench", "bench-admin")
                for sim in env.sims:
                    await users.add(
                        conn, "bench", f"vanthu.{sim.system_id}",
                        passwords.hash_password(browsing.PASSWORD, browsing.CHEAP),
                        role=users.Role.CLERK, system_id=sim.system_id, full_name="Văn thư (benchmark)",
                    )  # fmt: skip
            # The year ends a day ago, so that every status of the newest documents is in the past
            # (the audit linker chains only what is).
            end = await conn.fetchval("SELECT now() - interval '1 day'")
            start = (end - dt.timedelta(days=365)).isoformat()
            filler = Filler(conn, max(1, args.packages // 20), start, end.isoformat())
            env.start_process()
            await env.wait_ready(120)
            results: dict[int, Figures] = {}
            for step in steps:
                if step > 0:
                    say(f"growing to {step:,} packages")
                    took = await filler.grow_to(step, say)
                    say(f"  in {took:.0f} s")
                actual = await filler.packages()
                say(f"measuring at {actual:,} packages")
                results[step] = await measure(env, args.samples, len(results) + 1, admin_token)
                results[step].notes["audit verify"] = await audit_rate(env)
                say(f"  relay: {results[step].notes['relay']}; audit verify: {results[step].notes['audit verify']}")
            await conn.close()
            report(results)
            for line in await disk(env):
                print(line)
        finally:
            if not args.keep:
                await cluster_module.destroy(env)
            else:
                # The database only: the vhost's 2,000 quorum queues (one per bulk system) left on
                # the machine's RabbitMQ made every later vhost creation hang.
                env.stop_all()
                async with Management(env.settings.amqp_management_url) as management:
                    await management.delete_vhost(env.vhost)
                print(f"kept database {env.database}")


def report(results: dict[int, Figures]) -> None:
    """Each figure at every step; the last step's p99 against the first (the empty database) and,
    with three steps or more, against the one before it. An empty database answers most searches
    with an empty page: against the step before, both pages are full, and the ratio says how the
    cost grows with the data alone."""
    steps = sorted(results)
    names = list(results[steps[0]].times)
    bases = [steps[0]] + ([steps[-2]] if len(steps) > 2 else [])
    head = f"{'p50 / p99 (ms)':<26}" + "".join(f"{f'{s:,} packages':>22}" for s in steps)
    print(head + "".join(f"{f'p99 ÷ {b:,}':>18}" for b in bases))
    for name in names:
        cells = []
        for s in steps:
            p50, p99 = results[s].p(name, 0.5), results[s].p(name, 0.99)
            cells.append(
                f"{p50 * 1000:>9.1f} / {p99 * 1000:>8.1f}  " if p50 is not None and p99 is not None else " " * 22
            )
        last = results[steps[-1]].p(name, 0.99)
        ratios = [(last, results[b].p(name, 0.99)) for b in bases]
        print(f"{name:<26}" + "".join(cells) + "".join(f"{a / b:>17.2f}x" if a and b else " " * 18 for a, b in ratios))
    rates = [results[s].intake_rate for s in steps]
    by_base = [(rates[-1], results[b].intake_rate) for b in bases]
    ratios_text = "".join(f"{a / b:>17.2f}x" if b else " " * 18 for a, b in by_base)
    print(f"{'intake (packages/s)':<26}" + "".join(f"{rate:>20.1f}  " for rate in rates) + ratios_text)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=1_000_000, help="packages in the database at the end")
    parser.add_argument("--steps", default="", help="comma-separated package counts to measure at (0 = empty)")
    parser.add_argument(
        "--samples", type=int, default=100, help="requests per measured operation (the first one is not counted)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (and stop the axis) at the end")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
