//! Property tests of the trace engine and the ingest pipeline on random small
//! ledgers of both models (SPEC.md §1-§3).
//!
//! The strategies produce ledgers as parsed native-format records (`Raw::Move`
//! for the account model, `Raw::Utxo` for the UTXO model). A test either
//! builds them directly (`ingest::build::build`) or writes them as
//! fundtrail's own JSON lines and ingests the files.

mod common {
    use fundtrail::ingest::build::build;
    use fundtrail::ingest::raw::{BlockRef, Raw, RawInput, RawMove, RawOutput, RawUtxoTx};
    use fundtrail::ingest::{ingest_files, IngestOptions, Loc};
    use fundtrail::ledger::Ledger;
    use fundtrail::model::{AddrId, Amount, AssetId, MoveKind, NO_OUTPUT};
    use fundtrail::trace::{self, Policy, TracePlan, TraceResult};
    use proptest::prelude::*;
    use proptest::sample::Index;
    use proptest::test_runner::TestCaseError;
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt;
    use std::path::{Path, PathBuf};

    pub const ETH: &str = "ETH";
    pub const TOKEN: &str = "0x0000000000000000000000000000000000000001";
    /// UTXO-model addresses: base58 (case kept) and bech32 (lower-cased).
    pub const BTC_ADDRS: [&str; 6] = [
        "1Alice",
        "1Bob",
        "3Carol",
        "bc1qdave0000",
        "bc1qerin0000",
        "1Frank",
    ];

    /// Test settings: `cases` cases, no regression files written.
    /// `PROPTEST_CASES`, when set, overrides `cases` (for longer runs).
    pub fn config(cases: u32) -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// The `i`-th account-model address (EVM, with hex letters so case matters).
    pub fn evm_address(i: usize) -> String {
        format!("0x{:040x}", 0xa11ce0 + i)
    }

    /// Mostly small amounts, sometimes up to 10^30 (haircut products then
    /// exceed 128 bits), sometimes zero.
    pub fn amount() -> impl Strategy<Value = Amount> {
        prop_oneof![
            6 => 0..=1_000_000u128,
            1 => 0..=10u128.pow(30),
            1 => 10u128.pow(29)..=10u128.pow(30),
        ]
    }

    // --- generated ledgers -------------------------------------------------

    #[derive(Copy, Clone, Debug)]
    pub enum Model {
        Account,
        Utxo,
        Both,
    }

    #[derive(Copy, Clone, Debug)]
    pub enum StepKind {
        Transfer,
        SelfTransfer,
        Fee,
        Mint,
    }

    /// One account-model movement, before it is placed.
    #[derive(Clone, Debug)]
    pub struct MoveStep {
        /// 0: next position in the same transaction, 1: next transaction, 2: next block.
        advance: u8,
        kind: StepKind,
        from: Index,
        to: Index,
        token: bool,
        amount: Amount,
        with_tx: bool,
        /// Share of the sender's balance moved, for fully tainted ledgers.
        permille: u32,
    }

    pub fn move_step() -> impl Strategy<Value = MoveStep> {
        let kind = prop_oneof![
            6 => Just(StepKind::Transfer),
            1 => Just(StepKind::SelfTransfer),
            2 => Just(StepKind::Fee),
            1 => Just(StepKind::Mint),
        ];
        (
            prop_oneof![2 => Just(0u8), 2 => Just(1u8), 1 => Just(2u8)],
            kind,
            any::<Index>(),
            any::<Index>(),
            any::<bool>(),
            amount(),
            prop::bool::weighted(0.9),
            0..=1000u32,
        )
            .prop_map(
                |(advance, kind, from, to, token, amount, with_tx, permille)| MoveStep {
                    advance,
                    kind,
                    from,
                    to,
                    token,
                    amount,
                    with_tx,
                    permille,
                },
            )
    }

    /// Block, transaction index and position of each step.
    fn positions(steps: &[MoveStep]) -> Vec<(u64, u32, u32)> {
        let (mut block, mut tx_index, mut seq) = (1_000u64, 0u32, 0u32);
        let mut out = Vec::new();
        for (k, s) in steps.iter().enumerate() {
            if k > 0 {
                match s.advance {
                    0 => seq += 1,
                    1 => (tx_index, seq) = (tx_index + 1, 0),
                    _ => (block, tx_index, seq) = (block + 1 + (k as u64 % 3), 0, 0),
                }
            }
            out.push((block, tx_index, seq));
        }
        out
    }

    fn raw_move(
        (block, tx_index, seq): (u64, u32, u32),
        with_tx: bool,
        from: Option<String>,
        to: Option<String>,
        asset: &str,
        amount: Amount,
        kind: MoveKind,
    ) -> Raw {
        Raw::Move(RawMove {
            tx_hash: with_tx.then(|| format!("0x{:064x}", (block << 20) | tx_index as u64)),
            block,
            time: block * 12,
            tx_index,
            seq,
            from,
            to,
            asset: asset.to_string(),
            amount,
            kind,
        })
    }

    /// Account-model records over `n` addresses and one or two assets.
    pub fn account_records(n: usize, two_assets: bool, steps: &[MoveStep]) -> Vec<Raw> {
        let addrs: Vec<String> = (0..n).map(evm_address).collect();
        steps
            .iter()
            .zip(positions(steps))
            .map(|(s, pos)| {
                let asset = if two_assets && s.token { TOKEN } else { ETH };
                let from = addrs[s.from.index(n)].clone();
                let to = addrs[s.to.index(n)].clone();
                let transfer = if asset == ETH {
                    MoveKind::Native
                } else {
                    MoveKind::Token
                };
                let (from, to, kind) = match s.kind {
                    StepKind::Transfer => (Some(from), Some(to), transfer),
                    StepKind::SelfTransfer => (Some(from.clone()), Some(from), transfer),
                    StepKind::Fee => (Some(from), None, MoveKind::Fee),
                    StepKind::Mint => (None, Some(to), MoveKind::Mint),
                };
                raw_move(pos, s.with_tx, from, to, asset, s.amount, kind)
            })
            .collect()
    }

    /// Account-model records in which every unit comes from the seed
    /// (`addrs[0]`): only the seed and accounts that received from it send,
    /// never more than they hold; an optional stop (`addrs[n-1]`) only
    /// receives. No mints.
    pub fn funded_account_records(n: usize, with_stop: bool, steps: &[MoveStep]) -> Vec<Raw> {
        let addrs: Vec<String> = (0..n).map(evm_address).collect();
        let stop = with_stop.then_some(n - 1);
        let mut bal: BTreeMap<(usize, &str), Amount> = BTreeMap::new();
        let mut out = Vec::new();
        for (s, pos) in steps.iter().zip(positions(steps)) {
            let asset = if s.token { TOKEN } else { ETH };
            let senders: Vec<usize> = (0..n)
                .filter(|a| {
                    *a == 0 || (Some(*a) != stop && bal.get(&(*a, asset)).is_some_and(|b| *b > 0))
                })
                .collect();
            let from = senders[s.from.index(senders.len())];
            let held = bal.get(&(from, asset)).copied().unwrap_or(0);
            let amount = if from == 0 {
                s.amount
            } else {
                held / 1000 * s.permille as Amount + held % 1000 * s.permille as Amount / 1000
            };
            *bal.entry((from, asset)).or_default() = held.saturating_sub(amount);
            let (to, kind) = match s.kind {
                StepKind::Fee => (None, MoveKind::Fee),
                StepKind::SelfTransfer => (Some(from), MoveKind::Native),
                _ => (Some(s.to.index(n)), MoveKind::Native),
            };
            let kind = if kind == MoveKind::Native && asset != ETH {
                MoveKind::Token
            } else {
                kind
            };
            if let Some(t) = to {
                *bal.entry((t, asset)).or_default() += amount;
            }
            out.push(raw_move(
                pos,
                s.with_tx,
                Some(addrs[from].clone()),
                to.map(|t| addrs[t].clone()),
                asset,
                amount,
                kind,
            ));
        }
        out
    }

    #[derive(Clone, Debug)]
    pub enum InPlan {
        /// Spend a still-unspent output of the sample.
        Spend(Index),
        /// Spend an output not in the sample, of value `value`, told or not.
        External {
            owner: Option<Index>,
            known: bool,
            value: Amount,
        },
    }

    #[derive(Clone, Debug)]
    pub enum OwnerPlan {
        One(Index),
        Multi(Index, Index),
        Nobody,
    }

    #[derive(Clone, Debug)]
    pub struct TxPlan {
        new_block: bool,
        coinbase: bool,
        mint: Amount,
        inputs: Vec<InPlan>,
        outputs: Vec<(u32, OwnerPlan)>,
        fee_permille: u32,
        /// Inputs that spend sample outputs also repeat their owner and value.
        enrich: bool,
    }

    pub fn tx_plan() -> impl Strategy<Value = TxPlan> {
        let input = prop_oneof![
            5 => any::<Index>().prop_map(InPlan::Spend),
            1 => (prop::option::of(any::<Index>()), any::<bool>(), amount())
                .prop_map(|(owner, known, value)| InPlan::External { owner, known, value }),
        ];
        let owner = prop_oneof![
            8 => any::<Index>().prop_map(OwnerPlan::One),
            1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| OwnerPlan::Multi(a, b)),
            1 => Just(OwnerPlan::Nobody),
        ];
        (
            any::<bool>(),
            prop::bool::weighted(0.2),
            amount(),
            prop::collection::vec(input, 1..=3),
            prop::collection::vec((0..=100u32, owner), 1..=3),
            prop_oneof![Just(0u32), 0..=300u32],
            any::<bool>(),
        )
            .prop_map(
                |(new_block, coinbase, mint, inputs, outputs, fee_permille, enrich)| TxPlan {
                    new_block,
                    coinbase,
                    mint,
                    inputs,
                    outputs,
                    fee_permille,
                    enrich,
                },
            )
    }

    /// A UTXO-model chain over the first `n` of `BTC_ADDRS`. With `funded`,
    /// every unit comes from the seed `BTC_ADDRS[0]`: coinbases pay only the
    /// seed, outside inputs are the seed's with a known value, no multisig or
    /// address-less outputs, and outputs of the stop (`BTC_ADDRS[n-1]`, when
    /// `with_stop`) are never spent.
    pub fn utxo_records(n: usize, steps: &[TxPlan], funded: bool, with_stop: bool) -> Vec<Raw> {
        let addrs = &BTC_ADDRS[..n];
        let stop = with_stop.then(|| addrs[n - 1].to_string());
        // (txid, vout, owner, value)
        let mut unspent: Vec<(String, u32, String, Amount)> = Vec::new();
        let (mut block, mut index) = (500u64, 0u32);
        let mut external = 0u64;
        let mut out = Vec::new();
        for (k, s) in steps.iter().enumerate() {
            if k > 0 {
                if s.new_block {
                    (block, index) = (block + 1, 0);
                } else {
                    index += 1;
                }
            }
            let txid = format!("{:064x}", 0xc0ffee0000u64 + k as u64);
            let mut inputs = Vec::new();
            let mut total: Amount = 0;
            if !s.coinbase {
                for i in &s.inputs {
                    match i {
                        InPlan::Spend(ix) => {
                            if unspent.is_empty() {
                                continue;
                            }
                            let (prev, vout, owner, value) =
                                unspent.remove(ix.index(unspent.len()));
                            let owner =
                                (s.enrich && !owner.starts_with("nonstandard:")).then_some(owner);
                            inputs.push(RawInput {
                                prev_txid: prev,
                                vout,
                                owner,
                                value: s.enrich.then_some(value),
                            });
                            total += value;
                        }
                        InPlan::External {
                            owner,
                            known,
                            value,
                        } => {
                            external += 1;
                            let owner = if funded {
                                Some(addrs[0].to_string())
                            } else {
                                owner.map(|o| addrs[o.index(n)].to_string())
                            };
                            inputs.push(RawInput {
                                prev_txid: format!("{:064x}", 0xe70000u64 + external),
                                vout: (external % 3) as u32,
                                owner,
                                value: (funded || *known).then_some(*value),
                            });
                            total += value;
                        }
                    }
                }
            }
            let coinbase = inputs.is_empty();
            let fee = if coinbase {
                total = s.mint;
                0
            } else {
                total / 1000 * s.fee_permille as Amount
                    + total % 1000 * s.fee_permille as Amount / 1000
            };
            let budget = total - fee;
            let weights: u32 = s.outputs.iter().map(|o| o.0).sum();
            let mut outputs = Vec::new();
            for (j, (w, owner)) in s.outputs.iter().enumerate() {
                let value = if weights == 0 {
                    budget / s.outputs.len() as Amount
                } else {
                    budget / weights as Amount * *w as Amount
                        + budget % weights as Amount * *w as Amount / weights as Amount
                };
                let owner = match owner {
                    _ if funded && coinbase => addrs[0].to_string(),
                    OwnerPlan::One(a) => addrs[a.index(n)].to_string(),
                    OwnerPlan::Multi(..) | OwnerPlan::Nobody if funded => {
                        addrs[first_owner(owner, n)].to_string()
                    }
                    OwnerPlan::Multi(a, b) => {
                        let (a, b) = (addrs[a.index(n)], addrs[b.index(n)]);
                        fundtrail::ingest::raw::owner_of(&[a, b], &txid, j as u32)
                    }
                    OwnerPlan::Nobody => format!("nonstandard:{txid}:{j}"),
                };
                if !(funded && stop.as_ref() == Some(&owner)) {
                    unspent.push((txid.clone(), j as u32, owner.clone(), value));
                }
                outputs.push(RawOutput { owner, value });
            }
            out.push(Raw::Utxo(RawUtxoTx {
                txid,
                block: BlockRef::Height(block),
                index: Some(index),
                time: block * 600,
                coinbase,
                asset: "BTC".into(),
                inputs,
                outputs,
            }));
        }
        out
    }

    /// The first owner a plan names, as a single address slot.
    fn first_owner(o: &OwnerPlan, n: usize) -> usize {
        match o {
            OwnerPlan::One(a) | OwnerPlan::Multi(a, _) => a.index(n),
            OwnerPlan::Nobody => 0,
        }
    }

    /// A ledger (as records) and what to trace in it.
    #[derive(Clone)]
    pub struct Case {
        pub records: Vec<Raw>,
        /// Per record: write it with upper-case hex / bech32, bare integer
        /// amounts and defaulted fields left out.
        pub shout: Vec<bool>,
        pub seeds: Vec<String>,
        pub seed_tx: Option<String>,
        pub stop: Option<String>,
        pub min_taint: Amount,
    }

    impl fmt::Debug for Case {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(
                f,
                "seeds {:?}, seed_tx {:?}, stop {:?}, min_taint {}; records:",
                self.seeds, self.seed_tx, self.stop, self.min_taint
            )?;
            for r in &self.records {
                writeln!(f, "{}", native_line(r, false))?;
            }
            Ok(())
        }
    }

    /// Single addresses used by the records (not multisig owners), sorted.
    fn addresses_in(records: &[Raw]) -> Vec<String> {
        let mut set = BTreeSet::new();
        for r in records {
            match r {
                Raw::Move(m) => set.extend(m.from.iter().chain(&m.to).cloned()),
                Raw::Utxo(u) => {
                    set.extend(u.outputs.iter().map(|o| o.owner.clone()));
                    set.extend(u.inputs.iter().filter_map(|i| i.owner.clone()));
                }
                _ => {}
            }
        }
        set.into_iter()
            .filter(|a| !a.contains(',') && !a.starts_with("nonstandard:"))
            .collect()
    }

    fn txids_in(records: &[Raw]) -> Vec<String> {
        let set: BTreeSet<String> = records
            .iter()
            .filter_map(|r| match r {
                Raw::Move(m) => m.tx_hash.clone(),
                Raw::Utxo(u) => Some(u.txid.clone()),
                _ => None,
            })
            .collect();
        set.into_iter().collect()
    }

    fn shouts(n: usize, mask: u64) -> Vec<bool> {
        (0..n).map(|i| mask >> (i % 64) & 1 == 1).collect()
    }

    /// Random ledgers of either model or both, with 1-2 seeds, sometimes a
    /// seed transaction, sometimes a stop address, a threshold of 0 or small.
    pub fn case() -> impl Strategy<Value = Case> {
        let model = prop_oneof![Just(Model::Account), Just(Model::Utxo), Just(Model::Both)];
        let roles = (
            prop::collection::vec(any::<Index>(), 1..=2),
            prop::option::weighted(0.25, any::<Index>()),
            prop::option::weighted(0.4, any::<Index>()),
            prop_oneof![4 => Just(0u128), 1 => 1..=1_000u128, 1 => 1..=100_000u128],
            any::<u64>(),
        );
        (
            model,
            3usize..=8,
            any::<bool>(),
            prop::collection::vec(move_step(), 1..=40),
            3usize..=6,
            prop::collection::vec(tx_plan(), 1..=25),
            roles,
        )
            .prop_map(
                |(
                    model,
                    n_acct,
                    two_assets,
                    moves,
                    n_utxo,
                    txs,
                    (seeds, seed_tx, stop, min_taint, mask),
                )| {
                    let mut records = Vec::new();
                    if !matches!(model, Model::Utxo) {
                        records.extend(account_records(n_acct, two_assets, &moves));
                    }
                    if !matches!(model, Model::Account) {
                        records.extend(utxo_records(n_utxo, &txs, false, false));
                    }
                    let universe = addresses_in(&records);
                    let mut seeds: Vec<String> = match universe.len() {
                        0 => Vec::new(),
                        n => seeds.iter().map(|i| universe[i.index(n)].clone()).collect(),
                    };
                    seeds.dedup();
                    let others: Vec<&String> =
                        universe.iter().filter(|a| !seeds.contains(a)).collect();
                    let stop = stop
                        .filter(|_| !others.is_empty())
                        .map(|i| others[i.index(others.len())].clone());
                    let txids = txids_in(&records);
                    let seed_tx = seed_tx
                        .filter(|_| !txids.is_empty())
                        .map(|i| txids[i.index(txids.len())].clone());
                    Case {
                        shout: shouts(records.len(), mask),
                        records,
                        seeds,
                        seed_tx,
                        stop,
                        min_taint,
                    }
                },
            )
    }

    /// Ledgers where every unit moved is tainted: the seeds are the only
    /// source of funds (no mints, no clean outside inputs, no threshold).
    pub fn fully_tainted_case() -> impl Strategy<Value = Case> {
        let model = prop_oneof![Just(Model::Account), Just(Model::Utxo), Just(Model::Both)];
        (
            model,
            3usize..=8,
            prop::collection::vec(move_step(), 1..=40),
            3usize..=6,
            prop::collection::vec(tx_plan(), 1..=25),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(|(model, n_acct, moves, n_utxo, txs, with_stop, mask)| {
                let (acct, utxo) = (
                    !matches!(model, Model::Utxo),
                    !matches!(model, Model::Account),
                );
                // One stop at most: the account model's when there is one.
                let (acct_stop, utxo_stop) = (with_stop && acct, with_stop && !acct);
                let mut records = Vec::new();
                let mut seeds = Vec::new();
                let mut stop = None;
                if acct {
                    records.extend(funded_account_records(n_acct, acct_stop, &moves));
                    seeds.push(evm_address(0));
                    stop = acct_stop.then(|| evm_address(n_acct - 1));
                }
                if utxo {
                    records.extend(utxo_records(n_utxo, &txs, true, utxo_stop));
                    seeds.push(BTC_ADDRS[0].to_string());
                    stop = stop.or_else(|| utxo_stop.then(|| BTC_ADDRS[n_utxo - 1].to_string()));
                }
                Case {
                    shout: shouts(records.len(), mask),
                    records,
                    seeds,
                    seed_tx: None,
                    stop,
                    min_taint: 0,
                }
            })
    }

    // --- native format -----------------------------------------------------

    fn shout_addr(a: &str, shout: bool) -> String {
        if !shout {
            a.to_string()
        } else if let Some(hex) = a.strip_prefix("0x") {
            format!("0x{}", hex.to_uppercase())
        } else if a.starts_with("bc1") {
            a.to_uppercase()
        } else {
            a.to_string()
        }
    }

    fn amount_json(v: Amount, shout: bool) -> String {
        if shout {
            v.to_string()
        } else {
            format!("\"{v}\"")
        }
    }

    /// `"address":..`, `"addresses":[..]` or nothing, for an owner string.
    fn owner_json(owner: &str, shout: bool) -> Option<String> {
        if owner.starts_with("nonstandard:") {
            None
        } else if owner.contains(',') {
            let list: Vec<String> = owner
                .split(',')
                .map(|a| format!("\"{}\"", shout_addr(a, shout)))
                .collect();
            Some(format!("\"addresses\":[{}]", list.join(",")))
        } else {
            Some(format!("\"address\":\"{}\"", shout_addr(owner, shout)))
        }
    }

    /// One record as a line of fundtrail's native format (module doc of
    /// `ingest::native`).
    pub fn native_line(r: &Raw, shout: bool) -> String {
        let mut f: Vec<String> = Vec::new();
        match r {
            Raw::Move(m) => {
                let kind = match m.kind {
                    MoveKind::Fee => "fee",
                    MoveKind::Mint => "mint",
                    MoveKind::Native | MoveKind::Token => "transfer",
                };
                f.push(format!("\"kind\":\"{kind}\""));
                f.push(format!("\"block\":{}", m.block));
                for (name, v) in [
                    ("time", m.time),
                    ("tx_index", m.tx_index as u64),
                    ("seq", m.seq as u64),
                ] {
                    if !(shout && v == 0) {
                        f.push(format!("\"{name}\":{v}"));
                    }
                }
                if let Some(h) = &m.tx_hash {
                    f.push(format!("\"tx\":\"{}\"", shout_addr(h, shout)));
                }
                if let Some(a) = &m.from {
                    f.push(format!("\"from\":\"{}\"", shout_addr(a, shout)));
                }
                if let Some(a) = &m.to {
                    f.push(format!("\"to\":\"{}\"", shout_addr(a, shout)));
                }
                f.push(format!("\"asset\":\"{}\"", shout_addr(&m.asset, shout)));
                f.push(format!("\"amount\":{}", amount_json(m.amount, shout)));
            }
            Raw::Utxo(u) => {
                let BlockRef::Height(block) = u.block else {
                    panic!("generated UTXO records have heights")
                };
                let txid = |t: &str| {
                    if shout {
                        t.to_uppercase()
                    } else {
                        t.to_string()
                    }
                };
                f.push("\"kind\":\"utxo\"".into());
                f.push(format!("\"txid\":\"{}\"", txid(&u.txid)));
                f.push(format!("\"block\":{block}"));
                if let Some(i) = u.index {
                    f.push(format!("\"index\":{i}"));
                }
                f.push(format!("\"time\":{}", u.time));
                if !shout || u.asset != "BTC" {
                    f.push(format!("\"asset\":\"{}\"", u.asset));
                }
                if !shout || u.coinbase {
                    f.push(format!("\"coinbase\":{}", u.coinbase));
                }
                let inputs: Vec<String> = u
                    .inputs
                    .iter()
                    .map(|i| {
                        let mut g = vec![
                            format!("\"txid\":\"{}\"", txid(&i.prev_txid)),
                            format!("\"vout\":{}", i.vout),
                        ];
                        g.extend(i.owner.as_deref().and_then(|o| owner_json(o, shout)));
                        g.extend(
                            i.value
                                .map(|v| format!("\"value\":{}", amount_json(v, shout))),
                        );
                        format!("{{{}}}", g.join(","))
                    })
                    .collect();
                if !(shout && inputs.is_empty()) {
                    f.push(format!("\"inputs\":[{}]", inputs.join(",")));
                }
                let outputs: Vec<String> = u
                    .outputs
                    .iter()
                    .map(|o| {
                        let mut g: Vec<String> = owner_json(&o.owner, shout).into_iter().collect();
                        g.push(format!("\"value\":{}", amount_json(o.value, shout)));
                        format!("{{{}}}", g.join(","))
                    })
                    .collect();
                f.push(format!("\"outputs\":[{}]", outputs.join(",")));
            }
            other => panic!("not generated: {other:?}"),
        }
        format!("{{{}}}", f.join(","))
    }

    pub fn lines(case: &Case) -> Vec<String> {
        case.records
            .iter()
            .zip(&case.shout)
            .map(|(r, s)| native_line(r, *s))
            .collect()
    }

    pub fn write_lines(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
        let path = dir.join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// Fisher-Yates with a splitmix64 stream.
    pub fn shuffle<T>(v: &mut [T], mut seed: u64) {
        let mut next = || {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for i in (1..v.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }

    // --- ledgers and traces ------------------------------------------------

    /// Build a ledger straight from the records; none may be rejected.
    pub fn build_ledger(records: &[Raw]) -> Ledger {
        let raws = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.clone(),
                    Loc {
                        file: 0,
                        line: i as u64 + 1,
                    },
                )
            })
            .collect();
        let built = build(raws, &[]).expect("builds");
        assert!(
            built.rejects.is_empty(),
            "generated records rejected: {:?}",
            built.rejects
        );
        built.ledger
    }

    /// Ingest files; none of their records may be rejected.
    pub fn ingest(paths: &[PathBuf]) -> Ledger {
        let got = ingest_files(paths, &IngestOptions::default()).expect("ingests");
        assert!(got.rejects.is_empty(), "rejects: {:?}", got.rejects);
        got.ledger
    }

    pub fn plan(ledger: &Ledger, case: &Case, policy: Policy) -> TracePlan {
        TracePlan {
            policy: Some(policy),
            seeds: case
                .seeds
                .iter()
                .filter_map(|s| ledger.addr_id(s))
                .collect(),
            seed_txs: case
                .seed_tx
                .iter()
                .filter_map(|t| ledger.tx_id(t))
                .collect(),
            stops: case.stop.iter().filter_map(|s| ledger.addr_id(s)).collect(),
            min_taint: case.min_taint,
            full_replay: false,
            ..Default::default()
        }
    }

    pub fn trace(ledger: &Ledger, case: &Case, policy: Policy) -> TraceResult {
        trace::run(ledger, &plan(ledger, case, policy))
    }

    /// One result per policy, in `Policy::ALL` order.
    pub fn trace_all(ledger: &Ledger, case: &Case) -> Vec<(Policy, TraceResult)> {
        Policy::ALL
            .into_iter()
            .map(|p| (p, trace(ledger, case, p)))
            .collect()
    }

    /// The ledgers agree on everything but `info` (which names files and
    /// counts duplicates, and legitimately differs).
    pub fn same_but_info(a: &Ledger, b: &Ledger) -> Result<(), TestCaseError> {
        prop_assert_eq!(&a.addresses, &b.addresses);
        prop_assert_eq!(&a.assets, &b.assets);
        prop_assert_eq!(&a.txids, &b.txids);
        prop_assert_eq!(&a.movements, &b.movements);
        prop_assert_eq!(&a.utxo_txs, &b.utxo_txs);
        prop_assert_eq!(&a.inputs, &b.inputs);
        prop_assert_eq!(&a.outputs, &b.outputs);
        prop_assert_eq!(a.info.rejected, b.info.rejected);
        prop_assert_eq!(a.info.unknown_fee_txs, b.info.unknown_fee_txs);
        prop_assert_eq!(a.info.unknown_value_inputs, b.info.unknown_value_inputs);
        Ok(())
    }

    /// What each (address, asset) holds at the end, whatever the policy:
    /// account balances (a debit beyond the balance reveals missing history,
    /// so it never goes below zero; stop services are not tracked) plus the
    /// values of unspent outputs by owner.
    pub fn final_holdings(ledger: &Ledger) -> BTreeMap<(AddrId, AssetId), Amount> {
        let mut h: BTreeMap<(AddrId, AssetId), Amount> = BTreeMap::new();
        for m in &ledger.movements {
            if !m.from.is_none() {
                let b = h.entry((ledger.account_addr(m.from), m.asset)).or_default();
                *b = b.saturating_sub(m.amount());
            }
            if !m.to.is_none() {
                *h.entry((ledger.account_addr(m.to), m.asset)).or_default() += m.amount();
            }
        }
        let spent: BTreeSet<u32> = ledger
            .inputs
            .iter()
            .map(|i| i.spent)
            .filter(|s| *s != NO_OUTPUT)
            .collect();
        for tx in &ledger.utxo_txs {
            for g in tx.outputs[0]..tx.outputs[1] {
                if !spent.contains(&g) {
                    let o = ledger.outputs[g as usize];
                    *h.entry((o.owner, tx.asset)).or_default() += o.value();
                }
            }
        }
        h
    }
}

use common::*;
use ethnum::U256;
use fundtrail::ingest::raw::Raw;
use fundtrail::model::Amount;
use fundtrail::store;
use fundtrail::trace::{EndpointKind, Haircut, Lot, Policy, TaintPolicy};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const CONSERVING: [Policy; 4] = [Policy::Haircut, Policy::Fifo, Policy::Lifo, Policy::Tiho];

/// `floor(a * b / c)` in 256 bits, independently of the crate's own helper.
fn mul_div(a: Amount, b: Amount, c: Amount) -> Amount {
    (U256::from(a) * U256::from(b) / U256::from(c)).as_u128()
}

#[derive(Clone, Debug)]
enum AcctOp {
    Credit {
        amount: Amount,
        permille: u32,
    },
    Debit {
        amount: Amount,
        missing_tainted: bool,
    },
}

fn acct_op() -> impl Strategy<Value = AcctOp> {
    prop_oneof![
        (
            amount(),
            prop_oneof![Just(0u32), Just(1000u32), 0..=1000u32]
        )
            .prop_map(|(amount, permille)| AcctOp::Credit { amount, permille }),
        (amount(), prop::bool::weighted(0.3)).prop_map(|(amount, missing_tainted)| AcctOp::Debit {
            amount,
            missing_tainted
        }),
    ]
}

/// `v * permille / 1000` without overflow for any `v`.
fn share(v: Amount, permille: u32) -> Amount {
    mul_div(v, permille as Amount, 1000)
}

/// Inputs, then the seeds of the shuffled two-file layout: permutation seed,
/// where to cut into two files (if at all), a duplicated line and where.
fn shuffled_files() -> impl Strategy<Value = (Case, u64, Option<Index>, Option<(Index, Index)>)> {
    (
        case(),
        any::<u64>(),
        prop::option::weighted(0.6, any::<Index>()),
        prop::option::weighted(0.4, (any::<Index>(), any::<Index>())),
    )
}

/// Write the case's lines shuffled, perhaps over two files and with one line
/// repeated; returns the files and how many lines were repeated.
fn write_shuffled(
    dir: &std::path::Path,
    case: &Case,
    perm: u64,
    cut: Option<Index>,
    dup: Option<(Index, Index)>,
) -> (Vec<PathBuf>, u64) {
    let mut lines = lines(case);
    shuffle(&mut lines, perm);
    let mut dups = 0;
    if let Some((which, at)) = dup {
        let line = lines[which.index(lines.len())].clone();
        let at = at.index(lines.len() + 1);
        lines.insert(at, line);
        dups = 1;
    }
    let paths = match cut {
        Some(c) => {
            let c = c.index(lines.len() + 1);
            vec![
                write_lines(dir, "part-b.jsonl", &lines[..c]),
                write_lines(dir, "part-a.jsonl", &lines[c..]),
            ]
        }
        None => vec![write_lines(dir, "shuffled.jsonl", &lines)],
    };
    (paths, dups)
}

proptest! {
    #![proptest_config(config(256))]

    /// SPEC.md §3: for every policy but poison, per asset,
    /// `seeded = held + absorbed + fees + below_threshold` exactly.
    #[test]
    fn conservation_holds_exactly_per_asset(case in case()) {
        let ledger = build_ledger(&case.records);
        for p in CONSERVING {
            let r = trace(&ledger, &case, p);
            for (asset, t) in &r.totals {
                prop_assert!(t.conserved(), "{:?}, asset {}: {:?}", p, ledger.asset(*asset).name, t);
            }
        }
    }

    /// Marking transactions as CoinJoins never creates or loses value:
    /// with `stop` (taint entering one is absorbed at the input) or `pass`
    /// (only a flag), conservation still holds to the unit.
    #[test]
    fn coinjoin_pass_and_stop_conserve(case in case(), mask in any::<u64>(), stop in any::<bool>()) {
        let ledger = build_ledger(&case.records);
        let cj = fundtrail::trace::CoinJoins {
            by_tx: (0..ledger.utxo_txs.len() as u32)
                .filter(|i| mask >> (i % 64) & 1 == 1)
                .map(|i| (i, 500_000))
                .collect(),
            stop,
        };
        for p in CONSERVING {
            let plan = fundtrail::trace::TracePlan {
                coinjoins: Some(std::sync::Arc::new(cj.clone())),
                ..plan(&ledger, &case, p)
            };
            let r = fundtrail::trace::run(&ledger, &plan);
            for (asset, t) in &r.totals {
                prop_assert!(t.conserved(), "{:?}, asset {}: {:?}", p, ledger.asset(*asset).name, t);
            }
            let flagged = r.endpoints.iter().any(|e| e.coinjoin.is_some());
            if cj.by_tx.is_empty() {
                prop_assert!(!flagged);
            }
        }
    }

    /// The flow record accounts for what stop services absorbed: the flows
    /// into a service endpoint sum to its taint, and recording changes no
    /// other part of the result.
    #[test]
    fn flows_into_services_sum_to_what_they_absorbed(case in case()) {
        let ledger = build_ledger(&case.records);
        for p in CONSERVING {
            let plain = plan(&ledger, &case, p);
            let rec = fundtrail::trace::TracePlan { record_flows: true, ..plain.clone() };
            let a = fundtrail::trace::run(&ledger, &plain);
            let mut b = fundtrail::trace::run(&ledger, &rec);
            prop_assert!(b.flows.iter().all(|f| f.taint > 0));
            for e in b.endpoints.iter().filter(|e| e.kind == fundtrail::trace::EndpointKind::Service) {
                let into: Amount = b.flows.iter().filter(|f| f.to == e.addr && f.asset == e.asset).map(|f| f.taint).sum();
                prop_assert_eq!(into, e.tainted, "{:?}", p);
            }
            b.flows.clear();
            prop_assert_eq!(a, b);
        }
    }

    /// The forward cone is exact: replaying only the movements of the
    /// accounts taint can reach gives the same result as replaying every
    /// movement of the ledger, for every policy.
    #[test]
    fn the_cone_gives_what_the_full_replay_gives(case in case()) {
        let ledger = build_ledger(&case.records);
        for p in Policy::ALL {
            let coned = plan(&ledger, &case, p);
            let full = fundtrail::trace::TracePlan { full_replay: true, ..coned.clone() };
            prop_assert_eq!(fundtrail::trace::run(&ledger, &coned), fundtrail::trace::run(&ledger, &full), "{:?}", p);
        }
    }

    /// The endpoints are the totals broken down: holding endpoints sum to
    /// `held` and service endpoints to `absorbed`, per asset; each has taint.
    #[test]
    fn endpoints_sum_to_held_and_absorbed(case in case()) {
        let ledger = build_ledger(&case.records);
        for p in Policy::ALL {
            let r = trace(&ledger, &case, p);
            let mut sums: BTreeMap<_, (Amount, Amount)> = BTreeMap::new();
            for e in &r.endpoints {
                prop_assert!(e.tainted > 0, "{:?}: empty endpoint {:?}", p, e);
                let s = sums.entry(e.asset).or_default();
                match e.kind {
                    EndpointKind::Holding => s.0 += e.tainted,
                    EndpointKind::Service => s.1 += e.tainted,
                }
            }
            for (asset, t) in &r.totals {
                let (held, absorbed) = sums.remove(asset).unwrap_or_default();
                prop_assert_eq!((held, absorbed), (t.held, t.absorbed), "{:?}, asset {}", p, ledger.asset(*asset).name);
            }
            prop_assert!(sums.is_empty(), "{:?}: endpoints of assets without totals: {:?}", p, sums);
        }
    }

    /// Poison over-approximates: every endpoint of another policy is a poison
    /// endpoint of the same kind holding at least as much.
    #[test]
    fn poison_contains_every_other_policys_endpoints(case in case()) {
        let ledger = build_ledger(&case.records);
        let poison: BTreeMap<_, Amount> = trace(&ledger, &case, Policy::Poison)
            .endpoints
            .iter()
            .map(|e| ((e.addr, e.asset, e.kind), e.tainted))
            .collect();
        for p in CONSERVING {
            for e in trace(&ledger, &case, p).endpoints.iter().filter(|e| e.tainted > 0) {
                let name = ledger.address(e.addr);
                let under_poison = poison.get(&(e.addr, e.asset, e.kind));
                prop_assert!(under_poison.is_some(), "{:?} endpoint {} {:?} is not a poison endpoint", p, name, e);
                prop_assert!(e.tainted <= *under_poison.unwrap(), "{:?} endpoint {} {:?} exceeds poison's {:?}", p, name, e, under_poison);
            }
        }
    }

    /// SPEC.md §1: exports are not sorted or de-duplicated. The same records
    /// in any order, over one or two files, with a line repeated, give the
    /// same ledger (and the same as building the records directly) and the
    /// same traces.
    #[test]
    fn record_order_files_and_duplicates_change_nothing((case, perm, cut, dup) in shuffled_files()) {
        let dir = tempfile::tempdir().unwrap();
        let base = ingest(&[write_lines(dir.path(), "ordered.jsonl", &lines(&case))]);
        prop_assert_eq!(base.info.duplicates, 0);
        same_but_info(&base, &build_ledger(&case.records))?;

        let (paths, dups) = write_shuffled(dir.path(), &case, perm, cut, dup);
        let other = ingest(&paths);
        same_but_info(&base, &other)?;
        prop_assert_eq!(other.info.duplicates, dups);
        for ((p, a), (_, b)) in trace_all(&base, &case).into_iter().zip(trace_all(&other, &case)) {
            prop_assert_eq!(a, b, "{:?}", p);
        }
    }

    /// A store written and opened again is the same ledger, info included,
    /// and traces the same under every policy.
    #[test]
    fn store_round_trip_keeps_the_ledger_and_traces((case, perm, cut, dup) in shuffled_files()) {
        let dir = tempfile::tempdir().unwrap();
        let (paths, _) = write_shuffled(dir.path(), &case, perm, cut, dup);
        let ledger = ingest(&paths);
        let path = dir.path().join("case.ftl");
        store::write(&ledger, &path).unwrap();
        let opened = store::open(&path).unwrap();
        prop_assert_eq!(&opened, &ledger);
        for ((p, a), (_, b)) in trace_all(&ledger, &case).into_iter().zip(trace_all(&opened, &case)) {
            prop_assert_eq!(a, b, "{:?}", p);
        }
    }

    /// Ingest parses records in parallel: one thread or two gives the same
    /// ledger and traces.
    #[test]
    fn thread_count_changes_nothing((case, perm, cut, dup) in shuffled_files()) {
        let dir = tempfile::tempdir().unwrap();
        let (paths, _) = write_shuffled(dir.path(), &case, perm, cut, dup);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
                let l = ingest(&paths);
                let r = trace_all(&l, &case);
                (l, r)
            })
        };
        let (one, one_traces) = on(1);
        let (two, two_traces) = on(2);
        prop_assert_eq!(&one, &two);
        prop_assert_eq!(one_traces, two_traces);
    }

    /// SPEC.md §3 haircut, account model: a debit of `x` from balance `B`
    /// (missing history revealed first) with taint `T` carries exactly
    /// `floor(x * T / B)`, never more than `x` or `T`; the remainder stays.
    #[test]
    fn haircut_debit_carries_exactly_its_share_and_never_more_than_moved(ops in prop::collection::vec(acct_op(), 1..=30)) {
        let mut a = <Haircut as TaintPolicy>::Acct::default();
        let (mut b, mut t): (Amount, Amount) = (0, 0);
        for op in ops {
            match op {
                AcctOp::Credit { amount, permille } => {
                    let taint = share(amount, permille);
                    Haircut::credit(&mut a, Lot { amount, taint });
                    b += amount;
                    t += taint;
                }
                AcctOp::Debit { amount: x, missing_tainted } => {
                    let (lot, shortfall) = Haircut::debit(&mut a, x, missing_tainted);
                    let expect_short = x.saturating_sub(b);
                    prop_assert_eq!(shortfall, expect_short);
                    b += expect_short;
                    if missing_tainted {
                        t += expect_short;
                    }
                    let carried = if b == 0 { 0 } else { mul_div(x, t, b) };
                    prop_assert_eq!(lot.amount, x);
                    prop_assert_eq!(lot.taint, carried, "x {} T {} B {}", x, t, b);
                    prop_assert!(lot.taint <= x && lot.taint <= t);
                    b -= x;
                    t -= carried;
                }
            }
            prop_assert_eq!(Haircut::balance(&a), b);
            prop_assert_eq!(Haircut::taint(&a), t);
            prop_assert!(t <= b);
        }
    }

    /// SPEC.md §3 haircut, UTXO model: output `o` gets exactly
    /// `floor(v(o) * T / V)` (so never more than its value) and the fee
    /// bucket the rest of the taint.
    #[test]
    fn haircut_split_gives_each_output_its_share_and_the_fee_the_rest(
        inputs in prop::collection::vec((amount(), prop_oneof![Just(0u32), Just(1000u32), 0..=1000u32]), 1..=4),
        weights in prop::collection::vec(0..=100u32, 1..=4),
        fee_permille in prop_oneof![Just(0u32), 0..=1000u32],
    ) {
        let lots: Vec<Lot> = inputs.iter().map(|(v, p)| Lot { amount: *v, taint: share(*v, *p) }).collect();
        let total: Amount = lots.iter().map(|l| l.amount).sum();
        let taint: Amount = lots.iter().map(|l| l.taint).sum();
        let budget = total - share(total, fee_permille);
        let w: u32 = weights.iter().sum::<u32>().max(1);
        let outputs: Vec<Amount> = weights.iter().map(|x| mul_div(budget, *x as Amount, w as Amount)).collect();
        let (outs, fee) = Haircut::split(lots, &outputs);
        prop_assert_eq!(outs.len(), outputs.len());
        for (o, v) in outs.iter().zip(&outputs) {
            let expect = if total == 0 { 0 } else { mul_div(*v, taint, total) };
            prop_assert_eq!((o.amount, o.taint), (*v, expect));
            prop_assert!(o.taint <= *v);
        }
        prop_assert_eq!(fee.amount, total - outputs.iter().sum::<Amount>());
        prop_assert_eq!(fee.taint + outs.iter().map(|o| o.taint).sum::<Amount>(), taint);
    }

    /// No policy taints more than an address holds at the end.
    #[test]
    fn no_holding_endpoint_exceeds_what_the_address_holds(case in case()) {
        let ledger = build_ledger(&case.records);
        let holdings = final_holdings(&ledger);
        for p in Policy::ALL {
            for e in trace(&ledger, &case, p).endpoints.iter().filter(|e| e.kind == EndpointKind::Holding) {
                let has = holdings.get(&(e.addr, e.asset)).copied().unwrap_or(0);
                prop_assert!(e.tainted <= has, "{:?}: {} holds {} but {:?}", p, ledger.address(e.addr), has, e);
            }
        }
    }

    /// When the seeds are the only source of funds, everything is tainted:
    /// every policy gives the same result, and each address's taint is all
    /// it holds.
    #[test]
    fn fully_tainted_funds_trace_the_same_under_every_policy(case in fully_tainted_case()) {
        let ledger = build_ledger(&case.records);
        let results = trace_all(&ledger, &case);
        let (_, haircut) = &results[1];
        for (p, r) in &results {
            prop_assert_eq!(&r.endpoints, &haircut.endpoints, "{:?} vs haircut", p);
            prop_assert_eq!(&r.totals, &haircut.totals, "{:?} vs haircut", p);
        }
        let stop = case.stop.as_deref().and_then(|s| ledger.addr_id(s));
        let expected: BTreeMap<_, Amount> = final_holdings(&ledger)
            .into_iter()
            .filter(|((a, _), v)| *v > 0 && Some(*a) != stop)
            .collect();
        let held: BTreeMap<_, Amount> = haircut
            .endpoints
            .iter()
            .filter(|e| e.kind == EndpointKind::Holding)
            .map(|e| ((e.addr, e.asset), e.tainted))
            .collect();
        prop_assert_eq!(held, expected);
    }
}

/// The generators produce what they promise (a guard against the properties
/// passing vacuously).
#[test]
fn generated_cases_cover_both_models_and_huge_amounts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut moves, mut utxos, mut huge, mut multisig, mut unknown, mut endpoints) =
        (0, 0, 0, 0, 0u64, 0);
    let mut kinds = BTreeSet::new();
    for _ in 0..200 {
        let case = case().new_tree(&mut runner).unwrap().current();
        for r in &case.records {
            match r {
                Raw::Move(m) => {
                    moves += 1;
                    kinds.insert(m.kind);
                    huge += (m.amount > u64::MAX as Amount) as u32;
                }
                Raw::Utxo(u) => {
                    utxos += 1;
                    multisig += u.outputs.iter().filter(|o| o.owner.contains(',')).count();
                }
                _ => {}
            }
        }
        let ledger = build_ledger(&case.records);
        unknown += ledger.info.unknown_value_inputs;
        endpoints += trace(&ledger, &case, Policy::Haircut).endpoints.len();
    }
    assert!(moves > 0 && utxos > 0 && huge > 0 && multisig > 0 && unknown > 0 && endpoints > 0);
    assert_eq!(kinds.len(), 4, "{kinds:?}");
}

/// Found by `conservation_holds_exactly_per_asset`: a seed transaction whose
/// haircut split leaves rounding dust in a zero fee (taint 1 on a fee of 0)
/// made the seeded total subtract 1 from 0 (a panic in debug builds).
#[test]
fn seed_tx_with_haircut_dust_in_a_zero_fee_conserves() {
    use fundtrail::ingest::raw::{BlockRef, RawInput, RawOutput, RawUtxoTx};
    let tx = |txid: &str, index, inputs: Vec<RawInput>, outputs: Vec<(&str, Amount)>| {
        Raw::Utxo(RawUtxoTx {
            txid: txid.into(),
            block: BlockRef::Height(500),
            index: Some(index),
            time: 0,
            coinbase: inputs.is_empty(),
            asset: "BTC".into(),
            inputs,
            outputs: outputs
                .into_iter()
                .map(|(owner, value)| RawOutput {
                    owner: owner.into(),
                    value,
                })
                .collect(),
        })
    };
    let spend = |prev: &str, vout| RawInput {
        prev_txid: prev.into(),
        vout,
        owner: None,
        value: None,
    };
    // The seed's 1 and an input of unknown value (so 2, clean) pay 2 + 1,
    // fee 0: haircut gives floor(2/3) = floor(1/3) = 0, the fee bucket 1.
    let records = vec![
        tx("c0", 0, vec![], vec![("3Carol", 1)]),
        tx(
            "c1",
            1,
            vec![spend("e7", 1), spend("c0", 0)],
            vec![("1Alice", 2), ("1Alice", 1)],
        ),
    ];
    let case = Case {
        shout: vec![false; records.len()],
        records,
        seeds: vec!["3Carol".into()],
        seed_tx: Some("c1".into()),
        stop: None,
        min_taint: 0,
    };
    let ledger = build_ledger(&case.records);
    for p in Policy::ALL {
        let r = trace(&ledger, &case, p);
        let t = r.totals.values().next().unwrap();
        assert_eq!((t.held, t.fees), (3, 0), "{p:?}");
        if p.conserves() {
            assert_eq!(t.seeded, 3, "{p:?}");
        }
        assert_eq!(r.endpoints.len(), 1, "{p:?}");
        assert_eq!(
            (ledger.address(r.endpoints[0].addr), r.endpoints[0].tainted),
            ("1Alice", 3)
        );
    }
}
