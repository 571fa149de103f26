//! Fault injection knobs, shared by every emulated cloud.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What can go wrong, on purpose. Rates are probabilities in 0..=1 per request; the `next_*`
/// counters make the next N matching requests fail, for deterministic tests.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability that a request is refused with the cloud's throttling error (not applied).
    pub throttle_rate: f64,
    /// Probability that a request fails with the cloud's 5xx error (not applied).
    pub error_rate: f64,
    /// Probability that a request is applied but its reply is lost (the connection breaks).
    pub drop_rate: f64,
    /// Added latency per request, in milliseconds.
    pub latency_ms: u64,
    /// The next N matching requests are throttled.
    pub next_throttles: u32,
    /// The next N matching requests fail with a 5xx.
    pub next_errors: u32,
    /// The next N matching requests are applied and their replies lost.
    pub next_drops: u32,
    /// Only requests whose action is listed are affected (all when empty), e.g. `CreateAccessKey`.
    /// The `oci_*` lifecycle knobs below ignore it.
    pub actions: Vec<String>,
    /// OCI Identity lifecycle: a credential created or deleted while this is set stays CREATING
    /// or DELETING through this many lists of its user's credentials (0: CREATING ends with the
    /// next list, as the real service's quick creation; a delete is DELETED at once).
    pub oci_transition_reads: u32,
    /// OCI Identity lifecycle: a credential created while this is set settles INACTIVE with this
    /// `inactiveStatus` bit field (1 suspended, 2 disabled, 4 blocked, 8 locked) instead of ACTIVE.
    pub oci_inactive_status: Option<i64>,
    /// OCI Identity lifecycle: a credential created while this is set expires this many seconds
    /// after its creation (`timeExpires`; `null` otherwise, as a credential that never expires).
    pub oci_expires_in_seconds: Option<u64>,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serve it normally.
    None,
    /// Refuse it as throttled.
    Throttle,
    /// Refuse it with a 5xx.
    ServerError,
    /// Apply it, then break the connection instead of replying.
    DropReply,
}

fn roll(rate: f64) -> bool {
    // 53 random bits from a v4 UUID: enough for a test knob, and no extra dependency.
    let bits = (uuid::Uuid::new_v4().as_u128() >> 75) as u64;
    rate > 0.0 && (bits as f64 / (1u64 << 53) as f64) < rate
}

impl Faults {
    /// Whether the knobs apply to a request for `action`.
    fn targets(&self, action: Option<&str>) -> bool {
        self.actions.is_empty() || action.is_some_and(|a| self.actions.iter().any(|x| x == a))
    }

    /// The latency to add to a request for `action`.
    pub fn latency_for(&self, action: Option<&str>) -> std::time::Duration {
        let ms = if self.targets(action) { self.latency_ms } else { 0 };
        std::time::Duration::from_millis(ms)
    }

    /// Decides the fault of one request and consumes a `next_*` counter if one applies.
    pub fn decide(&mut self, action: Option<&str>) -> Fault {
        if !self.targets(action) {
            return Fault::None;
        }
        if self.next_throttles > 0 {
            self.next_throttles -= 1;
            return Fault::Throttle;
        }
        if self.next_errors > 0 {
            self.next_errors -= 1;
            return Fault::ServerError;
        }
        if self.next_drops > 0 {
            self.next_drops -= 1;
            return Fault::DropReply;
        }
        if roll(self.throttle_rate) {
            Fault::Throttle
        } else if roll(self.error_rate) {
            Fault::ServerError
        } else if roll(self.drop_rate) {
            Fault::DropReply
        } else {
            Fault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_come_first_and_respect_the_action_filter() {
        let mut f = Faults {
            next_drops: 1,
            actions: vec!["CreateAccessKey".into()],
            ..Default::default()
        };
        assert_eq!(f.decide(Some("ListAccessKeys")), Fault::None);
        assert_eq!(f.decide(Some("CreateAccessKey")), Fault::DropReply);
        assert_eq!(f.decide(Some("CreateAccessKey")), Fault::None);
    }

    #[test]
    fn certain_rates_always_fire() {
        let mut f = Faults {
            throttle_rate: 1.0,
            ..Default::default()
        };
        assert_eq!(f.decide(None), Fault::Throttle);
        let mut f = Faults::default();
        assert_eq!(f.decide(None), Fault::None);
    }
}
