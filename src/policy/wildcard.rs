//! `*` / `?` wildcard matching, as IAM uses it in actions, resources,
//! principals and the `StringLike` / `ArnLike` condition operators.

/// Whether `text` matches `pattern`, where `*` matches any run of characters
/// (also none) and `?` exactly one. Iterative with backtracking to the last
/// `*`, so it is linear in practice and never recurses.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        // `*` first: a `*` in the text is an ordinary character, and must
        // not make the pattern's `*` match it literally (and forget that it
        // could match more).
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Case-insensitive [`matches`], for action names.
pub fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    matches(&pattern.to_lowercase(), &text.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_table() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("kms:*", "kms:CreateGrant", true),
            ("kms:Generate*", "kms:GenerateDataKeyWithoutPlaintext", true),
            ("kms:*Grant", "kms:CreateGrant", true),
            ("kms:*Grant", "kms:CreateGrants", false),
            ("kms:?reateGrant", "kms:CreateGrant", true),
            ("kms:?", "kms:", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("prod-*", "prod-api", true),
            ("prod-*", "staging-api", false),
            ("", "", true),
            ("", "x", false),
            // A `*` in the text is matched by the pattern's `*` like any other character.
            ("*", "*.amazonaws.com", true),
            ("a*", "a*b", true),
            ("*b", "*xb", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), want, "{pattern} ~ {text}");
        }
        assert!(matches_ignore_case("KMS:createGRANT", "kms:CreateGrant"));
    }
}
