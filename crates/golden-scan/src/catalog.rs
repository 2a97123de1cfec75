//! The compliance check catalogue: every check's id, title, CIS and Dockle references and
//! remediation, declared once.
//!
//! The `catalog!` table below is the single source: it gives the id constants
//! ([`USER`], [`HEALTHCHECK`], ...), [`ALL_IDS`] in report order and [`DEFS`]. The checks
//! ([`crate::checks`]) and the policy ([`crate::policy`], which validates check ids) both read
//! this module; neither depends on the other.

/// Static description of a check.
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    pub cis: Option<&'static str>,
    pub dockle: Option<&'static str>,
    pub remediation: &'static str,
}

/// Declares the catalogue: for each entry an id constant (documented by its title), then
/// [`ALL_IDS`] and [`DEFS`] in the order of the entries (the report order).
macro_rules! catalog {
    ($(
        $name:ident = $id:literal {
            title: $title:literal,
            cis: $cis:expr,
            dockle: $dockle:expr,
            remediation: $remediation:literal $(,)?
        }
    ),* $(,)?) => {
        $(
            #[doc = $title]
            pub const $name: &str = $id;
        )*

        /// Every check id, in report order.
        pub const ALL_IDS: [&str; [$($name),*].len()] = [$($name),*];

        pub const DEFS: [CheckDef; ALL_IDS.len()] = [$(
            CheckDef {
                id: $name,
                title: $title,
                cis: $cis,
                dockle: $dockle,
                remediation: $remediation,
            }
        ),*];
    };
}

catalog! {
    USER = "GOLDEN-USER-001" {
        title: "Image runs as a non-root user",
        cis: Some("4.1"),
        dockle: Some("CIS-DI-0001"),
        remediation: "create a user (useradd/adduser) and end the Dockerfile with a numeric `USER 10001`",
    },
    HEALTHCHECK = "GOLDEN-HEALTHCHECK-001" {
        title: "HEALTHCHECK instruction is present",
        cis: Some("4.6"),
        dockle: Some("CIS-DI-0006"),
        remediation: "add `HEALTHCHECK CMD ...` that probes the service with the image's own tools",
    },
    UPDATE = "GOLDEN-UPDATE-001" {
        title: "Update instructions are not used alone",
        cis: Some("4.7"),
        dockle: Some("CIS-DI-0007"),
        remediation: "combine `apt-get update`/`apk update`/`dnf makecache` with the install in the same RUN",
    },
    SETUID = "GOLDEN-SETUID-001" {
        title: "No setuid/setgid files outside the allowlist",
        cis: Some("4.8"),
        dockle: Some("CIS-DI-0008"),
        remediation: "strip the bits (`find / -xdev -perm /6000 -type f -exec chmod a-s {} +`) or allowlist the file in the policy",
    },
    ADD = "GOLDEN-ADD-001" {
        title: "COPY is used instead of ADD",
        cis: Some("4.9"),
        dockle: Some("CIS-DI-0009"),
        remediation: "use COPY (ADD fetches URLs and unpacks archives implicitly)",
    },
    SECRET_ENV = "GOLDEN-SECRET-001" {
        title: "No secrets in ENV or build arguments",
        cis: Some("4.10"),
        dockle: Some("CIS-DI-0010"),
        remediation: "pass secrets at run time or with BuildKit `--mount=type=secret`; build args are recorded in the image history",
    },
    SECRET_FILE = "GOLDEN-SECRET-002" {
        title: "No credential files in any layer",
        cis: Some("4.10"),
        dockle: Some("CIS-DI-0010"),
        remediation: "do not COPY credentials into the image; a file deleted in a later layer is still in the lower layer",
    },
    SECRET_KEY = "GOLDEN-SECRET-003" {
        title: "No private keys in any layer",
        cis: Some("4.10"),
        dockle: None,
        remediation: "remove private keys from the build context; mount them at run time",
    },
    VERIFY = "GOLDEN-VERIFY-001" {
        title: "Only verified packages are installed",
        cis: Some("4.11"),
        dockle: Some("CIS-DI-0011"),
        remediation: "keep gpgcheck=1 and signed apt sources; never use --allow-unauthenticated, --nogpgcheck or --allow-untrusted",
    },
    PASSWD = "GOLDEN-PASSWD-001" {
        title: "No account has an empty password",
        cis: None,
        dockle: Some("DKL-LI-0001"),
        remediation: "lock the account (`passwd -l NAME`, or `!` in /etc/shadow)",
    },
    IDS = "GOLDEN-IDS-001" {
        title: "User and group ids are unique",
        cis: None,
        dockle: Some("DKL-LI-0002"),
        remediation: "give every account in /etc/passwd and group in /etc/group its own id",
    },
    PERM = "GOLDEN-PERM-001" {
        title: "No world-writable files or directories",
        cis: None,
        dockle: None,
        remediation: "`chmod o-w` them; only /tmp and /var/tmp may be world-writable, with the sticky bit (1777)",
    },
    CACHE_APT = "GOLDEN-CACHE-001" {
        title: "apt caches and lists are removed",
        cis: None,
        dockle: Some("DKL-DI-0005"),
        remediation: "end the install RUN with `rm -rf /var/lib/apt/lists/*` (and `apt-get clean`)",
    },
    CACHE_APK = "GOLDEN-CACHE-002" {
        title: "apk caches are not kept",
        cis: None,
        dockle: Some("DKL-DI-0004"),
        remediation: "use `apk add --no-cache`",
    },
    CACHE_RPM = "GOLDEN-CACHE-003" {
        title: "dnf/yum caches are removed",
        cis: None,
        dockle: None,
        remediation: "end the install RUN with `dnf clean all` (`microdnf clean all`) and remove /var/cache/dnf",
    },
    PKG = "GOLDEN-PKG-001" {
        title: "No unnecessary packages from the policy deny list",
        cis: Some("4.3"),
        dockle: Some("CIS-DI-0003"),
        remediation: "remove the package in the same RUN that installed it, or use a multi-stage build",
    },
    VOLUME = "GOLDEN-VOLUME-001" {
        title: "No sensitive host directories as VOLUME",
        cis: None,
        dockle: Some("DKL-DI-0002"),
        remediation: "do not declare VOLUME on /, /proc, /sys, /dev, /etc, /boot or the Docker socket",
    },
    PORT = "GOLDEN-PORT-001" {
        title: "No privileged ports exposed",
        cis: None,
        dockle: None,
        remediation: "listen on a port >= 1024 inside the container (8080, 8443) and map it at run time",
    },
    HARDEN = "GOLDEN-HARDEN-001" {
        title: "Golden hardening manifest is present",
        cis: None,
        dockle: None,
        remediation: "build FROM a golden base image; its /usr/share/golden/hardening.json lists the hardening applied",
    },
    SUDO = "GOLDEN-SUDO-001" {
        title: "sudo is not used in the build",
        cis: None,
        dockle: Some("DKL-DI-0001"),
        remediation: "build steps run as root already; do not install or call sudo",
    },
    UPGRADE = "GOLDEN-UPGRADE-001" {
        title: "No dist-upgrade in the build",
        cis: None,
        dockle: Some("DKL-DI-0003"),
        remediation: "use `apt-get upgrade` (or better, a fresh base) instead of dist-upgrade",
    },
    FILES = "GOLDEN-FILES-001" {
        title: "Only necessary files are in the image",
        cis: None,
        dockle: Some("DKL-LI-0003"),
        remediation: "add .git, editor and CI files to .dockerignore",
    },
}

pub fn def(id: &str) -> Option<&'static CheckDef> {
    DEFS.iter().find(|d| d.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_has_a_definition() {
        for id in ALL_IDS {
            assert!(def(id).is_some(), "{id}");
        }
        assert_eq!(DEFS.len(), ALL_IDS.len());
    }
}
