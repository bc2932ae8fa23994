//! The parse floor's record, shared by the benches: a native-format line,
//! typed and borrowed, with the fields fundtrail's native parser reads. A
//! parse into it builds nothing, which is what makes it the floor.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct NativeRec<'a> {
    pub kind: &'a str,
    pub block: u64,
    pub time: Option<u64>,
    pub tx: Option<&'a str>,
    pub tx_index: Option<u32>,
    pub seq: Option<u32>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub asset: &'a str,
    #[serde(borrow)]
    pub amount: &'a RawValue,
}
