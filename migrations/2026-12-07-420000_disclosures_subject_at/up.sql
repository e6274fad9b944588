-- A person's first disclosure (the Art. 14 due date, read with every read of a subject whose data
-- came from someone else) in one index probe. Without it the planner answers min(at) for one
-- subject by walking disclosures_at from the oldest row, filtering on subject_id: the whole ledger
-- for a person never disclosed (seen: 300 ms a read at 412,000 disclosures).
CREATE INDEX disclosures_subject_at ON disclosures (subject_id, at);
