//! A private PostgreSQL cluster started from the installed binaries: the default when no
//! `DATABASE_URL` is given, and the test harness's database when no `TEST_DATABASE_URL` is.
//!
//! It listens only on a Unix socket inside its own directory (mode 0700), so it needs no free
//! port and no password, and no other local user can reach it. `initdb` refuses to run as root,
//! so under root the PostgreSQL processes run as an unprivileged account; when that account cannot
//! enter the asked-for directory (a project under root's own `drwx------` home), the cluster moves
//! to a directory of its own under `/var/lib/planpro-privacy/` and the start-up log says so.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster (started by us, or found running and reused).
pub struct EmbeddedPostgres {
    root: PathBuf,
    bin: PathBuf,
    run_as: Option<Account>,
    started_here: bool,
}

/// The unprivileged account PostgreSQL runs as when we are root.
#[derive(Clone)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

/// Where a cluster goes when the PostgreSQL account cannot enter the asked-for directory.
const RELOCATION_BASE: &str = "/var/lib/planpro-privacy/embedded";

/// Options for a cluster.
pub struct Options {
    /// Where the cluster lives: `pgdata/`, `run/` (the socket) and `postgres.log` go inside.
    pub root: PathBuf,
    /// Test clusters trade crash safety for speed; the service's never does.
    pub durable: bool,
    /// What an error tells the user to set when no place works, such as
    /// [`SERVICE_REMEDY`].
    pub remedy: &'static str,
}

/// The service's way out when its cluster cannot be placed.
pub const SERVICE_REMEDY: &str = "set DATA_DIR to a directory you can write, or set DATABASE_URL";

fn find_bin_dir() -> Result<PathBuf, String> {
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
fn unprivileged_account() -> Result<Option<Account>, String> {
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
fn place(options: &Options, bin: &Path, run_as: Option<&Account>) -> Result<PathBuf, String> {
    let (wanted, remedy) = (&options.root, options.remedy);
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

impl EmbeddedPostgres {
    /// Initializes the cluster on first use, then starts it unless it is already running.
    pub fn start(options: &Options) -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let run_as = unprivileged_account()?;
        let root = place(options, &bin, run_as.as_ref())?;
        let this = Self {
            root,
            bin,
            run_as,
            started_here: false,
        };
        for dir in [this.pgdata(), this.socket_dir()] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            this.own(&dir)?;
        }
        if !this.pgdata().join("PG_VERSION").exists() {
            this.initdb()?;
        }
        this.write_settings(options.durable)?;
        if this.is_running() {
            return Ok(this);
        }
        let log = this.root.join("postgres.log");
        if !log.exists() {
            std::fs::write(&log, "")
                .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        }
        this.own(&log)?;
        let status = this
            .command("pg_ctl")
            .arg("-D")
            .arg(this.pgdata())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "start"])
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if !status.status.success() {
            return Err(format!(
                "pg_ctl start failed; see {} ({})",
                log.display(),
                String::from_utf8_lossy(&status.stderr).trim()
            ));
        }
        Ok(Self {
            started_here: true,
            ..this
        })
    }

    /// The directory the cluster lives in (see `place`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The cluster's data directory.
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }

    /// The directory of its Unix socket (a libpq `host`).
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// One of the installed PostgreSQL tools (`pg_basebackup`, `pg_ctl`), run as the account that
    /// owns the cluster, with `PGDATA` unset: for operations on it such as making a standby.
    pub fn tool(&self, name: &str) -> Command {
        self.command(name)
    }

    fn own(&self, path: &Path) -> Result<(), String> {
        if let Some(account) = &self.run_as {
            std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid)).map_err(|e| {
                format!(
                    "cannot hand {} to the PostgreSQL account: {e}",
                    path.display()
                )
            })?;
        }
        Ok(())
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        cmd.current_dir(&self.root).env_remove("PGDATA");
        if let Some(account) = &self.run_as {
            cmd.uid(account.uid).gid(account.gid);
        }
        cmd
    }

    fn initdb(&self) -> Result<(), String> {
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(self.pgdata())
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ])
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "initdb failed (is {} reachable by the PostgreSQL account?): {}",
                self.root.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn write_settings(&self, durable: bool) -> Result<(), String> {
        let mut settings = format!(
            "listen_addresses = ''\nunix_socket_directories = '{}'\nunix_socket_permissions = 0700\nmax_connections = 300\n",
            self.socket_dir().display()
        );
        if !durable {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.pgdata().join("postgresql.auto.conf");
        std::fs::write(&path, settings)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.own(&path)
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.pgdata())
            .arg("status")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// A URL for the named database on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@/{database}?host={}",
            self.socket_dir().display()
        )
    }

    /// Creates the database unless it exists.
    pub fn ensure_database(&self, database: &str) -> Result<(), String> {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&self.url("postgres"))
            .map_err(|e| format!("cannot connect to the embedded PostgreSQL: {e}"))?;
        let exists = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{database}')"
        )))
        .get_result::<bool>(&mut conn)
        .map_err(|e| format!("cannot list databases: {e}"))?;
        if !exists {
            diesel::sql_query(format!("CREATE DATABASE \"{database}\""))
                .execute(&mut conn)
                .map_err(|e| format!("cannot create database {database}: {e}"))?;
        }
        Ok(())
    }

    /// Stops the cluster if this process started it.
    pub fn stop(&self) {
        if !self.started_here {
            return;
        }
        let result = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.pgdata())
            .args(["-m", "fast", "-w", "stop"])
            .output();
        if let Err(e) = result {
            log::warn!("could not stop the embedded PostgreSQL: {e}");
        }
    }
}
