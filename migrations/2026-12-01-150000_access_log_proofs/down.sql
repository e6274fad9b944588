DROP TABLE access_log_checkpoint;
DROP TABLE access_log_refused;
DROP TABLE access_log_node;
DROP TABLE access_log_leaf;
DROP TABLE access_log_cutover;
ALTER TABLE access_log DROP COLUMN mac;
