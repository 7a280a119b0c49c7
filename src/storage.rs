//! The door to localStorage: the client's cache and outbox. Never throws: when storage is disabled, blocked
//! (private mode, a sandboxed frame) or full, it falls back to memory for this page, silently.
//!
//! Keys: `storefront-loyalty:1:<cache key>:program` (entity tag, a newline, the program's JSON),
//! `...:shopper:<customer id>` (the shopper state's JSON), `...:outbox:<customer id>:<key>` (one pending write
//! each, so that two tabs never overwrite each other's).
//! The `1` is the schema version: a widget that changes the format bumps it and never reads older entries.

use std::cell::RefCell;

const PREFIX: &str = "storefront-loyalty:1:";

pub(crate) struct Storage {
    local: Option<web_sys::Storage>,
    /// Entries that could not be written to localStorage (or all of them, without it).
    memory: RefCell<Vec<(String, String)>>,
    scope: String,
}

impl Storage {
    /// Storage for one shop (`scope` is the cache key: the API base or the configured one).
    pub(crate) fn new(scope: &str, use_local: bool) -> Storage {
        // `window.localStorage` itself throws where storage is blocked.
        let local =
            if use_local { web_sys::window().and_then(|w| w.local_storage().ok().flatten()) } else { None };
        Storage { local, memory: RefCell::default(), scope: scope.to_owned() }
    }

    fn key(&self, name: &str, customer: Option<&str>) -> String {
        match customer {
            Some(customer) => format!("{PREFIX}{}:{name}:{customer}", self.scope),
            None => format!("{PREFIX}{}:{name}", self.scope),
        }
    }

    pub(crate) fn get(&self, name: &str, customer: Option<&str>) -> Option<String> {
        let key = self.key(name, customer);
        if let Some((_, value)) = self.memory.borrow().iter().find(|(k, _)| *k == key) {
            return Some(value.clone());
        }
        self.local.as_ref().and_then(|s| s.get_item(&key).ok().flatten())
    }

    pub(crate) fn set(&self, name: &str, customer: Option<&str>, value: &str) {
        let key = self.key(name, customer);
        let stored = self.local.as_ref().is_some_and(|s| s.set_item(&key, value).is_ok());
        let mut memory = self.memory.borrow_mut();
        memory.retain(|(k, _)| *k != key);
        if !stored {
            // Quota exceeded or no storage: keep it for this page. An older copy in localStorage must not
            // come back on the next page as if current, so it goes.
            if let Some(local) = &self.local {
                let _ = local.remove_item(&key);
            }
            memory.push((key, value.to_owned()));
        }
    }

    /// Every value whose key starts with `name`'s key for `customer` (one entry per item, such as writes).
    pub(crate) fn list(&self, name: &str, customer: &str) -> Vec<String> {
        let prefix = self.key(name, Some(customer));
        let mut values: Vec<String> = self
            .memory
            .borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
            .collect();
        if let Some(local) = &self.local {
            for key in self.local_keys(local).iter().filter(|k| k.starts_with(&prefix)) {
                if let Ok(Some(value)) = local.get_item(key) {
                    values.push(value);
                }
            }
        }
        values
    }

    /// Every key in localStorage, read before any is removed (removing shifts the indexes).
    fn local_keys(&self, local: &web_sys::Storage) -> Vec<String> {
        (0..local.length().unwrap_or(0)).filter_map(|i| local.key(i).ok().flatten()).collect()
    }

    /// Removes every `name` entry (per customer, such as `shopper` or `outbox`) for which `keep(rest, value)`
    /// is false, `rest` being the key after `name:` (the customer id, and for the outbox `:<key>`).
    pub(crate) fn retain(&self, name: &str, keep: &dyn Fn(&str, &str) -> bool) {
        let prefix = format!("{PREFIX}{}:{name}:", self.scope);
        self.memory.borrow_mut().retain(|(k, v)| k.strip_prefix(&prefix).is_none_or(|rest| keep(rest, v)));
        if let Some(local) = &self.local {
            for key in &self.local_keys(local) {
                let Some(rest) = key.strip_prefix(&prefix) else { continue };
                let value = local.get_item(key).ok().flatten().unwrap_or_default();
                if !keep(rest, &value) {
                    let _ = local.remove_item(key);
                }
            }
        }
    }

    pub(crate) fn remove(&self, name: &str, customer: Option<&str>) {
        let key = self.key(name, customer);
        self.memory.borrow_mut().retain(|(k, _)| *k != key);
        if let Some(local) = &self.local {
            let _ = local.remove_item(&key);
        }
    }
}
