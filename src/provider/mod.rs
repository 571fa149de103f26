//! The provider: the one place where a method call meets a resource type. It owns the registry,
//! the cloud settings, and the cancellation of in-flight operations.

/// The error type lives with the resources that raise it; re-exported for the floors above.
pub use crate::resources::error;

use crate::cloud::{Call, Clouds};
use crate::protocol::envelope::unwrap_all;
use crate::protocol::*;
use crate::resources::{Context, ContextGuard, DynResource, LazyContext, Registry, registry};
use error::ProviderError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The provider state behind every transport.
pub struct Provider {
    registry: Registry,
    clouds: RwLock<Arc<Clouds>>,
    /// Replaced after each `cancel`, so that later operations start uncancelled.
    cancel: Mutex<CancellationToken>,
    in_flight: Arc<AtomicUsize>,
}

/// Counts an operation as in flight while it lives.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for Provider {
    fn default() -> Self {
        Provider::new(ConfigureRequest::default())
    }
}

impl Provider {
    /// A provider with these initial settings.
    pub fn new(settings: ConfigureRequest) -> Self {
        Provider {
            registry: registry::all(),
            clouds: RwLock::new(Arc::new(Clouds::new(settings))),
            cancel: Mutex::new(CancellationToken::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The registry of resource types.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn resource(&self, type_name: &str) -> Result<&Arc<dyn DynResource>, ProviderError> {
        self.registry.get(type_name).ok_or_else(|| {
            ProviderError::invalid(
                "type",
                format!(
                    "unknown resource type; valid types are: {}",
                    self.registry.names().join(", ")
                ),
            )
        })
    }

    fn context(
        &self,
        timeout_seconds: Option<f64>,
        default_seconds: u64,
    ) -> Result<(Context, InFlight), ProviderError> {
        let seconds = timeout_seconds.unwrap_or(default_seconds as f64);
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(ProviderError::invalid(
                "timeoutSeconds",
                "must be a positive number of seconds",
            ));
        }
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(self.in_flight.clone());
        let ctx = Context {
            call: Call::new(
                self.cancel.lock().expect("cancel lock").child_token(),
                tokio::time::Instant::now() + Duration::from_secs_f64(seconds.min(86_400.0)),
            ),
            clouds: self.clouds.read().expect("clouds lock").clone(),
        };
        Ok((ctx, guard))
    }

    /// `getSchema`.
    pub fn get_schema(&self) -> SchemaResponse {
        self.schema_of(|r| r.schema().document.clone())
    }

    /// The schema derived from the Rust types now rather than the committed copy that
    /// [`Provider::get_schema`] serves: what `credplane schema` writes and checks.
    pub fn derived_schema(&self) -> SchemaResponse {
        self.schema_of(|r| r.derived_document())
    }

    fn schema_of(&self, document: impl Fn(&dyn DynResource) -> serde_json::Value) -> SchemaResponse {
        SchemaResponse {
            version: env!("CARGO_PKG_VERSION").to_string(),
            resources: self
                .registry
                .iter()
                .map(|r| (r.type_name().to_string(), document(r.as_ref())))
                .collect(),
        }
    }

    /// `check`.
    pub fn check(&self, req: CheckRequest) -> Result<CheckResponse, ProviderError> {
        Ok(self.resource(&req.type_name)?.check(req.olds, req.news))
    }

    /// `diff`: may read the cloud (a key's age, its owner's keys), within the read timeout.
    pub async fn diff(&self, req: DiffRequest) -> Result<DiffResponse, ProviderError> {
        let resource = self.resource(&req.type_name)?;
        let read_timeout = resource.info().timeouts.read;
        let make = || {
            let (ctx, guard) = self.context(None, read_timeout)?;
            Ok((ctx, Box::new(guard) as ContextGuard))
        };
        let ctx = LazyContext::new(&make);
        resource
            .diff(&ctx, &req.id, req.olds, req.news, &req.ignore_changes)
            .await
    }

    /// `create`.
    pub async fn create(&self, req: CreateRequest) -> Result<CreateResponse, ProviderError> {
        let resource = self.resource(&req.type_name)?;
        let (ctx, _guard) = self.context(req.timeout_seconds, resource.info().timeouts.create)?;
        tracing::info!(r#type = %req.type_name, preview = req.preview, "create");
        resource.create(&ctx, req.inputs, req.preview).await
    }

    /// `read`.
    pub async fn read(&self, req: ReadRequest) -> Result<Option<ReadResponse>, ProviderError> {
        let resource = self.resource(&req.type_name)?;
        let (ctx, _guard) = self.context(req.timeout_seconds, resource.info().timeouts.read)?;
        tracing::info!(r#type = %req.type_name, id = %req.id, "read");
        resource.read(&ctx, &req.id, req.inputs, req.outputs).await
    }

    /// `update`.
    pub async fn update(&self, req: UpdateRequest) -> Result<UpdateResponse, ProviderError> {
        let resource = self.resource(&req.type_name)?;
        let (ctx, _guard) = self.context(req.timeout_seconds, resource.info().timeouts.update)?;
        tracing::info!(r#type = %req.type_name, id = %req.id, preview = req.preview, "update");
        let outputs = resource.update(&ctx, &req.id, req.olds, req.news, req.preview).await?;
        Ok(UpdateResponse { outputs })
    }

    /// `delete`.
    pub async fn delete(&self, req: DeleteRequest) -> Result<Empty, ProviderError> {
        let resource = self.resource(&req.type_name)?;
        let (ctx, _guard) = self.context(req.timeout_seconds, resource.info().timeouts.delete)?;
        tracing::info!(r#type = %req.type_name, id = %req.id, "delete");
        resource.delete(&ctx, &req.id, req.outputs).await?;
        Ok(Empty {})
    }

    /// `cancel`: every operation in flight stops at its next await point.
    pub fn cancel(&self) -> CancelResponse {
        let mut token = self.cancel.lock().expect("cancel lock");
        token.cancel();
        *token = CancellationToken::new();
        CancelResponse {
            cancelled: self.in_flight.load(Ordering::SeqCst),
        }
    }

    /// `configure`: replaces the settings of the clouds it names.
    pub fn configure(&self, params: PropertyMap) -> Result<Empty, ProviderError> {
        let (plain, _) = unwrap_all(params);
        let req: ConfigureRequest =
            serde_path_to_error::deserialize(serde_json::Value::Object(plain)).map_err(|err| {
                ProviderError::invalid(
                    err.path().to_string(),
                    "is not a valid setting (see the configure params schema)",
                )
            })?;
        let mut clouds = self.clouds.write().expect("clouds lock");
        let mut settings = clouds.settings.clone();
        settings.aws = req.aws.or(settings.aws);
        settings.oci = req.oci.or(settings.oci);
        settings.alicloud = req.alicloud.or(settings.alicloud);
        settings.common = req.common.or(settings.common);
        *clouds = Arc::new(Clouds::new(settings));
        tracing::info!("configure");
        Ok(Empty {})
    }
}
