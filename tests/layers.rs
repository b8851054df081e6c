//! The runtime's modules import one way: a read of `runtime/src` (the
//! module-dependency view docs/architecture.md describes) must find no
//! cycle between top-level modules, and no module importing a layer above
//! its own.
//!
//! A module is a top-level file or folder of `runtime/src` (`agent/` is
//! one module: the parts of one agent refer to each other). An import is a
//! `crate::` path outside comments and unit tests; a name re-exported at
//! the crate root counts as its defining module.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Top to bottom; a module not named here is in the bottom layer.
const LAYERS: &[&[&str]] = &[&["testkit", "supervision", "error"], &["swarm"], &["agent"]];

fn runtime_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a readable source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comment lines and without its unit tests.
fn code(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &source[..at],
        None => source,
    };
    (source.lines())
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a use tree (`a::{b, c::{d as e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        return vec![path.trim().to_owned()];
    };
    let prefix = tree[..open].trim_end_matches(':');
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut items, mut current, mut depth) = (Vec::new(), String::new(), 0);
    for ch in inner.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    items.push(current);
    (items.iter())
        .filter(|item| !item.trim().is_empty())
        .flat_map(|item| expand(item))
        .map(|path| match prefix {
            "" => path,
            prefix => format!("{prefix}::{path}"),
        })
        .collect()
}

/// The paths after `crate::` in `code`: in `use crate::…;` trees and inline.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let is_use = rest[..at].trim_end().ends_with("use");
        if is_use {
            let end = after.find(';').unwrap_or(after.len());
            paths.extend(expand(&after[..end]));
            rest = &after[end..];
        } else {
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(after.len());
            paths.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    paths
}

/// Names re-exported at the crate root, with the module defining them.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let mut rest = lib;
    while let Some(at) = rest.find("pub use ") {
        let after = &rest[at + "pub use ".len()..];
        let end = after.find(';').unwrap_or(after.len());
        for path in expand(&after[..end]) {
            let segments: Vec<_> = path.split("::").filter(|s| !s.is_empty()).collect();
            if let [module, .., name] = segments[..]
                && module != "crate"
                && module != "agentix_rules"
            {
                names.insert(name.to_owned(), module.to_owned());
            }
        }
        rest = &after[end..];
    }
    names
}

fn module_of(file: &Path, src: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under runtime/src");
    let first = relative.components().next().expect("a path");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_owned()
}

/// Every import between two top-level modules: (from, to) with the file
/// and path that make it.
fn imports() -> BTreeMap<(String, String), (String, String)> {
    let src = runtime_src();
    let lib = fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let names = reexports(&code(&lib));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = BTreeMap::new();
    for file in files {
        let from = module_of(&file, &src);
        if from == "lib" || file.file_name().is_some_and(|name| name == "tests.rs") {
            continue;
        }
        let source = fs::read_to_string(&file).expect("a source file");
        for path in crate_paths(&code(&source)) {
            let first = path.split("::").next().unwrap_or_default();
            let to = if src.join(format!("{first}.rs")).exists() || src.join(first).is_dir() {
                first.to_owned()
            } else if let Some(module) = names.get(first) {
                module.clone()
            } else {
                continue;
            };
            if to != from {
                let shown = file
                    .strip_prefix(&src)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                edges.entry((from.clone(), to)).or_insert((shown, path));
            }
        }
    }
    edges
}

fn layer(module: &str) -> usize {
    (LAYERS.iter())
        .position(|layer| layer.contains(&module))
        .unwrap_or(LAYERS.len())
}

#[test]
fn no_runtime_module_imports_a_layer_above_its_own() {
    let edges = imports();
    assert!(
        edges.len() > 20,
        "the read found too few imports: {edges:?}"
    );
    let upward: Vec<_> = (edges.iter())
        .filter(|((from, to), _)| layer(to) < layer(from))
        .map(|((from, to), (file, path))| format!("{from} -> {to} ({file}: crate::{path})"))
        .collect();
    assert!(upward.is_empty(), "imports against the layers: {upward:#?}");
}

#[test]
fn the_runtime_module_graph_has_no_cycle() {
    let edges = imports();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().insert(to);
    }
    // A cycle exists if some module reaches itself.
    for &start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
        while let Some((at, trail)) = stack.pop() {
            for &next in graph.get(at).into_iter().flatten() {
                assert!(
                    next != start,
                    "an import cycle: {} -> {start}",
                    trail.join(" -> ")
                );
                if seen.insert(next) {
                    let mut longer = trail.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
}

#[test]
fn the_read_sees_an_import_it_must_see() {
    // Guards the reader itself: a path inside a use tree, through a
    // crate-root re-export, and an inline path are all found.
    let paths = crate_paths(
        "use crate::{Agent, agent::{shared::X, fault}};\nlet x = crate::deadline::now();",
    );
    assert_eq!(
        paths,
        ["Agent", "agent::shared::X", "agent::fault", "deadline::now"]
    );
    let edges = imports();
    assert!(edges.contains_key(&("supervision".to_owned(), "agent".to_owned())));
    assert!(edges.contains_key(&("swarm".to_owned(), "agent".to_owned())));
}
