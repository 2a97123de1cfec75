//! .NET: `*.deps.json` (the runtime's and each app's) list their libraries as
//! `"Name/Version": { "type": "package" | "project" | ... }`.

use super::{Ecosystem, LangComponent};
use crate::inventory::purl;

pub fn is_deps_json(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.len() > ".deps.json".len() && base.ends_with(".deps.json")
}

/// The libraries of a deps.json; a file that is not one gives a warning naming it.
pub fn parse(path: &str, bytes: &[u8], warnings: &mut Vec<String>) -> Vec<LangComponent> {
    let doc: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!(
                "`/{path}`: not valid JSON ({e}); its .NET libraries are not listed"
            ));
            return Vec::new();
        }
    };
    let Some(libs) = doc.get("libraries").and_then(|l| l.as_object()) else {
        warnings.push(format!(
            "`/{path}`: no `libraries` object; its .NET libraries are not listed"
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in libs.keys() {
        let Some((name, version)) = key.rsplit_once('/') else {
            warnings.push(format!(
                "`/{path}`: library key `{key}` is not `Name/Version`; skipped"
            ));
            continue;
        };
        out.push(LangComponent {
            ecosystem: Ecosystem::Nuget,
            group: None,
            purl: purl::purl("nuget", "", name, version, &[]),
            name: name.to_string(),
            version: version.to_string(),
            license: None,
            sha1: None,
            file: path.to_string(),
            location: path.to_string(),
            layer: String::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries() {
        let mut w = Vec::new();
        let doc = br#"{"runtimeTarget":{"name":".NETCoreApp,Version=v8.0"},
            "libraries":{"App/1.0.0":{"type":"project"},
                         "Newtonsoft.Json/13.0.3":{"type":"package","sha512":"x"},
                         "odd":{}}}"#;
        let c = parse("app/App.deps.json", doc, &mut w);
        let got: Vec<_> = c.iter().map(|c| c.purl.as_str()).collect();
        assert_eq!(
            got,
            ["pkg:nuget/App@1.0.0", "pkg:nuget/Newtonsoft.Json@13.0.3"]
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(parse("a.deps.json", b"{", &mut w).is_empty());
        assert!(w[1].contains("a.deps.json"));
        assert!(is_deps_json(
            "usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json"
        ));
        assert!(!is_deps_json("x/.deps.json"));
    }
}
