-- Frozen access responses (contract v3, B): the RFC 8785 JSON and the page made from it, both
-- sealed under the subject's key (erasure destroys the key, so they can no longer be opened),
-- the JSON's SHA-256 and a detached JWS over it. History: rows are never changed or removed.
CREATE TABLE access_responses (
    id uuid PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES privacy_requests (id),
    subject_id uuid NOT NULL REFERENCES subjects (id),
    lang text NOT NULL CHECK (lang IN ('et', 'en', 'ru')),
    json_enc bytea NOT NULL,
    html_enc bytea NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    jws text NOT NULL,
    actor text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX access_responses_request ON access_responses (request_id, created_at);
CREATE INDEX access_responses_subject ON access_responses (subject_id);
CREATE TRIGGER access_responses_append_only BEFORE UPDATE OR DELETE ON access_responses
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- One-time download links: only the token's SHA-256 is kept. A new link for a response kills
-- the one before (`revoked_at`); using one sets `used_at`.
CREATE TABLE download_links (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    response_id uuid NOT NULL REFERENCES access_responses (id),
    subject_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX download_links_response ON download_links (response_id);
