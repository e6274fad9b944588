-- Accountability registers (contract v3, section D): the records of processing activities
-- (Art. 30) with every version kept, the breach register (Art. 33-34) with the persons a breach
-- touched (ids only), and the Art. 14 information of persons whose data came from elsewhere.

-- An activity as it stands now; `doc` is the activity's body as the API shows it.
CREATE TABLE processing_activities (
    id uuid PRIMARY KEY,
    version integer NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'retired')),
    doc jsonb NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX processing_activities_status ON processing_activities (status, id);

-- Every version of every activity, as it stood from `changed_at` until the next version: the
-- register as of a date and the conformance report read these. Append-only.
CREATE TABLE processing_activity_versions (
    activity_id uuid NOT NULL REFERENCES processing_activities (id),
    version integer NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'retired')),
    doc jsonb NOT NULL,
    changed_at timestamptz NOT NULL,
    changed_by text NOT NULL,
    PRIMARY KEY (activity_id, version)
);
CREATE INDEX processing_activity_versions_at ON processing_activity_versions (changed_at);
CREATE TRIGGER processing_activity_versions_append_only
    BEFORE UPDATE OR DELETE ON processing_activity_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER processing_activity_versions_no_truncate
    BEFORE TRUNCATE ON processing_activity_versions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The conformance report reads disclosures by time, and a breach's scope by recipient and time.
CREATE INDEX disclosures_at ON disclosures (at);
CREATE INDEX disclosures_recipient_at ON disclosures (recipient_id, at);

-- The breach register. The description is sealed under the service key.
CREATE TABLE breaches (
    id uuid PRIMARY KEY,
    version integer NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'closed')),
    aware_at timestamptz NOT NULL,
    nature text[] NOT NULL,
    description_enc bytea NOT NULL,
    window_from timestamptz NOT NULL,
    window_to timestamptz NOT NULL,
    recipient_id uuid REFERENCES recipients (id),
    actor text,
    data_categories text[] NOT NULL,
    notify_authority_by timestamptz NOT NULL,
    risk text CHECK (risk IN ('none', 'risk', 'high')),
    risk_reasoning text,
    assessed_at timestamptz,
    authority_notified_at timestamptz,
    authority_reference text,
    delay_reasons text,
    communicated_at timestamptz,
    communication_method text,
    communication_exemption text,
    affected_count integer,
    scope_computed_at timestamptz,
    scope_sources text[],
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    closed_at timestamptz,
    CHECK (window_from <= window_to)
);
CREATE INDEX breaches_open ON breaches (notify_authority_by) WHERE status = 'open';

-- The persons a breach touched, by id only: an erasure keeps them.
CREATE TABLE breach_subjects (
    breach_id uuid NOT NULL REFERENCES breaches (id),
    subject_id uuid NOT NULL REFERENCES subjects (id),
    via text NOT NULL CHECK (via IN ('disclosures', 'access_log')),
    PRIMARY KEY (breach_id, subject_id)
);

-- Art. 14: persons whose data PlanPro did not get from them. `counts_from` is the Tallinn date
-- the month runs from (the collection, else the record's creation); the due date is computed from
-- it and brought forward by the first disclosure.
CREATE TABLE art14_status (
    subject_id uuid PRIMARY KEY REFERENCES subjects (id),
    counts_from date NOT NULL,
    informed_at timestamptz,
    method text,
    notice_version text,
    exemption text CHECK (exemption IN ('14(5)(a)', '14(5)(b)', '14(5)(c)', '14(5)(d)')),
    exemption_reference text,
    updated_at timestamptz NOT NULL
);
CREATE INDEX art14_status_open ON art14_status (counts_from)
    WHERE informed_at IS NULL AND exemption IS NULL;

-- Every information notice given (Art. 14), append-only.
CREATE TABLE information_notices (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    informed_at timestamptz NOT NULL,
    method text NOT NULL CHECK (method IN ('email', 'letter', 'portal', 'in_person', 'phone')),
    notice_version text NOT NULL,
    actor text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX information_notices_subject ON information_notices (subject_id, id);
CREATE TRIGGER information_notices_append_only BEFORE UPDATE OR DELETE ON information_notices
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER information_notices_no_truncate BEFORE TRUNCATE ON information_notices
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Subjects recorded before this migration get their status, counted from their creation: their
-- collection time is sealed under each person's key, out of this statement's reach.
INSERT INTO art14_status (subject_id, counts_from, updated_at)
SELECT id, (created_at AT TIME ZONE 'Europe/Tallinn')::date, now()
FROM subjects
WHERE source_type <> 'data_subject' AND erased_at IS NULL;
