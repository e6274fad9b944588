-- Consent lifecycle (contract v3, C): purpose versions, states computed when read, validity,
-- double opt-in and children's consent.

-- Every text a person was asked to agree to. Version 1 of each existing purpose is its
-- description; a version is never changed once written.
CREATE TABLE purpose_versions (
    purpose_id text NOT NULL REFERENCES purposes (id),
    version integer NOT NULL CHECK (version >= 1),
    text_et text NOT NULL,
    text_en text NOT NULL,
    text_ru text,
    -- SHA-256 (hex) of the RFC 8785 JSON of the text object.
    text_sha256 text NOT NULL,
    policy_url text,
    material boolean NOT NULL,
    validity_months integer CHECK (validity_months BETWEEN 1 AND 240),
    confirmation text NOT NULL CHECK (confirmation IN ('none', 'double_opt_in')),
    minimum_age integer CHECK (minimum_age BETWEEN 13 AND 18),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (purpose_id, version)
);
CREATE TRIGGER purpose_versions_append_only BEFORE UPDATE OR DELETE ON purpose_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER purpose_versions_no_truncate BEFORE TRUNCATE ON purpose_versions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The version in force, and the newest material one: an opt-in grant of an earlier version is
-- invalidated by comparing two numbers when read, so a material version rewrites no grant.
ALTER TABLE purposes
    ADD COLUMN current_version integer NOT NULL DEFAULT 1,
    ADD COLUMN material_version integer NOT NULL DEFAULT 1;

-- SQL does not write RFC 8785 JSON, so the migrated versions' hash is left empty and the
-- service computes it from the stored text when it reads one.
INSERT INTO purpose_versions (purpose_id, version, text_et, text_en, text_sha256, material, confirmation, created_at)
SELECT id, 1, description_et, description_en, '', false, 'none', created_at FROM purposes;

-- What the state of a flag is computed from.
ALTER TABLE consents
    -- The version of the last grant (of the first decision while none was ever granted).
    ADD COLUMN purpose_version integer NOT NULL DEFAULT 1,
    -- Whether any grant was ever recorded: a withdrawal after one is `withdrawn`, else `refused`.
    ADD COLUMN ever_granted boolean NOT NULL DEFAULT false,
    -- The grant was made while an earlier one was in force.
    ADD COLUMN renewed boolean NOT NULL DEFAULT false,
    ADD COLUMN given_at timestamptz,
    ADD COLUMN expires_at timestamptz,
    -- Set while a double opt-in waits for its confirmation.
    ADD COLUMN confirmation_expires_at timestamptz,
    ADD COLUMN confirmation_sha256 bytea,
    ADD COLUMN guardian_subject_id uuid REFERENCES subjects (id);

UPDATE consents c SET
    ever_granted = c.status = 'granted' OR EXISTS (
        SELECT 1 FROM consent_events e
        WHERE e.subject_id = c.subject_id AND e.purpose_id = c.purpose_id AND e.status = 'granted'),
    given_at = CASE WHEN c.status = 'granted' THEN c.updated_at END;

-- Events recorded before this migration have no state (readers derive it from `status`).
ALTER TABLE consent_events
    ADD COLUMN state text CHECK (state IN ('given', 'renewed', 'pending_confirmation', 'withdrawn', 'refused')),
    ADD COLUMN purpose_version integer NOT NULL DEFAULT 1,
    ADD COLUMN guardian_subject_id uuid;

-- One-time confirmation tokens of double opt-ins: only their SHA-256. A token is alive while
-- its flag still points at it (`consents.confirmation_sha256`) and its time has not run out.
CREATE TABLE consent_confirmations (
    token_sha256 bytea PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    purpose_id text NOT NULL REFERENCES purposes (id),
    created_at timestamptz NOT NULL,
    used_at timestamptz
);

-- The state of a flag at `at` (contract v3, C): one definition for every reader. Inlined by
-- the planner, so set-based reads pay an expression, not a call.
CREATE FUNCTION consent_state(
    status text, ever_granted boolean, renewed boolean, invalidated boolean,
    expires_at timestamptz, confirmation_expires_at timestamptz, at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN status IS NULL THEN 'unset'
        WHEN status = 'withdrawn' THEN CASE WHEN ever_granted THEN 'withdrawn' ELSE 'refused' END
        WHEN invalidated THEN 'invalidated'
        WHEN confirmation_expires_at IS NOT NULL THEN
            CASE WHEN confirmation_expires_at > at THEN 'pending_confirmation' ELSE 'expired' END
        WHEN expires_at IS NOT NULL AND expires_at <= at THEN 'expired'
        WHEN renewed THEN 'renewed'
        ELSE 'given'
    END
$$;

CREATE INDEX consents_expiring ON consents (purpose_id, expires_at) WHERE expires_at IS NOT NULL;
