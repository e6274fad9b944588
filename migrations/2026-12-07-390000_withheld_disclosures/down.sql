DROP TRIGGER disclosures_append_only ON disclosures;
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP FUNCTION refuse_disclosure_change();
DROP INDEX disclosures_withheld;
ALTER TABLE disclosure_authorizations DROP COLUMN revoked_request_id, DROP COLUMN request_id;
ALTER TABLE disclosures
    DROP COLUMN withholding_request_ids,
    DROP COLUMN withheld_reason_enc,
    DROP COLUMN withheld_until;
