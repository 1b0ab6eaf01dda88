//! Durations a user writes (`--timeout`, a check's `timeout:`, `sleep("2s")`, a freshness
//! window, ...): parsed in one place and bounded, so a value like `"500000000000y"` is a clear
//! configuration error instead of an "overflow when adding duration to instant" panic (issue
//! 13, finding 11). Deadlines are computed with [`deadline_after`], which saturates.

use std::time::{Duration, Instant};

/// The longest duration accepted anywhere: ten years (of 365.25 days). Longer than any
/// timeout, freshness window or backup age a release gate needs; short enough that adding it
/// to any clock reading fits.
pub const MAX: Duration = Duration::from_secs(10 * 31_557_600);

/// `d` if it is at most [`MAX`]; otherwise the error to show (after the value's name).
pub fn bounded(d: Duration) -> Result<Duration, String> {
    if d > MAX {
        Err(too_long(humantime::format_duration(d)))
    } else {
        Ok(d)
    }
}

fn too_long(what: impl std::fmt::Display) -> String {
    format!(
        "{what} is longer than the longest duration accepted ({})",
        humantime::format_duration(MAX)
    )
}

/// `"10s"`, `"500ms"`, `"2m"`, `"3days"`: humantime's syntax, at most [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| format!("{text:?}: {e}"))?;
    bounded(d).map_err(|_| too_long(format!("{text:?}")))
}

/// A whole number of seconds, at most [`MAX`].
pub fn from_secs(secs: i64) -> Result<Duration, String> {
    let secs = u64::try_from(secs).map_err(|_| format!("a negative duration: {secs}"))?;
    bounded(Duration::from_secs(secs)).map_err(|_| too_long(format!("{secs} seconds")))
}

/// A number of seconds with a fraction, at most [`MAX`] (negative, NaN and ∞ are refused).
pub fn from_secs_f64(secs: f64) -> Result<Duration, String> {
    let d = Duration::try_from_secs_f64(secs).map_err(|e| format!("{secs}: {e}"))?;
    bounded(d).map_err(|_| too_long(format!("{secs} seconds")))
}

/// `now + d`, or the furthest instant the platform can hold: never a panic.
pub fn deadline_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(MAX))
        .unwrap_or(now)
}

/// The same for tokio's clock.
pub fn tokio_deadline_after(now: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    tokio::time::Instant::from_std(deadline_after(now.into_std(), d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_that_does_not_fit_is_an_error_not_a_panic() {
        for text in ["500000000000y", "11years", "99999999999999999999s"] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(text), "{err}");
        }
        assert_eq!(parse(" 2s ").unwrap(), Duration::from_secs(2));
        assert_eq!(parse("10years").unwrap(), MAX);
        assert!(from_secs(i64::MAX).is_err());
        assert!(from_secs(-1).is_err());
        assert!(from_secs_f64(f64::INFINITY).is_err());
        assert!(from_secs_f64(1e300).is_err());
        assert!(from_secs_f64(f64::NAN).is_err());
        assert_eq!(from_secs_f64(0.5).unwrap(), Duration::from_millis(500));
    }

    #[test]
    fn a_deadline_saturates() {
        let now = Instant::now();
        assert!(deadline_after(now, Duration::MAX) >= now);
        assert_eq!(
            deadline_after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        let t = tokio::time::Instant::now();
        assert!(tokio_deadline_after(t, Duration::MAX) >= t);
    }
}
