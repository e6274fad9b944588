DROP TABLE holds;
DROP TABLE restrictions;
DROP INDEX subjects_excluded;
ALTER TABLE subjects DROP CONSTRAINT subjects_restriction_whole;
ALTER TABLE subjects DROP COLUMN restricted_since;
ALTER TABLE subjects DROP COLUMN restriction_ground;
DROP TABLE erasures;
ALTER TABLE subjects DROP CONSTRAINT subjects_erased_holds_nothing;
ALTER TABLE subjects DROP CONSTRAINT subjects_check;
ALTER TABLE subjects ADD CONSTRAINT subjects_check
    CHECK (source_type <> 'third_party' OR source_attestation IS NOT NULL);
