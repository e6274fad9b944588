-- Baseline of the audited read: one transaction per read, the select and its access-log entry
-- (what a naive implementation without group commit does). :nids = rows of bench.ids. The row
-- comes with its subject's wrapped data key, as the service reads it (decryption is the service's
-- own cost, part of what is compared).
\set r random(1, :nids)
BEGIN;
SELECT s.*, k.key_id, k.wrapped FROM bench.ids b JOIN subjects s ON s.id = b.id
  LEFT JOIN subject_keys k ON k.subject_id = s.id WHERE b.n = :r;
INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
  SELECT gen_random_uuid(), now(), 'bench-baseline', 'subject.read', b.id, 'allowed', 'benchmark', 'pgbench'
  FROM bench.ids b WHERE b.n = :r;
END;
