//! Issue 10 item 12: `read` has a default deadline of its own (ResourceInfo's `timeouts.read`),
//! shorter than a create's, for every resource type.
//!
//! (A timing test of `provider::read` itself would need tokio's paused clock, whose `test-util`
//! feature rebuilds tokio and everything above it for the tests; the wiring is one line in
//! `Provider::read`.)

use credplane::resources::Timeouts;

#[test]
fn every_type_has_a_read_timeout_shorter_than_its_create_timeout() {
    let registry = credplane::resources::registry::all();
    for resource in registry.iter() {
        let timeouts: Timeouts = resource.info().timeouts;
        assert!(
            timeouts.read > 0 && timeouts.read < timeouts.create,
            "{}: read {} s, create {} s",
            resource.type_name(),
            timeouts.read,
            timeouts.create
        );
    }
    assert_eq!(Timeouts::FIVE_MINUTES.read, 120);
}
