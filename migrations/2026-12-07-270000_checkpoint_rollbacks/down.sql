-- Going back drops the epochs after the first, which the older schema cannot tell apart.
ALTER TABLE access_log_checkpoint DROP CONSTRAINT access_log_checkpoint_pkey;
ALTER TABLE access_log_checkpoint DISABLE TRIGGER access_log_checkpoint_append_only;
DELETE FROM access_log_checkpoint WHERE epoch > 0;
ALTER TABLE access_log_checkpoint ENABLE TRIGGER access_log_checkpoint_append_only;
ALTER TABLE access_log_checkpoint DROP COLUMN epoch;
ALTER TABLE access_log_checkpoint ADD PRIMARY KEY (size);
DROP TABLE access_log_rollback;
