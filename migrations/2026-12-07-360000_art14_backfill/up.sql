-- Art. 14 (contract v3, section D): every subject whose data did not come from the person has a
-- status row. The registers migration gave one to the subjects it found; subjects recorded after
-- it and before the service kept these rows get theirs here, in one set-based statement, counted
-- from the record's creation (their collection time is sealed under each person's key, out of
-- this statement's reach). New and rectified subjects keep their row in the service
-- (`art14::model::follow_source`), counted from the collection time when there is one.
INSERT INTO art14_status (subject_id, counts_from, updated_at)
SELECT s.id, (s.created_at AT TIME ZONE 'Europe/Tallinn')::date, now()
FROM subjects s
WHERE s.source_type <> 'data_subject' AND s.erased_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM art14_status a WHERE a.subject_id = s.id);
