//! spec/openapi.yaml against the router (spec/api.md, "every route is
//! listed in `spec/openapi.yaml`"): the same (method, path) pairs as the
//! `.route(…)` calls in `router()`, each one served by a live server and no
//! other method on its path; the `ErrorCode` enum is `API_ERROR_CODES`; every
//! 4xx and 5xx answer is a JSON `Error`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use common::TestServer;

/// (METHOD, path), as the router and the spec spell paths: `/a/{id}`.
type Route = (String, String);

/// Operation keys of an OpenAPI path item.
const OPERATIONS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Methods tried on every documented path. HEAD is left out: axum answers
/// it wherever GET is routed, and OpenAPI leaves it implied.
const PROBED: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// `axum::routing` functions that take a handler for one method.
const ROUTING_METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// `axum::routing` functions whose methods this reader cannot tell.
const ROUTING_UNKNOWN: [&str; 4] = ["any", "on", "any_service", "on_service"];

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn spec() -> Value {
    serde_yaml_ng::from_str(&read("spec/openapi.yaml"))
        .unwrap_or_else(|e| panic!("spec/openapi.yaml does not parse: {e}"))
}

/// The routes this test holds the spec to: the JSON API and `.well-known`.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/.well-known/")
}

// ---------------------------------------------------------------- the spec

fn spec_routes(spec: &Value) -> BTreeSet<Route> {
    let paths = spec["paths"].as_object().expect("spec: paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("spec: path item");
        for key in item.keys() {
            if OPERATIONS.contains(&key.as_str()) {
                out.insert((key.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The object a local `$ref` ("#/components/…") points to.
fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    spec.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref` until an object without one.
fn deref<'a>(spec: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..10 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => v = resolve(spec, r).unwrap_or_else(|| panic!("spec: dangling $ref {r}")),
            None => return v,
        }
    }
    panic!("spec: $ref loop");
}

/// The operation object of a route in the spec.
fn operation<'a>(spec: &'a Value, (method, path): &Route) -> &'a Value {
    &spec["paths"][path][method.to_lowercase()]
}

// ---------------------------------------------------------------- the router

/// `src` with every `//` comment blanked out (string literals kept).
fn without_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                cut = i;
                break;
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The text of `pub fn router(…) { … }` in src/web/mod.rs (rustfmt puts
/// the closing brace of an item alone at the start of a line).
fn router_source() -> String {
    let src = without_comments(&read("src/web/mod.rs"));
    let start = src
        .find("pub fn router(")
        .expect("src/web/mod.rs: no `pub fn router(`");
    let len = src[start..]
        .find("\n}\n")
        .expect("src/web/mod.rs: end of `router`");
    src[start..start + len].to_owned()
}

/// The arguments of the call whose `(` is at `open`, up to its `)`.
fn call_args(src: &str, open: usize) -> &str {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in src.bytes().enumerate().skip(open) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return &src[open + 1..i];
                }
            }
            _ => {}
        }
    }
    panic!("src/web/mod.rs: unbalanced `.route(`");
}

/// Every (method, path) that `router()` routes, from its source: each
/// `.route("<path>", get(…).post(…)…)`, `axum::routing::delete(…)` and so on.
fn router_routes_all(source: &str) -> BTreeSet<Route> {
    for hidden in [".nest(", ".nest_service(", ".merge(", ".route_service("] {
        assert!(
            !source.contains(hidden),
            "router() uses `{hidden}`: teach tests/openapi.rs to read the routes it adds"
        );
    }
    let literal = regex::Regex::new(r#"^\s*"([^"]*)""#).unwrap();
    let call = regex::Regex::new(r"\b([a-z_][a-z0-9_]*)\s*\(").unwrap();
    let strings = regex::Regex::new(r#""(?:[^"\\]|\\.)*""#).unwrap();
    let mut out = BTreeSet::new();
    for (at, _) in source.match_indices(".route(") {
        let args = call_args(source, at + ".route".len());
        let path = literal
            .captures(args)
            .unwrap_or_else(|| panic!("a `.route(` whose path is not a string literal: {args}"))[1]
            .to_owned();
        let code = strings.replace_all(args, "\"\"");
        let mut methods = 0;
        for c in call.captures_iter(&code) {
            let name = &c[1];
            if ROUTING_METHODS.contains(&name) {
                out.insert((name.to_uppercase(), path.clone()));
                methods += 1;
            }
            assert!(
                !ROUTING_UNKNOWN.contains(&name),
                "route {path} uses `{name}(`: teach tests/openapi.rs its methods"
            );
        }
        assert!(methods > 0, "route {path}: no method found in {args}");
    }
    out
}

fn router_routes() -> BTreeSet<Route> {
    router_routes_all(&router_source())
        .into_iter()
        .filter(|(_, p)| is_api(p))
        .collect()
}

fn show(routes: &BTreeSet<&Route>) -> String {
    routes.iter().map(|(m, p)| format!("\n  {m} {p}")).collect()
}

#[test]
fn the_router_reader_finds_chained_and_qualified_methods() {
    let src = r#"pub fn router(state: AppState) -> Router {
        Router::new()
            .route("/", get(reporter::home))
            // .route("/commented", get(x))
            .route(
                "/r",
                get(reporter::return_form).post(reporter::return_login),
            )
            .route("/api/v1/sessions", axum::routing::delete(api::end_session))
            .route("/api/v1/threads", post(api::create_thread).layer(upload.clone()))
            .route("/api/v1/x/{id}", get(api::status).put(api::delete_thing))
    "#;
    let got = router_routes_all(&without_comments(src));
    let want: BTreeSet<Route> = [
        ("GET", "/"),
        ("GET", "/r"),
        ("POST", "/r"),
        ("DELETE", "/api/v1/sessions"),
        ("POST", "/api/v1/threads"),
        ("GET", "/api/v1/x/{id}"),
        ("PUT", "/api/v1/x/{id}"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn the_spec_and_the_router_list_the_same_routes() {
    let documented = spec_routes(&spec());
    let routed = router_routes();
    assert!(
        routed.len() >= 10,
        "only {} API routes read from src/web/mod.rs: is the reader broken?",
        routed.len()
    );
    let undocumented: BTreeSet<&Route> = routed.difference(&documented).collect();
    let unrouted: BTreeSet<&Route> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "spec/openapi.yaml and router() in src/web/mod.rs disagree.\
         \nrouted but not in the spec:{}\nin the spec but not routed:{}",
        show(&undocumented),
        show(&unrouted)
    );
}

// ---------------------------------------------------------------- live

/// A path with its parameters filled: ids are 32 zero hex digits.
fn concrete(path: &str) -> String {
    let param = regex::Regex::new(r"\{([a-z_]+)\}").unwrap();
    param
        .replace_all(path, |c: &regex::Captures| match &c[1] {
            "index" => "0".to_owned(),
            "slug" => "no-such-entity".to_owned(),
            _ => "0".repeat(32),
        })
        .into_owned()
}

struct Answer {
    status: u16,
    media: String,
    body: String,
}

impl Answer {
    /// The `error.code` of a JSON error body.
    fn code(&self) -> Option<String> {
        let v: Value = serde_json::from_str(&self.body).ok()?;
        v["error"]["code"].as_str().map(str::to_owned)
    }
}

async fn send(http: &reqwest::Client, base: &str, method: &str, path: &str) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http.request(method.clone(), format!("{base}{path}"));
    if method != reqwest::Method::GET && method != reqwest::Method::OPTIONS {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body("{}");
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status().as_u16();
    let media = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_owned();
    let body = r.text().await.unwrap_or_default();
    Answer {
        status,
        media,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_method_is_served_and_no_other() {
    let spec = spec();
    let documented = spec_routes(&spec);
    let server = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = server.base.clone();
    let codes: BTreeSet<&str> = buzon::web::API_ERROR_CODES.iter().copied().collect();

    // The premise: the fallback answers an unrouted path with 404
    // `not_found` whatever the method, never 405. So a 405 on a path
    // proves the path is routed, and a non-405 that the method is.
    for method in PROBED {
        let a = send(&http, &base, method, "/api/v1/no-such-route").await;
        assert_eq!(
            (a.status, a.code().as_deref()),
            (404, Some("not_found")),
            "{method} on an unrouted path: {}",
            a.body
        );
    }

    let mut paths: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, p) in &documented {
        paths.entry(p).or_default().insert(m);
    }
    let mut failures = Vec::new();
    for (path, methods) in &paths {
        let url = concrete(path);
        for method in PROBED {
            let a = send(&http, &base, method, &url).await;
            let what = format!("{method} {path} ({url}) → {}", a.status);
            if !methods.contains(method) {
                if a.status != 405 {
                    failures.push(format!("{what}: undocumented, yet not 405 (is it routed?)"));
                } else if path.starts_with("/api/") && a.code().as_deref() != Some("method") {
                    failures.push(format!(
                        "{what}: 405 without JSON code `method`: {}",
                        a.body
                    ));
                }
                continue;
            }
            if a.status == 405 {
                failures.push(format!("{what}: documented, yet not routed"));
                continue;
            }
            // What came back is something the spec says this route answers.
            let route = (method.to_owned(), (*path).to_owned());
            let response = operation(&spec, &route)["responses"].get(a.status.to_string());
            let Some(response) = response.map(|r| deref(&spec, r)) else {
                failures.push(format!(
                    "{what}: status not in the spec's responses: {}",
                    a.body
                ));
                continue;
            };
            if let Some(content) = response.get("content").and_then(Value::as_object)
                && !content.contains_key(&a.media)
            {
                failures.push(format!(
                    "{what}: Content-Type {:?}, the spec says one of {:?}",
                    a.media,
                    content.keys().collect::<Vec<_>>()
                ));
            }
            if a.status >= 400 {
                match a.code() {
                    Some(c) if codes.contains(c.as_str()) => {}
                    other => failures.push(format!("{what}: error code {other:?}: {}", a.body)),
                }
            }
        }
    }
    server.stop().await;
    assert!(
        failures.is_empty(),
        "the live router and spec/openapi.yaml disagree:\n  {}",
        failures.join("\n  ")
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn the_error_code_enum_is_api_error_codes() {
    let spec = spec();
    let listed: Vec<&str> = spec["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("spec: components/schemas/ErrorCode/enum")
        .iter()
        .map(|v| v.as_str().expect("spec: ErrorCode values are strings"))
        .collect();
    let in_spec: BTreeSet<&str> = listed.iter().copied().collect();
    let in_code: BTreeSet<&str> = buzon::web::API_ERROR_CODES.iter().copied().collect();
    assert_eq!(in_spec.len(), listed.len(), "ErrorCode lists a code twice");
    assert_eq!(
        in_code.len(),
        buzon::web::API_ERROR_CODES.len(),
        "API_ERROR_CODES lists a code twice"
    );
    assert!(
        in_spec == in_code,
        "ErrorCode in spec/openapi.yaml differs from API_ERROR_CODES:\
         \n  only in the spec: {:?}\n  only in the code: {:?}",
        in_spec.difference(&in_code).collect::<Vec<_>>(),
        in_code.difference(&in_spec).collect::<Vec<_>>()
    );
    // The error body's `code` is that enum.
    let code = &spec["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"];
    assert_eq!(code, "#/components/schemas/ErrorCode");
    let error = &spec["components"]["schemas"]["Error"]["properties"]["error"]["$ref"];
    assert_eq!(error, "#/components/schemas/ErrorDetail");
}

/// Whether a schema is the `Error` schema, directly or as one of `allOf`.
fn is_error_schema(schema: &Value) -> bool {
    const ERROR: &str = "#/components/schemas/Error";
    schema.get("$ref").and_then(Value::as_str) == Some(ERROR)
        || schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|all| all.iter().any(is_error_schema))
}

/// Every `$ref` string anywhere under `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_operation_is_well_formed_and_its_errors_are_json() {
    let spec = spec();
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "spec/openapi.yaml is not OpenAPI 3.1"
    );
    let mut failures = Vec::new();
    let mut all = Vec::new();
    refs(&spec, &mut all);
    for r in all {
        if resolve(&spec, r).is_none() {
            failures.push(format!("dangling $ref {r}"));
        }
    }
    let schemes = spec["components"]["securitySchemes"]
        .as_object()
        .expect("spec: securitySchemes");
    let param = regex::Regex::new(r"\{([a-z_]+)\}").unwrap();
    for route in spec_routes(&spec) {
        let (method, path) = &route;
        let op = operation(&spec, &route);
        let here = format!("{method} {path}");

        // Path parameters: each `{name}` declared, required, in: path.
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| deref(&spec, p))
            .filter(|p| p["in"] == "path" && p["required"] == true)
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        let in_path: BTreeSet<String> =
            param.captures_iter(path).map(|c| c[1].to_owned()).collect();
        if declared != in_path {
            failures.push(format!(
                "{here}: path parameters {in_path:?}, declared {declared:?}"
            ));
        }

        // Security: explicit, and only schemes that exist.
        match op["security"].as_array() {
            None => failures.push(format!("{here}: no `security` (use [] for none)")),
            Some(reqs) => {
                for name in reqs
                    .iter()
                    .filter_map(Value::as_object)
                    .flat_map(|o| o.keys())
                {
                    if !schemes.contains_key(name) {
                        failures.push(format!("{here}: unknown security scheme {name}"));
                    }
                }
            }
        }

        let Some(responses) = op["responses"].as_object() else {
            failures.push(format!("{here}: no responses"));
            continue;
        };
        if !responses.keys().any(|s| s.starts_with('2')) {
            failures.push(format!("{here}: no 2xx response"));
        }
        for (status, response) in responses {
            let Ok(code) = status.parse::<u16>() else {
                failures.push(format!("{here}: response key {status:?} is not a status"));
                continue;
            };
            let response = deref(&spec, response);
            if response["description"].as_str().is_none_or(str::is_empty) {
                failures.push(format!("{here} {status}: no description"));
            }
            if code < 400 {
                continue;
            }
            let content = response["content"].as_object();
            let json = content.and_then(|c| c.get("application/json"));
            match (json, content.map(|c| c.len())) {
                (Some(j), Some(1)) if is_error_schema(&j["schema"]) => {}
                _ => failures.push(format!(
                    "{here} {status}: not exactly application/json with schema \
                     $ref #/components/schemas/Error"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "spec/openapi.yaml:\n  {}",
        failures.join("\n  ")
    );
}
