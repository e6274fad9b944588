-- Encryption at rest, step B: the clear columns go. The migration runner encrypts every row
-- still in clear before it applies this; applied any other way with a clear value left, it
-- stops here rather than destroy data.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM subjects WHERE num_nonnulls(given_name, family_name, personal_code,
                   email, phone, address_street, address_city, address_postal_code,
                   address_country, source_name, source_reference, source_collected_at,
                   source_attestation) > 0)
       OR EXISTS (SELECT 1 FROM rectifications WHERE num_nonnulls(old_value, new_value, reason) > 0)
       OR EXISTS (SELECT 1 FROM consents WHERE evidence IS NOT NULL)
       OR EXISTS (SELECT 1 FROM consent_events WHERE evidence IS NOT NULL)
       OR EXISTS (SELECT 1 FROM disclosure_authorizations WHERE consent_evidence IS NOT NULL)
       OR EXISTS (SELECT 1 FROM disclosures WHERE note IS NOT NULL)
       OR EXISTS (SELECT 1 FROM idempotency_keys WHERE body IS NOT NULL) THEN
        RAISE EXCEPTION 'personal data is still in clear: run `planpro-privacy migrate`, which encrypts it before this step';
    END IF;
END
$$;

ALTER TABLE subjects
    DROP COLUMN given_name,
    DROP COLUMN family_name,
    DROP COLUMN personal_code,
    DROP COLUMN email,
    DROP COLUMN phone,
    DROP COLUMN address_street,
    DROP COLUMN address_city,
    DROP COLUMN address_postal_code,
    DROP COLUMN address_country,
    DROP COLUMN source_name,
    DROP COLUMN source_reference,
    DROP COLUMN source_collected_at,
    DROP COLUMN source_attestation;
-- Dropping the clear columns dropped the checks that named them; their successors name the
-- encrypted ones. An erased row holds no value, no blind index and no preferred language.
ALTER TABLE subjects ADD CONSTRAINT subjects_attested CHECK (source_type <> 'third_party'
    OR source_attestation_enc IS NOT NULL OR erased_at IS NOT NULL);
ALTER TABLE subjects ADD CONSTRAINT subjects_erased_holds_nothing CHECK (erased_at IS NULL OR
    num_nonnulls(given_name_enc, family_name_enc, personal_code_enc, email_enc, phone_enc,
        address_street_enc, address_city_enc, address_postal_code_enc, address_country_enc,
        source_name_enc, source_reference_enc, source_collected_at_enc, source_attestation_enc,
        personal_code_bidx, email_bidx, preferred_language) = 0);

ALTER TABLE rectifications DROP COLUMN old_value, DROP COLUMN new_value, DROP COLUMN reason;
ALTER TABLE consents DROP COLUMN evidence;
ALTER TABLE consent_events DROP COLUMN evidence;
ALTER TABLE disclosure_authorizations DROP COLUMN consent_evidence;
ALTER TABLE disclosure_authorizations ADD CONSTRAINT disclosure_authorizations_evidenced
    CHECK (legal_basis <> 'consent' OR consent_evidence_enc IS NOT NULL);
ALTER TABLE disclosures DROP COLUMN note;
ALTER TABLE idempotency_keys DROP COLUMN body;
ALTER TABLE idempotency_keys ALTER COLUMN body_enc SET NOT NULL;
