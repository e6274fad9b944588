//! The bundle's zip, read into memory: every entry a file with a plain relative name, none a
//! directory, no name twice, none larger than a bundle's file can be.

use super::found::Tampered;
use std::collections::BTreeMap;
use std::io::Read;

/// The most one file of a bundle may hold once inflated.
const MAX_FILE: u64 = 256 << 20;

/// The files of the archive by name; the first problem otherwise.
pub fn read(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, Tampered> {
    let whole = |why: String| Tampered::new("(the zip archive)", why);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| whole(format!("it is not a readable zip: {e}")))?;
    // The reader keeps one entry per name: a second entry of a name would go unseen.
    if let Some(declared) = declared_entries(bytes) {
        if declared != zip.len() as u64 {
            return Err(whole(format!(
                "its directory lists {declared} entries for {} names: a name is used twice",
                zip.len()
            )));
        }
    }
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip
            .by_index(i)
            .map_err(|e| whole(format!("entry {i} cannot be read: {e}")))?;
        let name = file.name().to_owned();
        if file.is_dir() || name.ends_with('/') {
            return Err(Tampered::new(
                &name,
                "a directory entry, which a bundle never holds",
            ));
        }
        let plain = !name.is_empty()
            && !name.starts_with('/')
            && !name.contains('\\')
            && name
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !plain {
            return Err(Tampered::new(&name, "not a plain relative file name"));
        }
        let mut data = Vec::with_capacity(file.size().min(MAX_FILE) as usize);
        (&mut file)
            .take(MAX_FILE + 1)
            .read_to_end(&mut data)
            .map_err(|e| Tampered::new(&name, format!("it does not inflate: {e}")))?;
        if data.len() as u64 > MAX_FILE {
            return Err(Tampered::new(&name, "larger than a bundle's file can be"));
        }
        files.insert(name, data);
    }
    Ok(files)
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?).into())
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The number of entries the end of central directory record states (its zip64 form when the
/// short one is saturated); `None` when it cannot be found.
fn declared_entries(b: &[u8]) -> Option<u64> {
    let last = b.len().checked_sub(22)?;
    let eocd = (last.saturating_sub(65_535)..=last)
        .rev()
        .find(|&i| b[i..].starts_with(b"PK\x05\x06"))?;
    let short = u16_at(b, eocd + 10)?;
    if short != 0xFFFF {
        return Some(short);
    }
    let locator = eocd.checked_sub(20)?;
    if !b[locator..].starts_with(b"PK\x06\x07") {
        return None;
    }
    let record = usize::try_from(u64_at(b, locator + 8)?).ok()?;
    if !b.get(record..)?.starts_with(b"PK\x06\x06") {
        return None;
    }
    u64_at(b, record + 32)
}
