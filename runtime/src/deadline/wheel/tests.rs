use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
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

#[test]
fn outside_an_arbiter_joining_is_refused() {
    let (_, waker) = counter();
    assert_eq!(join(Duration::from_millis(5), &waker), None);
}

#[test]
fn a_deadline_expires_no_earlier_than_its_length_and_within_two_ticks() {
    on_arbiter(async {
        let (count, waker) = counter();
        let ticket = join(Duration::from_millis(20), &waker).unwrap();
        tokio::time::sleep(Duration::from_millis(19)).await;
        assert_eq!(wakes(&count), 0, "woken early");
        assert_eq!(
            check(ticket, Duration::from_millis(20), &waker),
            Some(false)
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
        assert!(wakes(&count) >= 1, "not woken at the deadline");
        assert_eq!(check(ticket, Duration::from_millis(20), &waker), Some(true));
    });
}

#[test]
fn repeated_joins_of_one_task_in_one_epoch_are_one_entry() {
    on_arbiter(async {
        let (count, waker) = counter();
        let tickets: Vec<_> = (0..100)
            .map(|_| join(Duration::from_millis(10), &waker).unwrap())
            .collect();
        assert!(tickets.windows(2).all(|w| w[0] == w[1]), "one epoch");
        tokio::time::sleep(Duration::from_millis(15)).await;
        assert_eq!(wakes(&count), 1, "one wake for 100 joins");
        for ticket in tickets {
            assert_eq!(check(ticket, Duration::from_millis(10), &waker), Some(true));
        }
    });
}

#[test]
fn different_lengths_expire_independently() {
    on_arbiter(async {
        let (_, waker) = counter();
        let short = join(Duration::from_millis(10), &waker).unwrap();
        let long = join(Duration::from_secs(5), &waker).unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
        assert_eq!(check(short, Duration::from_millis(10), &waker), Some(true));
        assert_eq!(check(long, Duration::from_secs(5), &waker), Some(false));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(check(long, Duration::from_secs(5), &waker), Some(true));
    });
}

#[test]
fn a_later_epoch_is_not_expired_by_an_earlier_one() {
    on_arbiter(async {
        let (_, waker) = counter();
        let first = join(Duration::from_millis(10), &waker).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = join(Duration::from_millis(10), &waker).unwrap();
        assert!(second.epoch > first.epoch);
        tokio::time::sleep(Duration::from_millis(7)).await;
        assert_eq!(check(first, Duration::from_millis(10), &waker), Some(true));
        assert_eq!(
            check(second, Duration::from_millis(10), &waker),
            Some(false)
        );
    });
}

#[test]
fn a_ticket_from_another_thread_is_not_judged_here() {
    on_arbiter(async {
        let (_, waker) = counter();
        let ticket = join(Duration::from_millis(10), &waker).unwrap();
        let foreign = Ticket {
            wheel: ticket.wheel + 1_000_000,
            epoch: 0,
        };
        assert_eq!(check(foreign, Duration::from_millis(10), &waker), None);
    });
}
