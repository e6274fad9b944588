-- A consent-based authorization may follow a consent flag (contract v3, C): it is in force only
-- while the subject's flag of that opt-in purpose is `given` or `renewed`, computed when read.
ALTER TABLE disclosure_authorizations
    ADD COLUMN consent_purpose text REFERENCES purposes (id),
    ADD CONSTRAINT consent_purpose_needs_consent
        CHECK (consent_purpose IS NULL OR legal_basis = 'consent');
