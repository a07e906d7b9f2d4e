//! buzon: anonymous ethics questions and whistleblower claims, end-to-end
//! encrypted, with no identity at rest. See README.md and spec/.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod audit;
pub mod backup;
pub mod cli;
pub mod client;
pub mod config;
pub mod core;
pub mod logging;
pub mod operator;
pub mod platform;
pub mod saadd;
pub mod services;
pub mod store;
pub mod tokens;
pub mod web;
