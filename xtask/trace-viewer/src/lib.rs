//! `cargo xtask trace <order-id | trace-id> [spans file]`: an order's trace from the native stack's span file
//! (target/local-stack/spans.jsonl, written by otlp-sink) as a waterfall, what Jaeger shows compose users.

mod spans;
mod waterfall;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Prints every trace `id` names (one for a trace id; each trace that touched the order for an order id).
pub fn trace(root: &Path, args: &[String]) -> Result<()> {
    let (id, file) = match args {
        [id] => (id, root.join("target/local-stack/spans.jsonl")),
        [id, file] => (id, PathBuf::from(file)),
        _ => bail!("usage: cargo xtask trace <order-id | trace-id> [spans file]"),
    };
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "Failed to read {} (is the stack running? `cargo xtask up` writes it)",
            file.display()
        )
    })?;
    print!("{}", show(&text, id)?);
    Ok(())
}

/// The waterfalls of the traces `id` names in the span file's `text`.
fn show(text: &str, id: &str) -> Result<String> {
    let spans = spans::parse(text)?;
    let mut out = String::new();
    for trace in spans::find(&spans, id)? {
        let rows = waterfall::rows(&trace)?;
        out.push_str(&waterfall::render(&trace[0].trace_id, &rows));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
