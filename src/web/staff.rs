//! Staff pages: login, the list of threads one can open, reading, replying,
//! status, assignment. Like the reporter pages they need no JavaScript.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::layout::{form_page, page};
use super::reporter::{Refused, echo, messages};
use super::session::SessionData;
use super::{AppState, Ctx, FormBody, WebError, form};
use crate::core::envelope::{Id, Slot};
use crate::core::status::{Kind, Status};
use crate::saadd::{Role, SaaddError, StaffLogin};

type Page = Result<Response, Response>;

const COOKIE: &str = "buzon_s";

fn fail(st: &AppState, ctx: &Ctx, e: impl Into<WebError>) -> Response {
    e.into().page(st, ctx)
}

/// The logged-in staff member, or a redirect to the login page. A staff
/// member who must change their password is sent there first.
fn who(st: &AppState, ctx: &Ctx, allow_password_change: bool) -> Result<Arc<StaffLogin>, Response> {
    let s = ctx
        .cookies
        .get(COOKIE)
        .and_then(|id| st.sessions.get(id, Instant::now()));
    let login = s.and_then(|s| match &*s.lock().unwrap_or_else(|p| p.into_inner()) {
        SessionData::Staff(l) => Some(l.clone()),
        SessionData::Reporter(_) => None,
    });
    let login = login.ok_or_else(|| Redirect::to("/staff/login").into_response())?;
    // The record may have changed since login: removed, or a new key after
    // a reset or a password change elsewhere. A session holding a key the
    // record no longer has is over.
    let current = st.saadd.staff(login.staff.id).ok();
    let Some(current) = current.filter(|c| st.saadd.holds_current_key(c, &login.secret)) else {
        if let Some(id) = ctx.cookies.get(COOKIE) {
            st.sessions.end(id);
        }
        return Err(Redirect::to("/staff/login").into_response());
    };
    if current.must_change_password && !allow_password_change {
        return Err(Redirect::to("/staff/clave").into_response());
    }
    Ok(login)
}

fn role_name(st: &AppState, ctx: &Ctx, r: Role) -> String {
    st.t(ctx, &format!("role-{}", r.key().replace('_', "-")))
}

fn status_name(st: &AppState, ctx: &Ctx, s: Status) -> String {
    st.t(ctx, &format!("status-{}", s.key().replace('_', "-")))
}

fn kind_name(st: &AppState, ctx: &Ctx, k: Kind) -> String {
    st.t(
        ctx,
        match k {
            Kind::Question => "kind-question",
            Kind::Claim => "kind-claim",
        },
    )
}

// ---------------------------------------------------------------- login

fn login_page(st: &AppState, ctx: &Ctx, error: Option<&WebError>) -> Response {
    let body = html! {
        @if let Some(e) = error {
            div.notice.error role="alert" { p { (e.message(st, ctx)) } }
        }
        form method="post" action="/staff/login" {
            label for="login" { (st.t(ctx, "staff-login-name")) }
            input #login type="text" name="login" autocomplete="username" required;
            label for="password" { (st.t(ctx, "staff-password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            p { button type="submit" { (st.t(ctx, "staff-login-button")) } }
        }
    };
    form_page(st, ctx, &st.t(ctx, "staff-login-title"), body, error)
}

pub async fn login_form(State(st): State<AppState>, ctx: Ctx) -> Page {
    Ok(login_page(&st, &ctx, None))
}

pub async fn login(State(st): State<AppState>, ctx: Ctx, form: FormBody) -> Page {
    let name = form.get("login").unwrap_or("");
    let password = form.get("password").unwrap_or("");
    let login = match st.saadd.staff_login(name, password).await {
        Ok(l) => l,
        Err(e) => return Err(login_page(&st, &ctx, Some(&e.into()))),
    };
    let to = if login.staff.must_change_password {
        "/staff/clave"
    } else {
        "/staff"
    };
    let id = st
        .sessions
        .create(
            st.random(),
            SessionData::Staff(Arc::new(login)),
            Instant::now(),
        )
        .ok_or_else(|| fail(&st, &ctx, SaaddError::Busy))?;
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, st.cookie(COOKIE, &id, "/staff", None));
    Ok(resp)
}

pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> Page {
    if let Some(id) = ctx.cookies.get(COOKIE) {
        st.sessions.end(id);
    }
    let mut resp = Redirect::to("/staff/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, st.cookie(COOKIE, "", "/staff", Some(0)));
    Ok(resp)
}

fn password_page(
    st: &AppState,
    ctx: &Ctx,
    login: &str,
    forced: bool,
    error: Option<&WebError>,
) -> Response {
    let body = html! {
        @if forced { p.warning { (st.t(ctx, "staff-password-forced")) } }
        p { (st.t(ctx, "staff-password-why")) }
        @if let Some(e) = error {
            div.notice.error role="alert" { p { (e.message(st, ctx)) } }
        }
        form method="post" action="/staff/clave" {
            // Lets password managers file the new password under the right account.
            input type="text" name="username" value=(login) autocomplete="username" hidden;
            label for="current" { (st.t(ctx, "staff-password-current")) }
            input #current type="password" name="current" autocomplete="current-password" required;
            label for="new" { (st.t(ctx, "staff-password-new")) }
            p.hint { (st.t(ctx, "staff-password-rule")) }
            input #new type="password" name="new" autocomplete="new-password" minlength="12" required;
            label for="again" { (st.t(ctx, "staff-password-again")) }
            input #again type="password" name="again" autocomplete="new-password" minlength="12" required;
            p { button type="submit" { (st.t(ctx, "staff-password-button")) } }
        }
    };
    form_page(st, ctx, &st.t(ctx, "staff-password-title"), body, error)
}

pub async fn password_form(State(st): State<AppState>, ctx: Ctx) -> Page {
    let me = who(&st, &ctx, true)?;
    let forced = st
        .saadd
        .staff(me.staff.id)
        .map(|s| s.must_change_password)
        .unwrap_or(false);
    Ok(password_page(&st, &ctx, &me.staff.login, forced, None))
}

pub async fn password(State(st): State<AppState>, ctx: Ctx, form: FormBody) -> Page {
    let me = who(&st, &ctx, true)?;
    let new = form.get("new").unwrap_or("");
    // The current password is asked again, so a session left open on a
    // shared computer cannot be used to take the account over.
    let current = form.get("current").unwrap_or("");
    if st
        .saadd
        .staff_login(&me.staff.login, current)
        .await
        .is_err()
    {
        let e = WebError::new(StatusCode::UNAUTHORIZED, "err-wrong-current-password");
        return Err(password_page(&st, &ctx, &me.staff.login, true, Some(&e)));
    }
    if Some(new) != form.get("again") {
        let e = WebError::new(StatusCode::BAD_REQUEST, "err-password-mismatch");
        return Err(password_page(&st, &ctx, &me.staff.login, true, Some(&e)));
    }
    let login = match st.saadd.change_password(&me, new).await {
        Ok(l) => l,
        Err(e) => {
            return Err(password_page(
                &st,
                &ctx,
                &me.staff.login,
                true,
                Some(&e.into()),
            ));
        }
    };
    // The old key opens nothing any more: end every session holding it
    // and start this one afresh with the new key.
    st.sessions.end_staff(login.staff.id);
    let id = st
        .sessions
        .create(
            st.random(),
            SessionData::Staff(Arc::new(login)),
            Instant::now(),
        )
        .ok_or_else(|| fail(&st, &ctx, SaaddError::Busy))?;
    let mut resp = Redirect::to("/staff").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, st.cookie(COOKIE, &id, "/staff", None));
    Ok(resp)
}

// ---------------------------------------------------------------- dashboard

pub async fn dashboard(State(st): State<AppState>, ctx: Ctx) -> Page {
    let me = who(&st, &ctx, false)?;
    let threads = st
        .saadd
        .threads_for(&me.staff)
        .map_err(|e| fail(&st, &ctx, e))?;
    let entity = st
        .saadd
        .entity(me.staff.entity)
        .map_err(|e| fail(&st, &ctx, e))?;
    let body = html! {
        p { (me.staff.display_name) " — " (role_name(&st, &ctx, me.staff.role)) " · " (entity.name) }
        @if me.staff.role == Role::EntityAdmin {
            p { (st.t(&ctx, "staff-admin-cli")) }
        }
        h2 { (st.t(&ctx, "staff-threads")) }
        @if threads.is_empty() {
            p { (st.t(&ctx, "staff-no-threads")) }
        } @else {
            table {
                thead { tr {
                    th { (st.t(&ctx, "thread-kind")) }
                    th { (st.t(&ctx, "thread-status")) }
                    th { (st.t(&ctx, "thread-received-on")) }
                    th { (st.t(&ctx, "thread-activity")) }
                    th { (st.t(&ctx, "thread-messages")) }
                    th { span.visually-hidden { (st.t(&ctx, "staff-action")) } }
                } }
                tbody {
                    @for t in &threads {
                        tr {
                            td { (kind_name(&st, &ctx, t.kind)) }
                            td { (status_name(&st, &ctx, t.status)) }
                            td { (super::date(&st, &ctx, t.created)) }
                            td { (super::date(&st, &ctx, t.activity)) }
                            td { (t.messages) }
                            td { a href={ "/staff/t/" (t.id.hex()) } { (st.t(&ctx, "staff-open")) } }
                        }
                    }
                }
            }
        }
        form method="post" action="/staff/salir" { button.secondary type="submit" { (st.t(&ctx, "logout")) } }
        p { a href="/staff/clave" { (st.t(&ctx, "staff-password-title")) } }
    };
    Ok(page(&st, &ctx, &st.t(&ctx, "staff-title"), body))
}

// ---------------------------------------------------------------- a thread

fn thread_id(st: &AppState, ctx: &Ctx, s: &str) -> Result<Id, Response> {
    Id::from_hex(s).ok_or_else(|| fail(st, ctx, SaaddError::NotFound))
}

pub async fn thread(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    q: axum::extract::RawQuery,
) -> Page {
    let done = q.0.as_deref().is_some_and(|q| q.contains("hecho=1"));
    let me = who(&st, &ctx, false)?;
    let thread = thread_id(&st, &ctx, &id)?;
    thread_page(&st, &ctx, &me, thread, done, None)
}

fn thread_page(
    st: &AppState,
    ctx: &Ctx,
    me: &StaffLogin,
    thread: Id,
    done: bool,
    refused: Option<Refused>,
) -> Page {
    let view = st
        .saadd
        .read(thread, Slot::Staff(me.staff.id), &me.secret)
        .map_err(|e| fail(st, ctx, e))?;
    let r = &view.record;
    let base = format!("/staff/t/{}", thread.hex());
    let is_coord = me.staff.role == Role::Coordinator;
    let staff = st
        .saadd
        .staff_of(me.staff.entity)
        .map_err(|e| fail(st, ctx, e))?;
    let name_of = |id: &Id| {
        staff
            .iter()
            .find(|s| s.id == *id)
            .map(|s| s.display_name.clone())
            .unwrap_or_default()
    };
    let reads_of = |id: &Id| {
        if staff.iter().any(|s| s.id == *id && s.device_key.is_some()) {
            "reads-device"
        } else {
            "reads-server"
        }
    };
    let assignable: Vec<_> = staff
        .iter()
        .filter(|s| s.active && s.role == Role::Advisor && !r.readers.contains(&s.id))
        // A device-only thread can go only to advisors who read on their device.
        .filter(|s| !r.device_only || s.device_key.is_some())
        .collect();
    let regrantable: Vec<_> = r
        .shown
        .iter()
        .filter(|id| !r.readers.contains(id))
        .filter(|id| staff.iter().any(|s| s.id == **id && s.active))
        .collect();
    let body = html! {
        @if done { div.notice.ok role="status" { p { (st.t(ctx, "staff-done")) } } }
        dl.facts {
            dt { (st.t(ctx, "thread-kind")) } dd { (kind_name(st, ctx, r.kind)) }
            dt { (st.t(ctx, "thread-status")) } dd { (status_name(st, ctx, r.status)) }
            dt { (st.t(ctx, "thread-received-on")) } dd { (super::date(st, ctx, r.created)) }
            dt { (st.t(ctx, "thread-activity")) } dd { (super::date(st, ctx, r.activity)) }
            dt { (st.t(ctx, "thread-deleted-by")) } dd { (super::date(st, ctx, crate::saadd::retention::thread_deadline(r).1)) }
        }
        section {
            h2 { (st.t(ctx, "thread-readers")) }
            ul { @for id in &r.readers { li { (name_of(id)) " (" (st.t(ctx, reads_of(id))) ")" } } }
        }
        (messages(st, ctx, &view, &format!("{base}/adjunto/"), false))
        section {
            h2 { (st.t(ctx, "reply-title")) }
            form method="post" action={ (base) "/responder" } enctype="multipart/form-data" {
                @if let Some(r) = &refused {
                    div.notice.error role="alert" {
                        p { (r.error.message(st, ctx)) }
                        @if r.files_lost { p { (st.t(ctx, "form-files-again")) } }
                    }
                }
                label for="message" { (st.t(ctx, "reply-label")) }
                textarea #message name="message" rows="8" required {
                    @if let Some(r) = &refused { (echo(&r.text)) }
                }
                label for="file" { (st.t(ctx, "form-files")) }
                input #file type="file" name="file" multiple;
                p { button type="submit" { (st.t(ctx, "reply-button")) } }
            }
        }
        section {
            h2 { (st.t(ctx, "status-change")) }
            form method="post" action={ (base) "/estado" } {
                label for="status" { (st.t(ctx, "thread-status")) }
                select #status name="status" {
                    @for s in r.status.next() { option value=(s.key()) { (status_name(st, ctx, s)) } }
                }
                p { button type="submit" { (st.t(ctx, "status-change-button")) } }
            }
        }
        @if is_coord {
            section {
                h2 { (st.t(ctx, "assign-title")) }
                p.hint { (st.t(ctx, "assign-help")) }
                @if !assignable.is_empty() {
                    form method="post" action={ (base) "/asignar" } {
                        label for="advisor" { (st.t(ctx, "assign-advisor-label")) }
                        select #advisor name="advisor" {
                            @for a in &assignable { option value=(a.id.hex()) { (a.display_name) " (" (st.t(ctx, if a.device_key.is_some() { "reads-device" } else { "reads-server" })) ")" } }
                        }
                        p { button type="submit" { (st.t(ctx, "assign-button")) } }
                    }
                }
                @for a in &r.advisors {
                    form.inline method="post" action={ (base) "/desasignar" } {
                        input type="hidden" name="advisor" value=(a.hex());
                        (name_of(a)) " "
                        button.danger type="submit" { (st.t(ctx, "unassign-button")) }
                    }
                }
                @for c in &regrantable {
                    form.inline method="post" action={ (base) "/reconceder" } {
                        input type="hidden" name="coordinator" value=(c.hex());
                        (name_of(c)) " "
                        button type="submit" { (st.t(ctx, "regrant-button")) }
                    }
                }
            }
        }
        p { a href="/staff" { (st.t(ctx, "nav-back-list")) } }
    };
    let error = refused.as_ref().map(|r| &r.error);
    Ok(form_page(
        st,
        ctx,
        &st.t(ctx, "staff-thread-title"),
        body,
        error,
    ))
}

pub async fn reply(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Page {
    let me = who(&st, &ctx, false)?;
    let thread = thread_id(&st, &ctx, &id)?;
    let mp = mp.map_err(|_| {
        fail(
            &st,
            &ctx,
            WebError::new(StatusCode::BAD_REQUEST, "err-form"),
        )
    })?;
    let slot = Slot::Staff(me.staff.id);
    let draft = st
        .saadd
        .begin_reply(thread, slot, &me.secret)
        .await
        .map_err(|e| fail(&st, &ctx, e))?;
    let f = form::read(&st.saadd, mp, || st.saadd.reply_sink(&draft)).await;
    let text = f.text.clone().unwrap_or_default();
    let files_lost = !f.files.is_empty();
    let refused = |error: WebError| Refused {
        text: text.clone(),
        error,
        files_lost,
    };
    if let Some(err) = f.error {
        let _ = st.saadd.discard(thread, f.files);
        return Err(
            thread_page(&st, &ctx, &me, thread, false, Some(refused(err))).unwrap_or_else(|r| r),
        );
    }
    let ids: Vec<Id> = f.files.iter().map(|a| a.id).collect();
    if let Err(e) = st
        .saadd
        .post(
            draft,
            slot,
            &me.secret,
            &me.staff.display_name,
            &text,
            f.files,
        )
        .await
    {
        let _ = st.saadd.discard_ids(thread, &ids);
        return Err(
            thread_page(&st, &ctx, &me, thread, false, Some(refused(e.into())))
                .unwrap_or_else(|r| r),
        );
    }
    Ok(Redirect::to(&format!("/staff/t/{}", thread.hex())).into_response())
}

/// Runs a form action on a thread and returns to it.
async fn action<F, Fut>(st: AppState, ctx: Ctx, id: String, form: FormBody, f: F) -> Page
where
    F: FnOnce(AppState, Arc<StaffLogin>, Id, FormBody) -> Fut,
    Fut: std::future::Future<Output = Result<(), SaaddError>>,
{
    let me = who(&st, &ctx, false)?;
    let thread = thread_id(&st, &ctx, &id)?;
    f(st.clone(), me, thread, form)
        .await
        .map_err(|e| fail(&st, &ctx, e))?;
    Ok(Redirect::to(&format!("/staff/t/{}?hecho=1", thread.hex())).into_response())
}

fn id_field(form: &FormBody, name: &str) -> Result<Id, SaaddError> {
    form.get(name)
        .and_then(Id::from_hex)
        .ok_or(SaaddError::NotFound)
}

pub async fn status(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormBody,
) -> Page {
    action(st, ctx, id, form, |st, me, thread, form| async move {
        let to = form
            .get("status")
            .and_then(Status::from_key)
            .ok_or(SaaddError::BadStatusChange)?;
        st.saadd.set_status(thread, &me, to).await
    })
    .await
}

pub async fn assign(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormBody,
) -> Page {
    action(st, ctx, id, form, |st, me, thread, form| async move {
        let advisor = id_field(&form, "advisor")?;
        st.saadd.assign(thread, &me, advisor).await
    })
    .await
}

pub async fn unassign(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormBody,
) -> Page {
    action(st, ctx, id, form, |st, me, thread, form| async move {
        let advisor = id_field(&form, "advisor")?;
        st.saadd.unassign(thread, &me, advisor).await
    })
    .await
}

pub async fn regrant(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormBody,
) -> Page {
    action(st, ctx, id, form, |st, me, thread, form| async move {
        let colleague = id_field(&form, "coordinator")?;
        st.saadd.regrant_coordinator(thread, &me, colleague).await
    })
    .await
}

pub async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, att)): Path<(String, String)>,
) -> Page {
    let me = who(&st, &ctx, false)?;
    let thread = thread_id(&st, &ctx, &id)?;
    let att = Id::from_hex(&att).ok_or_else(|| fail(&st, &ctx, SaaddError::NotFound))?;
    super::download::respond(&st, &ctx, thread, att, Slot::Staff(me.staff.id), &me.secret)
}
