//! The time window of a create request, for telling after a lost reply whether something the
//! cloud shows was made by that request: created between its start and the moment the failure
//! came back, give or take the clocks' skew.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// The margin on both sides, for the cloud's clock and its whole-second timestamps.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5);

/// When a request may have taken effect.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    /// From `started` until now, widened by [`CLOCK_SKEW`] on both sides.
    pub fn since(started: DateTime<Utc>) -> Self {
        Window {
            from: started - CLOCK_SKEW,
            to: Utc::now() + CLOCK_SKEW,
        }
    }

    /// Whether a cloud timestamp lies inside. One that is absent or unreadable may be anyone's:
    /// it never does.
    pub fn contains(&self, created: Option<&str>) -> bool {
        parse_time(created.unwrap_or_default()).is_some_and(|t| self.from <= t && t <= self.to)
    }
}

/// A cloud time as UTC: RFC 3339, or ISO 8601 without a zone (taken as UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_includes_whole_second_dates_and_excludes_others() {
        let window = Window::since(Utc::now());
        let same_second = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        assert!(window.contains(Some(&same_second)));
        let old = (Utc::now() - chrono::Duration::seconds(60)).to_rfc3339();
        assert!(!window.contains(Some(&old)));
        assert!(!window.contains(None));
        assert!(!window.contains(Some("garbage")));
    }
}
