//! The `configure` settings of this cloud: a wire type, defined in [`crate::protocol::settings`].

pub use crate::protocol::settings::aws::*;
