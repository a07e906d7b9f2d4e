//! Claim tokens over HTTP: the issuer directory (RFC 9578 §4), issuance
//! (RFC 9578 §5–6, `application/private-token-request`), each entity's
//! challenge (RFC 9577 `WWW-Authenticate: PrivateToken`), the one page
//! that runs a script (in-browser blinding), and the identity-free rate
//! limit of `open` entities.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::json;

use super::{AppState, Ctx};
use crate::core::envelope::Id;
use crate::core::tokens::{Policy, Scope, base64url};
use crate::saadd::EntityRecord;
use crate::tokens::IssueError;

/// The header carrying an issuance code with a TokenRequest.
pub const CODE_HEADER: &str = "buzon-issuance-code";

/// Content types of RFC 9578.
const REQUEST_TYPE: &str = "application/private-token-request";
const RESPONSE_TYPE: &str = "application/private-token-response";
const DIRECTORY_TYPE: &str = "application/private-token-issuer-directory";

/// The script of the issuance page, built from `web/pases/` (see its
/// README) and served from this origin only.
const PASES_JS: &[u8] = include_bytes!("assets/pases.js");

/// The issuance page's policy: scripts and fetches from this origin only.
const PASES_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// ---------------------------------------------------------------- JSON errors

/// Every stable code a JSON error may carry (spec/tokens.md).
pub const API_ERROR_CODES: &[&str] = &[
    "code_missing",
    "code_unknown",
    "code_expired",
    "code_revoked",
    "code_exhausted",
    "code_wrong_entity",
    "key_unknown",
    "request_malformed",
    "wrong_content_type",
    "unavailable",
    "entity_unknown",
    "not_found",
    "method",
    "too_large",
    // spec/api.md
    "session",
    "receipt_unknown",
    "no_reader",
    "attachment_too_large",
    "too_many_attachments",
    "thread_full",
    "busy",
    "forbidden",
    "device_only",
    "bad_status",
    "taken",
    "malformed",
    "wrong_day",
    "stale",
    "rotation_due",
    "token_missing",
    "token_malformed",
    "token_wrong_entity",
    "token_expired",
    "token_spent",
    "new_threads_busy",
    "cross_site",
    "timeout",
    // spec/tlog.md
    "audit_access",
    "audit_range",
];

/// A JSON error: a stable code and a sentence in the reader's language.
pub fn api_error(st: &AppState, ctx: &Ctx, status: StatusCode, code: &str) -> Response {
    let key = format!("api-{}", code.replace('_', "-"));
    let message = st.t(ctx, &key);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": { "code": code, "message": message } }).to_string(),
    )
        .into_response()
}

fn entity(st: &AppState, ctx: &Ctx, slug: &str) -> Result<EntityRecord, Response> {
    st.saadd
        .entity_by_slug(slug)
        .map_err(|_| api_error(st, ctx, StatusCode::NOT_FOUND, "entity_unknown"))
}

// ---------------------------------------------------------------- directory

pub async fn directory(State(st): State<AppState>) -> Response {
    let keys: Vec<_> = st
        .tokens
        .directory()
        .into_iter()
        .map(|k| {
            json!({
                "token-type": k.token_type as u16,
                "token-key": base64url(&k.token_key),
                "not-before": k.not_before,
                "buzon-scope": k.origin,
                "buzon-issuer-name": k.issuer_name,
            })
        })
        .collect();
    let body = json!({
        "issuer-request-uri": "/api/v1/token-request",
        "token-keys": keys,
    });
    (
        [
            (header::CONTENT_TYPE, DIRECTORY_TYPE),
            // Every client sees the same keys. A new epoch's key is listed
            // from its first day; a directory cached for up to an hour past
            // that shows the previous key, whose tokens stay good through
            // the new epoch.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body.to_string(),
    )
        .into_response()
}

// ---------------------------------------------------------------- challenges

/// The `WWW-Authenticate` value of a scope: one challenge per token type.
pub fn www_authenticate(st: &AppState, scope: &Scope) -> Option<HeaderValue> {
    let parts: Vec<String> = st
        .tokens
        .challenges(scope)
        .iter()
        .map(|c| {
            format!(
                "PrivateToken challenge=\"{}\", token-key=\"{}\", max-age={}",
                base64url(&c.challenge),
                base64url(&c.token_key),
                c.max_age
            )
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    HeaderValue::from_str(&parts.join(", ")).ok()
}

pub async fn challenge(State(st): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let e = match entity(&st, &ctx, &slug) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let scope = Scope::Entity(e.id);
    let policy = st.tokens.policy(&scope).unwrap_or_default();
    let challenges: Vec<_> = st
        .tokens
        .challenges(&scope)
        .iter()
        .map(|c| {
            json!({
                "token-type": c.token_type as u16,
                "challenge": base64url(&c.challenge),
                "token-key": base64url(&c.token_key),
                "max-age": c.max_age,
            })
        })
        .collect();
    let body = json!({ "entity": e.slug, "policy": policy.key(), "challenges": challenges });
    let mut resp = (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Some(v) = www_authenticate(&st, &scope) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

// ---------------------------------------------------------------- issuance

pub async fn token_request(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.eq_ignore_ascii_case(REQUEST_TYPE) {
        return api_error(
            &st,
            &ctx,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
        );
    }
    let code = headers.get(CODE_HEADER).and_then(|v| v.to_str().ok());
    match st.tokens.issue(code, &body).await {
        Ok(response) => (
            [
                (header::CONTENT_TYPE, RESPONSE_TYPE),
                (header::CACHE_CONTROL, "no-store"),
            ],
            response,
        )
            .into_response(),
        Err(e) => {
            let status = match &e {
                IssueError::CodeMissing => StatusCode::UNAUTHORIZED,
                IssueError::CodeUnknown
                | IssueError::CodeExpired
                | IssueError::CodeRevoked
                | IssueError::CodeWrongScope => StatusCode::FORBIDDEN,
                IssueError::CodeExhausted => StatusCode::TOO_MANY_REQUESTS,
                IssueError::KeyUnknown | IssueError::Malformed => StatusCode::BAD_REQUEST,
                IssueError::Store(err) => {
                    tracing::error!(error = %err, "token issuance failed in storage");
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            api_error(&st, &ctx, status, e.code())
        }
    }
}

// ---------------------------------------------------------------- issuance page

pub async fn pases_page(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let server = server_address(&headers);
    let e = match st.saadd.entity_by_slug(&slug) {
        Ok(e) => e,
        Err(err) => return super::WebError::from(err).page(&st, &ctx),
    };
    let t = |k: &str| st.t(&ctx, k);
    let body = html! {
        p.lead { (t("pases-lead")) }
        p { (st.i18n.ta(ctx.lang, "pases-period", &[("days", fluent_bundle::FluentValue::from(u64::from(st.tokens.epochs().length())))])) }
        section {
            h2 { (t("pases-why-title")) }
            p { (t("pases-why")) }
            p { (t("pases-js")) }
            p.warning { (t("pases-safest")) }
            pre { "buzon token fetch --server " (server) " --entity " (e.slug) " --count 5 --out pases.txt" }
        }
        section {
            h2 { (t("pases-get-title")) }
            noscript { div.notice.error { p { (t("pases-noscript")) } } }
            // Hidden until the script runs: without it, sending the form
            // would only put the code in the address bar and the history.
            div #pases-app hidden {
                form #pases
                    data-entity=(e.slug)
                    data-challenge-url={ "/api/v1/entities/" (e.slug) "/token-challenge" }
                    data-directory-url="/.well-known/private-token-issuer-directory"
                    data-msg-working=(t("pases-working"))
                    data-msg-done=(t("pases-done"))
                    data-msg-failed=(t("pases-failed"))
                    data-msg-failed-none=(t("pases-failed-none")) {
                    label for="pases-code" { (t("pases-code")) }
                    input #pases-code type="text" name="code" autocomplete="off" spellcheck="false" required;
                    label for="pases-count" { (t("pases-count")) }
                    input #pases-count name="count" type="number" min="1" max="20" value="1" required;
                    p { button type="submit" { (t("pases-submit")) } }
                }
                p #pases-status role="status" {}
                label for="pases-out" { (t("pases-out")) }
                textarea #pases-out readonly rows="8" wrap="off" {}
                p { (t("pases-use")) " " a href={ "/e/" (e.slug) "#escribir" } { (e.name) } "." }
            }
        }
        script src="/static/pases.js" {}
    };
    let mut resp = super::layout::page_with_script(&st, &ctx, &t("pases-title"), body);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PASES_CSP),
    );
    resp
}

pub async fn pases_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PASES_JS,
    )
        .into_response()
}

/// This server's address as the reporter reached it, for the command the
/// page suggests: plain HTTP for an onion service or loopback, HTTPS
/// otherwise. Only a plain host name is used; anything else is "URL".
fn server_address(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 100
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
        });
    match host {
        Some(h) if h.ends_with(".onion") || h.starts_with("127.") || h.starts_with("localhost") => {
            format!("http://{h}")
        }
        Some(h) => format!("https://{h}"),
        None => "URL".to_owned(),
    }
}

// ---------------------------------------------------------------- open entities

/// A token bucket per entity for `open` entities: `per_hour` new threads
/// per hour for everyone together, bursts up to the same number. Keyed by
/// entity only — never by address or anything else about the sender.
#[derive(Default)]
pub struct OpenLimiter {
    buckets: Mutex<HashMap<Id, (f64, Instant)>>,
}

impl OpenLimiter {
    /// Takes one new-thread slot for `entity` at `now`; `false` when the
    /// entity's hourly allowance is used up.
    pub fn take(&self, entity: Id, per_hour: u32, now: Instant) -> bool {
        let cap = f64::from(per_hour.max(1));
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (level, last) = b.entry(entity).or_insert((cap, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *level = (*level + elapsed * cap / 3600.0).min(cap);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }

    /// Gives a slot back (the submission it was taken for was refused).
    pub fn give_back(&self, entity: Id) {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((level, _)) = b.get_mut(&entity) {
            *level += 1.0;
        }
    }
}

/// The policy of an entity (open when storage cannot say).
pub fn policy_of(st: &AppState, entity: &EntityRecord) -> Policy {
    st.tokens
        .policy(&Scope::Entity(entity.id))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_open_limit_refills_over_the_hour() {
        let l = OpenLimiter::default();
        let e = Id([7; 16]);
        let t0 = Instant::now();
        assert!(l.take(e, 2, t0));
        assert!(l.take(e, 2, t0));
        assert!(!l.take(e, 2, t0));
        assert!(!l.take(e, 2, t0 + Duration::from_secs(1000)));
        assert!(l.take(e, 2, t0 + Duration::from_secs(1900)));
        l.give_back(e);
        assert!(l.take(e, 2, t0 + Duration::from_secs(1900)));
        assert!(l.take(Id([8; 16]), 2, t0));
    }
}
