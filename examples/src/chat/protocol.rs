//! What travels over the chat's WebSocket: the JSON a client sends, its
//! validation, and the JSON the server sends back.

use serde::{Deserialize, Serialize};

/// The longest name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 32;

/// The longest message text, in characters, after trimming.
pub const MAX_TEXT_CHARS: usize = 500;

/// What a client sends: `{"name":"ada","text":"hello"}`.
#[derive(Debug, Deserialize)]
pub struct Incoming {
    /// Who speaks.
    pub name: String,
    /// What they say.
    pub text: String,
}

/// A message that passed [`validate`]: trimmed, non-empty, within limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The speaker's name, trimmed.
    pub name: String,
    /// The text, trimmed.
    pub text: String,
}

/// Parses and checks a text frame; the error is the sentence the client
/// gets back.
pub fn validate(frame: &str) -> Result<Post, String> {
    let incoming: Incoming = serde_json::from_str(frame)
        .map_err(|err| format!("expected {{\"name\": string, \"text\": string}}: {err}"))?;
    let name = checked("name", &incoming.name, MAX_NAME_CHARS)?;
    let text = checked("text", &incoming.text, MAX_TEXT_CHARS)?;
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".to_owned());
    }
    Ok(Post { name, text })
}

/// `value` trimmed, if it is neither empty nor longer than `max` characters.
fn checked(field: &str, value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(format!("{field} is {chars} characters long; at most {max} allowed"));
    }
    Ok(value.to_owned())
}

/// What the server sends on a socket, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Outgoing {
    /// A message posted to the room, sent to every socket.
    Message {
        /// The room's sequence number, from 1.
        id: u64,
        /// Server time, milliseconds since the Unix epoch.
        ts: u64,
        /// Who spoke.
        name: String,
        /// What they said.
        text: String,
    },
    /// This socket sent something invalid; nothing was broadcast.
    Error {
        /// Why.
        error: String,
    },
    /// This socket fell behind the room and `missed` messages were dropped
    /// for it.
    Lagged {
        /// How many messages it missed.
        missed: u64,
    },
}

impl Outgoing {
    /// The JSON text of the message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("chat messages serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts() {
        let post = validate(r#"{"name":"  ada ","text":" hi  "}"#).unwrap();
        assert_eq!(post, Post { name: "ada".into(), text: "hi".into() });
    }

    #[test]
    fn rejects_bad_input() {
        assert!(validate("not json").unwrap_err().starts_with("expected"));
        assert!(validate(r#"{"name":"ada"}"#).is_err());
        assert_eq!(validate(r#"{"name":" ","text":"x"}"#).unwrap_err(), "name must not be empty");
        assert_eq!(validate(r#"{"name":"a","text":"  "}"#).unwrap_err(), "text must not be empty");
        let long = format!(r#"{{"name":"a","text":"{}"}}"#, "é".repeat(MAX_TEXT_CHARS + 1));
        assert!(validate(&long).unwrap_err().contains("at most 500"));
        assert!(validate(r#"{"name":"a\u0007","text":"x"}"#).is_err());
    }

    #[test]
    fn outgoing_json_shape() {
        let lagged = Outgoing::Lagged { missed: 3 }.to_json();
        assert_eq!(lagged, r#"{"type":"lagged","missed":3}"#);
    }
}
