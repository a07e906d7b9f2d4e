//! Bounded Argon2id: at most `concurrency` derivations run at once (each
//! holds its memory cost, 64 or 256 MiB), at most `queue` wait, and the rest
//! are told the service is busy. A flood of logins therefore costs at most
//! `concurrency × 256 MiB` of memory and never grows a queue without end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::error::SaaddError;

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct KdfLimiter {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
}

impl KdfLimiter {
    pub fn new(concurrency: usize, queue: usize, wait: Duration) -> KdfLimiter {
        KdfLimiter {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            wait,
        }
    }

    /// Runs `work` on a blocking thread once a permit is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SaaddError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(SaaddError::Busy);
        }
        // Leaves the queue however the wait ends, also when the request is
        // dropped mid-wait (a client that disconnects during a flood).
        let waiting = Waiting(&self.waiting);
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        drop(waiting);
        let permit = match permit {
            Ok(Ok(p)) => p,
            _ => return Err(SaaddError::Busy),
        };
        let out = tokio::task::spawn_blocking(move || {
            let _held = permit;
            work()
        })
        .await
        .map_err(|_| SaaddError::Busy)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_dropped_while_waiting_leaves_the_queue() {
        let l = Arc::new(KdfLimiter::new(1, 1, Duration::from_secs(5)));
        let busy = l.clone();
        let holder = tokio::spawn(async move {
            busy.run(|| std::thread::sleep(Duration::from_millis(300)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waiter = l.clone();
        let dropped = tokio::spawn(async move { waiter.run(|| ()).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        dropped.abort();
        let _ = dropped.await;
        holder.await.unwrap().unwrap();
        assert!(l.run(|| 7).await.is_ok(), "queue slot was given back");
    }
}
