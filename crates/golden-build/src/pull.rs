//! `--pull` when golden-build resolved the base: the engine's own `pull` parameter cannot be used
//! then, because `BASE_IMAGE` holds the base's image id (`sha256:...`), which the classic builder
//! would try to pull from Docker Hub (and fail). Instead golden-build pulls itself:
//!
//! - the base: re-pulled from its registry unless it is rebuilt in this run (`base_in_plan`:
//!   the run's own build, never the published one) or names no registry (an engine image);
//! - every other `FROM` image of the Dockerfile (a build stage on `maven:3`, say): pulled like
//!   `docker build --pull` would, with the credentials of its registry. Stage names, `scratch`
//!   and images named through a build argument (`${BASE_IMAGE}`) are skipped.
//!
//! Without a resolved base the engine's `pull` parameter is used as it is.

use crate::base::{self, BaseError, BaseOptions};

/// The `FROM` images of a Dockerfile that golden-build should pull for `--pull`: not `scratch`,
/// not an earlier stage, not built from a variable. In order, without duplicates.
pub fn from_images(dockerfile: &str) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut images: Vec<String> = Vec::new();
    for line in dockerfile.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            continue;
        }
        let mut rest = words.skip_while(|w| w.starts_with("--"));
        let Some(image) = rest.next() else { continue };
        let lower = image.to_ascii_lowercase();
        let skip = lower == "scratch"
            || image.contains('$')
            || stages.contains(&lower)
            || images.iter().any(|i| i == image);
        if !skip {
            images.push(image.to_string());
        }
        if let (Some(as_), Some(name)) = (rest.next(), rest.next())
            && as_.eq_ignore_ascii_case("AS")
        {
            stages.push(name.to_ascii_lowercase());
        }
    }
    images
}

/// Pull the Dockerfile's other `FROM` images (see the module notes). An image that cannot be
/// pulled fails the build, as with `docker build --pull`.
pub async fn pull_from_images(
    engine: &golden_engine::Engine,
    dockerfile: &str,
    opts: &BaseOptions,
) -> Result<(), BaseError> {
    for image in from_images(dockerfile) {
        let parsed = match golden_oci::Reference::parse(&image) {
            Ok(p) if !base::looks_like_id(&image) => p,
            _ => continue,
        };
        base::pull(engine, &image, &parsed, opts, "FROM image (--pull)").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_images_skip_stages_scratch_and_variables() {
        let df = "ARG BASE_IMAGE\n\
                  FROM ${BASE_IMAGE} AS base\n\
                  FROM --platform=linux/amd64 maven:3 AS build\n\
                  RUN mvn package\n\
                  from scratch\n\
                  FROM build AS again\n\
                  FROM Base\n\
                  FROM registry.example/x/y:1\n\
                  FROM maven:3\n";
        assert_eq!(from_images(df), ["maven:3", "registry.example/x/y:1"]);
        assert!(from_images("FROM ${BASE_IMAGE}\nRUN x\n").is_empty());
        assert!(from_images("RUN echo FROM x\n").is_empty());
    }
}
