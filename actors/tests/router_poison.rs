//! Per-delivery acknowledgements under at-least-once: a subscriber that
//! handles each delivery with `Batch::handle_each` (or acknowledges a prefix
//! with `Batch::ack_first`) loses only the poison message to
//! `RetriesExhausted`, not the good messages batched with it.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use agentix::actors::{
    handle_deliveries,
    router::{
        Batch, DeliveryMode, Envelope, Retry, RouterConfig, RouterRef, SubscribeOptions,
        UndeliveredFilter, UndeliveredReason,
    },
};
use agentix::prelude::*;
use parking_lot::Mutex;
use tokio::sync::oneshot;

/// Handles each delivery on its own; panics on every `POISON`.
#[derive(Agent)]
struct Careful {
    handled: Handled,
    /// The longest batch the poison came in: the test is only worth
    /// something if good messages travelled with it.
    poisoned_batch: Arc<AtomicUsize>,
}

const POISON: u64 = 37;

#[handlers]
impl Careful {
    #[handle]
    fn take(&mut self, batch: Batch<u64>) {
        if batch.payloads().any(|&n| n == POISON) {
            self.poisoned_batch.fetch_max(batch.len(), Ordering::SeqCst);
        }
        batch.handle_each(|delivery| {
            let n = *delivery.payload();
            assert_ne!(n, POISON, "poison");
            *self.handled.lock().entry(n).or_default() += 1;
        });
    }
}

fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let poison = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|text| text.contains("poison"));
        if !poison {
            default(info);
        }
    }));
}

type Handled = Arc<Mutex<BTreeMap<u64, u32>>>;

fn at_least_once() -> SubscribeOptions {
    let retry = Retry::default()
        .retries(2)
        .backoff(Duration::from_millis(1), Duration::from_millis(2));
    SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry))
}

/// Spawns a subscriber that restarts after each panic, with shared probes.
async fn spawn_subscriber<A: Agent>(
    swarm: &Swarm,
    make: impl Fn(Handled, Arc<AtomicUsize>) -> A + Send + Sync + 'static,
) -> (A::Ref, Handled, Arc<AtomicUsize>) {
    let handled = Handled::default();
    let poisoned_batch = Arc::new(AtomicUsize::new(0));
    let (seen, longest) = (handled.clone(), poisoned_batch.clone());
    let agent = swarm
        .agent(move || make(seen.clone(), longest.clone()))
        .restart(Restart::Permanent)
        .intensity(Intensity::new(1000, Duration::from_secs(60)))
        .spawn()
        .await
        .unwrap();
    (agent, handled, poisoned_batch)
}

/// Holds its arbiter's thread until released: the router and the
/// subscriber beside it take nothing meanwhile.
#[derive(Agent, Default)]
struct Hog;

#[handlers]
impl Hog {
    #[handle]
    fn hold(&mut self, entered: oneshot::Sender<()>, until: std::sync::mpsc::Receiver<()>) {
        let _ = entered.send(());
        let _ = until.recv();
    }
}

/// Publishes 0..200 and checks that only the poison was given up and every
/// other message was handled exactly once.
async fn only_the_poison_is_given_up(
    swarm: &Swarm,
    router: &RouterRef<u64>,
    handled: &Handled,
    poisoned_batch: Option<&AtomicUsize>,
) {
    // Published while the one arbiter is held, so they travel in batches.
    let hog = swarm.spawn("hog", Hog::default).await.unwrap();
    let (entered, holding) = oneshot::channel();
    let (release, until) = std::sync::mpsc::channel();
    hog.tell(Hold { entered, until }).unwrap();
    holding.await.unwrap();
    for n in 0..200 {
        router.publish("work", n).unwrap();
    }
    release.send(()).unwrap();
    let exhausted = UndeliveredFilter::all().reason(UndeliveredReason::RetriesExhausted);
    let done = agentix::testkit::eventually(Duration::from_secs(10), async || {
        handled.lock().len() == 199
            && !router
                .undelivered(exhausted.clone())
                .await
                .unwrap()
                .is_empty()
    })
    .await;
    let handled = handled.lock().clone();
    assert!(done, "handled {} of 199", handled.len());
    let given_up: Vec<u64> = router
        .undelivered(exhausted)
        .await
        .unwrap()
        .iter()
        .map(|letter| *letter.envelope.payload())
        .collect();
    assert_eq!(given_up, [POISON], "only the poison message is given up");
    assert!(!handled.contains_key(&POISON));
    if let Some(longest) = poisoned_batch {
        assert!(
            longest.load(Ordering::SeqCst) > 1,
            "the poison travelled alone"
        );
    }
    assert!(
        handled.values().all(|&times| times == 1),
        "each good message handled once: {handled:?}"
    );
}

#[agentix::test]
async fn one_poison_message_is_the_only_one_given_up_when_deliveries_are_acknowledged_one_by_one() {
    quiet_panics();
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (careful, handled, poisoned_batch) =
        spawn_subscriber(&swarm, |handled, poisoned_batch| Careful {
            handled,
            poisoned_batch,
        })
        .await;
    router
        .subscribe_as("work", &careful, |batch| Take { batch }, at_least_once())
        .await
        .unwrap();
    only_the_poison_is_given_up(&swarm, &router, &handled, Some(&poisoned_batch)).await;
    swarm.shutdown().await.unwrap();
}

/// The same subscriber through `handle_deliveries!`.
#[derive(Agent)]
struct PerDelivery {
    handled: Handled,
}

impl PerDelivery {
    fn on_work(&mut self, delivery: &Envelope<u64>, _: &mut AgentContext<Self>) {
        let n = *delivery.payload();
        assert_ne!(n, POISON, "poison");
        *self.handled.lock().entry(n).or_default() += 1;
    }
}

handle_deliveries!(PerDelivery: u64 => on_work);

#[agentix::test]
async fn handle_deliveries_acknowledges_each_delivery_so_only_the_poison_is_given_up() {
    quiet_panics();
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (follower, handled, _) =
        spawn_subscriber(&swarm, |handled, _| PerDelivery { handled }).await;
    router
        .subscribe_as("work", &follower, |batch| batch, at_least_once())
        .await
        .unwrap();
    only_the_poison_is_given_up(&swarm, &router, &handled, None).await;
    swarm.shutdown().await.unwrap();
}

/// Acknowledges the first two deliveries of each batch, then refuses it.
#[derive(Agent)]
struct Partial {
    handled: Arc<Mutex<Vec<(u64, u32)>>>,
}

#[handlers]
impl Partial {
    #[handle]
    fn take_part(&mut self, batch: Batch<u64>) {
        for delivery in batch.iter().take(2) {
            self.handled
                .lock()
                .push((*delivery.payload(), delivery.attempt()));
        }
        batch.ack_first(2);
        batch.nack();
    }
}

#[agentix::test]
async fn deliveries_acknowledged_with_ack_first_are_not_sent_again_and_the_untried_keep_their_attempt()
 {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let handled = Arc::new(Mutex::new(Vec::new()));
    let seen = handled.clone();
    let partial = swarm
        .spawn("partial", move || Partial {
            handled: seen.clone(),
        })
        .await
        .unwrap();
    let retry = Retry::default()
        .retries(5)
        .backoff(Duration::from_millis(1), Duration::from_millis(1));
    let options = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry));
    // Subscribed while the router is held back by nothing: publish a burst
    // the subscriber receives as one batch (its mailbox takes the first).
    router
        .subscribe_as("work", &partial, |batch| TakePart { batch }, options)
        .await
        .unwrap();
    for n in 0..6 {
        router.publish("work", n).unwrap();
    }
    let all = agentix::testkit::eventually(Duration::from_secs(10), async || {
        let mut ids: Vec<u64> = handled.lock().iter().map(|(n, _)| *n).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len() == 6
    })
    .await;
    let handled = handled.lock().clone();
    assert!(all, "{handled:?}");
    let mut ids: Vec<u64> = handled.iter().map(|(n, _)| *n).collect();
    ids.sort_unstable();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5], "none handled twice: {handled:?}");
    // The third of each batch was refused once (it counts), those behind
    // it were never tried (they do not).
    assert!(
        handled.iter().all(|&(_, attempt)| attempt <= 2),
        "{handled:?}"
    );
    assert!(
        router
            .undelivered(UndeliveredFilter::all())
            .await
            .unwrap()
            .is_empty()
    );
    swarm.shutdown().await.unwrap();
}
