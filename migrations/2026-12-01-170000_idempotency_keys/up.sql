-- Answers kept for idempotent retries (Idempotency-Key), for 24 hours. The row is written in the
-- transaction of the change it answers, so a committed change and its stored answer cannot part.
CREATE TABLE idempotency_keys (
    -- SHA-256 of the actor, method, path and key: keys are scoped to all four.
    key_hash BYTEA PRIMARY KEY,
    -- SHA-256 of the request body: a retry with another body is refused.
    body_hash BYTEA NOT NULL,
    status SMALLINT NOT NULL,
    body BYTEA NOT NULL,
    location TEXT,
    etag TEXT,
    -- The access-log entry a replay writes again: its action and subject.
    entry_action TEXT,
    entry_subject_id UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
