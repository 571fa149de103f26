//! Timestamps shared by both schemes, and what a verifier hands back.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::VerifyError;

/// How far a request's timestamp may be from the server clock, either way.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(15);

const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Formats `t` as Alibaba wants it: ISO 8601 UTC to the second, `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

/// Parses a `YYYY-MM-DDThh:mm:ssZ` timestamp.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, VerifyError> {
    NaiveDateTime::parse_from_str(s, FORMAT)
        .map(|t| t.and_utc())
        .map_err(|_| VerifyError::InvalidTimestamp(s.to_owned()))
}

/// Parses `s` and checks it is within [`MAX_CLOCK_SKEW`] of `now`.
pub(super) fn check_fresh(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, VerifyError> {
    let t = parse_timestamp(s)?;
    if (now - t).abs() > MAX_CLOCK_SKEW {
        return Err(VerifyError::StaleTimestamp {
            timestamp: s.to_owned(),
            now: format_timestamp(now),
        });
    }
    Ok(t)
}

/// A request whose signature and timestamp checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key that signed it.
    pub access_key_id: String,
    /// The signature nonce: the caller must reject it if seen within the skew
    /// window ([`VerifyError::NonceUsed`]), since replay needs state we do not keep.
    pub nonce: String,
    /// The request's own timestamp.
    pub timestamp: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_formats() {
        let t = parse_timestamp("2016-02-23T12:46:24Z").unwrap();
        assert_eq!(format_timestamp(t), "2016-02-23T12:46:24Z");
        for bad in [
            "2016-02-23 12:46:24",
            "2016-02-23T12:46:24.000Z",
            "2016-02-23T12:46:24+08:00",
        ] {
            assert_eq!(parse_timestamp(bad).unwrap_err().code(), "InvalidTimeStamp.Format");
        }
    }

    #[test]
    fn fifteen_minutes_either_way() {
        let now = parse_timestamp("2016-02-23T12:46:24Z").unwrap();
        assert!(check_fresh("2016-02-23T12:31:24Z", now).is_ok());
        assert!(check_fresh("2016-02-23T13:01:24Z", now).is_ok());
        assert_eq!(
            check_fresh("2016-02-23T12:31:23Z", now).unwrap_err().code(),
            "InvalidTimeStamp.Expired"
        );
        assert_eq!(
            check_fresh("2016-02-23T13:01:25Z", now).unwrap_err().code(),
            "InvalidTimeStamp.Expired"
        );
    }
}
