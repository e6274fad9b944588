-- Baseline of one subject's access-log page: the first 101 entries (a page of 100 plus one to
-- know whether there is a next page) and the entry recording the read, in one transaction.
-- :nids = rows of bench.hot_ids. The id is fetched first so that the page query is planned for
-- the actual subject, as the service's query is (run with -M extended: one plan per execution).
\set r random(1, :nids)
SELECT id AS sid FROM bench.hot_ids WHERE n = :r \gset
BEGIN;
SELECT a.seq, a.id, a.at, a.actor, a.recipient_id, a.action, a.subject_id, a.outcome, a.purpose,
       a.request_id, a.count
FROM access_log a
WHERE a.subject_id = :sid
ORDER BY a.seq
LIMIT 101;
INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
  VALUES (gen_random_uuid(), now(), 'bench-baseline', 'access_log.read', :sid, 'allowed', 'benchmark', 'pgbench');
END;
