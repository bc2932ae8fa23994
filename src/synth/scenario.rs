//! Scenarios: presets modelled on real thefts, single typologies, or a
//! comma-separated list of typologies applied in order, each with
//! realistic timing (hops spread over blocks, mixer withdrawals days
//! later). Also the truth file.
//!
//! Presets (amounts at `--scale` 1,000,000 and above; smaller ledgers scale
//! the Ronin theft down so the laundering stays a small part of them):
//! - `lazarus-eth` (Ronin bridge, March 2022: 173,600 ETH): look-alike dust,
//!   a fan-out to four wallets, one cashing out at exchanges, two through the
//!   100 ETH mixer pool (withdrawn two days later, 5-6 notes per fresh
//!   address, Harmony style) and on to the bridge (a chain hop), a swap and a
//!   peel chain, one scatter-gather into a swap.
//! - `bybit-eth` (Bybit, February 2025: 401,347 ETH): 40 × 10,000 ETH
//!   fan-out, stacked layers, most value bridged away, some swapped, some
//!   cashed out, some left in place, dust decoys flooding the zone.
//! - `bitfinex-btc` (Bitfinex, August 2016: 119,756 BTC): one theft
//!   transaction to many addresses; some split further and peel at
//!   exchanges for many hops, some peel directly, the rest stays dormant.
//! - `background`: only the economy (no theft).

use super::economy::MIXER_NOTE;
use super::typology::{self as ty, Case, Holding, Plan};
use super::{first_block, render, Asset, Chain, Format, BTC, ETH};
use anyhow::{bail, Result};
use serde::Serialize;
use std::io::Write;

pub const PRESETS: [&str; 4] = ["lazarus-eth", "bitfinex-btc", "bybit-eth", "background"];
pub const TYPOLOGIES: [&str; 11] = [
    "fan-out",
    "peel-chain",
    "mixer",
    "scatter-gather",
    "gather-scatter",
    "cycle",
    "layers",
    "bridge",
    "swap",
    "decoys",
    "cash-out",
];
/// Typologies the UTXO model supports.
pub const UTXO_TYPOLOGIES: [&str; 3] = ["fan-out", "peel-chain", "cash-out"];

/// Every valid scenario name, for messages.
pub fn names() -> String {
    format!(
        "presets: {}; typologies: {} (or several, comma-separated, applied in order)",
        PRESETS.join(", "),
        TYPOLOGIES.join(", ")
    )
}

/// A parsed `--scenario`.
#[derive(Clone, Debug)]
pub struct Spec {
    pub preset: Option<&'static str>,
    pub steps: Vec<&'static str>,
    /// The chain the scenario needs (None: either, by format).
    pub chain: Option<Chain>,
}

impl Spec {
    pub fn parse(s: &str) -> Result<Spec> {
        if let Some(p) = PRESETS.iter().find(|p| **p == s) {
            let chain = match *p {
                "lazarus-eth" | "bybit-eth" => Some(Chain::Eth),
                "bitfinex-btc" => Some(Chain::Btc),
                _ => None,
            };
            return Ok(Spec {
                preset: Some(p),
                steps: Vec::new(),
                chain,
            });
        }
        let mut steps = Vec::new();
        for part in s.split(',').map(str::trim) {
            match TYPOLOGIES.iter().find(|t| **t == part) {
                Some(t) => steps.push(*t),
                None => bail!("unknown scenario {part:?}: the scenarios are {}", names()),
            }
        }
        let utxo_ok = steps.iter().all(|t| UTXO_TYPOLOGIES.contains(t));
        Ok(Spec {
            preset: None,
            steps,
            chain: if utxo_ok { None } else { Some(Chain::Eth) },
        })
    }

    pub fn is_background(&self) -> bool {
        self.preset == Some("background")
    }
}

/// Plan the laundering of `spec` (events and truth), sealed.
pub fn plan(spec: &Spec, chain: Chain, seed: u64, scale: u64, users: u64) -> Result<Plan> {
    let start = first_block(chain);
    let mut p = Plan::new(chain, seed, users, start);
    let theft_at = start + 50;
    // Ronin-size thefts shrink with small ledgers (laundering stays a small
    // share of the movements); fan-out sizes and denominations do not.
    let f = (scale as f64 / 1_000_000.0).clamp(0.02, 1.0);
    match spec.preset {
        Some("background") => {}
        Some("lazarus-eth") => lazarus(&mut p, theft_at, f),
        Some("bybit-eth") => bybit(&mut p, theft_at, f),
        Some("bitfinex-btc") => bitfinex(&mut p, theft_at, f),
        Some(other) => bail!("unknown preset {other:?}"),
        None => {
            if chain == Chain::Btc {
                if let Some(t) = spec.steps.iter().find(|t| !UTXO_TYPOLOGIES.contains(t)) {
                    bail!(
                        "typology {t:?} needs the account model; on Bitcoin the typologies are {}",
                        UTXO_TYPOLOGIES.join(", ")
                    );
                }
            }
            open_case(&mut p, &spec.steps.join(","));
            let seeds = if spec.steps.first() == Some(&"gather-scatter") {
                3
            } else {
                1
            };
            let each = match chain {
                Chain::Eth => 2_000 * ETH,
                Chain::Btc => 500 * BTC,
            };
            let mut hs = ty::theft(&mut p, 0, &vec![each; seeds], theft_at);
            for t in &spec.steps {
                hs = wait(&mut p, hs, 10, 200);
                hs = step(&mut p, t, hs);
            }
            p.finish(hs);
        }
    }
    for c in &p.cases {
        for (asset, d) in c.unaccounted() {
            if d != 0 {
                bail!(
                    "internal error: case {} does not account for {d} of {asset:?}",
                    c.name
                );
            }
        }
    }
    let min_span = match chain {
        Chain::Eth => (scale / 300).max(1500),
        Chain::Btc => (scale / 3000).max(200),
    };
    p.seal(min_span);
    Ok(p)
}

fn open_case(p: &mut Plan, name: &str) {
    p.cases.push(Case {
        name: name.to_string(),
        ..Default::default()
    });
}

/// Holdings sit for a while (between `lo` and `hi` blocks) before the next step.
fn wait(p: &mut Plan, mut hs: Vec<Holding>, lo: u64, hi: u64) -> Vec<Holding> {
    for h in &mut hs {
        h.block += lo + p.rng.below(hi - lo + 1);
    }
    hs
}

/// One typology with its default parameters.
fn step(p: &mut Plan, name: &str, hs: Vec<Holding>) -> Vec<Holding> {
    let btc = p.chain == Chain::Btc;
    match name {
        "fan-out" => ty::fan_out(p, hs, 8, None),
        "peel-chain" => ty::peel_chain(p, hs, 12, if btc { 3 } else { 6 }),
        "mixer" => ty::mixer(p, hs, 2 * 7_200),
        "scatter-gather" => ty::scatter_gather(p, hs, 5),
        "gather-scatter" => ty::gather_scatter(p, hs, 4),
        "cycle" => ty::cycle(p, hs, 4),
        "layers" => ty::layers(p, hs, &[3, 4, 2]),
        "bridge" => ty::bridge(p, hs),
        "swap" => ty::swap(p, hs),
        "decoys" => ty::decoys(p, hs, 12),
        "cash-out" => ty::cash_out(p, hs),
        other => unreachable!("typology {other} is listed"),
    }
}

/// Split holdings: the first `share` of them (at least one if any) and the rest.
fn take(mut hs: Vec<Holding>, share: f64) -> (Vec<Holding>, Vec<Holding>) {
    let n = ((hs.len() as f64 * share).ceil() as usize).min(hs.len());
    let rest = hs.split_off(n);
    (hs, rest)
}

fn lazarus(p: &mut Plan, at: u64, f: f64) {
    open_case(p, "lazarus-eth");
    let stolen = (173_600.0 * f).round() as u128 * ETH;
    let hs = ty::theft(p, 0, &[stolen], at);
    let hs = wait(p, hs, 300, 900);
    let hs = ty::decoys(p, hs, 10);
    let mut hs = ty::fan_out(p, hs, 4, None);
    let rest = if hs.len() > 4 {
        hs.split_off(4)
    } else {
        Vec::new()
    };
    let mut it = hs.into_iter();
    let (a, b, c, d) = (it.next(), it.next(), it.next(), it.next());
    let mut left = rest;
    // an early, clumsy cash-out at exchanges
    let split = ty::fan_out(p, a.into_iter().collect(), 3, None);
    left.extend(ty::cash_out(p, split));
    // the bulk through the mixer, two days, then away
    let mixed = ty::mixer(p, b.into_iter().chain(c).collect(), 2 * 7_200);
    let (notes, change): (Vec<_>, Vec<_>) =
        mixed.into_iter().partition(|h| h.amount % MIXER_NOTE == 0);
    left.extend(change);
    let notes = wait(p, notes, 30, 600);
    let (hop, notes) = take(notes, 0.5);
    left.extend(ty::bridge(p, hop));
    let (swapped, notes) = take(notes, 0.3);
    left.extend(ty::swap(p, swapped));
    let (peeled, kept) = take(notes, 0.5);
    left.extend(ty::peel_chain(p, peeled, 6, 10));
    left.extend(kept);
    // the last wallet scatters, gathers and swaps
    let g = ty::scatter_gather(p, d.into_iter().collect(), 6);
    let g = wait(p, g, 20, 200);
    left.extend(ty::swap(p, g));
    p.finish(left);
}

fn bybit(p: &mut Plan, at: u64, f: f64) {
    open_case(p, "bybit-eth");
    let hs = ty::theft(p, 0, &[401_347 * ETH], at);
    let hs = wait(p, hs, 5, 30);
    let hs = ty::fan_out(p, hs, 40, Some(10_000 * ETH));
    let (wallets, rest): (Vec<_>, Vec<_>) = hs.into_iter().partition(|h| h.amount == 10_000 * ETH);
    let mut left = rest;
    let wallets = wait(p, wallets, 20, 400);
    let wallets = ty::decoys(p, wallets, 20);
    // how many wallets launder this run (all at full scale)
    let busy = ((40.0 * f).ceil() as usize).clamp(6, 40);
    let mut wallets = wallets;
    let idle = wallets.split_off(busy.min(wallets.len()));
    left.extend(idle);
    let (bridged, wallets) = take(wallets, 0.6);
    let layered = ty::layers(p, bridged, &[4, 3]);
    let layered = wait(p, layered, 10, 300);
    left.extend(ty::bridge(p, layered));
    let (swapped, wallets) = take(wallets, 0.4);
    let s = ty::gather_scatter(p, swapped, 3);
    left.extend(ty::swap(p, s));
    let (cashed, kept) = take(wallets, 0.5);
    let c = ty::cycle(p, cashed, 3);
    left.extend(ty::cash_out(p, c));
    left.extend(kept);
    p.finish(left);
}

fn bitfinex(p: &mut Plan, at: u64, f: f64) {
    open_case(p, "bitfinex-btc");
    let n = ((40.0 * f).round() as usize).clamp(6, 40);
    let total = 119_756 * BTC;
    let mut amounts = vec![total / n as u128; n];
    amounts[0] += total - amounts.iter().sum::<u128>();
    let hs = ty::theft(p, 0, &amounts, at);
    let hs = wait(p, hs, 20, 100);
    let (split, hs) = take(hs, 0.34);
    let split = ty::fan_out(p, split, 3, None);
    let mut left = ty::peel_chain(p, split, 10, 3);
    let (peeled, dormant) = take(hs, 0.5);
    let peeled = wait(p, peeled, 5, 60);
    let mut peeled = ty::peel_chain(p, peeled, 16, 4);
    let last = peeled.pop();
    left.extend(ty::cash_out(p, last.into_iter().collect()));
    left.extend(peeled);
    left.extend(dormant);
    p.finish(left);
}

#[derive(Serialize)]
struct Truth<'a> {
    doc: &'a str,
    scenario: &'a str,
    seed: u64,
    scale: u64,
    format: &'a str,
    presample: &'a str,
    cases: Vec<CaseOut>,
}

#[derive(Serialize)]
struct CaseOut {
    name: String,
    seeds: Vec<String>,
    stolen: std::collections::BTreeMap<String, String>,
    fees: std::collections::BTreeMap<String, String>,
    endpoints: Vec<EndOut>,
    launderers: Vec<String>,
    decoys: Vec<Amounted>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mixer: Option<MixerOut>,
}

/// The thief's notes in the mixer pool: any of its deposits funds any of
/// its withdrawals.
#[derive(Serialize)]
struct MixerOut {
    deposits: Vec<String>,
    withdrawals: Vec<String>,
}

#[derive(Serialize)]
struct EndOut {
    address: String,
    asset: String,
    amount: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    swapped_from: Option<String>,
}

#[derive(Serialize)]
struct Amounted {
    address: String,
    asset: String,
    amount: String,
}

/// The doc string at the top of every truth file.
pub const TRUTH_DOC: &str =
    "Where the stolen value truly ends. Amounts are decimal strings in base \
units. Per case and per stolen asset, exactly: stolen = sum(endpoints) + sum(decoys) + fees, \
where endpoints are exchange deposit addresses the value reached (kind exchange: the exchange \
absorbs it), the bridge (kind bridge: it left the chain), the swap contract (kind dex) and \
addresses of the thief still holding it (kind holding); decoys are look-alike and random \
addresses that got only dust from the thief; fees are transaction fees paid from stolen funds. \
An endpoint with swapped_from holds what a swap paid for stolen value (another asset) and is \
outside the identity. launderers are every intermediate address the thief controls. mixer \
(when the thief used the mixer pool) lists the transactions of its deposits and of its \
withdrawals: any of its deposits funds any of its withdrawals.";

pub fn write_truth(
    w: &mut impl Write,
    chain: Chain,
    scenario: &str,
    seed: u64,
    scale: u64,
    format: Format,
    cases: &[Case],
) -> Result<()> {
    let r = |id| render(chain, id);
    let amounts = |m: &std::collections::BTreeMap<Asset, u128>| {
        m.iter()
            .map(|(a, v)| (a.name(), v.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let out = Truth {
        doc: TRUTH_DOC,
        scenario,
        seed,
        scale,
        format: format.name(),
        presample: super::economy::PRESAMPLE,
        cases: cases
            .iter()
            .map(|c| {
                let mut endpoints: Vec<EndOut> = c
                    .endpoints
                    .iter()
                    .map(|((id, a), (v, k, from))| EndOut {
                        address: r(*id),
                        asset: a.name(),
                        amount: v.to_string(),
                        kind: k.name(),
                        swapped_from: from.map(|x| x.name()),
                    })
                    .collect();
                endpoints.sort_by(|x, y| (&x.asset, &x.address).cmp(&(&y.asset, &y.address)));
                let mut launderers: Vec<String> = c.launderers.iter().map(|id| r(*id)).collect();
                launderers.sort();
                let mut decoys: Vec<Amounted> = c
                    .decoys
                    .iter()
                    .map(|((id, a), v)| Amounted {
                        address: r(*id),
                        asset: a.name(),
                        amount: v.to_string(),
                    })
                    .collect();
                decoys.sort_by(|x, y| x.address.cmp(&y.address));
                CaseOut {
                    name: c.name.clone(),
                    seeds: c.seeds.iter().map(|id| r(*id)).collect(),
                    stolen: amounts(&c.stolen),
                    fees: amounts(&c.fees),
                    endpoints,
                    launderers,
                    decoys,
                    mixer: (!c.mixer_deposits.is_empty()).then(|| MixerOut {
                        deposits: c
                            .mixer_deposits
                            .iter()
                            .map(|k| super::hash_of(chain, *k))
                            .collect(),
                        withdrawals: c
                            .mixer_withdrawals
                            .iter()
                            .map(|k| super::hash_of(chain, *k))
                            .collect(),
                    }),
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *w, &out)?;
    writeln!(w)?;
    w.flush()?;
    Ok(())
}
