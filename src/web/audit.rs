//! The auditor's endpoints (spec/tlog.md, "Endpoints"): the signed
//! checkpoint, entries and proofs, behind an auditor access token. They
//! serve only the log: no thread, no content, no handle-to-thread map.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::tokens::api_error;
use super::{AppState, Ctx};
use crate::audit::{AuditError, MAX_PAGE};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn authorised(st: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // The scheme is case-insensitive (RFC 9110 §11.1).
            v.get(..7)
                .filter(|s| s.eq_ignore_ascii_case("bearer "))
                .and_then(|_| v.get(7..))
        })
        .unwrap_or("");
    match crate::audit::access::allowed(st.saadd.store().as_ref(), token) {
        Ok(true) => Ok(()),
        Ok(false) => Err(api_error(st, ctx, StatusCode::UNAUTHORIZED, "audit_access")),
        Err(_) => Err(api_error(
            st,
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        )),
    }
}

fn failed(st: &AppState, ctx: &Ctx, e: AuditError) -> Response {
    match e {
        AuditError::Range => api_error(st, ctx, StatusCode::BAD_REQUEST, "audit_range"),
        _ => {
            tracing::error!(error = %e, "audit log");
            api_error(st, ctx, StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

/// `GET /api/v1/audit/checkpoint`: the latest signed checkpoint, as a
/// C2SP signed note.
pub async fn checkpoint(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    if let Err(r) = authorised(&st, &ctx, &headers) {
        return r;
    }
    match st.audit.checkpoint() {
        Ok(note) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            note,
        )
            .into_response(),
        Err(e) => failed(&st, &ctx, e),
    }
}

#[derive(Deserialize)]
pub struct Range {
    start: u64,
    end: u64,
}

/// `GET /api/v1/audit/entries?start=S&end=E`: entries S..E (at most 1000),
/// each the exact leaf bytes in standard base64.
pub async fn entries(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    range: Result<Query<Range>, QueryRejection>,
) -> Response {
    if let Err(r) = authorised(&st, &ctx, &headers) {
        return r;
    }
    let Ok(Query(r)) = range else {
        return api_error(&st, &ctx, StatusCode::BAD_REQUEST, "audit_range");
    };
    if r.end < r.start || r.end - r.start > MAX_PAGE {
        return api_error(&st, &ctx, StatusCode::BAD_REQUEST, "audit_range");
    }
    match st.audit.entries(r.start, r.end) {
        Ok(list) => {
            let list: Vec<String> = list.iter().map(|e| B64.encode(e)).collect();
            axum::Json(json!({ "start": r.start, "entries": list })).into_response()
        }
        Err(e) => failed(&st, &ctx, e),
    }
}

#[derive(Deserialize)]
pub struct Inclusion {
    index: u64,
    size: u64,
}

/// `GET /api/v1/audit/proof/inclusion?index=I&size=N` (RFC 9162 §2.1.3).
pub async fn inclusion(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    q: Result<Query<Inclusion>, QueryRejection>,
) -> Response {
    if let Err(r) = authorised(&st, &ctx, &headers) {
        return r;
    }
    let Ok(Query(q)) = q else {
        return api_error(&st, &ctx, StatusCode::BAD_REQUEST, "audit_range");
    };
    proof(&st, &ctx, st.audit.inclusion(q.index, q.size))
}

#[derive(Deserialize)]
pub struct Consistency {
    old: u64,
    new: u64,
}

/// `GET /api/v1/audit/proof/consistency?old=M&new=N` (RFC 9162 §2.1.4).
pub async fn consistency(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    q: Result<Query<Consistency>, QueryRejection>,
) -> Response {
    if let Err(r) = authorised(&st, &ctx, &headers) {
        return r;
    }
    let Ok(Query(q)) = q else {
        return api_error(&st, &ctx, StatusCode::BAD_REQUEST, "audit_range");
    };
    proof(&st, &ctx, st.audit.consistency(q.old, q.new))
}

fn proof(
    st: &AppState,
    ctx: &Ctx,
    p: Result<Vec<crate::core::tlog::Hash>, AuditError>,
) -> Response {
    match p {
        Ok(hashes) => {
            let list: Vec<String> = hashes.iter().map(|h| B64.encode(h)).collect();
            axum::Json(json!({ "proof": list })).into_response()
        }
        Err(e) => failed(st, ctx, e),
    }
}
