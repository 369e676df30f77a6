-- Retention takes the oldest packages not yet archived, a batch at a time. Without an index each
-- batch read every package (a sequential scan of the whole table for 200 rows: a year of ten
-- million packages made archiving quadratic). Archived packages leave this partial index, so it
-- holds only what retention has still to look at.
CREATE INDEX packages_unarchived ON packages (received_at) WHERE archived_at IS NULL;
