ALTER TABLE disclosure_authorizations DROP COLUMN consent_purpose;
