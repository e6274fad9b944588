ALTER TABLE subjects DROP COLUMN erased_at;
DROP TABLE privacy_requests;
