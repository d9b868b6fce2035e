//! A WebSocket's limits and timeouts, with production defaults.

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig as Tungstenite;

/// Limits and timeouts of the sockets a [`WebSocketUpgrade`](super::WebSocketUpgrade)
/// opens.
///
/// | setting | default | what happens past it |
/// |---|---|---|
/// | [`max_message_size`](Self::max_message_size) | 2 MiB | the socket closes with 1009 and `recv` returns an error |
/// | [`max_frame_size`](Self::max_frame_size) | 2 MiB | the same, checked from the frame header before the payload is read |
/// | [`write_buffer_size`](Self::write_buffer_size) | 64 KiB | `send` waits for the client to read (backpressure): outgoing data never queues past this plus one message |
/// | [`read_buffer_size`](Self::read_buffer_size) | 8 KiB | the buffer grows as a message needs, up to the limits above |
/// | [`ping_interval`](Self::ping_interval) | 30 s | after this long without a frame from the client, the server sends a ping |
/// | [`idle_timeout`](Self::idle_timeout) | 60 s | after this long without a frame (pongs count), the connection is dropped |
/// | [`write_timeout`](Self::write_timeout) | 30 s | a `send` or flush that has waited this long for the client to read drops the connection |
///
/// Timeouts are checked on a tick of the shortest one, so each fires at
/// most one tick late. `None` turns one off.
///
/// The socket also closes with 1001 (going away) when the server starts
/// its graceful shutdown, and is dropped when the shutdown timeout passes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use mambo::ws::WebSocketConfig;
///
/// let config = WebSocketConfig::default()
///     .max_message_size(16 << 20)
///     .ping_interval(Some(Duration::from_secs(10)))
///     .idle_timeout(Some(Duration::from_secs(25)));
/// assert_eq!(config.get_max_message_size(), 16 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSocketConfig {
    max_message_size: usize,
    max_frame_size: usize,
    write_buffer_size: usize,
    read_buffer_size: usize,
    ping_interval: Option<Duration>,
    idle_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

/// The default message and frame limit: 2 MiB, the same as a request
/// body's (`DEFAULT_BODY_LIMIT`).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 2 << 20;

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_MESSAGE_SIZE,
            write_buffer_size: 64 << 10,
            read_buffer_size: 8 << 10,
            ping_interval: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(60)),
            write_timeout: Some(Duration::from_secs(30)),
        }
    }
}

impl WebSocketConfig {
    /// The largest message the client may send, in bytes (fragments added
    /// up). Default 2 MiB.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// The largest frame the client may send, in bytes of payload. Default
    /// 2 MiB.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// How much outgoing data is gathered before it is written, and how
    /// much may wait for a slow client before `send` waits too. Default
    /// 64 KiB. `0` writes each message at once.
    #[must_use]
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// The read buffer each socket starts with. Default 8 KiB: small, since
    /// a server holds many sockets; it grows for larger messages.
    #[must_use]
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes.max(1);
        self
    }

    /// How long the client may stay silent before the server pings it.
    /// Default 30 s.
    #[must_use]
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// How long the client may stay silent (no frame at all, pongs
    /// included) before the connection is dropped. Default 60 s: a client
    /// that answers the pings is never idle.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout.filter(|timeout| !timeout.is_zero());
        self
    }

    /// How long a `send` may wait for a client that does not read before
    /// the connection is dropped. Default 30 s.
    #[must_use]
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout.filter(|timeout| !timeout.is_zero());
        self
    }

    /// The message limit in force.
    pub fn get_max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The frame limit in force.
    pub fn get_max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The ping interval in force.
    pub fn get_ping_interval(&self) -> Option<Duration> {
        self.ping_interval
    }

    /// The idle timeout in force.
    pub fn get_idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The write timeout in force.
    pub fn get_write_timeout(&self) -> Option<Duration> {
        self.write_timeout
    }

    /// The period the watchdog checks the timeouts at: the shortest one.
    pub(super) fn tick(&self) -> Option<Duration> {
        [self.ping_interval, self.idle_timeout, self.write_timeout].into_iter().flatten().min()
    }

    pub(super) fn to_tungstenite(self) -> Tungstenite {
        // `max_write_buffer_size` stays unlimited: it also caps one outgoing
        // message, and `send` already waits while the buffer is past
        // `write_buffer_size`, so the buffer holds at most that plus one
        // message.
        Tungstenite::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size))
    }
}
