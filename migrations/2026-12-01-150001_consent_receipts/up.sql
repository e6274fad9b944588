-- Signed consent receipts (Kantara Consent Receipt v1.1 as a compact JWS, EdDSA), one per consent
-- event, written in the event's transaction.

-- Every key that ever signed a receipt: retired keys stay listed in /.well-known/jwks.json so
-- that old receipts keep verifying.
CREATE TABLE receipt_keys (
    -- The RFC 7638 thumbprint of the public key.
    kid text PRIMARY KEY,
    -- The Ed25519 public key, base64url (the JWK's `x`).
    x text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consent_receipts (
    event_id uuid PRIMARY KEY REFERENCES consent_events (id),
    kid text NOT NULL REFERENCES receipt_keys (kid),
    jws text NOT NULL
);

CREATE TRIGGER receipt_keys_append_only BEFORE UPDATE OR DELETE ON receipt_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER receipt_keys_no_truncate BEFORE TRUNCATE ON receipt_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_receipts_append_only BEFORE UPDATE OR DELETE ON consent_receipts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_receipts_no_truncate BEFORE TRUNCATE ON consent_receipts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
