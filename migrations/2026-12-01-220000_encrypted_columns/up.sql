-- Encryption at rest, step A: the encrypted columns beside the clear ones. Between this
-- migration and the next, `planpro-privacy migrate` (the migration runner, wherever it runs)
-- encrypts every row still in clear and empties its clear columns; the next migration drops
-- them and refuses to run while any is left.

-- Each subject's data key, wrapped by the master key (DATA_KEY) whose id is `key_id`. Erasure
-- deletes the row: whatever the subject's key sealed can no longer be read.
CREATE TABLE subject_keys (
    subject_id uuid PRIMARY KEY REFERENCES subjects (id),
    key_id bytea NOT NULL,
    wrapped bytea NOT NULL
);

-- The service's own keys (the blind-index key, the key of service secrets), wrapped by the
-- master key, so that a rotation of the master key leaves them, and what they made, valid.
CREATE TABLE at_rest_keys (
    name text PRIMARY KEY,
    key_id bytea NOT NULL,
    wrapped bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE subjects
    ALTER COLUMN given_name DROP NOT NULL,
    ALTER COLUMN family_name DROP NOT NULL,
    ADD COLUMN given_name_enc bytea,
    ADD COLUMN family_name_enc bytea,
    ADD COLUMN personal_code_enc bytea,
    ADD COLUMN email_enc bytea,
    ADD COLUMN phone_enc bytea,
    ADD COLUMN address_street_enc bytea,
    ADD COLUMN address_city_enc bytea,
    ADD COLUMN address_postal_code_enc bytea,
    ADD COLUMN address_country_enc bytea,
    ADD COLUMN source_name_enc bytea,
    ADD COLUMN source_reference_enc bytea,
    ADD COLUMN source_collected_at_enc bytea,
    ADD COLUMN source_attestation_enc bytea,
    -- Blind indexes: HMAC-SHA256 of the normalised value under the index key.
    ADD COLUMN personal_code_bidx bytea,
    ADD COLUMN email_bidx bytea;
-- Unique while set: an erased subject's index is emptied, which frees its personal code.
CREATE UNIQUE INDEX subjects_personal_code_bidx ON subjects (personal_code_bidx);
CREATE INDEX subjects_email_bidx ON subjects (email_bidx) WHERE email_bidx IS NOT NULL;
ALTER TABLE subjects DROP CONSTRAINT subjects_check;
ALTER TABLE subjects ADD CONSTRAINT subjects_attested CHECK (source_type <> 'third_party'
    OR source_attestation IS NOT NULL OR source_attestation_enc IS NOT NULL OR erased_at IS NOT NULL);

ALTER TABLE rectifications
    ALTER COLUMN reason DROP NOT NULL,
    ADD COLUMN old_value_enc bytea,
    ADD COLUMN new_value_enc bytea,
    ADD COLUMN reason_enc bytea;

ALTER TABLE consents ADD COLUMN evidence_enc bytea;
ALTER TABLE consent_events ADD COLUMN evidence_enc bytea;

ALTER TABLE disclosure_authorizations ADD COLUMN consent_evidence_enc bytea;
ALTER TABLE disclosure_authorizations DROP CONSTRAINT disclosure_authorizations_check;
ALTER TABLE disclosure_authorizations ADD CONSTRAINT disclosure_authorizations_evidenced
    CHECK (legal_basis <> 'consent' OR consent_evidence IS NOT NULL OR consent_evidence_enc IS NOT NULL);

ALTER TABLE disclosures ADD COLUMN note_enc bytea;

ALTER TABLE idempotency_keys
    ALTER COLUMN body DROP NOT NULL,
    ADD COLUMN body_enc bytea;
