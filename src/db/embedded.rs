//! A private PostgreSQL cluster started from the installed binaries: the default when no
//! `DATABASE_URL` is given, and the test harness's database when no `TEST_DATABASE_URL` is.
//!
//! It listens only on a Unix socket inside its own directory (mode 0700), so it needs no free
//! port and no password, and no other local user can reach it. `initdb` refuses to run as root,
//! so under root the PostgreSQL processes run as an unprivileged account; when that account cannot
//! enter the asked-for directory (a project under root's own `drwx------` home), the cluster moves
//! to a directory of its own under `/var/lib/planpro-privacy/` and the start-up log says so.

mod place;

use place::{find_bin_dir, place, unprivileged_account, Account};
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

impl EmbeddedPostgres {
    /// Initializes the cluster on first use, then starts it unless it is already running.
    pub fn start(options: &Options) -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let run_as = unprivileged_account()?;
        let root = place(&options.root, options.remedy, &bin, run_as.as_ref())?;
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
