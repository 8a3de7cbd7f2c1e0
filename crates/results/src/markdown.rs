//! The one Markdown table writer of archbench's exports (`bench --export-markdown`, the
//! report's `summary.md`): every cell escaped, so a command or a label holding `|` stays in
//! its cell and a line break does not end the row.

/// One cell: `|` escaped as `\|` (GitHub's tables split on a bare one, even inside a code
/// span) and line breaks as spaces.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A table: a header row, an alignment row (`right` columns right-aligned, the rest left), and
/// the rows, each cell escaped with [`cell`]. Rows shorter than the header are padded.
pub fn table(headers: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let row = |cells: &mut dyn Iterator<Item = String>| {
        let cells: Vec<String> = cells.collect();
        format!("| {} |\n", cells.join(" | "))
    };
    out.push_str(&row(&mut headers.iter().map(|h| cell(h))));
    let align: Vec<&str> = (0..headers.len())
        .map(|i| if right.get(i).copied().unwrap_or(false) { "---:" } else { ":---" })
        .collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for r in rows {
        let mut cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        cells.resize(headers.len(), String::new());
        out.push_str(&row(&mut cells.into_iter()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_and_line_breaks_stay_in_their_cell() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(cell("two\nlines"), "two lines");
        let t = table(&["cmd", "n"], &[false, true], &[vec!["`x | y`".into(), "1".into()], vec![]]);
        assert_eq!(t, "| cmd | n |\n|:---|---:|\n| `x \\| y` | 1 |\n|  |  |\n");
    }
}
