-- Baseline of the partner read: the active authorization of the bench partner (an active
-- recipient) with the subject's fields, then the disclosure record and the access-log entry, in
-- one transaction. :nids = rows of bench.partner_ids; the partner is fixed by bench/data.sql.
\set r random(1, :nids)
BEGIN;
SELECT s.id, s.given_name_enc, s.family_name_enc, s.email_enc, s.phone_enc, k.wrapped,
       a.id AS authorization_id, a.data_categories
FROM bench.partner_ids p
JOIN subjects s ON s.id = p.id
LEFT JOIN subject_keys k ON k.subject_id = s.id
JOIN disclosure_authorizations a ON a.subject_id = p.id
JOIN recipients r ON r.id = a.recipient_id
WHERE p.n = :r
  AND a.recipient_id = '01900000-0000-7000-8000-00000000b001' AND r.status = 'active'
  AND a.revoked_at IS NULL AND a.valid_from <= now() AND (a.valid_until IS NULL OR a.valid_until > now());
INSERT INTO disclosures (id, subject_id, recipient_id, data_categories, channel, note_enc, authorization_ids, actor, at, request_id)
  SELECT gen_random_uuid(), p.id, a.recipient_id, a.data_categories, 'partner_api', NULL, ARRAY[a.id],
         'bench-partner', now(), 'pgbench'
  FROM bench.partner_ids p JOIN disclosure_authorizations a ON a.subject_id = p.id
  WHERE p.n = :r AND a.recipient_id = '01900000-0000-7000-8000-00000000b001' AND a.revoked_at IS NULL;
INSERT INTO access_log (id, at, actor, recipient_id, action, subject_id, outcome, purpose, request_id)
  SELECT gen_random_uuid(), now(), 'bench-partner', '01900000-0000-7000-8000-00000000b001', 'partner.read',
         p.id, 'allowed', 'benchmark', 'pgbench'
  FROM bench.partner_ids p WHERE p.n = :r;
END;
