//! Bounded stores: [`Capped`], a map that forgets its oldest entries, and [`OnceStore`], which
//! runs the work for a key once, however many requests for it arrive together.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OnceCell;

/// A map holding at most `cap` entries; inserting a new key beyond that evicts the oldest.
#[derive(Debug)]
pub struct Capped<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: Eq + Hash + Clone, V> Capped<K, V> {
    /// An empty map keeping at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// The value of `key`, to change in place.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// Sets `key`; a new key is the newest, and may evict the oldest.
    pub fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.cap {
                if let Some(oldest) = self.order.pop_front() {
                    self.map.remove(&oldest);
                }
            }
        }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// What [`OnceStore::claim`] gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Claimed<V> {
    /// This request ran the work: the new value.
    Created(V),
    /// The value another request made, or is making (this one waited for it).
    Existing(V),
    /// The key is taken by a request whose fingerprint differs.
    Conflict,
}

#[derive(Debug)]
enum Slot<V> {
    Pending(Arc<OnceCell<V>>),
    Ready(V),
}

#[derive(Debug)]
struct Entry<F, V> {
    fingerprint: F,
    slot: Slot<V>,
}

/// Values made once per key (a payment per order id), at most `cap` kept. Concurrent claims
/// of one key wait for the one that runs the work; a claim cancelled mid-work leaves the key
/// to the next claim, so work that never finished is never counted as done.
#[derive(Debug)]
pub struct OnceStore<F, V> {
    entries: Mutex<Capped<String, Entry<F, V>>>,
}

impl<F: PartialEq, V: Clone> OnceStore<F, V> {
    /// An empty store keeping at most `cap` keys.
    pub fn new(cap: usize) -> Self {
        Self {
            entries: Mutex::new(Capped::new(cap)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Capped<String, Entry<F, V>>> {
        // Every change is a whole assignment, so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, once made.
    pub fn get(&self, key: &str) -> Option<V> {
        match &self.lock().get(&key.to_owned())?.slot {
            Slot::Ready(value) => Some(value.clone()),
            Slot::Pending(cell) => cell.get().cloned(),
        }
    }

    /// Changes the value of `key` once made; returns the changed value.
    pub fn update(&self, key: &str, change: impl FnOnce(&mut V)) -> Option<V> {
        let mut entries = self.lock();
        let entry = entries.get_mut(&key.to_owned())?;
        match &mut entry.slot {
            Slot::Ready(value) => {
                change(value);
                Some(value.clone())
            }
            Slot::Pending(_) => None,
        }
    }

    /// The value of `key`: made by `work` if nobody made it, else the one made (waiting for
    /// a claim in progress). A key taken with another `fingerprint` is a [`Claimed::Conflict`].
    pub async fn claim<Fut>(&self, key: &str, fingerprint: F, work: Fut) -> Claimed<V>
    where
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut entries = self.lock();
            let id = key.to_owned();
            match entries.get(&id) {
                Some(entry) if entry.fingerprint != fingerprint => return Claimed::Conflict,
                Some(Entry {
                    slot: Slot::Ready(value),
                    ..
                }) => return Claimed::Existing(value.clone()),
                Some(Entry {
                    slot: Slot::Pending(cell),
                    ..
                }) => Arc::clone(cell),
                None => {
                    let cell = Arc::new(OnceCell::new());
                    let slot = Slot::Pending(Arc::clone(&cell));
                    entries.insert(id, Entry { fingerprint, slot });
                    cell
                }
            }
        };
        let mut ran = false;
        let value = cell
            .get_or_init(|| {
                ran = true;
                work
            })
            .await
            .clone();
        if !ran {
            return Claimed::Existing(value);
        }
        let mut entries = self.lock();
        if let Some(entry) = entries.get_mut(&key.to_owned())
            && matches!(&entry.slot, Slot::Pending(c) if Arc::ptr_eq(c, &cell))
        {
            entry.slot = Slot::Ready(value.clone());
        }
        Claimed::Created(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_key_goes_first() {
        let mut map = Capped::new(2);
        map.insert("a", 1);
        map.insert("b", 2);
        map.insert("a", 3);
        map.insert("c", 4);
        assert_eq!(map.get(&"a"), None);
        assert_eq!(map.get(&"b"), Some(&2));
        assert_eq!(map.get(&"c"), Some(&4));
        assert_eq!(map.len(), 2);
    }

    #[tokio::test]
    async fn concurrent_claims_run_the_work_once() {
        let store = Arc::new(OnceStore::<u32, u64>::new(10));
        let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let claims = (0..8).map(|_| {
            let (store, runs) = (Arc::clone(&store), Arc::clone(&runs));
            tokio::spawn(async move {
                let work = async {
                    runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    42
                };
                store.claim("k", 1, work).await
            })
        });
        let mut created = 0;
        for claim in claims {
            match claim.await.expect("joins") {
                Claimed::Created(42) => created += 1,
                Claimed::Existing(42) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(created, 1);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(store.claim("k", 2, async { 0 }).await, Claimed::Conflict);
        assert_eq!(store.update("k", |v| *v += 1), Some(43));
        assert_eq!(store.get("k"), Some(43));
    }
}
