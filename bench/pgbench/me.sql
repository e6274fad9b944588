-- Baseline of the person's own read GET /v1/me: in one transaction, the lookup through the blind
-- index of the personal code (the token's `sub`; the service computes the index, here it is taken
-- precomputed from bench.people), the row with its wrapped key, and the access-log entry.
\set r random(1, :npeople)
BEGIN;
SELECT s.*, k.key_id, k.wrapped FROM bench.people b JOIN subjects s ON s.personal_code_bidx = b.bidx
  LEFT JOIN subject_keys k ON k.subject_id = s.id WHERE b.n = :r;
INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
  SELECT gen_random_uuid(), now(), 'bench-baseline', 'subject.read', s.id, 'allowed', 'benchmark', 'pgbench'
  FROM bench.people b JOIN subjects s ON s.personal_code_bidx = b.bidx WHERE b.n = :r;
END;
