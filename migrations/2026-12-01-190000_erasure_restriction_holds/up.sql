-- Erasure (Art. 17): the subject's row stays, since history rows, access-log entries and holds
-- refer to its id, but none of its personal values do. An erased row keeps only its id, kind,
-- source type, times and the restriction it had; the names become empty, every other personal
-- value null (which frees the personal code for a new record).
ALTER TABLE subjects DROP CONSTRAINT subjects_check;
ALTER TABLE subjects ADD CONSTRAINT subjects_check
    CHECK (erased_at IS NOT NULL OR source_type <> 'third_party' OR source_attestation IS NOT NULL);
ALTER TABLE subjects ADD CONSTRAINT subjects_erased_holds_nothing CHECK (erased_at IS NULL OR (
    given_name = '' AND family_name = '' AND personal_code IS NULL AND email IS NULL
    AND phone IS NULL AND address_street IS NULL AND address_city IS NULL
    AND address_postal_code IS NULL AND address_country IS NULL AND preferred_language IS NULL
    AND source_name IS NULL AND source_reference IS NULL AND source_collected_at IS NULL
    AND source_attestation IS NULL));

-- The record of every erasure: who, when, why and which privacy request it answered. The reason
-- outlives the subject's data, so it must name no personal value (the API says so).
CREATE TABLE erasures (
    subject_id uuid PRIMARY KEY REFERENCES subjects (id),
    erased_at timestamptz NOT NULL,
    actor text NOT NULL,
    reason text NOT NULL,
    privacy_request_id uuid REFERENCES privacy_requests (id),
    request_id text NOT NULL
);
CREATE TRIGGER erasures_append_only BEFORE UPDATE OR DELETE ON erasures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER erasures_no_truncate BEFORE TRUNCATE ON erasures
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Restriction of processing (Art. 18). The subject row carries the restriction in force (what
-- eligibility, partner reads and disclosures check, at no extra lookup); `restrictions` keeps
-- each one with its reason and its lifting.
ALTER TABLE subjects ADD COLUMN restriction_ground text CHECK (restriction_ground IN
    ('accuracy_contested', 'unlawful_processing', 'legal_claims', 'objection_pending'));
ALTER TABLE subjects ADD COLUMN restricted_since timestamptz;
ALTER TABLE subjects ADD CONSTRAINT subjects_restriction_whole
    CHECK ((restriction_ground IS NULL) = (restricted_since IS NULL));
-- The few subjects that eligibility and the partner list leave out: a probe of this small index
-- per id instead of a visit to every subject's row.
CREATE INDEX subjects_excluded ON subjects (id)
    WHERE erased_at IS NOT NULL OR restriction_ground IS NOT NULL;

CREATE TABLE restrictions (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    ground text NOT NULL CHECK (ground IN
        ('accuracy_contested', 'unlawful_processing', 'legal_claims', 'objection_pending')),
    reason text NOT NULL,
    since timestamptz NOT NULL,
    restricted_by text NOT NULL,
    lifted_at timestamptz,
    lift_reason text,
    lifted_by text,
    CHECK ((lifted_at IS NULL) = (lift_reason IS NULL)),
    CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
CREATE UNIQUE INDEX restrictions_in_force ON restrictions (subject_id) WHERE lifted_at IS NULL;
CREATE INDEX restrictions_subject ON restrictions (subject_id, id);

-- Holds (Art. 17(3)): a legal reason to keep a subject's data, which blocks its erasure until
-- released. They outlive an erasure that came after their release.
CREATE TABLE holds (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    ground text NOT NULL CHECK (ground IN ('legal_obligation', 'legal_claims', 'public_interest')),
    legal_reference text NOT NULL,
    review_on date NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    released_at timestamptz,
    release_reason text,
    released_by text,
    CHECK ((released_at IS NULL) = (release_reason IS NULL)),
    CHECK ((released_at IS NULL) = (released_by IS NULL))
);
CREATE INDEX holds_subject ON holds (subject_id, id);
CREATE INDEX holds_active ON holds (subject_id, id) WHERE released_at IS NULL;
