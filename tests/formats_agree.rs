//! The same ledger data in different export formats builds the same ledger.

use fundtrail::ingest::{expand_paths, ingest_files, IngestOptions};
use fundtrail::ledger::{Ledger, LedgerInfo};
use std::io::Write;
use std::path::PathBuf;

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
}

fn ledger(paths: &[PathBuf]) -> Ledger {
    let files = expand_paths(paths).expect("paths exist");
    let mut l = ingest_files(&files, &IngestOptions::default())
        .expect("ingests")
        .ledger;
    // which files and formats it came from legitimately differs
    l.info = LedgerInfo {
        duplicates: l.info.duplicates,
        unknown_value_inputs: l.info.unknown_value_inputs,
        ..Default::default()
    };
    l
}

#[test]
fn bitcoin_blocks_50001_50002_are_one_ledger_from_bitcoin_etl_and_from_core_rpc() {
    let etl = ledger(&[fixture("bitcoin-etl/bitcoin/block_with_transactions")]);
    let rpc = ledger(&[fixture("bitcoin-rpc/bitcoin/block_with_transactions")]);
    assert_eq!(etl.utxo_txs.len(), 4);
    assert_eq!(etl, rpc);
    // two 50 BTC coinbases, 7940cdde.. paying 100 BTC and f8476145.. paying
    // 50 BTC (both spend coinbases from before the sample), to the satoshi
    let total: u128 = etl.outputs.iter().map(|o| o.value()).sum();
    assert_eq!(total, 25_000_000_000);
    assert_eq!(etl.info.unknown_value_inputs, 3);
}

#[test]
fn giving_both_formats_of_the_same_blocks_drops_every_second_copy_as_a_duplicate() {
    let both = ledger(&[
        fixture("bitcoin-etl/bitcoin/block_with_transactions"),
        fixture("bitcoin-rpc/bitcoin/block_with_transactions"),
    ]);
    let one = ledger(&[fixture("bitcoin-etl/bitcoin/block_with_transactions")]);
    assert_eq!(both.info.duplicates, 4);
    assert_eq!(both.utxo_txs, one.utxo_txs);
}

#[test]
fn a_gzipped_export_is_the_same_ledger_as_the_plain_one() {
    let plain = fixture("ethereum-etl/blocks_17173049_17173050_transactions.json");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("transactions.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    assert_eq!(ledger(&[gz]), ledger(&[plain]));
}
