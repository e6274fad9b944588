-- Retention (storage limitation, GDPR Art. 5(1)(e)): when each subject was last active, how long
-- each kind of subject is kept after that, and the runs that erase what is due.

-- Creation, then every rectification, consent change and staff disclosure record (partner reads
-- do not count). Existing subjects take their latest such moment.
ALTER TABLE subjects ADD COLUMN last_activity_at timestamptz;
UPDATE subjects s SET last_activity_at = greatest(
    s.created_at,
    (SELECT max(r.at) FROM rectifications r WHERE r.subject_id = s.id),
    (SELECT max(e.at) FROM consent_events e WHERE e.subject_id = s.id),
    (SELECT max(d.at) FROM disclosures d WHERE d.subject_id = s.id AND d.channel <> 'partner_api')
);
-- Rows written behind the service's back (bulk loads) count as active when written.
ALTER TABLE subjects ALTER COLUMN last_activity_at SET NOT NULL,
    ALTER COLUMN last_activity_at SET DEFAULT now();
-- The due list and the run: one range per rule (kind, last activity before a bound), in keyset
-- order, over the subjects not yet erased.
CREATE INDEX subjects_retention ON subjects (kind, last_activity_at, id) WHERE erased_at IS NULL;

-- One rule per kind of subject.
CREATE TABLE retention_rules (
    id uuid PRIMARY KEY,
    version integer NOT NULL DEFAULT 1,
    subject_kind text NOT NULL UNIQUE CHECK (subject_kind IN ('client', 'contact')),
    keep_months integer NOT NULL CHECK (keep_months BETWEEN 1 AND 1200),
    legal_basis text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A run erases what is due on `as_of`, in keyset order (last activity, id); `after_*` is how far
-- it got, committed with each erasure, so that a run cut short continues where it stopped.
CREATE TABLE retention_runs (
    id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    as_of date NOT NULL,
    started_by text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    erased bigint NOT NULL DEFAULT 0,
    skipped_on_hold bigint NOT NULL DEFAULT 0,
    after_activity_at timestamptz,
    after_subject_id uuid,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK ((after_activity_at IS NULL) = (after_subject_id IS NULL))
);
-- At most one run at a time, whichever instance starts it.
CREATE UNIQUE INDEX retention_runs_one_running ON retention_runs ((true)) WHERE status = 'running';
CREATE INDEX retention_runs_started ON retention_runs (started_at);
