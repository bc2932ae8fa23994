//! Parser stub: filled in by the format's implementation.

use super::raw::{FieldError, Raw};

/// Parse one record's JSON text into normalised records.
pub fn parse(_text: &str, _out: &mut Vec<Raw>) -> Result<(), FieldError> {
    Err(FieldError::new("", "format not implemented yet"))
}
