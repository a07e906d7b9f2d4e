//! `buzon token …`: issuance codes and policy (operator), and `fetch`, the
//! client that blinds token requests on this machine (spec/tokens.md).

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use serde::Deserialize;

use crate::operator::Command;
use crate::tokens::client;

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Make issuance codes for an entity, one per person who may send.
    /// Each code yields up to --tokens-per-code tokens per key epoch. The
    /// codes are printed once, one per line; only a hash is stored.
    Codes {
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// How many codes to make.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Tokens each code yields per key epoch.
        #[arg(long, default_value_t = 5)]
        tokens_per_code: u32,
        /// Days until the codes stop working.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Revoke issuance codes: they yield no more tokens (tokens already
    /// fetched stay valid until their key expires).
    Revoke {
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// The codes, as printed.
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// Show or set an entity's policy: `open` (no token; a shared hourly
    /// limit) or `token` (each new thread spends one token).
    Policy {
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// open or token; omit to show the current policy.
        policy: Option<String>,
    },
    /// List the issuer's active keys (and make any that are due).
    Keys,
    /// Fetch tokens from a server: the blinding is done here, so the server
    /// cannot link the tokens to this code when they are spent.
    Fetch {
        /// The server's address, e.g. http://127.0.0.1:8080 or an onion
        /// address.
        #[arg(long)]
        server: String,
        /// The entity's slug.
        #[arg(long)]
        entity: String,
        /// The issuance code. If omitted it is read from standard input, so
        /// it stays out of the shell history.
        #[arg(long)]
        code: Option<String>,
        /// How many tokens (1 to 100).
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Token type: 1 (VOPRF P-384) or 2 (blind RSA).
        #[arg(long = "type", default_value_t = 1)]
        token_type: u16,
        /// Append the tokens to this file (one per line) instead of
        /// printing them.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A proxy for every request, e.g. socks5h://127.0.0.1:9050 for Tor.
        #[arg(long)]
        proxy: Option<String>,
    },
}

impl TokenCmd {
    /// The operator command, or `None` for `fetch` (a client command).
    pub fn into_command(self) -> Result<Command, Box<TokenCmd>> {
        Ok(match self {
            TokenCmd::Codes {
                entity,
                count,
                tokens_per_code,
                days,
            } => Command::TokenCodes {
                entity,
                count,
                tokens_per_code,
                days,
            },
            TokenCmd::Revoke { entity, codes } => Command::TokenRevoke { entity, codes },
            TokenCmd::Policy { entity, policy } => Command::TokenPolicy { entity, policy },
            TokenCmd::Keys => Command::TokenKeys,
            fetch @ TokenCmd::Fetch { .. } => return Err(Box::new(fetch)),
        })
    }
}

#[derive(Deserialize)]
struct Directory {
    #[serde(rename = "issuer-request-uri")]
    issuer_request_uri: String,
    #[serde(rename = "token-keys")]
    token_keys: Vec<DirectoryKey>,
}

#[derive(Deserialize)]
struct DirectoryKey {
    #[serde(rename = "token-type")]
    token_type: u16,
    #[serde(rename = "token-key")]
    token_key: String,
    #[serde(rename = "not-before", default)]
    not_before: u64,
    #[serde(rename = "buzon-scope", default)]
    scope: String,
    #[serde(rename = "buzon-issuer-name", default)]
    issuer_name: String,
}

#[derive(Deserialize)]
struct Challenges {
    policy: String,
    challenges: Vec<Challenge>,
}

#[derive(Deserialize)]
struct Challenge {
    #[serde(rename = "token-type")]
    token_type: u16,
    challenge: String,
    #[serde(rename = "token-key")]
    token_key: String,
}

#[derive(Deserialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    code: String,
    message: String,
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    crate::core::tokens::decode_token_text(s).ok_or_else(|| "the server sent bad base64".into())
}

/// A base URL joined with an absolute path or an absolute URL.
fn join(server: &str, uri: &str) -> String {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        uri.to_owned()
    } else {
        format!(
            "{}/{}",
            server.trim_end_matches('/'),
            uri.trim_start_matches('/')
        )
    }
}

async fn api_failure(resp: reqwest::Response) -> String {
    let status = resp.status();
    match resp.json::<ApiError>().await {
        Ok(e) => format!("{} ({})", e.error.message, e.error.code),
        Err(_) => format!("the server answered {status}"),
    }
}

/// Runs `buzon token fetch`.
pub async fn fetch(cmd: TokenCmd) -> Result<(), String> {
    let TokenCmd::Fetch {
        server,
        entity,
        code,
        count,
        token_type,
        out,
        proxy,
    } = cmd
    else {
        return Err("not a fetch command".into());
    };
    if !(1..=100).contains(&count) {
        return Err("--count must be between 1 and 100".into());
    }
    let code = match code {
        Some(c) => c,
        None => {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                eprint!("issuance code: ");
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the code: {e}"))?;
            line.trim().to_owned()
        }
    };
    let code = crate::core::tokens::IssuanceCode::parse(&code)
        .ok_or("that is not an issuance code (16 letters and digits, e.g. 7K2M-QX9D-4HTB-W1RZ)")?
        .display();
    let mut builder = reqwest::Client::builder()
        .user_agent("buzon")
        .timeout(std::time::Duration::from_secs(120));
    if let Some(p) = &proxy {
        builder = builder.proxy(reqwest::Proxy::all(p).map_err(|e| format!("--proxy: {e}"))?);
    }
    let http = builder.build().map_err(|e| e.to_string())?;
    let get = |url: String| {
        let http = http.clone();
        async move {
            http.get(&url)
                .send()
                .await
                .map_err(|e| format!("cannot reach {url}: {e}"))
        }
    };
    let resp = get(join(&server, "/.well-known/private-token-issuer-directory")).await?;
    if !resp.status().is_success() {
        return Err(api_failure(resp).await);
    }
    let directory: Directory = resp
        .json()
        .await
        .map_err(|_| "the issuer directory cannot be read")?;
    let resp = get(join(
        &server,
        &format!("/api/v1/entities/{entity}/token-challenge"),
    ))
    .await?;
    if !resp.status().is_success() {
        return Err(api_failure(resp).await);
    }
    let challenges: Challenges = resp
        .json()
        .await
        .map_err(|_| "the entity's challenge cannot be read")?;
    let chosen = challenges
        .challenges
        .iter()
        .find(|c| c.token_type == token_type)
        .ok_or_else(|| format!("{entity} offers no tokens of type {token_type}"))?;
    let token_key = b64(&chosen.token_key)?;
    // Key consistency: the key this entity names must be listed for it in
    // the directory everyone sees, and no key of its type listed for it
    // may be newer (a key shown only to this client could identify its
    // tokens).
    let mine: Vec<&DirectoryKey> = directory
        .token_keys
        .iter()
        .filter(|k| k.token_type == token_type && k.scope == entity)
        .collect();
    let listed = mine
        .iter()
        .find(|k| b64(&k.token_key).ok().as_deref() == Some(&token_key[..]))
        .copied();
    let Some(listed) = listed else {
        return Err("the entity's key is not in the issuer directory: refusing (a key shown only to you could identify your tokens)".into());
    };
    if mine.iter().any(|k| k.not_before > listed.not_before) {
        return Err("the entity's key is not its newest key in the issuer directory: refusing (a key shown only to you could identify your tokens)".into());
    }
    let challenge = b64(&chosen.challenge)?;
    // The challenge too must be the one everyone gets: this issuer, no
    // redemption context, this entity. Any other challenge (a random
    // context, say) would travel inside every token as its digest and
    // could tie the tokens to this code.
    let ty = client::token_type_of(token_type).ok_or("unsupported token type")?;
    let expected = crate::tokens::challenge_for(ty, &listed.issuer_name, &entity)
        .serialize()
        .map_err(|_| "the challenge cannot be built")?;
    if challenge != expected {
        return Err("the entity's challenge is not the standard one for this issuer and entity: refusing (a challenge made for you could identify your tokens)".into());
    }
    // The issuer's refusals in the user's language: Spanish when the
    // locale says so, else English like the rest of this command.
    let lang = match std::env::var("LANG").unwrap_or_default().get(..2) {
        Some("es") => "es",
        _ => "en",
    };
    let issuer = join(&server, &directory.issuer_request_uri);
    let issuer = if issuer.contains('?') {
        format!("{issuer}&lang={lang}")
    } else {
        format!("{issuer}?lang={lang}")
    };
    // Each token is written (and synced) as soon as it is made: every one
    // has used up part of the code, so none may be lost to a later failure.
    let mut file = match &out {
        Some(path) => Some(
            {
                let mut o = std::fs::OpenOptions::new();
                o.create(true).append(true);
                // Tokens are bearer values: readable by their owner only.
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
                o
            }
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut made = 0u32;
    let mut failure = None;
    for _ in 0..count {
        let seed: [u8; 32] = crate::platform::random(&crate::platform::OsEntropy);
        let (request, pending) =
            client::request(token_type, &token_key, &challenge, seed).map_err(|e| e.to_string())?;
        let sent = http
            .post(&issuer)
            .header("content-type", "application/private-token-request")
            .header(crate::web::CODE_HEADER, &code)
            .body(request)
            .send()
            .await;
        let resp = match sent {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                failure = Some(api_failure(r).await);
                break;
            }
            Err(e) => {
                failure = Some(format!("cannot reach {issuer}: {e}"));
                break;
            }
        };
        let token = match resp.bytes().await {
            Ok(body) => client::finish(pending, &body).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let token = match token {
            Ok(t) => crate::core::tokens::base64url(&t),
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let line = format!("{token}\n");
        match &mut file {
            Some(f) => f
                .write_all(line.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| format!("cannot write the token file: {e}"))?,
            None => {
                let mut stdout = std::io::stdout();
                let _ = stdout.write_all(line.as_bytes());
                let _ = stdout.flush();
            }
        }
        made += 1;
    }
    if let Some(path) = &out {
        eprintln!(
            "{made} token(s) of type {token_type} for {entity} appended to {}",
            path.display()
        );
    }
    if let Some(why) = failure {
        if made == 0 {
            return Err(why);
        }
        eprintln!("stopped after {made} token(s): {why}");
    }
    if challenges.policy != "token" {
        eprintln!(
            "note: {entity} does not ask for tokens at the moment (policy {})",
            challenges.policy
        );
    }
    Ok(())
}
