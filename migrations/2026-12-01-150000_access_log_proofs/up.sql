-- Proofs anyone can check: keyed entries, an RFC 6962 Merkle tree over the log, signed
-- checkpoints. Every table here is append-only, like the log itself.

-- HMAC-SHA256 under ACCESS_LOG_KEY over the entry's leaf data, made by the service as it writes
-- the entry. An entry without a valid one was not written by the service.
ALTER TABLE access_log ADD COLUMN mac bytea;

-- The cut-over: entries up to this `seq` were written before entries were keyed and are accepted
-- without a MAC. One row, recorded once, here.
CREATE TABLE access_log_cutover (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO access_log_cutover (seq) SELECT coalesce(max(seq), 0) FROM access_log;

-- The tree's leaves in log order: leaf `idx` is the entry `entry_seq`; `hash` is
-- SHA-256(0x00 || the entry's RFC 8785 canonical JSON).
CREATE TABLE access_log_leaf (
    idx bigint PRIMARY KEY,
    entry_seq bigint NOT NULL,
    entry_id uuid NOT NULL,
    hash bytea NOT NULL
);
-- Proofs are asked for by entry id.
CREATE INDEX access_log_leaf_entry ON access_log_leaf (entry_id);

-- Roots of the complete subtrees of 2^level leaves for every level that is a multiple of 8:
-- node (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level). With these, any proof
-- needs at most a few blocks of 256 stored hashes.
CREATE TABLE access_log_node (
    level smallint NOT NULL CHECK (level > 0 AND level % 8 = 0),
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Entries the sealer kept out of the tree and the chain: no valid MAC after the cut-over.
CREATE TABLE access_log_refused (
    entry_seq bigint PRIMARY KEY,
    entry_id uuid NOT NULL,
    refused_at timestamptz NOT NULL DEFAULT now()
);

-- Signed tree heads: a C2SP tlog-checkpoint signed note per tree size.
CREATE TABLE access_log_checkpoint (
    size bigint PRIMARY KEY,
    root bytea NOT NULL,
    note text NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER access_log_cutover_append_only BEFORE UPDATE OR DELETE ON access_log_cutover
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_cutover_no_truncate BEFORE TRUNCATE ON access_log_cutover
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_leaf_append_only BEFORE UPDATE OR DELETE ON access_log_leaf
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_leaf_no_truncate BEFORE TRUNCATE ON access_log_leaf
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_node_append_only BEFORE UPDATE OR DELETE ON access_log_node
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_node_no_truncate BEFORE TRUNCATE ON access_log_node
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_refused_append_only BEFORE UPDATE OR DELETE ON access_log_refused
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_refused_no_truncate BEFORE TRUNCATE ON access_log_refused
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_checkpoint_append_only BEFORE UPDATE OR DELETE ON access_log_checkpoint
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_checkpoint_no_truncate BEFORE TRUNCATE ON access_log_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
