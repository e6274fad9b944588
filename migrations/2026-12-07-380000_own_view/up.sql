-- The person's own view (contract v3, A).
--
-- Their own decisions (`PUT /v1/me/consents/{purpose}`) are recorded with method `portal`, which
-- only a subject token may use.
ALTER TABLE consent_events DROP CONSTRAINT consent_events_method_check;
ALTER TABLE consent_events ADD CONSTRAINT consent_events_method_check CHECK (method IN
    ('web_form', 'email', 'phone', 'in_person', 'letter', 'unsubscribe_link', 'api', 'portal'));

-- Requests they file themselves (`POST /v1/me/privacy-requests`): their own words, sealed under
-- their key like every free text about them, and how their login vouched for them, as the RFC
-- 8785 JSON of `{"acr", "amr", "issuer", "method", "verified_at"}` (`method` `eid`, or
-- `staff_key` for a token minted with the staff key, which proves no eID login and so leaves
-- `verified_at` null). Staff-entered requests have neither.
ALTER TABLE privacy_requests
    ADD COLUMN details_enc bytea,
    ADD COLUMN login_verification text;
