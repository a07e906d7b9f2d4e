#![no_main]
// Whatever arrives as a pasted token, an issuance request or a typed code,
// the token service neither panics nor accepts it: a token that was never
// issued is never spent, a request never yields more than its code allows,
// and a parsed code prints to text that parses to itself.

use std::sync::{Arc, OnceLock};

use buzon::core::tokens::{IssuanceCode, Policy, Scope};
use buzon::platform::{OsEntropy, SystemClock};
use buzon::saadd::{Costs, Limits, NewEntity};
use buzon::services::Services;
use buzon::store::MemoryStore;

struct World {
    rt: tokio::runtime::Runtime,
    services: Services,
    scope: Scope,
    code: String,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (services, scope, code) = rt.block_on(async {
            let services = Services::new(
                Arc::new(MemoryStore::default()),
                Arc::new(buzon::store::keys::MemoryVault::new()),
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
                Limits::default(),
                Costs::V1,
                1,
                buzon::tokens::TokenSettings::default(),
            )
            .unwrap();
            let e = services
                .saadd
                .add_entity(NewEntity {
                    slug: "fuzz".into(),
                    name: "Fuzz".into(),
                    complaints_office: "OIC".into(),
                    first_response_days: 3,
                    answer_days: 10,
                    zone: None,
                })
                .await
                .unwrap();
            let scope = Scope::Entity(e.id);
            services.tokens.set_policy(&scope, Policy::Token).await.unwrap();
            services.maintain_tokens().await.unwrap();
            let code = services
                .tokens
                .make_codes(scope, 1, 1_000, 30)
                .await
                .unwrap()[0]
                .display();
            (services, scope, code)
        });
        World {
            rt,
            services,
            scope,
            code,
        }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let w = world();
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let spent = w.rt.block_on(w.services.tokens.redeem(&w.scope, &text));
            assert!(spent.is_err(), "a token that was never issued was accepted");
        }
        1 => {
            let _ = w
                .rt
                .block_on(w.services.tokens.issue(Some(&w.code), rest));
        }
        _ => {
            if let Ok(s) = std::str::from_utf8(rest)
                && let Some(c) = IssuanceCode::parse(s)
            {
                assert_eq!(IssuanceCode::parse(&c.display()), Some(c));
            }
        }
    }
});
