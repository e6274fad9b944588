-- Privacy requests (GDPR Art. 12): what a person asked for, through which channel, when it was
-- received and by when it must be answered. `original_due_on` keeps the first deadline, which
-- decides whether an extension is still possible.
CREATE TABLE privacy_requests (
    id uuid PRIMARY KEY,
    version integer NOT NULL DEFAULT 1,
    kind text NOT NULL
        CHECK (kind IN ('access', 'rectification', 'erasure', 'restriction', 'objection')),
    subject_id uuid REFERENCES subjects (id),
    channel text NOT NULL CHECK (channel IN ('email', 'portal', 'letter', 'phone', 'in_person')),
    received_at timestamptz NOT NULL,
    received_on date NOT NULL,
    reference text,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    original_due_on date NOT NULL,
    due_on date NOT NULL,
    extended boolean NOT NULL DEFAULT false,
    extension_reason text,
    subject_informed_at timestamptz,
    outcome text CHECK (outcome IN ('fulfilled', 'refused', 'withdrawn')),
    outcome_reason text,
    closed_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL AND outcome IS NOT NULL)),
    CHECK (extended = (extension_reason IS NOT NULL))
);

-- The overdue list and the gauges: open requests by deadline.
CREATE INDEX privacy_requests_open_due ON privacy_requests (due_on, id) WHERE status = 'open';
CREATE INDEX privacy_requests_subject ON privacy_requests (subject_id, id);

-- When a subject was erased; set by the erasure, read by the closing of an erasure request.
ALTER TABLE subjects ADD COLUMN erased_at timestamptz;
