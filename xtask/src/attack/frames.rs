//! Hand-written HTTP/2 frames (RFC 9113) and the little HPACK (RFC 7541)
//! they need, for the cases a conforming client library refuses to send:
//! floods, resets right after HEADERS, header blocks that never end.

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types.
pub const HEADERS: u8 = 0x1;
/// RST_STREAM.
pub const RST_STREAM: u8 = 0x3;
/// SETTINGS.
pub const SETTINGS: u8 = 0x4;
/// PING.
pub const PING: u8 = 0x6;
/// GOAWAY.
pub const GOAWAY: u8 = 0x7;
/// CONTINUATION.
pub const CONTINUATION: u8 = 0x9;

/// Flags.
pub const END_STREAM: u8 = 0x1;
/// ACK on SETTINGS and PING.
pub const ACK: u8 = 0x1;
/// END_HEADERS on HEADERS and CONTINUATION.
pub const END_HEADERS: u8 = 0x4;

/// RST_STREAM / GOAWAY error code CANCEL.
pub const CANCEL: u32 = 0x8;

/// The largest frame payload a peer must accept without asking
/// (SETTINGS_MAX_FRAME_SIZE's initial value).
pub const MAX_FRAME: usize = 16_384;

/// One frame: 9-byte header, then `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("frame payload under 16 MiB");
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The preface and an empty SETTINGS frame: how every client starts.
pub fn client_start() -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    out
}

/// A SETTINGS frame carrying `pairs` (identifier, value).
pub fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let payload: Vec<u8> = pairs
        .iter()
        .flat_map(|(id, v)| id.to_be_bytes().into_iter().chain(v.to_be_bytes()))
        .collect();
    frame(SETTINGS, 0, 0, &payload)
}

/// A SETTINGS acknowledgement.
pub fn settings_ack() -> Vec<u8> {
    frame(SETTINGS, ACK, 0, &[])
}

/// A PING (not an ACK) with `data` as its 8 opaque bytes.
pub fn ping(data: u64) -> Vec<u8> {
    frame(PING, 0, 0, &data.to_be_bytes())
}

/// RST_STREAM on `stream` with `code`.
pub fn rst_stream(stream: u32, code: u32) -> Vec<u8> {
    frame(RST_STREAM, 0, stream, &code.to_be_bytes())
}

/// The HPACK block of `GET path` with `:scheme http` and `:authority`.
pub fn get_block(path: &str, authority: &str) -> Vec<u8> {
    // Static table: 2 = `:method GET`, 6 = `:scheme http`, 4 = `:path /`, 1 = `:authority`.
    let mut out = vec![0x82, 0x86];
    if path == "/" {
        out.push(0x84);
    } else {
        literal_indexed_name(4, path.as_bytes(), &mut out);
    }
    literal_indexed_name(1, authority.as_bytes(), &mut out);
    out
}

/// A literal header field without indexing, with a new name.
pub fn literal(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    string(name, &mut out);
    string(value, &mut out);
    out
}

/// A literal without indexing whose name is static-table entry `index`.
fn literal_indexed_name(index: usize, value: &[u8], out: &mut Vec<u8>) {
    integer(4, 0x00, index, out);
    string(value, out);
}

/// A string literal, not Huffman-coded.
fn string(bytes: &[u8], out: &mut Vec<u8>) {
    integer(7, 0x00, bytes.len(), out);
    out.extend_from_slice(bytes);
}

/// An HPACK integer with a `prefix`-bit prefix; `flags` fills the bits above it.
fn integer(prefix: u32, flags: u8, value: usize, out: &mut Vec<u8>) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// A frame's 9-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Payload length.
    pub len: usize,
    /// Type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream id.
    pub stream: u32,
}

/// Collects bytes read from a server and hands back whole frames.
#[derive(Debug, Default)]
pub struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    /// Appends `bytes` and returns the frames now complete, with payloads.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(Head, Vec<u8>)> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut at = 0;
        while self.buf.len() - at >= 9 {
            let b = &self.buf[at..];
            let len = u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize;
            if b.len() < 9 + len {
                break;
            }
            let stream = u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff;
            let head = Head { len, kind: b[3], flags: b[4], stream };
            frames.push((head, b[9..9 + len].to_vec()));
            at += 9 + len;
        }
        self.buf.drain(..at);
        frames
    }
}

/// The error code and last stream id of a GOAWAY payload.
pub fn goaway(payload: &[u8]) -> Option<(u32, u32)> {
    let last = u32::from_be_bytes(payload.get(..4)?.try_into().ok()?) & 0x7fff_ffff;
    Some((u32::from_be_bytes(payload.get(4..8)?.try_into().ok()?), last))
}

/// The name of an HTTP/2 error code, for the report.
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    NAMES.get(code as usize).map_or_else(|| format!("0x{code:x}"), |n| (*n).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpack_integers_from_rfc_7541_c1() {
        let mut out = Vec::new();
        integer(5, 0, 10, &mut out);
        assert_eq!(out, [0x0a]);
        out.clear();
        integer(5, 0, 1337, &mut out);
        assert_eq!(out, [0x1f, 0x9a, 0x0a]);
        out.clear();
        integer(8, 0, 42, &mut out);
        assert_eq!(out, [42]);
    }

    #[test]
    fn get_block_uses_the_static_table() {
        assert_eq!(get_block("/", "a"), [0x82, 0x86, 0x84, 0x01, 0x01, b'a']);
        assert_eq!(&get_block("/p", "a")[2..6], [0x04, 0x02, b'/', b'p']);
        assert_eq!(literal(b"x", b"yz"), [0x00, 1, b'x', 2, b'y', b'z']);
    }

    #[test]
    fn frames_round_trip_through_the_reader() {
        let mut bytes = ping(7);
        bytes.extend(rst_stream(3, CANCEL));
        bytes.extend(frame(GOAWAY, 0, 0, &[0x80, 0, 0, 41, 0, 0, 0, 11]));
        let mut reader = Reader::default();
        // Split mid-frame: the first call sees one whole frame and a piece.
        let first = reader.feed(&bytes[..20]);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, Head { len: 8, kind: PING, flags: 0, stream: 0 });
        assert_eq!(first[0].1, 7u64.to_be_bytes());
        let rest = reader.feed(&bytes[20..]);
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0].0, Head { len: 4, kind: RST_STREAM, flags: 0, stream: 3 });
        assert_eq!(goaway(&rest[1].1), Some((11, 41)));
        assert_eq!(error_name(11), "ENHANCE_YOUR_CALM");
        assert_eq!(error_name(99), "0x63");
    }

    #[test]
    fn settings_payload() {
        assert_eq!(settings(&[(4, 0)]), [0, 0, 6, SETTINGS, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(client_start().len(), PREFACE.len() + 9);
    }
}
