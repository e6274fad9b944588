DROP TABLE access_log_seal;
DROP TABLE access_log_chain;
