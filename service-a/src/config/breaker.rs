//! [`BreakerSection`]: the `breaker` section, read as [`breaker_redis::Settings`] while noting
//! whether `lease` was given.
//!
//! `Settings` fills every absent field with its default, so the value alone cannot tell
//! `BREAKER__LEASE=10s` from no `BREAKER__LEASE` at all. The section is therefore read through
//! a map that watches its keys go by; everything else (unknown fields, types, the error paths
//! that name the variable) is `Settings`' own deserialization.

use std::fmt;

use breaker_redis::Settings;
use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The `breaker` section (`BREAKER__MAX_REQUESTS`, `BREAKER__TIMEOUT`, ...): every field of
/// [`breaker_redis::Settings`], unknown fields rejected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakerSection {
    /// The settings as given, defaults filled in.
    pub settings: Settings,
    /// Whether `lease` was set (`BREAKER__LEASE`); if not, it follows `SERVICE_B_TIMEOUT`.
    pub explicit_lease: bool,
}

impl BreakerSection {
    /// Settings whose `lease` counts as given.
    pub fn explicit(settings: Settings) -> Self {
        Self {
            settings,
            explicit_lease: true,
        }
    }
}

impl<'de> Deserialize<'de> for BreakerSection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SectionVisitor)
    }
}

struct SectionVisitor;

impl<'de> Visitor<'de> for SectionVisitor {
    type Value = BreakerSection;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of breaker settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BreakerSection, A::Error> {
        let mut keys = KeyWatch {
            inner: map,
            lease: false,
        };
        let settings = Settings::deserialize(MapAccessDeserializer::new(&mut keys))?;
        Ok(BreakerSection {
            settings,
            explicit_lease: keys.lease,
        })
    }
}

/// A map that notes a `lease` key and passes everything through.
struct KeyWatch<A> {
    inner: A,
    lease: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for KeyWatch<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.inner.next_key::<String>()? else {
            return Ok(None);
        };
        self.lease |= key == "lease";
        seed.deserialize(StringDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}
