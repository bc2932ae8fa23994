//! The endpoint score: one number to rank by, made of parts that are all in
//! the output.
//!
//! ```text
//! score      = share × confidence × purity_weight × category_weight
//! confidence = passage × agreement × hop_weight
//! ```
//!
//! - `share`: the endpoint's taint over the asset's seeded total (how much of
//!   the theft is there).
//! - `passage`: 1 when taint reached it without mixing. Of the share `s` of
//!   the endpoint's taint that crossed a mixer pool (followed in proportion
//!   from the pool), only the link's confidence `c` counts when it came
//!   along a demixing link, and 1/2 when it crossed by the policy's
//!   accounting alone: `1 - s(1 - c)`. Of the share `s` that passed a
//!   CoinJoin detected with confidence `c`, half counts when the CoinJoin is
//!   sure: `1 - s·c/2`. Taint stopped at a CoinJoin (`--coinjoin stop`) is
//!   certainly there: 1.
//! - `agreement`: the share of the compared policies (`--policies`) that
//!   list the endpoint (1 when only one policy ran).
//! - `hop_weight`: `0.98^(hops - 1)`: every further transfer is one more
//!   chance for a wrong attribution; gentle, since peel chains are long and
//!   clear.
//! - `purity_weight`: `(1 + min(purity, 1)) / 2`: an address that received
//!   mostly stolen funds is likely the thief's own or a deposit address used
//!   only by them; one that received a little among much is weaker evidence.
//! - `category_weight`: 1 for an actionable endpoint (labelled `exchange`:
//!   a custodian that can freeze the funds on this evidence), else 1/2.
//!
//! The weights are fixed and documented rather than tuned; every part is in
//! the output (`weights`), so a reader can re-rank by any of them.

use super::EndpointView;
use serde::Serialize;

/// Categories whose holder can freeze funds on evidence.
pub const ACTIONABLE: &[&str] = &["exchange"];

/// The factors of an endpoint's score besides its share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Weights {
    pub passage: f64,
    pub agreement: f64,
    pub hops: f64,
    pub purity: f64,
    pub category: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            passage: 1.0,
            agreement: 1.0,
            hops: 1.0,
            purity: 1.0,
            category: 1.0,
        }
    }
}

/// Is an endpoint with these labels actionable?
pub fn actionable(e: &EndpointView) -> bool {
    e.labels
        .iter()
        .any(|l| ACTIONABLE.contains(&l.category.as_str()))
}

/// Fill in `actionable`, `weights`, `confidence` and `score`.
pub fn score(e: &mut EndpointView) {
    let mut passage = 1.0;
    if let Some(m) = &e.mixer {
        let c = m.confidence.unwrap_or(0.5);
        passage *= 1.0 - m.share.clamp(0.0, 1.0) * (1.0 - c);
    }
    if let Some(c) = &e.coinjoin {
        if !c.stopped {
            passage *= 1.0 - c.share.clamp(0.0, 1.0) * c.confidence / 2.0;
        }
    }
    let agreement = match &e.agreement {
        Some(a) if a.of > 0 => a.listed_by.len() as f64 / a.of as f64,
        _ => 1.0,
    };
    let hops = 0.98f64.powi(e.hops.saturating_sub(1).min(10_000) as i32);
    let purity = (1.0 + e.purity.clamp(0.0, 1.0)) / 2.0;
    e.actionable = actionable(e);
    let category = if e.actionable { 1.0 } else { 0.5 };
    e.weights = Weights {
        passage,
        agreement,
        hops,
        purity,
        category,
    };
    e.confidence = passage * agreement * hops;
    e.score = e.share * e.confidence * purity * category;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Agreement, LabelView, MixerView};

    fn ep() -> EndpointView {
        EndpointView {
            rank: 0,
            address: "0xa".into(),
            asset: "ETH".into(),
            addr: crate::model::AddrId(0),
            asset_id: crate::model::AssetId(0),
            tainted: 50,
            kind: "holding",
            labels: Vec::new(),
            hops: 1,
            share: 0.5,
            purity: 1.0,
            received: 50,
            actionable: false,
            confidence: 0.0,
            weights: Weights::default(),
            score: 0.0,
            mixer: None,
            coinjoin: None,
            peel_chain: None,
            agreement: None,
            paths: Vec::new(),
            symbol: None,
            decimals: None,
        }
    }

    #[test]
    fn a_direct_pure_unlabelled_holding_scores_half_its_share() {
        let mut e = ep();
        score(&mut e);
        assert_eq!(e.confidence, 1.0);
        assert_eq!(e.score, 0.25); // share 0.5 × category 1/2
    }

    #[test]
    fn every_factor_is_in_the_output_and_their_product_is_the_score() {
        let mut e = ep();
        e.labels.push(LabelView {
            category: "exchange".into(),
            label: "Binance deposit".into(),
            source: "t".into(),
        });
        e.hops = 3;
        e.purity = 0.5;
        e.mixer = Some(MixerView {
            pool: "0xp".into(),
            via: "link",
            confidence: Some(0.8),
            tainted: 50,
            share: 1.0,
        });
        e.agreement = Some(Agreement {
            listed_by: vec!["haircut".into(), "fifo".into()],
            of: 4,
            min: 0,
            max: 50,
        });
        score(&mut e);
        assert!(e.actionable);
        let w = &e.weights;
        assert_eq!(
            (w.passage, w.agreement, w.purity, w.category),
            (0.8, 0.5, 0.75, 1.0)
        );
        assert!((w.hops - 0.98 * 0.98).abs() < 1e-12);
        assert!((e.confidence - 0.8 * 0.5 * 0.9604).abs() < 1e-12);
        assert!((e.score - 0.5 * e.confidence * 0.75).abs() < 1e-12);
    }

    #[test]
    fn an_unlinked_mixer_passage_halves_confidence_and_a_coinjoin_stop_does_not() {
        let mut e = ep();
        e.mixer = Some(MixerView {
            pool: "0xp".into(),
            via: "pass",
            confidence: None,
            tainted: 50,
            share: 1.0,
        });
        score(&mut e);
        assert_eq!(e.confidence, 0.5);
        // a fifth of it crossed: only that fifth is in doubt
        e.mixer.as_mut().unwrap().share = 0.2;
        score(&mut e);
        assert!((e.confidence - 0.9).abs() < 1e-12);
        let mut e = ep();
        e.kind = "service";
        e.coinjoin = Some(crate::report::CoinJoinView {
            tx: "t".into(),
            confidence: 0.9,
            stopped: true,
            tainted: 50,
            share: 1.0,
        });
        score(&mut e);
        assert_eq!(e.confidence, 1.0);
        // passed through: a sure CoinJoin halves what crossed it
        e.coinjoin.as_mut().unwrap().stopped = false;
        score(&mut e);
        assert!((e.confidence - 0.55).abs() < 1e-12);
        e.coinjoin.as_mut().unwrap().share = 0.5;
        score(&mut e);
        assert!((e.confidence - 0.775).abs() < 1e-12);
    }
}
