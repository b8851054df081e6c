//! The crash test's damaged files: copies of the store file, flipped or
//! cut, must open as typed errors naming the file, never a panic.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::Path,
};

use super::*;

/// Opens damaged copies of `source`; the problems found: panics, and
/// errors that do not name the file.
pub(crate) fn damaged_copies(dir: &Path, source: &Path, rng: &mut fastrand::Rng) -> Vec<String> {
    let bytes = std::fs::read(source).expect("the store file");
    let len = bytes.len();
    let flipped = |at: &[usize]| {
        let mut copy = bytes.clone();
        for &at in at {
            copy[at..(at + 64).min(len)]
                .iter_mut()
                .for_each(|b| *b ^= 0xA5);
        }
        copy
    };
    // Flips in the middle may land in free pages; flipping every copy of a
    // key's name surely hits the live documents.
    let names: Vec<usize> = (bytes.windows(7).enumerate())
        .filter_map(|(at, window)| (window == b"crash.k").then_some(at))
        .collect();
    let random = rng.usize(..len - 64);
    let variants = [
        (
            format!("64 bytes flipped at {}", len / 2),
            flipped(&[len / 2]),
        ),
        (format!("64 bytes flipped at {random}"), flipped(&[random])),
        (
            format!("{} key names flipped", names.len()),
            flipped(&names),
        ),
        (
            "both header commit slots flipped".into(),
            flipped(&[64, 192]),
        ),
        ("cut to half".into(), bytes[..len / 2].to_vec()),
        ("cut to 1000 bytes".into(), bytes[..1000].to_vec()),
    ];
    let source = source
        .file_name()
        .map(Path::new)
        .unwrap_or(source)
        .display();
    // redb panics on some damage and the store turns the panic into an
    // error; one line says so rather than a backtrace.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| println!("crash test: a panic: {info}")));
    let mut problems = Vec::new();
    for (i, (what, content)) in variants.into_iter().enumerate() {
        let what = format!("{source} ({len} bytes), {what}");
        let copy = dir.join(format!("damaged-{i}.redb"));
        std::fs::write(&copy, content).expect("a damaged copy");
        let name = copy.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let backend = catch_unwind(|| match RedbBackend::open(&copy) {
            Ok(_) => Ok(String::new()),
            Err(error) => Err(error.to_string()),
        });
        let store = catch_unwind(AssertUnwindSafe(|| {
            System::new().block_on(open_and_read(&copy))
        }));
        for (opener, outcome) in [("RedbBackend::open", backend), ("StoreRef::open", store)] {
            match outcome {
                Err(_) => problems.push(format!("{what}: {opener} panicked")),
                Ok(Ok(read)) => println!("crash test: {what}: {opener} opened it{read}"),
                Ok(Err(error)) if error.contains(name) => {
                    println!("crash test: {what}: {opener}: {error}");
                }
                Ok(Err(error)) => problems.push(format!(
                    "{what}: {opener}'s error does not name {name}: {error}"
                )),
            }
        }
    }
    std::panic::set_hook(hook);
    problems
}

/// Opens a damaged copy as a store and reads every key: how many read
/// back as written, or the error.
async fn open_and_read(copy: &Path) -> Result<String, String> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).map_err(|e| e.to_string())?;
    let outcome = match StoreRef::open(&swarm, StoreConfig::redb(copy)).await {
        Ok(store) => {
            let good = (0..KEYS).filter(|&key| {
                let doc = store.get::<Value>(&key_name(key));
                matches!(doc, Ok(Some(doc)) if doc.value == expected(key, doc.version))
            });
            Ok(format!(", {} of {KEYS} keys read as written", good.count()))
        }
        Err(error) => Err(error.to_string()),
    };
    let _ = swarm.shutdown().await;
    outcome
}
