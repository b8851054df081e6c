//! Start-up of a tree: dependency layers, independent children concurrently
//! across arbiters, a failed start aborting and cleaning up, a stuck arbiter
//! timing out, and malformed trees rejected before anything starts.

mod support;

use std::{
    sync::{Arc, Condvar, Mutex},
    time::Duration,
};

use agentix::{Event, SpawnError, TreeError, prelude::*};
use support::{
    is, next_event,
    worker::{Journal, worker},
};

fn swarm(arbiters: usize) -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(arbiters)).unwrap()
}

fn position(journal: &Journal, entry: &str) -> usize {
    let entries = journal.entries();
    entries
        .iter()
        .position(|e| e == entry)
        .unwrap_or_else(|| panic!("no `{entry}` in {entries:?}"))
}

#[agentix::test]
async fn children_start_in_dependency_layers() {
    let swarm = swarm(2);
    let journal = Journal::default();
    let root = swarm
        .supervisor("root")
        .child(ChildSpec::new("api", worker("api", &journal)).depends_on(["db", "cache"]))
        .child(ChildSpec::new("db", worker("db", &journal)))
        .child(ChildSpec::new("cache", worker("cache", &journal)).depends_on(["db"]))
        .child(ChildSpec::new("metrics", worker("metrics", &journal)))
        .start()
        .await
        .unwrap();
    let (db, metrics) = (
        position(&journal, "start db 0"),
        position(&journal, "start metrics 0"),
    );
    let (cache, api) = (
        position(&journal, "start cache 0"),
        position(&journal, "start api 0"),
    );
    assert!(db < cache && metrics < cache, "layer 0 before layer 1");
    assert!(cache < api, "layer 1 before layer 2");
    let layers: Vec<(String, usize)> = root
        .children()
        .into_iter()
        .map(|c| (c.id.to_string(), c.layer))
        .collect();
    let expected = [("db", 0), ("metrics", 0), ("cache", 1), ("api", 2)];
    assert_eq!(layers, expected.map(|(id, layer)| (id.to_owned(), layer)));
    swarm.shutdown().await.unwrap();
}

/// How many have arrived, and whether each one met the other.
type Meeting = Arc<(Mutex<(u32, Vec<bool>)>, Condvar)>;

/// Two of these meet in their `started` hooks: each blocks its arbiter
/// until the other has started too, or gives up after a while.
#[derive(Agent)]
#[agent(lifecycle)]
struct Rendezvous {
    meeting: Meeting,
}

impl Lifecycle for Rendezvous {
    fn started(&mut self, _: &mut AgentContext<Self>) {
        let (lock, arrived) = &*self.meeting;
        let mut state = lock.lock().unwrap();
        state.0 += 1;
        arrived.notify_all();
        let (mut state, _) = arrived
            .wait_timeout_while(state, Duration::from_secs(2), |s| s.0 < 2)
            .unwrap();
        let met = state.0 >= 2;
        state.1.push(met);
    }
}

#[agentix::test]
async fn independent_children_start_concurrently_across_arbiters() {
    let swarm = swarm(3);
    let meeting: Meeting = Arc::new((Mutex::new((0, Vec::new())), Condvar::new()));
    let meet = |arbiter: usize, id: &str| {
        let meeting = meeting.clone();
        ChildSpec::new(id, move || Rendezvous {
            meeting: meeting.clone(),
        })
        .on_arbiter(arbiter)
    };
    swarm
        .supervisor("root")
        .on_arbiter(2)
        .child(meet(0, "left"))
        .child(meet(1, "right"))
        .start()
        .await
        .unwrap();
    let met = meeting.0.lock().unwrap().1.clone();
    assert_eq!(
        met,
        [true, true],
        "each waited for the other: they started at the same time"
    );
    swarm.shutdown().await.unwrap();
}

#[derive(Agent, Default)]
#[agent(lifecycle)]
struct Broken;

impl Lifecycle for Broken {
    fn started(&mut self, _: &mut AgentContext<Self>) {
        panic!("cannot reach its database")
    }
}

#[agentix::test]
async fn a_child_that_fails_to_start_aborts_start_up_and_stops_the_ones_started() {
    let swarm = swarm(2);
    let journal = Journal::default();
    let mut events = swarm.events();
    let err = swarm
        .supervisor("root")
        .child(ChildSpec::new("first", worker("first", &journal)))
        .child(ChildSpec::new("broken", Broken::default).depends_on(["first"]))
        .child(ChildSpec::new("never", worker("never", &journal)).depends_on(["broken"]))
        .start()
        .await
        .unwrap_err();
    let SpawnError::Child {
        supervisor,
        child,
        cause,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((supervisor.as_str(), child.as_str()), ("root", "broken"));
    assert!(matches!(**cause, SpawnError::StartFailed { .. }), "{cause}");
    assert!(
        err.to_string().contains("cannot reach its database"),
        "{err}"
    );
    assert_eq!(
        journal.entries(),
        ["start first 0", "stop first"],
        "started then stopped; `never` never started"
    );
    next_event(&mut events, "the root's end", |e| {
        is(e, "root", |k| matches!(k, Event::Stopped { .. }))
    })
    .await;
    assert_eq!(swarm.agents(), 0);
    swarm.shutdown().await.unwrap();
}

/// Blocks its arbiter in `started` until the test opens the gate. It holds
/// its own address, so it would not end by itself once nobody else does.
#[derive(Agent)]
#[agent(lifecycle)]
struct Stuck {
    gate: Arc<Mutex<std::sync::mpsc::Receiver<()>>>,
    me: Option<agentix::actix::Addr<Self>>,
}

impl Lifecycle for Stuck {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        self.me = Some(ctx.address());
        let _ = self.gate.lock().unwrap().recv();
    }
}

#[agentix::test]
async fn a_child_whose_arbiter_is_stuck_times_out_and_is_stopped_when_it_comes_free() {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(2)
            .start_timeout(Duration::from_millis(100)),
    )
    .unwrap();
    let (open, gate) = std::sync::mpsc::channel();
    let gate = Arc::new(Mutex::new(gate));
    let mut events = swarm.events();
    let start = swarm
        .supervisor("root")
        .on_arbiter(0)
        .child(
            ChildSpec::new("stuck", move || Stuck {
                gate: gate.clone(),
                me: None,
            })
            .on_arbiter(1),
        )
        .start();
    let err = tokio::time::timeout(Duration::from_secs(30), start)
        .await
        .expect("start-up answers although the child's arbiter is stuck")
        .unwrap_err();
    let SpawnError::Child { child, cause, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(child.as_str(), "stuck");
    assert!(
        matches!(**cause, SpawnError::StartTimeout { .. }),
        "{cause}"
    );
    open.send(()).unwrap();
    next_event(&mut events, "the late child's stop", |e| {
        is(e, "stuck", |k| matches!(k, Event::Stopped { .. }))
    })
    .await;
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_failure_deep_in_a_tree_names_the_path_to_it() {
    let swarm = swarm(2);
    let team = SupervisorSpec::new("team").child(ChildSpec::new("broken", Broken::default));
    let err = swarm
        .supervisor("root")
        .supervisor(team)
        .start()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("supervisor `root` could not start child `team`"),
        "{text}"
    );
    assert!(
        text.contains("supervisor `team` could not start child `broken`"),
        "{text}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn unknown_dependencies_and_cycles_are_rejected_before_anything_starts() {
    let swarm = swarm(1);
    let journal = Journal::default();
    let err = swarm
        .supervisor("root")
        .child(ChildSpec::new("api", worker("api", &journal)).depends_on(["db"]))
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SpawnError::Tree(TreeError::UnknownDependency { dependency, .. }) if dependency == "db"),
        "{err}"
    );

    let cycle = SupervisorSpec::new("inner")
        .child(ChildSpec::new("a", worker("a", &journal)).depends_on(["b"]))
        .child(ChildSpec::new("b", worker("b", &journal)).depends_on(["a"]));
    let err = swarm
        .supervisor("root")
        .child(ChildSpec::new("fine", worker("fine", &journal)))
        .supervisor(cycle)
        .start()
        .await
        .unwrap_err();
    let SpawnError::Tree(TreeError::DependencyCycle { supervisor, cycle }) = &err else {
        panic!("{err}")
    };
    assert_eq!(supervisor.as_str(), "inner");
    assert_eq!(
        cycle.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        ["a", "b", "a"]
    );

    let err = swarm
        .supervisor("root")
        .child(ChildSpec::new("bad id", worker("x", &journal)))
        .start()
        .await;
    assert!(matches!(err, Err(SpawnError::Tree(TreeError::Name(_)))));
    assert!(journal.entries().is_empty(), "nothing was started");
    assert_eq!(swarm.agents(), 0);
    swarm.shutdown().await.unwrap();
}
