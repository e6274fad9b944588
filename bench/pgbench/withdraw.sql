-- Baseline of the consent withdrawal: in one transaction, the consent event, the upsert of the
-- current decision pointing at it, the person's activity time (`last_activity_at`, which the
-- retention rule counts from: the contract makes a consent change activity) and the access-log
-- entry. :nids = rows of bench.ids.
\set r random(1, :nids)
BEGIN;
WITH ev AS (
  INSERT INTO consent_events (id, subject_id, purpose_id, status, method, evidence_enc, actor, at, request_id)
  SELECT gen_random_uuid(), b.id, 'marketing_planpro', 'withdrawn', 'api', NULL, 'bench-baseline', now(), 'pgbench'
  FROM bench.ids b WHERE b.n = :r
  RETURNING id, subject_id, at
)
INSERT INTO consents (subject_id, purpose_id, status, method, evidence_enc, updated_at, updated_by, last_event_id)
SELECT subject_id, 'marketing_planpro', 'withdrawn', 'api', NULL, at, 'bench-baseline', id FROM ev
ON CONFLICT (subject_id, purpose_id) DO UPDATE
  SET status = EXCLUDED.status, method = EXCLUDED.method, evidence_enc = EXCLUDED.evidence_enc,
      updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by,
      last_event_id = EXCLUDED.last_event_id;
UPDATE subjects SET last_activity_at = greatest(last_activity_at, now())
  WHERE id = (SELECT id FROM bench.ids WHERE n = :r);
INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
  SELECT gen_random_uuid(), now(), 'bench-baseline', 'consent.change', b.id, 'allowed', 'benchmark', 'pgbench'
  FROM bench.ids b WHERE b.n = :r;
END;
