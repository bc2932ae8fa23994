//! Micro-benchmarks (divan) on a generated 100k-movement ledger:
//! `cargo bench --bench micro`.
//!
//! The ledger is generated once (`synth::background_native`, seed 1) into a
//! temporary directory, ingested once for the trace benches and written once
//! as a store for the open bench. Under `cargo test --all-targets` (no
//! `--bench` argument) divan runs each benchmark once; the ledger is then
//! only 2k movements so that the test run stays quick.

#[path = "common/floor.rs"]
mod floor;

use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use floor::NativeRec;
use fundtrail::ingest::{self, IngestOptions};
use fundtrail::ledger::Ledger;
use fundtrail::store;
use fundtrail::synth;
use fundtrail::trace::{self, Policy, TracePlan};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::OnceLock;

fn main() {
    divan::main();
    // The fixture is a static, never dropped: remove its directory here.
    if let Some(f) = FIXTURE.get() {
        let _ = std::fs::remove_dir_all(&f.dir);
    }
}

/// The generated ledger: file, text size, lines, the ingested ledger and a
/// store of it, in a temporary directory (removed at the end of `main`).
struct Fixture {
    dir: PathBuf,
    file: PathBuf,
    bytes: u64,
    lines: u64,
    ledger: Ledger,
    store: PathBuf,
}

fn movements() -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        2_000
    }
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory").keep();
        let file = dir.join("background.jsonl");
        let mut w = BufWriter::new(std::fs::File::create(&file).expect("create"));
        let lines = synth::background_native(1, movements(), &mut w).expect("generate");
        w.flush().expect("flush");
        drop(w);
        let bytes = std::fs::metadata(&file).expect("stat").len();
        let ledger = ingest::ingest_files(std::slice::from_ref(&file), &IngestOptions::default())
            .expect("ingest")
            .ledger;
        let store = dir.join("background.ftl");
        store::write(&ledger, &store).expect("write the store");
        Fixture {
            dir,
            file,
            bytes,
            lines,
            ledger,
            store,
        }
    })
}

/// The parse floor: read the file and parse every line on one thread.
#[divan::bench(sample_count = 20)]
fn parse_floor(b: Bencher) {
    let f = fixture();
    b.counter(BytesCount::new(f.bytes)).bench(|| {
        let text = std::fs::read_to_string(&f.file).expect("read");
        let mut n = 0u64;
        for line in text.lines() {
            let r: NativeRec = serde_json::from_str(line).expect("a native record");
            black_box(&r);
            n += 1;
        }
        assert_eq!(n, f.lines);
    });
}

/// The whole ingest pipeline, file to `Ledger`, default rayon pool.
#[divan::bench(sample_count = 20)]
fn ingest(b: Bencher) {
    let f = fixture();
    let paths = [f.file.clone()];
    b.counter(BytesCount::new(f.bytes)).bench(|| {
        ingest::ingest_files(&paths, &IngestOptions::default())
            .expect("ingest")
            .ledger
    });
}

/// Full-ledger replay from the in-memory ledger, seeded at the busiest
/// generated address.
#[divan::bench(args = ["poison", "haircut", "fifo", "lifo", "tiho"], sample_count = 50)]
fn trace(b: Bencher, policy: &str) {
    let f = fixture();
    let seed = f
        .ledger
        .addr_id(&synth::address(0))
        .expect("the seed is in the ledger");
    let plan = TracePlan {
        policy: Policy::parse(policy),
        seeds: vec![seed],
        ..Default::default()
    };
    b.counter(ItemsCount::new(f.ledger.movement_count()))
        .bench(|| trace::run(&f.ledger, &plan));
}

#[divan::bench(sample_count = 20)]
fn store_write(b: Bencher) {
    let f = fixture();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("w.ftl");
    b.counter(ItemsCount::new(f.ledger.movement_count()))
        .bench(|| store::write(&f.ledger, &path).expect("write"));
}

#[divan::bench(sample_count = 50)]
fn store_open(b: Bencher) {
    let f = fixture();
    b.bench(|| store::open(&f.store).expect("open"));
}
