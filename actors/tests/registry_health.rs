//! Health: an agent stuck in a handler, or silent when it reports its own
//! heartbeats, is marked unhealthy with an event, skipped by selection, and
//! recovers at the next sign of life.

use std::{sync::mpsc, time::Duration};

use agentix::{
    actors::registry::{
        Health, HealthEvent, HealthEvents, Query, Registration, RegistryConfig, RegistryRef,
        Selection,
    },
    prelude::*,
};

#[derive(Agent, Default)]
struct Worker;

#[handlers]
impl Worker {
    /// Blocks its arbiter's thread until told to go on: a stuck handler.
    #[handle]
    fn block(&mut self, until: mpsc::Receiver<()>) {
        let _ = until.recv();
    }
}

async fn next(events: &mut HealthEvents) -> HealthEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("a health change within 5 s")
        .expect("the registry runs")
}

async fn setup(heartbeat_ms: u64) -> (Swarm, RegistryRef) {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let config = RegistryConfig::default()
        .heartbeat(Duration::from_millis(heartbeat_ms))
        .on_arbiter(0);
    let registry = RegistryRef::start_with(&swarm, config).await.unwrap();
    (swarm, registry)
}

#[agentix::test]
async fn an_agent_stuck_in_a_handler_is_marked_unhealthy_skipped_and_recovers() {
    let (swarm, registry) = setup(20).await;
    let stuck = swarm.agent(Worker::default).name("stuck").on_arbiter(1);
    let stuck = stuck.spawn().await.unwrap();
    let idle = swarm.agent(Worker::default).name("idle").on_arbiter(0);
    let idle = idle.spawn().await.unwrap();
    let batch = vec![
        Registration::new(&stuck).capability("job"),
        Registration::new(&idle).capability("job"),
    ];
    registry.register_batch(batch).await.unwrap();
    let mut events = registry.health_events();
    let (go_on, until) = mpsc::channel();
    stuck.tell(Block { until }).unwrap();
    let event = next(&mut events).await;
    assert_eq!(event.agent.as_str(), "stuck", "only the stuck one changes");
    assert_eq!(event.health, Health::Unhealthy);
    assert_eq!(registry.entry("stuck").unwrap().health(), Health::Unhealthy);
    assert_eq!(registry.entry("idle").unwrap().health(), Health::Idle);
    for _ in 0..10 {
        let job = registry.select(&Query::capability("job"), Selection::RoundRobin);
        assert_eq!(job.unwrap().unwrap().name().as_str(), "idle");
    }
    go_on.send(()).unwrap();
    let event = next(&mut events).await;
    assert_eq!(event.agent.as_str(), "stuck");
    assert_ne!(event.health, Health::Unhealthy, "recovered");
    assert!(registry.entry("stuck").unwrap().health() != Health::Unhealthy);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_agent_that_reports_heartbeats_is_unhealthy_when_silent_and_recovers_on_a_beat() {
    // Long enough that the selection after recovering comes before the
    // next two silent intervals, even on a loaded machine.
    let (swarm, registry) = setup(200).await;
    let worker = swarm.spawn("beater", Worker::default).await.unwrap();
    let mut events = registry.health_events();
    let registration = Registration::new(&worker)
        .capability("job")
        .reports_heartbeat();
    registry.register(registration).await.unwrap();
    let event = next(&mut events).await;
    assert_eq!(event.health, Health::Unhealthy, "no beat for two intervals");
    let query = Query::capability("job");
    assert!(
        registry
            .select(&query, Selection::LeastLoaded)
            .unwrap()
            .is_none()
    );
    assert!(registry.heartbeat("beater"));
    let event = next(&mut events).await;
    assert_eq!(event.health, Health::Idle);
    assert!(
        registry
            .select(&query, Selection::LeastLoaded)
            .unwrap()
            .is_some()
    );
    assert!(!registry.heartbeat("nobody"));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_heartbeat_of_any_length_up_to_duration_max_is_taken_and_the_registry_runs() {
    for every in [Duration::ZERO, Duration::from_secs(u64::MAX), Duration::MAX] {
        let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
        let config = RegistryConfig::default().heartbeat(every);
        let registry = RegistryRef::start_with(&swarm, config).await.unwrap();
        let worker = swarm.spawn("worker", Worker::default).await.unwrap();
        registry
            .register(Registration::new(&worker).capability("job"))
            .await
            .unwrap();
        assert!(registry.lookup::<Worker>("worker").is_ok(), "{every:?}");
        assert_eq!(
            registry.agent().restarts(),
            0,
            "{every:?}: the registry did not fail"
        );
        swarm.shutdown().await.unwrap();
    }
}
