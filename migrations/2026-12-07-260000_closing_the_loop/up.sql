-- Closing the loop (contract v3, section E).
--
-- A recipient's outcome of a notice it was told to act on (Art. 17(2), 19): due by
-- `outcome_due_on` (working days after the queued date), recorded once by the recipient or
-- replaced by staff with an override reason. Reasons are free text sealed under the service key
-- (the subject's key may be gone by then). `privacy_request_id` names the request whose change
-- caused the notice.
ALTER TABLE notices
    ADD COLUMN privacy_request_id uuid REFERENCES privacy_requests (id),
    ADD COLUMN outcome_due_on date,
    ADD COLUMN outcome text CHECK (outcome IN ('done', 'not_held', 'refused')),
    ADD COLUMN outcome_reason_enc bytea,
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN outcome_recorded_by text,
    ADD COLUMN outcome_recorded_at timestamptz,
    ADD COLUMN override_reason_enc bytea,
    ADD CONSTRAINT notices_outcome_whole CHECK (
        (outcome IS NULL) = (completed_at IS NULL)
        AND (outcome IS NULL) = (outcome_recorded_by IS NULL)
        AND (outcome IS NULL) = (outcome_recorded_at IS NULL)
        AND (outcome IS NULL OR outcome_due_on IS NOT NULL));
CREATE INDEX notices_request ON notices (privacy_request_id) WHERE privacy_request_id IS NOT NULL;
CREATE INDEX notices_outcome_overdue ON notices (outcome_due_on)
    WHERE outcome IS NULL AND outcome_due_on IS NOT NULL;
-- The compliance figures of one recipient read only this index.
CREATE INDEX notices_recipient_queued ON notices (recipient_id, created_at)
    INCLUDE (outcome_due_on, outcome, completed_at) WHERE outcome_due_on IS NOT NULL;

-- Verification of the requester's identity, the link to an earlier open request of the same
-- kind and subject, and the reason a fulfilled close overrode unconfirmed recipients or open
-- tasks (about the process, never the person, like the close's own `outcome_reason`).
ALTER TABLE privacy_requests
    ADD COLUMN verified_at timestamptz,
    ADD COLUMN verification_method text
        CHECK (verification_method IN ('eid', 'document_in_person', 'known_channel', 'email_code')),
    ADD COLUMN verified_by text,
    ADD COLUMN duplicate_of uuid REFERENCES privacy_requests (id),
    ADD COLUMN override_reason text,
    ADD CONSTRAINT privacy_requests_verification_whole CHECK (
        (verified_at IS NULL) = (verification_method IS NULL)
        AND (verified_at IS NULL) = (verified_by IS NULL));
-- The request metrics read only this index.
CREATE INDEX privacy_requests_received ON privacy_requests (received_on)
    INCLUDE (kind, status, outcome, extended, closed_at, due_on);

-- The tasks of a request: made by staff, or opened by a notice that carries the request and
-- closed by its outcome. A title and a note are personal values sealed under the subject's key;
-- a notice's task has no stored title (it is named after its notice).
CREATE TABLE privacy_request_tasks (
    id uuid PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES privacy_requests (id),
    title_enc bytea,
    assignee text,
    due_on date,
    status text NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    notification_id uuid UNIQUE REFERENCES notices (id),
    note_enc bytea,
    created_at timestamptz NOT NULL,
    completed_at timestamptz,
    completed_by text,
    version integer NOT NULL DEFAULT 1,
    CHECK ((status = 'open') = (completed_at IS NULL)),
    CHECK ((completed_at IS NULL) = (completed_by IS NULL)),
    CHECK (title_enc IS NOT NULL OR notification_id IS NOT NULL)
);
CREATE INDEX privacy_request_tasks_request ON privacy_request_tasks (request_id, created_at, id);
CREATE INDEX privacy_request_tasks_open ON privacy_request_tasks (request_id) WHERE status = 'open';
