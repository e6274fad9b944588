ALTER TABLE privacy_requests
    DROP COLUMN login_verification,
    DROP COLUMN details_enc;

-- The events already recorded through the portal stay (the history is append-only): the old
-- rule holds for new rows only.
ALTER TABLE consent_events DROP CONSTRAINT consent_events_method_check;
ALTER TABLE consent_events ADD CONSTRAINT consent_events_method_check CHECK (method IN
    ('web_form', 'email', 'phone', 'in_person', 'letter', 'unsubscribe_link', 'api')) NOT VALID;
