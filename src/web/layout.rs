//! The page frame: language, title, stylesheet, language switch.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::{AppState, Ctx};

/// Where the language link of a page points: the page itself, or for the
/// result of a form post (whose address only accepts POST) the page the
/// form belongs to.
fn lang_target(path: &str) -> &str {
    if let Some(entity) = path.strip_suffix("/enviar") {
        return entity;
    }
    if let Some(rest) = path.strip_prefix("/staff/t/") {
        if rest.len() > 32 {
            return path.get(..9 + 32).unwrap_or("/staff");
        }
        return path;
    }
    match path {
        "/r/responder" | "/r/conceder" => "/r/hilo",
        "/r/salir" => "/",
        "/staff/salir" => "/staff/login",
        other => other,
    }
}

/// Wraps `body` in the common frame.
pub fn frame(st: &AppState, ctx: &Ctx, title: &str, body: Markup) -> Markup {
    frame_with(st, ctx, title, body, Kind::Plain)
}

/// What sets a page's frame apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// The issuance page: its footer must not say the site has no script.
    Script,
    /// A receipt: it cannot be shown again, so there is no link to the
    /// other language (it would lose the ten words).
    Receipt,
}

/// The frame; `script` says the page runs the one script of the site (the
/// issuance page), so the footer does not claim otherwise.
fn frame_with(st: &AppState, ctx: &Ctx, title: &str, body: Markup, kind: Kind) -> Markup {
    let script = kind == Kind::Script;
    let other = ctx.lang.other();
    let staff = ctx.path.starts_with("/staff");
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · " (st.site_name) }
                link rel="stylesheet" href="/static/buzon.css";
            }
            body {
                header {
                    a.site href=(if staff { "/staff" } else { "/" }) { (st.site_name) }
                    " "
                    @if kind != Kind::Receipt {
                        a.lang href={ (lang_target(&ctx.path)) "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                            (st.i18n.t(other, "lang-name"))
                        }
                    }
                }
                main { h1 { (title) } (body) }
                footer {
                    @if staff {
                        p { (st.t(ctx, "footer-staff")) }
                    } @else {
                        p { (st.t(ctx, if script { "footer-reporter-script" } else { "footer-reporter" })) }
                        p { a href="/staff/login" { (st.t(ctx, "footer-staff-link")) } }
                    }
                }
            }
        }
    }
}

/// A form page shown again after a refusal: the error's status, or 200.
pub fn form_page(
    st: &AppState,
    ctx: &Ctx,
    title: &str,
    body: Markup,
    error: Option<&super::WebError>,
) -> Response {
    let mut resp = page(st, ctx, title, body);
    if let Some(e) = error {
        *resp.status_mut() = e.status;
    }
    resp
}

/// A full HTML response (200 unless the caller sets a status).
pub fn page(st: &AppState, ctx: &Ctx, title: &str, body: Markup) -> Response {
    respond(st, ctx, frame(st, ctx, title, body))
}

/// The issuance page: the same frame, its footer telling the truth about
/// its script.
pub fn page_with_script(st: &AppState, ctx: &Ctx, title: &str, body: Markup) -> Response {
    respond(st, ctx, frame_with(st, ctx, title, body, Kind::Script))
}

/// A receipt page: no language link (see [`Kind::Receipt`]).
pub fn receipt_page(st: &AppState, ctx: &Ctx, title: &str, body: Markup) -> Response {
    respond(st, ctx, frame_with(st, ctx, title, body, Kind::Receipt))
}

fn respond(st: &AppState, ctx: &Ctx, markup: Markup) -> Response {
    let _ = st;
    let mut resp = markup.into_response();
    if ctx.lang_chosen {
        let c = format!(
            "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
            ctx.lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}
