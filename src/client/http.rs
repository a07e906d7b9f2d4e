//! The HTTP side of the client: one `reqwest` client per command, an
//! optional proxy (`socks5h://127.0.0.1:9050` sends names and traffic
//! through Tor), timeouts, and the API's error body shown as the server
//! wrote it (spec/api.md, "Errors").
//!
//! Every request carries `?lang=es|en` so the server's error sentence is in
//! the person's language. The session secret goes in `Authorization:
//! Bearer …` and is wiped when the [`Api`] is dropped.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::error::ClientError;
use super::lang::Lang;
use crate::core::api::ErrorBody;

/// Longest wait for a connection (Tor circuits can take a while).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest time for a request without files.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest time for an upload (five 10 MiB files over a slow Tor circuit).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Where and how to connect, as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// `http://…` or `https://…` (an onion address through a proxy).
    pub server: String,
    /// e.g. `socks5h://127.0.0.1:9050`.
    pub proxy: Option<String>,
    /// The pinned server key (base64url), if any.
    pub server_key: Option<String>,
}

impl Connection {
    pub fn api(&self, lang: Lang) -> Result<Api, ClientError> {
        Api::new(&self.server, self.proxy.as_deref(), lang)
    }
    /// The pinned key, checked before anything is sent.
    pub fn pin(&self) -> Result<Option<[u8; 32]>, ClientError> {
        self.server_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(super::document::parse_server_key)
            .transpose()
    }
}

/// A connection to one server.
pub struct Api {
    http: reqwest::Client,
    base: String,
    lang: Lang,
    bearer: Option<Zeroizing<String>>,
}

impl Api {
    /// `server` is `http://…` or `https://…`; `proxy` any URL reqwest
    /// accepts (`socks5h://…`, `http://…`).
    pub fn new(server: &str, proxy: Option<&str>, lang: Lang) -> Result<Api, ClientError> {
        let base = server.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || reqwest::Url::parse(&base).is_err()
        {
            return Err(ClientError::BadAddress(format!(
                "--server {base} (http://… https://…)"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent("buzon")
            .connect_timeout(CONNECT_TIMEOUT)
            // No client-wide read timeout: it would also run while an
            // upload is still being sent (a slow Tor circuit); every
            // request carries its own total timeout instead.
            // No cookies, no redirects to elsewhere: the API sets neither.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(p) = proxy {
            builder = builder.proxy(
                reqwest::Proxy::all(p)
                    .map_err(|e| ClientError::BadAddress(format!("--proxy: {e}")))?,
            );
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Api {
            http,
            base,
            lang,
            bearer: None,
        })
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Uses this session secret (already base64url) from now on.
    pub fn set_bearer(&mut self, bearer: Zeroizing<String>) {
        self.bearer = Some(bearer);
    }

    pub fn has_session(&self) -> bool {
        self.bearer.is_some()
    }

    fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}lang={}", self.base, self.lang.code())
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(b) = &self.bearer {
            rb = rb.bearer_auth(b.as_str());
        }
        rb
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let resp = rb.send().await.map_err(network)?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(failure(resp).await)
        }
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let resp = self
            .send(
                self.request(reqwest::Method::GET, path)
                    .timeout(REQUEST_TIMEOUT),
            )
            .await?;
        resp.json().await.map_err(|_| ClientError::BadAnswer(what))
    }

    /// GET of an `application/octet-stream` body.
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let resp = self
            .send(
                self.request(reqwest::Method::GET, path)
                    .timeout(REQUEST_TIMEOUT),
            )
            .await?;
        Ok(resp.bytes().await.map_err(network)?.to_vec())
    }

    /// POST of a JSON body, answer parsed as `T`.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let resp = self
            .send(
                self.request(reqwest::Method::POST, path)
                    .json(body)
                    .timeout(REQUEST_TIMEOUT),
            )
            .await?;
        resp.json().await.map_err(|_| ClientError::BadAnswer(what))
    }

    /// POST of a JSON body whose answer is not needed beyond its status.
    pub async fn post_json_ok<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(), ClientError> {
        self.send(
            self.request(reqwest::Method::POST, path)
                .json(body)
                .timeout(REQUEST_TIMEOUT),
        )
        .await?;
        Ok(())
    }

    /// POST of a multipart form (thread creation, a message). `token` is
    /// the Privacy Pass token for `Authorization: PrivateToken`, when the
    /// entity asks for one. `upload_failure` names what went wrong when a
    /// part's stream failed (a file that changed while being sent), which
    /// reqwest would only report as a broken request.
    pub async fn post_multipart<T: DeserializeOwned>(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
        token: Option<&str>,
        upload_failure: &super::upload::FailureSlot,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let mut rb = self
            .request(reqwest::Method::POST, path)
            .multipart(form)
            .timeout(UPLOAD_TIMEOUT);
        if let Some(tok) = token {
            rb = rb.header(
                reqwest::header::AUTHORIZATION,
                format!("PrivateToken token=\"{tok}\""),
            );
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => return Err(upload_failure.take().unwrap_or_else(|| network(e))),
        };
        if !resp.status().is_success() {
            return Err(failure(resp).await);
        }
        resp.json().await.map_err(|_| ClientError::BadAnswer(what))
    }

    /// Ends the session on the server (`DELETE /api/v1/sessions`); best
    /// effort, since it also ends by itself after 15 minutes.
    pub async fn end_session(&mut self) {
        if self.bearer.is_some() {
            let _ = self
                .request(reqwest::Method::DELETE, "/api/v1/sessions")
                .timeout(Duration::from_secs(20))
                .send()
                .await;
            self.bearer = None;
        }
    }
}

fn network(e: reqwest::Error) -> ClientError {
    // The usual causes first, in words; the library's chain after them.
    if e.is_timeout() {
        return ClientError::Network("timeout".to_owned());
    }
    if e.is_connect() {
        return ClientError::Network("connect".to_owned());
    }
    // reqwest's message names the URL, which holds nothing secret (the
    // server's address and at most a thread id the person asked for); the
    // cause (refused, timed out, proxy) is in its sources.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    ClientError::Network(text)
}

/// The server's error body, or its bare status.
async fn failure(resp: reqwest::Response) -> ClientError {
    let status = resp.status().as_u16();
    match resp.json::<ErrorBody>().await {
        Ok(e) => ClientError::Server {
            status,
            code: e.error.code,
            message: e.error.message,
        },
        Err(_) => ClientError::Status(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_addresses() {
        assert!(Api::new("http://127.0.0.1:8080/", None, Lang::En).is_ok());
        assert!(Api::new("https://example.onion", None, Lang::En).is_ok());
        assert!(matches!(
            Api::new("ftp://x", None, Lang::En),
            Err(ClientError::BadAddress(_))
        ));
        assert!(matches!(
            Api::new("127.0.0.1:8080", None, Lang::En),
            Err(ClientError::BadAddress(_))
        ));
    }

    #[test]
    fn every_url_names_the_language() {
        let api = Api::new("http://h:1/", None, Lang::Es).unwrap();
        assert_eq!(
            api.url("/api/v1/entities"),
            "http://h:1/api/v1/entities?lang=es"
        );
        assert_eq!(api.url("/x?a=1"), "http://h:1/x?a=1&lang=es");
    }
}
