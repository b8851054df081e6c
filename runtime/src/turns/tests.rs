use std::{
    future::poll_fn,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering::SeqCst},
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
        // Hands its waker to another thread, which wakes it once the busy
        // task is going; reports the busy turns counted at its turn.
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (turn_tx, turn_rx) = tokio::sync::oneshot::channel();
        let mut turn_tx = Some(turn_tx);
        let woken = Arc::new(AtomicBool::new(false));
        let (seen, flag) = (turns.clone(), woken.clone());
        spawn(poll_fn(move |cx| {
            if !flag.load(SeqCst) {
                let _ = waker_tx.send(cx.waker().clone());
                return Poll::Pending;
            }
            if let Some(tx) = turn_tx.take() {
                let _ = tx.send(seen.load(SeqCst));
            }
            Poll::Ready(())
        }));
        let (seen, flag) = (turns.clone(), woken.clone());
        let waking = std::thread::spawn(move || {
            let waker = waker_rx.recv().unwrap();
            while seen.load(SeqCst) < 10_000 {
                std::thread::yield_now();
            }
            flag.store(true, SeqCst);
            waker.wake();
            // Counted once the wake has landed in the scheduler's queue.
            seen.load(SeqCst)
        });
        let at_turn = turn_rx.await.unwrap();
        let at_wake = tokio::task::spawn_blocking(move || waking.join().unwrap())
            .await
            .unwrap();
        let lag = at_turn.saturating_sub(at_wake);
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
