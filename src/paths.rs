//! Every URL of the API, written once: [`crate::router`] serves each one and the handler's OpenAPI
//! annotation documents it under the same constant, so the two cannot drift apart.

/// Liveness.
pub const HEALTHZ: &str = "/healthz";
/// Readiness.
pub const READYZ: &str = "/readyz";
/// Prometheus metrics.
pub const METRICS: &str = "/metrics";
/// The OpenAPI document.
pub const OPENAPI_JSON: &str = "/openapi.json";
/// The interactive documentation (its assets live below it).
pub const DOCS: &str = "/docs";

/// Subjects: list, create.
pub const SUBJECTS: &str = "/v1/subjects";
/// The person's own record (a subject token).
pub const ME: &str = "/v1/me";
/// The person's own consent and opt-out flags.
pub const ME_CONSENTS: &str = "/v1/me/consents";
/// The person's own flag of one purpose: change.
pub const ME_CONSENT: &str = "/v1/me/consents/{purpose}";
/// The person's own privacy requests: file, list.
pub const ME_PRIVACY_REQUESTS: &str = "/v1/me/privacy-requests";
/// The access log about the person, newest first.
pub const ME_ACCESS_LOG: &str = "/v1/me/access-log";
/// The uses of the person's data in the state data tracker's `findUsage` shape.
pub const ME_USAGE: &str = "/v1/me/usage";
/// The person's own access response (Art. 15).
pub const ME_ACCESS_RESPONSE: &str = "/v1/me/access-response";
/// One subject: read, rectify.
pub const SUBJECT: &str = "/v1/subjects/{id}";
/// A subject's rectification history.
pub const SUBJECT_RECTIFICATIONS: &str = "/v1/subjects/{id}/rectifications";
/// Everything held about a subject.
pub const SUBJECT_EXPORT: &str = "/v1/subjects/{id}/export";
/// The access response (Art. 15): the export with everything owed with it.
pub const SUBJECT_ACCESS_RESPONSE: &str = "/v1/subjects/{id}/access-response";
/// Freezing the access response that answers an `access` request.
pub const PRIVACY_REQUEST_ACCESS_RESPONSE: &str = "/v1/privacy-requests/{id}/access-response";
/// A new one-time download link for a response frozen for the request, killing the old ones.
pub const PRIVACY_REQUEST_ACCESS_RESPONSE_LINK: &str =
    "/v1/privacy-requests/{id}/access-response/{rid}/link";
/// A one-time download link of a frozen access response (no bearer token).
pub const DOWNLOAD: &str = "/v1/downloads/{token}";
/// The evidence bundle about one subject: its data, receipts, log entries and their proofs.
pub const EVIDENCE_BUNDLE: &str = "/v1/evidence-bundle";

/// The privacy centre's page (the person's token in the URL fragment).
pub const PRIVACY_CENTRE: &str = "/privacy/";
/// The double opt-in confirmation page (the confirmation token in the URL fragment).
pub const PRIVACY_CONFIRM: &str = "/privacy/confirm";
/// The pages' style sheet and scripts.
pub const PRIVACY_ASSET: &str = "/privacy/assets/{file}";

/// Purposes of processing: list, create.
pub const PURPOSES: &str = "/v1/purposes";
/// One purpose.
pub const PURPOSE: &str = "/v1/purposes/{purpose}";
/// A purpose's versions: add, list.
pub const PURPOSE_VERSIONS: &str = "/v1/purposes/{purpose}/versions";
/// One version of a purpose.
pub const PURPOSE_VERSION: &str = "/v1/purposes/{purpose}/versions/{n}";
/// A subject's flag for every purpose.
pub const SUBJECT_CONSENTS: &str = "/v1/subjects/{id}/consents";
/// A subject's consent events.
pub const SUBJECT_CONSENT_HISTORY: &str = "/v1/subjects/{id}/consents/history";
/// A subject's flag for one purpose.
pub const SUBJECT_CONSENT: &str = "/v1/subjects/{id}/consents/{purpose}";
/// The signed receipt of one consent event.
pub const SUBJECT_CONSENT_RECEIPT: &str = "/v1/subjects/{id}/consents/history/{event_id}/receipt";
/// The keys that sign consent receipts.
pub const JWKS: &str = "/.well-known/jwks.json";
/// Every stored consent flag, for compliance scripts.
pub const CONSENTS: &str = "/v1/consents";
/// Grants in force that expire soon.
pub const CONSENTS_EXPIRING: &str = "/v1/consents/expiring";
/// Confirming a double opt-in (no bearer token).
pub const CONSENT_CONFIRMATIONS: &str = "/v1/consents/confirmations";
/// The purpose a confirmation token asks the person to confirm (the token is not used).
pub const CONSENT_CONFIRMATION_PURPOSE: &str = "/v1/consents/confirmations/purpose";
/// Bulk eligibility for a purpose.
pub const ELIGIBILITY: &str = "/v1/consents/eligibility";

/// Recipients: register, list.
pub const RECIPIENTS: &str = "/v1/recipients";
/// One recipient: read, change.
pub const RECIPIENT: &str = "/v1/recipients/{id}";

/// A subject's disclosure authorizations: grant, list.
pub const AUTHORIZATIONS: &str = "/v1/subjects/{id}/disclosure-authorizations";
/// One authorization.
pub const AUTHORIZATION: &str = "/v1/subjects/{id}/disclosure-authorizations/{aid}";
/// Revoking one authorization.
pub const AUTHORIZATION_REVOKE: &str = "/v1/subjects/{id}/disclosure-authorizations/{aid}/revoke";
/// A subject's disclosures: record, list.
pub const DISCLOSURES: &str = "/v1/subjects/{id}/disclosures";
/// Extending or ending a disclosure's withholding from the person.
pub const DISCLOSURE_WITHHOLDING: &str = "/v1/subjects/{id}/disclosures/{did}/withholding";
/// What a partner may list.
pub const PARTNER_SUBJECTS: &str = "/v1/partner/subjects";
/// What a partner may read about one subject.
pub const PARTNER_SUBJECT: &str = "/v1/partner/subjects/{id}";

/// Access-log search.
pub const ACCESS_LOGS: &str = "/v1/access-logs";
/// Verification of the hash chain.
pub const ACCESS_LOG_VERIFY: &str = "/v1/access-logs/verify";
/// The latest signed checkpoint of the access log's Merkle tree.
pub const ACCESS_LOG_CHECKPOINT: &str = "/v1/access-logs/checkpoint";
/// The checkpoints' verifier key.
pub const ACCESS_LOG_CHECKPOINT_KEY: &str = "/v1/access-logs/checkpoint-key";
/// One entry's inclusion proof.
pub const ACCESS_LOG_INCLUSION_PROOF: &str = "/v1/access-logs/{entry_id}/inclusion-proof";
/// A consistency proof between two checkpoints.
pub const ACCESS_LOG_CONSISTENCY_PROOF: &str = "/v1/access-logs/consistency-proof";
/// The rollback statements operators recorded.
pub const ACCESS_LOG_ROLLBACKS: &str = "/v1/access-logs/rollbacks";
/// The access-log entries about one subject.
pub const SUBJECT_ACCESS_LOGS: &str = "/v1/subjects/{id}/access-logs";

/// Privacy requests: record, list.
pub const PRIVACY_REQUESTS: &str = "/v1/privacy-requests";
/// One privacy request.
pub const PRIVACY_REQUEST: &str = "/v1/privacy-requests/{id}";
/// Extending a privacy request's deadline.
pub const PRIVACY_REQUEST_EXTEND: &str = "/v1/privacy-requests/{id}/extend";
/// Closing a privacy request.
pub const PRIVACY_REQUEST_CLOSE: &str = "/v1/privacy-requests/{id}/close";
/// A recipient's webhooks: register, list.
pub const RECIPIENT_WEBHOOKS: &str = "/v1/recipients/{id}/webhooks";
/// One webhook of a recipient: delete.
pub const RECIPIENT_WEBHOOK: &str = "/v1/recipients/{id}/webhooks/{wid}";
/// A new secret for a webhook.
pub const RECIPIENT_WEBHOOK_ROTATE: &str = "/v1/recipients/{id}/webhooks/{wid}/rotate-secret";

/// Notices to recipients: list.
pub const NOTIFICATIONS: &str = "/v1/notifications";
/// One notice.
pub const NOTIFICATION: &str = "/v1/notifications/{id}";
/// Sending a notice again.
pub const NOTIFICATION_RETRY: &str = "/v1/notifications/{id}/retry";
/// Recording that staff delivered a notice another way.
pub const NOTIFICATION_ACKNOWLEDGE: &str = "/v1/notifications/{id}/acknowledge";

/// Retention rules: create, list.
pub const RETENTION_RULES: &str = "/v1/retention/rules";
/// One retention rule.
pub const RETENTION_RULE: &str = "/v1/retention/rules/{id}";
/// The subjects due for erasure on a day.
pub const RETENTION_DUE: &str = "/v1/retention/due";
/// Retention runs: start one.
pub const RETENTION_RUNS: &str = "/v1/retention/runs";
/// One retention run.
pub const RETENTION_RUN: &str = "/v1/retention/runs/{id}";
/// Erasing a subject.
pub const SUBJECT_ERASURE: &str = "/v1/subjects/{id}/erasure";
/// Restricting the processing of a subject's data.
pub const SUBJECT_RESTRICTION: &str = "/v1/subjects/{id}/restriction";
/// Lifting a subject's restriction.
pub const SUBJECT_RESTRICTION_LIFT: &str = "/v1/subjects/{id}/restriction/lift";
/// A subject's holds: place, list.
pub const SUBJECT_HOLDS: &str = "/v1/subjects/{id}/holds";
/// Releasing one hold.
pub const SUBJECT_HOLD_RELEASE: &str = "/v1/subjects/{id}/holds/{hid}/release";

/// Processing activities (Art. 30): record, list.
pub const PROCESSING_ACTIVITIES: &str = "/v1/processing-activities";
/// One processing activity: read, change.
pub const PROCESSING_ACTIVITY: &str = "/v1/processing-activities/{id}";
/// The versions of one processing activity.
pub const PROCESSING_ACTIVITY_VERSIONS: &str = "/v1/processing-activities/{id}/versions";
/// The register of processing activities as of a date, signed.
pub const ROPA: &str = "/v1/ropa";
/// The register checked against the disclosure ledger and the access log.
pub const ROPA_CONFORMANCE: &str = "/v1/ropa/conformance";
/// A partner's own notices.
pub const PARTNER_NOTIFICATIONS: &str = "/v1/partner/notifications";
/// A partner's report of what it did about one of its notices.
pub const PARTNER_NOTIFICATION_OUTCOME: &str = "/v1/partner/notifications/{id}/outcome";
/// Staff's recording of a notice's outcome.
pub const NOTIFICATION_OUTCOME: &str = "/v1/notifications/{id}/outcome";
/// A recipient's compliance figures.
pub const RECIPIENT_COMPLIANCE: &str = "/v1/recipients/{id}/compliance";
/// A privacy request's tasks.
pub const PRIVACY_REQUEST_TASKS: &str = "/v1/privacy-requests/{id}/tasks";
/// One task of a privacy request.
pub const PRIVACY_REQUEST_TASK: &str = "/v1/privacy-requests/{id}/tasks/{tid}";
/// The verification of a privacy request's requester.
pub const PRIVACY_REQUEST_VERIFICATION: &str = "/v1/privacy-requests/{id}/verification";
/// The figures of privacy requests.
pub const PRIVACY_REQUEST_METRICS: &str = "/v1/privacy-requests/metrics";

/// Art. 14: an information notice given to a person.
pub const INFORMATION_NOTICES: &str = "/v1/subjects/{id}/information-notices";
/// Art. 14(5): why a person need not be told.
pub const ART14_EXEMPTION: &str = "/v1/subjects/{id}/art14-exemption";
/// Art. 14: the persons whose information is due.
pub const INFORMATION_NOTICES_DUE: &str = "/v1/information-notices/due";

/// The breach register: record, list.
pub const BREACHES: &str = "/v1/breaches";
/// One breach: read, change.
pub const BREACH: &str = "/v1/breaches/{id}";
/// Computing a breach's affected persons.
pub const BREACH_SCOPE: &str = "/v1/breaches/{id}/scope";
/// A breach's affected persons.
pub const BREACH_SUBJECTS: &str = "/v1/breaches/{id}/subjects";
/// A breach's risk assessment.
pub const BREACH_ASSESSMENT: &str = "/v1/breaches/{id}/assessment";
/// The notification of the supervisory authority.
pub const BREACH_AUTHORITY_NOTIFICATION: &str = "/v1/breaches/{id}/authority-notification";
/// The communication to the persons affected.
pub const BREACH_SUBJECT_COMMUNICATION: &str = "/v1/breaches/{id}/subject-communication";
