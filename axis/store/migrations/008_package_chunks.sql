-- Large package bodies in 1 MiB chunks: written with COPY and read a chunk at a time, so that
-- neither storing nor serving a 100 MB package holds more than the package itself in the axis.
-- packages.chunks = 0: the bytes are packages.body (small packages, and all before this change);
-- n > 0: packages.body is empty and the bytes are chunks 0..n-1 here, in order.
ALTER TABLE packages ADD COLUMN chunks integer NOT NULL DEFAULT 0 CHECK (chunks >= 0);

CREATE TABLE package_chunks (
    package_id  uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    seq         integer NOT NULL CHECK (seq >= 0),
    bytes       bytea NOT NULL,
    PRIMARY KEY (package_id, seq)
);
ALTER TABLE package_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;  -- base64 of PDFs: compressed already
