//! candle's embeddings against the weights' reference engine (vectors in
//! fixtures/reference.json, written by scripts/dev/embed-fixture.py): a wrong
//! decode of the 4-bit format, a wrong tokenizer or a wrong pooling cannot
//! reach cosine 0.999. Needs the model: `scripts/setup-models.sh`.

use support_embed::{cosine, Embedder, Role};

#[derive(serde::Deserialize)]
struct Case {
    role: String,
    text: String,
    vector: Vec<f32>,
}

fn embedder() -> Embedder {
    Embedder::open(None).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn embeddings_match_the_reference_engine() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("fixtures/reference.json")).expect("fixture parses");
    let embedder = embedder();
    let mut lowest = f32::INFINITY;
    for role in [Role::Query, Role::Passage] {
        let name = if role == Role::Query {
            "query"
        } else {
            "passage"
        };
        let cases: Vec<&Case> = cases.iter().filter(|c| c.role == name).collect();
        let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
        let vectors = embedder.embed(&texts, role).unwrap();
        for (case, vector) in cases.iter().zip(&vectors) {
            assert_eq!(vector.len(), 384);
            let similarity = cosine(vector, &case.vector);
            lowest = lowest.min(similarity);
            assert!(
                similarity >= 0.999,
                "{name} {:?}: cosine {similarity} with the reference",
                case.text
            );
        }
    }
    // The figure the README quotes: `cargo test -p support-embed --test reference -- --nocapture`.
    eprintln!("lowest cosine with the reference engine: {lowest:.5}");
}

#[test]
fn a_text_embeds_the_same_alone_and_in_a_padded_batch() {
    let embedder = embedder();
    let short = "hola";
    let batch = embedder
        .embed(
            &[
                short,
                "a much longer text that forces padding of the short one in its batch",
            ],
            Role::Query,
        )
        .unwrap();
    let alone = embedder.embed(&[short], Role::Query).unwrap();
    assert!(cosine(&batch[0], &alone[0]) > 0.9999);
}

#[test]
fn spanish_question_is_nearest_to_its_english_answer() {
    let embedder = embedder();
    let query = embedder
        .embed(&["¿Cuánto tarda en llegar mi reembolso?"], Role::Query)
        .unwrap();
    let articles = embedder
        .embed(
            &[
                "Refunds take 5 to 10 business days to reach your bank account.",
                "To change your password, open Settings and choose Security.",
                "Our app supports dark mode on Android and iOS.",
            ],
            Role::Passage,
        )
        .unwrap();
    let scores: Vec<f32> = articles.iter().map(|a| cosine(&query[0], a)).collect();
    assert!(scores[0] > scores[1] && scores[0] > scores[2], "{scores:?}");
}

#[test]
fn a_missing_model_names_the_command_that_installs_it() {
    let err = Embedder::load(std::path::Path::new("/nonexistent/e5"))
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(message.contains("scripts/setup-models.sh"), "{message}");
    assert!(message.contains("/nonexistent/e5"), "{message}");
}
