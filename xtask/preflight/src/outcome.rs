//! One check's verdict and how it is printed. A failure's text (what is wrong, then one `Fix:` line per
//! way out) is the same text that Terraform's preconditions in `infra/preflight.tf` print.

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Short name of the check (`lambda concurrency`).
    pub check: &'static str,
    /// Whether the first apply can get past this.
    pub ok: bool,
    /// What was found, with the figures.
    pub detail: String,
    /// On failure, each way to fix it: a command to run, or a line to put in the var-file.
    pub fixes: Vec<String>,
}

impl Outcome {
    /// A passed check.
    pub fn pass(check: &'static str, detail: String) -> Outcome {
        Outcome {
            check,
            ok: true,
            detail,
            fixes: Vec::new(),
        }
    }

    /// A failed check and its fixes.
    pub fn fail(check: &'static str, detail: String, fixes: Vec<String>) -> Outcome {
        Outcome {
            check,
            ok: false,
            detail,
            fixes,
        }
    }

    /// The detail, then `Fix: …` per fix, one per line.
    pub fn text(&self) -> String {
        let mut text = self.detail.clone();
        for fix in &self.fixes {
            text.push_str("\nFix: ");
            text.push_str(fix);
        }
        text
    }
}

/// Prints every outcome and the closing count; returns the number of failures.
pub fn report(outcomes: &[Outcome]) -> usize {
    for outcome in outcomes {
        let mark = if outcome.ok { "ok  " } else { "FAIL" };
        let text = outcome.text().replace('\n', "\n       ");
        println!("{mark} [{}] {text}", outcome.check);
    }
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    println!(
        "preflight: {} passed, {failed} failed",
        outcomes.len() - failed
    );
    failed
}

/// `aws service-quotas request-service-quota-increase …` for one quota.
pub fn quota_increase(service: &str, quota_code: &str, desired: i64, region: &str) -> String {
    format!(
        "aws service-quotas request-service-quota-increase --service-code {service} --quota-code {quota_code} --desired-value {desired} --region {region}"
    )
}
