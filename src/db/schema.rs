//! Diesel's view of the tables (kept equal to the migrations by the schema test).

diesel::table! {
    access_log (seq) {
        seq -> Int8,
        id -> Uuid,
        at -> Timestamptz,
        actor -> Text,
        recipient_id -> Nullable<Uuid>,
        action -> Text,
        subject_id -> Nullable<Uuid>,
        outcome -> Text,
        purpose -> Nullable<Text>,
        request_id -> Text,
        count -> Nullable<Int4>,
        txid -> Int8,
        mac -> Nullable<Bytea>,
    }
}

diesel::table! {
    access_log_cutover (only_row) {
        only_row -> Bool,
        seq -> Int8,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    access_log_leaf (idx) {
        idx -> Int8,
        entry_seq -> Int8,
        entry_id -> Uuid,
        hash -> Bytea,
    }
}

diesel::table! {
    access_log_node (level, idx) {
        level -> Int2,
        idx -> Int8,
        hash -> Bytea,
    }
}

diesel::table! {
    access_log_refused (entry_seq) {
        entry_seq -> Int8,
        entry_id -> Uuid,
        refused_at -> Timestamptz,
    }
}

diesel::table! {
    access_log_unkeyed (entry_seq) {
        entry_seq -> Int8,
        mac -> Bytea,
    }
}

diesel::table! {
    access_log_unkeyed_fact (only_row) {
        only_row -> Bool,
        cutover -> Int8,
        entries -> Int8,
        mac -> Bytea,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    access_log_checkpoint (epoch, size) {
        size -> Int8,
        root -> Bytea,
        note -> Text,
        signed_at -> Timestamptz,
        epoch -> Int4,
    }
}

diesel::table! {
    access_log_rollback (epoch) {
        epoch -> Int4,
        old_size -> Int8,
        old_root -> Bytea,
        new_size -> Int8,
        new_root -> Bytea,
        reason -> Text,
        at -> Timestamptz,
        statement -> Text,
    }
}

diesel::table! {
    access_log_chain (pos) {
        pos -> Int8,
        entry_seq -> Int8,
        entry_id -> Uuid,
        hash -> Bytea,
    }
}

diesel::table! {
    access_log_seal (id) {
        id -> Int8,
        horizon -> Int8,
        last_pos -> Int8,
        sealed_at -> Timestamptz,
    }
}

diesel::table! {
    subjects (id) {
        id -> Uuid,
        version -> Int4,
        kind -> Text,
        preferred_language -> Nullable<Text>,
        source_type -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        erased_at -> Nullable<Timestamptz>,
        restriction_ground -> Nullable<Text>,
        restricted_since -> Nullable<Timestamptz>,
        last_activity_at -> Timestamptz,
        given_name_enc -> Nullable<Bytea>,
        family_name_enc -> Nullable<Bytea>,
        personal_code_enc -> Nullable<Bytea>,
        email_enc -> Nullable<Bytea>,
        phone_enc -> Nullable<Bytea>,
        address_street_enc -> Nullable<Bytea>,
        address_city_enc -> Nullable<Bytea>,
        address_postal_code_enc -> Nullable<Bytea>,
        address_country_enc -> Nullable<Bytea>,
        source_name_enc -> Nullable<Bytea>,
        source_reference_enc -> Nullable<Bytea>,
        source_collected_at_enc -> Nullable<Bytea>,
        source_attestation_enc -> Nullable<Bytea>,
        personal_code_bidx -> Nullable<Bytea>,
        email_bidx -> Nullable<Bytea>,
    }
}

diesel::table! {
    subject_keys (subject_id) {
        subject_id -> Uuid,
        key_id -> Bytea,
        wrapped -> Bytea,
    }
}

diesel::table! {
    at_rest_keys (name) {
        name -> Text,
        key_id -> Bytea,
        wrapped -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    erasures (subject_id) {
        subject_id -> Uuid,
        erased_at -> Timestamptz,
        actor -> Text,
        reason -> Text,
        privacy_request_id -> Nullable<Uuid>,
        request_id -> Text,
    }
}

diesel::table! {
    restrictions (id) {
        id -> Uuid,
        subject_id -> Uuid,
        ground -> Text,
        reason -> Text,
        since -> Timestamptz,
        restricted_by -> Text,
        lifted_at -> Nullable<Timestamptz>,
        lift_reason -> Nullable<Text>,
        lifted_by -> Nullable<Text>,
    }
}

diesel::table! {
    holds (id) {
        id -> Uuid,
        subject_id -> Uuid,
        ground -> Text,
        legal_reference -> Text,
        review_on -> Date,
        created_by -> Text,
        created_at -> Timestamptz,
        released_at -> Nullable<Timestamptz>,
        release_reason -> Nullable<Text>,
        released_by -> Nullable<Text>,
    }
}

diesel::table! {
    rectifications (id) {
        id -> Uuid,
        subject_id -> Uuid,
        field -> Text,
        actor -> Text,
        at -> Timestamptz,
        request_id -> Text,
        old_value_enc -> Nullable<Bytea>,
        new_value_enc -> Nullable<Bytea>,
        reason_enc -> Nullable<Bytea>,
    }
}

diesel::table! {
    purposes (id) {
        id -> Text,
        basis -> Text,
        description_et -> Text,
        description_en -> Text,
        created_at -> Timestamptz,
        current_version -> Int4,
        material_version -> Int4,
    }
}

diesel::table! {
    purpose_versions (purpose_id, version) {
        purpose_id -> Text,
        version -> Int4,
        text_et -> Text,
        text_en -> Text,
        text_ru -> Nullable<Text>,
        text_sha256 -> Text,
        policy_url -> Nullable<Text>,
        material -> Bool,
        validity_months -> Nullable<Int4>,
        confirmation -> Text,
        minimum_age -> Nullable<Int4>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    consent_confirmations (token_sha256) {
        token_sha256 -> Bytea,
        subject_id -> Uuid,
        purpose_id -> Text,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    consents (subject_id, purpose_id) {
        subject_id -> Uuid,
        purpose_id -> Text,
        status -> Text,
        method -> Text,
        updated_at -> Timestamptz,
        updated_by -> Text,
        last_event_id -> Uuid,
        evidence_enc -> Nullable<Bytea>,
        purpose_version -> Int4,
        ever_granted -> Bool,
        renewed -> Bool,
        given_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        confirmation_expires_at -> Nullable<Timestamptz>,
        confirmation_sha256 -> Nullable<Bytea>,
        guardian_subject_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    consent_events (id) {
        id -> Uuid,
        subject_id -> Uuid,
        purpose_id -> Text,
        status -> Text,
        method -> Text,
        actor -> Text,
        at -> Timestamptz,
        request_id -> Text,
        evidence_enc -> Nullable<Bytea>,
        state -> Nullable<Text>,
        purpose_version -> Int4,
        guardian_subject_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    recipients (id) {
        id -> Uuid,
        version -> Int4,
        name -> Text,
        registry_code -> Nullable<Text>,
        category -> Text,
        contact_email -> Text,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    disclosure_authorizations (id) {
        id -> Uuid,
        subject_id -> Uuid,
        recipient_id -> Uuid,
        legal_basis -> Text,
        legal_reference -> Nullable<Text>,
        data_categories -> Array<Text>,
        purpose -> Text,
        valid_from -> Timestamptz,
        valid_until -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        revoked_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamptz,
        consent_evidence_enc -> Nullable<Bytea>,
        consent_purpose -> Nullable<Text>,
        request_id -> Nullable<Text>,
        revoked_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    disclosures (id) {
        id -> Uuid,
        subject_id -> Uuid,
        recipient_id -> Uuid,
        data_categories -> Array<Text>,
        channel -> Text,
        authorization_ids -> Array<Uuid>,
        actor -> Text,
        at -> Timestamptz,
        request_id -> Text,
        note_enc -> Nullable<Bytea>,
        withheld_until -> Nullable<Date>,
        withheld_reason_enc -> Nullable<Bytea>,
        withholding_request_ids -> Array<Text>,
    }
}

diesel::table! {
    receipt_keys (kid) {
        kid -> Text,
        x -> Text,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    consent_receipts (event_id) {
        event_id -> Uuid,
        kid -> Text,
        jws -> Text,
    }
}

diesel::table! {
    privacy_requests (id) {
        id -> Uuid,
        version -> Int4,
        kind -> Text,
        subject_id -> Nullable<Uuid>,
        channel -> Text,
        received_at -> Timestamptz,
        received_on -> Date,
        reference -> Nullable<Text>,
        status -> Text,
        original_due_on -> Date,
        due_on -> Date,
        extended -> Bool,
        extension_reason -> Nullable<Text>,
        subject_informed_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        outcome_reason -> Nullable<Text>,
        closed_at -> Nullable<Timestamptz>,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        verified_at -> Nullable<Timestamptz>,
        verification_method -> Nullable<Text>,
        verified_by -> Nullable<Text>,
        duplicate_of -> Nullable<Uuid>,
        override_reason -> Nullable<Text>,
        details_enc -> Nullable<Bytea>,
        login_verification -> Nullable<Text>,
    }
}

diesel::table! {
    retention_rules (id) {
        id -> Uuid,
        version -> Int4,
        subject_kind -> Text,
        keep_months -> Int4,
        legal_basis -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    retention_runs (id) {
        id -> Uuid,
        status -> Text,
        as_of -> Date,
        started_by -> Text,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        erased -> Int8,
        skipped_on_hold -> Int8,
        after_activity_at -> Nullable<Timestamptz>,
        after_subject_id -> Nullable<Uuid>,
    }
}

diesel::joinable!(consent_receipts -> consent_events (event_id));
diesel::joinable!(consent_events -> purposes (purpose_id));
diesel::joinable!(purpose_versions -> purposes (purpose_id));
diesel::joinable!(rectifications -> subjects (subject_id));
diesel::joinable!(subject_keys -> subjects (subject_id));
diesel::joinable!(privacy_requests -> subjects (subject_id));
diesel::joinable!(consents -> subjects (subject_id));
diesel::joinable!(consents -> purposes (purpose_id));
diesel::joinable!(consent_events -> subjects (subject_id));
diesel::joinable!(disclosure_authorizations -> subjects (subject_id));
diesel::joinable!(disclosure_authorizations -> recipients (recipient_id));
diesel::joinable!(disclosures -> subjects (subject_id));
diesel::joinable!(disclosures -> recipients (recipient_id));
diesel::joinable!(erasures -> subjects (subject_id));
diesel::joinable!(erasures -> privacy_requests (privacy_request_id));
diesel::joinable!(restrictions -> subjects (subject_id));
diesel::joinable!(holds -> subjects (subject_id));

diesel::table! {
    idempotency_keys (key_hash) {
        key_hash -> Bytea,
        body_hash -> Bytea,
        status -> Int2,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        entry_action -> Nullable<Text>,
        entry_subject_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        body_enc -> Bytea,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        recipient_id -> Uuid,
        url -> Text,
        secret -> Bytea,
        previous_secret -> Nullable<Bytea>,
        previous_until -> Nullable<Timestamptz>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notices (id) {
        id -> Uuid,
        seq -> Int8,
        recipient_id -> Uuid,
        subject_id -> Uuid,
        #[sql_name = "type"]
        kind -> Text,
        categories -> Nullable<Array<Text>>,
        purpose -> Nullable<Text>,
        webhook_id -> Nullable<Uuid>,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        lease -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        acknowledged_at -> Nullable<Timestamptz>,
        acknowledged_by -> Nullable<Text>,
        note -> Nullable<Text>,
        privacy_request_id -> Nullable<Uuid>,
        outcome_due_on -> Nullable<Date>,
        outcome -> Nullable<Text>,
        outcome_reason_enc -> Nullable<Bytea>,
        completed_at -> Nullable<Timestamptz>,
        outcome_recorded_by -> Nullable<Text>,
        outcome_recorded_at -> Nullable<Timestamptz>,
        override_reason_enc -> Nullable<Bytea>,
    }
}

diesel::table! {
    privacy_request_tasks (id) {
        id -> Uuid,
        request_id -> Uuid,
        title_enc -> Nullable<Bytea>,
        assignee -> Nullable<Text>,
        due_on -> Nullable<Date>,
        status -> Text,
        notification_id -> Nullable<Uuid>,
        note_enc -> Nullable<Bytea>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        completed_by -> Nullable<Text>,
        version -> Int4,
    }
}

diesel::joinable!(notices -> privacy_requests (privacy_request_id));
diesel::joinable!(privacy_request_tasks -> privacy_requests (request_id));

diesel::joinable!(webhooks -> recipients (recipient_id));
diesel::joinable!(notices -> recipients (recipient_id));
diesel::joinable!(notices -> subjects (subject_id));
diesel::joinable!(notices -> webhooks (webhook_id));

diesel::table! {
    processing_activities (id) {
        id -> Uuid,
        version -> Int4,
        status -> Text,
        doc -> Jsonb,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    processing_activity_versions (activity_id, version) {
        activity_id -> Uuid,
        version -> Int4,
        status -> Text,
        doc -> Jsonb,
        changed_at -> Timestamptz,
        changed_by -> Text,
    }
}

diesel::table! {
    breaches (id) {
        id -> Uuid,
        version -> Int4,
        status -> Text,
        aware_at -> Timestamptz,
        nature -> Array<Text>,
        description_enc -> Bytea,
        window_from -> Timestamptz,
        window_to -> Timestamptz,
        recipient_id -> Nullable<Uuid>,
        actor -> Nullable<Text>,
        data_categories -> Array<Text>,
        notify_authority_by -> Timestamptz,
        risk -> Nullable<Text>,
        risk_reasoning -> Nullable<Text>,
        assessed_at -> Nullable<Timestamptz>,
        authority_notified_at -> Nullable<Timestamptz>,
        authority_reference -> Nullable<Text>,
        delay_reasons -> Nullable<Text>,
        communicated_at -> Nullable<Timestamptz>,
        communication_method -> Nullable<Text>,
        communication_exemption -> Nullable<Text>,
        affected_count -> Nullable<Int4>,
        scope_computed_at -> Nullable<Timestamptz>,
        scope_sources -> Nullable<Array<Text>>,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    breach_subjects (breach_id, subject_id) {
        breach_id -> Uuid,
        subject_id -> Uuid,
        via -> Text,
    }
}

diesel::table! {
    art14_status (subject_id) {
        subject_id -> Uuid,
        counts_from -> Date,
        informed_at -> Nullable<Timestamptz>,
        method -> Nullable<Text>,
        notice_version -> Nullable<Text>,
        exemption -> Nullable<Text>,
        exemption_reference -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    information_notices (id) {
        id -> Uuid,
        subject_id -> Uuid,
        informed_at -> Timestamptz,
        method -> Text,
        notice_version -> Text,
        actor -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    access_responses (id) {
        id -> Uuid,
        request_id -> Uuid,
        subject_id -> Uuid,
        lang -> Text,
        json_enc -> Bytea,
        html_enc -> Bytea,
        sha256 -> Text,
        jws -> Text,
        actor -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    download_links (token_sha256) {
        token_sha256 -> Bytea,
        response_id -> Uuid,
        subject_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(access_responses -> privacy_requests (request_id));
diesel::joinable!(access_responses -> subjects (subject_id));
diesel::joinable!(download_links -> access_responses (response_id));
diesel::joinable!(processing_activity_versions -> processing_activities (activity_id));
diesel::joinable!(breaches -> recipients (recipient_id));
diesel::joinable!(breach_subjects -> breaches (breach_id));
diesel::joinable!(breach_subjects -> subjects (subject_id));
diesel::joinable!(art14_status -> subjects (subject_id));
diesel::joinable!(information_notices -> subjects (subject_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_log,
    access_log_chain,
    access_log_seal,
    access_log_cutover,
    access_log_leaf,
    access_log_node,
    access_log_refused,
    access_log_unkeyed,
    access_log_unkeyed_fact,
    access_log_checkpoint,
    access_log_rollback,
    receipt_keys,
    consent_receipts,
    subjects,
    subject_keys,
    at_rest_keys,
    rectifications,
    purposes,
    purpose_versions,
    consent_confirmations,
    consents,
    consent_events,
    recipients,
    disclosure_authorizations,
    disclosures,
    idempotency_keys,
    privacy_requests,
    retention_rules,
    retention_runs,
    webhooks,
    notices,
    erasures,
    restrictions,
    holds,
    processing_activities,
    processing_activity_versions,
    breaches,
    breach_subjects,
    art14_status,
    information_notices,
    privacy_request_tasks,
    access_responses,
    download_links,
);
