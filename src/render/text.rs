//! Making outside strings safe to print on a terminal.
//!
//! Cluster, service and deployment names, key states, AWS error messages,
//! key policy Sids, CloudTrail fields and whatever a hand-edited inventory
//! holds are not ours: they may carry escape sequences (an OSC 52 clipboard
//! write, a screen clear) or bidirectional overrides that make a line read
//! differently from what it says. Every text renderer passes such strings
//! through [`visible`] (or [`visible_lines`] for multi-line text) before
//! printing; JSON keeps them exact, since its escaping is already safe.

use std::borrow::Cow;

/// Bidirectional formatting characters (Unicode "Trojan Source" set).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn needs_escape(c: char) -> bool {
    // `is_control` covers C0, DEL and C1.
    c.is_control() || is_bidi(c)
}

/// `s` with every control character (C0, DEL, C1, newlines included) and
/// bidirectional override shown escaped: ESC becomes `\x1b`, U+202E
/// becomes `\u{202e}`. Borrowed when nothing needed escaping.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// The lines of `s` (split on `\n`), each made [`visible`]: for text whose
/// line breaks are ours (a remediation's steps).
pub fn visible_lines(s: &str) -> impl Iterator<Item = Cow<'_, str>> {
    s.split('\n').map(visible)
}

/// `1 task`, `3 tasks`: a count with its noun, never `task(s)`.
pub fn count(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// The run's counts as every format's summary line says them:
/// `6 clusters{scope}: 3 fail, 0 unknown, 3 pass`.
pub fn tally(s: &crate::report::Summary, scope: &str) -> String {
    format!(
        "{}{scope}: {} fail, {} unknown, {} pass",
        count(s.clusters, "cluster", "clusters"),
        s.fail,
        s.unknown,
        s.pass
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_overrides() {
        let cases = [
            ("plain-name_1", "plain-name_1"),
            ("x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J", "x\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J"),
            ("a\nb\r\t", "a\\x0ab\\x0d\\x09"),
            ("del\u{7f}", "del\\x7f"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("rtl\u{202e}txt.exe", "rtl\\u{202e}txt.exe"),
            ("isolate\u{2066}x\u{2069}", "isolate\\u{2066}x\\u{2069}"),
            ("ünïcödé ✓", "ünïcödé ✓"),
        ];
        for (input, want) in cases {
            assert_eq!(visible(input), want, "{input:?}");
        }
        assert!(matches!(visible("ok"), Cow::Borrowed(_)));
        let lines: Vec<_> = visible_lines("step 1\nstep\u{1b} 2").collect();
        assert_eq!(lines, ["step 1", "step\\x1b 2"]);
    }
}
