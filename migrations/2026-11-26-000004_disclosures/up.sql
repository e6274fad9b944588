-- Who may receive personal data: the policy's three recipient categories, plus public
-- authorities for disclosures a law requires.
CREATE TABLE recipients (
    id uuid PRIMARY KEY,
    version integer NOT NULL DEFAULT 1,
    name text NOT NULL,
    registry_code text UNIQUE,
    category text NOT NULL CHECK (category IN ('platform_service_provider', 'local_government', 'software_development_provider', 'public_authority')),
    contact_email text NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Permission to disclose a subject's data of some categories to one recipient, on a legal basis.
CREATE TABLE disclosure_authorizations (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    recipient_id uuid NOT NULL REFERENCES recipients (id),
    legal_basis text NOT NULL CHECK (legal_basis IN ('consent', 'legal_obligation')),
    consent_evidence text,
    legal_reference text,
    data_categories text[] NOT NULL CHECK (cardinality(data_categories) > 0
        AND data_categories <@ ARRAY['identity', 'contact', 'address', 'personal_code']),
    purpose text NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_until timestamptz,
    revoked_at timestamptz,
    revoked_reason text,
    revoked_by text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    CHECK (legal_basis <> 'consent' OR consent_evidence IS NOT NULL),
    CHECK (legal_basis <> 'legal_obligation' OR legal_reference IS NOT NULL),
    CHECK (valid_until IS NULL OR valid_until > valid_from),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX disclosure_authorizations_subject ON disclosure_authorizations (subject_id, id);
CREATE INDEX disclosure_authorizations_recipient ON disclosure_authorizations (recipient_id, subject_id);

-- Every disclosure made: by staff on record, or to a partner through its endpoint.
CREATE TABLE disclosures (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    recipient_id uuid NOT NULL REFERENCES recipients (id),
    data_categories text[] NOT NULL,
    channel text NOT NULL,
    note text,
    authorization_ids uuid[] NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    request_id text NOT NULL
);
CREATE INDEX disclosures_subject ON disclosures (subject_id, id);
CREATE INDEX disclosures_recipient ON disclosures (recipient_id, id);
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER disclosures_no_truncate BEFORE TRUNCATE ON disclosures
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
