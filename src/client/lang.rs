//! The language of the command line's messages: Spanish when `LANG`
//! starts with `es`, else English (as `buzon token fetch` does). These are
//! command-line strings, kept next to their use with [`t`]; the web pages
//! have their own catalogue (`locales/`).

/// Spanish or English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    /// From the `LANG` environment variable.
    pub fn from_env() -> Lang {
        Lang::from_locale(&std::env::var("LANG").unwrap_or_default())
    }

    /// From a locale string such as `es_MX.UTF-8`.
    pub fn from_locale(locale: &str) -> Lang {
        if locale
            .get(..2)
            .is_some_and(|p| p.eq_ignore_ascii_case("es"))
        {
            Lang::Es
        } else {
            Lang::En
        }
    }

    /// The `lang` query value the server reads for its error messages.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
}

/// Picks the string of `lang`.
pub fn t<'a>(lang: Lang, es: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Es => es,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_only_for_es_locales() {
        assert_eq!(Lang::from_locale("es_MX.UTF-8"), Lang::Es);
        assert_eq!(Lang::from_locale("es"), Lang::Es);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
        assert_eq!(Lang::from_locale("C"), Lang::En);
    }
}
