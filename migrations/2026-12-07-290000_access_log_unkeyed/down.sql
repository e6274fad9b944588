DROP TABLE access_log_unkeyed_fact;
DROP TABLE access_log_unkeyed;
