//! The room: who is online, and the two broadcast channels, one for chat
//! messages (to the WebSockets) and one for room events (to the SSE
//! streams).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use mambo::ws::{Utf8Bytes, WebSocketConfig};
use tokio::sync::broadcast;

use super::protocol::{Outgoing, Post};

/// How many messages a socket may fall behind before it lags.
pub const DEFAULT_CAPACITY: usize = 256;

/// Something that happened in the room, streamed over SSE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// The number of people online changed.
    Presence(usize),
    /// Someone posted for the first time on their socket.
    Joined(String),
    /// Someone who had posted closed their socket.
    Left(String),
}

/// The shared room; cheap to clone.
#[derive(Debug, Clone)]
pub struct Room {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Chat messages, as the JSON text every socket sends.
    messages: broadcast::Sender<Utf8Bytes>,
    /// Presence, joins and departures.
    events: broadcast::Sender<RoomEvent>,
    /// Sockets open now.
    online: AtomicUsize,
    /// The last message id handed out.
    seq: AtomicU64,
    /// Held while the count changes and its event is sent, so that the
    /// presence events come in the order of the counts they carry.
    presence: Mutex<()>,
    /// The limits and timeouts of the room's sockets.
    socket_config: WebSocketConfig,
}

/// Mambo's defaults, with the message and frame limits at
/// [`MAX_MESSAGE_BYTES`](super::MAX_MESSAGE_BYTES).
pub fn default_socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(super::MAX_MESSAGE_BYTES)
        .max_frame_size(super::MAX_MESSAGE_BYTES)
}

impl Default for Room {
    fn default() -> Self {
        Room::new()
    }
}

impl Room {
    /// An empty room whose channels hold [`DEFAULT_CAPACITY`] messages.
    pub fn new() -> Self {
        Room::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty room whose channels hold `capacity` messages.
    pub fn with_capacity(capacity: usize) -> Self {
        Room {
            inner: Arc::new(Inner {
                messages: broadcast::channel(capacity).0,
                events: broadcast::channel(capacity).0,
                online: AtomicUsize::new(0),
                seq: AtomicU64::new(0),
                presence: Mutex::new(()),
                socket_config: default_socket_config(),
            }),
        }
    }

    /// This room with `config` for its sockets (default: Mambo's, with the
    /// message limit at [`MAX_MESSAGE_BYTES`](super::MAX_MESSAGE_BYTES)).
    /// Call before the room is shared.
    ///
    /// # Panics
    ///
    /// When the room was already cloned.
    #[must_use]
    pub fn with_socket_config(mut self, config: WebSocketConfig) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("configure the room before sharing it")
            .socket_config = config;
        self
    }

    /// The limits and timeouts of the room's sockets.
    pub fn socket_config(&self) -> WebSocketConfig {
        self.inner.socket_config
    }

    /// The number of sockets open.
    pub fn online(&self) -> usize {
        self.inner.online.load(Ordering::SeqCst)
    }

    /// Counts a socket in until the returned guard drops.
    pub fn enter(&self) -> Member {
        self.change_presence(|online| online.fetch_add(1, Ordering::SeqCst) + 1);
        Member { room: self.clone(), name: None }
    }

    fn change_presence(&self, change: impl FnOnce(&AtomicUsize) -> usize) {
        let _order = self.inner.presence.lock().unwrap_or_else(|e| e.into_inner());
        let now = change(&self.inner.online);
        // No subscriber is not an error: nobody is watching.
        let _ = self.inner.events.send(RoomEvent::Presence(now));
    }

    /// A receiver of chat messages (JSON text), from now on.
    pub fn subscribe_messages(&self) -> broadcast::Receiver<Utf8Bytes> {
        self.inner.messages.subscribe()
    }

    /// A receiver of room events from now on, and the number online at
    /// that moment (no presence change falls between the two).
    pub fn subscribe_events(&self) -> (broadcast::Receiver<RoomEvent>, usize) {
        let _order = self.inner.presence.lock().unwrap_or_else(|e| e.into_inner());
        (self.inner.events.subscribe(), self.online())
    }

    /// Broadcasts `post` with the next id and the server time; returns the
    /// message as sent.
    pub fn post(&self, post: Post) -> Outgoing {
        let id = self.inner.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let message = Outgoing::Message { id, ts, name: post.name, text: post.text };
        let _ = self.inner.messages.send(Utf8Bytes::from(message.to_json()));
        message
    }

    fn announce(&self, event: RoomEvent) {
        let _ = self.inner.events.send(event);
    }
}

/// One open socket in the room: counted online while it lives; announces
/// `joined` the first time it posts, and `left` on drop if it ever posted.
#[derive(Debug)]
pub struct Member {
    room: Room,
    name: Option<String>,
}

impl Member {
    /// Records that this socket speaks as `name`; the first time, the room
    /// hears that `name` joined.
    pub fn speaks_as(&mut self, name: &str) {
        if self.name.is_none() {
            self.name = Some(name.to_owned());
            self.room.announce(RoomEvent::Joined(name.to_owned()));
        } else if let Some(current) = self.name.as_mut()
            && current != name
        {
            name.clone_into(current);
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.room.change_presence(|online| online.fetch_sub(1, Ordering::SeqCst) - 1);
        if let Some(name) = self.name.take() {
            self.room.announce(RoomEvent::Left(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_follows_members() {
        let room = Room::new();
        let (mut events, online) = room.subscribe_events();
        assert_eq!(online, 0);
        let mut a = room.enter();
        let b = room.enter();
        a.speaks_as("ada");
        drop(b);
        drop(a);
        let seen: Vec<RoomEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
        assert_eq!(
            seen,
            [
                RoomEvent::Presence(1),
                RoomEvent::Presence(2),
                RoomEvent::Joined("ada".into()),
                RoomEvent::Presence(1),
                RoomEvent::Presence(0),
                RoomEvent::Left("ada".into()),
            ]
        );
        assert_eq!(room.online(), 0);
    }

    #[test]
    fn posts_are_numbered() {
        let room = Room::new();
        let mut heard = room.subscribe_messages();
        let post = |text: &str| Post { name: "ada".into(), text: text.into() };
        assert!(matches!(room.post(post("one")), Outgoing::Message { id: 1, .. }));
        assert!(matches!(room.post(post("two")), Outgoing::Message { id: 2, .. }));
        assert!(heard.try_recv().unwrap().as_str().contains(r#""text":"one""#));
    }
}
