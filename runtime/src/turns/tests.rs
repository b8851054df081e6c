use std::{
    future::poll_fn,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering::SeqCst},
        mpsc,
    },
};

use super::*;

/// Runs `test` on a fresh actix system (this thread is its arbiter).
fn on_arbiter(test: impl Future<Output = ()>) {
    actix_rt::System::new().block_on(test);
}

/// A task that takes turns forever, waking itself at the end of each (as
/// an agent does when its budget is spent), counting them.
fn busy(turns: Arc<AtomicU32>) -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        turns.fetch_add(1, SeqCst);
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn a_task_woken_from_another_thread_waits_at_most_a_turn_of_a_busy_one() {
    on_arbiter(async {
        let turns = Arc::new(AtomicU32::new(0));
        spawn(busy(turns.clone()));
        // Hands its waker to another thread, which wakes it after a while;
        // reports how many busy turns went by from that wake to its turn.
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (lag_tx, lag_rx) = tokio::sync::oneshot::channel();
        let mut lag_tx = Some(lag_tx);
        let woken_at = Arc::new(AtomicU32::new(u32::MAX));
        let (seen, at) = (turns.clone(), woken_at.clone());
        spawn(poll_fn(move |cx| {
            let at = at.load(SeqCst);
            if at == u32::MAX {
                let _ = waker_tx.send(cx.waker().clone());
                return Poll::Pending;
            }
            if let Some(tx) = lag_tx.take() {
                let _ = tx.send(seen.load(SeqCst) - at);
            }
            Poll::Ready(())
        }));
        let (seen, at) = (turns.clone(), woken_at.clone());
        std::thread::spawn(move || {
            let waker = waker_rx.recv().unwrap();
            // Let the busy task get going first.
            while seen.load(SeqCst) < 10_000 {
                std::thread::yield_now();
            }
            at.store(seen.load(SeqCst), SeqCst);
            waker.wake();
        });
        let lag = lag_rx.await.unwrap();
        // tokio's LocalSet would let the self-waking task run up to 31
        // times before taking a task woken from elsewhere.
        assert!(lag <= 2, "{lag} busy turns went by before the woken task's");
    });
}

#[test]
fn tasks_take_turns_in_the_order_they_were_woken() {
    on_arbiter(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let mut done_tx = Some(done_tx);
        for n in 0..5 {
            let order = order.clone();
            let mut done = (n == 4).then(|| done_tx.take()).flatten();
            let mut turns = 0;
            spawn(poll_fn(move |cx| {
                order.borrow_mut().push(n);
                turns += 1;
                if turns == 3 {
                    if let Some(tx) = done.take() {
                        let _ = tx.send(());
                    }
                    return Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }));
        }
        done_rx.await.unwrap();
        assert_eq!(
            *order.borrow(),
            [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
        );
    });
}

#[test]
fn a_new_system_on_the_thread_gets_a_new_scheduler() {
    for _ in 0..3 {
        on_arbiter(async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let mut tx = Some(tx);
            spawn(poll_fn(move |_| {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
                Poll::Ready(())
            }));
            // Left running when the system ends: dropped with it.
            spawn(std::future::pending());
            rx.await.unwrap();
        });
        let gone = CURRENT.with(|current| current.borrow().is_none());
        assert!(gone, "the scheduler outlived its system");
    }
}
