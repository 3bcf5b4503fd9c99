//! The lookups' cache: per service, the instances the server listed, until they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

/// An instance as the discovery server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Instance {
    /// The registry's id.
    pub id: String,
    /// Its address.
    pub ip: String,
    /// Its port.
    pub port: u16,
}

impl Instance {
    /// `http://ip:port`.
    pub fn base_url(&self) -> String {
        if self.ip.contains(':') {
            format!("http://[{}]:{}", self.ip, self.port)
        } else {
            format!("http://{}:{}", self.ip, self.port)
        }
    }
}

/// One service's cached lookup.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The instances not found dead since.
    pub instances: Vec<Instance>,
    /// When the server answered.
    pub cached_at: SystemTime,
    /// When the answer stops being fresh.
    pub expires_at: SystemTime,
}

impl Entry {
    /// Still fresh now.
    pub fn is_valid(&self) -> bool {
        SystemTime::now() < self.expires_at
    }
}

/// The cache: bounded by the number of service names looked up (a handful).
#[derive(Debug, Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

/// More names than any system here has: past it, the cache forgets everything.
const MAX_NAMES: usize = 256;

impl Cache {
    /// The entry for `name`, fresh or stale.
    pub fn get(&self, name: &str) -> Option<Entry> {
        self.lock().get(name).cloned()
    }

    /// Stores the server's answer for `ttl`.
    pub fn put(&self, name: &str, instances: Vec<Instance>, ttl: Duration) {
        let now = SystemTime::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_NAMES && !entries.contains_key(name) {
            entries.clear();
        }
        entries.insert(
            name.to_owned(),
            Entry {
                instances,
                cached_at: now,
                expires_at: now + ttl,
            },
        );
    }

    /// Forgets one instance that did not answer.
    pub fn drop_instance(&self, name: &str, id: &str) {
        if let Some(entry) = self.lock().get_mut(name) {
            entry.instances.retain(|i| i.id != id);
        }
    }

    /// Every entry, by name.
    pub fn all(&self) -> Vec<(String, Entry)> {
        let mut all: Vec<_> = self
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a consistent map; keep using it.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
