-- The national SDK signs its parameter map once per service instance and never refreshes its
-- timestamp: one instance sends byte-identical requests for as long as it lives, so a replay
-- cache refused its second poll and a freshness window every call of an instance older than the
-- window. Both go. What replaces them (axis.vdxp.replay): the first time the axis saw each signed
-- header set that can change state (one that carries `status` or `AgencyCode`); such a set may
-- change a delivery or an agency only within AXIS_VDXP_CHANGE_WINDOW_SECONDS of that first sight.
-- `axis retention run` forgets sightings older than the retention period.
DROP TABLE vdxp_seen_signatures;

CREATE TABLE vdxp_sightings (
    system_id       text NOT NULL,
    signature       text NOT NULL,                    -- XroadVnpt-hash-header
    first_seen      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (system_id, signature)
);
CREATE INDEX vdxp_sightings_first_seen ON vdxp_sightings (first_seen);
