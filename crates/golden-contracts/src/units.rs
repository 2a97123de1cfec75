//! Human-readable sizes: the one rule every golden binary prints sizes with.

/// `512 B`, `1.5 KiB`, `80.0 MiB`, `1.25 GiB`: binary units; KiB and MiB with one decimal, GiB
/// (the largest unit, so also for a TiB and more) with two. The Markdown reports and the stderr
/// progress lines all use this rule.
pub fn human_bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f < K {
        format!("{n} B")
    } else if f < K * K {
        format!("{:.1} KiB", f / K)
    } else if f < K * K * K {
        format!("{:.1} MiB", f / (K * K))
    } else {
        format!("{:.2} GiB", f / (K * K * K))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        assert_eq!(human_bytes(80 * 1024 * 1024), "80.0 MiB");
        assert_eq!(human_bytes(5 << 29), "2.50 GiB");
        assert_eq!(human_bytes(2 << 40), "2048.00 GiB");
        assert_eq!(human_bytes(u64::MAX), "17179869184.00 GiB");
    }
}
