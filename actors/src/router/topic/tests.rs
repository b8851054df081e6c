use super::*;

fn problem(input: &str, kind: Kind) -> TopicProblem {
    let err = match kind {
        Kind::Topic => Topic::new(input).unwrap_err(),
        Kind::Pattern => TopicPattern::new(input).unwrap_err(),
    };
    err.problem().clone()
}

#[test]
fn accepts_topics_and_patterns_in_nats_syntax() {
    for topic in ["a", "market.eu.btc", "A-b_c.9", &"x.".repeat(31).add("y")] {
        assert!(Topic::new(topic).is_ok(), "{topic}");
        assert!(TopicPattern::new(topic).is_ok(), "{topic}");
    }
    for pattern in ["*", ">", "a.*", "a.>", "*.*.>", "a.*.c"] {
        assert!(TopicPattern::new(pattern).is_ok(), "{pattern}");
    }
}

trait Add {
    fn add(self, tail: &str) -> String;
}

impl Add for String {
    fn add(mut self, tail: &str) -> String {
        self.push_str(tail);
        self
    }
}

#[test]
fn rejects_each_problem_with_its_position() {
    use TopicProblem as P;
    let cases = [
        ("", Kind::Topic, P::Empty),
        ("a..b", Kind::Topic, P::EmptyToken { position: 2 }),
        (".a", Kind::Pattern, P::EmptyToken { position: 1 }),
        ("a.", Kind::Pattern, P::EmptyToken { position: 2 }),
        (
            "a.b c",
            Kind::Topic,
            P::InvalidChar {
                position: 2,
                found: ' ',
            },
        ),
        (
            "a.é",
            Kind::Topic,
            P::InvalidChar {
                position: 2,
                found: 'é',
            },
        ),
        ("a.*", Kind::Topic, P::WildcardInTopic { position: 2 }),
        (">", Kind::Topic, P::WildcardInTopic { position: 1 }),
        ("a.b*", Kind::Pattern, P::PartialWildcard { position: 2 }),
        ("a>.b", Kind::Topic, P::PartialWildcard { position: 1 }),
        ("a.>.c", Kind::Pattern, P::RestNotLast { position: 2 }),
    ];
    for (input, kind, expected) in cases {
        assert_eq!(problem(input, kind), expected, "{input:?}");
    }
}

#[test]
fn rejects_topics_over_the_limits() {
    let long = "a".repeat(MAX_TOPIC_LEN + 1);
    assert_eq!(
        problem(&long, Kind::Topic),
        TopicProblem::TooLong {
            len: MAX_TOPIC_LEN + 1
        }
    );
    let many = vec!["a"; MAX_TOKENS + 1].join(".");
    assert_eq!(
        problem(&many, Kind::Pattern),
        TopicProblem::TooManyTokens {
            count: MAX_TOKENS + 1
        }
    );
    let err = Topic::new(&"é".repeat(200)).unwrap_err();
    assert!(err.input().len() <= MAX_TOPIC_LEN, "kept input is cut");
}

#[test]
fn errors_say_what_is_wrong_and_where() {
    let err = TopicPattern::new("market.>.btc").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid topic `market.>.btc`: token 2 is `>`, which may only be the last token"
    );
    let err = Topic::new("market.*").unwrap_err();
    assert!(
        err.to_string().contains("wildcards are for subscriptions"),
        "{err}"
    );
}

#[test]
fn a_pattern_matches_by_its_tokens() {
    let matches = |pattern: &str, topic: &str| {
        TopicPattern::new(pattern)
            .unwrap()
            .matches(&Topic::new(topic).unwrap())
    };
    assert!(matches("a.b", "a.b"));
    assert!(!matches("a.b", "a.b.c"));
    assert!(!matches("a.b.c", "a.b"));
    assert!(matches("a.*", "a.x"));
    assert!(!matches("a.*", "a.x.y"));
    assert!(matches("a.>", "a.x.y"));
    assert!(!matches("a.>", "a"));
    assert!(matches(">", "anything.at.all"));
    assert!(matches("*.b.>", "x.b.c"));
    assert!(!matches("*.b.>", "x.c.c"));
}
