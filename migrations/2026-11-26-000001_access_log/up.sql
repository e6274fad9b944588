-- Refuses every change to a row of an append-only table, whoever asks.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- One row per subject touched by a request, and per refused attempt.
CREATE TABLE access_log (
    -- The order of appends; the cursor of every listing.
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- UUID v7, made by the service; no unique index: nothing looks entries up by id, and every
    -- index is paid for on each of the many appends.
    id uuid NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    recipient_id uuid,
    action text NOT NULL,
    subject_id uuid,
    outcome text NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    purpose text,
    request_id text NOT NULL,
    count integer,
    -- The writing transaction: the sealer chains only rows of finished transactions.
    txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX access_log_subject ON access_log (subject_id, seq) WHERE subject_id IS NOT NULL;
CREATE INDEX access_log_actor ON access_log (actor, seq);
-- Time grows with seq, so a block-range index serves time ranges at a fraction of a b-tree's
-- cost per append. The sealer needs txid in order (it reads the oldest unsealed entries first).
CREATE INDEX access_log_at ON access_log USING brin (at);
CREATE INDEX access_log_txid ON access_log (txid);

CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
