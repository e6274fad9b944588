ALTER TABLE idempotency_keys ALTER COLUMN body_enc DROP NOT NULL;
ALTER TABLE idempotency_keys ADD COLUMN body bytea;
ALTER TABLE disclosures ADD COLUMN note text;
ALTER TABLE disclosure_authorizations DROP CONSTRAINT disclosure_authorizations_evidenced;
ALTER TABLE disclosure_authorizations ADD COLUMN consent_evidence text;
ALTER TABLE disclosure_authorizations ADD CONSTRAINT disclosure_authorizations_evidenced
    CHECK (legal_basis <> 'consent' OR consent_evidence IS NOT NULL OR consent_evidence_enc IS NOT NULL);
ALTER TABLE consent_events ADD COLUMN evidence text;
ALTER TABLE consents ADD COLUMN evidence text;
ALTER TABLE rectifications ADD COLUMN old_value jsonb, ADD COLUMN new_value jsonb, ADD COLUMN reason text;

ALTER TABLE subjects DROP CONSTRAINT subjects_attested;
ALTER TABLE subjects DROP CONSTRAINT subjects_erased_holds_nothing;
ALTER TABLE subjects
    ADD COLUMN given_name text,
    ADD COLUMN family_name text,
    ADD COLUMN personal_code text UNIQUE,
    ADD COLUMN email text,
    ADD COLUMN phone text,
    ADD COLUMN address_street text,
    ADD COLUMN address_city text,
    ADD COLUMN address_postal_code text,
    ADD COLUMN address_country text,
    ADD COLUMN source_name text,
    ADD COLUMN source_reference text,
    ADD COLUMN source_collected_at timestamptz,
    ADD COLUMN source_attestation text;
CREATE INDEX subjects_email ON subjects (email) WHERE email IS NOT NULL;
ALTER TABLE subjects ADD CONSTRAINT subjects_attested CHECK (source_type <> 'third_party'
    OR source_attestation IS NOT NULL OR source_attestation_enc IS NOT NULL OR erased_at IS NOT NULL);
ALTER TABLE subjects ADD CONSTRAINT subjects_erased_holds_nothing CHECK (erased_at IS NULL OR (
    given_name = '' AND family_name = '' AND personal_code IS NULL AND email IS NULL
    AND phone IS NULL AND address_street IS NULL AND address_city IS NULL
    AND address_postal_code IS NULL AND address_country IS NULL AND preferred_language IS NULL
    AND source_name IS NULL AND source_reference IS NULL AND source_collected_at IS NULL
    AND source_attestation IS NULL));
