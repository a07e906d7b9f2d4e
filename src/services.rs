//! The services one data directory runs: SAADD threads and claim tokens,
//! over one store, clock and random source.

use std::sync::Arc;

use crate::core::tokens::{Policy, Scope};
use crate::platform::{Clock, Entropy};
use crate::saadd::{Costs, Limits, Saadd};
use crate::store::Store;
use crate::tokens::{Maintained, TokenSettings, Tokens};

#[derive(Clone)]
pub struct Services {
    pub saadd: Arc<Saadd>,
    pub tokens: Arc<Tokens>,
}

impl Services {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        limits: Limits,
        costs: Costs,
        kdf_concurrency: usize,
        token_settings: TokenSettings,
    ) -> Result<Services, String> {
        let tokens = Tokens::new(
            store.clone(),
            clock.clone(),
            entropy.clone(),
            token_settings,
        )
        .map_err(|e| e.to_string())?;
        let saadd = Saadd::new(store, clock, entropy, limits, costs, kdf_concurrency);
        Ok(Services {
            saadd: Arc::new(saadd),
            tokens: Arc::new(tokens),
        })
    }

    /// Every scope that needs issuer keys, with its public name: each
    /// entity whose policy is `token`, named by its slug. Open entities
    /// take no key: RFC 9578's one-byte truncated key ids are few.
    pub fn scopes(&self) -> Result<Vec<(Scope, String)>, String> {
        let mut out = Vec::new();
        for e in self.saadd.entities().map_err(|e| e.to_string())? {
            let scope = Scope::Entity(e.id);
            // An unreadable policy counts as `token` here: keys cost little.
            if self.tokens.policy(&scope).unwrap_or(Policy::Token) == Policy::Token {
                out.push((scope, e.slug.clone()));
            }
        }
        Ok(out)
    }

    /// Creates this epoch's issuer keys and retires expired ones.
    pub async fn maintain_tokens(&self) -> Result<Maintained, String> {
        let scopes = self.scopes()?;
        let done = self
            .tokens
            .maintain(&scopes)
            .await
            .map_err(|e| e.to_string())?;
        if done.no_room > 0 {
            tracing::error!(
                keys = done.no_room,
                "issuer keys not made: every one-byte truncated key id is taken (spec/tokens.md, capacity)"
            );
        }
        Ok(done)
    }
}
