use super::*;

const RANDOM: u128 = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef;

fn parts(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn a_request_without_a_header_gets_a_new_root_a_parent_and_a_decision() {
    let tracing = Tracing::new(SamplingRule::AWS_DEFAULT);

    let header = tracing.header_at(None, 0x6560_0000, 0.99, RANDOM);

    let parts = parts(&header);
    assert_eq!(
        parts[0],
        ("Root".into(), "1-65600000-0123456789abcdef01234567".into())
    );
    assert_eq!(parts[1], ("Parent".into(), "0123456789abcdef".into()));
    assert_eq!(
        parts[2],
        ("Sampled".into(), "1".into()),
        "the reservoir's first request"
    );
}

#[test]
fn the_default_rule_samples_one_request_a_second_then_five_percent() {
    let tracing = Tracing::new(SamplingRule::default());
    let sampled = |now, draw| {
        tracing
            .header_at(None, now, draw, RANDOM)
            .ends_with("Sampled=1")
    };

    assert!(sampled(10, 0.99));
    assert!(
        !sampled(10, 0.99),
        "the reservoir is used up for this second"
    );
    assert!(sampled(10, 0.04), "then 5 %");
    assert!(!sampled(10, 0.05));
    assert!(sampled(11, 0.99), "a new second, a new reservoir");
}

#[test]
fn a_rule_of_nothing_never_samples() {
    let tracing = Tracing::new(SamplingRule {
        reservoir_per_second: 0,
        fixed_rate: 0.0,
    });
    for now in 0..3 {
        assert!(
            tracing
                .header_at(None, now, 0.0, RANDOM)
                .ends_with("Sampled=0")
        );
    }
}

#[test]
fn a_clients_root_and_decision_pass_through_with_a_new_parent() {
    let tracing = Tracing::new(SamplingRule::AWS_DEFAULT);
    let client = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0";

    let header = tracing.header_at(Some(client), 10, 0.0, RANDOM);

    assert_eq!(
        header,
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0123456789abcdef;Sampled=0"
    );
    let undecided = tracing.header_at(
        Some("Root=1-5759e988-bd862e3fe1be46a994272793"),
        10,
        0.0,
        RANDOM,
    );
    assert!(undecided.starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;"));
    assert!(
        undecided.ends_with("Sampled=1"),
        "the rule decides: {undecided}"
    );
}

#[test]
fn a_malformed_client_header_is_replaced() {
    let tracing = Tracing::new(SamplingRule::AWS_DEFAULT);
    for garbage in ["Root=1-zz;Sampled=1", "Sampled=1", "garbage", ""] {
        let header = tracing.header_at(Some(garbage), 0x6560_0000, 0.99, RANDOM);
        assert!(
            header.starts_with("Root=1-65600000-0123456789abcdef01234567;"),
            "{garbage}: {header}"
        );
    }
}
