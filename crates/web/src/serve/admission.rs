//! Caps on what one server holds open (X7): connections in total and per
//! client address, live streams in total and per member. A place is taken
//! by a ticket and given back when the ticket is dropped.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a place was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Every place of the server is taken.
    Total(usize),
    /// Every place of this address (or member) is taken.
    Each(usize),
}

/// Places counted in total and per key (a client address, a member).
pub struct Places<K: Eq + Hash + Copy> {
    total: usize,
    each: usize,
    held: Mutex<(usize, HashMap<K, usize>)>,
}

impl<K: Eq + Hash + Copy> Places<K> {
    /// At most `total` places, `each` per key (0: no limit).
    pub fn new(total: usize, each: usize) -> Arc<Self> {
        Arc::new(Places {
            total,
            each,
            held: Mutex::new((0, HashMap::new())),
        })
    }

    /// Takes a place for `key`, or says which cap is reached.
    pub fn take(self: &Arc<Self>, key: K) -> Result<Ticket<K>, Full> {
        let mut g = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let (all, per) = &mut *g;
        if self.total > 0 && *all >= self.total {
            return Err(Full::Total(self.total));
        }
        let mine = per.entry(key).or_insert(0);
        if self.each > 0 && *mine >= self.each {
            return Err(Full::Each(self.each));
        }
        *mine += 1;
        *all += 1;
        Ok(Ticket {
            places: Arc::clone(self),
            key,
        })
    }

    /// Places held now.
    pub fn held(&self) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).0
    }
}

/// A place held; dropping it gives the place back.
pub struct Ticket<K: Eq + Hash + Copy> {
    places: Arc<Places<K>>,
    key: K,
}

impl<K: Eq + Hash + Copy> Drop for Ticket<K> {
    fn drop(&mut self) {
        let mut g = self
            .places
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (all, per) = &mut *g;
        *all = all.saturating_sub(1);
        if let Some(n) = per.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_in_total_and_per_key_and_given_back() {
        let p = Places::<u8>::new(3, 2);
        let a1 = p.take(1).unwrap();
        let _a2 = p.take(1).unwrap();
        assert_eq!(p.take(1).err(), Some(Full::Each(2)));
        let _b1 = p.take(2).unwrap();
        assert_eq!(p.take(3).err(), Some(Full::Total(3)));
        assert_eq!(p.held(), 3);
        drop(a1);
        assert_eq!(p.held(), 2);
        let _a3 = p.take(1).unwrap();
        let unlimited = Places::<u8>::new(0, 0);
        let many: Vec<_> = (0..100).map(|_| unlimited.take(1).unwrap()).collect();
        assert_eq!(unlimited.held(), 100);
        drop(many);
        assert_eq!(unlimited.held(), 0);
        assert!(unlimited.held.lock().unwrap().1.is_empty(), "keys go");
    }
}
