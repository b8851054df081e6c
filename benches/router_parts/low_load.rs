//! The low-load half of the router bench: publish-to-handle latency at
//! 1000 messages per second to 100 subscribers, through the router and on
//! raw actix: fed from the caller's thread, from an arbiter, and all on
//! one arbiter. A directory module, so that cargo does not take it for a
//! bench of its own.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use agentix::{
    actix::{self, Actor, Addr, Arbiter},
    actors::router::{Batch, Publish, RouterConfig, RouterRef, Topic},
    prelude::*,
};

const LOW_LOAD_SUBSCRIBERS: usize = 100;
const LOW_LOAD_MESSAGES: usize = 1000;

/// A subscriber measuring publish-to-handle latency of each delivery.
#[derive(Agent)]
struct Clock {
    samples: Arc<parking_lot::Mutex<Vec<u64>>>,
}

impl actix::Handler<Batch<Instant>> for Clock {
    type Result = ();

    fn handle(&mut self, batch: Batch<Instant>, _: &mut AgentContext<Self>) {
        let mut samples = self.samples.lock();
        for sent in batch.payloads() {
            samples.push(sent.elapsed().as_nanos() as u64);
        }
    }
}

/// The raw actix subscriber for the low-load baseline.
struct RawClock {
    samples: Arc<parking_lot::Mutex<Vec<u64>>>,
}

impl Actor for RawClock {
    type Context = actix::Context<Self>;
}

struct Stamp(Instant);

impl actix::Message for Stamp {
    type Result = ();
}

impl actix::Handler<Stamp> for RawClock {
    type Result = ();

    fn handle(&mut self, Stamp(sent): Stamp, _: &mut Self::Context) {
        self.samples.lock().push(sent.elapsed().as_nanos() as u64);
    }
}

/// The same load sent with `do_send` to raw actix actors on the same kind
/// of threads: the floor this machine's thread wake-ups set.
pub(crate) async fn low_load_raw(arbiters: &[Arbiter]) -> Vec<u64> {
    let samples = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let clocks: Vec<_> = (0..LOW_LOAD_SUBSCRIBERS)
        .map(|i| {
            let samples = samples.clone();
            RawClock::start_in_arbiter(&arbiters[i % arbiters.len()].handle(), move |_| RawClock {
                samples,
            })
        })
        .collect();
    let mut every = tokio::time::interval(Duration::from_millis(1));
    for _ in 0..LOW_LOAD_MESSAGES {
        every.tick().await;
        let now = Instant::now();
        for clock in &clocks {
            clock.do_send(Stamp(now));
        }
    }
    let expected = LOW_LOAD_MESSAGES * LOW_LOAD_SUBSCRIBERS;
    let deadline = Instant::now() + Duration::from_secs(10);
    while samples.lock().len() < expected && Instant::now() < deadline {
        every.tick().await;
    }
    std::mem::take(&mut *samples.lock())
}

/// The raw actix feed for the same-arbiter baseline: every millisecond,
/// one stamp to each clock, from the clocks' own arbiter.
struct RawFeed {
    clocks: Vec<Addr<RawClock>>,
    left: usize,
}

impl Actor for RawFeed {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        use actix::AsyncContext;
        ctx.run_interval(Duration::from_millis(1), |feed, ctx| {
            if feed.left == 0 {
                actix::ActorContext::stop(ctx);
                return;
            }
            feed.left -= 1;
            let now = Instant::now();
            for clock in &feed.clocks {
                clock.do_send(Stamp(now));
            }
        });
    }
}

/// The low load on raw actix fed by an actor on `feed_on`, to clocks
/// spread round-robin over `clocks_on`: the floor for the router fed from
/// an arbiter (the same hops: none to the clocks on the feed's arbiter, one
/// to the others).
pub(crate) async fn low_load_raw_fed(feed_on: &Arbiter, clocks_on: &[Arbiter]) -> Vec<u64> {
    let samples = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let clocks: Vec<_> = (0..LOW_LOAD_SUBSCRIBERS)
        .map(|i| {
            let samples = samples.clone();
            let arbiter = &clocks_on[i % clocks_on.len()];
            RawClock::start_in_arbiter(&arbiter.handle(), move |_| RawClock { samples })
        })
        .collect();
    RawFeed::start_in_arbiter(&feed_on.handle(), move |_| RawFeed {
        clocks,
        left: LOW_LOAD_MESSAGES,
    });
    let expected = LOW_LOAD_MESSAGES * LOW_LOAD_SUBSCRIBERS;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut every = tokio::time::interval(Duration::from_millis(1));
    while samples.lock().len() < expected && Instant::now() < deadline {
        every.tick().await;
    }
    std::mem::take(&mut *samples.lock())
}

/// Publishes the low-load feed from inside an arbiter, through the one
/// reference it is given: shared, not cloned, since a clone of a sharded
/// router's reference may publish through another shard.
#[derive(Agent)]
#[agent(ask_timeout_ms = 600_000)]
struct Feed {
    router: Arc<RouterRef<Instant>>,
}

#[handlers]
impl Feed {
    #[handle]
    fn run(&mut self) -> impl std::future::Future<Output = ()> + 'static {
        let router = self.router.clone();
        async move {
            let topic = Topic::new("quotes.eu").expect("a valid topic");
            let mut every = tokio::time::interval(Duration::from_millis(1));
            for _ in 0..LOW_LOAD_MESSAGES {
                every.tick().await;
                let publish = Publish::new(topic.clone(), Instant::now());
                router.send(publish).expect("room at low load");
            }
        }
    }
}

/// Where the low-load feed, the router and the subscribers run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The feed on the caller's thread, a one-shard router (on arbiter 0),
    /// the subscribers placed round-robin by the swarm.
    FromCaller,
    /// The feed on arbiter 0, a router with a shard on each arbiter (shard
    /// n on arbiter n), the subscribers spread over the arbiters; the feed
    /// publishes through `shard`: 0 is on its own arbiter, 1 on the other.
    FromArbiter { shard: usize },
    /// The feed, a one-shard router and the subscribers on arbiter 0.
    OneArbiter,
}

/// 1000 messages at 1 per ms to 100 subscribers, placed by `placement`.
pub(crate) async fn low_load(swarm: &Swarm, placement: Placement) -> agentix::Result<Vec<u64>> {
    let (router, tag) = match placement {
        // A router's first shard lives on arbiter 0.
        Placement::FromCaller => (RouterRef::start(swarm, RouterConfig::default()).await?, 0),
        Placement::OneArbiter => (RouterRef::start(swarm, RouterConfig::default()).await?, 1),
        Placement::FromArbiter { shard } => {
            let shards = swarm.arbiters();
            let router = RouterRef::start_sharded(swarm, RouterConfig::default(), shards).await?;
            (router, 2 + shard)
        }
    };
    let samples = Arc::new(parking_lot::Mutex::new(Vec::new()));
    for i in 0..LOW_LOAD_SUBSCRIBERS {
        let samples = samples.clone();
        let mut clock = swarm
            .agent(move || Clock {
                samples: samples.clone(),
            })
            .name(format!("clock-{tag}-{i}"));
        match placement {
            Placement::FromCaller => {}
            Placement::FromArbiter { .. } => clock = clock.on_arbiter(i % swarm.arbiters()),
            Placement::OneArbiter => clock = clock.on_arbiter(0),
        }
        let clock = clock.spawn().await?;
        router.subscribe("quotes.>", &clock).await?;
    }
    let mut every = tokio::time::interval(Duration::from_millis(1));
    let feed_through = match placement {
        Placement::FromCaller => None,
        Placement::OneArbiter => Some(router.clone()),
        Placement::FromArbiter { shard } => {
            // Clones made off the arbiters take the shards in turn.
            let mut through = router.clone();
            for _ in 0..swarm.arbiters() {
                if through.shard() == shard {
                    break;
                }
                through = through.clone();
            }
            assert_eq!(through.shard(), shard, "a reference through that shard");
            Some(through)
        }
    };
    match feed_through {
        Some(router) => {
            let router = Arc::new(router);
            let feed = swarm.agent(move || Feed {
                router: router.clone(),
            });
            feed.on_arbiter(0).spawn().await?.run().await?;
        }
        None => {
            let topic = Topic::new("quotes.eu").expect("a valid topic");
            for _ in 0..LOW_LOAD_MESSAGES {
                every.tick().await;
                router.send(Publish::new(topic.clone(), Instant::now()))?;
            }
        }
    }
    let expected = LOW_LOAD_MESSAGES * LOW_LOAD_SUBSCRIBERS;
    let deadline = Instant::now() + Duration::from_secs(10);
    while samples.lock().len() < expected && Instant::now() < deadline {
        every.tick().await;
    }
    let samples = std::mem::take(&mut *samples.lock());
    Ok(samples)
}
