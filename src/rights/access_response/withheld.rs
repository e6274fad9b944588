//! What the person's own document leaves out: the export inside an access response (live or
//! frozen) is the person's view, so what is withheld from them now (`disclosures::withheld`)
//! is taken out of its disclosures, authorizations, notices and access log. Staff exports and
//! evidence bundles keep everything.

use crate::disclosures::withheld::{
    authorization_withheld, disclosure_shown, entry_withheld, notice_withheld,
};
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use crate::rights::export::SubjectExport;
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use serde_json::Value;
use std::collections::HashSet;
use uuid::Uuid;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The ids of every row about `subject` withheld from them now: disclosures, the authorizations
/// covering them, notices and entries. Asked only when some disclosure is withheld, so that a
/// person without one (nearly everyone) costs one index probe.
fn withheld_ids(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<HashSet<Uuid>> {
    let disclosures: Vec<Id> = diesel::sql_query(format!(
        "SELECT d.id FROM disclosures d WHERE d.subject_id = $1 AND NOT {}",
        disclosure_shown("d")
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .load(conn)?;
    if disclosures.is_empty() {
        return Ok(HashSet::new());
    }
    let others: Vec<Id> = diesel::sql_query(format!(
        "SELECT x.id FROM disclosure_authorizations x WHERE x.subject_id = $1 AND {} \
         UNION ALL SELECT n.id FROM notices n WHERE n.subject_id = $1 AND {} \
         UNION ALL SELECT a.id FROM access_log a WHERE a.subject_id = $1 AND {}",
        authorization_withheld("x"),
        notice_withheld("n"),
        entry_withheld("a"),
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .load(conn)?;
    Ok(disclosures
        .into_iter()
        .chain(others)
        .map(|r| r.id)
        .collect())
}

/// Keeps the items of a list whose `id` is not in `ids`.
fn keep_shown(list: &mut Value, ids: &HashSet<Uuid>) {
    if let Value::Array(items) = list {
        items.retain(|item| {
            let id = item["id"].as_str().and_then(|s| s.parse::<Uuid>().ok());
            !id.is_some_and(|id| ids.contains(&id))
        });
    }
}

/// The export as the person is shown it now.
pub fn as_shown(
    conn: &mut PgConnection,
    subject: SubjectId,
    mut export: SubjectExport,
) -> ApiResult<SubjectExport> {
    let ids = withheld_ids(conn, subject)?;
    if ids.is_empty() {
        return Ok(export);
    }
    keep_shown(&mut export.disclosures, &ids);
    keep_shown(&mut export.disclosure_authorizations, &ids);
    keep_shown(&mut export.notifications, &ids);
    keep_shown(&mut export.access_log, &ids);
    Ok(export)
}
