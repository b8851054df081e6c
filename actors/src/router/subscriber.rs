//! A subscriber's bounded queue inside the router, and what happens when it
//! is full: the router's memory stays bounded however slow a subscriber is.

use std::collections::VecDeque;

/// What a full subscriber queue does with one more message. Whatever it
/// does, nothing disappears silently: a message dropped by a policy is
/// counted as an overflow dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Make room by dropping the oldest queued message (counted, payload
    /// not kept): the subscriber sees the freshest data.
    DropOldest,
    /// Drop the new message (counted, payload not kept).
    DropNewest,
    /// Refuse the new message and store it, with its payload, in the dead
    /// letters, from where it can be redriven.
    #[default]
    DeadLetter,
    /// Make the publishers wait until the subscriber has room: the router
    /// stops taking messages (so `send_wait` waits and `send` finds its
    /// mailbox full) until the queue is below its capacity again. Nothing
    /// is lost, at the price of isolation: every subscriber of this router
    /// waits with the slow one.
    Block,
}

/// What became of a pushed message.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<T> {
    /// Queued.
    Queued,
    /// Queued, and the oldest message dropped to make room.
    Displaced(T),
    /// Not queued: dropped, by [`OverflowPolicy::DropNewest`].
    Dropped(T),
    /// Not queued: for the dead letters, by [`OverflowPolicy::DeadLetter`].
    Refused(T),
    /// Not queued: the publisher must wait and try again, by
    /// [`OverflowPolicy::Block`].
    Full(T),
}

/// A bounded FIFO with an overflow policy.
///
/// ```
/// use agentix_actors::router::{OverflowPolicy, Pushed, SubscriberQueue};
///
/// let mut queue = SubscriberQueue::new(2, OverflowPolicy::DropOldest);
/// assert_eq!(queue.push(1), Pushed::Queued);
/// assert_eq!(queue.push(2), Pushed::Queued);
/// assert_eq!(queue.push(3), Pushed::Displaced(1));
/// assert_eq!(queue.drain(10).collect::<Vec<_>>(), [2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct SubscriberQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
    policy: OverflowPolicy,
}

impl<T> SubscriberQueue<T> {
    /// A queue of at most `capacity` messages (at least 1).
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        Self {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            policy,
        }
    }

    /// Queues `item`, or applies the policy when full.
    pub fn push(&mut self, item: T) -> Pushed<T> {
        if self.items.len() < self.capacity {
            self.items.push_back(item);
            return Pushed::Queued;
        }
        match self.policy {
            OverflowPolicy::DropOldest => match self.items.pop_front() {
                Some(oldest) => {
                    self.items.push_back(item);
                    Pushed::Displaced(oldest)
                }
                None => {
                    self.items.push_back(item);
                    Pushed::Queued
                }
            },
            OverflowPolicy::DropNewest => Pushed::Dropped(item),
            OverflowPolicy::DeadLetter => Pushed::Refused(item),
            OverflowPolicy::Block => Pushed::Full(item),
        }
    }

    /// Queues `item` even when full: the blocking policy's way of keeping
    /// a message while the publishers are held back.
    pub fn push_over(&mut self, item: T) {
        self.items.push_back(item);
    }

    /// Takes up to `max` messages from the front, in order.
    pub fn drain(&mut self, max: usize) -> std::collections::vec_deque::Drain<'_, T> {
        let n = max.min(self.items.len());
        self.items.drain(..n)
    }

    /// Puts `items` back at the front, in their order (a batch that could
    /// not be handed over). May exceed the capacity by their number.
    pub fn requeue_front(&mut self, items: impl DoubleEndedIterator<Item = T>) {
        for item in items.rev() {
            self.items.push_front(item);
        }
    }

    /// How many are queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether one more would overflow.
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    /// Its policy.
    pub fn policy(&self) -> OverflowPolicy {
        self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(policy: OverflowPolicy) -> SubscriberQueue<u32> {
        let mut queue = SubscriberQueue::new(3, policy);
        for n in 1..=3 {
            assert_eq!(queue.push(n), Pushed::Queued);
        }
        assert!(queue.is_full());
        queue
    }

    #[test]
    fn each_policy_handles_the_overflow_its_way_and_stays_bounded() {
        let mut queue = full(OverflowPolicy::DropOldest);
        assert_eq!(queue.push(4), Pushed::Displaced(1));
        assert_eq!(queue.drain(9).collect::<Vec<_>>(), [2, 3, 4]);

        let mut queue = full(OverflowPolicy::DropNewest);
        assert_eq!(queue.push(4), Pushed::Dropped(4));
        assert_eq!(queue.drain(9).collect::<Vec<_>>(), [1, 2, 3]);

        let mut queue = full(OverflowPolicy::DeadLetter);
        assert_eq!(queue.push(4), Pushed::Refused(4));
        assert_eq!(queue.len(), 3);

        let mut queue = full(OverflowPolicy::Block);
        assert_eq!(queue.push(4), Pushed::Full(4));
        queue.drain(1).for_each(drop);
        assert_eq!(queue.push(4), Pushed::Queued, "room again");
    }

    #[test]
    fn a_batch_put_back_keeps_its_place_in_front() {
        let mut queue = full(OverflowPolicy::Block);
        let batch: Vec<_> = queue.drain(2).collect();
        assert_eq!(queue.push(4), Pushed::Queued);
        queue.requeue_front(batch.into_iter());
        assert_eq!(queue.drain(9).collect::<Vec<_>>(), [1, 2, 3, 4]);
    }
}
