//! Queue groups through the public API: one member per message, by strategy,
//! next to broadcast subscriptions that get everything.

use std::{collections::HashMap, time::Duration};

use agentix::{
    actix,
    actors::router::{
        Batch, DeliveryMode, EndReason, GroupStrategy, Publish, Retry, RouterConfig, RouterRef,
        SubscribeOptions, UndeliveredFilter, UndeliveredReason,
    },
    prelude::*,
};
use tokio::sync::mpsc;

/// Who got what: (member name, payload) per delivery.
type Log = mpsc::UnboundedSender<(&'static str, u64)>;

/// Reports each delivery; acknowledges unless told to hold on.
#[derive(Agent)]
struct Member {
    name: &'static str,
    log: Log,
    answer: Answer,
    held: Vec<Batch<u64>>,
}

/// How a member answers each batch.
#[derive(Clone, Copy)]
enum Answer {
    Ack,
    /// Keeps the batch, unanswered.
    Hold,
    Nack,
}

impl actix::Handler<Batch<u64>> for Member {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        for payload in batch.payloads() {
            let _ = self.log.send((self.name, *payload));
        }
        match self.answer {
            Answer::Ack => batch.ack(),
            Answer::Hold => self.held.push(batch),
            Answer::Nack => batch.nack(),
        }
    }
}

#[handlers]
impl Member {
    #[handle]
    fn quit(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.stop();
    }
}

async fn member(swarm: &Swarm, name: &'static str, log: &Log, answer: Answer) -> MemberRef {
    let log = log.clone();
    swarm
        .spawn(name, move || Member {
            name,
            log: log.clone(),
            answer,
            held: Vec::new(),
        })
        .await
        .unwrap()
}

async fn collect(
    rx: &mut mpsc::UnboundedReceiver<(&'static str, u64)>,
    n: usize,
) -> Vec<(&'static str, u64)> {
    let mut got = Vec::new();
    while got.len() < n {
        let entry = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} deliveries arrived", got.len()))
            .unwrap();
        got.push(entry);
    }
    got
}

fn group(strategy: GroupStrategy) -> SubscribeOptions {
    SubscribeOptions::default().group("workers", strategy)
}

/// Starts a router and `members` (name, how it answers) in the group
/// `workers` on `pattern`; returns the router and the delivery log.
async fn group_of(
    swarm: &Swarm,
    pattern: &str,
    members: &[(&'static str, Answer)],
    options: SubscribeOptions,
) -> (
    RouterRef<u64>,
    Log,
    mpsc::UnboundedReceiver<(&'static str, u64)>,
    Vec<MemberRef>,
) {
    let router = RouterRef::<u64>::start(swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let mut refs = Vec::new();
    for (name, answer) in members {
        let worker = member(swarm, name, &tx, *answer).await;
        router
            .subscribe_as(pattern, &worker, |b| b, options.clone())
            .await
            .unwrap();
        refs.push(worker);
    }
    (router, tx, rx, refs)
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

#[agentix::test]
async fn a_round_robin_group_shares_the_messages_while_broadcast_gets_them_all() {
    let swarm = swarm();
    let workers = [
        ("w1", Answer::Ack),
        ("w2", Answer::Ack),
        ("w3", Answer::Ack),
    ];
    let (router, tx, mut rx, _) =
        group_of(&swarm, "jobs.>", &workers, group(GroupStrategy::RoundRobin)).await;
    let audit = member(&swarm, "audit", &tx, Answer::Ack).await;
    router.subscribe("jobs.>", &audit).await.unwrap();
    for n in 0..300 {
        router.publish("jobs.new", n).unwrap();
    }
    let got = collect(&mut rx, 600).await;
    let mut per_member: HashMap<&str, Vec<u64>> = HashMap::new();
    for (name, payload) in got {
        per_member.entry(name).or_default().push(payload);
    }
    assert_eq!(per_member["audit"], (0..300).collect::<Vec<_>>());
    let mut shared: Vec<u64> = ["w1", "w2", "w3"]
        .iter()
        .flat_map(|name| {
            let mine = &per_member[name];
            assert_eq!(mine.len(), 100, "{name} got its third");
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "{name} in order");
            mine.clone()
        })
        .collect();
    shared.sort_unstable();
    assert_eq!(
        shared,
        (0..300).collect::<Vec<_>>(),
        "each job to exactly one worker"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_consistent_hash_group_sends_each_key_to_one_member() {
    let swarm = swarm();
    let workers = [
        ("w1", Answer::Ack),
        ("w2", Answer::Ack),
        ("w3", Answer::Ack),
    ];
    let (router, _tx, mut rx, _) = group_of(
        &swarm,
        "orders",
        &workers,
        group(GroupStrategy::ConsistentHash),
    )
    .await;
    for n in 0..200u64 {
        let publish =
            Publish::new("orders".try_into().unwrap(), n).key(format!("customer-{}", n % 10));
        router.send(publish).unwrap();
    }
    let got = collect(&mut rx, 200).await;
    let mut owner: HashMap<u64, &str> = HashMap::new();
    for (name, payload) in got {
        let first = *owner.entry(payload % 10).or_insert(name);
        assert_eq!(
            first,
            name,
            "customer-{} moved between members",
            payload % 10
        );
    }
    let members: std::collections::HashSet<_> = owner.values().collect();
    assert!(members.len() > 1, "keys spread over the members");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_least_busy_group_avoids_the_member_that_does_not_answer() {
    let swarm = swarm();
    let retry = Retry::default().ack_timeout(Duration::from_secs(60));
    let options = group(GroupStrategy::LeastBusy).delivery(DeliveryMode::AtLeastOnce(retry));
    let workers = [("stuck", Answer::Hold), ("quick", Answer::Ack)];
    let (router, _tx, mut rx, _) = group_of(&swarm, "jobs", &workers, options).await;
    // One at a time: each pick sees the answers collected so far.
    let mut stuck = 0;
    for n in 0..50 {
        router.publish("jobs", n).unwrap();
        let (name, payload) = collect(&mut rx, 1).await[0];
        assert_eq!(payload, n);
        if name == "stuck" {
            stuck += 1;
        }
    }
    assert!(stuck <= 3, "the silent member got {stuck} of 50");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_member_that_stopped_leaves_its_group_and_the_others_carry_on() {
    let swarm = swarm();
    let workers = [("gone", Answer::Ack), ("stays", Answer::Ack)];
    let (router, _tx, mut rx, members) =
        group_of(&swarm, "jobs", &workers, group(GroupStrategy::RoundRobin)).await;
    let gone = &members[0];
    gone.quit().await.unwrap();
    gone.stopped().await;
    for n in 0..10 {
        router.publish("jobs", n).unwrap();
    }
    // What was picked for the stopped member is kept as closed; once it is
    // out of the group, everything goes to the one left.
    let closed = UndeliveredFilter::all().reason(UndeliveredReason::Closed);
    let mut lost: Vec<u64> = Vec::new();
    let mut delivered: Vec<u64> = Vec::new();
    while lost.len() + delivered.len() < 10 {
        let letters = router.undelivered(closed.clone()).await.unwrap();
        lost = letters.iter().map(|l| *l.envelope.payload()).collect();
        if let Ok(Some((name, payload))) =
            tokio::time::timeout(Duration::from_millis(50), rx.recv()).await
        {
            assert_eq!(name, "stays");
            delivered.push(payload);
        }
    }
    let mut all: Vec<u64> = lost.iter().chain(&delivered).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..10).collect::<Vec<_>>(),
        "each delivered or kept, once"
    );
    assert!(!delivered.is_empty());
    // The member's subscription ended at the hand-over that found it gone;
    // what was picked for it is no later than that.
    let ended = router.ended().await.unwrap();
    let end = ended.iter().find(|e| e.subscriber.as_str() == "gone");
    let end = end.expect("the stopped member's subscription ended");
    assert_eq!(end.reason, EndReason::Stopped);
    let picked: Vec<u64> = (router.undelivered(closed).await.unwrap().iter())
        .map(|l| l.envelope.id())
        .collect();
    assert!(
        picked.iter().all(|id| *id <= end.routed_until),
        "{picked:?} {end:?}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_weighted_group_learns_to_avoid_the_member_that_fails() {
    let swarm = swarm();
    // No retries: a refused delivery is given up at once, and counted.
    let retry = Retry::default().retries(0);
    let options = group(GroupStrategy::Weighted).delivery(DeliveryMode::AtLeastOnce(retry));
    let workers = [("bad", Answer::Nack), ("good", Answer::Ack)];
    let (router, _tx, mut rx, _) = group_of(&swarm, "jobs", &workers, options).await;
    let mut bad = 0;
    for n in 0..200 {
        router.publish("jobs", n).unwrap();
        let (name, _) = collect(&mut rx, 1).await[0];
        if name == "bad" {
            bad += 1;
        }
    }
    assert!(bad < 40, "the failing member got {bad} of 200");
    assert!(bad > 0, "it still gets a chance to recover");
    swarm.shutdown().await.unwrap();
}
