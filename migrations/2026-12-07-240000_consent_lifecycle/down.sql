DROP INDEX consents_expiring;
DROP FUNCTION consent_state(text, boolean, boolean, boolean, timestamptz, timestamptz, timestamptz);
DROP TABLE consent_confirmations;
ALTER TABLE consent_events DROP COLUMN state, DROP COLUMN purpose_version, DROP COLUMN guardian_subject_id;
ALTER TABLE consents DROP COLUMN purpose_version, DROP COLUMN ever_granted, DROP COLUMN renewed,
    DROP COLUMN given_at, DROP COLUMN expires_at, DROP COLUMN confirmation_expires_at,
    DROP COLUMN confirmation_sha256, DROP COLUMN guardian_subject_id;
ALTER TABLE purposes DROP COLUMN current_version, DROP COLUMN material_version;
DROP TABLE purpose_versions;
