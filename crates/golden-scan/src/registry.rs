//! Registry source (`registry:REF`): placeholder until golden-registry lands.

use crate::archive::Image;
use crate::error::ScanError;

pub async fn analyze(reference: &str) -> Result<(Image, String), ScanError> {
    Err(ScanError::Registry(format!(
        "cannot scan `{reference}` from a registry: the registry source is not built yet"
    )))
}
