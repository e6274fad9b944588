//! The bundle as a zip: `manifest.json` listing every other file's SHA-256 and size,
//! `manifest.jws` signing the manifest's exact bytes with the receipt key, then the files, each
//! deflated, with a fixed time stamp and no directory entries.

use super::contents::BundleFile;
use super::{FORMAT, MANIFEST_TYP};
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::receipts::ReceiptKey;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The manifest.
#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    subject_id: SubjectId,
    generated_at: String,
    files: Vec<Listed<'a>>,
}

/// One file as the manifest lists it.
#[derive(Serialize)]
struct Listed<'a> {
    path: &'a str,
    /// Lower-case hex.
    sha256: String,
    bytes: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The manifest's bytes for these files.
fn manifest(
    subject: SubjectId,
    generated_at: DateTime<Utc>,
    files: &[BundleFile],
) -> ApiResult<Vec<u8>> {
    let manifest = Manifest {
        format: FORMAT,
        subject_id: subject,
        generated_at: generated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        files: files
            .iter()
            .map(|f| Listed {
                path: &f.path,
                sha256: hex(&Sha256::digest(&f.bytes)),
                bytes: f.bytes.len(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(ApiError::internal)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The zip of the files with their signed manifest.
pub fn write(
    subject: SubjectId,
    generated_at: DateTime<Utc>,
    files: Vec<BundleFile>,
    key: &ReceiptKey,
) -> ApiResult<Vec<u8>> {
    let manifest = manifest(subject, generated_at, &files)?;
    let signature = key.attached(MANIFEST_TYP, &manifest);
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(total / 2 + 4096)));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let head = [
        ("manifest.json", manifest.as_slice()),
        ("manifest.jws", signature.as_bytes()),
    ];
    let rest = files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice()));
    for (path, bytes) in head.into_iter().chain(rest) {
        zip.start_file(path, options).map_err(ApiError::internal)?;
        zip.write_all(bytes).map_err(ApiError::internal)?;
    }
    let cursor = zip.finish().map_err(ApiError::internal)?;
    Ok(cursor.into_inner())
}
