-- Never a fork: when the log went back (a restore, a failover to a standby that missed commits,
-- rows removed behind the service's back), an operator records a signed rollback statement, and
-- the checkpoints signed after it form a new epoch. The earlier epochs' checkpoints stay, as
-- evidence of what was signed before; sizes repeat across epochs, so the key is (epoch, size).
CREATE TABLE access_log_rollback (
    epoch integer PRIMARY KEY CHECK (epoch > 0),
    old_size bigint NOT NULL,
    old_root bytea NOT NULL,
    new_size bigint NOT NULL,
    new_root bytea NOT NULL,
    reason text NOT NULL,
    at timestamptz NOT NULL,
    -- The statement as a signed note under the checkpoint key.
    statement text NOT NULL
);
CREATE TRIGGER access_log_rollback_append_only BEFORE UPDATE OR DELETE ON access_log_rollback
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_rollback_no_truncate BEFORE TRUNCATE ON access_log_rollback
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

ALTER TABLE access_log_checkpoint ADD COLUMN epoch integer NOT NULL DEFAULT 0;
ALTER TABLE access_log_checkpoint DROP CONSTRAINT access_log_checkpoint_pkey;
ALTER TABLE access_log_checkpoint ADD PRIMARY KEY (epoch, size);
