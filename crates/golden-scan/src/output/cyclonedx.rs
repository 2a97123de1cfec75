//! CycloneDX 1.6 JSON SBOM (`sbom.cdx.json`): the image as the metadata component, the OS and
//! every package as components with purl, license and source package; language packages also
//! with their group (Maven), sha1 (Java archives), location (`evidence.occurrences`) and layer.

use std::collections::HashSet;

use golden_contracts::scan::ScanReport;
use serde_json::{Value, json};

pub fn render(report: &ScanReport) -> Value {
    let mut components = Vec::new();
    if let Some(os) = &report.os {
        let mut c = json!({
            "type": "operating-system",
            "bom-ref": format!("os:{}", os.id),
            "name": os.id,
        });
        if !os.version_id.is_empty() {
            c["version"] = json!(os.version_id);
        }
        if !os.pretty_name.is_empty() {
            c["description"] = json!(os.pretty_name);
        }
        components.push(c);
    }
    let mut refs: HashSet<String> = HashSet::new();
    for p in &report.packages {
        let base = p
            .purl
            .clone()
            .unwrap_or_else(|| format!("{}:{}@{}", p.kind, p.name, p.version));
        let mut bom_ref = base.clone();
        let mut n = 1;
        while !refs.insert(bom_ref.clone()) {
            n += 1;
            bom_ref = format!("{base}#{n}");
        }
        let mut c = json!({
            "type": "library",
            "bom-ref": bom_ref,
            "name": p.name,
        });
        if !p.version.is_empty() {
            c["version"] = json!(p.version);
        }
        if let Some(purl) = &p.purl {
            c["purl"] = json!(purl);
        }
        if let Some(g) = maven_group(p.purl.as_deref()) {
            c["group"] = json!(g);
        }
        if let Some(l) = &p.license {
            c["licenses"] = json!([{ "license": { "name": l } }]);
        }
        if let Some(h) = &p.sha1 {
            c["hashes"] = json!([{ "alg": "SHA-1", "content": h }]);
        }
        if let Some(path) = &p.path {
            c["evidence"] = json!({ "occurrences": [{ "location": path }] });
        }
        let mut props = vec![json!({ "name": "golden:package:type", "value": p.kind })];
        if let Some(a) = &p.arch {
            props.push(json!({ "name": "golden:package:arch", "value": a }));
        }
        if let Some(s) = &p.source_name {
            props.push(json!({ "name": "golden:package:source-name", "value": s }));
        }
        if let Some(s) = &p.source_version {
            props.push(json!({ "name": "golden:package:source-version", "value": s }));
        }
        if let Some(l) = &p.layer {
            props.push(json!({ "name": "golden:package:layer", "value": l }));
        }
        c["properties"] = json!(props);
        components.push(c);
    }
    let mut image = json!({
        "type": "container",
        "bom-ref": format!("image:{}", report.image.reference),
        "name": report.image.reference,
    });
    if let Some(id) = &report.image.id {
        image["version"] = json!(id);
    }
    let mut props = Vec::new();
    for t in &report.image.tags {
        props.push(json!({ "name": "golden:image:tag", "value": t }));
    }
    if let Some(d) = &report.image.digest {
        props.push(json!({ "name": "golden:image:digest", "value": d }));
    }
    if !props.is_empty() {
        image["properties"] = json!(props);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": report.scanned_at,
            "tools": { "components": [{
                "type": "application",
                "name": report.tool.name,
                "version": report.tool.version
            }]},
            "component": image
        },
        "components": components
    })
}

/// The namespace of a `pkg:maven/GROUP/NAME@V` purl (percent-decoded).
pub fn maven_group(purl: Option<&str>) -> Option<String> {
    let rest = purl?.strip_prefix("pkg:maven/")?;
    let (group, _) = rest.split_once('/')?;
    (!group.is_empty()).then(|| percent_decode(group))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
