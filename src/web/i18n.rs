//! Translations: every string a person reads comes from `locales/*.ftl`
//! (Fluent). Spanish (es-MX) is the default; English is the alternative.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::langid;

/// A page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Es,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
    pub fn from_code(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "es" | "es-mx" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }
}

pub const ES: &str = include_str!("../../locales/es.ftl");
pub const EN: &str = include_str!("../../locales/en.ftl");

/// Both catalogues, parsed once at start-up.
pub struct I18n {
    es: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(
    src: &str,
    id: unic_langid::LanguageIdentifier,
) -> Result<FluentBundle<FluentResource>, String> {
    let res = FluentResource::try_new(src.to_owned())
        .map_err(|(_, errs)| format!("catalogue {id} has {} syntax errors", errs.len()))?;
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Pages are HTML: no Unicode isolation marks around placeables.
    b.set_use_isolating(false);
    b.add_resource(res)
        .map_err(|errs| format!("catalogue has {} duplicate keys", errs.len()))?;
    Ok(b)
}

impl I18n {
    pub fn load() -> Result<I18n, String> {
        Ok(I18n {
            es: bundle(ES, langid!("es-MX"))?,
            en: bundle(EN, langid!("en"))?,
        })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Es => &self.es,
            Lang::En => &self.en,
        }
    }

    /// The message `key`; a missing key shows as the key itself (and the
    /// catalogue test fails), never as a crash.
    pub fn t(&self, lang: Lang, key: &str) -> String {
        self.format(lang, key, None)
    }

    /// The message `key` with named arguments.
    pub fn ta(&self, lang: Lang, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        self.format(lang, key, Some(&a))
    }

    fn format(&self, lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let b = self.bundle(lang);
        let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut errors = Vec::new();
        b.format_pattern(pattern, args, &mut errors).into_owned()
    }

    /// Keys defined in a catalogue (for the completeness test).
    pub fn keys(src: &str) -> Vec<String> {
        src.lines()
            .filter(|l| {
                l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && l.contains(" =")
            })
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_owned())
            .collect()
    }
}
