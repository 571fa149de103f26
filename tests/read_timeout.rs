//! Issue 10 item 12: `read` has its own default deadline (ResourceInfo's `timeouts.read`), not
//! the create timeout. Tokio's paused clock jumps ahead while the call waits on a cloud that
//! accepts connections and never answers, so the test measures minutes in milliseconds.

use credplane::provider::Provider;
use credplane::resources::Timeouts;
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn read_gives_up_at_the_read_timeout_not_the_create_timeout() {
    // A cloud that takes the connection and the request and never replies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let settings = serde_json::from_value(json!({"aws": {
        "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "region": "us-east-1", "endpoint": format!("http://127.0.0.1:{port}")}}))
    .unwrap();
    let provider = Provider::new(settings);
    let read = serde_json::from_value(json!({"type": "aws_iam_access_key", "id": "AKIAIOSFODNN7EXAMPLE",
        "outputs": {"user": "alice", "status": "Active"}}))
    .unwrap();
    let started = tokio::time::Instant::now();
    let err = provider.read(read).await.expect_err("the cloud never answers");
    let waited = started.elapsed().as_secs();
    let defaults = Timeouts::FIVE_MINUTES;
    assert!(defaults.read < defaults.create, "the read timeout is the shorter one");
    assert!(
        waited <= defaults.read + 5,
        "read waited {waited} s: the create timeout ({} s), not the read timeout ({} s): {err:?}",
        defaults.create,
        defaults.read
    );
}
