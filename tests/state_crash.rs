//! Crash test of the state store on its redb file.
//!
//! The binary is its own writer: started with `--child <file>` it opens the
//! store and writes forever with compare-and-set from two tasks per key (so
//! shards commit groups of writes), printing `ack <key> <version> <grouped>`
//! for each acknowledged write. Started any other way it is the parent: each
//! round starts a child, kills it with SIGKILL after a random number of
//! acknowledgements (or while it opens the file), reopens the file and
//! checks that every acknowledged version is there and that every version
//! it can read, current or in history, is exactly what was written. Then it
//! damages copies of the file and checks that opening them is a typed error
//! naming the file, never a panic.
//!
//! Prints `crash test: N kills, M acknowledged writes lost` alone on a line
//! and fails when M > 0 or any other check fails. `AGENTIX_CRASH_SEED=n`
//! replays the same choices (where the kills land still depends on
//! scheduling); `AGENTIX_CRASH_ROUNDS=n` sets the number of kills.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader, Write as _},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc::{self, RecvTimeoutError},
    thread,
    time::{Duration, Instant},
};

#[path = "state_crash/damaged.rs"]
mod damaged;

use agentix::{
    actix::System,
    actors::state::{RedbBackend, StoreConfig, StoreError, StoreRef, Writer},
    prelude::*,
};

const KEYS: u32 = 8;
/// Writers racing on each key: compare-and-set refusals are exercised, and
/// a shard's mailbox holds several writes per drain.
const WRITERS_PER_KEY: u32 = 2;
const SHARDS: usize = 2;
const HISTORY: u64 = 10;
const WRITER: &str = "crash-writer";
const MAX_ACKS: usize = 300;
/// Far beyond what a round takes on a loaded 2-core machine: a child this
/// slow is hung.
const ROUND_TIMEOUT: Duration = Duration::from_secs(30);

/// What version `v` of key `k` holds: the key and version it belongs to,
/// and a payload whose length and bytes depend on both, so a value torn
/// between two writes, or moved to another key, does not compare equal.
type Value = (u32, u64, Vec<u64>);

fn expected(key: u32, version: u64) -> Value {
    let len = (version * 31 + u64::from(key) * 7) % 48 + 1;
    let seed = version.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(key) << 32);
    let payload = (0..len).map(|i| seed.rotate_left(i as u32) ^ i).collect();
    (key, version, payload)
}

fn key_name(key: u32) -> String {
    format!("crash.k{key}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let path = PathBuf::from(args.get(2).expect("--child <file>"));
        let Err(error) = System::new().block_on(child(path));
        eprintln!("crash child: {error}");
        std::process::exit(2);
    }
    std::process::exit(parent());
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent gone means the round is over: nothing left to tell.
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// Writes until killed; returns only on an error the store should not give.
async fn child(path: PathBuf) -> Result<std::convert::Infallible, String> {
    // A kill right after this line lands in the open, and in redb's repair
    // of the file the previous child left.
    say("opening");
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).map_err(|e| e.to_string())?;
    let config = StoreConfig::redb(path).shards(SHARDS);
    let store = StoreRef::open(&swarm, config)
        .await
        .map_err(|e| format!("open: {e}"))?
        .as_writer(Writer::label(WRITER));
    say("ready");
    let writers = (0..KEYS * WRITERS_PER_KEY).map(|i| Box::pin(write_forever(&store, i % KEYS)));
    Err(futures_util::future::select_all(writers).await.0)
}

async fn write_forever(store: &StoreRef, key: u32) -> String {
    let name = key_name(key);
    loop {
        let current = match store.get_version(&name) {
            Ok(current) => current,
            Err(error) => return format!("{name}: get_version: {error}"),
        };
        let next = expected(key, current + 1);
        match store.compare_and_set(&name, current, &next).await {
            Ok(version) if version == current + 1 => {
                // Commits of two writes or more so far: evidence that group
                // commits are what the kills interrupt.
                let grouped: u64 = store.stats().batch_sizes()[1..].iter().sum();
                say(&format!("ack {key} {version} {grouped}"));
            }
            Ok(version) => return format!("{name}: expected {current}, wrote {version}"),
            Err(StoreError::VersionMismatch { .. }) => {}
            Err(error) => return format!("{name}: compare_and_set on {current}: {error}"),
        }
    }
}

/// Kills the child however the parent leaves the round.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Which line of the child's the kill follows.
#[derive(Debug, Clone, Copy)]
enum Moment {
    WhileOpening,
    AfterAcks(usize),
}

#[derive(Default)]
struct Tally {
    /// Every acknowledged version per key, over all rounds.
    acked: BTreeMap<u32, BTreeSet<u64>>,
    /// Each key's version in the file after the last kill.
    stored: BTreeMap<u32, u64>,
    lost: BTreeSet<(u32, u64)>,
    problems: Vec<String>,
    grouped: u64,
}

impl Tally {
    fn problem(&mut self, problem: String) {
        self.problems.push(problem);
    }
}

fn setting(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

fn parent() -> i32 {
    let started = Instant::now();
    let seed = setting("AGENTIX_CRASH_SEED").unwrap_or_else(|| fastrand::u64(..));
    let rounds = setting("AGENTIX_CRASH_ROUNDS").unwrap_or(60);
    println!("crash test: seed {seed} (AGENTIX_CRASH_SEED={seed} replays), {rounds} rounds");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = std::env::temp_dir().join(format!("agentix-state-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("state.redb");
    let killed_copy = dir.join("killed.redb");
    let mut tally = Tally::default();
    let mut kills = 0;
    for round in 0..rounds {
        // The first kill may land while the file is being created.
        let moment = if round == 0 || rng.u32(0..8) == 0 {
            Moment::WhileOpening
        } else {
            Moment::AfterAcks(rng.usize(1..=MAX_ACKS))
        };
        match run_round(&file, moment, &mut tally) {
            Ok(()) => kills += 1,
            Err(problem) => tally.problem(format!("round {round} {moment:?}: {problem}")),
        }
        // As a kill left it, before a clean open and close: the damaged
        // copies below also go through redb's repair.
        if file.exists() {
            std::fs::copy(&file, &killed_copy).expect("a copy of the file");
        }
        match System::new().block_on(inspect(&file)) {
            Ok((stored, problems)) => {
                account(&mut tally, stored);
                let problems = problems.into_iter().map(|p| format!("round {round}: {p}"));
                tally.problems.extend(problems);
            }
            Err(problem) => tally.problem(format!("round {round}: reopening: {problem}")),
        }
        if !tally.problems.is_empty() {
            break;
        }
    }
    let acked: usize = tally.acked.values().map(BTreeSet::len).sum();
    println!(
        "crash test: {acked} acknowledged writes in {:.1?}; up to {} commits of 2+ writes in one child; file at {:?}",
        started.elapsed(),
        tally.grouped,
        tally.stored
    );
    if tally.grouped == 0 {
        tally.problem("no child reported a group commit".into());
    }
    for source in [&file, &killed_copy] {
        tally
            .problems
            .extend(damaged::damaged_copies(&dir, source, &mut rng));
    }
    for problem in &tally.problems {
        println!("crash test problem: {problem}");
    }
    let lost = tally.lost.len();
    println!("crash test: {kills} kills, {lost} acknowledged writes lost");
    if tally.problems.is_empty() && lost == 0 {
        let _ = std::fs::remove_dir_all(&dir);
        0
    } else {
        println!("crash test: the files are kept in {}", dir.display());
        1
    }
}

/// Starts a child, kills it at `moment`, and records what it acknowledged.
fn run_round(file: &Path, moment: Moment, tally: &mut Tally) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning the child: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let mut child = Killed(child);
    let (lines, heard) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        // A line cut short by the kill was never printed whole: it is not
        // an acknowledgement the child finished telling.
        while stdout.read_line(&mut line).is_ok_and(|n| n > 0) && line.ends_with('\n') {
            if lines.send(line.trim_end().to_owned()).is_err() {
                break;
            }
            line.clear();
        }
    });
    let mut deadline = Instant::now() + ROUND_TIMEOUT;
    let (mut acks, mut round_acks, mut killed) = (0, Vec::new(), false);
    let mut outcome = Ok(());
    loop {
        // After the kill, what the pipe still holds was printed before it;
        // the pipe closes when the child is gone.
        let line = match heard.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) if killed => break,
            Err(RecvTimeoutError::Disconnected) => {
                outcome = Err(format!("the child ended by itself after {acks} acks"));
                break;
            }
            Err(RecvTimeoutError::Timeout) => {
                outcome = Err(format!("{acks} acks in {ROUND_TIMEOUT:?}: the child hung"));
                break;
            }
        };
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["ack", key, version, grouped] => {
                let key = key.parse::<u32>().ok().filter(|key| *key < KEYS);
                let (Some(key), Ok(version), Ok(grouped)) = (key, version.parse(), grouped.parse())
                else {
                    outcome = Err(format!("unreadable line {line:?}"));
                    break;
                };
                round_acks.push((key, version));
                tally.grouped = tally.grouped.max(grouped);
                acks += 1;
            }
            ["opening" | "ready"] => {}
            _ => {
                outcome = Err(format!("unexpected line {line:?}"));
                break;
            }
        }
        let due = match moment {
            Moment::WhileOpening => line == "opening",
            Moment::AfterAcks(target) => acks >= target,
        };
        if due && !killed {
            child.0.kill().map_err(|e| format!("kill: {e}"))?;
            killed = true;
            deadline = Instant::now() + ROUND_TIMEOUT;
        }
    }
    drop(child);
    let _ = reader.join();
    for (key, version) in round_acks {
        let relost = tally.lost.contains(&(key, version));
        if !tally.acked.entry(key).or_default().insert(version) && !relost {
            outcome = Err(format!("key {key}: version {version} acknowledged twice"));
        }
    }
    outcome
}

/// Counts the acknowledged versions the file does not have, and keys
/// whose version went back.
fn account(tally: &mut Tally, stored: BTreeMap<u32, u64>) {
    for key in 0..KEYS {
        let now = stored.get(&key).copied().unwrap_or(0);
        let before = tally.stored.get(&key).copied().unwrap_or(0);
        if now < before {
            tally.problem(format!("key {key} went back from {before} to {now}"));
        }
        let acked = tally.acked.get(&key).into_iter().flatten();
        for &version in acked.filter(|&&version| version > now) {
            if tally.lost.insert((key, version)) {
                println!("crash test: lost key {key} version {version} (file at {now})");
            }
        }
    }
    tally.stored = stored;
}

type Inspection = (BTreeMap<u32, u64>, Vec<String>);

/// Reopens the file: each key's version, and what reads wrong.
async fn inspect(file: &Path) -> Result<Inspection, String> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).map_err(|e| e.to_string())?;
    let checked = match StoreRef::open(&swarm, StoreConfig::redb(file).shards(SHARDS)).await {
        Ok(store) => check(&store).await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    // Shutting down joins the arbiters, and with them the shards holding
    // the file open: the next child can open it.
    swarm.shutdown().await.map_err(|e| e.to_string())?;
    checked
}

async fn check(store: &StoreRef) -> Result<Inspection, StoreError> {
    let (mut stored, mut problems) = (BTreeMap::new(), Vec::new());
    for key in 0..KEYS {
        let name = key_name(key);
        let current = store.get_version(&name)?;
        stored.insert(key, current);
        if current == 0 {
            continue;
        }
        // What readers see, from the index built on open.
        let doc = store.get::<Value>(&name)?;
        let read = doc.as_ref().map(|doc| (&doc.value, doc.meta.writer.name()));
        if read != Some((&expected(key, current), WRITER)) {
            let read = read.map(|((k, v, payload), writer)| (k, v, payload.len(), writer));
            problems.push(format!("{name}: version {current} reads {read:?}"));
        }
        let history = store.history(&name).await?;
        let versions: Vec<u64> = history.iter().map(|v| v.version).collect();
        let want: Vec<u64> = (1..=current).rev().take(HISTORY as usize).collect();
        if versions != want {
            problems.push(format!("{name}: history {versions:?}, expected {want:?}"));
        }
        for version in &history {
            let value = version.decode::<Value>();
            if value.as_ref().ok().and_then(Option::as_ref) != Some(&expected(key, version.version))
            {
                let value = value.map(|v| v.map(|(k, v, payload)| (k, v, payload.len())));
                problems.push(format!(
                    "{name}: history version {} reads {value:?}",
                    version.version
                ));
            }
        }
    }
    for (key, _) in store.list_raw("").await? {
        if !(0..KEYS).any(|k| key.as_str() == key_name(k)) {
            problems.push(format!("a key nobody wrote: {key}"));
        }
    }
    Ok((stored, problems))
}
