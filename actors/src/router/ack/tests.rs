//! Acknowledgements and retries, on paused time.
use super::*;
use crate::router::Topic;

fn items(ids: &[u64]) -> Arc<[Envelope<u64>]> {
    let topic = Topic::new("t").unwrap();
    ids.iter()
        .map(|id| Envelope::new(*id, topic.clone(), Arc::new(*id)))
        .collect()
}

fn policy() -> Retry {
    Retry::default()
        .ack_timeout(Duration::from_millis(100))
        .retries(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(15))
}

#[test]
fn the_first_answer_counts() {
    let cell = AckCell::default();
    assert_eq!(cell.get(), Answer::Pending);
    cell.answer(true);
    cell.answer(false);
    assert_eq!(cell.get(), Answer::Acked);
}

#[test]
fn backoff_doubles_up_to_its_cap() {
    let retry = policy();
    assert_eq!(retry.delay(1), Duration::from_millis(10));
    assert_eq!(retry.delay(2), Duration::from_millis(15));
    assert_eq!(retry.delay(u32::MAX), Duration::from_millis(15));
}

#[tokio::test(start_paused = true)]
async fn acknowledged_batches_leave_and_failed_ones_come_back_after_the_backoff() {
    let mut unacked = Unacked::new(policy());
    let (acked, failed) = (Arc::new(AckCell::default()), Arc::new(AckCell::default()));
    unacked.sent(acked.clone(), items(&[1, 2]), Instant::now());
    unacked.sent(failed.clone(), items(&[3]), Instant::now());
    acked.answer(true);
    failed.answer(false);
    let checked = unacked.check(Instant::now());
    assert!(checked.again.is_empty(), "not before the backoff");
    tokio::time::advance(Duration::from_millis(10)).await;
    let checked = unacked.check(Instant::now());
    let again: Vec<_> = checked
        .again
        .iter()
        .map(|e| (e.id(), e.attempt()))
        .collect();
    assert_eq!(again, [(3, 2)]);
    assert!(unacked.is_idle());
    assert_eq!(unacked.held(), 0, "acknowledged, or taken out to go again");
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_batch_times_out_and_the_last_attempt_is_exhausted() {
    let mut unacked = Unacked::new(policy());
    let mut batch = items(&[7]);
    for attempt in 1..=3 {
        unacked.sent(Arc::new(AckCell::default()), batch.clone(), Instant::now());
        tokio::time::advance(Duration::from_millis(99)).await;
        assert!(
            unacked.check(Instant::now()).again.is_empty(),
            "not yet timed out"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        let checked = unacked.check(Instant::now());
        if attempt == 3 {
            let exhausted: Vec<_> = checked.exhausted.iter().map(|e| e.attempt()).collect();
            assert_eq!(exhausted, [3], "two retries after the first attempt");
            break;
        }
        assert!(checked.exhausted.is_empty());
        tokio::time::advance(Duration::from_millis(15)).await;
        let again = unacked.check(Instant::now()).again;
        assert_eq!(again.len(), 1);
        batch = again.into();
    }
    assert!(unacked.is_idle());
}

#[tokio::test(start_paused = true)]
async fn a_batch_acknowledged_one_by_one_retries_only_from_where_it_failed() {
    let mut unacked = Unacked::new(policy());
    let cell = Arc::new(AckCell::default());
    unacked.sent(cell.clone(), items(&[1, 2, 3, 4]), Instant::now());
    cell.handled(1);
    cell.answer(false);
    let checked = unacked.check(Instant::now());
    assert_eq!(checked.acked, 1, "the handled prefix is done");
    assert_eq!(checked.failed, 1, "only the delivery it failed on failed");
    assert!(checked.again.is_empty(), "not before the backoff");
    tokio::time::advance(Duration::from_millis(10)).await;
    let again: Vec<_> = unacked
        .check(Instant::now())
        .again
        .iter()
        .map(|e| (e.id(), e.attempt()))
        .collect();
    assert_eq!(
        again,
        [(2, 2), (3, 1), (4, 1)],
        "the failed one counts an attempt, the untried ones do not"
    );
    assert_eq!(unacked.held(), 0);
}

#[test]
fn an_ended_subscription_gives_up_only_what_follows_the_handled_prefix() {
    let mut unacked = Unacked::new(policy());
    let cell = Arc::new(AckCell::default());
    unacked.sent(cell.clone(), items(&[1, 2, 3, 4]), Instant::now());
    let whole = Arc::new(AckCell::default());
    unacked.sent(whole, items(&[5]), Instant::now());
    cell.handled(2);
    let left: Vec<_> = unacked.abandon().iter().map(|e| e.id()).collect();
    assert_eq!(left, [3, 4, 5], "1 and 2 were handled: never given up");
}

#[tokio::test(start_paused = true)]
async fn a_batch_failing_on_its_first_delivery_counts_it_alone_once_tracked() {
    let mut unacked = Unacked::new(policy());
    let cell = Arc::new(AckCell::default());
    unacked.sent(cell.clone(), items(&[1, 2, 3]), Instant::now());
    cell.handled(0);
    cell.answer(false);
    let checked = unacked.check(Instant::now());
    assert_eq!((checked.acked, checked.failed), (0, 1));
    tokio::time::advance(Duration::from_millis(10)).await;
    let again: Vec<_> = unacked
        .check(Instant::now())
        .again
        .iter()
        .map(|e| (e.id(), e.attempt()))
        .collect();
    assert_eq!(again, [(1, 2), (2, 1), (3, 1)]);
}
