//! [`Overrides`]: a settings section (`BREAKER__*`, `RETRY__*`) given in part, applied over a
//! service's own defaults instead of the settings type's.
//!
//! A settings type with `#[serde(default)]` fills what is not given from its `Default`: a
//! lone `BREAKER__TIMEOUT=1s` would bring back breaker-redis's trip policy instead of the
//! service's own (opossum's in the shop, the seed's consecutive failures in the chain). So the
//! section is kept as given, and merged over the service's defaults when the router is built.

use std::collections::{BTreeMap, HashMap};

use crate::config::{ConfigError, Loader};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The values given for one section, by setting (lower case, as the environment gives them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Overrides(BTreeMap<String, String>);

impl Overrides {
    /// Overrides given as `(setting, value)` pairs, e.g. `[("timeout", "1s")]`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v.to_owned()))
                .collect(),
        )
    }

    /// `T` read from `defaults` (setting, value) with these overrides over them; errors name
    /// the variable, `<SECTION>__<SETTING>`.
    ///
    /// # Errors
    ///
    /// A value does not parse, or a setting is unknown.
    pub fn apply<T: DeserializeOwned>(
        &self,
        section: &str,
        defaults: &[(&str, String)],
    ) -> Result<T, ConfigError> {
        let var = |setting: &str| format!("{section}__{}", setting.to_uppercase());
        let mut vars: BTreeMap<String, String> = defaults
            .iter()
            .map(|(setting, value)| (var(setting), value.clone()))
            .collect();
        vars.extend(self.0.iter().map(|(k, v)| (var(k), v.clone())));
        let loader = Loader::from_vars(vars)?;
        let mut sections: HashMap<String, T> = loader.load()?;
        sections
            .remove(&section.to_lowercase())
            .map_or_else(|| loader.load::<T>(), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Knobs {
        a: u32,
        b: u32,
    }

    impl Default for Knobs {
        fn default() -> Self {
            Self { a: 1, b: 2 }
        }
    }

    #[test]
    fn given_values_win_over_the_service_defaults_which_win_over_the_type_defaults() {
        let given = Overrides::from_pairs([("b", "7")]);
        let knobs: Knobs = given.apply("KNOBS", &[("a", "5".into())]).expect("valid");
        assert_eq!(knobs, Knobs { a: 5, b: 7 });
        let none: Knobs = Overrides::default().apply("KNOBS", &[]).expect("valid");
        assert_eq!(none, Knobs::default());
    }

    #[test]
    fn errors_name_the_variable() {
        let err = Overrides::from_pairs([("b", "many")])
            .apply::<Knobs>("KNOBS", &[])
            .expect_err("not a number");
        assert!(err.to_string().contains("KNOBS__B"), "{err}");
        let err = Overrides::from_pairs([("c", "1")])
            .apply::<Knobs>("KNOBS", &[])
            .expect_err("unknown");
        assert!(err.to_string().contains('c'), "{err}");
    }
}
