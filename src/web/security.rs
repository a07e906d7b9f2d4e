//! Response headers every page carries, and the cross-site check on forms.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The Content-Security-Policy of every page: nothing from anywhere, our
/// own stylesheet, forms posting only to us, no framing, no scripts.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response and refuses state-changing
/// requests that a browser marks as coming from another site.
///
/// Browsers send `Origin: null` on form posts under `Referrer-Policy:
/// no-referrer`, so the check reads `Sec-Fetch-Site` (sent by Tor Browser,
/// Firefox and Chromium); clients that send neither header (the CLI,
/// curl) are not browsers and are let through, and the session cookies are
/// `SameSite=Strict` besides.
pub async fn headers(req: Request<Body>, next: Next) -> Response {
    let cross_site = req.method() != Method::GET
        && req.method() != Method::HEAD
        && req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site" || v == "same-site");
    let mut resp = if cross_site {
        (StatusCode::FORBIDDEN, "cross-site form refused").into_response()
    } else {
        next.run(req).await
    };
    set_headers(resp.headers_mut());
    resp
}

fn set_headers(h: &mut HeaderMap) {
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (k, v) in fixed {
        h.insert(k, HeaderValue::from_static(v));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.remove(header::SERVER);
}
