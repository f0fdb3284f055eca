//! Hostile inputs, generated: mutated CSV files through the structure check and the whole
//! pipeline, and mutated incident files through the parser. Nothing may panic; a run that succeeds
//! must reconcile; well-formed CSV is never refused and a row with a wrong field count is always
//! named. A short run (48 cases each) is part of `cargo test`; `REDRESS_FUZZ_CASES=2000 cargo test
//! --test fuzz` runs a longer one.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use redress::identify::OnBadRows;
use redress::incident::Incident;
use redress::load::{ShapeProblem, check_csv_bytes};
use redress::pipeline;
use redress::progress::Silent;
use redress::settings::{Settings, SettingsBuilder};

fn cases() -> u32 {
    std::env::var("REDRESS_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(48)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo_file(name: &str) -> Vec<u8> {
    std::fs::read(root().join("samples/data/demo").join(name)).unwrap()
}

/// A mutation of a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at (fraction of the length) with this byte.
    Set(f64, u8),
    /// Insert bytes at a position.
    Insert(f64, Vec<u8>),
    /// Cut the file at a position.
    Truncate(f64),
    /// Duplicate the line at a position.
    DuplicateLine(f64),
    /// Remove the bytes between two positions.
    Remove(f64, f64),
}

fn hostile_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b','),
        Just(b'"'),
        Just(b'\n'),
        Just(b'\r'),
        Just(b'-'),
        Just(b'.'),
        Just(0xff),
        Just(0xe3),
        Just(0x1b),
        any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64, hostile_byte()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        (0.0..1.0f64, proptest::collection::vec(hostile_byte(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        (0.0..1.0f64).prop_map(Mutation::DuplicateLine),
        (0.0..1.0f64, 0.0..0.05f64).prop_map(|(at, length)| Mutation::Remove(at, length)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let position = |at: f64, bytes: &Vec<u8>| ((bytes.len() as f64) * at) as usize;
        match mutation {
            Mutation::Set(at, byte) => {
                let index = position(*at, &bytes);
                if index < bytes.len() {
                    bytes[index] = *byte;
                }
            }
            Mutation::Insert(at, inserted) => {
                let index = position(*at, &bytes).min(bytes.len());
                bytes.splice(index..index, inserted.iter().copied());
            }
            Mutation::Truncate(at) => {
                let index = position(*at, &bytes);
                bytes.truncate(index.max(1));
            }
            Mutation::DuplicateLine(at) => {
                let index = position(*at, &bytes).min(bytes.len());
                let start = bytes[..index]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = bytes[index..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| index + p + 1);
                let line = bytes[start..end].to_vec();
                bytes.splice(end..end, line);
            }
            Mutation::Remove(at, length) => {
                let start = position(*at, &bytes).min(bytes.len());
                let end = (start + position(*length, &bytes)).min(bytes.len());
                bytes.drain(start..end);
            }
        }
    }
    bytes
}

fn settings(data: &Path, on_bad_rows: OnBadRows) -> Settings {
    SettingsBuilder::new(root().join("samples/incidents/demo.toml"))
        .data(data)
        .on_bad_rows(on_bad_rows)
        .quiet(2)
        .build()
        .unwrap()
}

/// A CSV field written as RFC 4180 would: quoted when it holds a comma, quote or newline.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{0,6}",
        "[a-z ,\"\n]{0,6}".prop_map(|text| format!("\"{}\"", text.replace('"', "\"\""))),
        Just("日本語".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Arbitrary mutations of the demo data: the structure check and the whole pipeline either
    /// succeed (and then reconcile) or refuse with an error; under reject they also never panic.
    #[test]
    fn mutated_csv_never_panics_and_success_reconciles(
        table in prop_oneof![Just("charges.csv"), Just("accounts.csv"), Just("events.csv")],
        mutations in proptest::collection::vec(mutation(), 1..4),
        reject in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for name in ["accounts.csv", "charges.csv", "events.csv"] {
            let bytes = demo_file(name);
            let bytes = if name == table { apply(bytes, &mutations) } else { bytes };
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let on_bad_rows = if reject { OnBadRows::Reject } else { OnBadRows::Abort };
        match pipeline::evaluate(&settings(dir.path(), on_bad_rows), &Silent) {
            Ok(computed) => {
                let total: i64 = computed.refunds.iter().map(|refund| refund.refund_total.minor()).sum();
                prop_assert_eq!(total, computed.totals.refund_total.minor());
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(!message.is_empty());
                prop_assert!(!message.contains("ignore_errors"), "{}", message);
                prop_assert!(matches!(error.exit_code(), 2 | 65 | 66), "{}: {}", error.exit_code(), message);
            }
        }
    }

    /// Well-formed CSV (any quoting) is never refused; rows with a wrong field count are named,
    /// and nothing else is.
    #[test]
    fn structure_check_names_exactly_the_rows_with_a_wrong_field_count(
        rows in proptest::collection::vec(
            (proptest::collection::vec(field(), 1..6), any::<bool>()), 1..40),
        crlf in any::<bool>(),
    ) {
        let columns = 3;
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("a,b,c{newline}");
        let mut expected = Vec::new();
        for (index, (fields, keep_width)) in rows.iter().enumerate() {
            let mut fields = fields.clone();
            if *keep_width {
                fields.resize(columns, "x".to_string());
            } else if fields.len() != columns {
                expected.push((index as u64 + 1, ShapeProblem::FieldCount { found: fields.len(), expected: columns }));
            }
            text.push_str(&fields.join(","));
            text.push_str(newline);
        }
        let shape = check_csv_bytes(text.as_bytes(), "t.csv").unwrap();
        prop_assert_eq!(shape.bad_rows, expected);
    }

    /// Any bytes at all: the structure check returns, never panics.
    #[test]
    fn structure_check_survives_any_bytes(bytes in proptest::collection::vec(hostile_byte(), 0..400)) {
        let _ = check_csv_bytes(&bytes, "t.csv");
    }

    /// Mutated incident files: parsed or refused with a message naming the file, never a panic.
    #[test]
    fn mutated_incident_files_never_panic(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let text = std::fs::read(root().join("samples/incidents/demo.toml")).unwrap();
        let bytes = apply(text, &mutations);
        if let Err(error) = Incident::from_bytes(&bytes, Path::new("demo.toml")) {
            prop_assert!(error.to_string().contains("demo.toml"));
        }
    }
}
