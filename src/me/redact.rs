//! Staff identities kept from the person (CJEU C-579/21): what the service gives the person
//! names the kind of an actor (`staff`, `recipient`) wherever a record would name a staff
//! member's or a partner integration's `sub`.

use crate::access_log::actor_kind::ACTOR_KIND_OF_A;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use serde_json::Value;
use std::collections::HashMap;

#[derive(QueryableByName)]
struct Hidden {
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// Every actor of an entry about the person that the person may not see, with the kind to show
/// instead. Every read and change about them writes such an entry, so every staff or partner
/// `sub` a record about them holds is here.
pub fn hidden_actors(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> ApiResult<HashMap<String, String>> {
    let rows: Vec<Hidden> = diesel::sql_query(format!(
        "SELECT a.actor, min({ACTOR_KIND_OF_A}) AS kind FROM access_log a \
         WHERE a.subject_id = $1 AND {ACTOR_KIND_OF_A} IN ('staff', 'recipient') \
         GROUP BY a.actor"
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.actor, r.kind)).collect())
}

/// Replaces every string in `value` that is a hidden actor by its kind.
pub fn redact(value: &mut Value, hidden: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(kind) = hidden.get(text.as_str()) {
                *text = kind.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, hidden)),
        Value::Object(members) => members.values_mut().for_each(|v| redact(v, hidden)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hidden_actor_becomes_its_kind_and_nothing_else_changes() {
        let hidden = HashMap::from([("mari.tamm".to_owned(), "staff".to_owned())]);
        let mut value = serde_json::json!({"actor": "mari.tamm", "reason": "mari.tamm asked",
            "items": [{"created_by": "mari.tamm"}, "system:retention", 3]});
        redact(&mut value, &hidden);
        assert_eq!(
            value,
            serde_json::json!({"actor": "staff", "reason": "mari.tamm asked",
                "items": [{"created_by": "staff"}, "system:retention", 3]})
        );
    }
}
