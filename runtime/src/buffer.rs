//! Per-thread response buffers.
//!
//! Response bodies (JSON, error bodies) are serialized into a thread-local
//! `BytesMut` and handed to hyper as `Bytes` with `split().freeze()`, which
//! shares the allocation instead of copying. Bodies are written one after
//! the other into the same allocation; when its spare room runs low,
//! `reserve` takes it back whole if every body split off it has been dropped
//! (hyper has written them), and only otherwise allocates a new one. So in
//! steady state a response body costs no allocation, and with many
//! responses in flight (HTTP/2) one allocation serves hundreds of small
//! bodies.

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};

/// Capacity a thread's buffer starts with and grows back to.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// Spare room below which the next body first reclaims (or replaces) the
/// buffer.
const MIN_SPARE: usize = 1024;

thread_local! {
    static BUFFER: RefCell<BytesMut> = RefCell::new(BytesMut::with_capacity(INITIAL_CAPACITY));
}

/// Runs `write` on this thread's pooled buffer and returns what it wrote as
/// `Bytes`, sharing the buffer's allocation.
///
/// If `write` fails, whatever it wrote is discarded.
///
/// # Examples
///
/// ```
/// use bytes::BufMut;
///
/// let bytes = mambo::buffer::write_pooled(|buf| {
///     buf.put_slice(b"hello");
///     Ok::<_, std::convert::Infallible>(())
/// })
/// .unwrap();
/// assert_eq!(&bytes[..], b"hello");
/// ```
pub fn write_pooled<E>(write: impl FnOnce(&mut BytesMut) -> Result<(), E>) -> Result<Bytes, E> {
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            // Reclaims the allocation when every `Bytes` split off it earlier
            // has been dropped; allocates anew only when one is still alive.
            // Not before each body: with bodies still in flight that would
            // allocate every time.
            if buf.capacity() < MIN_SPARE {
                buf.reserve(INITIAL_CAPACITY);
            }
            let result = write(&mut buf);
            let written = buf.split();
            result.map(|()| written.freeze())
        }
        // Re-entered from inside `write` (a Serialize impl that renders a
        // response): fall back to a fresh buffer rather than panic.
        Err(_) => {
            let mut buf = BytesMut::new();
            write(&mut buf).map(|()| buf.freeze())
        }
    })
}

/// Serializes `value` as JSON into the pooled buffer.
///
/// # Errors
///
/// Fails when `value`'s `Serialize` impl fails (a map with non-string keys, a
/// custom impl that returns an error).
pub fn json_pooled<T: serde::Serialize + ?Sized>(value: &T) -> Result<Bytes, serde_json::Error> {
    write_pooled(|buf| serde_json::to_writer(Appender(buf), value))
}

/// `io::Write` onto a `BytesMut`, inlined down to `extend_from_slice`:
/// serde_json writes a value in many small pieces, and through
/// `bytes::buf::Writer` each piece is a call.
struct Appender<'a>(&'a mut BytesMut);

impl std::io::Write for Appender<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills the thread's buffer until its spare room is below `MIN_SPARE`.
    fn use_up_the_spare_room() -> Vec<Bytes> {
        let mut bodies = Vec::new();
        while BUFFER.with(|buf| buf.borrow().capacity()) >= MIN_SPARE {
            bodies.push(json_pooled(&"x".repeat(500)).unwrap());
        }
        bodies
    }

    #[test]
    fn bodies_in_flight_share_one_allocation() {
        // Start from a reclaimed buffer, so both bodies fit in it.
        drop(use_up_the_spare_room());
        let first = json_pooled(&"first").unwrap();
        let second = json_pooled(&"second").unwrap();
        assert_eq!(&second[..], b"\"second\"");
        assert_eq!(second.as_ptr(), first.as_ptr().wrapping_add(first.len()));
    }

    #[test]
    fn reuses_the_allocation_once_the_bodies_are_dropped() {
        drop(use_up_the_spare_room());
        let start = json_pooled(&"start").unwrap();
        let start_ptr = start.as_ptr();
        drop(start);
        drop(use_up_the_spare_room());
        let again = json_pooled(&"again").unwrap();
        assert_eq!(&again[..], b"\"again\"");
        assert_eq!(again.as_ptr(), start_ptr, "the buffer was not reclaimed");
    }

    #[test]
    fn a_live_body_is_never_overwritten() {
        let first = json_pooled(&1).unwrap();
        let second = json_pooled(&2).unwrap();
        assert_eq!(&first[..], b"1");
        assert_eq!(&second[..], b"2");
    }
}
