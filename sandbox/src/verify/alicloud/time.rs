//! Timestamp freshness, and what a verifier hands back.

use chrono::{DateTime, TimeDelta, Utc};
use credplane_sign::alicloud::{format_timestamp, parse_timestamp};

use super::VerifyError;

/// How far a request's timestamp may be from the server clock, either way.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(15);

/// Parses a `YYYY-MM-DDThh:mm:ssZ` timestamp, refusing any other format with Alibaba's code.
pub fn parse(s: &str) -> Result<DateTime<Utc>, VerifyError> {
    parse_timestamp(s).ok_or_else(|| VerifyError::InvalidTimestamp(s.to_owned()))
}

/// Parses `s` and checks it is within [`MAX_CLOCK_SKEW`] of `now`.
pub(super) fn check_fresh(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, VerifyError> {
    let t = parse(s)?;
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
    fn other_formats_get_alibabas_code() {
        assert_eq!(
            parse("2016-02-23 12:46:24").unwrap_err().code(),
            "InvalidTimeStamp.Format"
        );
    }

    #[test]
    fn fifteen_minutes_either_way() {
        let now = parse("2016-02-23T12:46:24Z").unwrap();
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
