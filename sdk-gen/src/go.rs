//! stub
use anyhow::Result; use minijinja::Environment; use crate::{Files, model::Model};
/// stub
pub fn emit(_m: &Model, _e: &Environment, _f: &mut Files) -> Result<()> { Ok(()) }
