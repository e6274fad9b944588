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
    }
}
