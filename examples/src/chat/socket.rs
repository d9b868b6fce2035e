//! One WebSocket in the room: a task that forwards the room's messages to
//! it, and the loop that reads what it sends.

use futures_util::{Sink, SinkExt};
use mambo::ws::{Message, Utf8Bytes, WebSocket, WebSocketReceiver};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

use super::protocol::{Outgoing, validate};
use super::room::{Member, Room};

/// Replies meant for one socket only (its errors) that may wait while the
/// socket is slow.
const DIRECT_QUEUE: usize = 16;

/// Serves `socket` until it closes: counted online meanwhile, its valid
/// messages broadcast, its invalid ones answered with an error.
pub async fn session(room: Room, socket: WebSocket) {
    // Subscribed before counted: once the room counts a socket online, it
    // hears every message posted.
    let heard = room.subscribe_messages();
    let mut member = room.enter();
    let (sender, receiver) = socket.split();
    let (direct, replies) = mpsc::channel(DIRECT_QUEUE);
    // Both halves in this one task, not a spawned forwarder: when the
    // socket's watchdog drops the session (the client went silent, the
    // server's shutdown timeout passed), both go, and the socket with them.
    tokio::select! {
        () = forward(heard, replies, sender) => {}
        () = read(receiver, &room, &mut member, &direct) => {}
    }
}

/// Sends the room's messages and this socket's own replies to `sink`, until
/// either source ends or the sink fails. A socket that fell behind the room
/// is told how many messages it missed, and goes on with the next one.
pub async fn forward<S>(
    mut heard: broadcast::Receiver<Utf8Bytes>,
    mut replies: mpsc::Receiver<Utf8Bytes>,
    mut sink: S,
) where
    S: Sink<Message> + Unpin,
{
    loop {
        let text = tokio::select! {
            biased;
            reply = replies.recv() => match reply {
                Some(text) => text,
                None => break,
            },
            heard = heard.recv() => match heard {
                Ok(text) => text,
                Err(RecvError::Lagged(missed)) => {
                    Utf8Bytes::from(Outgoing::Lagged { missed }.to_json())
                }
                Err(RecvError::Closed) => break,
            },
        };
        if sink.send(Message::Text(text)).await.is_err() {
            break;
        }
    }
}

/// Reads `receiver` until the client closes or the connection fails.
async fn read(
    mut receiver: WebSocketReceiver,
    room: &Room,
    member: &mut Member,
    replies: &mpsc::Sender<Utf8Bytes>,
) {
    while let Some(Ok(message)) = receiver.recv().await {
        let error = match message {
            Message::Text(text) => match validate(text.as_str()) {
                Ok(post) => {
                    member.speaks_as(&post.name);
                    room.post(post);
                    continue;
                }
                Err(error) => error,
            },
            Message::Binary(_) => "binary messages are not accepted: send JSON text".to_owned(),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let reply = Utf8Bytes::from(Outgoing::Error { error }.to_json());
        if replies.send(reply).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A sink that keeps the texts it is given.
    fn collector() -> (Arc<Mutex<Vec<String>>>, impl Sink<Message> + Unpin) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        let sink = futures_util::sink::unfold((), move |(), message: Message| {
            keep.lock().unwrap().push(message.to_text().unwrap_or_default().to_owned());
            async { Ok::<_, std::convert::Infallible>(()) }
        });
        (seen, Box::pin(sink))
    }

    #[tokio::test]
    async fn a_lagging_socket_is_told_what_it_missed() {
        let (room, heard) = broadcast::channel(2);
        for n in 1..=5 {
            room.send(Utf8Bytes::from(format!("m{n}"))).unwrap();
        }
        drop(room);
        let (_direct, replies) = mpsc::channel(1);
        let (seen, sink) = collector();
        forward(heard, replies, sink).await;
        assert_eq!(*seen.lock().unwrap(), [r#"{"type":"lagged","missed":3}"#, "m4", "m5"]);
    }
}
