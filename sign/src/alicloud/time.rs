//! The timestamp format of both Alibaba signature schemes.

use chrono::{DateTime, NaiveDateTime, Utc};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Formats `t` as Alibaba wants it: ISO 8601 UTC to the second, `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

/// Parses a `YYYY-MM-DDThh:mm:ssZ` timestamp; `None` for any other format.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, FORMAT).ok().map(|t| t.and_utc())
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
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
