//! Peel-chain detection and summaries.
