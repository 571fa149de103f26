//! The S3-compatible backend, laid out as Terraform's S3 backend is: under `s3://bucket/prefix`,
//! `<stack>.json` is the snapshot, `<stack>.lock` the lock, and `<stack>.journal/` holds the
//! journal, one object per batch of records.
//!
//! - The lock is taken by a conditional write (`If-None-Match: *`): of two engines, exactly one
//!   creates the object. It names its holder (pid, host, since when) and carries a random id;
//!   the engine deletes it when done, and checks the id before writing a snapshot, so an engine
//!   whose lock was removed by `stack unlock` stops instead of overwriting another's state.
//! - Journal objects are `<generation:020>-<first seq:020>`: they sort in write order, each is
//!   written before the records in it are acknowledged (a crash loses nothing), and the
//!   generation in the key tells leftovers of an older snapshot (a crash between writing a
//!   snapshot and deleting the journal) from the journal that continues the current one.
//!
//! The [`super::store::Store`] API is synchronous (it runs in `spawn_blocking`, on the journal's
//! own thread and in `Drop`), so S3 calls run on a small runtime of their own and the caller waits
//! for the answer: that works from any thread, inside a Tokio runtime or not.

use super::StateError;
use super::backend::{JournalSink, LockInfo};
use super::s3_location::S3Location;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use futures_util::{StreamExt, TryStreamExt, stream};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

/// S3 calls in flight at once when reading or deleting a journal.
const CONCURRENCY: usize = 16;

/// Runs `f` on the S3 runtime and waits for it.
fn block<F>(f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("credplane-s3")
            .enable_all()
            .build()
            .expect("start the S3 runtime")
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv().expect("the S3 runtime answers")
}

/// One stack's state in a bucket.
pub struct S3Backend {
    location: S3Location,
    stack: String,
    client: Client,
    /// The id of the lock this backend took, checked before each snapshot write.
    lock_id: Arc<Mutex<Option<String>>>,
}

/// The held lock object; deleted on drop if it is still this engine's.
pub struct S3Lock {
    client: Client,
    bucket: String,
    key: String,
    id: String,
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        let (client, bucket, key, id) = (
            self.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
            self.id.clone(),
        );
        let released = block(async move {
            let held = get(&client, &bucket, &key).await?;
            if held.as_deref().and_then(lock_id).as_deref() == Some(id.as_str()) {
                delete(&client, &bucket, &key).await?;
            }
            Ok::<_, StateError>(())
        });
        if let Err(e) = released {
            tracing::warn!(lock = %self.key, error = %e, "could not release the state lock");
        }
    }
}

fn lock_id(text: &[u8]) -> Option<String> {
    serde_json::from_slice::<LockInfo>(text).ok().map(|l| l.id)
}

/// An S3 error as a state error: a missing bucket, refused credentials and an unreachable
/// endpoint each get a message saying what to check.
fn s3_error<E>(action: &str, bucket: &str, key: &str, err: SdkError<E>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let place = format!("s3://{bucket}/{key}");
    if let SdkError::ServiceError(service) = &err {
        let status = service.raw().status().as_u16();
        let code = service.err().code().unwrap_or("no code");
        let message = service.err().message().unwrap_or_default();
        return StateError::Io(match code {
            "NoSuchBucket" => {
                format!("the bucket {bucket} does not exist (create it, or check the bucket name, endpoint and region)")
            }
            "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" => format!(
                "{action} {place}: access denied ({code}: {message}); check the AWS credentials (environment, profile) and the bucket policy"
            ),
            "PermanentRedirect" | "AuthorizationHeaderMalformed" => format!(
                "{action} {place}: the bucket is in another region ({code}); set AWS_REGION or add ?region= to the state URL"
            ),
            _ => format!("{action} {place}: HTTP {status} {code}: {message}"),
        });
    }
    // The causes' own words, without the SDK's debug dump of the request.
    let mut causes: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = next {
        let text = e.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        next = e.source();
    }
    let why = causes.join(": ");
    let hint = if why.contains("credentials") {
        " (no usable AWS credentials for the S3 state: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
    } else if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
        " (is the S3 endpoint reachable? it comes from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or ?endpoint=)"
    } else {
        ""
    };
    StateError::Io(format!("{action} {place}: {why}{hint}"))
}

async fn get(client: &Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, StateError> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| StateError::Io(format!("reading s3://{bucket}/{key}: {e}")))?;
            Ok(Some(body.into_bytes().to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(s3_error("reading", bucket, key, e)),
    }
}

/// Writes `key`; with `create_only`, only if it does not exist (`Ok(false)` if it does).
async fn put(client: &Client, bucket: &str, key: &str, body: Vec<u8>, create_only: bool) -> Result<bool, StateError> {
    let mut request = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body));
    if create_only {
        request = request.if_none_match("*");
    }
    match request.send().await {
        Ok(_) => Ok(true),
        // 412: it exists; 409: a concurrent conditional write of the same key won.
        Err(SdkError::ServiceError(e)) if create_only && matches!(e.raw().status().as_u16(), 409 | 412) => Ok(false),
        Err(e) => Err(s3_error("writing", bucket, key, e)),
    }
}

async fn delete(client: &Client, bucket: &str, key: &str) -> Result<(), StateError> {
    client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map(drop)
        .map_err(|e| s3_error("deleting", bucket, key, e))
}

/// Every key under `prefix` (sorted), and the "directories" one level down when `delimiter`.
async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    delimiter: bool,
) -> Result<(Vec<String>, Vec<String>), StateError> {
    let (mut keys, mut dirs) = (Vec::new(), Vec::new());
    let mut token = None;
    loop {
        let mut request = client.list_objects_v2().bucket(bucket).prefix(prefix);
        if delimiter {
            request = request.delimiter("/");
        }
        let out = request
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| s3_error("listing", bucket, prefix, e))?;
        keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        dirs.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        token = out.next_continuation_token().map(str::to_string);
        if !out.is_truncated().unwrap_or(false) || token.is_none() {
            break;
        }
    }
    keys.sort();
    Ok((keys, dirs))
}

impl S3Backend {
    /// The objects of `stack` at an `s3://` URL.
    pub fn resolve(url: &str, stack: &str) -> Result<S3Backend, StateError> {
        let location = S3Location::parse(url)?;
        let for_client = location.clone();
        let client = block(async move { for_client.client().await });
        Ok(S3Backend {
            location,
            stack: stack.to_string(),
            client,
            lock_id: Default::default(),
        })
    }

    fn snapshot_key(&self) -> String {
        self.location.key(&format!("{}.json", self.stack))
    }

    fn lock_key(&self) -> String {
        self.location.key(&format!("{}.lock", self.stack))
    }

    fn journal_dir(&self) -> String {
        self.location.key(&format!("{}.journal/", self.stack))
    }

    /// `s3://bucket/prefix/<stack>.json`.
    pub fn snapshot_url(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.snapshot_key())
    }

    /// `s3://bucket/prefix/<stack>.journal/`.
    pub fn journal_url(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.journal_dir())
    }

    /// Runs `f` with the client and bucket on the S3 runtime.
    fn run<T, F, Fut>(&self, f: F) -> Result<T, StateError>
    where
        F: FnOnce(Client, String) -> Fut,
        Fut: Future<Output = Result<T, StateError>> + Send + 'static,
        T: Send + 'static,
    {
        block(f(self.client.clone(), self.location.bucket.clone()))
    }

    /// Creates the lock object, or says who holds it and for how long.
    pub fn lock(&self) -> Result<S3Lock, StateError> {
        let info = LockInfo::current(uuid::Uuid::new_v4().to_string());
        let body = serde_json::to_vec(&info).expect("json");
        let key = self.lock_key();
        let place = format!("s3://{}/{key}", self.location.bucket);
        let unlock_hint = format!(
            "if that engine is gone, remove the lock with: credplane stack unlock --stack {} --state {}",
            self.stack,
            self.location.url()
        );
        let id = info.id.clone();
        let k = key.clone();
        let held = self.run(|client, bucket| async move {
            if put(&client, &bucket, &k, body, true).await? {
                // Read it back: a store whose conditional writes are not atomic could have let
                // two engines through; the object names the one that won.
                let text = get(&client, &bucket, &k).await?.unwrap_or_default();
                if lock_id(&text).as_deref() == Some(id.as_str()) {
                    return Ok(None);
                }
                return Ok(Some(text));
            }
            Ok(Some(get(&client, &bucket, &k).await?.unwrap_or_default()))
        })?;
        if let Some(text) = held {
            let text = String::from_utf8_lossy(&text);
            return Err(StateError::Locked(format!(
                "the stack is {}; wait for it to finish, or {unlock_hint}",
                LockInfo::describe(&text, &place)
            )));
        }
        *self.lock_id.lock().expect("lock id") = Some(info.id.clone());
        Ok(S3Lock {
            client: self.client.clone(),
            bucket: self.location.bucket.clone(),
            key,
            id: info.id,
        })
    }

    /// Removes the lock, whoever holds it (`stack unlock`); says whose it was.
    pub fn unlock(&self) -> Result<String, StateError> {
        let key = self.lock_key();
        let place = format!("s3://{}/{key}", self.location.bucket);
        let k = key.clone();
        let held = self.run(|client, bucket| async move {
            let held = get(&client, &bucket, &k).await?;
            if held.is_some() {
                delete(&client, &bucket, &k).await?;
            }
            Ok(held)
        })?;
        Ok(match held {
            Some(text) => format!(
                "removed the lock of stack {}: it was {}",
                self.stack,
                LockInfo::describe(&String::from_utf8_lossy(&text), &place)
            ),
            None => format!("stack {} is not locked ({place})", self.stack),
        })
    }

    /// The snapshot's bytes, if there is one.
    pub fn read_snapshot(&self) -> Result<Option<Vec<u8>>, StateError> {
        let key = self.snapshot_key();
        self.run(|client, bucket| async move { get(&client, &bucket, &key).await })
    }

    /// The journal objects of `generation`, concatenated in order.
    pub fn read_journal(&self, generation: u64) -> Result<Option<Vec<u8>>, StateError> {
        let prefix = format!("{}{generation:020}-", self.journal_dir());
        self.run(|client, bucket| async move {
            let (keys, _) = list(&client, &bucket, &prefix, false).await?;
            if keys.is_empty() {
                return Ok(None);
            }
            let parts: Vec<Option<Vec<u8>>> = stream::iter(keys)
                .map(|key| {
                    let (client, bucket) = (client.clone(), bucket.clone());
                    async move { get(&client, &bucket, &key).await }
                })
                .buffered(CONCURRENCY)
                .try_collect()
                .await?;
            Ok(Some(parts.into_iter().flatten().flatten().collect()))
        })
    }

    /// Writes the snapshot, if this engine still holds the lock.
    pub fn write_snapshot(&self, bytes: &[u8]) -> Result<(), StateError> {
        let ours = self.lock_id.lock().expect("lock id").clone();
        let (snapshot, lock) = (self.snapshot_key(), self.lock_key());
        let body = bytes.to_vec();
        let place = format!("s3://{}/{lock}", self.location.bucket);
        self.run(|client, bucket| async move {
            let held = get(&client, &bucket, &lock).await?;
            if ours.is_none() || held.as_deref().and_then(lock_id) != ours {
                return Err(StateError::Locked(format!(
                    "the lock {place} is no longer this engine's (removed by stack unlock?); the snapshot was not written and the journal is kept"
                )));
            }
            put(&client, &bucket, &snapshot, body, false).await.map(drop)
        })
    }

    /// A sink writing each journal batch as one object.
    pub fn journal_sink(&self, generation: u64) -> S3Journal {
        S3Journal {
            client: self.client.clone(),
            bucket: self.location.bucket.clone(),
            prefix: format!("{}{generation:020}-", self.journal_dir()),
        }
    }

    /// Deletes every journal object (of every generation).
    pub fn clear_journal(&self) -> Result<(), StateError> {
        let dir = self.journal_dir();
        self.run(|client, bucket| async move {
            let (keys, _) = list(&client, &bucket, &dir, false).await?;
            stream::iter(keys)
                .map(|key| {
                    let (client, bucket) = (client.clone(), bucket.clone());
                    async move { delete(&client, &bucket, &key).await }
                })
                .buffer_unordered(CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await
                .map(drop)
        })
    }

    /// Deletes the snapshot and the journal (`stack rm`).
    pub fn remove(&self) -> Result<(), StateError> {
        let key = self.snapshot_key();
        self.run(|client, bucket| async move { delete(&client, &bucket, &key).await })?;
        self.clear_journal()
    }

    /// The stacks with a snapshot or a journal under the prefix.
    pub fn list(&self) -> Result<Vec<String>, StateError> {
        let prefix = self.location.key("");
        let under = prefix.clone();
        let (keys, dirs) = self.run(|client, bucket| async move { list(&client, &bucket, &under, true).await })?;
        let mut names: Vec<String> = keys
            .iter()
            .filter_map(|k| k.strip_prefix(&prefix)?.strip_suffix(".json"))
            .chain(
                dirs.iter()
                    .filter_map(|d| d.strip_prefix(&prefix)?.strip_suffix(".journal/")),
            )
            .filter(|n| !n.is_empty() && !n.starts_with('.') && !n.contains('/'))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Journal batches as objects `<stack>.journal/<generation>-<first seq>`.
pub struct S3Journal {
    client: Client,
    bucket: String,
    prefix: String,
}

impl JournalSink for S3Journal {
    fn append(&mut self, first_seq: u64, bytes: &[u8]) -> std::io::Result<()> {
        let (client, bucket) = (self.client.clone(), self.bucket.clone());
        let key = format!("{}{first_seq:020}", self.prefix);
        let body = bytes.to_vec();
        let written = block(async move {
            // Create-only: a second engine (after a forced unlock) cannot overwrite a batch.
            match put(&client, &bucket, &key, body, true).await? {
                true => Ok(()),
                false => Err(StateError::Locked(format!(
                    "s3://{bucket}/{key} already exists: another engine writes this journal"
                ))),
            }
        });
        written.map_err(|e| std::io::Error::other(e.to_string()))
    }
}
