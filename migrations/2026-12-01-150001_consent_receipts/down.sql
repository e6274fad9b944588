DROP TABLE consent_receipts;
DROP TABLE receipt_keys;
