//! No unused dependency: every crate `Cargo.toml` names is used by the code it is built for
//! (what `cargo machete` checks, without installing it): a `[dependencies]` crate by `src/`, a
//! `[dev-dependencies]` crate by `tests/`, `examples/` or `src/`. A crate that is there only for
//! the features it turns on in another is listed below with the reason.

use std::path::Path;

/// Crates present only to turn on a feature of a crate that another dependency pulls in.
const FEATURES_ONLY: &[(&str, &str)] = &[(
    "aes",
    "turns on `zeroize` for the block cipher inside aes-gcm, so expanded keys are wiped",
)];

/// The crate names of one `[section]` of the manifest.
fn section(manifest: &str, name: &str) -> Vec<String> {
    let header = format!("[{name}]");
    manifest
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .filter(|k| !k.is_empty() && !k.starts_with('#'))
        .collect()
}

fn sources(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).expect("read a source file"));
            out.push('\n');
        }
    }
}

/// Whether the code names the crate: a path (`name::`), a `use`, a macro or an attribute.
fn used(code: &str, krate: &str) -> bool {
    let name = krate.replace('-', "_");
    code.match_indices(&name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + name.len()..];
        let starts_a_word = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts_a_word
            && (after.starts_with("::")
                || after.starts_with('!')
                || (code[..at].ends_with("use ") && after.starts_with([';', ' '])))
    })
}

#[test]
fn every_dependency_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("read Cargo.toml");
    let mut lib = String::new();
    sources(&root.join("src"), &mut lib);
    let mut dev = lib.clone();
    sources(&root.join("tests"), &mut dev);
    sources(&root.join("examples"), &mut dev);

    let normal = section(&manifest, "dependencies");
    let development = section(&manifest, "dev-dependencies");
    assert!(
        normal.len() > 10 && !development.is_empty(),
        "the manifest's sections were not read: {normal:?} {development:?}"
    );
    let features_only = |k: &str| FEATURES_ONLY.iter().any(|(name, _)| *name == k);
    let mut unused: Vec<String> = normal
        .iter()
        .filter(|k| !features_only(k) && !used(&lib, k))
        .cloned()
        .collect();
    unused.extend(
        development
            .iter()
            .filter(|k| !features_only(k) && !used(&dev, k))
            .map(|k| format!("{k} (dev)")),
    );
    assert!(
        unused.is_empty(),
        "dependencies no code uses (remove them, or list them in FEATURES_ONLY with the \
         reason): {unused:?}"
    );
    for (name, _) in FEATURES_ONLY {
        assert!(
            normal.iter().chain(&development).any(|k| k == name),
            "FEATURES_ONLY names {name}, which is no longer a dependency"
        );
        assert!(
            !used(&lib, name),
            "{name} is used by the code now: take it off FEATURES_ONLY"
        );
    }
}
