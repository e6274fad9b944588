-- The hash chain over the access log. The sealer appends one link per entry, in the order it
-- seals them: hash = SHA-256(previous hash || the entry's canonical bytes). Entries are only
-- chained once their writing transaction has finished, so no request waits for the chain.
CREATE TABLE access_log_chain (
    pos bigint PRIMARY KEY,
    entry_seq bigint NOT NULL UNIQUE,
    -- Kept so that a deleted entry can still be named.
    entry_id uuid NOT NULL,
    hash bytea NOT NULL
);

-- One row per sealing round: every transaction below `horizon` is chained up to `last_pos`.
CREATE TABLE access_log_seal (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    horizon bigint NOT NULL,
    last_pos bigint NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER access_log_chain_append_only BEFORE UPDATE OR DELETE ON access_log_chain
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_chain_no_truncate BEFORE TRUNCATE ON access_log_chain
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_seal_append_only BEFORE UPDATE OR DELETE ON access_log_seal
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_seal_no_truncate BEFORE TRUNCATE ON access_log_seal
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
