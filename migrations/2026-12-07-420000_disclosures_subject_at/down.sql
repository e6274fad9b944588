DROP INDEX disclosures_subject_at;
