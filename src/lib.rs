//! fundtrail: follow stolen cryptocurrency through exported ledger data,
//! exactly.
//!
//! Data flows one way: [`ingest`] turns exports into a [`ledger::Ledger`],
//! [`store`] saves and opens it, [`trace`] replays value flow from the seeds
//! under a taint policy, and [`report`] renders the result.

pub mod amount;
pub mod column;
pub mod eval;
pub mod heuristics;
pub mod ingest;
pub mod labels;
pub mod ledger;
pub mod model;
pub mod report;
mod runs;
pub mod store;
pub mod synth;
pub mod trace;
