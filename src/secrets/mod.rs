//! Secret handling: the `Secret<T>` type, PGP encryption, and the SES SMTP password.

pub mod pgp;
pub mod pgp_source;
pub mod secret;
pub mod secret_file;
pub mod ses;

pub use secret::Secret;
