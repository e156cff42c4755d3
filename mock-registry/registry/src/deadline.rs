//! Deadlines on one long-lived timer, for the EPP server's and client's reads and writes.
//!
//! `tokio::time::timeout` arms a fresh timer for every operation. When no other timer is
//! pending, tokio cannot tell that the new one is armed from the runtime's own thread and
//! wakes the driver through its eventfd: a system call and an extra turn of the event loop
//! for every frame. A timer that stays armed between operations is only moved when an
//! operation actually waits, and only ever to an earlier deadline or after it fired.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

/// The deadlines of one connection, on one timer.
///
/// The server's reads wait at most the idle timeout for the next frame (RFC 5734 §2 lets a
/// server close an idle session), its writes at most the write timeout for the client to take
/// an answer; a client's reads and writes wait at most its own timeout. One `Sleep` serves
/// all and is re-armed lazily: on the common path (data ready, or the socket taking the whole
/// frame) no timer is touched at all, so a deadline costs nothing per frame; only when an
/// operation has to wait is the timer moved to its deadline, and when it fires early (the
/// deadline moved on since) it is pushed to the current one.
#[derive(Debug)]
pub struct Deadlines {
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Deadlines {
    /// A timer first set `first` from now.
    pub fn new(first: Duration) -> Self {
        Self {
            timer: Box::pin(tokio::time::sleep_until(deadline_after(first))),
        }
    }

    /// Runs `op` until it completes (`Some`) or `limit` has passed since the call (`None`).
    ///
    /// Each wake-up polls `op` once, then the timer. Most operations complete on their first
    /// poll, and the timer is left alone then; the first time `op` has to wait, the timer is
    /// moved to this deadline if that is earlier than where it stands.
    pub async fn within<F: Future>(&mut self, limit: Duration, op: F) -> Option<F::Output> {
        let deadline = deadline_after(limit);
        let mut op = pin!(op);
        let mut armed = false;
        poll_fn(|cx| {
            if let Poll::Ready(out) = op.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if !armed {
                armed = true;
                if self.timer.deadline() > deadline {
                    self.timer.as_mut().reset(deadline);
                }
            }
            // The timer may stand at an earlier operation's deadline: when it fires before
            // this one's, it is pushed on (and polled again, so it wakes this task then).
            while self.timer.as_mut().poll(cx).is_ready() {
                if Instant::now() >= deadline {
                    return Poll::Ready(None);
                }
                self.timer.as_mut().reset(deadline);
            }
            Poll::Pending
        })
        .await
    }
}

/// `now + limit`, or a date decades away when that is not representable (`--idle-timeout`
/// takes any number of seconds).
fn deadline_after(limit: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(limit)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::pending;

    /// One timer serves deadlines of different lengths: a short one times out on time, a
    /// longer one after it is not cut short by the timer the short one left behind, and a
    /// short one after a long one is kept.
    #[tokio::test]
    async fn deadlines_of_different_lengths_share_one_timer() {
        let mut d = Deadlines::new(Duration::from_secs(600));
        assert_eq!(
            d.within(Duration::from_millis(50), async { 7 }).await,
            Some(7)
        );
        let started = Instant::now();
        assert_eq!(
            d.within(Duration::from_millis(50), pending::<()>()).await,
            None
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
        let slow = tokio::time::sleep(Duration::from_millis(150));
        assert_eq!(d.within(Duration::from_secs(5), slow).await, Some(()));
        let started = Instant::now();
        assert_eq!(
            d.within(Duration::from_millis(50), pending::<()>()).await,
            None
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(50) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }
}
