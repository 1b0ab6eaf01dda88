//! Response bodies sent with `Content-Encoding`: gzip (`x-gzip`), deflate (zlib, or raw as some
//! servers send it), br and zstd are decoded before anything sees the body; the transferred
//! size is kept for the evidence. A decoded body is held to the same cap as any body
//! (`--max-body`), so a small compressed answer cannot blow up in memory. At most
//! [`MAX_CODINGS`] codings are undone (as curl), and decoding stops at the request's deadline:
//! 12,000 stacked layers once stretched a 2 s check to 2.7 s (issue 20).

use super::error::DecodeError;
use bytes::Bytes;
use std::io::Read;
use std::time::Instant;

/// The most codings one response may stack; more is refused before any is decoded. No server
/// needs more than two; curl allows five.
pub const MAX_CODINGS: usize = 5;

/// What a request sends as `Accept-Encoding` when a script asks for compression
/// (`compressed: true`): every coding this module decodes.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// The codings of a `Content-Encoding` header in the order they were applied (lower case,
/// `identity` left out).
pub fn codings(content_encoding: &str) -> Vec<String> {
    content_encoding
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect()
}

/// `body` decoded from `content_encoding` (codings undone last to first), at most `max_body`
/// bytes, before `deadline`. An unknown coding, a corrupt body, more than [`MAX_CODINGS`]
/// codings or the deadline passing is an error that says which.
pub fn decode(
    content_encoding: &str,
    body: Bytes,
    max_body: u64,
    deadline: Instant,
) -> Result<Bytes, DecodeError> {
    let codings = codings(content_encoding);
    if codings.len() > MAX_CODINGS {
        return Err(DecodeError::TooManyCodings {
            count: codings.len(),
            max: MAX_CODINGS,
        });
    }
    let mut body = body;
    for coding in codings.iter().rev() {
        body = decode_one(coding, &body, max_body, deadline)?;
    }
    Ok(body)
}

/// A decoder's reader that fails once the deadline has passed: each `read` inflates at most a
/// buffer's worth, so a slow or huge decode ends close to the deadline.
struct UntilDeadline<R> {
    inner: R,
    deadline: Instant,
}

impl<R: Read> Read for UntilDeadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request's deadline passed while decoding",
            ));
        }
        self.inner.read(buf)
    }
}

fn decode_one(
    coding: &str,
    body: &[u8],
    max_body: u64,
    deadline: Instant,
) -> Result<Bytes, DecodeError> {
    let read = |reader: &mut dyn Read| -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        UntilDeadline {
            inner: reader,
            deadline,
        }
        .take(max_body.saturating_add(1))
        .read_to_end(&mut out)?;
        Ok(out)
    };
    let decoded = match coding {
        "gzip" | "x-gzip" => read(&mut flate2::read::MultiGzDecoder::new(body)),
        "deflate" => {
            // RFC 9110's deflate is zlib-wrapped; some servers send raw deflate.
            let zlib = read(&mut flate2::read::ZlibDecoder::new(body));
            match zlib {
                Ok(out) => Ok(out),
                Err(_) => read(&mut flate2::read::DeflateDecoder::new(body)),
            }
        }
        "br" => read(&mut brotli::Decompressor::new(body, 4096)),
        "zstd" => zstd::stream::read::Decoder::new(body).and_then(|mut d| read(&mut d)),
        other => return Err(DecodeError::UnknownCoding(other.to_string())),
    }
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::TimedOut => DecodeError::DeadlinePassed {
            coding: coding.to_string(),
        },
        _ => DecodeError::Corrupt {
            coding: coding.to_string(),
            reason: e.to_string(),
        },
    })?;
    if decoded.len() as u64 > max_body {
        return Err(DecodeError::OverCap {
            coding: coding.to_string(),
            cap: max_body,
        });
    }
    Ok(Bytes::from(decoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn far() -> Instant {
        Instant::now() + std::time::Duration::from_secs(60)
    }

    const TEXT: &[u8] =
        b"{\"gzipped\": true, \"padding\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_coding_decodes_and_stacked_codings_undo_in_reverse() {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(TEXT).unwrap();
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(TEXT).unwrap();
        let mut br = Vec::new();
        brotli::BrotliCompress(&mut &TEXT[..], &mut br, &Default::default()).unwrap();
        let zstd = zstd::encode_all(TEXT, 0).unwrap();
        for (coding, body) in [
            ("gzip", gzip(TEXT)),
            ("X-Gzip", gzip(TEXT)),
            ("deflate", zlib.finish().unwrap()),
            ("deflate", raw.finish().unwrap()),
            ("br", br),
            ("zstd", zstd),
            ("identity", TEXT.to_vec()),
        ] {
            assert_eq!(
                decode(coding, Bytes::from(body), 1 << 20, far()).unwrap(),
                TEXT,
                "{coding}"
            );
        }
        let twice = gzip(&zstd::encode_all(TEXT, 0).unwrap());
        assert_eq!(
            decode("zstd, gzip", Bytes::from(twice), 1 << 20, far()).unwrap(),
            TEXT
        );
    }

    #[test]
    fn unknown_codings_corrupt_bodies_and_bombs_are_errors() {
        let e = decode("compress", Bytes::from_static(b"x"), 100, far()).unwrap_err();
        assert_eq!(e, DecodeError::UnknownCoding("compress".to_string()));
        assert!(e.to_string().contains("\"compress\""), "{e}");
        let e = decode("gzip", Bytes::from_static(b"not gzip"), 100, far()).unwrap_err();
        assert!(
            matches!(&e, DecodeError::Corrupt { coding, .. } if coding == "gzip"),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("cannot decode the gzip response body"),
            "{e}"
        );
        let bomb = gzip(&vec![b'a'; 1 << 20]);
        assert!(bomb.len() < 10_000);
        let e = decode("gzip", Bytes::from(bomb), 1000, far()).unwrap_err();
        assert!(
            e.to_string().contains("exceeds the cap of 1000 bytes"),
            "{e}"
        );
    }

    /// Issue 20: 12,000 stacked layers stretched a 2 s check to 2.7 s.
    #[test]
    fn stacked_codings_are_capped_and_decoding_stops_at_the_deadline() {
        let mut body = TEXT.to_vec();
        for _ in 0..MAX_CODINGS {
            body = gzip(&body);
        }
        let five = ["gzip"; MAX_CODINGS].join(", ");
        assert_eq!(
            decode(&five, Bytes::from(body.clone()), 1 << 20, far()).unwrap(),
            TEXT
        );
        let many = vec!["gzip"; 12_000].join(",");
        let started = Instant::now();
        let e = decode(&many, Bytes::from(body.clone()), 1 << 20, far()).unwrap_err();
        assert_eq!(
            e,
            DecodeError::TooManyCodings {
                count: 12_000,
                max: MAX_CODINGS
            }
        );
        assert!(
            e.to_string()
                .contains("12000 stacked Content-Encoding codings"),
            "{e}"
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        let e = decode(&five, Bytes::from(body), 1 << 20, Instant::now()).unwrap_err();
        assert!(super::super::HopError::from(e.clone()).is_timeout(), "{e}");
        assert!(e.to_string().contains("deadline passed"), "{e}");
    }
}
