DROP TABLE retention_runs;
DROP TABLE retention_rules;
DROP INDEX subjects_retention;
ALTER TABLE subjects DROP COLUMN last_activity_at;
