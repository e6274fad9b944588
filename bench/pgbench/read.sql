-- Baseline of the audited read: one transaction per read, the select and its access-log entry
-- (what a naive implementation without group commit does). :nids = rows of bench.ids.
\set r random(1, :nids)
BEGIN;
SELECT s.* FROM bench.ids b JOIN subjects s ON s.id = b.id WHERE b.n = :r;
INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
  SELECT gen_random_uuid(), now(), 'bench-baseline', 'subject.read', b.id, 'allowed', 'benchmark', 'pgbench'
  FROM bench.ids b WHERE b.n = :r;
END;
