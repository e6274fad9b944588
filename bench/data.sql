-- Benchmark data, generated set-based inside PostgreSQL (no client round trip per row).
--
--   psql -v subjects=1000000 -v entries=10000000 -v eligibility=100000 -v access_log_key=BASE64 \
--        -f bench/data.sql planpro
--
-- Loads, on a freshly migrated database:
--   * `subjects` subjects (UUID v7 ids, valid Estonian personal codes, mixed optional fields and
--     provenance, 10 % from third parties with an attestation);
--   * consent decisions with their consent_events (the `consents` row of each subject and purpose
--     points at its latest event):
--       marketing_planpro  (opt-out): n % 10 = 1 withdrawn, n % 10 = 2 granted, others unset;
--       marketing_partners (opt-in):  n % 10 in (3,4,5) granted, n % 10 = 6 granted then withdrawn;
--   * three recipients (the bench partner, another active one, a suspended one) and disclosure
--     authorizations: n % 20 = 3 active for the bench partner, n % 20 = 13 revoked for it,
--     n % 40 = 7 active (legal obligation) for the other recipient;
--   * `entries` access-log entries over the last year, in transactions of 10,000 rows: half of them
--     on the 1 % "hot" subjects (n % 100 = 1, about 500 entries each at full size, so that a page of
--     100 is really full), half spread pseudo-randomly over every subject.
--
-- The access-log rows are keyed like the service's own (bench/mac.sql: the HMAC under the
-- service's ACCESS_LOG_KEY, given as `access_log_key`), so the sealer checks each MAC and admits
-- them to the Merkle tree as it would any entry; without the key they would be refused.
-- The access-log rows are valid entries, but they are not hash-chained when they are inserted:
-- like every entry, they are chained afterwards by the service's background sealer (bench/run.sh
-- waits until it has caught up before measuring). The transactions are kept at 10,000 rows so that
-- one sealing round (at most 20,000 entries, whole transactions) never has to hold more.
--
-- Lookup tables for the load scripts live in the schema `bench` (numbered 1..count so that pgbench
-- can pick a random row): bench.ids (every 7th subject: reads and withdrawals), bench.hot_ids
-- (access-log pages), bench.partner_ids (subjects the bench partner may read), bench.elig_ids (the
-- eligibility request: 98 % known subjects, 2 % unknown ids, shuffled), bench.meta.

\set ON_ERROR_STOP on
\if :{?subjects}
\else
  \set subjects 10000
\endif
\if :{?entries}
\else
  \set entries 100000
\endif
\if :{?eligibility}
\else
  \set eligibility 10000
\endif
\if :{?access_log_key}
\else
  \echo 'access_log_key (the service''s ACCESS_LOG_KEY, base64) is required'
  \quit
\endif

SET client_min_messages = warning;

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
\ir mac.sql
SET bench.access_log_key = :'access_log_key';

-- Time bases (epoch milliseconds): subjects were created between two years and one year ago,
-- the access log covers the last year.
SELECT (extract(epoch FROM date_trunc('day', now()) - interval '730 days') * 1000)::bigint AS t0,
       (365 * 86400000::bigint / :subjects) AS sstep,
       (extract(epoch FROM now() - interval '365 days') * 1000)::bigint AS e0,
       greatest(1, 365 * 86400000::bigint / :entries) AS estep
\gset
SET bench.t0 = :t0;
SET bench.sstep = :sstep;
SET bench.e0 = :e0;
SET bench.estep = :estep;
SET bench.subjects = :subjects;
SET bench.entries = :entries;

-- A UUID v7 for a millisecond timestamp; `n` fills the random bits, so ids are unique per `n`
-- and, like the service's own, ordered by time.
CREATE FUNCTION bench.uuid7(ms bigint, n bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (lpad(to_hex(ms), 12, '0') || '7000' || '8' || lpad(to_hex(n), 15, '0'))::uuid
$$;

-- When subject number n was created, and its id (the same expression everywhere below).
CREATE FUNCTION bench.subject_ms(n bigint) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT current_setting('bench.t0')::bigint + n * current_setting('bench.sstep')::bigint
$$;
CREATE FUNCTION bench.subject_id(n bigint) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT bench.uuid7(bench.subject_ms(n), n)
$$;

-- A valid Estonian personal code (isikukood), unique per n below 25,000,000: birth date from
-- n % 25000 days after 1940-01-01, serial from n / 25000, check digit per the standard.
CREATE FUNCTION bench.personal_code(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT date '1940-01-01' + (n % 25000)::int AS born, (n / 25000) % 1000 AS serial, n % 2 AS female
  ), c AS (
    SELECT (CASE WHEN born < date '2000-01-01' THEN 3 ELSE 5 END + female)::text
           || to_char(born, 'YYMMDD') || lpad(serial::text, 3, '0') AS base
    FROM b
  ), s AS (
    SELECT base,
           (SELECT sum(substr(base, i, 1)::int * ((i - 1) % 9 + 1)) FROM generate_series(1, 10) i) % 11 AS s1,
           (SELECT sum(substr(base, i, 1)::int * ((i + 1) % 9 + 1)) FROM generate_series(1, 10) i) % 11 AS s2
    FROM c
  )
  SELECT base || CASE WHEN s1 < 10 THEN s1 WHEN s2 < 10 THEN s2 ELSE 0 END FROM s
$$;

\echo subjects: :subjects
INSERT INTO subjects (id, version, kind, given_name, family_name, personal_code, email, phone,
                      address_street, address_city, address_postal_code, address_country,
                      preferred_language, source_type, source_name, source_reference,
                      source_collected_at, source_attestation, created_at, updated_at)
SELECT bench.uuid7(ms, n), 1,
       CASE WHEN n % 5 = 0 THEN 'contact' ELSE 'client' END,
       (ARRAY['Mari', 'Jaan', 'Kadri', 'Peeter', 'Liis', 'Andres', 'Tiina', 'Margus', 'Kati', 'Toomas'])[n % 10 + 1],
       (ARRAY['Tamm', 'Saar', 'Sepp', 'Mägi', 'Kask', 'Kukk', 'Rebane', 'Ilves', 'Pärn', 'Koppel', 'Lepik'])[n % 11 + 1],
       CASE WHEN n % 5 <> 4 THEN bench.personal_code(n) END,
       CASE WHEN n % 10 < 7 THEN 'person' || n || '@example.ee' END,
       CASE WHEN n % 2 = 0 THEN '+3725' || lpad((n % 10000000)::text, 7, '0') END,
       CASE WHEN n % 5 < 3 THEN 'Pikk ' || (n % 200 + 1) END,
       CASE WHEN n % 5 < 3 THEN (ARRAY['Tallinn', 'Tartu', 'Pärnu', 'Narva'])[n % 4 + 1] END,
       CASE WHEN n % 5 < 3 THEN lpad((10000 + n % 90000)::text, 5, '0') END,
       CASE WHEN n % 5 < 3 THEN 'EE' END,
       CASE WHEN n % 4 <> 0 THEN (ARRAY['et', 'en', 'ru'])[n % 3 + 1] END,
       CASE n % 10 WHEN 9 THEN 'third_party' WHEN 8 THEN 'public_registry' ELSE 'data_subject' END,
       CASE n % 10 WHEN 9 THEN 'Partner OÜ' WHEN 8 THEN 'Äriregister' END,
       CASE WHEN n % 10 = 9 THEN 'contract 2026-' || (n % 50) END,
       CASE WHEN n % 10 = 9 THEN to_timestamp(ms / 1000.0) END,
       CASE WHEN n % 10 = 9 THEN 'signed statement 2026-' || (n % 50) || '-A' END,
       to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0)
FROM (SELECT n, bench.subject_ms(n) AS ms FROM generate_series(1, :subjects::bigint) n) g;

\echo consents
-- Events: k = 0 the first decision (a day after creation), k = 1 a later withdrawal (30 days on).
INSERT INTO consent_events (id, subject_id, purpose_id, status, method, evidence, actor, at, request_id)
SELECT bench.uuid7(ms, n * 4 + k), bench.subject_id(n), purpose, status, method, evidence,
       'bench-loader', to_timestamp(ms / 1000.0), 'bench-load-' || n || '-' || k
FROM (
  SELECT n, k, purpose, status, method, evidence,
         bench.subject_ms(n) + 86400000::bigint * (1 + 30 * (k % 2)) AS ms
  FROM generate_series(1, :subjects::bigint) n,
  LATERAL (VALUES
    (0, 'marketing_planpro', 'withdrawn', 'unsubscribe_link', NULL, n % 10 = 1),
    (2, 'marketing_planpro', 'granted', 'web_form', 'form 17', n % 10 = 2),
    (0, 'marketing_partners', 'granted', 'web_form', 'form 18', n % 10 IN (3, 4, 5, 6)),
    (1, 'marketing_partners', 'withdrawn', 'email', 'mail of the person', n % 10 = 6)
  ) AS e(k, purpose, status, method, evidence, wanted)
  WHERE wanted
) g;

INSERT INTO consents (subject_id, purpose_id, status, method, evidence, updated_at, updated_by, last_event_id)
SELECT DISTINCT ON (subject_id, purpose_id)
       subject_id, purpose_id, status, method, evidence, at, actor, id
FROM consent_events
ORDER BY subject_id, purpose_id, at DESC;

\echo recipients and disclosure authorizations
CREATE TABLE bench.meta (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO bench.meta VALUES
  ('recipient_id', '01900000-0000-7000-8000-00000000b001'),
  ('subjects', :'subjects'),
  ('entries', :'entries');

INSERT INTO recipients (id, name, registry_code, category, contact_email, status, created_at, updated_at) VALUES
  ('01900000-0000-7000-8000-00000000b001', 'Bench Partner OÜ', '10000017', 'platform_service_provider',
   'privacy@bench-partner.example', 'active', now() - interval '800 days', now() - interval '800 days'),
  ('01900000-0000-7000-8000-00000000b002', 'Tallinna Linnavalitsus', '75014920', 'local_government',
   'info@tallinn.example', 'active', now() - interval '800 days', now() - interval '800 days'),
  ('01900000-0000-7000-8000-00000000b003', 'Old Software OÜ', NULL, 'software_development_provider',
   'dpo@old-software.example', 'suspended', now() - interval '800 days', now() - interval '100 days');

INSERT INTO disclosure_authorizations (id, subject_id, recipient_id, legal_basis, consent_evidence,
    legal_reference, data_categories, purpose, valid_from, valid_until, revoked_at, revoked_reason,
    revoked_by, created_by, created_at)
SELECT bench.uuid7(ms, n * 4 + k), bench.subject_id(n), recipient::uuid, basis,
       CASE WHEN basis = 'consent' THEN 'signed form ' || n END,
       CASE WHEN basis = 'legal_obligation' THEN 'Sotsiaalhoolekande seadus § 28' END,
       categories, 'service delivery', to_timestamp(ms / 1000.0), NULL,
       CASE WHEN revoked THEN to_timestamp(ms / 1000.0) + interval '90 days' END,
       CASE WHEN revoked THEN 'consent withdrawn by the person' END,
       CASE WHEN revoked THEN 'bench-loader' END,
       'bench-loader', to_timestamp(ms / 1000.0)
FROM (
  SELECT n, k, recipient, basis, categories, revoked, bench.subject_ms(n) + 2 * 86400000::bigint AS ms
  FROM generate_series(1, :subjects::bigint) n,
  LATERAL (VALUES
    (1, '01900000-0000-7000-8000-00000000b001', 'consent', ARRAY['identity', 'contact'], false, n % 20 = 3),
    (2, '01900000-0000-7000-8000-00000000b001', 'consent', ARRAY['identity'], true, n % 20 = 13),
    (3, '01900000-0000-7000-8000-00000000b002', 'legal_obligation', ARRAY['identity', 'address'], false, n % 40 = 7)
  ) AS a(k, recipient, basis, categories, revoked, wanted)
  WHERE wanted
) g;

\echo access log: :entries entries
-- In committed transactions of 10,000 rows (see the header). Half the entries go to the hot
-- subjects (n = 1 + 100 k), half to a pseudo-random subject (a multiplicative hash of i).
DO $$
DECLARE
  total constant bigint := current_setting('bench.entries')::bigint;
  nsubj constant bigint := current_setting('bench.subjects')::bigint;
  hot constant bigint := greatest(1, current_setting('bench.subjects')::bigint / 100);
  e0 constant bigint := current_setting('bench.e0')::bigint;
  estep constant bigint := current_setting('bench.estep')::bigint;
  batch constant bigint := 10000;
  mac_key constant bytea := decode(current_setting('bench.access_log_key'), 'base64');
  lo bigint := 1;
BEGIN
  WHILE lo <= total LOOP
    INSERT INTO access_log (id, at, actor, recipient_id, action, subject_id, outcome, purpose, request_id, count, mac)
    SELECT e.*, bench.entry_mac(mac_key, e.id, e.at, e.actor, e.recipient_id, e.action, e.subject_id,
                                e.outcome, e.purpose, e.request_id, e.count)
    FROM (
    SELECT bench.uuid7(ms, i + (1::bigint << 58)) AS id, to_timestamp(ms / 1000.0) AS at,
           'staff-' || (i % 17) AS actor, NULL::uuid AS recipient_id,
           (ARRAY['subject.read', 'subject.read', 'subject.read', 'subject.read', 'subject.read',
                  'subject.read', 'consent.read', 'consent.change', 'subject.list', 'subject.export'])[i % 10 + 1] AS action,
           bench.subject_id(sn) AS subject_id,
           CASE WHEN i % 100 = 99 THEN 'denied' ELSE 'allowed' END AS outcome,
           CASE WHEN i % 3 = 0 THEN 'customer support call' END AS purpose,
           'bench-load-' || i AS request_id, NULL::integer AS count
    FROM (
      SELECT i, e0 + i * estep AS ms,
             CASE WHEN i % 2 = 0 THEN 1 + 100 * ((i / 2) % hot)
                  ELSE 1 + (i * 2654435761) % nsubj END AS sn
      FROM generate_series(lo, least(lo + batch - 1, total)) i
    ) g
    ) e;
    COMMIT;
    lo := lo + batch;
  END LOOP;
END
$$;

\echo lookup tables
CREATE TABLE bench.ids (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.ids SELECT row_number() OVER (ORDER BY n), bench.subject_id(n)
FROM generate_series(7, :subjects::bigint, 7) n;

CREATE TABLE bench.hot_ids (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.hot_ids SELECT row_number() OVER (ORDER BY n), bench.subject_id(n)
FROM generate_series(1, :subjects::bigint, 100) n;

CREATE TABLE bench.partner_ids (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.partner_ids SELECT row_number() OVER (ORDER BY n), bench.subject_id(n)
FROM generate_series(3, :subjects::bigint, 20) n;

-- The eligibility request: 98 % known subjects spread over the whole set, 2 % unknown ids.
CREATE TABLE bench.elig_ids (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.elig_ids
SELECT row_number() OVER (ORDER BY md5(id::text)), id
FROM (
  SELECT bench.subject_id(1 + k * :subjects::bigint / known) AS id
  FROM (SELECT (:eligibility * 98 / 100)::bigint AS known) c, generate_series(0, (:eligibility * 98 / 100)::bigint - 1) k
  UNION ALL
  SELECT gen_random_uuid() FROM generate_series(1, :eligibility - (:eligibility * 98 / 100)::bigint)
) x;

\echo vacuum analyze
-- Otherwise autovacuum would process the fresh tables in the middle of the measurements.
VACUUM (ANALYZE) subjects, consents, consent_events, recipients, disclosure_authorizations,
  access_log, bench.ids, bench.hot_ids, bench.partner_ids, bench.elig_ids;
