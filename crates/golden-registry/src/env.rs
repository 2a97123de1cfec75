//! Where configuration comes from: the process environment, or a fixed map (tests, callers
//! that resolve settings themselves).

use std::collections::HashMap;
use std::sync::Arc;

/// A view of environment variables. Empty values count as unset.
#[derive(Clone, Debug, Default)]
pub struct Env {
    fixed: Option<Arc<HashMap<String, String>>>,
}

impl Env {
    /// Read the process environment (at the time of each lookup).
    pub fn process() -> Env {
        Env { fixed: None }
    }

    /// A fixed set of variables; nothing else is visible.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            fixed: Some(Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
        }
    }

    /// The value of `name`, or `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        let v = match &self.fixed {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        v.filter(|v| !v.trim().is_empty())
    }

    /// Every variable (name, value), e.g. to pass an allow-listed part to a child process.
    pub fn vars(&self) -> Vec<(String, String)> {
        match &self.fixed {
            Some(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}
