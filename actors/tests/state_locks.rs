//! Locks with leases and fencing tokens: exclusion, shared holders,
//! prefixes, renewal, a stale holder fenced off, extreme leases, and an
//! agent's locks released when it stops for good but kept across a restart.

use std::time::Duration;

use agentix::{
    actors::state::{LockMode, StoreConfig, StoreError, StoreRef, Write, WriteOutcome, Writer},
    prelude::*,
    testkit::eventually,
};

async fn open() -> (Swarm, StoreRef) {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let store = StoreRef::open(&swarm, StoreConfig::memory()).await.unwrap();
    (swarm, store)
}

const LONG: Duration = Duration::from_secs(60);

#[agentix::test]
async fn an_exclusive_lock_excludes_other_holders_on_the_key_and_around_it() {
    let (swarm, store) = open().await;
    let alice = store.as_writer(Writer::label("alice"));
    let bob = store.as_writer(Writer::label("bob"));
    let lock = alice
        .lock("docs.plan", LockMode::Exclusive, LONG)
        .await
        .unwrap();
    for key in ["docs.plan", "docs", "docs.plan.section"] {
        let busy = bob.lock(key, LockMode::Shared, LONG).await.unwrap_err();
        let StoreError::LockBusy { holders } = busy else {
            panic!("{busy:?}")
        };
        assert_eq!(holders, [Writer::label("alice")], "{key}");
    }
    bob.lock("docs.other", LockMode::Exclusive, LONG)
        .await
        .unwrap();
    // The holder itself may lock again.
    alice
        .lock("docs.plan.section", LockMode::Exclusive, LONG)
        .await
        .unwrap();
    assert!(alice.unlock(&lock).await.unwrap());
    assert!(!alice.unlock(&lock).await.unwrap(), "released already");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn shared_locks_go_together_and_keep_out_an_exclusive_one() {
    let (swarm, store) = open().await;
    let readers: Vec<_> = ["r1", "r2"]
        .iter()
        .map(|name| store.as_writer(Writer::label(*name)))
        .collect();
    for reader in &readers {
        reader.lock("table", LockMode::Shared, LONG).await.unwrap();
    }
    let writer = store.as_writer(Writer::label("w"));
    let busy = writer
        .lock("table.row", LockMode::Exclusive, LONG)
        .await
        .unwrap_err();
    let StoreError::LockBusy { holders } = busy else {
        panic!()
    };
    assert_eq!(holders.len(), 2);
    assert_eq!(store.locks("table").await.unwrap().len(), 2);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn tokens_grow_with_every_grant() {
    let (swarm, store) = open().await;
    let mut last = 0;
    for n in 0..5 {
        let holder = store.as_writer(Writer::label(format!("h{n}")));
        let lock = holder
            .lock(&format!("k{n}"), LockMode::Exclusive, LONG)
            .await
            .unwrap();
        assert!(lock.token > last);
        last = lock.token;
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_holder_whose_lease_passed_is_fenced_off() {
    let (swarm, store) = open().await;
    let slow = store.as_writer(Writer::label("slow"));
    let fast = store.as_writer(Writer::label("fast"));
    let old = slow
        .lock("job", LockMode::Exclusive, Duration::from_millis(50))
        .await
        .unwrap();
    slow.write("job", Write::put(&1u64).unwrap().fence(old.token))
        .await
        .unwrap();
    // Once the slow holder's lease passes, the lock goes to another.
    let mut granted = None;
    let got = eventually(Duration::from_secs(5), async || {
        granted = fast.lock("job", LockMode::Exclusive, LONG).await.ok();
        granted.is_some()
    })
    .await;
    assert!(got, "the lease never passed");
    let new = granted.unwrap();
    assert!(new.token > old.token);
    let fenced = slow
        .write("job", Write::put(&2u64).unwrap().fence(old.token))
        .await
        .unwrap_err();
    assert!(
        matches!(fenced, StoreError::Fenced { token, newest } if token == old.token && newest == new.token),
        "{fenced:?}"
    );
    fast.write("job", Write::put(&4u64).unwrap().fence(new.token))
        .await
        .unwrap();
    assert_eq!(store.get::<u64>("job").unwrap().unwrap().value, 4);
    assert_eq!(store.stats().writes(WriteOutcome::Fenced), 1);
    assert!(matches!(
        slow.renew(&old, LONG).await,
        Err(StoreError::LockNotHeld { .. })
    ));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_prefix_grant_fences_writes_below_it() {
    let (swarm, store) = open().await;
    let a = store.as_writer(Writer::label("a"));
    let b = store.as_writer(Writer::label("b"));
    let key_lock = a
        .lock("p.q", LockMode::Exclusive, Duration::from_millis(30))
        .await
        .unwrap();
    let mut granted = None;
    assert!(
        eventually(Duration::from_secs(5), async || {
            granted = b.lock("p", LockMode::Exclusive, LONG).await.ok();
            granted.is_some()
        })
        .await
    );
    let refused = a
        .write("p.q", Write::put(&1u64).unwrap().fence(key_lock.token))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Fenced { .. })),
        "{refused:?}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn renewal_keeps_a_lock_and_extreme_leases_are_typed_or_saturate() {
    let (swarm, store) = open().await;
    let zero = store.lock("z", LockMode::Exclusive, Duration::ZERO).await;
    assert!(matches!(zero, Err(StoreError::ZeroDuration)));
    let forever = store
        .lock("f", LockMode::Exclusive, Duration::MAX)
        .await
        .unwrap();
    assert!(forever.expires > std::time::Instant::now() + Duration::from_secs(86_400));
    let renewed = store.renew(&forever, Duration::MAX).await.unwrap();
    assert_eq!(renewed.token, forever.token);
    let short = store
        .lock("s", LockMode::Exclusive, Duration::from_nanos(1))
        .await
        .unwrap();
    assert!(matches!(
        store.renew(&short, Duration::ZERO).await,
        Err(StoreError::ZeroDuration)
    ));
    swarm.shutdown().await.unwrap();
}

#[derive(Agent, Default)]
struct Holder;

#[handlers]
impl Holder {
    #[handle]
    fn crash(&mut self) {
        panic!("the holder crashes on purpose");
    }

    #[handle]
    fn ping(&mut self) -> u8 {
        1
    }
}

#[agentix::test]
async fn an_agents_locks_survive_its_restart_and_go_when_it_stops_for_good() {
    let (swarm, store) = open().await;
    let holder = swarm.spawn("holder", Holder::default).await.unwrap();
    let as_holder = store.as_writer(Writer::agent(holder.name()));
    as_holder
        .lock("owned", LockMode::Exclusive, LONG)
        .await
        .unwrap();
    assert!(holder.crash().await.is_err());
    assert!(eventually(Duration::from_secs(5), async || holder.ping().await.is_ok()).await);
    assert_eq!(holder.restarts(), 1);
    let held = store.locks("").await.unwrap();
    assert_eq!(held.len(), 1, "a restart keeps the lock");
    holder.stop();
    holder.stopped().await;
    let released = eventually(Duration::from_secs(5), async || {
        store.locks("").await.unwrap().is_empty()
    })
    .await;
    assert!(released, "the lock outlived its holder");
    store
        .lock("owned", LockMode::Exclusive, LONG)
        .await
        .unwrap();
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn locks_of_agents_stopped_in_a_burst_are_released_even_past_the_event_buffer() {
    // An event buffer of 8 and 60 stops at once: the store falls behind
    // the events and must ask the swarm who still runs.
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2).event_buffer(8)).unwrap();
    let store = StoreRef::open(&swarm, StoreConfig::memory()).await.unwrap();
    let mut holders = Vec::new();
    for n in 0..60 {
        let holder = swarm
            .spawn(&format!("holder-{n}"), Holder::default)
            .await
            .unwrap();
        let as_holder = store.as_writer(Writer::agent(holder.name()));
        as_holder
            .lock(&format!("k{n}"), LockMode::Exclusive, LONG)
            .await
            .unwrap();
        holders.push(holder);
    }
    let survivor = swarm.spawn("survivor", Holder::default).await.unwrap();
    let as_survivor = store.as_writer(Writer::agent(survivor.name()));
    as_survivor
        .lock("kept", LockMode::Exclusive, LONG)
        .await
        .unwrap();
    for holder in &holders {
        holder.stop();
    }
    for holder in &holders {
        holder.stopped().await;
    }
    let released = eventually(Duration::from_secs(5), async || {
        store.locks("").await.unwrap().len() == 1
    })
    .await;
    assert!(released, "{:?}", store.locks("").await.unwrap().len());
    assert_eq!(
        store.locks("").await.unwrap()[0].holder,
        Writer::agent(survivor.name())
    );
    swarm.shutdown().await.unwrap();
}
