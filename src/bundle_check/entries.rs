//! The access log in a bundle: every line of `access_log.ndjson` an entry about the person, its
//! leaf data recomputed (RFC 8785 canonical JSON of its ten members) and hashed (RFC 6962), and
//! either proved by `proofs/<id>.json` against the checked checkpoint or listed in
//! `pending.json`, never both and never neither.

use super::found::{Files, Tampered};
use super::note::Checkpoint;
use super::tree::{self, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The members of an entry, exactly (contract v2, "Proofs anyone can check").
const MEMBERS: [&str; 10] = [
    "action",
    "actor",
    "at",
    "count",
    "id",
    "outcome",
    "purpose",
    "recipient_id",
    "request_id",
    "subject_id",
];

const LOG: &str = "access_log.ndjson";
const PENDING: &str = "pending.json";

/// An entry's canonical leaf data, from its JSON object; why it is no entry, otherwise.
fn leaf_data(value: &Value) -> Result<(String, Vec<u8>), String> {
    let object: &Map<String, Value> = value.as_object().ok_or("not a JSON object")?;
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    if keys != MEMBERS.into_iter().collect() {
        return Err(format!(
            "its members are not exactly {}",
            MEMBERS.join(", ")
        ));
    }
    let id = object["id"].as_str().ok_or("its `id` is not a string")?;
    let data = serde_json_canonicalizer::to_vec(value).map_err(|e| e.to_string())?;
    Ok((id.to_owned(), data))
}

/// What the log check counted.
pub struct Counted {
    pub entries: usize,
    pub proved: usize,
    pub pending: usize,
}

/// Checks the log, its proofs and the pending list against the checkpoint (whose text is `note`).
pub fn check(
    files: &Files,
    subject: &str,
    checkpoint: &Checkpoint,
    note: &str,
) -> Result<Counted, Tampered> {
    let bad_line = |n: usize, why: String| Tampered::new(LOG, format!("line {n}: {why}"));
    let text = std::str::from_utf8(&files[LOG]).map_err(|_| Tampered::new(LOG, "not UTF-8"))?;
    let mut leaves: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let value: Value =
            serde_json::from_str(line).map_err(|e| bad_line(n, format!("not JSON: {e}")))?;
        let (id, data) = leaf_data(&value).map_err(|why| bad_line(n, why))?;
        if value["subject_id"].as_str() != Some(subject) {
            return Err(bad_line(n, "an entry about someone else".into()));
        }
        if leaves.insert(id.clone(), data).is_some() {
            return Err(bad_line(n, format!("entry {id} appears twice")));
        }
    }
    let pending: Vec<String> = serde_json::from_slice(&files[PENDING])
        .map_err(|_| Tampered::new(PENDING, "not a JSON array of entry ids"))?;
    let mut waiting = BTreeSet::new();
    for id in &pending {
        if !leaves.contains_key(id) || !waiting.insert(id.as_str()) {
            return Err(Tampered::new(
                PENDING,
                format!("{id} is not an entry of the log, or is listed twice"),
            ));
        }
    }
    let mut indexes = BTreeSet::new();
    let mut proved = 0;
    for (path, bytes) in files.range("proofs/".to_owned()..) {
        let Some(id) = path.strip_prefix("proofs/") else {
            break;
        };
        let id = id.strip_suffix(".json").unwrap_or(id);
        let data = leaves
            .get(id)
            .ok_or_else(|| Tampered::new(path, "proves no entry of the log"))?;
        if waiting.contains(id) {
            return Err(Tampered::new(path, "proves an entry listed as pending"));
        }
        let index = proof(bytes, data, checkpoint, note).map_err(|why| Tampered::new(path, why))?;
        if !indexes.insert(index) {
            return Err(Tampered::new(
                path,
                format!("a second entry at leaf {index}"),
            ));
        }
        proved += 1;
    }
    if let Some(id) = leaves.keys().find(|id| {
        !waiting.contains(id.as_str()) && !files.contains_key(&format!("proofs/{id}.json"))
    }) {
        return Err(Tampered::new(
            &format!("proofs/{id}.json"),
            "missing: the entry is neither proved nor pending",
        ));
    }
    Ok(Counted {
        entries: leaves.len(),
        proved,
        pending: waiting.len(),
    })
}

/// One proof file checked against the entry's leaf data and the checkpoint: its leaf index.
fn proof(bytes: &[u8], data: &[u8], checkpoint: &Checkpoint, note: &str) -> Result<u64, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let (_, stated) = leaf_data(&value["entry"]).map_err(|why| format!("its `entry`: {why}"))?;
    if stated != data {
        return Err("its `entry` differs from the log's".into());
    }
    let index = value["leaf_index"].as_u64().ok_or("no `leaf_index`")?;
    if value["tree_size"].as_u64() != Some(checkpoint.size) {
        return Err("its `tree_size` is not checkpoint.txt's".into());
    }
    if value["checkpoint"].as_str() != Some(note) {
        return Err("its `checkpoint` is not checkpoint.txt".into());
    }
    let path = value["hashes"]
        .as_array()
        .ok_or("no `hashes`")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| B64.decode(s).ok())
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or("a hash is not base64 of 32 bytes")
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    match tree::root_from_path(index, checkpoint.size, tree::leaf(data), &path) {
        Some(root) if root == checkpoint.root => Ok(index),
        _ => Err(format!(
            "it does not lead from the entry's leaf to the root of checkpoint {}",
            checkpoint.size
        )),
    }
}
