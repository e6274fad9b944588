-- Subjects to erase, each with 1,000 history rows: 400 consent events (and the two flags they
-- set), 300 rectifications and 300 disclosures under 3 authorizations; and :filler other
-- subjects with one flag each, so that the tables and indexes are not trivially small.
--   psql -v erasable=N -v filler=M -f bench/erasure.sql planpro
-- Prints nothing; the ids to erase are in bench.erasable.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.erasable;
CREATE TABLE bench.erasable AS SELECT n, gen_random_uuid() AS id FROM generate_series(1, :erasable) AS n;

INSERT INTO subjects (id, kind, given_name, family_name, personal_code, email, source_type,
                      created_at, updated_at)
SELECT id, 'client', 'Mari', 'Maasikas-' || n, NULL, 'mari' || n || '@example.ee', 'data_subject',
       now() - interval '400 days', now() - interval '400 days'
FROM bench.erasable;
INSERT INTO subjects (id, kind, given_name, family_name, source_type, created_at, updated_at)
SELECT gen_random_uuid(), 'contact', 'Jaan', 'Tamm-' || n, 'data_subject', now(), now()
FROM generate_series(1, :filler) AS n;

INSERT INTO recipients (id, name, category, contact_email, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-00000000e001', 'Bench Partner OÜ', 'platform_service_provider',
        'privacy@bench.ee', now(), now())
ON CONFLICT DO NOTHING;

INSERT INTO consent_events (id, subject_id, purpose_id, status, method, evidence, actor, at, request_id)
SELECT gen_random_uuid(), e.id,
       CASE WHEN k % 2 = 0 THEN 'marketing_planpro' ELSE 'marketing_partners' END,
       CASE WHEN k % 3 = 0 THEN 'withdrawn' ELSE 'granted' END,
       'web_form', 'form ' || k, 'bench', now() - interval '300 days' + k * interval '1 hour', 'bench'
FROM bench.erasable e, generate_series(1, 400) AS k;
INSERT INTO consents (subject_id, purpose_id, status, method, updated_at, updated_by, last_event_id)
SELECT e.id, p, 'granted', 'web_form', now() - interval '1 day', 'bench', gen_random_uuid()
FROM bench.erasable e, unnest(ARRAY['marketing_planpro', 'marketing_partners']) AS p;

INSERT INTO rectifications (id, subject_id, field, old_value, new_value, reason, actor, at, request_id)
SELECT gen_random_uuid(), e.id, 'email', to_jsonb('old' || k || '@example.ee'),
       to_jsonb('new' || k || '@example.ee'), 'asked by the person', 'bench',
       now() - interval '200 days' + k * interval '1 hour', 'bench'
FROM bench.erasable e, generate_series(1, 300) AS k;

INSERT INTO disclosure_authorizations (id, subject_id, recipient_id, legal_basis, consent_evidence,
    data_categories, purpose, valid_from, created_by, created_at)
SELECT gen_random_uuid(), e.id, '00000000-0000-7000-8000-00000000e001', 'consent', 'form',
       ARRAY['identity', 'contact'], 'offers', now() - interval '300 days', 'bench', now()
FROM bench.erasable e, generate_series(1, 3);
INSERT INTO disclosures (id, subject_id, recipient_id, data_categories, channel, note,
                         authorization_ids, actor, at, request_id)
SELECT gen_random_uuid(), e.id, '00000000-0000-7000-8000-00000000e001', ARRAY['identity'],
       'partner_api', NULL, ARRAY[]::uuid[], 'bench', now() - interval '100 days' + k * interval '1 hour', 'bench'
FROM bench.erasable e, generate_series(1, 300) AS k;
ANALYZE;
