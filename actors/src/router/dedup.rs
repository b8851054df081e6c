//! De-duplication of published messages by id, within a bounded window.

use std::collections::{HashSet, VecDeque};

use super::MAX_DEDUP_WINDOW;

/// The ids of the last `capacity` messages seen: a message whose id is in
/// the window is a duplicate. Memory stays bounded: the oldest id leaves as
/// a new one enters, so a duplicate older than the window gets through.
///
/// ```
/// use agentix_actors::router::DedupWindow;
///
/// let mut window = DedupWindow::new(2);
/// assert!(window.first_time(1));
/// assert!(!window.first_time(1), "a duplicate");
/// assert!(window.first_time(2));
/// assert!(window.first_time(3), "1 leaves the window");
/// assert!(window.first_time(1));
/// ```
#[derive(Debug, Clone)]
pub struct DedupWindow {
    seen: HashSet<u64>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl DedupWindow {
    /// A window of the last `capacity` ids, at least 1 and at most
    /// [`MAX_DEDUP_WINDOW`]: a capacity outside is taken as the nearest
    /// bound. Memory grows with the ids held, up to the capacity; nothing
    /// is reserved up front.
    ///
    /// ```
    /// use agentix_actors::router::{DedupWindow, MAX_DEDUP_WINDOW};
    ///
    /// assert_eq!(DedupWindow::new(usize::MAX).capacity(), MAX_DEDUP_WINDOW);
    /// assert_eq!(DedupWindow::new(0).capacity(), 1);
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.clamp(1, MAX_DEDUP_WINDOW),
        }
    }

    /// The most ids the window holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records `id`; `false` if it is already in the window (a duplicate,
    /// which does not refresh its place).
    pub fn first_time(&mut self, id: u64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.order.push_back(id);
        true
    }

    /// How many ids the window holds now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_capacity_and_forgets_the_oldest_first() {
        let mut window = DedupWindow::new(100);
        for id in 0..1000 {
            assert!(window.first_time(id));
            assert!(!window.first_time(id));
        }
        assert_eq!(window.len(), 100);
        assert!(!window.first_time(950), "recent: still a duplicate");
        assert!(window.first_time(850), "older than the window");
    }

    #[test]
    fn a_capacity_above_the_maximum_is_taken_as_the_maximum_and_nothing_is_reserved() {
        for capacity in [MAX_DEDUP_WINDOW + 1, 1 << 40, usize::MAX] {
            let mut window = DedupWindow::new(capacity);
            assert_eq!(window.capacity(), MAX_DEDUP_WINDOW);
            assert!(window.seen.capacity() < 1024, "grows on demand");
            assert!(window.first_time(1));
            assert!(!window.first_time(1));
        }
    }

    #[test]
    fn a_zero_capacity_still_catches_an_immediate_repeat() {
        let mut window = DedupWindow::new(0);
        assert!(window.first_time(7));
        assert!(!window.first_time(7));
    }
}
