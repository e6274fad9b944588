-- Where a recipient receives its notices (Art. 19): an https endpoint and its signing secret,
-- sealed under the service's data key (never stored in the clear). `previous_secret` keeps
-- signing beside the new one until `previous_until` after a rotation. A deleted webhook keeps its
-- row (so that a notice queued concurrently still has what it references) without its secrets.
CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    recipient_id uuid NOT NULL REFERENCES recipients (id),
    url text NOT NULL,
    secret bytea NOT NULL,
    previous_secret bytea,
    previous_until timestamptz,
    status text NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((previous_secret IS NULL) = (previous_until IS NULL))
);
CREATE INDEX webhooks_recipient ON webhooks (recipient_id, created_at);

-- The outbox: one notice per recipient and event, written in the transaction of the change that
-- causes it and delivered at least once by the worker. `seq` orders the notices of one
-- (recipient, subject); a notice is sent only once every older one of its pair is settled.
-- `lease_until` and `lease` mark a notice one worker is sending, so that no other sends it
-- meanwhile; an expired lease (a crashed worker) makes it due again.
CREATE TABLE notices (
    id uuid PRIMARY KEY,
    seq bigserial NOT NULL UNIQUE,
    recipient_id uuid NOT NULL REFERENCES recipients (id),
    subject_id uuid NOT NULL REFERENCES subjects (id),
    type text NOT NULL CHECK (type IN ('subject.rectified', 'subject.erased', 'subject.restricted',
        'subject.restriction_lifted', 'consent.withdrawn')),
    categories text[],
    purpose text,
    webhook_id uuid REFERENCES webhooks (id),
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'manual', 'acknowledged')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease uuid,
    lease_until timestamptz,
    last_attempt_at timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    note text,
    CHECK (status <> 'pending' OR (webhook_id IS NOT NULL AND next_attempt_at IS NOT NULL))
);
CREATE INDEX notices_due ON notices (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notices_pair ON notices (recipient_id, subject_id, seq) WHERE status = 'pending';
CREATE INDEX notices_webhook ON notices (webhook_id) WHERE status = 'pending';
CREATE INDEX notices_recipient ON notices (recipient_id, id);
CREATE INDEX notices_subject ON notices (subject_id, id);
CREATE INDEX notices_pending_age ON notices (created_at) WHERE status = 'pending';
CREATE INDEX notices_dead ON notices (id) WHERE status = 'dead';
CREATE INDEX notices_manual ON notices (id) WHERE status = 'manual';
