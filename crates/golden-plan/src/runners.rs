//! `golden-plan runners`: the `runners` input of golden-images.yml (which runner each job runs
//! on), checked and normalized.
//!
//! The input is a JSON object with the keys `amd64`, `arm64` (the per-architecture jobs: setup,
//! bases, platforms) and `default` (the jobs that are not per architecture: plan, trivy db,
//! merge, report). Each value is what `runs-on` accepts: a label (`"ubuntu-24.04"`), a non-empty
//! list of labels (`["self-hosted","linux","x64"]`) or a runner group (`{"group":"large",
//! "labels":["ubuntu-24.04-16core"]}`, `labels` optional, a label or a list). Empty input = `{}`.
//!
//! The normalized mapping always has all three keys: a missing `amd64`/`arm64` is today's
//! GitHub-hosted label of that architecture (`ubuntu-24.04`, `ubuntu-24.04-arm`); a missing
//! `default` is the slot of the run's first architecture (the jobs on it use that
//! architecture's binaries), so `{"amd64":"my-runner"}` routes every job of an amd64 run.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::cli::RunnersArgs;

/// The keys of the mapping.
pub const SLOTS: [&str; 3] = ["amd64", "arm64", "default"];

/// The label of each architecture when the mapping does not name one (GitHub-hosted runners).
pub fn hosted_label(arch: &str) -> &'static str {
    match arch {
        "arm64" => "ubuntu-24.04-arm",
        _ => "ubuntu-24.04",
    }
}

/// A valid example, shown in every error's hint.
pub const EXAMPLE: &str = r#"{"default": "ubuntu-24.04", "amd64": ["self-hosted", "linux", "x64"], "arm64": {"group": "arm-runners", "labels": ["linux"]}}"#;

/// Why the mapping was refused. Every message names the input (and the key, when one is at
/// fault) and ends with a hint showing a valid mapping.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunnersError {
    #[error(
        "input `runners` is not JSON ({reason})\n  hint: pass a JSON object, for example {EXAMPLE}; leave it empty for the GitHub-hosted runners"
    )]
    NotJson { reason: String },
    #[error(
        "input `runners` must be a JSON object, got {found}\n  hint: for example {EXAMPLE}; leave it empty for the GitHub-hosted runners"
    )]
    NotObject { found: &'static str },
    #[error(
        "input `runners` has an unknown key `{key}` (known: amd64, arm64, default)\n  hint: for example {EXAMPLE}"
    )]
    UnknownKey { key: String },
    #[error(
        "input `runners`, key `{key}`: {problem}\n  hint: a value is a label (\"ubuntu-24.04\"), a non-empty list of labels ([\"self-hosted\", \"linux\"]) or a runner group ({{\"group\": \"name\", \"labels\": [\"linux\"]}}); for example {EXAMPLE}"
    )]
    BadValue { key: String, problem: String },
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A label as `runs-on` takes it: not empty, no line breaks or control characters, no
/// surrounding blanks (GitHub would look for a label with them).
fn label(key: &str, what: &str, v: &Value) -> Result<String, RunnersError> {
    let bad = |problem: String| RunnersError::BadValue {
        key: key.to_string(),
        problem,
    };
    let Value::String(s) = v else {
        return Err(bad(format!("{what} must be a string, got {}", kind(v))));
    };
    if s.is_empty() {
        return Err(bad(format!("{what} is empty")));
    }
    if s.trim() != s {
        return Err(bad(format!(
            "{what} `{}` has leading or trailing blanks",
            s.escape_debug()
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(bad(format!(
            "{what} `{}` has a control character",
            s.escape_debug()
        )));
    }
    Ok(s.clone())
}

fn labels(key: &str, what: &str, v: &Value) -> Result<Value, RunnersError> {
    match v {
        Value::String(_) => Ok(Value::String(label(key, what, v)?)),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(RunnersError::BadValue {
                    key: key.to_string(),
                    problem: format!("{what} is an empty list"),
                });
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(Value::String(label(key, &format!("{what}[{i}]"), item)?));
            }
            Ok(Value::Array(out))
        }
        other => Err(RunnersError::BadValue {
            key: key.to_string(),
            problem: format!(
                "{what} must be a label or a list of labels, got {}",
                kind(other)
            ),
        }),
    }
}

/// One slot's value, checked; returned as `runs-on` takes it.
fn slot(key: &str, v: &Value) -> Result<Value, RunnersError> {
    match v {
        Value::String(_) | Value::Array(_) => labels(key, "the value", v),
        Value::Object(o) => {
            for k in o.keys() {
                if k != "group" && k != "labels" {
                    return Err(RunnersError::BadValue {
                        key: key.to_string(),
                        problem: format!(
                            "a runner group takes `group` and `labels` only, not `{}`",
                            k.escape_debug()
                        ),
                    });
                }
            }
            let Some(g) = o.get("group") else {
                return Err(RunnersError::BadValue {
                    key: key.to_string(),
                    problem: "a runner group needs `group` (its name)".into(),
                });
            };
            let mut out = Map::new();
            out.insert("group".into(), Value::String(label(key, "`group`", g)?));
            if let Some(l) = o.get("labels") {
                out.insert("labels".into(), labels(key, "`labels`", l)?);
            }
            Ok(Value::Object(out))
        }
        other => Err(RunnersError::BadValue {
            key: key.to_string(),
            problem: format!(
                "must be a label, a non-empty list of labels or a runner group, got {}",
                kind(other)
            ),
        }),
    }
}

/// Check `input` and return the complete mapping (every slot filled, see the module doc).
/// `first_arch` is the run's first architecture (whose binaries the `default` jobs use).
pub fn normalize(input: &str, first_arch: &str) -> Result<BTreeMap<String, Value>, RunnersError> {
    let text = input.trim();
    let given: Map<String, Value> = if text.is_empty() {
        Map::new()
    } else {
        let v: Value = serde_json::from_str(text).map_err(|e| RunnersError::NotJson {
            reason: e.to_string(),
        })?;
        match v {
            Value::Object(o) => o,
            other => {
                return Err(RunnersError::NotObject {
                    found: kind(&other),
                });
            }
        }
    };
    if let Some(k) = given.keys().find(|k| !SLOTS.contains(&k.as_str())) {
        return Err(RunnersError::UnknownKey {
            key: k.escape_debug().to_string(),
        });
    }
    let mut out = BTreeMap::new();
    for arch in ["amd64", "arm64"] {
        let v = match given.get(arch) {
            Some(v) => slot(arch, v)?,
            None => Value::String(hosted_label(arch).into()),
        };
        out.insert(arch.to_string(), v);
    }
    let default = match given.get("default") {
        Some(v) => slot("default", v)?,
        None => out
            .get(first_arch)
            .cloned()
            .unwrap_or_else(|| Value::String(hosted_label(first_arch).into())),
    };
    out.insert("default".into(), default);
    Ok(out)
}

/// `golden-plan runners`: print the normalized mapping (compact JSON) and set the step output
/// `runners`; exit 2 with an error annotation naming the input and the key otherwise.
pub fn run(args: &RunnersArgs) -> anyhow::Result<u8> {
    let archs = crate::parse_architectures(&args.architectures)?;
    let first = archs.first().map_or("amd64", String::as_str);
    let map = match normalize(&args.runners, first) {
        Ok(m) => m,
        Err(e) => {
            let msg = e.to_string();
            golden_gha::annotate(
                golden_gha::Level::Error,
                &golden_gha::Annotation {
                    title: Some("golden-plan runners"),
                    ..Default::default()
                },
                &msg,
            );
            if golden_gha::in_actions() {
                // The annotation holds the message; the log gets it readable too.
                eprintln!("{}", golden_gha::neutralize(&format!("error: {msg}")));
            }
            return Ok(golden_gha::scaffold::ERROR);
        }
    };
    let json = serde_json::to_string(&map)?;
    for (k, v) in &map {
        eprintln!(
            "{}",
            golden_gha::neutralize(&format!("runners: {k} jobs run on {v}"))
        );
    }
    println!("{json}");
    let mut o = golden_gha::Outputs::new();
    o.set("runners", json);
    o.write()
        .map_err(|e| anyhow::anyhow!("failed to write the step outputs: {e}"))?;
    Ok(golden_gha::scaffold::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(input: &str, first: &str) -> Value {
        serde_json::to_value(normalize(input, first).unwrap()).unwrap()
    }

    fn err(input: &str) -> String {
        let e = normalize(input, "amd64").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("input `runners`"), "{s}");
        assert!(s.contains("hint:"), "{s}");
        assert!(s.contains(EXAMPLE), "{s}");
        s
    }

    #[test]
    fn empty_input_is_todays_labels() {
        let want = json!({"amd64": "ubuntu-24.04", "arm64": "ubuntu-24.04-arm", "default": "ubuntu-24.04"});
        assert_eq!(ok("", "amd64"), want);
        assert_eq!(ok("  \n", "amd64"), want);
        assert_eq!(ok("{}", "amd64"), want);
        assert_eq!(
            ok("{}", "arm64"),
            json!({"amd64": "ubuntu-24.04", "arm64": "ubuntu-24.04-arm", "default": "ubuntu-24.04-arm"})
        );
    }

    #[test]
    fn default_falls_back_to_the_first_architectures_slot() {
        assert_eq!(
            ok(r#"{"amd64": "fast-x64"}"#, "amd64"),
            json!({"amd64": "fast-x64", "arm64": "ubuntu-24.04-arm", "default": "fast-x64"})
        );
        assert_eq!(
            ok(r#"{"amd64": "fast-x64"}"#, "arm64")["default"],
            json!("ubuntu-24.04-arm")
        );
        assert_eq!(
            ok(r#"{"arm64": ["self-hosted", "arm64"]}"#, "arm64")["default"],
            json!(["self-hosted", "arm64"])
        );
    }

    #[test]
    fn every_shape_runs_on_takes_is_kept() {
        let got = ok(
            r#"{"default": "golden-custom-default", "amd64": ["self-hosted", "linux", "x64"],
                "arm64": {"group": "arm-runners", "labels": ["linux", "arm64"]}}"#,
            "amd64",
        );
        assert_eq!(
            got,
            json!({"default": "golden-custom-default", "amd64": ["self-hosted", "linux", "x64"],
                   "arm64": {"group": "arm-runners", "labels": ["linux", "arm64"]}})
        );
        assert_eq!(
            ok(r#"{"default": {"group": "g"}}"#, "amd64")["default"],
            json!({"group": "g"})
        );
        assert_eq!(
            ok(r#"{"default": {"group": "g", "labels": "big"}}"#, "amd64")["default"],
            json!({"group": "g", "labels": "big"})
        );
        // The example of the hint is valid.
        assert!(normalize(EXAMPLE, "amd64").is_ok());
    }

    #[test]
    fn not_json_is_refused() {
        let s = err("{amd64: ubuntu-24.04}");
        assert!(s.contains("is not JSON"), "{s}");
        let s = err("ubuntu-24.04");
        assert!(s.contains("is not JSON"), "{s}");
    }

    #[test]
    fn not_an_object_is_refused() {
        for (input, found) in [
            (r#"["ubuntu-24.04"]"#, "a list"),
            (r#""ubuntu-24.04""#, "a string"),
            ("null", "null"),
            ("3", "a number"),
            ("true", "a boolean"),
        ] {
            let s = err(input);
            assert!(
                s.contains(&format!("must be a JSON object, got {found}")),
                "{input}: {s}"
            );
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let s = err(r#"{"amd64": "a", "x86_64": "b"}"#);
        assert!(s.contains("unknown key `x86_64`"), "{s}");
        let s = err(r#"{"Default": "a"}"#);
        assert!(s.contains("unknown key `Default`"), "{s}");
    }

    #[test]
    fn bad_values_name_the_key_and_the_problem() {
        for (input, key, problem) in [
            (r#"{"amd64": 5}"#, "amd64", "got a number"),
            (r#"{"arm64": null}"#, "arm64", "got null"),
            (r#"{"default": true}"#, "default", "got a boolean"),
            (r#"{"amd64": ""}"#, "amd64", "the value is empty"),
            (r#"{"amd64": " x"}"#, "amd64", "leading or trailing blanks"),
            (r#"{"amd64": "a\nb"}"#, "amd64", "control character"),
            (r#"{"amd64": []}"#, "amd64", "the value is an empty list"),
            (
                r#"{"amd64": ["a", 1]}"#,
                "amd64",
                "the value[1] must be a string, got a number",
            ),
            (r#"{"amd64": ["a", ""]}"#, "amd64", "the value[1] is empty"),
            (
                r#"{"amd64": [["a"]]}"#,
                "amd64",
                "the value[0] must be a string, got a list",
            ),
            (r#"{"default": {}}"#, "default", "needs `group`"),
            (
                r#"{"default": {"labels": ["a"]}}"#,
                "default",
                "needs `group`",
            ),
            (
                r#"{"default": {"group": 1}}"#,
                "default",
                "`group` must be a string, got a number",
            ),
            (
                r#"{"default": {"group": ""}}"#,
                "default",
                "`group` is empty",
            ),
            (
                r#"{"default": {"group": "g", "labels": []}}"#,
                "default",
                "`labels` is an empty list",
            ),
            (
                r#"{"default": {"group": "g", "labels": [2]}}"#,
                "default",
                "`labels`[0] must be a string",
            ),
            (
                r#"{"default": {"group": "g", "labels": {}}}"#,
                "default",
                "`labels` must be a label or a list of labels, got an object",
            ),
            (
                r#"{"default": {"group": "g", "label": "x"}}"#,
                "default",
                "takes `group` and `labels` only, not `label`",
            ),
        ] {
            let s = err(input);
            assert!(s.contains(&format!("key `{key}`")), "{input}: {s}");
            assert!(s.contains(problem), "{input}: want `{problem}` in {s}");
        }
    }
}
