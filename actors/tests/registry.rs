//! The registry as a user sees it: registration (single, batch,
//! duplicates), typed lookup, finds, each selection strategy, health and
//! limits, and leaving on a final stop but not on a restart.

use std::time::Duration;

use agentix::{
    actors::registry::{
        Health, LabelProblem, LookupError, Query, QueryError, RegisterError, Registration,
        RegistryRef, Selection,
    },
    prelude::*,
};

#[derive(Agent, Default)]
struct Worker;

#[handlers]
impl Worker {
    #[handle]
    fn crash(&mut self) {
        panic!("worker crashes on purpose");
    }

    #[handle]
    fn ping(&mut self) -> u32 {
        7
    }
}

#[derive(Agent, Default)]
struct Other;

async fn setup(names: &[&str]) -> (Swarm, RegistryRef, Vec<WorkerRef>) {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let registry = RegistryRef::start(&swarm).await.unwrap();
    let mut workers = Vec::new();
    for name in names {
        workers.push(swarm.spawn(name, Worker::default).await.unwrap());
    }
    (swarm, registry, workers)
}

/// Registers every worker, in one batch, with the capability `job`.
async fn register_for_jobs(registry: &RegistryRef, workers: &[WorkerRef]) {
    let batch = workers
        .iter()
        .map(|w| Registration::new(w).capability("job"))
        .collect();
    registry.register_batch(batch).await.unwrap();
}

/// Waits until `done` holds, checking every millisecond, failing after 5 s
/// with `what`.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut every = tokio::time::interval(Duration::from_millis(1));
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        every.tick().await;
    }
}

#[agentix::test]
async fn a_registered_agent_is_found_by_name_with_its_own_type_only() {
    let (swarm, registry, workers) = setup(&["w-1"]).await;
    registry
        .register(
            Registration::new(&workers[0])
                .capability("work")
                .meta("zone", "eu"),
        )
        .await
        .unwrap();
    let found = registry.lookup::<Worker>("w-1").unwrap();
    assert_eq!(found.ping().await.unwrap(), 7);
    assert_eq!(registry.entry("w-1").unwrap().meta("zone"), Some("eu"));
    match registry.lookup::<Other>("w-1") {
        Err(LookupError::WrongType { kind, .. }) => assert_eq!(kind, "worker"),
        other => panic!("expected a wrong-type error, got {other:?}"),
    }
    assert!(matches!(
        registry.lookup::<Worker>("nobody"),
        Err(LookupError::NotFound { .. })
    ));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_taken_name_is_refused_unless_replacement_is_asked_for() {
    let (swarm, registry, workers) = setup(&["w-1", "w-2"]).await;
    registry
        .register(Registration::new(&workers[0]).named("lead").capability("a"))
        .await
        .unwrap();
    let again = Registration::new(&workers[1]).named("lead").capability("b");
    match registry.register(again).await {
        Err(RegisterError::Duplicate { index: 0, name }) => assert_eq!(name.as_str(), "lead"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let replace = Registration::new(&workers[1])
        .named("lead")
        .capability("b")
        .replace();
    registry.register(replace).await.unwrap();
    let lead = registry.lookup::<Worker>("lead").unwrap();
    assert_eq!(lead.name().as_str(), "w-2");
    assert!(
        registry.find(&Query::capability("a")).unwrap().is_empty(),
        "the old one left its lists"
    );
    assert_eq!(registry.find(&Query::capability("b")).unwrap().len(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_batch_registers_all_or_none_and_names_the_one_refused() {
    let (swarm, registry, workers) = setup(&["w-1", "w-2", "w-3"]).await;
    let bad = vec![
        Registration::new(&workers[0]).capability("ok"),
        Registration::new(&workers[1]).capability("not ok"),
        Registration::new(&workers[2]).capability("ok"),
    ];
    match registry.register_batch(bad).await {
        Err(RegisterError::Label { index: 1, error }) => {
            assert_eq!(error.problem(), LabelProblem::BadChar { at: 3 });
        }
        other => panic!("expected a label error at #1, got {other:?}"),
    }
    assert!(
        registry.is_empty(),
        "nothing of a refused batch is registered"
    );
    let twice = vec![
        Registration::new(&workers[0]),
        Registration::new(&workers[1]).named("w-1"),
    ];
    assert!(matches!(
        registry.register_batch(twice).await,
        Err(RegisterError::Duplicate { index: 1, .. })
    ));
    let bad_name = vec![Registration::new(&workers[0]).named("has space")];
    assert!(matches!(
        registry.register_batch(bad_name).await,
        Err(RegisterError::Name { index: 0, .. })
    ));
    let good: Vec<_> = (workers.iter())
        .map(|w| Registration::new(w).capability("ok"))
        .collect();
    assert_eq!(registry.register_batch(good).await.unwrap(), 3);
    assert_eq!(registry.len(), 3);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn find_returns_the_agents_with_every_capability_and_tag_asked() {
    let (swarm, registry, workers) = setup(&["a", "b", "c"]).await;
    let batch = vec![
        Registration::new(&workers[0])
            .capabilities(["search", "summarize"])
            .tag("eu"),
        Registration::new(&workers[1])
            .capabilities(["search"])
            .tag("eu"),
        Registration::new(&workers[2])
            .capabilities(["search", "summarize"])
            .tag("us"),
    ];
    registry.register_batch(batch).await.unwrap();
    let names = |query: &Query| {
        let mut names: Vec<String> = (registry.find(query).unwrap().iter())
            .map(|e| e.name().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&Query::capability("search")), ["a", "b", "c"]);
    assert_eq!(
        names(&Query::capability("search").and_capability("summarize")),
        ["a", "c"]
    );
    assert_eq!(names(&Query::capability("summarize").tag("eu")), ["a"]);
    assert_eq!(names(&Query::with_tag("us")), ["c"]);
    assert!(names(&Query::capability("paint")).is_empty());
    assert!(matches!(
        registry.find(&Query::default()),
        Err(QueryError::Empty)
    ));
    assert!(matches!(
        registry.find(&Query::capability("")),
        Err(QueryError::Label(_))
    ));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn round_robin_takes_each_in_turn_and_random_reaches_all() {
    let (swarm, registry, workers) = setup(&["a", "b", "c"]).await;
    register_for_jobs(&registry, &workers).await;
    let query = Query::capability("job");
    let mut picked: Vec<String> = (0..6)
        .map(|_| {
            let job = registry
                .select(&query, Selection::RoundRobin)
                .unwrap()
                .unwrap();
            job.name().to_string()
        })
        .collect();
    assert_eq!(picked[..3], picked[3..], "the same turn twice");
    picked.truncate(3);
    picked.sort();
    assert_eq!(picked, ["a", "b", "c"]);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let job = registry.select(&query, Selection::Random).unwrap().unwrap();
        seen.insert(job.name().to_string());
    }
    assert_eq!(seen.len(), 3, "300 random picks reach all three");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn least_loaded_and_limits_follow_the_outstanding_selections() {
    let (swarm, registry, workers) = setup(&["a", "b"]).await;
    let batch = vec![
        Registration::new(&workers[0]).capability("job").limit(2),
        Registration::new(&workers[1]).capability("job").limit(1),
    ];
    registry.register_batch(batch).await.unwrap();
    let query = Query::capability("job");
    let pick = || registry.select(&query, Selection::LeastLoaded).unwrap();
    let first = pick().unwrap();
    let second = pick().unwrap();
    assert_ne!(first.name(), second.name(), "the idle one goes second");
    let third = pick().expect("a still has room");
    assert_eq!(third.name().as_str(), "a");
    assert!(pick().is_none(), "both at their limits");
    assert_eq!(registry.entry("a").unwrap().health(), Health::Busy);
    let b = if first.name().as_str() == "b" {
        first
    } else {
        second
    };
    b.finish(true);
    assert_eq!(
        pick().unwrap().name().as_str(),
        "b",
        "room again after finishing"
    );
    drop(third);
    assert_eq!(
        registry.entry("b").unwrap().load(),
        0,
        "a dropped selection is no load"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn best_score_avoids_an_agent_that_fails_and_unhealthy_ones_are_skipped() {
    let (swarm, registry, workers) = setup(&["good", "bad"]).await;
    register_for_jobs(&registry, &workers).await;
    let query = Query::capability("job");
    for _ in 0..5 {
        let bad = registry.entry("bad").unwrap();
        bad.record(false, Duration::from_millis(1));
    }
    let bad = registry.entry("bad").unwrap();
    assert!(bad.success_rate() < 0.5, "{}", bad.success_rate());
    assert!(bad.score() < registry.entry("good").unwrap().score());
    for _ in 0..10 {
        let job = registry
            .select(&query, Selection::BestScore)
            .unwrap()
            .unwrap();
        assert_eq!(job.name().as_str(), "good");
        job.finish(true);
    }
    registry.entry("good").unwrap().set_unhealthy(true);
    assert_eq!(registry.entry("good").unwrap().health(), Health::Unhealthy);
    for strategy in [
        Selection::RoundRobin,
        Selection::Random,
        Selection::LeastLoaded,
        Selection::BestScore,
    ] {
        let job = registry.select(&query, strategy).unwrap().unwrap();
        assert_eq!(
            job.name().as_str(),
            "bad",
            "{strategy:?} skips the unhealthy one"
        );
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_agent_leaves_when_it_stops_for_good_but_not_when_it_restarts() {
    let (swarm, registry, workers) = setup(&["stays", "goes"]).await;
    register_for_jobs(&registry, &workers).await;
    let _ = workers[0].crash().await;
    assert_eq!(workers[0].ping().await.unwrap(), 7, "restarted in place");
    workers[1].stop();
    workers[1].stopped().await;
    assert!(
        matches!(
            registry.lookup::<Worker>("goes"),
            Err(LookupError::NotFound { .. })
        ),
        "reads skip it at once"
    );
    eventually("the stopped agent leaves the registry", || {
        registry.len() == 1
    })
    .await;
    let found = registry.find(&Query::capability("job")).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name().as_str(), "stays");
    let stays = registry.lookup::<Worker>("stays").unwrap();
    assert_eq!(
        stays.ping().await.unwrap(),
        7,
        "the same address after the restart"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn sampled_strategies_over_many_candidates_still_respect_every_limit() {
    let names: Vec<String> = (0..40).map(|i| format!("w-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (swarm, registry, workers) = setup(&names).await;
    let batch = (workers.iter())
        .map(|w| Registration::new(w).capability("job").limit(1))
        .collect();
    registry.register_batch(batch).await.unwrap();
    let query = Query::capability("job");
    for strategy in [Selection::LeastLoaded, Selection::BestScore] {
        let held: Vec<_> = (0..40)
            .map(|_| {
                registry
                    .select(&query, strategy)
                    .unwrap()
                    .expect("room left")
            })
            .collect();
        let distinct: std::collections::BTreeSet<_> =
            held.iter().map(|job| job.name().to_string()).collect();
        assert_eq!(
            distinct.len(),
            40,
            "{strategy:?}: one job each, as the limits say"
        );
        assert!(registry.select(&query, strategy).unwrap().is_none());
        drop(held);
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn ties_between_idle_agents_are_spread_not_always_won_by_one() {
    let (swarm, registry, workers) = setup(&["a", "b", "c"]).await;
    register_for_jobs(&registry, &workers).await;
    let query = Query::capability("job");
    for strategy in [Selection::LeastLoaded, Selection::BestScore] {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..300 {
            // Finished at once: every pick is among three idle agents.
            let job = registry.select(&query, strategy).unwrap().unwrap();
            seen.insert(job.name().to_string());
            job.finish(true);
        }
        assert_eq!(seen.len(), 3, "{strategy:?} spreads ties");
    }
    swarm.shutdown().await.unwrap();
}
