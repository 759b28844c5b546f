//! The parsers that read what customers send (CSV and JSON batches, event roll-ups, money
//! and timestamps) and what managers type (playbook rules and steps), fed thousands of
//! mutations of the committed corpus (`tests/fuzz/corpus/`). A parser may refuse an input,
//! never panic. A fixed seed makes every run the same, so CI runs it in fixed time; a crash
//! prints the input that caused it, to be kept here as a test.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use keel::ingest::Entity;
use keel::ingest::table::{Errors, Table};

const ROUNDS: usize = 3_000;

/// A seeded stream of mutations: flips, insertions of troublesome text, cuts and splices.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }

    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        const NASTY: [&[u8]; 14] = [
            b",",
            b"\"",
            b"\n",
            b"\r\n",
            b"\0",
            b"-",
            b"99999999999999999999",
            b"1e308",
            b"\xff\xfe",
            "é€𝄞".as_bytes(),
            b"{",
            b"]",
            b"2026-02-30",
            b"    ",
        ];
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(4) {
                0 if !out.is_empty() => {
                    let i = at.min(out.len() - 1);
                    out[i] ^= 1 << self.below(8);
                }
                1 => {
                    let nasty = NASTY[self.below(NASTY.len())];
                    out.splice(at..at, nasty.iter().copied());
                }
                2 => out.truncate(at),
                _ => {
                    let from = self.below(out.len() + 1);
                    let piece: Vec<u8> = out[from..].iter().take(16).copied().collect();
                    out.splice(at..at, piece);
                }
            }
        }
        out
    }
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fuzz/corpus/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Runs `target` on `ROUNDS` mutations of `seed`; reports the first input that panics.
fn fuzz(name: &str, seed: &[u8], target: impl Fn(&[u8])) {
    let mut m = Mutator(0x6b65_656c ^ name.len() as u64);
    for round in 0..ROUNDS {
        let input = m.mutate(seed);
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            panic!(
                "{name}: round {round} panicked on {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn csv_batches_never_panic() {
    for (file, entity) in [
        ("accounts.csv", Entity::Accounts),
        ("events.csv", Entity::Events),
    ] {
        fuzz(file, &corpus(file), |bytes| {
            let mut errors = Errors::default();
            let table = Table::from_csv(entity, bytes.to_vec(), None, &mut errors);
            if let (Some(t), Entity::Events) = (table, entity) {
                let accounts: HashMap<String, uuid::Uuid> = [("A-1", 1), ("A-2", 2)]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), uuid::Uuid::from_u128(v)))
                    .collect();
                let mapping = keel::taxonomy::Compiled::new(
                    keel::taxonomy::rules::parse(keel::taxonomy::DEMO_MAPPING).unwrap(),
                );
                let types = keel::ingest::usage::type_names(&t)
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let roles = mapping.roles(&n);
                        (n, (i as i16, roles))
                    })
                    .collect();
                let _ = keel::ingest::usage::rollup(
                    &t,
                    &accounts,
                    &types,
                    &HashSet::new(),
                    &mut errors,
                );
            }
        });
    }
}

#[test]
fn json_batches_never_panic() {
    fuzz(
        "subscriptions.json",
        &corpus("subscriptions.json"),
        |bytes| {
            if let Ok(serde_json::Value::Array(rows)) = serde_json::from_slice(bytes) {
                let mut errors = Errors::default();
                let _ = Table::from_json(Entity::Subscriptions, &rows, &mut errors);
            }
        },
    );
}

#[test]
fn playbook_rules_and_steps_never_panic() {
    fuzz("rule.json", &corpus("rule.json"), |bytes| {
        let _ = serde_json::from_slice::<keel::playbooks::rules::Rule>(bytes);
    });
    fuzz("steps.json", &corpus("steps.json"), |bytes| {
        if let Ok(steps) = serde_json::from_slice::<Vec<keel::playbooks::rules::Step>>(bytes) {
            let _ = keel::playbooks::rules::check_steps(&steps);
        }
    });
}
