//! Asserting that a secret appears nowhere, in any encoded form.

use super::*;

pub use secret_forms::secret_forms;

/// Panics naming the place and form if `text` holds `secret` in any form.
#[track_caller]
pub fn assert_no_secret(place: &str, text: &[u8], secret: &str) {
    let text = String::from_utf8_lossy(text);
    for (form, value) in secret_forms(secret) {
        if let Some(at) = text.find(&value) {
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            let end = (at + value.len() + 60).min(text.len());
            let end = (end..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            panic!(
                "{place} leaks the secret ({form} form {value:?}): ...{}...",
                &text[start..end]
            );
        }
    }
}
