-- Why PlanPro may contact a person, and on which basis: `opt_out` purposes apply unless the
-- person refused; `opt_in` purposes only with consent.
CREATE TABLE purposes (
    id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,63}$'),
    basis text NOT NULL CHECK (basis IN ('opt_in', 'opt_out')),
    description_et text NOT NULL,
    description_en text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO purposes (id, basis, description_et, description_en) VALUES
    ('marketing_planpro', 'opt_out',
     'PlanPro OÜ enda pakkumised reklaamikampaaniates.',
     'Offers from PlanPro OÜ itself in advertising campaigns.'),
    ('marketing_partners', 'opt_in',
     'Lepingupartnerite pakkumised reklaamikampaaniates.',
     'Offers from PlanPro''s contract partners in advertising campaigns.');

-- The current decision per subject and purpose; no row means `unset`.
CREATE TABLE consents (
    subject_id uuid NOT NULL REFERENCES subjects (id),
    purpose_id text NOT NULL REFERENCES purposes (id),
    status text NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    method text NOT NULL,
    evidence text,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    last_event_id uuid NOT NULL,
    PRIMARY KEY (subject_id, purpose_id)
);
CREATE INDEX consents_purpose ON consents (purpose_id, status);

-- The receipt of every decision: who recorded it, when, how, and on what evidence.
CREATE TABLE consent_events (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    purpose_id text NOT NULL REFERENCES purposes (id),
    status text NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    method text NOT NULL CHECK (method IN ('web_form', 'email', 'phone', 'in_person', 'letter', 'unsubscribe_link', 'api')),
    evidence text,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    request_id text NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (subject_id, id DESC);
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
