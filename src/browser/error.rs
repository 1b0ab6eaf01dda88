//! Why an operation on the page failed, as kinds a caller can act on: an evaluation the
//! browser refused because a navigation had just replaced the page's JavaScript context is
//! sent again ([`super::page::evaluate`]); the page's own exception keeps its text.

use chromiumoxide::error::CdpError;

/// What Chromium answers when an evaluation names a context a navigation has just replaced.
const CONTEXT_GONE: &str = "Cannot find context with specified id";

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The page's JavaScript context was replaced (a navigation) before the call ran: nothing
    /// of it ran, so it may be sent again.
    #[error("{0}")]
    ContextGone(String),
    /// The page's JavaScript threw.
    #[error("JavaScript exception: {text} {description}")]
    JavaScript { text: String, description: String },
    /// Anything else the browser or the protocol reported, in chromiumoxide's words.
    #[error("{0}")]
    Protocol(String),
}

impl From<CdpError> for PageError {
    fn from(e: CdpError) -> PageError {
        // Chromium's generic server error code (-32000) covers many refusals; only its
        // message tells this one apart.
        if let CdpError::Chrome(error) = &e
            && error.message.contains(CONTEXT_GONE)
        {
            return PageError::ContextGone(e.to_string());
        }
        match e {
            CdpError::JavascriptException(details) => PageError::JavaScript {
                description: details
                    .exception
                    .as_ref()
                    .and_then(|x| x.description.clone())
                    .unwrap_or_default(),
                text: details.text,
            },
            other => PageError::Protocol(other.to_string()),
        }
    }
}
