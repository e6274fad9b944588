-- The access-log MAC the service writes (src/access_log/keyed.rs), in SQL, so that bulk-loaded
-- benchmark entries are keyed like real ones and the sealer checks every one of them:
-- HMAC-SHA256 under ACCESS_LOG_KEY over the entry's leaf data, the RFC 8785 canonical JSON of its
-- ten members (names sorted, nulls included, `at` with six fractional digits and `Z`).
-- to_json(text) escapes exactly as RFC 8785 does. tests/proofs.rs checks this against the service.
CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA bench;

CREATE FUNCTION bench.json_or_null(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(to_json(value)::text, 'null')
$$;

CREATE FUNCTION bench.entry_mac(key bytea, id uuid, at timestamptz, actor text, recipient_id uuid,
                                action text, subject_id uuid, outcome text, purpose text,
                                request_id text, count integer) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT bench.hmac(convert_to(
        '{"action":' || to_json(action)::text
        || ',"actor":' || to_json(actor)::text
        || ',"at":"' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
        || ',"count":' || coalesce(count::text, 'null')
        || ',"id":"' || id::text || '"'
        || ',"outcome":' || to_json(outcome)::text
        || ',"purpose":' || bench.json_or_null(purpose)
        || ',"recipient_id":' || bench.json_or_null(recipient_id::text)
        || ',"request_id":' || to_json(request_id)::text
        || ',"subject_id":' || bench.json_or_null(subject_id::text)
        || '}', 'UTF8'), key, 'sha256')
$$;
