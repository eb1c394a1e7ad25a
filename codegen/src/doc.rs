//! Doc comments (Markdown, as rustdoc reads them) for the hosts: reST-style literals for Python,
//! rewrapped to the line width of each file.

/// Markdown to the docstring style of the Python package: `` `x` `` becomes ``` ``x`` ```,
/// intra-doc links become their text, and Rust paths (`Self::x`, `A::b`) read as Python's.
pub fn rst(md: &str) -> String {
    let md = links(md);
    let mut out = String::new();
    let mut parts = md.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        if i % 2 == 0 {
            let code = part
                .strip_prefix("Self::")
                .unwrap_or(part)
                .replace("::", ".");
            out.push_str("``");
            out.push_str(&code);
            out.push_str("``");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `[text](target)` and `[text]` as `text` (rustdoc's links mean nothing in the hosts).
pub fn links(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        let end = start + len;
        out.push_str(&rest[..start]);
        out.push_str(&rest[start + 1..end]);
        rest = &rest[end + 1..];
        if rest.starts_with('(')
            && let Some(close) = rest.find(')')
        {
            rest = &rest[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Paragraphs rewrapped to `width` columns (list items and indented lines kept as they are).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, para) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        let raw: Vec<&str> = para.lines().collect();
        if raw
            .iter()
            .any(|l| l.starts_with("- ") || l.starts_with("  "))
        {
            lines.extend(raw.iter().map(|l| l.trim_end().to_owned()));
            continue;
        }
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}
