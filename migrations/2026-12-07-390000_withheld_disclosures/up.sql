-- Withheld disclosures (contract v3, A): a legal-obligation disclosure the person is not shown
-- until a Tallinn date. The reason is sealed under the person's key, as the note is; the request
-- ids of the entries that changed the withholding are kept so that those entries are withheld
-- with the disclosure's own.
ALTER TABLE disclosures
    ADD COLUMN withheld_until date,
    ADD COLUMN withheld_reason_enc bytea,
    ADD COLUMN withholding_request_ids text[] NOT NULL DEFAULT '{}';

-- The requests that granted and revoked an authorization, so that its entries can be withheld
-- with a disclosure it covers (null for authorizations recorded before this migration).
ALTER TABLE disclosure_authorizations
    ADD COLUMN request_id text,
    ADD COLUMN revoked_request_id text;

-- Every view of the person asks whether anything of theirs is withheld: one probe of this
-- (nearly always empty) partial index.
CREATE INDEX disclosures_withheld ON disclosures (subject_id, at) WHERE withheld_until IS NOT NULL;

-- The ledger stays append-only but for the withholding, which staff extend or end
-- (`PUT .../withholding`, each change an entry in the access log): an update that touches any
-- other column is refused, as before; deleting and truncating still are.
CREATE FUNCTION refuse_disclosure_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'UPDATE'
       OR (to_jsonb(NEW) - 'withheld_until' - 'withheld_reason_enc' - 'withholding_request_ids')
          IS DISTINCT FROM
          (to_jsonb(OLD) - 'withheld_until' - 'withheld_reason_enc' - 'withholding_request_ids')
    THEN
        RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER disclosures_append_only ON disclosures;
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION refuse_disclosure_change();
