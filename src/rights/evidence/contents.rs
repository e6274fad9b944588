//! What goes into a bundle, read in one snapshot so that its files agree with each other: the
//! data files (the export's parts, or ids only for an erased person), the receipts, every
//! access-log entry about the person with its proof against the latest checkpoint or its id
//! among the pending, and the keys that check them.

use super::erased;
use crate::access_log::model::Entry;
use crate::access_log::proof_set::{self, ProofSet};
use crate::db::schema::access_log;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::rights::export;
use crate::subjects::model::Lock;
use crate::subjects::standing::Standing;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

/// One file of a bundle.
pub struct BundleFile {
    /// Its path inside the zip (no directory entries: `receipts/` and `proofs/` are prefixes).
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A JSON file as the bundle writes it: indented, with a final newline.
fn json_file(path: impl Into<String>, value: &impl Serialize) -> ApiResult<BundleFile> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(ApiError::internal)?;
    bytes.push(b'\n');
    Ok(BundleFile {
        path: path.into(),
        bytes,
    })
}

/// Signs the receipts a bundle will carry that were never signed (events recorded before
/// receipts existed); a write, so it runs before the snapshot. Nothing for an erased person.
pub fn prepare(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<()> {
    if Standing::read(conn, subject, Lock::None)?.is_present() {
        crate::receipts::listing::sign_missing(conn, subject)?;
    }
    Ok(())
}

/// Every file of the bundle but the manifest and its signature, in one read-only snapshot; 404
/// for an unknown subject; `None` while no checkpoint has been signed.
pub fn gather(
    conn: &mut PgConnection,
    subject: SubjectId,
    checkpoint_key: String,
) -> ApiResult<Option<Vec<BundleFile>>> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| gather_in(conn, subject, checkpoint_key))
}

fn gather_in(
    conn: &mut PgConnection,
    subject: SubjectId,
    checkpoint_key: String,
) -> ApiResult<Option<Vec<BundleFile>>> {
    let standing = Standing::read(conn, subject, Lock::None)?.known()?;
    let mut files = Vec::new();
    match standing {
        Standing::Erased(at) => {
            for (path, value) in erased::data_files(conn, subject, at)? {
                files.push(json_file(path, &value)?);
            }
        }
        _ => {
            files.extend(data_files(conn, subject)?);
            for (event, jws) in crate::receipts::listing::of_subject(conn, subject)? {
                files.push(BundleFile {
                    path: format!("receipts/{event}.jws"),
                    bytes: jws.into_bytes(),
                });
            }
        }
    }
    let entries: Vec<Entry> = access_log::table
        .filter(access_log::subject_id.eq(subject))
        .order(access_log::seq)
        .select(Entry::as_select())
        .load(conn)?;
    let mut log = Vec::with_capacity(entries.len() * 256);
    for entry in &entries {
        serde_json::to_writer(&mut log, entry).map_err(ApiError::internal)?;
        log.push(b'\n');
    }
    let Some(set) = proof_set::prove_all(conn, entries)? else {
        return Ok(None);
    };
    files.push(BundleFile {
        path: "access_log.ndjson".into(),
        bytes: log,
    });
    files.extend(proof_files(set)?);
    files.push(BundleFile {
        path: "checkpoint-key.txt".into(),
        bytes: format!("{checkpoint_key}\n").into_bytes(),
    });
    files.push(json_file(
        "jwks.json",
        &crate::receipts::published::key_set(conn)?,
    )?);
    Ok(Some(files))
}

/// The data files of a person who is there: the parts of their export.
fn data_files(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<BundleFile>> {
    let export = export::gather_in(conn, subject)?;
    let subject = serde_json::to_value(&export.subject).map_err(ApiError::internal)?;
    let notices = serde_json::to_value(&export.information_notices).map_err(ApiError::internal)?;
    let parts: [(&str, &Value); 6] = [
        ("subject.json", &subject),
        ("consent_events.json", &export.consent_history),
        ("authorizations.json", &export.disclosure_authorizations),
        ("disclosures.json", &export.disclosures),
        ("notifications.json", &export.notifications),
        ("information_notices.json", &notices),
    ];
    parts
        .into_iter()
        .map(|(path, value)| json_file(path, value))
        .collect()
}

/// A proof per checkpointed entry, the ids of the others, and the checkpoint itself.
fn proof_files(set: ProofSet) -> ApiResult<Vec<BundleFile>> {
    let mut files = Vec::with_capacity(set.proved.len() + 2);
    for proof in &set.proved {
        files.push(json_file(format!("proofs/{}.json", proof.entry.id), proof)?);
    }
    let pending: Vec<uuid::Uuid> = set.pending.iter().map(|e| e.id).collect();
    files.push(json_file("pending.json", &pending)?);
    files.push(BundleFile {
        path: "checkpoint.txt".into(),
        bytes: set.checkpoint.into_bytes(),
    });
    Ok(files)
}
