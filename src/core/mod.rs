//! Pure protocol code: bytes in, bytes out. No I/O, no clock, no OS randomness.
//!
//! Every function that needs time takes a [`Day`]; every function that needs
//! randomness takes the random bytes (or an RNG) as an argument, so that the
//! fixed vectors in `tests/vectors/` can pin every output byte.

pub mod api;
pub mod day;
pub mod envelope;
pub mod names;
pub mod padding;
pub mod receipt;
pub mod retention;
pub mod seal;
pub mod secret;
pub mod status;
pub mod tlog;
pub mod tokens;
pub mod wire;
pub mod wrap;
pub mod zone;

pub use day::Day;
