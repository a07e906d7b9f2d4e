//! Response headers every page carries, and the cross-site check on forms.

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{AppState, Ctx, WebError};

/// The Content-Security-Policy of every page: nothing from anywhere, our
/// own stylesheet, forms posting only to us, no framing, no scripts.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response and refuses state-changing
/// requests that a browser marks as coming from another site.
///
/// Browsers send `Origin: null` on form posts under `Referrer-Policy:
/// no-referrer`, so the check reads `Sec-Fetch-Site` (sent by Tor Browser,
/// Firefox and Chromium) and, when a real `Origin` is sent, compares it
/// with `Host`; clients that send neither header (the CLI, curl) are not
/// browsers and are let through, and the session cookies are
/// `SameSite=Strict` besides.
///
/// Refusals made below the handlers (an undecodable path, a body the
/// framework could not read) come back as plain English text; they are
/// replaced here by a page in the reader's language.
pub async fn headers(State(st): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let ctx = match Ctx::from_request_parts(&mut parts, &st).await {
        Ok(c) => c,
        Err(never) => match never {},
    };
    let req = Request::from_parts(parts, body);
    let mut resp = if is_cross_site(req.method(), req.headers()) {
        if ctx.path.starts_with("/api/") {
            super::tokens::api_error(&st, &ctx, StatusCode::FORBIDDEN, "cross_site")
        } else {
            WebError::new(StatusCode::FORBIDDEN, "err-cross-site").page(&st, &ctx)
        }
    } else {
        let resp = next.run(req).await;
        let plain = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
        // A timeout (408) comes back with an empty body and no type.
        let bare = resp.headers().get(header::CONTENT_TYPE).is_none();
        if resp.status().is_client_error() && (plain || bare) && ctx.path.starts_with("/api/") {
            let code = match resp.status() {
                StatusCode::NOT_FOUND => "not_found",
                StatusCode::PAYLOAD_TOO_LARGE => "too_large",
                StatusCode::METHOD_NOT_ALLOWED => "method",
                StatusCode::REQUEST_TIMEOUT => "timeout",
                _ => "request_malformed",
            };
            super::tokens::api_error(&st, &ctx, resp.status(), code)
        } else if resp.status().is_client_error() && (plain || bare) {
            let key = match resp.status() {
                StatusCode::NOT_FOUND => "err-not-found",
                StatusCode::PAYLOAD_TOO_LARGE => "err-form-too-large",
                StatusCode::REQUEST_TIMEOUT => "err-timeout",
                _ => "err-form",
            };
            WebError::new(resp.status(), key).page(&st, &ctx)
        } else {
            resp
        }
    };
    set_headers(resp.headers_mut());
    resp
}

fn is_cross_site(method: &Method, h: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return false;
    }
    let fetch_site = h
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site");
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
    let foreign_origin = match (origin, host) {
        (Some(o), Some(host)) if o != "null" => o
            .split_once("://")
            .map(|(_, authority)| authority != host)
            .unwrap_or(true),
        _ => false,
    };
    fetch_site || foreign_origin
}

fn set_headers(h: &mut HeaderMap) {
    // The one page that runs a script sets its own policy.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    let fixed = [
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
