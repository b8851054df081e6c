//! The monitor against a known workload: exact counts, the Prometheus text
//! parsed back, the JSON snapshot, and handlers subscribed to event types.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use agentix::{
    actix,
    actors::{
        monitor::{EventType, MonitorConfig, MonitorEvent, MonitorRef, Snapshot},
        registry::{Registration, RegistryConfig, RegistryRef},
        router::{Batch, RouterConfig, RouterRef},
    },
    prelude::*,
};

#[derive(Agent, Default)]
struct Worker;

#[handlers]
impl Worker {
    #[handle]
    fn work(&mut self) {}

    #[handle]
    fn crash(&mut self) {
        panic!("the worker crashes on purpose");
    }

    #[handle]
    fn block(&mut self, until: mpsc::Receiver<()>) {
        let _ = until.recv();
    }

    /// Holds the mailbox without blocking the thread: async handlers are
    /// serial.
    #[handle]
    fn hold(
        &mut self,
        until: tokio::sync::oneshot::Receiver<()>,
    ) -> impl std::future::Future<Output = ()> + 'static {
        async move {
            let _ = until.await;
        }
    }
}

/// Asks for snapshots until `done` holds (events reach the monitor on
/// their own stream), failing after 5 s with the last one.
async fn snapshot_when(monitor: &MonitorRef, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut every = tokio::time::interval(Duration::from_millis(2));
    loop {
        let snapshot = monitor.snapshot().await.unwrap();
        if done(&snapshot) {
            return snapshot;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reached: {snapshot:#?}"
        );
        every.tick().await;
    }
}

/// The workload: three workers handle 10, 20 and 30 messages; the first
/// crashes twice (restarted in place), the third is stopped for good.
async fn workload(swarm: &Swarm) -> Vec<WorkerRef> {
    let mut workers = Vec::new();
    for (i, count) in [10, 20, 30].into_iter().enumerate() {
        let worker = swarm
            .spawn(&format!("w-{i}"), Worker::default)
            .await
            .unwrap();
        for _ in 0..count {
            worker.work().await.unwrap();
        }
        workers.push(worker);
    }
    for _ in 0..2 {
        let _ = workers[0].crash().await;
    }
    workers[0].work().await.unwrap();
    workers[2].stop();
    workers[2].stopped().await;
    workers
}

/// `name{labels}` with the labels sorted, so lookups need not know the
/// encoder's order.
fn canonical(series: &str) -> String {
    let Some((name, labels)) = series.split_once('{') else {
        return series.to_owned();
    };
    let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
    labels.sort_unstable();
    format!("{name}{{{}}}", labels.join(","))
}

/// `name{labels} value` lines of a Prometheus text, by `name{labels}`.
fn parse(text: &str) -> HashMap<String, f64> {
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );
    let mut samples = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample is `series value`");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("a number in `{line}`"));
        samples.insert(canonical(series), value);
    }
    samples
}

#[agentix::test]
async fn the_monitor_counts_a_known_workload_exactly() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    let restarts = Arc::new(Mutex::new(Vec::new()));
    let seen = restarts.clone();
    let on_restart = move |event: &MonitorEvent| {
        if let MonitorEvent::Lifecycle(event) = event {
            seen.lock().unwrap().push(event.agent().to_string());
        }
    };
    monitor.on(EventType::Restarted, on_restart).await.unwrap();
    // Kept: an unsupervised agent nobody can address stops by itself.
    let _workers = workload(&swarm).await;
    let snapshot = snapshot_when(&monitor, |s| {
        s.kinds
            .iter()
            .any(|k| k.kind == "worker" && k.stopped == 1 && k.restarted == 2)
    })
    .await;
    let workers = snapshot.kinds.iter().find(|k| k.kind == "worker").unwrap();
    assert_eq!(
        workers.handled,
        10 + 20 + 30 + 2 + 1,
        "the crashing ones count too"
    );
    assert_eq!(workers.started, 3 + 2);
    assert_eq!(workers.failed, 2);
    assert_eq!(workers.restarted, 2);
    assert_eq!(workers.stopped, 1);
    assert_eq!(workers.agents.get("running"), Some(&2));
    assert_eq!(
        *restarts.lock().unwrap(),
        ["w-0", "w-0"],
        "the handler saw each restart"
    );

    let samples = parse(&monitor.prometheus().await.unwrap());
    let at = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no `{series}` in {samples:#?}"))
    };
    assert_eq!(at(r#"agentix_messages_handled_total{kind="worker"}"#), 63.0);
    assert_eq!(at(r#"agentix_agent_restarts_total{kind="worker"}"#), 2.0);
    assert_eq!(at(r#"agentix_agent_failures_total{kind="worker"}"#), 2.0);
    assert_eq!(at(r#"agentix_agent_stops_total{kind="worker"}"#), 1.0);
    assert_eq!(at(r#"agentix_agents{kind="worker",status="running"}"#), 2.0);
    assert_eq!(at("agentix_monitor_events_missed_total"), 0.0);
    assert!(samples.contains_key(r#"agentix_handling_seconds_bucket{kind="worker",le="+Inf"}"#));

    let json = serde_json::to_value(&snapshot).unwrap();
    let kinds = json["kinds"].as_array().unwrap();
    let worker = kinds.iter().find(|k| k["kind"] == "worker").unwrap();
    assert_eq!(worker["handled"], 63);
    assert_eq!(worker["agents"]["running"], 2);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn handling_times_are_sampled_one_in_sixty_four() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    let worker = swarm.spawn("busy", Worker::default).await.unwrap();
    for _ in 0..640 {
        worker.work().await.unwrap();
    }
    let snapshot = monitor.snapshot().await.unwrap();
    let workers = snapshot.kinds.iter().find(|k| k.kind == "worker").unwrap();
    assert_eq!(workers.handling.count, 10);
    assert!(workers.handling.p50_us.is_some());
    let samples = parse(&monitor.prometheus().await.unwrap());
    assert_eq!(
        samples[r#"agentix_handling_seconds_count{kind="worker"}"#],
        10.0
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn mailbox_gauges_follow_a_held_agent_and_drain_to_zero() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    let held = swarm.spawn("held", Worker::default).await.unwrap();
    let idle = swarm.spawn("idle", Worker::default).await.unwrap();
    let (resume, until) = tokio::sync::oneshot::channel();
    held.tell(Hold { until }).unwrap();
    for _ in 0..5 {
        held.tell(Work).unwrap();
    }
    idle.work().await.unwrap();
    let worker = |s: &Snapshot| s.kinds.iter().find(|k| k.kind == "worker").cloned();
    // The hold itself is taken out as soon as the agent gets to it.
    let snapshot = snapshot_when(&monitor, |s| worker(s).is_some_and(|k| k.queued == 5)).await;
    assert_eq!(worker(&snapshot).unwrap().max_queued, 5);
    assert_eq!(held.queued(), 5);
    assert_eq!(idle.queued(), 0);
    let samples = parse(&monitor.prometheus().await.unwrap());
    assert_eq!(
        samples[r#"agentix_mailbox_queued_messages{kind="worker"}"#],
        5.0
    );
    assert_eq!(
        samples[r#"agentix_mailbox_queued_max_messages{kind="worker"}"#],
        5.0
    );
    resume.send(()).unwrap();
    held.work().await.unwrap();
    let snapshot = snapshot_when(&monitor, |s| worker(s).is_some_and(|k| k.queued == 0)).await;
    assert_eq!(worker(&snapshot).unwrap().handled, 1 + 5 + 1 + 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_watched_registry_reports_an_unhealthy_agent_to_handlers_and_gauges() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let config = RegistryConfig::default()
        .heartbeat(Duration::from_millis(20))
        .on_arbiter(0);
    let registry = RegistryRef::start_with(&swarm, config).await.unwrap();
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    monitor.watch_registry(&registry).await.unwrap();
    let (tx, unhealthy) = mpsc::channel();
    let tx = Mutex::new(tx);
    let on_unhealthy = move |event: &MonitorEvent| {
        if let MonitorEvent::Health(event) = event {
            let _ = tx.lock().unwrap().send(event.agent.to_string());
        }
    };
    monitor
        .on(EventType::Unhealthy, on_unhealthy)
        .await
        .unwrap();
    let stuck = swarm.agent(Worker::default).name("stuck").on_arbiter(1);
    let stuck = stuck.spawn().await.unwrap();
    registry
        .register(Registration::new(&stuck).capability("job"))
        .await
        .unwrap();
    let (go_on, until) = mpsc::channel();
    stuck.tell(Block { until }).unwrap();
    let name = tokio::task::spawn_blocking(move || unhealthy.recv_timeout(Duration::from_secs(5)));
    assert_eq!(name.await.unwrap().expect("the handler is called"), "stuck");
    let snapshot = snapshot_when(&monitor, |s| s.registries[0].unhealthy_events == 1).await;
    assert_eq!(snapshot.registries[0].health.get("unhealthy"), Some(&1));
    go_on.send(()).unwrap();
    swarm.shutdown().await.unwrap();
}

/// A subscriber reporting how many deliveries it handled.
#[derive(Agent)]
struct Reader {
    seen: tokio::sync::mpsc::UnboundedSender<usize>,
}

impl actix::Handler<Batch<u64>> for Reader {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let _ = self.seen.send(batch.len());
    }
}

#[agentix::test]
async fn a_watched_router_s_traffic_is_counted_exactly() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    monitor.watch_router(&router).await.unwrap();
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    for name in ["reader-a", "reader-b"] {
        let tx = tx.clone();
        let reader = swarm
            .spawn(name, move || Reader { seen: tx.clone() })
            .await
            .unwrap();
        router.subscribe("prices.>", &reader).await.unwrap();
    }
    // Ids 1 to 512: the 256th and the 512th are timed, at both readers
    // (each in its own batch: a batch times one delivery at most).
    for n in 0..512 {
        router.publish("prices.eu", n).unwrap();
    }
    for n in 0..3 {
        router.publish("nobody.home", n).unwrap();
    }
    let mut delivered = 0;
    while delivered < 1024 {
        let wait = tokio::time::timeout(Duration::from_secs(5), seen.recv());
        delivered += wait.await.expect("deliveries within 5 s").unwrap();
    }
    // The shards post what they gave up at the end of each drain: ask for
    // the counts through the router once, which waits for the posts.
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(
        counts[&agentix::actors::router::UndeliveredReason::NoSubscriber],
        3
    );
    // A batch records its timed deliveries as it is dropped, just after
    // its handler reported it.
    let snapshot = snapshot_when(&monitor, |s| {
        s.routers[0].topics.iter().any(|t| t.latency.count == 4)
    })
    .await;
    let traffic = &snapshot.routers[0];
    assert_eq!(traffic.name, router.agent().name().as_str());
    assert_eq!(
        (traffic.published, traffic.delivered, traffic.queued),
        (515, 1024, 0)
    );
    assert_eq!(traffic.topics.len(), 1);
    assert_eq!(traffic.topics[0].topic, "prices.eu");
    assert_eq!(traffic.undelivered.get("no_subscriber"), Some(&3));
    let samples = parse(&monitor.prometheus().await.unwrap());
    let name = router.agent().name().to_string();
    let at = |series: String| samples[&series];
    assert_eq!(
        at(format!(
            r#"agentix_router_published_total{{router="{name}"}}"#
        )),
        515.0
    );
    assert_eq!(
        at(format!(
            r#"agentix_router_delivered_total{{router="{name}"}}"#
        )),
        1024.0
    );
    let topic = format!(r#"router="{name}",topic="prices.eu""#);
    assert_eq!(
        at(format!(
            "agentix_router_publish_to_handle_seconds_count{{{topic}}}"
        )),
        4.0
    );
    assert_eq!(
        at(format!(
            r#"agentix_router_undelivered_total{{reason="no_subscriber",router="{name}"}}"#
        )),
        3.0
    );
    assert_eq!(
        at(format!(r#"agentix_router_queued{{router="{name}"}}"#)),
        0.0
    );
    swarm.shutdown().await.unwrap();
}
