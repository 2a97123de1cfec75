//! CycloneDX 1.5 JSON SBOM (`sbom.cdx.json`): the image as the metadata component, the OS and
//! every package as components with purl, license and source package.

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
        if let Some(l) = &p.license {
            c["licenses"] = json!([{ "license": { "name": l } }]);
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
        "specVersion": "1.5",
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
