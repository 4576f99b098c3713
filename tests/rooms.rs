//! The rooms of src/ keep to scripts/layers.sh's order: no cycle, no arrow up, and the script catches one.
mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn layers(src: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/layers.sh");
    run(Command::new(script).arg(src))
}

/// Copies src/ (the .rs files) to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else if e.path().extension().is_some_and(|x| x == "rs") {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn src_keeps_the_declared_order() {
    let out = layers(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert_eq!(out.code(), 0, "{}", out.stderr);
}

#[test]
fn an_arrow_up_and_a_cycle_fail() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let dir = tempdir("layers");
    copy_tree(&src, &dir);
    // The quoting leaf reaching up to the printers, which use it: against the order, a cycle.
    let text = dir.join("text.rs");
    let mut body = std::fs::read_to_string(&text).unwrap();
    body.push_str("\npub fn up() -> &'static str { crate::strace::up() }\n");
    std::fs::write(&text, body).unwrap();
    let strace = dir.join("strace/mod.rs");
    let mut body = std::fs::read_to_string(&strace).unwrap();
    body.push_str("\npub fn up() -> &'static str { \"\" }\n");
    std::fs::write(&strace, body).unwrap();
    let out = layers(&dir);
    assert_eq!(out.code(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("layers: text -> strace: against the order"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("layers: cycle: "), "{}", out.stderr);
    // An arrow inside a test module is not one.
    std::fs::copy(src.join("text.rs"), &text).unwrap();
    let mut body = std::fs::read_to_string(&text).unwrap();
    body.push_str("\n#[cfg(test)]\nmod more {\n    fn f() { crate::strace::up(); }\n}\n");
    std::fs::write(&text, body).unwrap();
    let out = layers(&dir);
    assert_eq!(out.code(), 0, "{}", out.stderr);
}
