"""Benchmark: a national-size registry — import time and resolutions per second from the cache.

Generates a realistic tree of about 111,000 agencies (30 ministries with their units; 63 provinces
with departments, districts, district offices, communes and level-4 units), then applies the 2025
reorganisation as retirements with successors: provinces 35-63 merge into provinces 1-34 (their
departments into the same departments there, their communes via their old province: two-hop
chains), every district is abolished into its province, and one ministry merges into another.
700 systems serve it (one per ministry and province, 607 more bound to departments and districts).

Prints, for one run against a fresh PostgreSQL database:
  import   the CSV through the CLI's path (read, plan, apply in one transaction)   goal < 60 s
  cache    snapshot load time
  resolve  resolutions/s from the in-memory cache: cold (every code once, on a fresh memo), then
           random look-ups (first pass fills the memo, then warm)                  goal > 100,000/s

    .venv/bin/python scripts/bench_registry.py [--lookups 300000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import time
import uuid

from axis.config import Settings
from axis.registry import importer, imports
from axis.registry.cache import RegistryCache
from axis.registry.resolve import Resolver
from axis.store import db
from axis.store.migrate import migrate

MINISTRIES, PROVINCES, MERGED_FROM = 30, 63, 35


def code(level1: str, bb: int = 0, cc: int = 0, ddd: int = 0) -> str:
    return f"{ddd:03d}.{cc:02d}.{bb:02d}.{level1}"


def generate() -> tuple[list[dict[str, str]], list[str]]:
    """Rows (code, name, status, successor) and the codes that systems will be bound to."""
    rows: list[dict[str, str]] = []
    bindable: list[str] = []

    def add(c: str, name: str, successor: str = "") -> None:
        rows.append({"code": c, "name": name, "status": "retired" if successor else "active", "successor": successor})

    for m in range(1, MINISTRIES + 1):
        top = f"G{m:02d}"
        add(code(top), f"Bộ số {m}", successor=code("G12") if m == 5 else "")
        for unit in range(1, 41):
            add(code(top, unit), f"Cục {unit} thuộc Bộ số {m}")
            bindable.append(code(top, unit))
            for sub in range(1, 11):
                add(code(top, unit, sub), f"Phòng {sub} Cục {unit} Bộ số {m}")
    for p in range(1, PROVINCES + 1):
        top = f"H{p:02d}"
        merged = p >= MERGED_FROM
        target = f"H{(p - MERGED_FROM) % (MERGED_FROM - 1) + 1:02d}"
        province = code(top)
        add(province, f"UBND tỉnh số {p}", successor=code(target) if merged else "")
        for dept in range(1, 21):
            dept_code = code(top, dept)
            add(dept_code, f"Sở {dept} tỉnh số {p}", successor=code(target, dept) if merged else "")
            bindable.append(dept_code)
            for unit in range(1, 6):
                add(
                    code(top, dept, unit),
                    f"Chi cục {unit} Sở {dept} tỉnh số {p}",
                    successor=province if merged else "",
                )
        for district in range(31, 43):
            district_code = code(top, district)
            add(district_code, f"UBND huyện {district} tỉnh số {p}", successor=province)  # districts abolished
            bindable.append(district_code)
            for unit in [*range(1, 13), *range(20, 38)]:
                kind = "Phòng" if unit < 20 else "UBND xã"
                unit_code = code(top, district, unit)
                add(
                    unit_code,
                    f"{kind} {unit} huyện {district} tỉnh số {p}",
                    successor=province if merged else "",
                )
                for leaf in range(1, 4):
                    add(
                        code(top, district, unit, leaf),
                        f"Đơn vị {leaf} thuộc {kind.lower()} {unit} huyện {district}",
                    )
    return rows, bindable


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["code", "name", "status", "successor"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def main(lookups: int) -> None:
    server = Settings.from_env().database_url
    url = db.with_database(server, f"axis_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    await db.ensure_database(url)
    pool = await db.create_pool(url)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        rows, bindable = generate()
        data = to_csv(rows)
        retired = sum(r["status"] == "retired" for r in rows)
        print(f"generated {len(rows):,} agencies ({retired:,} retired with successors), {len(data) / 1e6:.1f} MB CSV")

        start = time.perf_counter()
        parsed = importer.read_csv(data, source="generated.csv")
        read_done = time.perf_counter()
        async with pool.acquire() as conn:
            plan = importer.plan(parsed, await imports.existing(conn))
            plan_done = time.perf_counter()
            async with conn.transaction():
                applied = await imports.apply(conn, "bench", plan)
        total = time.perf_counter() - start
        print(
            f"import   {total:6.1f} s  (read {read_done - start:.1f} s, plan {plan_done - read_done:.1f} s, "
            f"apply {total - (plan_done - start):.1f} s; {applied:,} changes, {len(plan.bad)} bad)   goal < 60 s"
        )

        start = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            systems = [f"sys-{c[-3:]}" for c in sorted({r["code"][-3:] for r in rows})]
            extra = random.Random(7).sample(bindable, 700 - len(systems))
            records = [(s, f"Hệ thống {s}") for s in systems] + [(f"sys-{c}", f"Hệ thống {c}") for c in extra]
            await conn.executemany("INSERT INTO systems (id, name) VALUES ($1, $2)", records)
            bindings = [(code(s[4:]), s) for s in systems] + [(c, f"sys-{c}") for c in extra]
            await conn.executemany("INSERT INTO bindings (agency_code, system_id) VALUES ($1, $2)", bindings)
            await conn.execute("UPDATE registry_version SET version = version + 1")
        print(f"systems  {len(records)} systems, {len(bindings)} bindings in {time.perf_counter() - start:.1f} s")

        cache = RegistryCache(pool, url)
        start = time.perf_counter()
        await cache.start()
        print(
            f"cache    snapshot of {len(cache.snapshot.agencies):,} agencies loaded in {time.perf_counter() - start:.1f} s"
        )
        try:
            every = [r["code"] for r in rows]
            cold = Resolver(cache.snapshot)  # a fresh memo: each code resolved for the first time
            start = time.perf_counter()
            for c in every:
                cold.resolve(c)
            elapsed = time.perf_counter() - start
            print(
                f"resolve  {'cold':<10} {len(every) / elapsed:>12,.0f} resolutions/s (every code once, nothing memoized)"
            )
            resolver = cache.resolver
            rng = random.Random(11)
            sample = [rng.choice(rows)["code"] for _ in range(lookups)]
            for label in ("first pass", "warm"):
                start = time.perf_counter()
                redirected = 0
                for c in sample:
                    redirected += bool(resolver.resolve(c).redirects)
                elapsed = time.perf_counter() - start
                print(
                    f"resolve  {label:<10} {lookups / elapsed:>12,.0f} resolutions/s "
                    f"({lookups:,} look-ups, {redirected:,} through successors)   goal > 100,000/s"
                )
        finally:
            await cache.close()
    finally:
        await pool.close()
        admin = await db.connect(db.with_database(server, "postgres"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{db.database_name(url)}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lookups", type=int, default=300_000)
    asyncio.run(main(parser.parse_args().lookups))
