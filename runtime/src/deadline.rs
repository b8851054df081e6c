//! Deadlines for asks and waiting sends.
//!
//! On an actix arbiter thread a deadline lives in a per-thread wheel
//! ([`wheel`]) that costs far less than a tokio timer per request; elsewhere
//! (a plain tokio runtime) it falls back to a tokio `Sleep`. Without any
//! runtime there is no timer, and the request fails rather than risk a hang.

use std::{
    panic::AssertUnwindSafe,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::{Instant, Sleep};

mod wheel;

/// No timer is available on this thread to enforce a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoTimer;

/// A deadline that starts counting when first polled.
#[derive(Debug)]
pub(crate) struct Deadline {
    after: Duration,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Not polled yet.
    Unarmed,
    /// In this arbiter thread's wheel.
    Wheel(wheel::Ticket),
    /// Off an arbiter: a tokio timer, created on the first pending poll.
    Timer(Option<Pin<Box<Sleep>>>, Instant),
}

impl Deadline {
    /// `after` must be saturated already (an agent's ask timeout is, when
    /// it is spawned): this is on the path of every ask.
    pub(crate) fn new(after: Duration) -> Self {
        Self {
            after,
            state: State::Unarmed,
        }
    }

    /// The length of the deadline.
    pub(crate) fn after(&self) -> Duration {
        self.after
    }

    /// Replaces the length; only meaningful before the first poll.
    pub(crate) fn set_after(&mut self, after: Duration) {
        self.after = saturate(after);
        self.disarm();
    }

    /// Leaves the wheel, if in it.
    fn disarm(&mut self) {
        if let State::Wheel(ticket) = std::mem::replace(&mut self.state, State::Unarmed) {
            wheel::leave(ticket);
        }
    }

    /// `Ready(Ok(()))` once the deadline has passed; otherwise arranges for
    /// the task to be woken when it does.
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), NoTimer>> {
        loop {
            match &mut self.state {
                State::Unarmed => match wheel::join(self.after, cx.waker()) {
                    Some(ticket) => {
                        self.state = State::Wheel(ticket);
                        return Poll::Pending;
                    }
                    None => {
                        let at = instant_after(Instant::now(), self.after);
                        self.state = State::Timer(None, at);
                    }
                },
                State::Wheel(ticket) => match wheel::check(ticket, cx.waker()) {
                    Some(true) => return Poll::Ready(Ok(())),
                    Some(false) => return Poll::Pending,
                    // Moved to another thread: count from here, conservatively late.
                    None => self.state = State::Unarmed,
                },
                State::Timer(sleep, at) => return poll_timer(sleep, *at, cx),
            }
        }
    }
}

impl Drop for Deadline {
    /// A completed (or abandoned) request releases its place in the wheel
    /// now, not when its deadline would have passed.
    fn drop(&mut self) {
        self.disarm();
    }
}

/// The longest duration the runtime keeps: about 30 years, which no run
/// outlives, so it means "no deadline".
///
/// Every duration that enters the runtime (timeouts, intensity windows,
/// backoff delays, the testkit's bounds) is saturated to this: a longer one,
/// up to `Duration::MAX`, is taken as `MAX_DURATION` rather than rejected,
/// because "wait as long as you like" is a reasonable thing to ask and
/// adding `Duration::MAX` to a clock reading would overflow.
///
/// ```
/// use agentix::{Intensity, MAX_DURATION};
/// use std::time::Duration;
///
/// assert_eq!(Intensity::new(1, Duration::MAX).within(), MAX_DURATION);
/// ```
pub const MAX_DURATION: Duration = Duration::from_secs(86_400 * 365 * 30);

/// "Never", for deadlines too long to represent.
pub(crate) const FAR: Duration = MAX_DURATION;

/// `after`, or [`MAX_DURATION`] if it is longer.
pub(crate) const fn saturate(after: Duration) -> Duration {
    if after.as_secs() >= MAX_DURATION.as_secs() {
        MAX_DURATION
    } else {
        after
    }
}

/// `now + after`, or [`FAR`] from now when that overflows the clock.
pub(crate) fn instant_after(now: Instant, after: Duration) -> Instant {
    now.checked_add(after).unwrap_or_else(|| now + FAR)
}

fn poll_timer(
    sleep: &mut Option<Pin<Box<Sleep>>>,
    at: Instant,
    cx: &mut Context<'_>,
) -> Poll<Result<(), NoTimer>> {
    if let Some(sleep) = sleep {
        return sleep.as_mut().poll(cx).map(Ok);
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Poll::Ready(Err(NoTimer));
    }
    // A runtime built without timers panics here; that is a missing timer
    // too, not a reason to take the caller down.
    let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut timer = Box::pin(tokio::time::sleep_until(at));
        let ready = timer.as_mut().poll(cx).is_ready();
        (timer, ready)
    }));
    match polled {
        Ok((_, true)) => Poll::Ready(Ok(())),
        Ok((timer, false)) => {
            *sleep = Some(timer);
            Poll::Pending
        }
        Err(_) => Poll::Ready(Err(NoTimer)),
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[test]
    fn without_a_runtime_there_is_no_timer() {
        let mut deadline = Deadline::new(Duration::from_secs(1));
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(deadline.poll_elapsed(&mut cx), Poll::Ready(Err(NoTimer)));
    }

    #[tokio::test(start_paused = true)]
    async fn on_a_plain_tokio_runtime_the_fallback_timer_fires() {
        let started = Instant::now();
        let mut deadline = Deadline::new(Duration::from_millis(250));
        poll_fn(|cx| deadline.poll_elapsed(cx)).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[test]
    fn on_an_arbiter_the_wheel_fires_no_earlier_than_the_deadline() {
        actix_rt::System::new().block_on(async {
            tokio::time::pause();
            let started = Instant::now();
            let mut deadline = Deadline::new(Duration::from_millis(40));
            poll_fn(|cx| deadline.poll_elapsed(cx)).await.unwrap();
            let took = started.elapsed();
            assert!(took >= Duration::from_millis(40), "{took:?}");
            assert!(took <= Duration::from_millis(43), "{took:?}");
        });
    }
}
