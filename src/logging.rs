//! Log configuration, safe by construction: whatever level an operator
//! asks for, the modules that would log a client's address (axum's accept
//! loop logs `connection 1.2.3.4:5678 accepted` at TRACE) stay off.
//! buzon's own log lines carry counts and error kinds, never user data.

use tracing_subscriber::EnvFilter;

/// Directives always appended: they win over the operator's.
/// sled logs keys and whole write batches (thread ids, lookup handles,
/// ciphertext) at debug and trace: it is held at warnings. reqwest (the
/// token client) logs the addresses it connects to at debug.
const ALWAYS_OFF: &[&str] = &[
    "axum::serve=off",
    "hyper::server=off",
    "hyper_util::server=off",
    "reqwest=warn",
    "hyper_util::client=warn",
    "sled=warn",
    // The Privacy Pass crates log every refused token or request at warn
    // (error kinds only): a flood of bad tokens must not flood the log.
    "privacypass=error",
    "voprf=error",
    "blind_rsa_signatures=error",
];

/// The filter for `requested` (e.g. the `BUZON_LOG` variable), default `info`.
pub fn filter(requested: Option<&str>) -> EnvFilter {
    let mut spec = requested.unwrap_or("info").to_owned();
    for d in ALWAYS_OFF {
        spec.push(',');
        spec.push_str(d);
    }
    EnvFilter::try_new(&spec).unwrap_or_else(|_| {
        let mut fallback = String::from("info");
        for d in ALWAYS_OFF {
            fallback.push(',');
            fallback.push_str(d);
        }
        EnvFilter::new(fallback)
    })
}
