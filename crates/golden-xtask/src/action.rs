//! The metadata of a composite action (`action.yml`), read with serde-saphyr.
//!
//! Only what the docs generator and the runner need is modelled; unknown keys are kept out of
//! the way (GitHub itself accepts a few we do not use, like `branding`). Maps keep the order of
//! the file so generated tables list inputs in the order the author wrote them.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// Errors reading an `action.yml`.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse `{path}`: {message}")]
    Parse { path: PathBuf, message: String },
}

/// A map that keeps the order of the YAML mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OrderedMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, V)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<Scalar, V>()? {
                    if out.iter().any(|(e, _)| *e == k.0) {
                        return Err(de::Error::custom(format!("duplicate key `{}`", k.0)));
                    }
                    out.push((k.0, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

/// A YAML scalar read as the string GitHub sees (`true`, `3`, `text`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SV;
        impl Visitor<'_> for SV {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(SV)
    }
}

fn opt_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Scalar>::deserialize(d).map(|o| o.map(|s| s.0))
}

fn scalar_map<'de, D: Deserializer<'de>>(d: D) -> Result<OrderedMap<String>, D::Error> {
    let m = Option::<OrderedMap<Scalar>>::deserialize(d)?.unwrap_or_default();
    Ok(OrderedMap(m.0.into_iter().map(|(k, v)| (k, v.0)).collect()))
}

/// `action.yml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub inputs: OrderedMap<Input>,
    #[serde(default)]
    pub outputs: OrderedMap<Output>,
    pub runs: Runs,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Input {
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub required: Option<String>,
    /// `None` when the key is absent; `Some("")` for `default: ''`.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub default: Option<String>,
    #[serde(default, rename = "deprecationMessage")]
    pub deprecation_message: Option<String>,
}

impl Input {
    pub fn is_required(&self) -> bool {
        self.required
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("true"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Output {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Runs {
    pub using: String,
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One step of a composite action.
#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "if", deserialize_with = "opt_scalar")]
    pub condition: Option<String>,
    #[serde(default)]
    pub run: Option<String>,
    #[serde(default)]
    pub shell: Option<String>,
    #[serde(default)]
    pub uses: Option<String>,
    #[serde(default, deserialize_with = "scalar_map")]
    pub with: OrderedMap<String>,
    #[serde(default, deserialize_with = "scalar_map")]
    pub env: OrderedMap<String>,
    #[serde(default, rename = "working-directory")]
    pub working_directory: Option<String>,
    #[serde(default, rename = "continue-on-error", deserialize_with = "opt_scalar")]
    pub continue_on_error: Option<String>,
}

impl Step {
    /// How the step is named in messages: its id, else its name, else its position.
    pub fn label(&self, index: usize) -> String {
        self.id
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| format!("step {}", index + 1))
    }
}

impl Action {
    pub fn parse(path: &Path, text: &str) -> Result<Self, ActionError> {
        serde_saphyr::from_str(text).map_err(|e| ActionError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn load(path: &Path) -> Result<Self, ActionError> {
        let text = std::fs::read_to_string(path).map_err(|source| ActionError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }
}

/// Every `actions/<name>/action.yml` under `root`, sorted by name.
pub fn discover(root: &Path) -> Result<Vec<(String, PathBuf)>, ActionError> {
    let dir = root.join("actions");
    let rd = std::fs::read_dir(&dir).map_err(|source| ActionError::Read {
        path: dir.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|source| ActionError::Read {
            path: dir.clone(),
            source,
        })?;
        let file = e.path().join("action.yml");
        if file.is_file() {
            out.push((e.file_name().to_string_lossy().into_owned(), file));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reads_scalars_as_strings() {
        let text = r#"
name: t
description: d
inputs:
  zeta: { description: z, default: false }
  alpha: { description: a, required: true, default: 3 }
  mid: { description: m, default: '' }
  none: { description: n }
outputs:
  out: { description: o, value: "${{ steps.x.outputs.y }}" }
runs:
  using: composite
  steps:
    - id: x
      shell: bash
      if: inputs.zeta == 'true'
      env: { A: 1, B: yes-ish, C: true }
      run: echo hi
      continue-on-error: true
"#;
        let a = Action::parse(Path::new("a.yml"), text).unwrap();
        assert_eq!(
            a.inputs.keys().collect::<Vec<_>>(),
            ["zeta", "alpha", "mid", "none"]
        );
        assert_eq!(
            a.inputs.get("zeta").unwrap().default.as_deref(),
            Some("false")
        );
        assert_eq!(a.inputs.get("alpha").unwrap().default.as_deref(), Some("3"));
        assert!(a.inputs.get("alpha").unwrap().is_required());
        assert_eq!(a.inputs.get("mid").unwrap().default.as_deref(), Some(""));
        assert_eq!(a.inputs.get("none").unwrap().default, None);
        let s = &a.runs.steps[0];
        assert_eq!(s.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(s.env.get("C").map(String::as_str), Some("true"));
        assert_eq!(s.condition.as_deref(), Some("inputs.zeta == 'true'"));
        assert_eq!(s.continue_on_error.as_deref(), Some("true"));
    }

    #[test]
    fn duplicate_and_bad_yaml_are_errors_naming_the_file() {
        let e = Action::parse(Path::new("x/action.yml"), "name: a\nruns: [").unwrap_err();
        assert!(e.to_string().contains("x/action.yml"), "{e}");
        let e = Action::parse(
            Path::new("y.yml"),
            "name: a\ninputs:\n  a: {description: x}\n  a: {description: y}\nruns: {using: composite}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("y.yml"), "{e}");
    }
}
