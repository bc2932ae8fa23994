//! Splitting a file's text into record texts with their line numbers, without
//! parsing them: JSON lines, a JSON array, one pretty-printed object, and the
//! envelopes that wrap records (`{"status","message","result":[..]}` from
//! Etherscan, `{"result":..,"error":..,"id":..}` from JSON-RPC).

/// A byte range of the file text.
pub type Span = (usize, usize);

/// Maps byte offsets to 1-based line numbers.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()));
        LineIndex { starts }
    }
    pub fn line_of(&self, offset: usize) -> u64 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    }
}

fn memchr_newlines(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', b).map(|i| i + 1)
}

/// Why the text could not be split into JSON values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    pub offset: usize,
    pub message: String,
}

fn skip_ws(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// End (exclusive) of the JSON value starting at `i`, by bracket and string
/// matching only. Scalars end at the next delimiter.
fn value_end(b: &[u8], i: usize, end: usize) -> Result<usize, SplitError> {
    let err = |offset: usize, m: &str| SplitError {
        offset,
        message: m.to_string(),
    };
    match b[i] {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < end {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j, end).ok_or_else(|| err(j, "unterminated string"))?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    b'\n'
                        if depth == 1 && b[i] == b'{' && looks_like_next_record(b, j + 1, end) =>
                    {
                        // A JSON-lines record cut short: do not swallow the next line.
                        return Err(err(i, "record is not complete JSON (unbalanced braces)"));
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(err(i, "record is not complete JSON (unbalanced braces)"))
        }
        b'"' => string_end(b, i, end).ok_or_else(|| err(i, "unterminated string")),
        _ => {
            let mut j = i;
            while j < end && !matches!(b[j], b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}') {
                j += 1;
            }
            if j == i {
                // a stray `,`, `]` or `}`: no value starts here
                return Err(err(i, &format!("unexpected `{}`", b[i] as char)));
            }
            Ok(j)
        }
    }
}

/// A line that starts with `{"` right after a newline at depth 1 is the next
/// JSON-lines record; pretty-printed objects indent their keys.
fn looks_like_next_record(b: &[u8], j: usize, end: usize) -> bool {
    j + 1 < end && b[j] == b'{' && b[j + 1] == b'"'
}

fn string_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < end {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            b'\n' => return None,
            _ => j += 1,
        }
    }
    None
}

/// Top-level values of `text[span]`: one per JSON line, or one for a single
/// (pretty-printed) document. A line that is not JSON yields an error span so
/// the caller can reject just that line and go on.
pub fn top_level_values(text: &str, span: Span) -> Vec<Result<Span, SplitError>> {
    let b = text.as_bytes();
    let (mut i, end) = span;
    let mut out = Vec::new();
    loop {
        i = skip_ws(b, i, end);
        if i >= end {
            break;
        }
        match value_end(b, i, end) {
            Ok(j) => {
                out.push(Ok((i, j)));
                i = j;
            }
            Err(e) => {
                out.push(Err(e));
                // resume at the next line
                match b[i..end].iter().position(|c| *c == b'\n') {
                    Some(p) => i += p + 1,
                    None => break,
                }
            }
        }
    }
    out
}

/// Elements of the JSON array at `span` (which must start with `[`).
pub fn array_elements(text: &str, span: Span) -> Result<Vec<Span>, SplitError> {
    let b = text.as_bytes();
    let (start, end) = span;
    let mut i = skip_ws(b, start + 1, end);
    let mut out = Vec::new();
    if i < end && b[i] == b']' {
        return Ok(out);
    }
    while i < end {
        let j = value_end(b, i, end)?;
        out.push((i, j));
        i = skip_ws(b, j, end);
        if i < end && b[i] == b',' {
            i = skip_ws(b, i + 1, end);
        } else if i < end && b[i] == b']' {
            return Ok(out);
        } else {
            return Err(SplitError {
                offset: i,
                message: "expected `,` or `]` in array".into(),
            });
        }
    }
    Err(SplitError {
        offset: start,
        message: "unterminated array".into(),
    })
}

/// The span of the value of `key` directly inside the object at `span`.
pub fn object_field(text: &str, span: Span, key: &str) -> Option<Span> {
    let b = text.as_bytes();
    let (start, end) = span;
    if b.get(start) != Some(&b'{') {
        return None;
    }
    let mut i = skip_ws(b, start + 1, end);
    while i < end && b[i] == b'"' {
        let k_end = string_end(b, i, end)?;
        let k = &text[i + 1..k_end - 1];
        i = skip_ws(b, k_end, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1, end);
        let v_end = value_end(b, i, end).ok()?;
        if k == key {
            return Some((i, v_end));
        }
        i = skip_ws(b, v_end, end);
        if i < end && b[i] == b',' {
            i = skip_ws(b, i + 1, end);
        } else {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_and_lines() {
        let t = "{\"a\":1}\n{\"b\":\"}\"}\n\n{\"c\":[1,2]}\n";
        let v: Vec<_> = top_level_values(t, (0, t.len()))
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(v.len(), 3);
        let idx = LineIndex::new(t);
        assert_eq!(idx.line_of(v[2].0), 4);
        assert_eq!(&t[v[1].0..v[1].1], "{\"b\":\"}\"}");
    }

    #[test]
    fn a_broken_line_is_one_error_and_the_rest_goes_on() {
        let t = "{\"a\":1}\n{\"b\":2\n{\"c\":3}\n";
        let v = top_level_values(t, (0, t.len()));
        assert_eq!(v.len(), 3);
        assert!(v[0].is_ok() && v[1].is_err() && v[2].is_ok());
    }

    #[test]
    fn text_that_is_not_json_ends_in_errors_not_a_loop() {
        let t = "address,category,label\n1Alice,exchange,x\n}\n";
        let v = top_level_values(t, (0, t.len()));
        assert!(v.iter().any(|r| r.is_err()));
        assert!(v.len() <= 6);
    }

    #[test]
    fn arrays_and_fields() {
        let t = "{\n \"status\": \"1\",\n \"result\": [\n  {\"x\": 1},\n  {\"y\": [2]}\n ]\n}";
        let r = object_field(t, (0, t.len()), "result").unwrap();
        let els = array_elements(t, r).unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!(LineIndex::new(t).line_of(els[1].0), 5);
        assert_eq!(
            object_field(t, (0, t.len()), "status").map(|s| &t[s.0..s.1]),
            Some("\"1\"")
        );
    }
}

/// Whether the text starts with a whole JSON object alone on its first line
/// (so it is JSON lines, not a pretty-printed object or an array).
pub fn first_line_is_object(b: &[u8]) -> bool {
    let first = skip_ws(b, 0, b.len());
    if b.get(first) != Some(&b'{') {
        return false;
    }
    let end = memchr::memchr(b'\n', &b[first..])
        .map(|p| first + p)
        .unwrap_or(b.len());
    matches!(value_end(b, first, end), Ok(j) if skip_ws(b, j, end) == end)
}

#[cfg(test)]
mod first_line_tests {
    use super::*;

    #[test]
    fn json_lines_are_told_from_pretty_objects_and_arrays() {
        assert!(first_line_is_object(b"{\"a\":1}\n{\"b\":2}\n"));
        assert!(first_line_is_object(b"\n  {\"a\":{\"x\":[1]}}\r\n"));
        assert!(!first_line_is_object(b"{\n  \"a\": 1\n}\n"));
        assert!(!first_line_is_object(b"[{\"a\":1}]"));
        assert!(!first_line_is_object(b"{\"a\":1"));
    }
}
