//! Why one hop produced no response, as kinds a caller can act on (a token request that timed
//! out says so, a body over the cap names `--max-body`); the words are for the terminal, the
//! log and the HAR's `_error`.

/// Why a hop (one request on the wire, or decoding its body) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HopError {
    /// The request cannot be sent as given (a header name or value HTTP does not allow).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The HTTP client could not be built (its TLS configuration), in the builder's words.
    #[error("{0}")]
    Client(String),
    /// No connection to the server; the host and port tried are named, a wrong port or a
    /// DNS typo reads at once.
    #[error("connection to {host}:{port} failed: {chain}{}", ca_hint(*.untrusted))]
    Connect {
        host: String,
        port: u16,
        /// The error and its causes, `: `-separated (never the URL).
        chain: String,
        /// The server's certificate was not trusted.
        untrusted: bool,
    },
    /// The request failed after a connection was made.
    #[error("request failed: {chain}{}", ca_hint(*.untrusted))]
    Request { chain: String, untrusted: bool },
    #[error("timed out waiting for the response headers")]
    HeadersTimedOut,
    #[error("timed out reading the response body")]
    BodyTimedOut,
    #[error("response body of {announced} bytes exceeds the cap of {cap} bytes (--max-body)")]
    AnnouncedOverCap { announced: u64, cap: u64 },
    #[error("response body exceeds the cap of {cap} bytes (--max-body)")]
    OverCap { cap: u64 },
    #[error("error reading the response body: {0}")]
    Body(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl HopError {
    /// The hop ran out of time (waiting, reading or decoding): the server was slow, not wrong.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            HopError::HeadersTimedOut
                | HopError::BodyTimedOut
                | HopError::Decode(DecodeError::DeadlinePassed { .. })
        )
    }
}

fn ca_hint(untrusted: bool) -> &'static str {
    if untrusted {
        " (a server signed by a private CA: pass the CA with --cacert FILE or OA_CA_BUNDLE)"
    } else {
        ""
    }
}

/// Why a body sent with `Content-Encoding` was not decoded ([`super::encoding`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "response body has {count} stacked Content-Encoding codings; oa-validate undoes at most {max}"
    )]
    TooManyCodings { count: usize, max: usize },
    #[error(
        "response body has Content-Encoding {0:?}, which oa-validate does not decode (it decodes gzip, deflate, br and zstd)"
    )]
    UnknownCoding(String),
    #[error(
        "cannot decode the {coding} response body: the request's deadline passed while decoding"
    )]
    DeadlinePassed { coding: String },
    #[error("cannot decode the {coding} response body: {reason}")]
    Corrupt { coding: String, reason: String },
    #[error("response body decoded from {coding} exceeds the cap of {cap} bytes (--max-body)")]
    OverCap { coding: String, cap: u64 },
}
