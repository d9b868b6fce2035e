//! `GET /events`: the room's events as server-sent events.
//!
//! ```text
//! event: presence
//! data: 2
//!
//! event: joined
//! data: ada
//! ```

use std::convert::Infallible;
use std::time::Duration;

use futures_util::Stream;
use mambo::sse::Event;
use tokio::sync::broadcast::error::RecvError;

use super::room::{Room, RoomEvent};

/// How soon a browser reconnects after the stream breaks.
const RETRY: Duration = Duration::from_secs(2);

/// The SSE form of a room event.
pub fn to_sse(event: &RoomEvent) -> Event {
    match event {
        RoomEvent::Presence(online) => Event::default().event("presence").data(online.to_string()),
        RoomEvent::Joined(name) => Event::default().event("joined").data(name.clone()),
        RoomEvent::Left(name) => Event::default().event("left").data(name.clone()),
    }
}

/// The room's events from now on, starting with the number online now. A
/// stream that falls behind skips to the current number online.
pub fn stream(room: Room) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let (receiver, online) = room.subscribe_events();
    let first = to_sse(&RoomEvent::Presence(online)).retry(RETRY);
    futures_util::stream::unfold(
        (Some(first), receiver, room),
        |(first, mut receiver, room)| async move {
            let event = match first {
                Some(event) => event,
                None => match receiver.recv().await {
                    Ok(event) => to_sse(&event),
                    Err(RecvError::Lagged(_)) => to_sse(&RoomEvent::Presence(room.online())),
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (None, receiver, room)))
        },
    )
}
