//! Where an embedded cluster lives and as whom its processes run: the PostgreSQL binaries found,
//! the unprivileged account under root, and the cluster's directory (moved under
//! [`RELOCATION_BASE`] when that account cannot enter the asked-for one).

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The unprivileged account PostgreSQL runs as when we are root.
#[derive(Clone)]
pub(super) struct Account {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
}

/// Where a cluster goes when the PostgreSQL account cannot enter the asked-for directory.
const RELOCATION_BASE: &str = "/var/lib/planpro-privacy/embedded";

/// The directory of PostgreSQL's binaries: the first in `PATH` holding `initdb` and `pg_ctl`,
/// else the newest `/usr/lib/postgresql/*/bin`.
pub(super) fn find_bin_dir() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d)) {
            // A PATH entry may hold links into the real bin directory (Debian's packaging does).
            let real = dir.join("initdb").canonicalize().ok();
            return Ok(real
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or(dir));
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| {
            "no PostgreSQL binaries found in PATH or /usr/lib/postgresql/*/bin".to_owned()
        })?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL binaries found in PATH or /usr/lib/postgresql/*/bin".to_owned()
    })
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == name)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// The relocated directory's name: the last parts of the asked-for path (`app-.data` for
/// `/srv/app/.data/postgres`) and a hash of all of it, so that a look at the folder tells which
/// checkout each cluster belongs to. Short, since the socket's path must fit in 107 bytes.
fn relocated_name(wanted: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(wanted.as_os_str().as_encoded_bytes());
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let parts = wanted
        .components()
        .rev()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .skip_while(|c| c == "postgres")
        .take_while(|c| c != "/");
    let mut readable = String::new();
    for part in parts {
        let clean: String = part
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
                _ => '-',
            })
            .collect();
        if readable.len() + clean.len() > 28 {
            break;
        }
        readable = if readable.is_empty() {
            clean
        } else {
            format!("{clean}-{readable}")
        };
    }
    format!("{readable}-{hash}")
}

/// The effective user id of this process.
fn euid() -> u32 {
    std::fs::metadata("/proc/self").map_or(1, |m| m.uid())
}

/// Under root: the account that runs PostgreSQL (`EMBEDDED_PG_USER`, else `postgres`, else `nobody`).
pub(super) fn unprivileged_account() -> Result<Option<Account>, String> {
    if euid() != 0 {
        return Ok(None);
    }
    let wanted = std::env::var("EMBEDDED_PG_USER").ok();
    let names = wanted
        .iter()
        .map(String::as_str)
        .chain(["postgres", "nobody"]);
    for name in names {
        if let Some((uid, gid)) = lookup_user(name).filter(|(uid, _)| *uid != 0) {
            return Ok(Some(Account {
                name: name.to_owned(),
                uid,
                gid,
            }));
        }
    }
    Err("running as root, and no unprivileged account (postgres or nobody) exists to run PostgreSQL: create one, name it in EMBEDDED_PG_USER, or set DATABASE_URL".into())
}

/// True when the account can enter `dir`: probed by starting a PostgreSQL tool there as the
/// account, exactly as initdb and pg_ctl will be started (so ACLs and groups count too).
fn reachable(bin: &Path, dir: &Path, account: &Account) -> bool {
    Command::new(bin.join("pg_ctl"))
        .arg("--version")
        .current_dir(dir)
        .uid(account.uid)
        .gid(account.gid)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The directory the cluster lives in: `wanted`, or under root, when the PostgreSQL account
/// cannot enter `wanted`, a directory of its own under [`RELOCATION_BASE`], named after `wanted`
/// so that every later start finds the same cluster. A note in `wanted` says where it went.
pub(super) fn place(
    wanted: &Path,
    remedy: &str,
    bin: &Path,
    run_as: Option<&Account>,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(wanted)
        .map_err(|e| format!("cannot create {}: {e}; {remedy}", wanted.display()))?;
    let wanted = wanted
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", wanted.display()))?;
    if run_as.is_none() {
        let owner = std::fs::metadata(&wanted).map_or(0, |m| m.uid());
        if owner != euid() {
            return Err(format!(
                "{} belongs to another account (uid {owner}), whose cluster this one cannot use; {remedy}",
                wanted.display()
            ));
        }
    }
    let Some(account) = run_as.filter(|a| !reachable(bin, &wanted, a)) else {
        return Ok(wanted);
    };
    let moved = Path::new(RELOCATION_BASE).join(relocated_name(&wanted));
    let cannot = |why: String| {
        format!(
            "the PostgreSQL account `{}` cannot enter {} and {why}; {remedy} (a directory it can enter: every parent needs o+x)",
            account.name,
            wanted.display()
        )
    };
    std::fs::create_dir_all(&moved)
        .map_err(|e| cannot(format!("{} cannot be created ({e})", moved.display())))?;
    if !reachable(bin, &moved, account) {
        return Err(cannot(format!("cannot enter {} either", moved.display())));
    }
    let note = format!(
        "The PostgreSQL account `{}` cannot enter this directory, so the embedded cluster of this\ndirectory lives in {}\n",
        account.name,
        moved.display()
    );
    // Only pointers for people: losing them loses nothing, since the place is derived again.
    let _ = std::fs::write(wanted.join("WHERE-IS-THE-CLUSTER.txt"), note);
    let _ = std::fs::write(
        moved.join("BELONGS-TO.txt"),
        format!(
            "The embedded cluster of {}\n(remove this directory together with that one to start afresh)\n",
            wanted.display()
        ),
    );
    log::info!(
        "embedded PostgreSQL: the account `{}` cannot enter {}, so the cluster lives in {}",
        account.name,
        wanted.display(),
        moved.display()
    );
    Ok(moved)
}
