-- The persons whose data PlanPro keeps. A fixed set of fields (data minimisation): no free-form
-- bag of extra personal data.
CREATE TABLE subjects (
    id uuid PRIMARY KEY,
    version integer NOT NULL DEFAULT 1,
    kind text NOT NULL CHECK (kind IN ('client', 'contact')),
    given_name text NOT NULL,
    family_name text NOT NULL,
    personal_code text UNIQUE,
    email text,
    phone text,
    address_street text,
    address_city text,
    address_postal_code text,
    address_country text,
    preferred_language text CHECK (preferred_language IN ('et', 'en', 'ru')),
    -- Provenance: where the data came from, and for data from third parties their assurance
    -- that it was collected lawfully.
    source_type text NOT NULL CHECK (source_type IN ('data_subject', 'public_registry', 'third_party')),
    source_name text,
    source_reference text,
    source_collected_at timestamptz,
    source_attestation text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (source_type <> 'third_party' OR source_attestation IS NOT NULL)
);
CREATE INDEX subjects_email ON subjects (email) WHERE email IS NOT NULL;

-- Every change to a subject's field: what it was, what it became, why, and who did it.
CREATE TABLE rectifications (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    field text NOT NULL,
    old_value jsonb,
    new_value jsonb,
    reason text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    request_id text NOT NULL
);
CREATE INDEX rectifications_subject ON rectifications (subject_id, id);
CREATE TRIGGER rectifications_append_only BEFORE UPDATE OR DELETE ON rectifications
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rectifications_no_truncate BEFORE TRUNCATE ON rectifications
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
