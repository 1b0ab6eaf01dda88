//! Command lines as a POSIX shell reads them, for the lines users copy (a run's repeat
//! command, `oa-validate sim`'s exports) and for logs. Never executed.

/// A value as one shell word: as is when it is plain, else single-quoted.
pub fn quote(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:@%+=,".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// `program` and `args` as one shell line.
pub fn line(program: &str, args: &[String]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_words_stay_and_others_are_single_quoted() {
        assert_eq!(
            super::quote("a-b_c/d.e:f=g@h%i+j,k"),
            "a-b_c/d.e:f=g@h%i+j,k"
        );
        assert_eq!(super::quote(""), "''");
        assert_eq!(super::quote("it's a b"), "'it'\\''s a b'");
        assert_eq!(
            super::line("cargo", &["test".into(), "a b".into(), "it's".into()]),
            r"cargo test 'a b' 'it'\''s'"
        );
    }
}
