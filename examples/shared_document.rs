//! Writer agents sharing one document through the state store, under each
//! conflict policy, with a crash, a watcher, a snapshot and a restore.
//!
//! Three editors (`alice`, `bob`, `carol`, under a supervisor) work on a
//! plan, one copy per policy prefix: `doc.lww` (last-writer-wins),
//! `doc.fww` (first-writer-wins), `doc.merge` (a merge function) and
//! `doc.manual` (held until resolved). Alice and Bob both read a copy, then
//! both write it back with a step of their own (named after its author and
//! the version read): Bob's write is based on a version that is gone, and
//! the policy decides. Carol takes a lock, makes an acknowledged edit and
//! panics before her next one; her supervisor restarts her, and her edit
//! and her lock are still there, until she is removed for good. A watcher
//! prints every change. A snapshot of `doc` goes to a file, more edits
//! follow, and the file is restored.
//!
//! The store is the redb file `$TMPDIR/agentix-shared-document/state.redb`:
//! a second run reopens it and carries on from the versions it holds.
//!
//! Run it with `cargo run --release --example shared_document`, then again
//! to see the reopen; `-- --fresh` deletes the directory first.

#[path = "shared_document/snapshots.rs"]
mod snapshots;

use std::{collections::HashMap, future::Future, path::Path, time::Duration};

use agentix::{
    actors::{
        handle_deliveries,
        router::Envelope,
        state::{
            Change, ChangeKind, ConflictPolicy, Encoded, LockMode, Resolution, Snapshot,
            StoreConfig, StoreError, StoreRef, Write, Writer,
        },
    },
    prelude::*,
    testkit::eventually,
};
use serde::{Deserialize, Serialize};

/// The policy prefixes, each with its own copy of the plan, and what the
/// policy makes of Bob's late write.
const POLICIES: [(&str, &str, &str); 4] = [
    ("doc.lww", "last-writer-wins", "bob's overwrites alice's"),
    ("doc.fww", "first-writer-wins", "bob's is refused"),
    ("doc.merge", "merge", "a function merges both"),
    ("doc.manual", "manual", "bob's is held for main"),
];

/// Longer than the example runs: Carol's lock must be seen to outlive her
/// restart, not to expire.
const LEASE: Duration = Duration::from_secs(60);

/// How long a probe waits before the example says what did not happen.
const PROBE: Duration = Duration::from_secs(5);

/// The shared document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Plan {
    steps: Vec<String>,
}

fn plan_key(prefix: &str) -> String {
    format!("{prefix}.plan")
}

/// The merge policy's function: the current plan plus the steps the
/// proposal added to the version it was based on, so neither edit is lost.
fn merge_plans(base: Option<&Plan>, current: &Plan, proposed: Plan) -> Plan {
    let mut merged = current.clone();
    for step in proposed.steps {
        // A step the base had and the current plan lacks was removed on
        // purpose: the proposal merely still carries it.
        let known = base.is_some_and(|base| base.steps.contains(&step));
        if !known && !merged.steps.contains(&step) {
            merged.steps.push(step);
        }
    }
    merged
}

/// The plan at `key` and its version (a deleted key's tombstone counts: a
/// write based on 0 would conflict with it).
fn read_plan(store: &StoreRef, key: &str) -> Result<(u64, Plan), StoreError> {
    Ok(match store.get::<Plan>(key)? {
        Some(doc) => (doc.version, doc.value),
        None => (store.get_version(key)?, Plan::default()),
    })
}

/// An editor: reads a plan into a draft, thinks, and writes the draft back
/// based on the version it read.
#[derive(Agent)]
#[agent(restart = "permanent")]
struct Editor {
    store: StoreRef,
    drafts: HashMap<String, (u64, Plan)>,
}

#[handlers]
impl Editor {
    /// Reads `key` into a draft; the version read.
    #[handle]
    fn read(&mut self, key: String) -> Result<u64, StoreError> {
        let (version, plan) = read_plan(&self.store, &key)?;
        self.drafts.insert(key, (version, plan));
        Ok(version)
    }

    /// Adds `step` to the draft of `key` and writes it, based on the
    /// version read; the version written.
    #[handle]
    fn commit(
        &mut self,
        key: String,
        step: String,
        ctx: &mut AgentContext<Self>,
    ) -> impl Future<Output = Result<u64, StoreError>> + 'static {
        let store = self.store.as_writer(Writer::agent(ctx.name()));
        let draft = self.drafts.remove(&key);
        let draft = draft.map_or_else(|| read_plan(&store, &key), Ok);
        async move {
            let (base, mut plan) = draft?;
            plan.steps.push(step);
            store.write(&key, Write::put(&plan)?.based_on(base)).await
        }
    }

    /// Locks `prefix`, adds a step to its plan under the lock's fencing
    /// token, and panics before the next edit.
    #[handle]
    fn edit_then_crash(
        &mut self,
        prefix: String,
        ctx: &mut AgentContext<Self>,
    ) -> impl Future<Output = Result<u64, StoreError>> + 'static {
        // As an agent, not a label: the store then releases its locks when
        // it stops for good, and only then.
        let store = self.store.as_writer(Writer::agent(ctx.name()));
        async move {
            let lock = store.lock(&prefix, LockMode::Exclusive, LEASE).await?;
            let key = plan_key(&prefix);
            let (base, mut plan) = read_plan(&store, &key)?;
            plan.steps.push("carol@locked".into());
            let write = Write::put(&plan)?.expect(base).fence(lock.token);
            let version = store.write(&key, write).await?;
            let token = lock.token;
            println!("carol: lock {token} on {prefix}; wrote {key} v{version}, acknowledged");
            panic!("carol crashed mid-edit, after writing v{version}");
        }
    }
}

/// Prints every change under `doc` and remembers the newest version of
/// each key, so that the narrative can wait for it to catch up.
#[derive(Agent, Default)]
struct Watcher {
    seen: HashMap<String, u64>,
}

impl Watcher {
    fn on_change(&mut self, change: &Envelope<Change>, _: &mut AgentContext<Self>) {
        let change = change.payload();
        let writer = &change.version.meta.writer;
        let what = match change.kind {
            ChangeKind::Written => format!("written by {writer}"),
            ChangeKind::Deleted => format!("deleted by {writer}"),
            // The version is the current one, unchanged: its writer is not
            // the one whose write was held.
            ChangeKind::ConflictOpened(id) => format!("conflict {id} opened"),
            ChangeKind::ConflictResolved(id) => format!("conflict {id} resolved by {writer}"),
            _ => format!("changed by {writer}"),
        };
        let key = change.key.as_str();
        println!("    watch | {key:<15} v{:<3} {what}", change.number());
        self.seen.insert(change.key.to_string(), change.number());
    }
}

handle_deliveries!(Watcher: Change => on_change);

#[handlers]
impl Watcher {
    /// The newest version of `key` it has been told of.
    #[handle]
    fn seen(&mut self, key: String) -> u64 {
        self.seen.get(&key).copied().unwrap_or(0)
    }
}

/// Waits until the watcher has been told of the current version of each
/// of `keys`, so that its lines come before the next part of the story.
async fn settle(store: &StoreRef, watcher: &WatcherRef, keys: &[String]) {
    for key in keys {
        let current = store.get_version(key).unwrap_or(0);
        let caught_up = async || matches!(watcher.seen(key.clone()).await, Ok(v) if v >= current);
        if !eventually(PROBE, caught_up).await {
            println!("!! the watcher was not told of {key} v{current} within {PROBE:?}");
        }
    }
}

/// One line for the plan at `key`: version, last writer, newest steps.
fn show(store: &StoreRef, key: &str) -> Result<(), StoreError> {
    if let Some(doc) = store.get::<Plan>(key)? {
        let (steps, writer) = (&doc.value.steps, &doc.meta.writer);
        let newest = &steps[steps.len().saturating_sub(4)..];
        let (version, count) = (doc.version, steps.len());
        println!("{key} v{version} by {writer}, steps ({count}, newest last): {newest:?}");
    }
    Ok(())
}

/// Alice and Bob read the plan under `prefix`, then both write it back.
async fn round(store: &StoreRef, editors: [&EditorRef; 2], prefix: &str) -> agentix::Result<()> {
    let [alice, bob] = editors;
    let key = plan_key(prefix);
    let read = alice.read(key.clone()).await?;
    bob.read(key.clone()).await?;
    let written = alice.commit(key.clone(), format!("alice@v{read}")).await?;
    println!("alice: based on v{read}, accepted as v{written}");
    let refused = match bob.commit(key.clone(), format!("bob@v{read}")).await {
        Ok(version) => {
            println!("bob:   based on v{read}, accepted as v{version}");
            return Ok(());
        }
        Err(AskError::Handler { error, .. }) => error,
        Err(other) => return Err(other.into()),
    };
    println!("bob:   based on v{read}: {refused}");
    if let StoreError::Stale { .. } = refused {
        let again = bob.read(key.clone()).await?;
        let version = bob.commit(key, format!("bob@v{again}")).await?;
        println!("bob:   read again (v{again}) and wrote v{version}");
        return Ok(());
    }
    let StoreError::Held { .. } = refused else {
        return Err(refused.into());
    };
    // Resolved as a person might: the current plan with the held steps.
    let main = store.as_writer(Writer::label("main"));
    for open in store.conflicts(prefix).await? {
        let key = open.key.as_str();
        let (_, mut plan) = read_plan(store, key)?;
        for held in &open.candidates {
            let proposed = held.value.as_ref().map(Encoded::decode::<Plan>);
            let (id, writer, based_on) = (open.id, &held.meta.writer, held.based_on);
            println!("main:  open conflict {id} on {key}: {writer}'s write, based on v{based_on}");
            if let Some(proposed) = proposed {
                plan = merge_plans(None, &plan, proposed?);
            }
        }
        let value = Resolution::Value(Encoded::new(&plan)?);
        let version = main.resolve(key, open.id, value).await?;
        println!("main:  resolved {} with both edits as v{version}", open.id);
    }
    Ok(())
}

/// Carol locks `doc.lww`, edits, crashes, is restarted, carries on, and
/// is removed for good.
async fn crash(
    store: &StoreRef,
    watcher: &WatcherRef,
    team: &SupervisorRef,
) -> agentix::Result<()> {
    println!("\n== carol locks doc.lww, edits its plan, and crashes before her next edit");
    let Some(carol) = team.child::<Editor>("carol") else {
        unreachable!("carol is one of the editors");
    };
    let key = plan_key("doc.lww");
    let restarts = carol.restarts();
    match carol.edit_then_crash("doc.lww".into()).await {
        Err(AskError::Panicked(failure)) => println!("carol's caller: {failure}"),
        other => println!("!! carol did not crash: {other:?}"),
    }
    let running = async || carol.restarts() > restarts && carol.status() == AgentStatus::Running;
    if !eventually(PROBE, running).await {
        println!("!! carol was not restarted within {PROBE:?}");
    }
    let restarts = carol.restarts();
    println!("carol: restarted by her supervisor (restarts: {restarts})");
    settle(store, watcher, std::slice::from_ref(&key)).await;
    show(store, &key)?;
    for lock in store.locks("").await? {
        let (token, key, holder, mode) = (lock.token, &lock.key, &lock.holder, lock.mode);
        println!("lock {token} on {key} ({mode:?}): still held by {holder}");
    }
    let main = store.as_writer(Writer::label("main"));
    match main.lock("doc.lww", LockMode::Exclusive, LEASE).await {
        Err(error @ StoreError::LockBusy { .. }) => println!("main:  cannot lock doc.lww: {error}"),
        other => println!("!! main's lock on doc.lww: {other:?}"),
    }
    // Her draft went with the crash; what she wrote is in the store.
    let read = carol.read(key.clone()).await?;
    let version = carol.commit(key.clone(), "carol@restarted".into()).await?;
    println!("carol: read v{read} again and carried on: v{version}");
    team.remove("carol").await;
    let released = async || store.locks("").await.is_ok_and(|locks| locks.is_empty());
    let verdict = match eventually(PROBE, released).await {
        true => "went with her",
        false => "!! is still held",
    };
    println!("carol: removed for good; her lock {verdict}");
    settle(store, watcher, &[key]).await;
    Ok(())
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    // Carol's panic is part of the story, told by her caller below; any
    // other panic is a bug and prints as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<String>();
        if !text.is_some_and(|text| text.starts_with("carol crashed")) {
            default_hook(info);
        }
    }));
    let dir = std::env::temp_dir().join("agentix-shared-document");
    if std::env::args().any(|arg| arg == "--fresh") && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|error| agentix::Error::Actor(error.into()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|error| agentix::Error::Actor(error.into()))?;
    let file = dir.join("state.redb");
    let existed = file.exists();

    let swarm = Swarm::start(SwarmConfig::default())?;
    let config = StoreConfig::redb(&file)
        .shards(2)
        .history(20)
        .policy("doc.lww", ConflictPolicy::LastWriterWins)
        .policy("doc.fww", ConflictPolicy::FirstWriterWins)
        .policy("doc.merge", ConflictPolicy::merge(merge_plans))
        .policy("doc.manual", ConflictPolicy::Manual);
    let store = StoreRef::open(&swarm, config).await?;
    let opened = if existed { "reopened" } else { "created" };
    println!("== {opened} {}", file.display());
    for (key, version) in store.list_raw("doc").await? {
        let (number, writer) = (version.version, &version.meta.writer);
        println!("reopened: {key} at version {number} (last by {writer})");
    }

    let watcher = swarm.spawn("watcher", Watcher::default).await?;
    store.watch("doc", &watcher).await?;
    let editor = |store: &StoreRef| {
        let store = store.clone();
        move || Editor {
            store: store.clone(),
            drafts: HashMap::new(),
        }
    };
    let editors = swarm
        .supervisor("editors")
        .strategy(Strategy::OneForOne)
        .intensity(Intensity::new(3, Duration::from_secs(10)))
        .child(ChildSpec::new("alice", editor(&store)))
        .child(ChildSpec::new("bob", editor(&store)))
        .child(ChildSpec::new("carol", editor(&store)))
        .start()
        .await?;
    let [alice, bob] = ["alice", "bob"].map(|id| editors.child::<Editor>(id));
    let (Some(alice), Some(bob)) = (alice, bob) else {
        unreachable!("the supervisor started the three editors");
    };

    for (prefix, policy, outcome) in POLICIES {
        println!("\n== {policy}: alice and bob read {prefix}.plan, both write; {outcome}");
        round(&store, [&alice, &bob], prefix).await?;
        settle(&store, &watcher, &[plan_key(prefix)]).await;
        show(&store, &plan_key(prefix))?;
    }

    crash(&store, &watcher, &editors).await?;
    snapshots::snapshots(&store, &watcher, &dir).await?;

    swarm.shutdown().await?;
    println!("\n== shut down; run it again to reopen {}", file.display());
    Ok(())
}
