//! Alibaba's percent-encoding: RFC 3986 with only the unreserved set left literal.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte except `A-Z a-z 0-9 - _ . ~` is escaped. Unlike form encoding,
/// space becomes `%20` (never `+`), `*` becomes `%2A`, and `~` stays literal.
const ALIBABA_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes `s` as Alibaba Cloud signatures require: UTF-8 bytes, uppercase
/// hex, only RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`) kept.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, ALIBABA_ENCODE_SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("a b*c/d"), "a%20b%2Ac%2Fd");
        assert_eq!(percent_encode("'()!+=&:"), "%27%28%29%21%2B%3D%26%3A");
    }

    #[test]
    fn encodes_utf8_bytes_in_uppercase_hex() {
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("中文"), "%E4%B8%AD%E6%96%87");
    }
}
