//! The JSON API for clients that seal and open on their own machine
//! (spec/api.md). Sessions are proofs of key possession: a session secret
//! wrapped to the caller's public key. Errors are JSON with a stable code
//! and a translated sentence; nothing here sees a plaintext or a key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::reporter::{GateGuard, pass_gate};
use super::tokens::api_error;
use super::{AppState, Ctx};
use crate::core::api::{
    AssignIn, Created, MessageIn, NewThreadIn, ReporterSessionRequest, RotationIn,
    SessionChallenge, SignedDocument, StaffSessionRequest, StatusIn, ThreadList, ThreadSummary,
    UnassignIn, b64, unb64,
};
use crate::core::envelope::{self, Id, Slot};
use crate::core::secret::Key32;
use crate::core::status::Status;
use crate::core::wrap::{self, RecipientSecret};
use crate::saadd::SaaddError;
use crate::saadd::api::{Caller, Upload};

/// How long an API session lives.
pub const SESSION_TTL: Duration = Duration::from_secs(15 * 60);

/// Largest JSON part of a multipart request (a 256 KiB message record in
/// base64 and five attachment records).
const JSON_PART: usize = 512 * 1024;

/// Largest chunk record: version, epoch, nonce, a 64 KiB frame, tag.
const CHUNK_RECORD: usize = 5 + 24 + 65_536 + 16;

/// Associated data of a sealed session payload.
const SESSION_AAD: &[u8] = b"buzon/api-session-token/v1";

/// Most ended sessions remembered until they would have expired anyway.
const MAX_ENDED: usize = 100_000;

/// `version || kind || id || public key || expires (u64, seconds of this
/// process)`, sealed with a fresh random nonce: two sessions issued in the
/// same second still differ, so ending one does not end the other.
const PAYLOAD_LEN: usize = 1 + 1 + 16 + 32 + 8;

/// API sessions (spec/api.md, "Sessions") are stateless: the session is
/// its caller and expiry sealed under a key that lives only in this
/// process, and its secret is a keyed BLAKE3 hash of the sealed bytes. So a
/// challenge, answered or not, stores nothing and names nobody: nobody can
/// fill memory or tell logins apart by asking. Only sessions ended early
/// are remembered.
pub struct ApiSessions {
    key: Key32,
    ended: Mutex<HashMap<[u8; 32], u64>>,
    /// Expiries count seconds from here: a session never outlives the
    /// process that made its key, so no wall clock is needed.
    started: std::time::Instant,
}

impl ApiSessions {
    pub fn new(key: [u8; 32]) -> ApiSessions {
        ApiSessions {
            key: Key32::from_bytes(key),
            ended: Mutex::new(HashMap::new()),
            started: std::time::Instant::now(),
        }
    }

    /// Seconds since this process made its session key.
    fn now(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    fn secret(&self, session: &[u8]) -> Key32 {
        Key32::from_bytes(*blake3::keyed_hash(self.key.expose(), session).as_bytes())
    }

    /// The key that seals a session's payload, so that its clear form (who,
    /// until when) is never handed out: a staff id in an answer would tell
    /// a device login from an unknown one.
    fn seal_key(&self) -> Key32 {
        Key32::from_bytes(blake3::derive_key(
            "buzon 2026-12 api session seal v1",
            self.key.expose(),
        ))
    }

    /// A new session for `caller`: the payload to hand out in the clear and
    /// the secret to wrap to the caller's key.
    fn issue(
        &self,
        caller: &Caller,
        thread: Option<Id>,
        now: u64,
        seal_nonce: [u8; 24],
    ) -> (Vec<u8>, Key32) {
        let (kind, id) = match (caller.slot, thread) {
            (Slot::Staff(id), _) => (1u8, id),
            (Slot::Reporter, t) => (0u8, t.unwrap_or(Id([0; 16]))),
        };
        let mut payload = Vec::with_capacity(PAYLOAD_LEN);
        payload.push(1);
        payload.push(kind);
        payload.extend_from_slice(&id.0);
        payload.extend_from_slice(&caller.public.0);
        payload.extend_from_slice(&now.saturating_add(SESSION_TTL.as_secs()).to_be_bytes());
        let session = crate::core::seal::seal(&self.seal_key(), seal_nonce, SESSION_AAD, &payload);
        let secret = self.secret(&session);
        (session, secret)
    }

    /// The caller of a bearer value `payload.secret`, if it is genuine,
    /// current and not ended.
    fn check(&self, bearer: &str, now: u64) -> Option<(Caller, Option<Id>)> {
        let (p, m) = bearer.split_once('.')?;
        let session = unb64(p)?;
        let mac = unb64(m)?;
        let given: [u8; 32] = mac.try_into().ok()?;
        // blake3::Hash compares in constant time.
        if blake3::Hash::from(given) != blake3::keyed_hash(self.key.expose(), &session) {
            return None;
        }
        let payload = crate::core::seal::open(&self.seal_key(), SESSION_AAD, &session).ok()?;
        let payload = payload.expose();
        if payload.len() != PAYLOAD_LEN || payload.first() != Some(&1) {
            return None;
        }
        let id = Id(payload.get(2..18)?.try_into().ok()?);
        let public = crate::core::wrap::RecipientKey(payload.get(18..50)?.try_into().ok()?);
        let expires = u64::from_be_bytes(payload.get(50..58)?.try_into().ok()?);
        if expires <= now {
            return None;
        }
        if self
            .ended
            .lock()
            .ok()?
            .contains_key(blake3::hash(bearer.as_bytes()).as_bytes())
        {
            return None;
        }
        match payload.get(1)? {
            0 => Some((
                Caller {
                    slot: Slot::Reporter,
                    public,
                },
                Some(id),
            )),
            1 => Some((
                Caller {
                    slot: Slot::Staff(id),
                    public,
                },
                None,
            )),
            _ => None,
        }
    }

    /// Ends a session before its expiry (best effort once `MAX_ENDED`
    /// sessions are remembered: it then lasts until it expires).
    fn end(&self, bearer: &str, now: u64) {
        let Some(expires) = bearer
            .split_once('.')
            .and_then(|(p, _)| unb64(p))
            .and_then(|sealed| crate::core::seal::open(&self.seal_key(), SESSION_AAD, &sealed).ok())
            .and_then(|p| p.expose().get(50..58)?.try_into().ok())
            .map(u64::from_be_bytes)
        else {
            return;
        };
        if let Ok(mut ended) = self.ended.lock() {
            if ended.len() >= MAX_ENDED {
                ended.retain(|_, e| *e > now);
            }
            if ended.len() < MAX_ENDED {
                ended.insert(*blake3::hash(bearer.as_bytes()).as_bytes(), expires);
            }
        }
    }

    /// Forgets ended sessions that have expired anyway.
    pub fn sweep(&self) {
        let now = self.now();
        if let Ok(mut ended) = self.ended.lock() {
            ended.retain(|_, e| *e > now);
        }
    }
}

// ---------------------------------------------------------------- answers

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A service error as a JSON error (spec/api.md, "Errors").
fn refuse(st: &AppState, ctx: &Ctx, e: SaaddError) -> Response {
    use SaaddError as E;
    let (status, code) = match e {
        E::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        E::WrongReceipt => (StatusCode::NOT_FOUND, "receipt_unknown"),
        E::NoReader => (StatusCode::BAD_REQUEST, "no_reader"),
        E::AttachmentTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large"),
        E::TooManyAttachments { .. } => (StatusCode::BAD_REQUEST, "too_many_attachments"),
        E::ThreadFull { .. } => (StatusCode::CONFLICT, "thread_full"),
        E::Busy => (StatusCode::TOO_MANY_REQUESTS, "busy"),
        E::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        E::DeviceOnly => (StatusCode::FORBIDDEN, "device_only"),
        E::BadStatusChange => (StatusCode::CONFLICT, "bad_status"),
        E::Taken => (StatusCode::CONFLICT, "taken"),
        E::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed"),
        E::WrongDay => (StatusCode::BAD_REQUEST, "wrong_day"),
        E::Stale => (StatusCode::CONFLICT, "stale"),
        E::RotationDue => (StatusCode::CONFLICT, "rotation_due"),
        E::Corrupt(what) => {
            tracing::error!(what, "unreadable stored record");
            (StatusCode::INTERNAL_SERVER_ERROR, "unavailable")
        }
        E::Store(err) => {
            tracing::error!(error = %err, "storage failure");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        E::EmptyMessage
        | E::MessageTooLong { .. }
        | E::NulInMessage
        | E::NotText
        | E::WrongLogin
        | E::WeakPassword
        | E::Invalid(_) => (StatusCode::BAD_REQUEST, "request_malformed"),
    };
    api_error(st, ctx, status, code)
}

fn read_json<T: DeserializeOwned>(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, Response> {
    // `application/json`, with or without parameters (`; charset=utf-8`).
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(api_error(
            st,
            ctx,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
        ));
    }
    let body = body.map_err(|rej| {
        let code = if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "request_malformed"
        };
        api_error(st, ctx, rej.status(), code)
    })?;
    serde_json::from_slice(&body)
        .map_err(|_| api_error(st, ctx, StatusCode::BAD_REQUEST, "request_malformed"))
}

/// The value of the `Authorization: Bearer …` header.
fn bearer_of(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("Bearer "))
        .and_then(|_| value.get(7..))
        .map(str::trim)
}

/// The caller of a request, from its bearer secret.
fn caller(st: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<(Caller, Option<Id>), Response> {
    let unauthorised = || api_error(st, ctx, StatusCode::UNAUTHORIZED, "session");
    let token = bearer_of(headers).ok_or_else(unauthorised)?;
    let (c, thread) = st
        .api_sessions
        .check(token, st.api_sessions.now())
        .ok_or_else(unauthorised)?;
    // A staff session ends as soon as the member's key changes (a new
    // device key, removal).
    if let Slot::Staff(id) = c.slot
        && !st.saadd.staff_key_current(id, &c.public)
    {
        return Err(unauthorised());
    }
    Ok((c, thread))
}

/// The caller, who must be the reporter of `thread` or a staff member.
fn caller_for(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    thread: Id,
) -> Result<Caller, Response> {
    let (c, own) = caller(st, ctx, headers)?;
    match own {
        Some(t) if t != thread => Err(refuse(st, ctx, SaaddError::NotFound)),
        _ => Ok(c),
    }
}

fn id(st: &AppState, ctx: &Ctx, text: &str) -> Result<Id, Response> {
    Id::from_hex(text).ok_or_else(|| refuse(st, ctx, SaaddError::NotFound))
}

// ---------------------------------------------------------------- entities

/// `GET /api/v1/entities`: the signed entity document.
pub async fn entities(State(st): State<AppState>, ctx: Ctx) -> Response {
    let signed = (|| {
        let tokens = st.tokens.clone();
        let doc = st.saadd.entity_document(
            &|id| {
                use crate::core::tokens::{Policy, Scope};
                // A policy that cannot be read is shown as `token`: clients
                // then ask for a pass rather than be refused later.
                match tokens.policy(&Scope::Entity(id)) {
                    Ok(Policy::Open) => "open".to_owned(),
                    _ => "token".to_owned(),
                }
            },
            st.backup_horizon_days,
        )?;
        let document = serde_json::to_vec(&doc).map_err(|_| SaaddError::Corrupt("document"))?;
        let seed = st.saadd.signing_seed()?;
        let signed = crate::core::api::sign_document(seed.expose(), &document)
            .zip(crate::core::api::signing_public(seed.expose()))
            .ok_or(SaaddError::Corrupt("signing key"))?;
        Ok::<_, SaaddError>(SignedDocument {
            document: b64(&document),
            signature: b64(&signed.0),
            server_key: b64(&signed.1),
        })
    })();
    match signed {
        Ok(s) => json(StatusCode::OK, &s),
        Err(e) => refuse(&st, &ctx, e),
    }
}

// ---------------------------------------------------------------- sessions

/// A session for `caller`, its secret wrapped to the caller's key: the
/// `session` and `challenge` fields of the answer.
fn challenge(
    st: &AppState,
    ctx: &Ctx,
    caller: &Caller,
    context: &[u8],
    thread: Option<Id>,
) -> Result<(String, String), Response> {
    let (payload, secret) =
        st.api_sessions
            .issue(caller, thread, st.api_sessions.now(), st.random());
    let wrapped = wrap::wrap(&caller.public, st.random(), st.random(), context, &secret)
        .map_err(|_| refuse(st, ctx, SaaddError::NotFound))?;
    Ok((b64(&payload), b64(&wrapped)))
}

/// `POST /api/v1/sessions/reporter`.
pub async fn reporter_session(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = || -> Result<Response, Response> {
        let req: ReporterSessionRequest = read_json(&st, &ctx, &headers, body)?;
        let lookup: [u8; 32] = unb64(&req.lookup)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| api_error(&st, &ctx, StatusCode::BAD_REQUEST, "request_malformed"))?;
        let record = st
            .saadd
            .thread_by_lookup(lookup)
            .map_err(|e| refuse(&st, &ctx, e))?;
        let caller = Caller {
            slot: Slot::Reporter,
            public: record.reporter_key,
        };
        let context = envelope::session_context(record.id, &Slot::Reporter);
        let (session, ch) = challenge(&st, &ctx, &caller, &context, Some(record.id))?;
        Ok(json(
            StatusCode::OK,
            &SessionChallenge {
                thread: Some(record.id),
                staff: None,
                session,
                challenge: ch,
            },
        ))
    };
    run().unwrap_or_else(|r| r)
}

/// `POST /api/v1/sessions/staff`. An unknown, removed or password login
/// gets a challenge nobody can open, indistinguishable from a real one.
pub async fn staff_session(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = || -> Result<Response, Response> {
        let req: StaffSessionRequest = read_json(&st, &ctx, &headers, body)?;
        // An unknown, removed or password login gets a session for a
        // random id and key: same shape, same work, and nobody can open it.
        let (staff, public) = match st.saadd.device_staff(&req.login) {
            Some((id, key)) => (id, key),
            None => (
                Id(st.random()),
                RecipientSecret::from_bytes(st.random()).public(),
            ),
        };
        let caller = Caller {
            slot: Slot::Staff(staff),
            public,
        };
        let context = envelope::session_context(Id([0; 16]), &Slot::Staff(staff));
        let (session, ch) = challenge(&st, &ctx, &caller, &context, None)?;
        Ok(json(
            StatusCode::OK,
            // No staff id: a real one is in the signed document and would
            // tell a device login from any other. The client finds its id
            // there by its public key.
            &SessionChallenge {
                thread: None,
                staff: None,
                session,
                challenge: ch,
            },
        ))
    };
    run().unwrap_or_else(|r| r)
}

/// `DELETE /api/v1/sessions`: ends the caller's session.
pub async fn end_session(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    if let Err(r) = caller(&st, &ctx, &headers) {
        return r;
    }
    // `caller` found a genuine bearer in this header.
    if let Some(t) = bearer_of(&headers) {
        st.api_sessions.end(t, st.api_sessions.now());
    }
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------- reading

/// `GET /api/v1/threads/{id}`.
pub async fn thread(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
) -> Response {
    let run = || -> Result<Response, Response> {
        let thread = id(&st, &ctx, &tid)?;
        let c = caller_for(&st, &ctx, &headers, thread)?;
        let out = st
            .saadd
            .api_thread(thread, &c)
            .map_err(|e| refuse(&st, &ctx, e))?;
        Ok(json(StatusCode::OK, &out))
    };
    run().unwrap_or_else(|r| r)
}

/// `GET /api/v1/threads/{id}/attachments/{att}/chunks/{index}`.
pub async fn chunk(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((tid, aid, index)): Path<(String, String, String)>,
) -> Response {
    let run = || -> Result<Response, Response> {
        let thread = id(&st, &ctx, &tid)?;
        let att = id(&st, &ctx, &aid)?;
        let index: u32 = index
            .parse()
            .map_err(|_| refuse(&st, &ctx, SaaddError::NotFound))?;
        let c = caller_for(&st, &ctx, &headers, thread)?;
        let bytes = st
            .saadd
            .api_chunk(thread, att, index, &c)
            .map_err(|e| refuse(&st, &ctx, e))?;
        Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response())
    };
    run().unwrap_or_else(|r| r)
}

/// `GET /api/v1/staff/threads`.
pub async fn staff_threads(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let run = || -> Result<Response, Response> {
        let (c, _) = caller(&st, &ctx, &headers)?;
        // `caller` checked that a staff session's key is still current.
        let Slot::Staff(staff) = c.slot else {
            return Err(refuse(&st, &ctx, SaaddError::Forbidden));
        };
        let threads = st
            .saadd
            .api_threads_for(staff)
            .map_err(|e| refuse(&st, &ctx, e))?
            .into_iter()
            .map(|t| ThreadSummary {
                id: t.id,
                kind: t.kind.key().to_owned(),
                status: t.status.key().to_owned(),
                created: t.created,
                activity: t.activity,
                epoch: t.epoch,
                messages: t.messages,
                rotate: t.rotate,
                device_only: t.device_only,
            })
            .collect();
        Ok(json(StatusCode::OK, &ThreadList { threads }))
    };
    run().unwrap_or_else(|r| r)
}

// ---------------------------------------------------------------- uploads

/// Reads one whole multipart field, up to `cap` bytes.
async fn field_bytes(
    st: &AppState,
    ctx: &Ctx,
    field: &mut axum::extract::multipart::Field<'_>,
    cap: usize,
) -> Result<Vec<u8>, Response> {
    let mut buf = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                if buf.len() + c.len() > cap {
                    return Err(api_error(
                        st,
                        ctx,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                    ));
                }
                buf.extend_from_slice(&c);
            }
            Ok(None) => return Ok(buf),
            Err(e) => return Err(multipart_error(st, ctx, &e)),
        }
    }
}

/// A multipart body that could not be read: too large (the body limit) or
/// broken.
fn multipart_error(
    st: &AppState,
    ctx: &Ctx,
    e: &axum::extract::multipart::MultipartError,
) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        api_error(st, ctx, StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    } else {
        api_error(st, ctx, StatusCode::BAD_REQUEST, "request_malformed")
    }
}

/// The JSON part that must come first.
async fn first_part<T: DeserializeOwned>(
    st: &AppState,
    ctx: &Ctx,
    form: &mut Multipart,
    name: &str,
) -> Result<T, Response> {
    let bad = || api_error(st, ctx, StatusCode::BAD_REQUEST, "request_malformed");
    let mut field = form
        .next_field()
        .await
        .map_err(|e| multipart_error(st, ctx, &e))?
        .ok_or_else(bad)?;
    if field.name() != Some(name) {
        return Err(bad());
    }
    let bytes = field_bytes(st, ctx, &mut field, JSON_PART).await?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// Stores every `chunk:<att>:<index>` part that follows.
async fn receive_chunks(
    st: &AppState,
    ctx: &Ctx,
    form: &mut Multipart,
    upload: &mut Upload,
) -> Result<(), Response> {
    let bad = || api_error(st, ctx, StatusCode::BAD_REQUEST, "request_malformed");
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(st, ctx, &e))?
    {
        let (att, index) = field
            .name()
            .and_then(|n| n.strip_prefix("chunk:"))
            .and_then(|n| n.split_once(':'))
            .and_then(|(a, i)| Some((Id::from_hex(a)?, i.parse::<u32>().ok()?)))
            .ok_or_else(bad)?;
        let bytes = field_bytes(st, ctx, &mut field, CHUNK_RECORD).await?;
        st.saadd
            .api_store_chunk(upload, att, index, &bytes)
            .map_err(|e| refuse(st, ctx, e))?;
    }
    Ok(())
}

/// `POST /api/v1/threads`: a thread sealed on the reporter's machine.
pub async fn create_thread(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(mut form) = form else {
        return api_error(
            &st,
            &ctx,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
        );
    };
    let new: NewThreadIn = match first_part(&st, &ctx, &mut form, "thread").await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let entity = match st.saadd.entity_by_slug(&new.entity) {
        Ok(e) => e,
        Err(SaaddError::NotFound) => {
            return api_error(&st, &ctx, StatusCode::NOT_FOUND, "entity_unknown");
        }
        Err(e) => return refuse(&st, &ctx, e),
    };
    let mut plan = match st.saadd.api_plan_thread(&new, &entity) {
        Ok(p) => p,
        Err(e) => return refuse(&st, &ctx, e),
    };
    let gate = match pass_gate(&st, &entity, &headers, None).await {
        Ok(g) => GateGuard::new(&st, entity.id, g),
        Err(refusal) => {
            // `err-busy` from the gate is a storage failure (503).
            let code = match refusal.error.key {
                "err-busy" => "unavailable".to_owned(),
                key => key.strip_prefix("err-").unwrap_or(key).replace('-', "_"),
            };
            let mut r = api_error(&st, &ctx, refusal.error.status, &code);
            if let Some(ch) = refusal.challenge {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, ch);
            }
            return r;
        }
    };
    // From here on, a request cut off (timeout, client gone) drops the
    // guard, which gives the token back, and the upload's ticket, after
    // which the orphan sweep takes its chunks.
    if let Err(r) = receive_chunks(&st, &ctx, &mut form, &mut plan.upload).await {
        let _ = st.saadd.api_discard(&plan.upload);
        return r;
    }
    let ids = plan.upload.attachment_ids();
    match st.saadd.api_create(plan).await {
        Ok(thread) => {
            gate.settle();
            json(
                StatusCode::CREATED,
                &Created {
                    thread: Some(thread),
                    seq: None,
                },
            )
        }
        Err(e) => {
            let _ = st.saadd.discard_ids(new.id, &ids);
            // A storage failure may come after the thread was written:
            // the token may have paid for it, so it stays spent.
            if matches!(e, SaaddError::Store(_)) {
                gate.settle();
            }
            refuse(&st, &ctx, e)
        }
    }
}

/// `POST /api/v1/threads/{id}/messages`.
pub async fn post_message(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let thread = match id(&st, &ctx, &tid) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = match caller_for(&st, &ctx, &headers, thread) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(mut form) = form else {
        return api_error(
            &st,
            &ctx,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
        );
    };
    let msg: MessageIn = match first_part(&st, &ctx, &mut form, "message").await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut plan = match st.saadd.api_plan_post(thread, &c, &msg) {
        Ok(p) => p,
        Err(e) => return refuse(&st, &ctx, e),
    };
    if let Err(r) = receive_chunks(&st, &ctx, &mut form, &mut plan.upload).await {
        let _ = st.saadd.api_discard(&plan.upload);
        return r;
    }
    let ids = plan.upload.attachment_ids();
    match st.saadd.api_post(plan).await {
        Ok(seq) => json(
            StatusCode::CREATED,
            &Created {
                thread: None,
                seq: Some(seq),
            },
        ),
        Err(e) => {
            let _ = st.saadd.discard_ids(thread, &ids);
            refuse(&st, &ctx, e)
        }
    }
}

// ---------------------------------------------------------------- keys

/// A JSON write on one thread: the thread id from the path, the caller
/// from the bearer, the body read as `T`, then `act`; `204` when it is done.
async fn thread_write<T, F, Fut>(
    st: AppState,
    ctx: Ctx,
    headers: HeaderMap,
    tid: String,
    body: Result<Bytes, BytesRejection>,
    act: F,
) -> Response
where
    T: DeserializeOwned,
    F: FnOnce(AppState, Id, Caller, T) -> Fut,
    Fut: std::future::Future<Output = Result<(), SaaddError>>,
{
    let ready = (|| {
        let thread = id(&st, &ctx, &tid)?;
        let c = caller_for(&st, &ctx, &headers, thread)?;
        let input: T = read_json(&st, &ctx, &headers, body)?;
        Ok::<_, Response>((thread, c, input))
    })();
    let (thread, c, input) = match ready {
        Ok(r) => r,
        Err(r) => return r,
    };
    match act(st.clone(), thread, c, input).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refuse(&st, &ctx, e),
    }
}

/// `POST /api/v1/threads/{id}/rotate`.
pub async fn rotate(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    thread_write(
        st,
        ctx,
        headers,
        tid,
        body,
        |st, t, c, rot: RotationIn| async move { st.saadd.api_rotate(t, &c, &rot, None).await },
    )
    .await
}

/// `POST /api/v1/threads/{id}/assign`.
pub async fn assign(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    thread_write(
        st,
        ctx,
        headers,
        tid,
        body,
        |st, t, c, a: AssignIn| async move {
            let w = crate::core::api::WrapIn {
                slot: a.advisor.hex(),
                wrap: a.wrap,
            };
            st.saadd.api_assign(t, &c, a.advisor, &w).await
        },
    )
    .await
}

/// `POST /api/v1/threads/{id}/unassign`.
pub async fn unassign(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    thread_write(
        st,
        ctx,
        headers,
        tid,
        body,
        |st, t, c, u: UnassignIn| async move {
            st.saadd
                .api_rotate(t, &c, &u.rotation, Some(u.advisor))
                .await
        },
    )
    .await
}

/// `POST /api/v1/threads/{id}/grant`.
pub async fn grant(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    thread_write(
        st,
        ctx,
        headers,
        tid,
        body,
        |st, t, c, g: crate::core::api::GrantIn| async move {
            st.saadd.api_grant(t, &c, &g.wraps).await
        },
    )
    .await
}

/// `POST /api/v1/threads/{id}/status`.
pub async fn status(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(tid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    thread_write(
        st,
        ctx,
        headers,
        tid,
        body,
        |st, t, c, s: StatusIn| async move {
            // An unknown status word is a malformed request.
            let to = Status::from_key(&s.status).ok_or(SaaddError::Invalid("status"))?;
            st.saadd.api_status(t, &c, to).await
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bound_to_caller_and_expiry_and_can_end() {
        let sessions = ApiSessions::new([3; 32]);
        let caller = Caller {
            slot: Slot::Staff(Id([0x5c; 16])),
            public: crate::core::wrap::RecipientKey([0x8e; 32]),
        };
        let (payload, secret) = sessions.issue(&caller, None, 1_000, [1; 24]);
        let bearer = format!("{}.{}", b64(&payload), b64(secret.expose()));
        assert_eq!(sessions.check(&bearer, 1_001), Some((caller, None)));
        // Nothing of the caller shows in what is handed out.
        let shows = |needle: &[u8]| payload.windows(needle.len()).any(|w| w == needle);
        assert!(
            !shows(&[0x5c; 16]) && !shows(&[0x8e; 32]),
            "the session names its caller"
        );
        assert_eq!(sessions.check(&bearer, 1_000 + 15 * 60), None, "expired");
        // Another process key, a changed payload, a changed secret: refused.
        assert_eq!(ApiSessions::new([4; 32]).check(&bearer, 1_001), None);
        let mut other = payload.clone();
        other[2] ^= 1;
        let forged = format!("{}.{}", b64(&other), b64(secret.expose()));
        assert_eq!(sessions.check(&forged, 1_001), None);
        let mut mac = *secret.expose();
        mac[0] ^= 1;
        assert_eq!(
            sessions.check(&format!("{}.{}", b64(&payload), b64(&mac)), 1_001),
            None
        );
        // A reporter session carries its thread.
        let reporter = Caller {
            slot: Slot::Reporter,
            public: crate::core::wrap::RecipientKey([9; 32]),
        };
        let (p, k) = sessions.issue(&reporter, Some(Id([5; 16])), 1_000, [2; 24]);
        let rb = format!("{}.{}", b64(&p), b64(k.expose()));
        assert_eq!(
            sessions.check(&rb, 1_001),
            Some((reporter, Some(Id([5; 16]))))
        );
        // A second session of the same caller in the same second.
        let (p2, k2) = sessions.issue(&caller, None, 1_000, [3; 24]);
        let twin = format!("{}.{}", b64(&p2), b64(k2.expose()));
        sessions.end(&bearer, 1_002);
        assert_eq!(sessions.check(&bearer, 1_003), None, "ended");
        assert!(sessions.check(&twin, 1_003).is_some(), "its twin goes on");
        assert!(sessions.check(&rb, 1_003).is_some(), "others go on");
    }
}
