//! Spreadsheet-safe CSV cells, for every `text/csv` answer.

/// Writes one CSV cell. A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or
/// a carriage return first) is prefixed with `'`, which spreadsheets show as text; a cell with a
/// comma, a quote or a line break is quoted.
pub fn cell(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = value.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if quoted {
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Writes one row of cells and its line end.
pub fn row<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    for (i, value) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        cell(out, value.as_ref());
    }
    out.push('\n');
}
