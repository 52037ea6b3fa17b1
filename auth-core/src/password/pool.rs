//! A fixed set of Argon2 memory buffers, lent to one hash or verification at a time.
//!
//! Argon2id at OWASP's parameters needs 19 MiB per run. Allocating it per run lets memory grow
//! with the number of concurrent callers, and the allocator keeps much of it afterwards (glibc
//! serves blocks this size from per-thread arenas once its mmap threshold has risen, and does
//! not give them back). The pool allocates at most `max` buffers, each once, and reuses them:
//! a process never holds more than `max` of them, however many requests arrive.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::Block;

/// Why no buffer was lent.
#[derive(Debug)]
pub(super) enum AcquireError {
    /// Every buffer stayed in use for the whole wait.
    Busy,
    /// A new buffer could not be allocated.
    OutOfMemory,
}

#[derive(Default)]
struct State {
    idle: Vec<Box<[Block]>>,
    /// Buffers allocated so far (lent or idle); never more than `max`.
    made: usize,
    /// Callers waiting for a buffer (for tests).
    waiting: usize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("idle", &self.idle.len())
            .field("made", &self.made)
            .field("waiting", &self.waiting)
            .finish()
    }
}

/// See the [module docs](self).
#[derive(Debug)]
pub(super) struct MemoryPool {
    blocks: usize,
    max: usize,
    wait: Duration,
    state: Mutex<State>,
    returned: Condvar,
}

impl MemoryPool {
    /// A pool of at most `max` buffers of `blocks` Argon2 blocks each, whose callers wait at
    /// most `wait` for one. Nothing is allocated until first use.
    pub(super) fn new(blocks: usize, max: usize, wait: Duration) -> Self {
        Self {
            blocks,
            max: max.max(1),
            wait,
            state: Mutex::new(State::default()),
            returned: Condvar::new(),
        }
    }

    pub(super) fn max(&self) -> usize {
        self.max
    }

    pub(super) fn wait(&self) -> Duration {
        self.wait
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state inconsistent: every update is
        // a single push, pop or counter change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lends a buffer: an idle one, a new one while fewer than `max` exist, or the first one
    /// returned within the wait.
    pub(super) fn acquire(&self) -> Result<Lease<'_>, AcquireError> {
        let started = Instant::now();
        let mut state = self.state();
        loop {
            if let Some(buffer) = state.idle.pop() {
                return Ok(Lease::new(self, buffer));
            }
            if state.made < self.max {
                state.made += 1;
                drop(state);
                return match allocate(self.blocks) {
                    Some(buffer) => Ok(Lease::new(self, buffer)),
                    None => {
                        self.state().made -= 1;
                        Err(AcquireError::OutOfMemory)
                    }
                };
            }
            let left = self.wait.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(AcquireError::Busy);
            }
            state.waiting += 1;
            let (next, _timed_out) = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            state.waiting -= 1;
        }
    }

    fn give_back(&self, buffer: Box<[Block]>) {
        self.state().idle.push(buffer);
        self.returned.notify_one();
    }

    /// How many callers wait for a buffer right now.
    #[cfg(test)]
    pub(super) fn waiting(&self) -> usize {
        self.state().waiting
    }

    /// How many buffers exist.
    #[cfg(test)]
    pub(super) fn made(&self) -> usize {
        self.state().made
    }
}

/// `blocks` zeroed Argon2 blocks, or `None` when the allocator refuses.
pub(super) fn allocate(blocks: usize) -> Option<Box<[Block]>> {
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(blocks).ok()?;
    buffer.resize(blocks, Block::new());
    Some(buffer.into_boxed_slice())
}

/// A buffer on loan; zeroed and returned to the pool when dropped.
pub(super) struct Lease<'a> {
    pool: &'a MemoryPool,
    buffer: Option<Box<[Block]>>,
}

impl<'a> Lease<'a> {
    fn new(pool: &'a MemoryPool, buffer: Box<[Block]>) -> Self {
        Self {
            pool,
            buffer: Some(buffer),
        }
    }

    /// The buffer's blocks.
    pub(super) fn blocks(&mut self) -> &mut [Block] {
        self.buffer.as_deref_mut().unwrap_or_default()
    }
}

impl std::fmt::Debug for Lease<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("blocks", &self.buffer.as_ref().map_or(0, |b| b.len()))
            .finish_non_exhaustive()
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(mut buffer) = self.buffer.take() {
            // The blocks are derived from the last password: do not keep them until the next
            // run overwrites them.
            buffer.fill(Block::new());
            self.pool.give_back(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_buffers_exist_and_a_released_one_is_reused() {
        let pool = MemoryPool::new(8, 2, Duration::ZERO);
        let a = pool.acquire().unwrap();
        let b = pool.acquire().unwrap();
        assert!(matches!(pool.acquire(), Err(AcquireError::Busy)));
        assert_eq!(pool.made(), 2);
        drop(a);
        let mut c = pool.acquire().unwrap();
        assert_eq!(pool.made(), 2, "the returned buffer is lent again");
        assert_eq!(c.blocks().len(), 8);
        drop((b, c));
    }

    #[test]
    fn a_waiting_caller_gets_the_first_buffer_returned() {
        let pool = MemoryPool::new(8, 1, Duration::from_secs(600));
        let held = pool.acquire().unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| pool.acquire().map(|_| ()));
            // No sleeping: wait until the other thread is parked on the pool.
            while pool.waiting() == 0 {
                std::thread::yield_now();
            }
            drop(held);
            assert!(waiter.join().unwrap().is_ok());
        });
        assert_eq!(pool.made(), 1);
    }

    #[test]
    fn returned_buffers_are_zeroed() {
        let pool = MemoryPool::new(4, 1, Duration::ZERO);
        let mut lease = pool.acquire().unwrap();
        lease.blocks()[0].as_mut()[0] = 0xdead_beef;
        drop(lease);
        let mut lease = pool.acquire().unwrap();
        assert!(
            lease
                .blocks()
                .iter()
                .all(|b| b.as_ref().iter().all(|w| *w == 0))
        );
    }
}
