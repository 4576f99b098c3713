//! Property tests: parsers and decoders fed arbitrary input never panic and never emit raw bytes.
use proptest::prelude::*;
use sigtrace::decode::siginfo::SigInfo;
use sigtrace::signal::SignalSet;
use sigtrace::syscalls::SyscallSet;

fn printable(s: &str) -> bool {
    s.chars().all(|c| (' '..='~').contains(&c))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn signal_sets_parse_or_fail_cleanly(spec in ".{0,40}") {
        if let Err(e) = SignalSet::parse(&spec) {
            prop_assert!(printable(&e), "{e:?}");
        }
    }

    #[test]
    fn trace_sets_parse_or_fail_cleanly(spec in "[!%a-z0-9_,]{0,40}|.{0,20}") {
        if let Err(e) = SyscallSet::parse(&spec) {
            prop_assert!(!e.contains('\n'));
            prop_assert!(printable(&e), "{e:?}");
        }
    }

    #[test]
    fn siginfo_of_any_bytes_is_one_printable_line(raw in prop::array::uniform32(any::<u8>()),
                                                  rest in prop::collection::vec(any::<u8>(), 96),
                                                  signo in 0i32..80, code in -10i32..200) {
        let mut bytes = [0u8; 128];
        bytes[..32].copy_from_slice(&raw);
        bytes[32..].copy_from_slice(&rest);
        bytes[0..4].copy_from_slice(&signo.to_ne_bytes());
        bytes[8..12].copy_from_slice(&code.to_ne_bytes());
        let mut s = String::new();
        sigtrace::strace::signal::siginfo(&SigInfo::from_bytes(bytes), 100, &mut s);
        prop_assert!(printable(&s), "{s:?}");
        let braced = s.starts_with('{') && s.ends_with('}');
        prop_assert!(braced, "{s:?}");
    }

    #[test]
    fn sigsets_of_any_size_decode(bytes in prop::collection::vec(any::<u8>(), 0..=8)) {
        let mut s = String::new();
        sigtrace::strace::signal::sigset(&bytes, &mut s);
        prop_assert!(printable(&s));
        prop_assert!(s.ends_with(']'));
    }

    #[test]
    fn quoted_text_never_holds_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut s = String::new();
        sigtrace::text::quote(&bytes, &mut s);
        prop_assert!(printable(&s), "{s:?}");
        prop_assert_eq!(sigtrace::text::escape_bytes(&bytes), s[1..s.len() - 1].to_string());
    }

    #[test]
    fn command_lines_parse_or_fail_in_one_line(args in prop::collection::vec("-{0,2}[a-z=!,0-9]{0,8}", 0..6)) {
        let argv = std::iter::once("sigtrace".to_string()).chain(args);
        if let Err(e) = sigtrace::cli::parse(argv) {
            prop_assert!(!e.contains('\n'), "{e:?}");
        }
    }

    #[test]
    fn hostile_command_line_words_are_escaped(word in ".{1,12}") {
        for argv in [
            ["sigtrace", "-e", &format!("signal={word}"), "true"],
            ["sigtrace", &format!("--{word}"), "-p", "1"],
            ["sigtrace", "-p", &word, "-q"],
        ] {
            if let Err(e) = sigtrace::cli::parse(argv) {
                prop_assert!(printable(&e), "{e:?}");
            }
        }
    }
}
