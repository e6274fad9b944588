DROP TABLE access_log;
DROP FUNCTION refuse_change();
