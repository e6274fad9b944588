//! The house's layers, read from the source: every `use crate::…`, `use super::…`, `self::…`,
//! child-module and inline `crate::…` path in `src/` is resolved to the file it names, and the
//! file graph must have no cycle; the generic layers must name no resource module.
//!
//! `cargo test --test main layers -- --nocapture` prints the figures (cycles, imports per layer,
//! imports running upward, files over 300 lines).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The resources: folders that plug into the mechanisms, never the reverse.
const RESOURCES: &[&str] = &[
    "subjects",
    "consents",
    "disclosures",
    "recipients",
    "requests",
    "notices",
    "retention",
    "holds",
    "receipts",
    "rights",
    "registers",
    "processing",
    "breaches",
    "dpia",
    "activities",
    "art14",
];

/// The wiring on top: it names every resource so that nothing below has to.
const WIRING: &[&str] = &[
    "lib.rs",
    "server.rs",
    "router.rs",
    "openapi",
    "cli",
    "batched.rs",
    "audit.rs",
    // The app's middleware (it reads the route table of the whole API) and the operations
    // endpoints (they gather every resource's gauges).
    "request.rs",
    "ops.rs",
];

/// The access log's handlers (they read entries about a subject); the rest of `access_log/` is
/// the mechanism every resource records through.
const ACCESS_LOG_HANDLERS: &[&str] = &[
    "access_log/routes.rs",
    "access_log/proofs.rs",
    "access_log/rollback.rs",
];

/// The generic layers the issue names: they must not name a resource.
fn is_generic(file: &str) -> bool {
    file.starts_with("db/")
        || file.starts_with("at_rest/")
        || (file.starts_with("access_log/") && !ACCESS_LOG_HANDLERS.contains(&file))
        || file.starts_with("background")
        || file.starts_with("idempotency")
        || matches!(file, "body.rs" | "state.rs" | "pagination.rs" | "error.rs")
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Layer {
    Mechanism,
    Resource,
    Wiring,
}

fn layer(file: &str) -> Layer {
    let first = file.split('/').next().unwrap_or(file);
    let stem = first.strip_suffix(".rs").unwrap_or(first);
    if WIRING.iter().any(|w| *w == first || *w == stem) {
        Layer::Wiring
    } else if RESOURCES.contains(&stem) || ACCESS_LOG_HANDLERS.contains(&file) {
        Layer::Resource
    } else {
        Layer::Mechanism
    }
}

/// Code without comments, strings and character literals (each replaced by spaces, so
/// positions stay put).
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(if b[i] == b'\n' { b'\n' } else { b' ' });
                    i += 1;
                }
            }
        } else if c == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&b'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(
                b[i..j]
                    .iter()
                    .map(|&x| if x == b'\n' { b'\n' } else { b' ' }),
            );
            i = j;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let j = (j + 1).min(b.len());
            out.extend(
                b[i..j]
                    .iter()
                    .map(|&x| if x == b'\n' { b'\n' } else { b' ' }),
            );
            i = j;
        } else if c == b'\'' {
            // A character literal ('a', '\n', '\u{..}') or a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 3 + p)
            } else {
                let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 2 + ch_len)
            };
            match end {
                Some(e) => {
                    out.extend(std::iter::repeat_n(b' ', e - i));
                    i = e;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Tokens of a `use` tree: identifiers and the punctuation `::`, `{`, `}`, `,`, `*`.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_ident(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else {
            if "{},*".contains(c) {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

/// Expands a `use` tree into its paths (`a::{b, c::d}` → `a::b`, `a::c::d`).
fn expand(toks: &[String], pos: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *pos < toks.len() {
        let t = toks[*pos].as_str();
        match t {
            "::" => *pos += 1,
            "{" => {
                *pos += 1;
                loop {
                    expand(toks, pos, &path, out);
                    match toks.get(*pos).map(String::as_str) {
                        Some(",") => *pos += 1,
                        Some("}") => {
                            *pos += 1;
                            break;
                        }
                        _ => break,
                    }
                }
                return;
            }
            "*" => {
                *pos += 1;
                out.push(path);
                return;
            }
            "," | "}" => break,
            "as" => {
                *pos += 2;
                break;
            }
            "self" if !path.is_empty() => *pos += 1,
            _ => {
                path.push(t.to_string());
                *pos += 1;
            }
        }
    }
    out.push(path);
}

struct Crate {
    /// file (relative to src/) → module path
    modules: BTreeMap<String, Vec<String>>,
    by_path: BTreeMap<Vec<String>, String>,
}

impl Crate {
    fn read(src: &Path) -> (Crate, BTreeMap<String, String>) {
        let mut files = Vec::new();
        collect(src, &mut files);
        let mut modules = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for f in files {
            let rel = f
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "main.rs" {
                continue;
            }
            let no_ext = rel.strip_suffix(".rs").unwrap();
            let mut segs: Vec<String> = no_ext.split('/').map(String::from).collect();
            if segs.last().map(String::as_str) == Some("mod") || rel == "lib.rs" {
                segs.pop();
            }
            texts.insert(rel.clone(), std::fs::read_to_string(&f).unwrap());
            modules.insert(rel, segs);
        }
        let by_path = modules
            .iter()
            .map(|(f, m)| (m.clone(), f.clone()))
            .collect();
        (Crate { modules, by_path }, texts)
    }

    /// The file defining the longest prefix of `path`.
    fn file_of(&self, path: &[String]) -> Option<&String> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.by_path.get(&path[..n]))
    }

    fn is_module(&self, path: &[String]) -> bool {
        self.by_path.contains_key(path)
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Inline modules (`mod tests { … }`): their byte range and name, for `super::` inside them.
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(p) = code[search..].find("mod ") {
        let at = search + p;
        search = at + 4;
        if at > 0 && is_ident(b[at - 1] as char) {
            continue;
        }
        let rest = &code[at + 4..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|&c| is_ident(c))
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if name.is_empty() || !after.starts_with('{') {
            continue;
        }
        let open = code.len() - after.len();
        let mut depth = 0;
        let mut close = code.len();
        for (k, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((open, close, name));
    }
    out
}

/// Every path the file names, absolute (from the crate root).
fn paths_named(krate: &Crate, module: &[String], code: &str) -> Vec<Vec<String>> {
    let inline = inline_modules(code);
    let module_at = |pos: usize| -> Vec<String> {
        let mut m = module.to_vec();
        for (open, close, name) in &inline {
            if *open < pos && pos < *close {
                m.push(name.clone());
            }
        }
        m
    };
    let absolute = |here: &[String], rel: &[String]| -> Option<Vec<String>> {
        let first = rel.first()?.as_str();
        match first {
            "crate" => Some(rel[1..].to_vec()),
            "super" | "self" => {
                let mut base = here.to_vec();
                let mut k = 0;
                while rel.get(k).map(String::as_str) == Some("super") {
                    base.pop();
                    k += 1;
                }
                if rel.get(k).map(String::as_str) == Some("self") {
                    k += 1;
                }
                base.extend(rel[k..].iter().cloned());
                Some(base)
            }
            _ => {
                let mut child = here.to_vec();
                child.push(first.to_string());
                krate.is_module(&child).then(|| {
                    child.extend(rel[1..].iter().cloned());
                    child
                })
            }
        }
    };
    let mut out = Vec::new();
    // `use` trees.
    let mut search = 0;
    while let Some(p) = code[search..].find("use ") {
        let at = search + p;
        search = at + 4;
        if at > 0 && is_ident(code.as_bytes()[at - 1] as char) {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let toks = tokens(&code[at + 4..at + end]);
        let mut trees = Vec::new();
        expand(&toks, &mut 0, &[], &mut trees);
        let here = module_at(at);
        out.extend(trees.iter().filter_map(|t| absolute(&here, t)));
    }
    // Inline paths: `crate::a::b`, `super::a`, `self::a`, `child::a`.
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let boundary = i == 0 || {
            let prev = chars[i - 1].1;
            !(is_ident(prev) || prev == ':')
        };
        if !(boundary && is_ident(c)) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut segs = Vec::new();
        loop {
            let s = j;
            while j < chars.len() && is_ident(chars[j].1) {
                j += 1;
            }
            segs.push(chars[s..j].iter().map(|x| x.1).collect::<String>());
            if j + 1 < chars.len() && chars[j].1 == ':' && chars[j + 1].1 == ':' {
                j += 2;
                if j < chars.len() && is_ident(chars[j].1) {
                    continue;
                }
            }
            break;
        }
        if segs.len() > 1 && segs[0] != "use" {
            if let Some(p) = absolute(&module_at(at), &segs) {
                out.push(p);
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// The strongly connected sets of more than one file (Tarjan).
fn cycles(nodes: &[String], edges: &Edges) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit(t: &mut T, v: &str) {
        t.index.insert(v.into(), t.next);
        t.low.insert(v.into(), t.next);
        t.next += 1;
        t.stack.push(v.into());
        t.on.insert(v.into());
        let next: Vec<String> = t.edges.get(v).into_iter().flatten().cloned().collect();
        for w in next {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut set = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = w == v;
                set.push(w);
                if done {
                    break;
                }
            }
            if set.len() > 1 {
                set.sort();
                t.out.push(set);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for n in nodes {
        if !t.index.contains_key(n) {
            visit(&mut t, n);
        }
    }
    t.out
}

/// file → the files it names.
type Edges = BTreeMap<String, BTreeSet<String>>;

/// The file graph of the crate under `src`: its files, their imports and their lengths.
fn graph(src: &Path) -> (Vec<String>, Edges, BTreeMap<String, usize>) {
    let (krate, texts) = Crate::read(src);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for (file, text) in &texts {
        lines.insert(file.clone(), text.lines().count());
        let code = strip(text);
        let module = &krate.modules[file];
        for p in paths_named(&krate, module, &code) {
            if let Some(to) = krate.file_of(&p) {
                // A module naming its own parent's items through `super::` is no import of a
                // file when the path stops at the crate root (lib.rs only declares modules).
                if to != file && to != "lib.rs" {
                    edges.entry(file.clone()).or_default().insert(to.clone());
                }
            }
        }
    }
    (texts.keys().cloned().collect(), edges, lines)
}

#[test]
fn the_source_has_no_import_cycle_and_no_import_runs_upward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (nodes, edges, lines) = graph(&src);
    let found = cycles(&nodes, &edges);

    let mut per_layer: BTreeMap<(Layer, Layer), usize> = BTreeMap::new();
    let mut upward = Vec::new();
    let mut generic_naming_resources = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            *per_layer.entry((layer(from), layer(to))).or_default() += 1;
            if layer(to) > layer(from) {
                upward.push(format!("{from} → {to}"));
            }
            if is_generic(from) && layer(to) != Layer::Mechanism {
                generic_naming_resources.push(format!("{from} → {to}"));
            }
        }
    }
    let long: Vec<String> = lines
        .iter()
        .filter(|(_, &n)| n > 300)
        .map(|(f, n)| format!("{f} ({n})"))
        .collect();

    println!(
        "files: {}, imports (file → file): {}",
        nodes.len(),
        edges.values().map(BTreeSet::len).sum::<usize>()
    );
    for ((from, to), n) in &per_layer {
        println!("imports {from:?} → {to:?}: {n}");
    }
    println!("import cycles: {}", found.len());
    for c in &found {
        println!("  cycle of {} files: {}", c.len(), c.join(", "));
        for f in c {
            let inside: Vec<&String> = edges[f].iter().filter(|t| c.contains(t)).collect();
            println!("    {f} → {inside:?}");
        }
    }
    println!("imports running upward: {}", upward.len());
    for u in &upward {
        println!("  {u}");
    }
    println!("files over 300 lines: {}", long.len());
    for l in &long {
        println!("  {l}");
    }

    assert!(
        found.is_empty(),
        "import cycles among these files:\n{}",
        found
            .iter()
            .map(|c| c.join(" ↔ "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        generic_naming_resources.is_empty(),
        "generic layers name a resource or the wiring:\n{}",
        generic_naming_resources.join("\n")
    );
    assert!(
        upward.is_empty(),
        "imports running upward:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_reader_finds_a_cycle_and_resolves_every_form_of_path() {
    let dir = std::env::temp_dir().join(format!("layers-probe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let write = |f: &str, s: &str| std::fs::write(dir.join(f), s).unwrap();
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write("a/mod.rs", "pub mod x;\npub mod y;\n");
    // x → b::z through a grouped use; z → y inline; y → x through super.
    write(
        "a/x.rs",
        "use crate::{b::{z::{Z, self}}, c as _};\n// crate::c::never in a comment\n",
    );
    write("a/y.rs", "pub fn f() { let _ = \"crate::c::s\"; super::x::g(); }\n#[cfg(test)]\nmod tests { use super::f; }\n");
    write("b/mod.rs", "pub mod z;\n");
    write("b/z.rs", "pub fn z() { crate::a::y::f() }\n");
    write("c.rs", "pub fn c<'a>(s: &'a str) -> char { 'x' }\n");
    let (nodes, edges, _) = graph(&dir);
    let found = cycles(&nodes, &edges);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        found,
        vec![vec!["a/x.rs".to_string(), "a/y.rs".into(), "b/z.rs".into()]],
        "edges: {edges:?}"
    );
    assert_eq!(
        edges["a/x.rs"],
        BTreeSet::from(["b/z.rs".into(), "c.rs".into()])
    );
    assert_eq!(edges["a/y.rs"], BTreeSet::from(["a/x.rs".into()]));
}
