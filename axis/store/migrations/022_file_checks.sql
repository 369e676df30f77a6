-- The signatures inside each document's files (axis/files): checked once at intake, kept with the
-- package, read by the clerk's page, the status view, the inboxes and `axis package inspect`.
-- `verdict` is the one word listings show; `report` holds every file, signature and problem
-- (findings.DocumentCheck.to_json); `codes` every problem's code, for search and counting.
CREATE TABLE file_checks (
    package_id  uuid PRIMARY KEY REFERENCES packages (id) ON DELETE CASCADE,
    verdict     text NOT NULL CHECK (verdict IN ('valid', 'warning', 'invalid', 'unsigned', 'unchecked', 'none')),
    codes       text[] NOT NULL DEFAULT '{}',
    report      jsonb NOT NULL,
    checked_at  timestamptz NOT NULL DEFAULT now()
);

-- A system's policy for those signatures: `report` (the default: checked and shown, nothing refused)
-- or `require` (a document whose main file has no valid signature of the sending agency is refused).
ALTER TABLE systems ADD COLUMN file_policy text NOT NULL DEFAULT 'report'
    CHECK (file_policy IN ('report', 'require'));
