//! The task that owns one agent on its arbiter: it drives actix's
//! `ContextFut`, catches what escapes it, and after each incarnation decides
//! (itself, or through its supervisor) between a restart in place (same
//! mailbox, so the same address and the queued messages), waiting, and the
//! end.
//!
//! actix's own `Supervisor` cannot do this: it restarts only after a clean
//! `ctx.stop()`, never after a panic, and always with the old state.

use std::{
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use actix::{ActorContext, dev::ContextFut};
use tokio::time::{Instant, Sleep};

use crate::{
    Agent, AgentContext, AgentStatus, During, Event, ExitReason, Failure, Intensity, Restart,
    agent::overseer::{ChildExit, Link},
    agent::shared::{AgentShared, Directive},
    restart::RestartWindow,
};

mod drain;
mod end;
mod exit;
mod launch;

use end::end_for_good;
pub(crate) use launch::{Launch, UnsupervisedPolicy};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// An incarnation runs.
    Running,
    /// Between incarnations, waiting for the supervisor's directive.
    Waiting,
    /// Between incarnations, waiting out a backoff delay (`backoff`).
    Backoff,
}

struct AgentTask<A: Agent> {
    fut: Option<ContextFut<A, AgentContext<A>>>,
    phase: Phase,
    /// The backoff delay between incarnations, or the grace a stop gives
    /// the async handlers still awaiting: allocated at first use, reset for
    /// later ones. Outside `Phase` so that an idle agent's task stays small.
    timer: Option<Pin<Box<Sleep>>>,
    /// How long a stop waits for async handlers still awaiting before it
    /// abandons them (the agent's shutdown timeout), in nanoseconds: every
    /// duration saturates at `MAX_DURATION`, which fits, and an agent keeps
    /// 8 bytes less than with a `Duration`.
    grace_ns: u64,
    restart: Restart,
    owner: Owner,
    shared: Arc<AgentShared>,
    /// The waker signals wake is registered (at the first poll: the turns
    /// scheduler polls a task with its slot's one waker, `turns.rs`).
    registered: bool,
    /// The current incarnation was asked to stop for good.
    stopping: bool,
    /// The current incarnation was asked to end by a supervisor directive.
    parking: bool,
    /// Asked to end (`stopping` or `parking`), the context lets its async
    /// handlers finish; `false` once it has been told to stop.
    draining: bool,
    /// The grace ran out with handlers still awaiting: they were abandoned.
    forced: bool,
    /// A panic escaped the current incarnation; a second one ends it at once.
    panicked: bool,
    exit: Option<(AgentStatus, ExitReason)>,
    /// Run once at the end (a supervisor's, to release its children);
    /// boxed twice so that the many agents without one keep one pointer.
    on_end: Option<Box<OnEnd>>,
}

/// What an agent runs once at its end.
pub(crate) type OnEnd = Box<dyn FnOnce() + Send>;

/// Who decides what follows an ended incarnation. Kept small: it lives in
/// every agent's task, and a supervisor may have 100k children.
enum Owner {
    /// The agent itself, by its intensity.
    Alone {
        intensity: Intensity,
        /// Its restarts in the window; allocated at the first restart.
        window: RestartWindow,
    },
    /// Its supervisor.
    Supervisor(Link),
}

/// What follows an ended incarnation, or a wait between two.
enum Next {
    Phase(Phase),
    /// A restart was decided: counted and announced, then after `delay`.
    Restart {
        delay: Duration,
    },
    /// A backoff delay is over: start the decided incarnation.
    Resume,
    End,
}

impl<A: Agent> Future for AgentTask<A> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        // Registered once: signals wake it by reference.
        if !std::mem::replace(&mut this.registered, true) {
            this.shared.register_task_waker(cx.waker());
        }
        loop {
            if this.fut.is_none() {
                return Poll::Ready(());
            }
            if this.shared.kill_requested() {
                this.exit = Some((AgentStatus::Stopped, ExitReason::Killed));
                if this.phase == Phase::Running
                    && let Some(fut) = this.fut.as_mut()
                {
                    // Abandons what it awaits (actix polls no future of a
                    // stopping context), but its stopping hooks still run,
                    // as at any other end. Between incarnations they ran.
                    fut.ctx().stop();
                    let held = crate::agent::holding::key(&this.shared);
                    let polled = crate::agent::holding::holding(held, || {
                        catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *fut).poll(cx)))
                    });
                    if let Err(payload) = polled {
                        let _ = crate::agent::envelope::unwound_handler();
                        crate::failure::discard(payload);
                    }
                }
                this.finish();
                return Poll::Ready(());
            }
            let next = match this.phase {
                Phase::Running => match this.poll_incarnation(cx) {
                    Some(next) => next,
                    None => return Poll::Pending,
                },
                Phase::Waiting => {
                    if this.shared.stop_requested() {
                        Next::End
                    } else {
                        match this.shared.take_directive() {
                            Some(Directive::Restart { delay }) => Next::Restart { delay },
                            Some(Directive::Park) => continue,
                            None => return Poll::Pending,
                        }
                    }
                }
                Phase::Backoff => {
                    let elapsed = |sleep: &mut Pin<Box<Sleep>>| sleep.as_mut().poll(cx).is_ready();
                    if this.shared.stop_requested() {
                        Next::End
                    } else if this.shared.directive_pending() {
                        match this.shared.take_directive() {
                            Some(Directive::Park) => Next::Phase(Phase::Waiting),
                            Some(Directive::Restart { delay }) => Next::Restart { delay },
                            None => continue,
                        }
                    } else if this.timer.as_mut().is_none_or(elapsed) {
                        Next::Resume
                    } else {
                        return Poll::Pending;
                    }
                }
            };
            match next {
                Next::Phase(phase) => {
                    if phase == Phase::Waiting {
                        this.shared.set_status(AgentStatus::Waiting);
                    }
                    this.phase = phase;
                }
                Next::Restart { delay } => {
                    let attempt = this.shared.count_restart();
                    // Status first: whoever sees the event must see the agent
                    // waiting out its backoff, not its last incarnation.
                    this.shared.set_status(AgentStatus::Restarting);
                    this.shared.publish(Event::Restarted { attempt, delay });
                    if delay.is_zero() {
                        if !this.restart_now() {
                            this.finish();
                            return Poll::Ready(());
                        }
                    } else {
                        let until = crate::deadline::instant_after(Instant::now(), delay);
                        this.set_timer(until);
                        this.phase = Phase::Backoff;
                    }
                }
                Next::Resume => {
                    if !this.restart_now() {
                        this.finish();
                        return Poll::Ready(());
                    }
                }
                Next::End => {
                    this.finish();
                    return Poll::Ready(());
                }
            }
        }
    }
}

impl<A: Agent> AgentTask<A> {
    /// Polls the running incarnation; `Some` once it has ended.
    fn poll_incarnation(&mut self, cx: &mut Context<'_>) -> Option<Next> {
        loop {
            if !self.stopping && self.shared.stop_requested() {
                self.stopping = true;
                self.shared.set_status(AgentStatus::Stopping);
                self.begin_draining();
            }
            if !self.parking && self.shared.directive_pending() {
                // The directive is read once the incarnation has ended.
                self.parking = true;
                self.begin_draining();
            }
            if self.draining {
                self.drain(cx);
            }
            let fut = self.fut.as_mut()?;
            let core = &fut.ctx().core;
            core.turn.start();
            drop(core.keepalive.take());
            self.shared.step_activity();
            let held = crate::agent::holding::key(&self.shared);
            let polled = crate::agent::holding::holding(held, || {
                catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *fut).poll(cx)))
            });
            self.shared.step_activity();
            match polled {
                Ok(Poll::Pending) => {
                    // The turn's budget is spent with mail maybe waiting,
                    // which would wake nobody: the task queues itself behind
                    // the agents ready on its arbiter (`turns`).
                    if fut.ctx().core.turn.over() {
                        cx.waker().wake_by_ref();
                    }
                    // A signal raised while the context ran paused its
                    // mailbox; act on it now rather than on a later wake.
                    let unseen_stop = !self.stopping && self.shared.stop_requested();
                    let unseen_directive = !self.parking && self.shared.directive_pending();
                    // The last awaited reply just went out: stop now.
                    let drained = self.draining && fut.ctx().core.replies_pending == 0;
                    if unseen_stop || unseen_directive || drained {
                        continue;
                    }
                    return None;
                }
                Ok(Poll::Ready(())) => {}
                Err(payload) => {
                    // A hand-written handler's panic comes here (the
                    // envelope keeps no boundary of its own), named by the
                    // mark it left on the way.
                    let handler = crate::agent::envelope::unwound_handler();
                    let during =
                        handler.map_or(During::Lifecycle, |message| During::Handler { message });
                    fut.ctx().fail_with_panic(during, &*payload);
                    crate::failure::discard(payload);
                    // Poll again so the stopping hooks run; a handler's
                    // panic counts as caught, as a generated one's is.
                    if handler.is_some() || !std::mem::replace(&mut self.panicked, true) {
                        continue;
                    }
                    // Panicking while stopping too: the incarnation is over.
                }
            }
            self.panicked = false;
            // Ended within a turn cut short: the address held over the cut
            // must not make the incarnation look addressed to a restart.
            drop(fut.ctx().core.keepalive.take());
            return Some(self.after_incarnation());
        }
    }

    /// Starts the next incarnation in place now; `false` if the agent must
    /// end instead (with `self.exit` set).
    fn restart_now(&mut self) -> bool {
        let Some(fut) = self.fut.as_mut() else {
            return false;
        };
        let ctx = fut.ctx();
        // Nobody holds the address any more: nothing could reach a new incarnation.
        if !ctx.connected() {
            self.exit
                .get_or_insert((AgentStatus::Stopped, ExitReason::Normal));
            return false;
        }
        if !A::KEEP_STATE {
            let factory = ctx.core.factory.clone();
            match catch_unwind(AssertUnwindSafe(|| factory())) {
                Ok(fresh) => ctx.core.fresh = Some(fresh),
                Err(payload) => {
                    let failure =
                        Failure::from_panic(ctx.name().clone(), During::Factory, &*payload);
                    crate::failure::discard(payload);
                    tracing::error!(agent = %ctx.name(), "{failure}");
                    self.exit = Some((AgentStatus::Failed, ExitReason::Failed(failure)));
                    return false;
                }
            }
        }
        self.shared.set_status(AgentStatus::Restarting);
        self.phase = Phase::Running;
        // actix drops the old incarnation's futures as it restarts.
        fut.ctx().core.replies_pending = 0;
        match catch_unwind(AssertUnwindSafe(|| fut.restart())) {
            Ok(true) => true,
            Ok(false) => {
                self.exit = Some((AgentStatus::Stopped, ExitReason::Normal));
                false
            }
            Err(payload) => {
                // The `restarted` hook panicked: the new incarnation fails
                // like any other and comes back through here.
                fut.ctx().fail_with_panic(During::Lifecycle, &*payload);
                crate::failure::discard(payload);
                true
            }
        }
    }
}

/// Status of an agent ending for `reason`.
fn final_status(reason: &ExitReason) -> AgentStatus {
    if reason.is_failure() {
        AgentStatus::Failed
    } else {
        AgentStatus::Stopped
    }
}

/// A report to the supervisor of an incarnation that waits for it.
fn child_exit(link: &Link, shared: &AgentShared, reason: ExitReason) -> ChildExit {
    ChildExit {
        key: link.key,
        incarnation: shared.restarts(),
        reason,
    }
}
