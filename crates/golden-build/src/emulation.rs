//! Foreign architectures: before a build for an architecture that is not this machine's, check
//! that the machine can run its binaries (qemu-user-static registered in binfmt_misc with the
//! fix-binary flag, so containers find the interpreter), and after it, that the image is of
//! that architecture. A missing handler fails at once with a hint, not with `exec format error`
//! ten minutes into the build.

use std::path::{Path, PathBuf};

use golden_contracts::push::Arch;

/// Where binfmt_misc is mounted; `GOLDEN_BINFMT_MISC` overrides it (tests).
pub const BINFMT_MISC: &str = "/proc/sys/fs/binfmt_misc";

#[derive(Debug, thiserror::Error)]
pub enum EmulationError {
    #[error(
        "this machine cannot run {arch} binaries: {reason}; hint: `GOLDEN_ARCHS=\"{arch}\" scripts/setup.sh` installs qemu-user-static and enables it (binfmt_misc), or build {arch} on a native {arch} runner"
    )]
    NoHandler { arch: &'static str, reason: String },
    #[error(
        "the {arch} handler `{path}` is registered without the F (fix-binary) flag: containers cannot find the emulator; hint: register it with the F flag (Debian's qemu-user-static does: `update-binfmts --enable`)"
    )]
    NoFixBinary { arch: &'static str, path: PathBuf },
    #[error(
        "{what} `{reference}` is {found}, not {arch}; hint: build the {arch} {what} first (e.g. `make base-debian ARCHS={arch}`), the engine tags it `<tag>-{arch}`"
    )]
    WrongArch {
        what: &'static str,
        reference: String,
        found: String,
        arch: &'static str,
    },
}

/// The name QEMU's user-mode emulator (and its binfmt handler `qemu-<name>`) has for `arch`.
fn qemu_name(arch: Arch) -> &'static str {
    match arch {
        Arch::Amd64 => "x86_64",
        Arch::Arm64 => "aarch64",
    }
}

/// Check that `arch` binaries run here through binfmt_misc at `dir`: a handler `qemu-<name>`
/// that is enabled and has the F flag.
pub fn check_handler(arch: Arch, dir: &Path) -> Result<(), EmulationError> {
    let path = dir.join(format!("qemu-{}", qemu_name(arch)));
    let no = |reason: String| EmulationError::NoHandler {
        arch: arch.as_str(),
        reason,
    };
    if !dir.join("register").exists() && !dir.join("status").exists() {
        return Err(no(format!(
            "binfmt_misc is not mounted at `{}`",
            dir.display()
        )));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|_| no(format!("no binfmt_misc handler `{}`", path.display())))?;
    if text.lines().next().map(str::trim) != Some("enabled") {
        return Err(no(format!("the handler `{}` is disabled", path.display())));
    }
    let fix_binary = text
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .is_some_and(|f| f.contains('F'));
    if !fix_binary {
        return Err(EmulationError::NoFixBinary {
            arch: arch.as_str(),
            path,
        });
    }
    Ok(())
}

/// The check for a build on the engine at `engine_host`: only a local engine (a unix socket)
/// runs on this machine; a remote engine's emulation cannot be seen from here (`None`: not
/// checked, say so).
pub fn check_for_engine(arch: Arch, engine_host: &str) -> Option<Result<(), EmulationError>> {
    let local = engine_host.is_empty() || engine_host.starts_with("unix://");
    local.then(|| {
        let dir = std::env::var_os("GOLDEN_BINFMT_MISC")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(BINFMT_MISC));
        check_handler(arch, &dir)
    })
}

/// Check that an image's architecture (`os`/`architecture` of its config) is `arch`.
pub fn check_image_arch(
    what: &'static str,
    reference: &str,
    found: Option<&str>,
    arch: Arch,
) -> Result<(), EmulationError> {
    let found = found.unwrap_or("of no stated architecture");
    match Arch::parse(found) {
        Ok(a) if a == arch => Ok(()),
        _ => Err(EmulationError::WrongArch {
            what,
            reference: reference.to_string(),
            found: found.to_string(),
            arch: arch.as_str(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binfmt(handlers: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("status"), "enabled\n").expect("write status");
        for (name, text) in handlers {
            std::fs::write(d.path().join(name), text).expect("write handler");
        }
        d
    }

    const AARCH64: &str = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\nmagic 7f454c46\n";

    #[test]
    fn an_enabled_fix_binary_handler_passes() {
        let d = binfmt(&[("qemu-aarch64", AARCH64)]);
        check_handler(Arch::Arm64, d.path()).unwrap();
    }

    #[test]
    fn a_missing_handler_names_the_file_and_the_setup_hint() {
        let d = binfmt(&[]);
        let e = check_handler(Arch::Arm64, d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot run arm64 binaries"), "{e}");
        assert!(e.contains("qemu-aarch64"), "{e}");
        assert!(e.contains("GOLDEN_ARCHS=\"arm64\" scripts/setup.sh"), "{e}");
    }

    #[test]
    fn a_disabled_handler_or_one_without_f_is_refused() {
        let d = binfmt(&[("qemu-aarch64", &AARCH64.replace("enabled", "disabled"))]);
        let e = check_handler(Arch::Arm64, d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("is disabled"), "{e}");
        let d = binfmt(&[("qemu-aarch64", &AARCH64.replace("flags: PF", "flags: P"))]);
        let e = check_handler(Arch::Arm64, d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("without the F (fix-binary) flag"), "{e}");
    }

    #[test]
    fn an_unmounted_binfmt_misc_is_named() {
        let d = tempfile::tempdir().unwrap();
        let e = check_handler(Arch::Arm64, d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("binfmt_misc is not mounted"), "{e}");
    }

    #[test]
    fn a_remote_engine_is_not_checked_from_here() {
        assert!(check_for_engine(Arch::Arm64, "tcp://10.0.0.1:2376").is_none());
        assert!(check_for_engine(Arch::Arm64, "unix:///var/run/docker.sock").is_some());
    }

    #[test]
    fn image_architecture_must_match() {
        check_image_arch("base image", "b:1", Some("arm64"), Arch::Arm64).unwrap();
        check_image_arch("base image", "b:1", Some("aarch64"), Arch::Arm64).unwrap();
        let e = check_image_arch("base image", "b:1-arm64", Some("amd64"), Arch::Arm64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`b:1-arm64` is amd64, not arm64"), "{e}");
        assert!(e.contains("make base-debian ARCHS=arm64"), "{e}");
        let e = check_image_arch("image", "x", None, Arch::Amd64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("of no stated architecture"), "{e}");
    }
}
