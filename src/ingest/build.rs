//! Build a `Ledger` from parsed records: resolve, de-duplicate, intern, sort.

use super::raw::Raw;
use super::{Loc, Reject};
use crate::ledger::Ledger;
use std::path::PathBuf;

pub struct Built {
    pub ledger: Ledger,
    pub rejects: Vec<Reject>,
}

pub fn build(_raws: Vec<(Raw, Loc)>, _paths: &[PathBuf]) -> Result<Built, Reject> {
    Ok(Built { ledger: Ledger::default(), rejects: Vec::new() })
}
