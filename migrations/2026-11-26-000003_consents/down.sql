DROP TABLE consent_events;
DROP TABLE consents;
DROP TABLE purposes;
