//! The services one data directory runs: SAADD threads and claim tokens,
//! over one store, clock and random source.

use std::sync::Arc;

use crate::core::tokens::Scope;
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

    /// Every scope that needs issuer keys, with its public name: one per
    /// entity, named by its slug.
    pub fn scopes(&self) -> Result<Vec<(Scope, String)>, String> {
        Ok(self
            .saadd
            .entities()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|e| (Scope::Entity(e.id), e.slug.clone()))
            .collect())
    }

    /// Creates this epoch's issuer keys and retires expired ones.
    pub async fn maintain_tokens(&self) -> Result<Maintained, String> {
        let scopes = self.scopes()?;
        self.tokens
            .maintain(&scopes)
            .await
            .map_err(|e| e.to_string())
    }
}
