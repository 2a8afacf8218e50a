//! The server's floors (`ARCHITECTURE.md`) are its real import order.
//!
//! Reads every file of `server/src`, finds what each imports from the crate (`use
//! crate::…`, `use super::…` and paths written inline), and checks that:
//! - no two files import each other, directly or round a circle;
//! - every top-level module is on exactly one floor of `ARCHITECTURE.md`;
//! - a module imports only from its own floor or the floors below, and the top-level
//!   modules form no circle either.
//!
//! Test modules (`#[cfg(test)]` to the end of a file) are left out: a test may reach
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src`, by module path (`records::scope`, `http`, `lib` → []).
fn modules() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).expect("under src").with_extension("");
                let mut module: Module =
                    relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    module.pop();
                }
                out.insert(module, std::fs::read_to_string(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    let root = source_root();
    walk(&root, &root, &mut out);
    out
}

/// The source without comments, string and char literals, and test modules.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]") {
        Some(at) => &source[..at],
        None => source,
    };
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            'r' if chars.get(i + 1) == Some(&'#') || (chars.get(i + 1) == Some(&'"') && is_raw_start(&chars, i)) => {
                // r"…" or r#"…"#: skip to the matching close.
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    out.push(chars[i]);
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            '\'' if chars.get(i + 2) == Some(&'\'') || (chars.get(i + 1) == Some(&'\\')) => {
                // A char literal ('x' or '\n'); lifetimes ('a) pass through.
                let mut j = i + 1;
                if chars.get(j) == Some(&'\\') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_raw_start(chars: &[char], i: usize) -> bool {
    i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// The paths a `use` tree names: `a::{b, c::{d, e as f}}` → a::b, a::c::d, a::c::e.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Module>) {
    let mut depth = 0;
    let mut item = String::new();
    let mut items = Vec::new();
    for c in tree.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            items.push(std::mem::take(&mut item));
        } else {
            item.push(c);
        }
    }
    items.push(item);
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if let Some(open) = item.find('{') {
            let head: Vec<String> =
                item[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
            let inner = &item[open + 1..item.rfind('}').expect("closing brace")];
            let mut next = prefix.to_vec();
            next.extend(head);
            expand(inner, &next, out);
        } else {
            let path = item.split(" as ").next().unwrap_or(item);
            let mut full = prefix.to_vec();
            full.extend(path.split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from));
            out.push(full);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every crate path a file names: in `use` statements and written inline.
fn crate_paths(code: &str) -> Vec<Module> {
    let at_word = |text: &str, i: usize| !text[..i].chars().next_back().is_some_and(is_ident);
    let mut out = Vec::new();
    let mut rest = String::new();
    let mut i = 0;
    while let Some(c) = code[i..].chars().next() {
        if at_word(code, i) && code[i..].starts_with("use ") {
            let end = code[i..].find(';').map_or(code.len(), |e| i + e);
            let tree = code[i + 4..end].trim();
            if tree.starts_with("crate::") || tree.starts_with("super::") || tree.starts_with("self::") {
                expand(tree, &[], &mut out);
            }
            i = (end + 1).min(code.len());
            continue;
        }
        rest.push(c);
        i += c.len_utf8();
    }
    // Inline paths: `crate::a::b` or `super::a` outside `use` statements.
    let mut i = 0;
    while let Some(c) = rest[i..].chars().next() {
        if at_word(&rest, i) && (rest[i..].starts_with("crate::") || rest[i..].starts_with("super::")) {
            let end = rest[i..].find(|c: char| !(is_ident(c) || c == ':')).map_or(rest.len(), |e| i + e);
            out.push(rest[i..end].split("::").filter(|s| !s.is_empty()).map(String::from).collect());
            i = end;
        } else {
            i += c.len_utf8();
        }
    }
    out
}

/// What each file imports: the longest module path each of its crate paths starts with.
fn imports(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph = BTreeMap::new();
    for (module, source) in modules {
        let mut targets = BTreeSet::new();
        for path in crate_paths(&code_of(source)) {
            let mut full: Module = Vec::new();
            let mut rest = path.as_slice();
            if rest.first().map(String::as_str) == Some("crate") {
                rest = &rest[1..];
            } else {
                full = module.clone();
                while let Some(first) = rest.first() {
                    match first.as_str() {
                        "super" => {
                            full.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
            }
            full.extend(rest.iter().cloned());
            let found = (0..=full.len()).rev().map(|n| full[..n].to_vec()).find(|m| modules.contains_key(m));
            if let Some(target) = found
                && !target.is_empty()
                && &target != module
            {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// The circles of a graph (strongly connected parts of more than one node).
fn circles<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    // Tarjan's algorithm, iterative enough for a few hundred files.
    struct State<N> {
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on_stack: BTreeSet<N>,
        next: usize,
        found: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(node: &N, graph: &BTreeMap<N, BTreeSet<N>>, s: &mut State<N>) {
        s.index.insert(node.clone(), s.next);
        s.low.insert(node.clone(), s.next);
        s.next += 1;
        s.stack.push(node.clone());
        s.on_stack.insert(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if !s.index.contains_key(next) {
                visit(next, graph, s);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node.clone(), low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node.clone(), low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut part = Vec::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(&top);
                let done = &top == node;
                part.push(top);
                if done {
                    break;
                }
            }
            if part.len() > 1 {
                part.sort();
                s.found.push(part);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !s.index.contains_key(node) {
            visit(node, graph, &mut s);
        }
    }
    s.found
}

/// The floors of ARCHITECTURE.md: lines `floor N (name): a, b, c` in its floors block.
fn floors() -> BTreeMap<String, u32> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md at the workspace root");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("floor ") else { continue };
        let (head, modules) = rest.split_once(':').expect("floor N (name): modules");
        let number: u32 = head.split_whitespace().next().and_then(|n| n.parse().ok()).expect("floor number");
        for module in modules.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            assert!(out.insert(module.to_owned(), number).is_none(), "{module} is on two floors of ARCHITECTURE.md");
        }
    }
    assert!(!out.is_empty(), "ARCHITECTURE.md lists no floors");
    out
}

fn name(module: &Module) -> String {
    if module.is_empty() { "lib".into() } else { module.join("::") }
}

#[test]
fn no_file_imports_round_a_circle() {
    let graph = imports(&modules());
    let found: Vec<Vec<String>> = circles(&graph).iter().map(|c| c.iter().map(name).collect()).collect();
    assert!(found.is_empty(), "import circles between files: {found:#?}");
}

#[test]
fn every_module_imports_only_from_its_floor_or_below() {
    let graph = imports(&modules());
    let floors = floors();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unplaced = BTreeSet::new();
    let mut upward = Vec::new();
    for (from, targets) in &graph {
        let Some(from_top) = from.first() else { continue };
        top.entry(from_top.clone()).or_default();
        if !floors.contains_key(from_top) {
            unplaced.insert(from_top.clone());
        }
        for to in targets {
            let Some(to_top) = to.first() else { continue };
            if to_top == from_top {
                continue;
            }
            top.entry(from_top.clone()).or_default().insert(to_top.clone());
            if let (Some(a), Some(b)) = (floors.get(from_top), floors.get(to_top))
                && b > a
            {
                upward.push(format!("{} (floor {a}) imports {} (floor {b})", name(from), name(to)));
            }
        }
    }
    assert!(unplaced.is_empty(), "modules on no floor of ARCHITECTURE.md: {unplaced:?}");
    let stale: Vec<&String> = floors.keys().filter(|m| !top.contains_key(*m)).collect();
    assert!(stale.is_empty(), "ARCHITECTURE.md places modules that do not exist: {stale:?}");
    assert!(upward.is_empty(), "imports that go up a floor: {upward:#?}");
    let found = circles(&top);
    assert!(found.is_empty(), "circles between top-level modules: {found:?}");
}

#[test]
fn the_reader_finds_imports_in_every_form() {
    let code = code_of(
        "use crate::a::{b, c::{d, e as f}};\nuse super::g;\nfn x() { crate::h::i(); let s = \"crate::j\"; } // crate::k\n",
    );
    let paths: Vec<String> = crate_paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["crate::a::b", "crate::a::c::d", "crate::a::c::e", "super::g", "crate::h::i"]);
}
