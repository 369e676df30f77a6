"""PostgreSQL: connection pools, migrations. The queries live next to the subsystem they serve."""
