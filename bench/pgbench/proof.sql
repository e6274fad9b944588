-- Baseline of an inclusion proof: the lookups the service makes, done directly, and the entry
-- recording the read. :nids = rows of bench.entry_ids. The tree blocks are those of the leaf's
-- path at the bottom three stored layers (leaves, 2^8 and 2^16 subtrees); the service reads
-- about as many (more near the tree's right edge).
\set r random(1, :nids)
SELECT id AS eid FROM bench.entry_ids WHERE n = :r \gset
BEGIN;
SELECT idx, entry_seq FROM access_log_leaf WHERE entry_id = :eid ORDER BY idx LIMIT 1 \gset
SELECT size, root, note FROM access_log_checkpoint ORDER BY size DESC LIMIT 1;
SELECT id, at, actor, recipient_id, action, subject_id, outcome, purpose, request_id, count
  FROM access_log WHERE seq = :entry_seq;
SELECT hash FROM access_log_leaf WHERE idx BETWEEN :idx / 256 * 256 AND :idx / 256 * 256 + 255 ORDER BY idx;
SELECT hash FROM access_log_node WHERE level = 8 AND idx BETWEEN :idx / 65536 * 256 AND :idx / 65536 * 256 + 255 ORDER BY idx;
SELECT hash FROM access_log_node WHERE level = 16 AND idx BETWEEN :idx / 16777216 * 256 AND :idx / 16777216 * 256 + 255 ORDER BY idx;
INSERT INTO access_log (id, at, actor, action, outcome, purpose, request_id)
  VALUES (gen_random_uuid(), now(), 'bench-baseline', 'access_log.read', 'allowed', 'benchmark', 'pgbench');
END;
