//! Escapes the redactor sees through: `\/`, `\uXXXX` (either case, surrogate pairs), `\xXX`
//! and `%XX` (either case), decoded up to three levels, with a map from each decoded byte back
//! to where it stands in the original text, so a secret found decoded is masked in place.

use super::MASK;
use aho_corasick::AhoCorasick;

/// One escape of a text: where it stands in the original and in the decoded bytes.
struct Escape {
    decoded_at: usize,
    decoded_len: usize,
    original_at: usize,
    original_len: usize,
}

/// A text with its escapes decoded, and where each one was.
pub(super) struct Decoded {
    pub(super) bytes: Vec<u8>,
    /// How many escapes were decoded.
    count: usize,
    /// Where each was: only when asked for (a match was found; building it costs more than
    /// the decoding in escape-dense text).
    escapes: Vec<Escape>,
}

impl Decoded {
    pub(super) fn of(text: &[u8]) -> Decoded {
        Self::decode(text, true)
    }

    fn decode(text: &[u8], map: bool) -> Decoded {
        let mut bytes = Vec::new();
        let mut escapes = Vec::new();
        let mut count = 0;
        let mut copied = 0;
        for at in memchr::memchr2_iter(b'\\', b'%', text) {
            if at < copied {
                continue; // inside an escape already decoded (`\\`)
            }
            let Some((original_len, value)) = decode_one(&text[at..]) else {
                continue;
            };
            if bytes.capacity() == 0 {
                bytes.reserve(text.len());
            }
            bytes.extend_from_slice(&text[copied..at]);
            count += 1;
            if map {
                escapes.push(Escape {
                    decoded_at: bytes.len(),
                    decoded_len: value.len(),
                    original_at: at,
                    original_len,
                });
            }
            bytes.extend_from_slice(value.as_slice());
            copied = at + original_len;
        }
        if count == 0 {
            return Decoded {
                bytes: text.to_vec(),
                count,
                escapes,
            };
        }
        bytes.extend_from_slice(&text[copied..]);
        Decoded {
            bytes,
            count,
            escapes,
        }
    }

    /// The escape holding decoded byte `at`, or the last one before it.
    fn escape_at(&self, at: usize) -> Option<&Escape> {
        let i = self.escapes.partition_point(|e| e.decoded_at <= at);
        i.checked_sub(1).map(|i| &self.escapes[i])
    }

    /// Where decoded byte `at` starts in the original text (an escape's first byte).
    pub(super) fn original_start(&self, at: usize) -> usize {
        match self.escape_at(at) {
            None => at,
            Some(e) if at < e.decoded_at + e.decoded_len => e.original_at,
            Some(e) => e.original_at + e.original_len + (at - e.decoded_at - e.decoded_len),
        }
    }

    /// Where decoded byte `at` ends in the original text (exclusive; after its escape).
    pub(super) fn original_end(&self, at: usize) -> usize {
        match self.escape_at(at) {
            None => at + 1,
            Some(e) if at < e.decoded_at + e.decoded_len => e.original_at + e.original_len,
            Some(e) => e.original_at + e.original_len + (at - e.decoded_at - e.decoded_len) + 1,
        }
    }
}

/// A decoded character: up to 4 bytes of UTF-8.
pub(super) struct Value {
    bytes: [u8; 4],
    len: usize,
}

impl Value {
    fn byte(b: u8) -> Value {
        Value {
            bytes: [b, 0, 0, 0],
            len: 1,
        }
    }
    fn char(c: char) -> Value {
        let mut bytes = [0u8; 4];
        let len = c.encode_utf8(&mut bytes).len();
        Value { bytes, len }
    }
    fn len(&self) -> usize {
        self.len
    }
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn hex(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, d| {
        let v = (*d as char).to_digit(16)?;
        Some(acc * 16 + v)
    })
}

/// Decodes the escape at the start of `text` (which starts with `\` or `%`): its length in
/// `text` and its value. `%XX`; JSON's `\/`, `\\`, `\"`, `\n`-style and `\uXXXX` (a
/// surrogate pair as one character); JavaScript's `\'` and `\xXX`. Hex digits in either case.
pub(super) fn decode_one(text: &[u8]) -> Option<(usize, Value)> {
    match text {
        [b'%', a, b, ..] => Some((3, Value::byte(hex(&[*a, *b])? as u8))),
        [b'\\', b'u', rest @ ..] => {
            let high = hex(rest.get(..4)?)?;
            if (0xD800..0xDC00).contains(&high) {
                let [b'\\', b'u', low @ ..] = rest.get(4..10)? else {
                    return None;
                };
                let low = hex(low)?;
                if !(0xDC00..0xE000).contains(&low) {
                    return None;
                }
                let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((12, Value::char(c)));
            }
            Some((6, Value::char(char::from_u32(high)?)))
        }
        [b'\\', b'x', a, b, ..] => Some((4, Value::byte(hex(&[*a, *b])? as u8))),
        [b'\\', c, ..] => {
            let value = match c {
                b'/' | b'\\' | b'"' | b'\'' => *c,
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'b' => 0x08,
                b'f' => 0x0c,
                _ => return None,
            };
            Some((2, Value::byte(value)))
        }
        _ => None,
    }
}

/// The decoded bytes of `text`: every escape [`Redactor::redact`] sees through, decoded once.
/// For the credential policy, which searches its own forms in them.
pub fn decode_escapes(text: &[u8]) -> Option<Vec<u8>> {
    let decoded = Decoded::decode(text, false);
    (decoded.count > 0).then_some(decoded.bytes)
}

/// How many times escapes are decoded: a JSON text quoted again (`{:?}`, a JSON string
/// holding JSON) doubles its backslashes (`\\\\/`, `\\\\u002b`).
const DECODE_LEVELS: usize = 3;

/// The text decoded up to [`DECODE_LEVELS`] times (each level only while it held escapes).
pub(super) fn decode_levels(text: &[u8], map: bool) -> Vec<Decoded> {
    let mut levels: Vec<Decoded> = Vec::new();
    while levels.len() < DECODE_LEVELS {
        let source = levels.last().map_or(text, |d| &d.bytes[..]);
        if levels.last().is_some() && memchr::memchr2(b'\\', b'%', source).is_none() {
            break;
        }
        let next = Decoded::decode(source, map);
        if next.count == 0 {
            break;
        }
        levels.push(next);
    }
    levels
}

/// `text` with every raw secret found in a decoded form masked where it stands in `text`
/// (the escapes it spans included).
pub(super) fn mask_decoded(text: &str, raw: &AhoCorasick) -> Option<String> {
    // Decoded without the map first: most text holds no secret.
    if !decode_levels(text.as_bytes(), false)
        .iter()
        .any(|level| raw.is_match(&level.bytes[..]))
    {
        return None;
    }
    let levels = decode_levels(text.as_bytes(), true);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (depth, level) in levels.iter().enumerate() {
        for m in raw.find_iter(&level.bytes[..]) {
            // Back through every level to the original text.
            let (mut start, mut last) = (m.start(), m.end() - 1);
            for d in levels[..=depth].iter().rev() {
                let end = d.original_end(last);
                start = d.original_start(start);
                last = end - 1;
            }
            ranges.push((start, last + 1));
        }
    }
    if ranges.is_empty() {
        return None;
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in merged {
        out.extend_from_slice(&bytes[copied..start]);
        out.extend_from_slice(MASK.as_bytes());
        copied = end;
    }
    out.extend_from_slice(&bytes[copied..]);
    Some(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}
