DROP TABLE information_notices;
DROP TABLE art14_status;
DROP TABLE breach_subjects;
DROP TABLE breaches;
DROP INDEX disclosures_recipient_at;
DROP INDEX disclosures_at;
DROP TABLE processing_activity_versions;
DROP TABLE processing_activities;
