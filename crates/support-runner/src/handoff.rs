//! The hand-off between the thread that reads records and the one that
//! processes them: the reader fills a batch up to the batch limits, and the
//! processor takes whatever has arrived. A busy stream is processed in full
//! batches; a slow one (`tail -f`, a chat bridge) record by record, as soon
//! as each arrives, instead of waiting for a batch to fill.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::input::{RawRecord, BATCH_BYTES, BATCH_RECORDS};

/// What the processor takes: records, or the end of the input.
pub(crate) enum Taken {
    Records(Vec<RawRecord>),
    End(io::Result<()>),
}

#[derive(Default)]
struct Pending {
    records: Vec<RawRecord>,
    bytes: usize,
    /// The input ended (or failed) after `records`; taken by the processor.
    end: Option<io::Result<()>>,
    /// The reader has said its last word: `end` is set only once.
    closed: bool,
    /// Set by the processor when it stops early, so the reader stops too.
    abandoned: bool,
}

impl Pending {
    fn full(&self) -> bool {
        self.records.len() >= BATCH_RECORDS || self.bytes >= BATCH_BYTES
    }
}

#[derive(Default)]
pub(crate) struct Handoff {
    pending: Mutex<Pending>,
    changed: Condvar,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock cannot leave `Pending` half-changed.
        lock(&self.pending)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Pending>) -> MutexGuard<'a, Pending> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a record, waiting while the batch is full. False when the
    /// processor has stopped and the record is not wanted.
    pub(crate) fn push(&self, record: RawRecord) -> bool {
        let mut pending = self.lock();
        while pending.full() && !pending.abandoned {
            pending = self.wait(pending);
        }
        if pending.abandoned {
            return false;
        }
        pending.bytes += record.content.as_ref().map_or(0, Vec::len);
        pending.records.push(record);
        // The processor waits only for a first record: waking it for every
        // record would cost the reader a system call each.
        let first = pending.records.len() == 1;
        drop(pending);
        if first {
            self.changed.notify_all();
        }
        true
    }

    /// Marks the end of the input (or the error that ended it); only the
    /// first call counts.
    pub(crate) fn close(&self, end: io::Result<()>) {
        let mut pending = self.lock();
        if !std::mem::replace(&mut pending.closed, true) {
            pending.end = Some(end);
        }
        drop(pending);
        self.changed.notify_all();
    }

    /// Tells the reader to stop: nothing more will be taken.
    pub(crate) fn abandon(&self) {
        self.lock().abandoned = true;
        self.changed.notify_all();
    }

    /// The records that have arrived, or the end once every record is taken;
    /// `None` when nothing has arrived and the input goes on.
    pub(crate) fn try_take(&self) -> Option<Taken> {
        let mut pending = self.lock();
        let taken = Self::take_from(&mut pending)?;
        drop(pending);
        self.changed.notify_all();
        Some(taken)
    }

    /// As [`Handoff::try_take`], waiting for the reader when nothing has arrived.
    pub(crate) fn take(&self) -> Taken {
        let mut pending = self.lock();
        loop {
            if let Some(taken) = Self::take_from(&mut pending) {
                drop(pending);
                self.changed.notify_all();
                return taken;
            }
            pending = self.wait(pending);
        }
    }

    fn take_from(pending: &mut Pending) -> Option<Taken> {
        if !pending.records.is_empty() {
            pending.bytes = 0;
            return Some(Taken::Records(std::mem::take(&mut pending.records)));
        }
        pending.end.take().map(Taken::End)
    }
}

/// Locks `mutex` even if a thread panicked while holding it: for data that
/// each change leaves whole.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes the hand-off when the reader's thread ends however it ends, a
/// panic included, so the processor never waits for a reader that is gone.
pub(crate) struct CloseOnExit<'a>(pub(crate) &'a Handoff);

impl Drop for CloseOnExit<'_> {
    fn drop(&mut self) {
        self.0.close(match std::thread::panicking() {
            true => Err(io::Error::other("reading the input failed")),
            false => Ok(()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(number: u64) -> RawRecord {
        RawRecord {
            number,
            content: Ok(b"{}".to_vec()),
        }
    }

    fn numbers(taken: Option<Taken>) -> Vec<u64> {
        match taken {
            Some(Taken::Records(records)) => records.iter().map(|r| r.number).collect(),
            Some(Taken::End(_)) => panic!("the end came before the records"),
            None => Vec::new(),
        }
    }

    #[test]
    fn the_processor_takes_what_has_arrived_without_waiting_for_a_full_batch() {
        let handoff = Handoff::default();
        assert!(handoff.try_take().is_none());
        assert!(handoff.push(record(1)));
        assert_eq!(numbers(handoff.try_take()), [1]);
        assert!(handoff.try_take().is_none(), "the input goes on");
        assert!(handoff.push(record(2)));
        assert!(handoff.push(record(3)));
        handoff.close(Ok(()));
        assert_eq!(
            numbers(handoff.try_take()),
            [2, 3],
            "records before the end"
        );
        assert!(matches!(handoff.try_take(), Some(Taken::End(Ok(())))));
    }

    #[test]
    fn a_full_batch_holds_the_reader_until_it_is_taken() {
        let handoff = Handoff::default();
        let total = BATCH_RECORDS as u64 * 3 + 5;
        let taken = std::thread::scope(|scope| {
            scope.spawn(|| {
                for number in 1..=total {
                    assert!(handoff.push(record(number)));
                }
                handoff.close(Ok(()));
            });
            let mut taken = Vec::new();
            loop {
                match handoff.take() {
                    Taken::Records(records) => {
                        assert!(records.len() <= BATCH_RECORDS);
                        taken.extend(records.iter().map(|r| r.number));
                    }
                    Taken::End(end) => {
                        end.unwrap();
                        return taken;
                    }
                }
            }
        });
        assert_eq!(taken, (1..=total).collect::<Vec<u64>>());
    }

    #[test]
    fn a_reader_that_panics_still_ends_the_input() {
        let handoff = Handoff::default();
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let _closed = CloseOnExit(&handoff);
                assert!(handoff.push(record(1)));
                panic!("a reader bug");
            });
            assert_eq!(numbers(Some(handoff.take())), [1]);
            assert!(matches!(handoff.take(), Taken::End(Err(_))));
            assert!(reader.join().is_err());
        });
    }

    #[test]
    fn an_abandoned_handoff_releases_a_waiting_reader() {
        let handoff = Handoff::default();
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| (1..).all(|number| handoff.push(record(number))));
            assert!(matches!(handoff.take(), Taken::Records(_)));
            handoff.abandon();
            assert!(!reader.join().unwrap(), "the reader stopped");
        });
    }
}
