-- Entries written before entries were keyed no longer pass on their `seq` alone (a row inserted
-- later with a `seq` at or below the cut-over, 0 or negative on a fresh install, would too). At
-- its first sealing round after this upgrade the service vouches once for each of them with the
-- MAC a keyed entry carries (HMAC-SHA256 under ACCESS_LOG_KEY of the leaf data), and records the
-- cut-over and how many it vouched for as one MAC'ed row. Afterwards an entry without a valid
-- MAC, here or on its own row, is never chained, leafed or checkpointed.
CREATE TABLE access_log_unkeyed (
    entry_seq bigint PRIMARY KEY,
    mac bytea NOT NULL
);
CREATE TABLE access_log_unkeyed_fact (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    cutover bigint NOT NULL,
    entries bigint NOT NULL,
    mac bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER access_log_unkeyed_append_only BEFORE UPDATE OR DELETE ON access_log_unkeyed
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_unkeyed_no_truncate BEFORE TRUNCATE ON access_log_unkeyed
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_unkeyed_fact_append_only BEFORE UPDATE OR DELETE ON access_log_unkeyed_fact
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_unkeyed_fact_no_truncate BEFORE TRUNCATE ON access_log_unkeyed_fact
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
