//! The order agents take turns on an arbiter thread: first woken, first
//! served, whichever thread woke them.
//!
//! Why not one tokio task per agent: an arbiter runs its tasks in tokio's
//! `LocalSet`, which takes tasks woken on its own thread first and those
//! woken from other threads (an ask or a tell from another arbiter) only
//! one pick in 31 while the first kind keeps coming. Under load a router
//! handing batches to subscribers on its own thread, or agents yielding
//! after their turn, keep that local queue busy: in the soak bench an agent
//! asked from another thread waited 0.4 s (p50) for its turn next to a
//! thousand agents told from the other arbiter. So each arbiter thread has
//! one scheduler task that owns its agents' tasks and runs them from one
//! queue, in the order they were woken; wakes from other threads join it
//! at the scheduler's next turn. An agent that yields after its turn goes
//! to the back, behind everyone woken meanwhile.
//!
//! The arbiter's timers (deadlines, `run_later`), I/O and other tasks run
//! when the scheduler yields to tokio (a deferred yield, after which tokio
//! polls its driver): once it has worked for [`SLICE`], looked at after
//! every turn that ended by its budget and every 16th turn (a clock read
//! costs as much as a tenth of a short turn), and after
//! [`TURNS_PER_YIELD`] turns at most, as the `LocalSet` does every 61 tasks.

use std::{
    cell::RefCell,
    collections::VecDeque,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    rc::Rc,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
    time::{Duration, Instant},
};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use slotmap::{DefaultKey, SlotMap};

/// Turns the scheduler gives before it lets the rest of the arbiter run.
pub(crate) const TURNS_PER_YIELD: usize = 64;

/// How long the scheduler gives turns before it lets the rest of the
/// arbiter run (its timers among them), give or take the turn in hand.
pub(crate) const SLICE: Duration = Duration::from_micros(500);

/// Short turns between two looks at the clock.
const CHECK_EVERY: usize = 16;

type AgentFuture = Pin<Box<dyn Future<Output = ()>>>;

/// What the wakers of a thread's agents share with its scheduler, from any
/// thread.
struct Shared {
    /// Agents woken from other threads, in order.
    remote: Mutex<VecDeque<DefaultKey>>,
    /// `remote` has some: one load per turn instead of a lock.
    has_remote: AtomicBool,
    /// The scheduler runs or will be polled: no need to wake it.
    scheduled: AtomicBool,
    scheduler: AtomicWaker,
}

impl Shared {
    fn notify(&self) {
        // SeqCst, with the scheduler's store of `false` and its look at the
        // queue under the lock: either it sees this agent queued, or this
        // sees it idle and wakes it.
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            self.scheduler.wake();
        }
    }

    /// Whether agents woken from other threads wait; looked at under the
    /// lock, which orders it with their wakers.
    fn remote_waiting(&self) -> bool {
        !self.remote.lock().is_empty()
    }
}

/// An agent's task as its scheduler keeps it.
struct Entry {
    future: AgentFuture,
    slot: Arc<Slot>,
    waker: Waker,
}

/// A thread's scheduler: its agents' tasks and the queue of ready ones.
struct Local {
    shared: Arc<Shared>,
    /// Taken out (`None`) during the task's turn.
    tasks: RefCell<SlotMap<DefaultKey, Option<Entry>>>,
    ready: RefCell<VecDeque<DefaultKey>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Local>>> = const { RefCell::new(None) };
}

/// The waker of one agent's task.
struct Slot {
    key: DefaultKey,
    /// In a ready queue (cleared just before its turn).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for Slot {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        // On the scheduler's own thread, no lock: straight into its queue.
        let here = CURRENT.try_with(|current| {
            let current = current.try_borrow().ok()?;
            let local = current.as_ref()?;
            Arc::ptr_eq(&local.shared, &self.shared).then(|| {
                local.ready.borrow_mut().push_back(self.key);
            })
        });
        if !matches!(here, Ok(Some(()))) {
            let mut remote = self.shared.remote.lock();
            remote.push_back(self.key);
            self.shared.has_remote.store(true, Ordering::Release);
        }
        self.shared.notify();
    }
}

/// Runs `future` (an agent's task) on this arbiter's scheduler, starting
/// the scheduler if this thread has none. Must run on an arbiter thread.
pub(crate) fn spawn(future: impl Future<Output = ()> + 'static) {
    let local = CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let local = current.get_or_insert_with(|| {
            let local = Rc::new(Local {
                shared: Arc::new(Shared {
                    remote: Mutex::new(VecDeque::new()),
                    has_remote: AtomicBool::new(false),
                    scheduled: AtomicBool::new(true),
                    scheduler: AtomicWaker::new(),
                }),
                tasks: RefCell::new(SlotMap::new()),
                ready: RefCell::new(VecDeque::new()),
            });
            // tokio's cooperative budget is per task poll, and the whole
            // scheduler is one task: its agents would share one budget of
            // 128 tokio operations per scheduler poll, and the later ones
            // see spurious `Pending`s. Turns and yields bound them instead.
            actix_rt::spawn(tokio::task::coop::unconstrained(Scheduler {
                local: local.clone(),
            }));
            local
        });
        local.clone()
    });
    let shared = local.shared.clone();
    let key = local.tasks.borrow_mut().insert_with_key(|key| {
        let slot = Arc::new(Slot {
            key,
            queued: AtomicBool::new(true),
            shared,
        });
        Some(Entry {
            future: Box::pin(future),
            waker: Waker::from(slot.clone()),
            slot,
        })
    });
    local.ready.borrow_mut().push_back(key);
    local.shared.notify();
}

/// The task that gives this thread's agents their turns.
struct Scheduler {
    local: Rc<Local>,
}

impl Future for Scheduler {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let local = &self.local;
        local.shared.scheduler.register(cx.waker());
        let started = Instant::now();
        for turn in 1..=TURNS_PER_YIELD {
            let Some(key) = local.next() else {
                // Idle: the next wake schedules it again. Looked at once
                // more after saying so, for a wake in between (under the
                // lock: a flag alone could miss it).
                local.shared.scheduled.store(false, Ordering::SeqCst);
                if !local.shared.remote_waiting() {
                    return Poll::Pending;
                }
                let Some(key) = local.next() else {
                    return Poll::Pending;
                };
                // Busy again (a waker may have woken this task as well: one
                // poll for nothing).
                local.shared.scheduled.store(true, Ordering::SeqCst);
                local.turn(key);
                continue;
            };
            let spent = local.turn(key);
            if (spent || turn % CHECK_EVERY == 0) && started.elapsed() >= SLICE {
                break;
            }
        }
        // Still busy: let the arbiter's other tasks, timers and I/O run,
        // then go on (`scheduled` stays set: no wake is needed meanwhile).
        let yielded = std::pin::pin!(tokio::task::yield_now());
        let _ = yielded.poll(cx);
        Poll::Pending
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        // The arbiter is going away: its agents' tasks go with it (each
        // ends as dropped with its arbiter). A later system on this thread
        // starts a fresh scheduler.
        let _ = CURRENT.try_with(|current| {
            if let Ok(mut current) = current.try_borrow_mut()
                && current.as_ref().is_some_and(|l| Rc::ptr_eq(l, &self.local))
            {
                *current = None;
            }
        });
        let tasks = std::mem::take(&mut *self.local.tasks.borrow_mut());
        drop(tasks);
    }
}

impl Local {
    /// The next ready agent; those woken from other threads join the queue
    /// first.
    fn next(&self) -> Option<DefaultKey> {
        let mut ready = self.ready.borrow_mut();
        if self.shared.has_remote.load(Ordering::Acquire) {
            let mut remote = self.shared.remote.lock();
            self.shared.has_remote.store(false, Ordering::Relaxed);
            ready.extend(remote.drain(..));
        }
        ready.pop_front()
    }

    /// Gives agent `key` its turn; `true` if it asked for another (it
    /// ended its turn by its budget, with mail maybe waiting).
    fn turn(&self, key: DefaultKey) -> bool {
        let taken = (self.tasks.borrow_mut().get_mut(key)).and_then(Option::take);
        // A task that ended since it was woken.
        let Some(mut entry) = taken else {
            return false;
        };
        // Cleared first: a wake during the turn queues it for the next.
        entry.slot.queued.store(false, Ordering::Release);
        let mut cx = Context::from_waker(&entry.waker);
        let polled = catch_unwind(AssertUnwindSafe(|| entry.future.as_mut().poll(&mut cx)));
        if let Ok(Poll::Pending) = polled {
            let again = entry.slot.queued.load(Ordering::Acquire);
            if let Some(place) = self.tasks.borrow_mut().get_mut(key) {
                *place = Some(entry);
            }
            return again;
        }
        if let Err(payload) = polled {
            crate::failure::discard(payload);
            tracing::error!("an agent's task panicked outside its handlers and was dropped");
        }
        self.tasks.borrow_mut().remove(key);
        // Dropped outside the borrow (ending an agent wakes others) and
        // under the guard: a panic here must not take the scheduler, and
        // every agent of the arbiter, with it.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(entry))) {
            crate::failure::discard(payload);
        }
        false
    }
}

#[cfg(test)]
mod tests;
