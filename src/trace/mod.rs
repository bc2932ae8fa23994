//! Trace: replay value flow from the seeds in canonical order under a taint
//! policy (SPEC.md §2-§4), for both ledger models.
//!
//! A `TracePlan` says what to trace; `run` executes it against a `Ledger` and
//! returns a `TraceResult` (totals per asset, endpoints). Each policy is one
//! `TaintPolicy` implementation in its own file; `account` and `utxo` hold the
//! two replay loops, which are generic over the policy. This module does no IO.

mod account;
mod cone;
mod fifo;
mod haircut;
pub mod paths;
mod poison;
mod tiho;
mod utxo;

use crate::ledger::Ledger;
use crate::model::{AddrId, Amount, AssetId, TxId};
use rustc_hash::FxHashSet;
use std::collections::{BTreeMap, HashSet};

pub use fifo::{Fifo, Lifo, Pieces};
pub use haircut::Haircut;
pub use poison::Poison;
pub use tiho::Tiho;

/// A hint to bring `v`'s cache line in (nothing on other targets).
#[inline(always)]
pub(crate) fn prefetch<T>(v: &T) {
    prefetch_at((v as *const T).cast::<u8>());
}

/// A hint to bring in every cache line of `v`: its first and its last byte
/// (the same line when `v` does not straddle two).
#[inline(always)]
pub(crate) fn prefetch_whole<T>(v: &T) {
    let p = (v as *const T).cast::<u8>();
    prefetch_at(p);
    prefetch_at(p.wrapping_add(std::mem::size_of::<T>().saturating_sub(1)));
}

/// A hint to bring the cache line of address `p` in. Only a hint: it
/// reads nothing, so any address will do.
#[inline(always)]
pub(crate) fn prefetch_at(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it reads nothing and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The taint policies of SPEC.md §3.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    Poison,
    Haircut,
    Fifo,
    Lifo,
    Tiho,
}

impl Policy {
    pub const ALL: [Policy; 5] = [
        Policy::Poison,
        Policy::Haircut,
        Policy::Fifo,
        Policy::Lifo,
        Policy::Tiho,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Poison => "poison",
            Policy::Haircut => "haircut",
            Policy::Fifo => "fifo",
            Policy::Lifo => "lifo",
            Policy::Tiho => "tiho",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether `seeded = held + absorbed + fees + below_threshold` holds.
    pub fn conserves(self) -> bool {
        self != Policy::Poison
    }
}

/// What to trace: resolved against one ledger (ids, not text).
#[derive(Clone, Debug, Default)]
pub struct TracePlan {
    pub policy: Option<Policy>,
    /// Seed addresses (the thief's).
    pub seeds: Vec<AddrId>,
    /// Seed transactions: every amount they move is tainted where it lands.
    pub seed_txs: Vec<TxId>,
    /// Stop services: taint that reaches them is absorbed.
    pub stops: HashSet<AddrId>,
    /// Taint below this (per movement, base units) is not followed.
    pub min_taint: Amount,
    /// Replay every account and movement instead of the seeds' forward cone
    /// (the same result, slower: for tests and benchmarks).
    pub full_replay: bool,
    /// Mixer pools: endpoints reached through one say so.
    pub mixers: HashSet<AddrId>,
    /// `--mixer demix`: the pools' deposit-withdrawal links, which taint
    /// follows in proportion to their confidence.
    pub demix: Option<std::sync::Arc<crate::heuristics::mixer::Demix>>,
    /// Detected CoinJoins (UTXO): endpoints reached through one say so;
    /// with `stop`, taint entering one is absorbed at the input's address.
    pub coinjoins: Option<std::sync::Arc<CoinJoins>>,
    /// Keep every transfer that carried taint (`TraceResult::flows`), for
    /// flow graphs.
    pub record_flows: bool,
}

/// A transfer that carried taint: in the account model one movement, in
/// the UTXO model one output (from the transaction's first tainted input's
/// owner).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub from: AddrId,
    pub to: AddrId,
    pub asset: AssetId,
    pub tx: TxId,
    pub block: u32,
    pub taint: Amount,
}

/// CoinJoin transactions for the replay.
#[derive(Clone, Debug, Default)]
pub struct CoinJoins {
    /// UTXO transaction index -> confidence in millionths.
    pub by_tx: rustc_hash::FxHashMap<u32, u32>,
    /// Taint that enters a CoinJoin stops there (`--coinjoin stop`).
    pub stop: bool,
}

impl CoinJoins {
    pub fn new(found: &[crate::heuristics::coinjoin::CoinJoin], stop: bool) -> CoinJoins {
        CoinJoins {
            by_tx: found
                .iter()
                .map(|c| (c.tx as u32, (c.confidence * 1e6).round() as u32))
                .collect(),
            stop,
        }
    }
}

/// How taint reached an endpoint through a CoinJoin.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CoinJoinPassage {
    pub tx: TxId,
    /// The detector's confidence that the transaction is a CoinJoin, in
    /// millionths.
    pub confidence_ppm: u32,
    /// How much of the endpoint's taint crossed a CoinJoin (or stopped at
    /// one), followed in proportion through later transactions.
    pub taint: Amount,
}

/// How taint reached an endpoint through a mixer pool.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    /// The pool's address.
    pub pool: AddrId,
    /// The confidence of the demixing link it followed, in millionths;
    /// `None` when it passed through the pool under the policy (`--mixer
    /// pass`, or what no link explains).
    pub link_ppm: Option<u32>,
    /// How much of the endpoint's taint crossed the pool: followed in
    /// proportion from the pool to here (exact under haircut, a share of
    /// what an account held under the other policies).
    pub taint: Amount,
}

/// Per-asset totals (SPEC.md §3 conservation).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub seeded: Amount,
    pub held: Amount,
    pub absorbed: Amount,
    pub fees: Amount,
    pub below_threshold: Amount,
}

impl Totals {
    /// `seeded == held + absorbed + fees + below_threshold`, exactly.
    pub fn conserved(&self) -> bool {
        self.held
            .checked_add(self.absorbed)
            .and_then(|s| s.checked_add(self.fees))
            .and_then(|s| s.checked_add(self.below_threshold))
            == Some(self.seeded)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointKind {
    /// An address still holding tainted funds at the end of the replay.
    Holding,
    /// A stop service that absorbed taint.
    Service,
}

impl EndpointKind {
    pub fn name(self) -> &'static str {
        match self {
            EndpointKind::Holding => "holding",
            EndpointKind::Service => "service",
        }
    }
}

/// Where taint ended up: one per (address, asset, kind).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: AddrId,
    pub asset: AssetId,
    pub tainted: Amount,
    pub kind: EndpointKind,
    /// Fewest transfers from a seed along which taint arrived.
    pub hops: u32,
    /// Whether taint arrived through a mixer pool, and how surely.
    pub mixer: Option<Passage>,
    /// Whether taint arrived through a CoinJoin (or, for a service endpoint
    /// under `--coinjoin stop`, was stopped entering one).
    pub coinjoin: Option<CoinJoinPassage>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceResult {
    pub totals: BTreeMap<AssetId, Totals>,
    /// Every endpoint with taint > 0, sorted by (asset, address, kind).
    pub endpoints: Vec<Endpoint>,
    /// UTXO inputs of unknown value met in the replay (SPEC.md §3).
    pub unknown_value_inputs: u64,
    /// UTXO transactions whose known inputs were worth less than their
    /// outputs (value from outside the sample, taken as clean).
    pub unbalanced_txs: u64,
    /// With `TracePlan::record_flows`: every transfer that carried taint,
    /// account movements in canonical order, then UTXO outputs.
    pub flows: Vec<Flow>,
}

/// Hops value for "no taint arrived".
pub const NO_HOPS: u32 = u32::MAX;

/// An amount and the tainted part of it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Lot {
    pub amount: Amount,
    pub taint: Amount,
}

/// What a debit or a UTXO input carries: an amount and its tainted part.
pub trait Parcel: Clone {
    fn amount(&self) -> Amount;
    fn taint(&self) -> Amount;
    fn clean(x: Amount) -> Self;
    fn tainted(x: Amount) -> Self;
    /// This parcel less `t` of its tainted units (at most its taint).
    fn without_taint(self, t: Amount) -> Self;
    /// This parcel followed by `later`.
    fn join(self, later: Self) -> Self;
}

impl Parcel for Lot {
    fn amount(&self) -> Amount {
        self.amount
    }
    fn taint(&self) -> Amount {
        self.taint
    }
    fn clean(x: Amount) -> Lot {
        Lot {
            amount: x,
            taint: 0,
        }
    }
    fn tainted(x: Amount) -> Lot {
        Lot {
            amount: x,
            taint: x,
        }
    }
    fn without_taint(self, t: Amount) -> Lot {
        let t = t.min(self.taint);
        Lot {
            amount: self.amount - t,
            taint: self.taint - t,
        }
    }
    fn join(self, later: Lot) -> Lot {
        Lot {
            amount: self.amount + later.amount,
            taint: self.taint + later.taint,
        }
    }
}

/// A taint policy: the account state machine (debit/credit) and the UTXO
/// split, over one parcel type (what a debit or an input carries).
pub trait TaintPolicy {
    /// Per-account state.
    type Acct: Default + Clone;
    /// What moves: an amount with its taint (and, for FIFO/LIFO, its pieces).
    type Parcel: Parcel;

    fn balance(a: &Self::Acct) -> Amount;
    fn taint(a: &Self::Acct) -> Amount;
    /// Debit `x`. A shortfall beyond the balance was already there (missing
    /// history), older than anything in the sample: tainted iff
    /// `missing_tainted`. Returns what leaves and the shortfall.
    fn debit(a: &mut Self::Acct, x: Amount, missing_tainted: bool) -> (Self::Parcel, Amount);
    fn credit(a: &mut Self::Acct, p: Self::Parcel);

    fn parcel_amount(p: &Self::Parcel) -> Amount {
        p.amount()
    }
    fn parcel_taint(p: &Self::Parcel) -> Amount {
        p.taint()
    }
    fn clean(x: Amount) -> Self::Parcel {
        Self::Parcel::clean(x)
    }
    fn tainted(x: Amount) -> Self::Parcel {
        Self::Parcel::tainted(x)
    }

    /// UTXO: split the inputs' parcels (in input order) over the outputs'
    /// values; the fee takes what is left. `sum(outputs) <= sum(inputs)`.
    fn split(inputs: Vec<Self::Parcel>, outputs: &[Amount]) -> (Vec<Self::Parcel>, Self::Parcel);
}

/// Per-asset totals while replaying: by asset id (ids are dense, and the
/// UTXO replay adds to them for nearly every transaction it replays), an
/// asset's totals made when first asked for.
#[derive(Default)]
pub(crate) struct Books {
    totals: Vec<Option<Totals>>,
    pub flows: Vec<Flow>,
}

impl Books {
    pub fn at(&mut self, a: AssetId) -> &mut Totals {
        let i = a.0 as usize;
        if i >= self.totals.len() {
            self.totals.resize_with(i + 1, || None);
        }
        self.totals[i].get_or_insert_with(Totals::default)
    }

    /// The totals of every asset asked for.
    fn totals(&self) -> BTreeMap<AssetId, Totals> {
        self.totals
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (AssetId(i as u32), t)))
            .collect()
    }
}

/// A set of ids (accounts, addresses) as one bit each: for a set asked
/// about once per movement or output, where a hash set would hash each time.
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    /// Room for ids `0..n`, none in the set.
    pub fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    pub fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Whether `i` is in the set (an id past the room never is).
    pub fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// The ids in the set, ascending.
    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |k| bits >> k & 1 == 1)
                .map(move |k| (w * 64 + k) as u32)
        })
    }
}

/// Seeds and stops resolved to per-address flags. UTXO owners with several
/// addresses (`a,b`) match when any of their addresses does.
pub(crate) struct Roles {
    // (Fx: asked in the replays' loops)
    pub seed: FxHashSet<AddrId>,
    pub stop: FxHashSet<AddrId>,
    pub seed_tx: FxHashSet<TxId>,
}

impl Roles {
    fn new(ledger: &Ledger, plan: &TracePlan) -> Roles {
        let mut seed: FxHashSet<AddrId> = plan.seeds.iter().copied().collect();
        let mut stop: FxHashSet<AddrId> = plan.stops.iter().copied().collect();
        let seed_text: HashSet<&str> = plan.seeds.iter().map(|a| ledger.address(*a)).collect();
        let stop_text: HashSet<&str> = plan.stops.iter().map(|a| ledger.address(*a)).collect();
        // Only UTXO owners have several addresses: skip the scan without them.
        let scan = if ledger.utxo_txs.is_empty() {
            0
        } else {
            ledger.addresses.len()
        };
        for (i, a) in ledger.addresses.iter().take(scan).enumerate() {
            if a.contains(',') {
                if a.split(',').any(|p| seed_text.contains(p)) {
                    seed.insert(AddrId(i as u32));
                } else if a.split(',').any(|p| stop_text.contains(p)) {
                    stop.insert(AddrId(i as u32));
                }
            }
        }
        Roles {
            seed,
            stop,
            seed_tx: plan.seed_txs.iter().copied().collect(),
        }
    }
}

/// Trace `plan` over `ledger`.
pub fn run(ledger: &Ledger, plan: &TracePlan) -> TraceResult {
    match plan.policy.unwrap_or(Policy::Haircut) {
        Policy::Poison => run_with::<Poison>(ledger, plan),
        Policy::Haircut => run_with::<Haircut>(ledger, plan),
        Policy::Fifo => run_with::<Fifo>(ledger, plan),
        Policy::Lifo => run_with::<Lifo>(ledger, plan),
        Policy::Tiho => run_with::<Tiho>(ledger, plan),
    }
}

fn run_with<P: TaintPolicy>(ledger: &Ledger, plan: &TracePlan) -> TraceResult {
    let roles = Roles::new(ledger, plan);
    let mut books = Books::default();
    let mut endpoints = account::replay::<P>(ledger, plan, &roles, &mut books);
    let u = utxo::replay::<P>(ledger, plan, &roles, &mut books);
    endpoints.extend(u.endpoints);
    endpoints.sort_by_key(|e| (e.asset, e.addr, e.kind));
    TraceResult {
        totals: books.totals(),
        endpoints,
        unknown_value_inputs: u.unknown_value_inputs,
        unbalanced_txs: u.unbalanced_txs,
        flows: books.flows,
    }
}

#[cfg(test)]
mod tests;
