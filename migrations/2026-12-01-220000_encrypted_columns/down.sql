ALTER TABLE idempotency_keys DROP COLUMN body_enc;
ALTER TABLE idempotency_keys ALTER COLUMN body SET NOT NULL;

ALTER TABLE disclosures DROP COLUMN note_enc;

ALTER TABLE disclosure_authorizations DROP CONSTRAINT disclosure_authorizations_evidenced;
ALTER TABLE disclosure_authorizations DROP COLUMN consent_evidence_enc;
ALTER TABLE disclosure_authorizations ADD CONSTRAINT disclosure_authorizations_check
    CHECK (legal_basis <> 'consent' OR consent_evidence IS NOT NULL);

ALTER TABLE consent_events DROP COLUMN evidence_enc;
ALTER TABLE consents DROP COLUMN evidence_enc;

ALTER TABLE rectifications
    DROP COLUMN old_value_enc,
    DROP COLUMN new_value_enc,
    DROP COLUMN reason_enc;
ALTER TABLE rectifications ALTER COLUMN reason SET NOT NULL;

ALTER TABLE subjects DROP CONSTRAINT subjects_attested;
ALTER TABLE subjects
    DROP COLUMN given_name_enc,
    DROP COLUMN family_name_enc,
    DROP COLUMN personal_code_enc,
    DROP COLUMN email_enc,
    DROP COLUMN phone_enc,
    DROP COLUMN address_street_enc,
    DROP COLUMN address_city_enc,
    DROP COLUMN address_postal_code_enc,
    DROP COLUMN address_country_enc,
    DROP COLUMN source_name_enc,
    DROP COLUMN source_reference_enc,
    DROP COLUMN source_collected_at_enc,
    DROP COLUMN source_attestation_enc,
    DROP COLUMN personal_code_bidx,
    DROP COLUMN email_bidx;
ALTER TABLE subjects ADD CONSTRAINT subjects_check
    CHECK (erased_at IS NOT NULL OR source_type <> 'third_party' OR source_attestation IS NOT NULL);
ALTER TABLE subjects
    ALTER COLUMN given_name SET NOT NULL,
    ALTER COLUMN family_name SET NOT NULL;

DROP TABLE at_rest_keys;
DROP TABLE subject_keys;
