//! Pages and their headers, the translation catalogue, and bad input:
//! every refusal is a 4xx page with a human sentence in the page's
//! language, never a 5xx or a reset.

mod common;

use std::collections::BTreeSet;

use buzon::core::status::Status;
use buzon::web::i18n::{EN, ES, I18n};
use common::*;

#[test]
fn catalogues_have_the_same_keys_and_every_key_used_exists() {
    let es: BTreeSet<String> = I18n::keys(ES).into_iter().collect();
    let en: BTreeSet<String> = I18n::keys(EN).into_iter().collect();
    assert_eq!(
        es.symmetric_difference(&en).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "es.ftl and en.ftl differ"
    );
    let not_keys = [
        "no-referrer",
        "no-store",
        "cross-site",
        "same-site",
        "sec-fetch-site",
        "permissions-policy",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
        "same-origin",
        "x-download-options",
        "current-password",
        "new-password",
        "from-reporter",
        "from-staff",
        "entity-admin",
        "es-mx",
        "utf-8",
        // RFC 9578 directory fields and the issuance-code header
        "buzon-issuance-code",
        "buzon-scope",
        "issuer-request-uri",
        "max-age",
        "not-before",
        "token-key",
        "token-keys",
        "token-type",
        "buzon-issuer-name",
    ];
    let lit = regex::Regex::new(r#""([a-z]+(?:-[a-z0-9]+)+)""#).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut used = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rs") {
            for c in lit.captures_iter(&std::fs::read_to_string(&p).unwrap()) {
                if !not_keys.contains(&&c[1]) {
                    used.insert(c[1].to_owned());
                }
            }
        }
    }
    for s in Status::ALL {
        used.insert(format!("status-{}", s.key().replace('_', "-")));
    }
    for m in 1..=12 {
        used.insert(format!("month-{m}"));
    }
    // JSON errors: `api-` and the stable code.
    for code in buzon::web::API_ERROR_CODES {
        used.insert(format!("api-{}", code.replace('_', "-")));
    }
    for r in ["coordinator", "advisor", "entity-admin"] {
        used.insert(format!("role-{r}"));
    }
    let missing: Vec<&String> = used.iter().filter(|k| !es.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys used but not in the catalogue: {missing:?}"
    );
    assert!(I18n::load().is_ok());
}

fn check_headers(r: &Resp, what: &str) {
    let h = &r.headers;
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{what}: CSP");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert!(h.get("server").is_none(), "{what}: Server header");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    let body = r.body.to_lowercase();
    assert!(!body.contains("<script"), "{what}: script");
    let ext = regex::Regex::new(r#"(src|href|action)="(https?:)?//"#).unwrap();
    assert!(!ext.is_match(&body), "{what}: external resource");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_headers_and_refusals() {
    let server = TestServer::start().await;
    let _fx = fixture(&server.saadd).await;
    let base = server.base.clone();
    let mut b = Browser::new(&base);

    for path in [
        "/",
        "/e/sej",
        "/r",
        "/staff/login",
        "/no-such-page",
        "/e/nadie",
    ] {
        let r = b.get(path).await;
        check_headers(&r, path);
        assert!(r.status == 200 || r.status == 404, "{path}: {}", r.status);
    }
    let r = b.get("/no-such-page").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("No encontramos"));

    // English by link, remembered by a cookie.
    let r = b.get("/?lang=en").await;
    assert!(r.body.contains("lang=\"en\""));
    assert!(b.cookies.contains_key("lang"));
    let r = b.get("/no-such-page").await;
    assert!(r.body.contains("We could not find"), "English error page");
    b.cookies.remove("lang");

    // Not a multipart body where one is expected.
    let r = b.post_form("/e/sej/enviar", &[("message", "hola")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("No pudimos leer el formulario"));

    // Every reader excluded.
    let r = b
        .post_multipart(
            "/e/sej/enviar",
            &[("kind", "claim")],
            "Un mensaje válido",
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Dejaste fuera a todas"));
    assert!(
        r.body.contains("Un mensaje válido"),
        "the text typed is kept"
    );

    // The language link of a refused post points back at the form page,
    // and the post-only address itself answers GET with a page, not a bare 405.
    assert!(r.body.contains(r#"href="/e/sej?lang=en""#));
    let r = b.get("/e/sej/enviar").await;
    assert_eq!(r.status, 405);
    assert!(r.body.contains("no acepta esta acción"));

    // Forms without files have a small body limit.
    let big = "x".repeat(100 * 1024);
    let r = b.post_form("/r", &[("receipt", &big)]).await;
    assert_eq!(r.status, 413);
    assert!(r.body.contains("El formulario es demasiado largo"));

    // Sending the same form twice (a refresh, a double click) shows the
    // first receipt again and stores nothing more; a browser without
    // cookies still sees its receipt.
    let page = b.get("/e/sej").await;
    let draft = draft_id(&page.body);
    let reader = regex::Regex::new(r#"name="reader" value="([0-9a-f]{32})""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_owned();
    let mut no_cookies = Browser::new(&base);
    let fields = [
        ("draft", draft.as_str()),
        ("kind", "question"),
        ("reader", reader.as_str()),
    ];
    let first = no_cookies
        .post_multipart(
            "/e/sej/enviar",
            &fields,
            "Una pregunta enviada dos veces.",
            &[],
        )
        .await;
    assert_eq!(first.status, 200);
    no_cookies.cookies.clear();
    let second = no_cookies
        .post_multipart(
            "/e/sej/enviar",
            &fields,
            "Una pregunta enviada dos veces.",
            &[],
        )
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(receipt_words(&first.body), receipt_words(&second.body));
    let mut coord = Browser::new(&base);
    coord.staff_login("coord-a").await;
    assert_eq!(
        thread_links(&coord.get("/staff").await.body).len(),
        1,
        "stored once"
    );
    let words = receipt_words(&first.body);
    let i = confirm_index(&first.body);
    let r = no_cookies
        .post_form("/r/recibo", &[("word", &words[i]), ("draft", &draft)])
        .await;
    assert_eq!(r.status, 200, "confirmed without a session");
    assert!(r.body.contains("entra con tu recibo"));
    let r = no_cookies
        .post_form("/r/recibo", &[("word", &words[i]), ("draft", &draft)])
        .await;
    assert!(
        r.body.contains("Ya no podemos comprobar"),
        "a confirmed draft is forgotten"
    );

    // Withdrawing: confirmation required; afterwards the receipt opens
    // nothing and the session is over.
    let mut rep = Browser::new(&base);
    let sent = rep
        .post_multipart(
            "/e/sej/enviar",
            &[("kind", "question"), ("reader", reader.as_str())],
            "Una pregunta que luego retiro.",
            &[],
        )
        .await;
    let phrase = receipt_words(&sent.body).join(" ");
    assert_eq!(rep.get("/r/retirar").await.status, 200);
    assert_eq!(rep.post_form("/r/retirar", &[]).await.status, 400);
    let r = rep.post_form("/r/retirar", &[("sure", "yes")]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("La conversación se borró"));
    assert_eq!(rep.get("/r/hilo").await.status, 401);
    let r = Browser::new(&base)
        .post_form("/r", &[("receipt", &phrase)])
        .await;
    assert_eq!(r.status, 401, "a withdrawn thread's receipt opens nothing");

    // Not UTF-8.
    let form = reqwest::multipart::Form::new()
        .text("kind", "question")
        .part(
            "message",
            reqwest::multipart::Part::bytes(vec![0xff, 0xfe, 0x41]),
        );
    let r = b
        .http
        .post(format!("{base}/e/sej/enviar"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A cross-site form post is refused.
    let r = b
        .http
        .post(format!("{base}/r"))
        .header("sec-fetch-site", "cross-site")
        .body("receipt=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("llegó desde otro sitio"));
    let r = b
        .http
        .post(format!("{base}/r"))
        .header("origin", "http://evil.example")
        .body("receipt=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a foreign Origin is refused");
    // A path the framework cannot decode gets a page, not English text.
    let r = b.get("/e/%ff").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("No pudimos leer"));

    // Reporter pages without a session.
    for path in ["/r/hilo", "/r/retirar", "/r/adjunto/00"] {
        let r = b.get(path).await;
        assert_eq!(r.status, 401, "{path}");
        assert!(r.body.contains("Tu sesión terminó"));
    }
    // Staff pages without a session go to the login page.
    let r = b.get("/staff/t/00112233445566778899aabbccddeeff").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/staff/login"));
    // A wrong staff login.
    let r = b
        .post_form(
            "/staff/login",
            &[("login", "coord-a"), ("password", "nope")],
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("no son correctos"));
    // With a session: a bad id is a 404 page, not a crash.
    b.staff_login("coord-a").await;
    for path in [
        "/staff/t/zzz",
        "/staff/t/00112233445566778899aabbccddeeff",
        "/staff/t/00/adjunto/11",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, 404, "{path}");
    }
    let r = b
        .post_form(
            "/staff/t/00112233445566778899aabbccddeeff/estado",
            &[("status", "bogus")],
        )
        .await;
    assert_eq!(r.status, 400);

    // A reset (here through the service, as the admin socket does) ends
    // the person's open sessions: they hold a key the record no longer has.
    let mut other = Browser::new(&base);
    other.staff_login("coord-b").await;
    assert_eq!(other.get("/staff").await.status, 200);
    let b_id = server.saadd.staff_by_login("coord-b").unwrap().id;
    let one_time = server.saadd.reset_password(b_id).await.unwrap();
    let r = other.get("/staff").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/staff/login"));
    // Changing a password asks for the current one.
    let mut fresh = Browser::new(&base);
    let r = fresh
        .post_form(
            "/staff/login",
            &[("login", "coord-b"), ("password", one_time.as_str())],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/staff/clave"));
    let new = "una-clave-nueva-muy-larga-y-rara-91";
    let r = fresh
        .post_form(
            "/staff/clave",
            &[("current", "adivinada"), ("new", new), ("again", new)],
        )
        .await;
    assert_eq!(r.status, 401);
    let r = fresh
        .post_form(
            "/staff/clave",
            &[("current", one_time.as_str()), ("new", new), ("again", new)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(fresh.get("/staff").await.status, 200);

    // A body beyond every limit is refused with a status, not a 5xx.
    let huge = vec![b'a'; 60 * 1024 * 1024];
    let r = b
        .http
        .post(format!("{base}/r"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await;
    if let Ok(r) = r {
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let _ = server.stop().await;
}
