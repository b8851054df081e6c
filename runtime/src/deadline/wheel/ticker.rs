//! The ticker of one thread's wheel: one task per arbiter thread while
//! deadlines are pending, sleeping until the next stamp or bucket is due.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::{Instant, Sleep};

use super::{Ticker, WHEEL};

/// The ticker of one thread.
pub(super) struct TickerTask {
    sleep: Pin<Box<Sleep>>,
    /// Returned `Ready`: it ended because nothing was pending.
    done: bool,
}

impl TickerTask {
    pub(super) fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            done: false,
        }
    }
}

impl Future for TickerTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut woken = Vec::new();
        loop {
            let now = Instant::now();
            let next = WHEEL.try_with(|cell| {
                let mut slot = cell.borrow_mut();
                let wheel = slot.as_mut()?;
                let next = wheel.turn(now, &mut woken);
                wheel.ticker = match next {
                    Some(_) => Ticker::On {
                        waker: Some(cx.waker().clone()),
                    },
                    None => Ticker::Off,
                };
                next
            });
            // Wake outside the borrow: a waker may run code that joins again.
            for waker in woken.drain(..) {
                waker.wake();
            }
            let Ok(Some(next)) = next else {
                self.done = true;
                return Poll::Ready(());
            };
            self.sleep.as_mut().reset(next);
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl Drop for TickerTask {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Dropped unfinished: its runtime (the actix system, or this
        // arbiter) is going away, and with it every task whose deadline is
        // here. The wheel goes too; a later system starts a fresh one.
        let _ = WHEEL.try_with(|cell| {
            if let Ok(mut slot) = cell.try_borrow_mut() {
                let wheel = slot.take();
                drop(slot);
                // Dropped outside the borrow: dropping a waker can drop a task.
                drop(wheel);
            }
        });
    }
}
