//! `param_decode`: path parameter decoding and parsing.
//!
//! Input: a raw path parameter (what `lookup` slices out of the path;
//! non-UTF-8 inputs are skipped, a `&str` path cannot hold them). Checks:
//!
//! - [`decode_param`] agrees with the `percent-encoding` crate and with a
//!   decoder written from RFC 3986 (`%` and two hex digits is a byte,
//!   anything else is itself), fails exactly when the bytes are not UTF-8,
//!   and borrows when there is no `%`;
//! - every built-in [`FromParam`] (integers, floats, `bool`, `char`) parses
//!   the decoded value as `str::parse` does, without panicking;
//! - a failed parse is the 400 `PathParamRejection` JSON body.

use std::borrow::Cow;
use std::fmt::Debug;
use std::str::FromStr;

use mambo::StatusCode;
use mambo::extract::{FromParam, decode_param};
use percent_encoding::percent_decode_str;

/// Panics when decoding or parsing `data` breaks one of the rules above.
pub fn check(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let ours = decode_param(raw);
    let theirs = percent_decode_str(raw).decode_utf8();
    let reference = String::from_utf8(rfc3986_decode(raw));
    match (&ours, &theirs, &reference) {
        (Ok(ours), Ok(theirs), Ok(reference)) => {
            assert_eq!(ours, theirs, "{raw:?}: mambo (left) != percent-encoding (right)");
            assert_eq!(ours, reference, "{raw:?}: mambo (left) != RFC 3986 (right)");
            if !raw.contains('%') {
                assert!(matches!(ours, Cow::Borrowed(_)), "{raw:?}: copied without a `%`");
            }
        }
        (Err(_), Err(_), Err(_)) => {}
        _ => panic!(
            "{raw:?}: disagree on UTF-8: mambo {ours:?}, percent-encoding {theirs:?}, RFC 3986 {reference:?}"
        ),
    }
    let value = match &ours {
        Ok(value) => value,
        // The parsers see every `str`, decoded or not.
        Err(_) => raw,
    };
    parses_like_from_str(value);
}

/// `%XX` (two hex digits, any case) is the byte `0xXX`; every other byte,
/// a lone or malformed `%` included, is itself.
fn rfc3986_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn parses_like_from_str(value: &str) {
    same_as_from_str::<u8>(value);
    same_as_from_str::<u16>(value);
    same_as_from_str::<u32>(value);
    same_as_from_str::<u64>(value);
    same_as_from_str::<u128>(value);
    same_as_from_str::<usize>(value);
    same_as_from_str::<i8>(value);
    same_as_from_str::<i16>(value);
    same_as_from_str::<i32>(value);
    same_as_from_str::<i64>(value);
    same_as_from_str::<i128>(value);
    same_as_from_str::<isize>(value);
    same_as_from_str::<bool>(value);
    same_as_from_str::<char>(value);
    // Floats: compared bit for bit, so that NaN equals itself.
    let f = f64::from_param(value).map(f64::to_bits).ok();
    assert_eq!(f, value.parse::<f64>().map(f64::to_bits).ok(), "f64 {value:?}");
    let f = f32::from_param(value).map(f32::to_bits).ok();
    assert_eq!(f, value.parse::<f32>().map(f32::to_bits).ok(), "f32 {value:?}");
    rejection_is_json_400::<u64>(value);
}

fn same_as_from_str<'a, T>(value: &'a str)
where
    T: FromParam<'a> + FromStr + PartialEq + Debug,
{
    let ours = T::from_param(value).ok();
    assert_eq!(ours, value.parse::<T>().ok(), "{} {value:?}", std::any::type_name::<T>());
}

/// What the generated code answers when `value` does not parse as `T`.
fn rejection_is_json_400<'a, T: FromParam<'a>>(value: &'a str) {
    let Err(response) = mambo::__private::parse::<T>(value, "id") else { return };
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{value:?}");
    let body = response.body().as_bytes().expect("a rejection has a full body");
    let json: serde_json::Value = serde_json::from_slice(body).expect("a JSON body");
    assert_eq!(json["code"], 40001, "{json}");
    let message = json["message"].as_str().expect("a message");
    assert!(message.starts_with("path parameter `id` must be "), "{message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_decoder() {
        assert_eq!(rfc3986_decode("a%2Fb%2f%zz%4"), b"a/b/%zz%4");
        assert_eq!(rfc3986_decode("%"), b"%");
        assert_eq!(rfc3986_decode("%C3%A9"), "é".as_bytes());
    }

    #[test]
    fn seeds_pass() {
        crate::seeds::replay("param_decode", super::check);
    }
}
