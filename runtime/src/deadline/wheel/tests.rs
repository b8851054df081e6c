use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use super::*;

struct CountWake(AtomicUsize);

impl std::task::Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<CountWake>, Waker) {
    let count = Arc::new(CountWake(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

fn wakes(count: &CountWake) -> usize {
    count.0.load(Ordering::SeqCst)
}

/// Runs `test` on a fresh actix system with paused time.
fn on_arbiter(test: impl Future<Output = ()>) {
    actix_rt::System::new().block_on(async {
        tokio::time::pause();
        test.await;
    });
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn outside_an_arbiter_joining_is_refused() {
    let (_, waker) = counter();
    assert_eq!(join(5 * MS, &waker), None);
}

#[test]
fn a_deadline_expires_no_earlier_than_its_length_and_within_two_ticks() {
    on_arbiter(async {
        let (count, waker) = counter();
        let mut ticket = join(20 * MS, &waker).unwrap();
        tokio::time::sleep(19 * MS).await;
        assert_eq!(wakes(&count), 0, "woken early");
        assert_eq!(check(&mut ticket, &waker), Some(false));
        tokio::time::sleep(3 * MS).await;
        assert!(wakes(&count) >= 1, "not woken at the deadline");
        assert_eq!(check(&mut ticket, &waker), Some(true));
        leave(ticket);
        assert_eq!(entries(), 0);
    });
}

#[test]
fn repeated_joins_of_one_task_in_one_epoch_share_one_entry() {
    on_arbiter(async {
        let (count, waker) = counter();
        let mut tickets: Vec<_> = (0..100).map(|_| join(10 * MS, &waker).unwrap()).collect();
        assert!(tickets.windows(2).all(|w| w[0] == w[1]), "one entry");
        assert_eq!(entries(), 1);
        tokio::time::sleep(15 * MS).await;
        assert_eq!(wakes(&count), 1, "one wake for 100 joins");
        for ticket in &mut tickets {
            assert_eq!(check(ticket, &waker), Some(true));
        }
    });
}

#[test]
fn different_lengths_expire_independently() {
    on_arbiter(async {
        let (_, waker) = counter();
        let mut short = join(10 * MS, &waker).unwrap();
        let mut long = join(Duration::from_secs(5), &waker).unwrap();
        tokio::time::sleep(15 * MS).await;
        assert_eq!(check(&mut short, &waker), Some(true));
        assert_eq!(check(&mut long, &waker), Some(false));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(check(&mut long, &waker), Some(true));
    });
}

#[test]
fn a_later_epoch_is_not_expired_by_an_earlier_one() {
    on_arbiter(async {
        let (_, waker) = counter();
        let mut first = join(10 * MS, &waker).unwrap();
        tokio::time::sleep(5 * MS).await;
        let mut second = join(10 * MS, &waker).unwrap();
        assert_ne!(first, second);
        tokio::time::sleep(7 * MS).await;
        assert_eq!(check(&mut first, &waker), Some(true));
        assert_eq!(check(&mut second, &waker), Some(false));
    });
}

#[test]
fn a_ticket_of_another_wheel_is_not_judged_here() {
    on_arbiter(async {
        let (_, waker) = counter();
        let ticket = join(10 * MS, &waker).unwrap();
        let mut foreign = Ticket {
            wheel: ticket.wheel + 1_000_000,
            key: ticket.key,
        };
        assert_eq!(check(&mut foreign, &waker), None);
    });
}

#[test]
fn a_new_waker_for_a_shared_entry_gets_a_twin_that_falls_due_with_it() {
    on_arbiter(async {
        let (old_count, old) = counter();
        let (new_count, new) = counter();
        let mut first = join(10 * MS, &old).unwrap();
        let mut second = join(10 * MS, &old).unwrap();
        assert_eq!(first, second);
        assert_eq!(check(&mut second, &new), Some(false));
        assert_ne!(first, second, "moved to an entry of its own");
        tokio::time::sleep(12 * MS).await;
        assert_eq!((wakes(&old_count), wakes(&new_count)), (1, 1));
        assert_eq!(check(&mut first, &old), Some(true));
        assert_eq!(check(&mut second, &new), Some(true));
    });
}

#[test]
fn completed_deadlines_release_their_entries_whatever_their_lengths() {
    on_arbiter(async {
        let (count, waker) = counter();
        // Stamped first, then left: gone at once.
        let stamped: Vec<_> = (1..=1_000_u64)
            .map(|n| join(Duration::from_secs(600) + Duration::from_nanos(n), &waker).unwrap())
            .collect();
        tokio::time::sleep(2 * MS).await;
        assert_eq!(entries(), 1_000);
        for ticket in stamped {
            leave(ticket);
        }
        assert_eq!(entries(), 0, "a stamped entry leaves with its last holder");
        // Left before their stamp: gone at the stamp.
        for n in 1..=1_000_u64 {
            leave(join(Duration::from_secs(n), &waker).unwrap());
        }
        tokio::time::sleep(2 * MS).await;
        assert_eq!(
            entries(),
            0,
            "a young entry without holders goes at the stamp"
        );
        assert_eq!(wakes(&count), 0, "nothing left to fire");
    });
}

#[test]
fn every_system_on_a_thread_gets_a_working_wheel() {
    for round in 0..30 {
        actix_rt::System::new().block_on(async {
            let (count, waker) = counter();
            // Ended with the system while still pending.
            let _abandoned = join(Duration::from_secs(60), &waker).unwrap();
            let mut ticket = join(3 * MS, &waker).unwrap();
            tokio::time::timeout(Duration::from_secs(2), async {
                while wakes(&count) == 0 {
                    tokio::time::sleep(MS).await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("system {round}: the deadline never fired"));
            assert_eq!(check(&mut ticket, &waker), Some(true));
            // Joined as the system ends, before any stamp.
            let _late = join(Duration::from_secs(60), &waker).unwrap();
        });
        assert_eq!(entries(), 0, "system {round} left its wheel behind");
    }
}
