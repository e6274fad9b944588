DROP TABLE disclosures;
DROP TABLE disclosure_authorizations;
DROP TABLE recipients;
