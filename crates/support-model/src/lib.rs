//! Multi-class text classification for support tickets (Spanish and English).
//!
//! - [`train`] fits a [`Model`] on `(text, label)` [`Example`]s: hashed word
//!   uni/bigrams and in-word character 2–5-grams over folded tokens, sublinear
//!   TF-IDF, L2 normalization, and multinomial logistic regression with L2
//!   regularization minimized by L-BFGS (the same objective as scikit-learn's
//!   `LogisticRegression`).
//! - [`Model::predict`] ranks every label with its probability;
//!   [`Model::explain`] names the words and phrases that pushed towards a label.
//! - [`Model::to_bytes`] / [`Model::from_bytes`]: a small versioned,
//!   checksummed file (int8 weights) fit for `include_bytes!`.
//! - [`metrics`] scores labelled predictions of any classifier;
//!   [`load_examples`] reads CSV or JSON Lines training data.
//!
//! ```
//! use support_model::{train, Example, Model, TrainOptions};
//! let examples: Vec<Example> = [
//!     ("I want my money back", "refund"), ("quiero un reembolso", "refund"),
//!     ("refund my order please", "refund"), ("devolución del dinero", "refund"),
//!     ("I cannot log in", "access"), ("no puedo entrar a mi cuenta", "access"),
//!     ("password reset not working", "access"), ("olvidé mi contraseña", "access"),
//! ]
//! .into_iter()
//! .map(|(text, label)| Example { text: text.into(), label: label.into() })
//! .collect();
//! let model = train(&examples, &TrainOptions::default()).unwrap();
//! let model = Model::from_bytes(&model.to_bytes()).unwrap();
//! let prediction = model.predict("no puedo entrar, olvidé la contraseña");
//! assert_eq!(prediction.best().label, "access");
//! let reasons = model.explain("no puedo entrar, olvidé la contraseña", "access", 3).unwrap();
//! assert!(!reasons.is_empty());
//! ```

mod data;
mod error;
mod features;
mod format;
pub mod metrics;
mod model;
mod neighbours;
mod rows;
mod train;

pub use data::load_examples;
pub use error::{DataError, ModelError, TrainError};
pub use features::{FeatureKind, FeatureSettings};
pub use format::FORMAT_VERSION;
pub use model::{Analysis, Model, Prediction, Ranked, Reason};
pub use neighbours::{Neighbours, VoteSettings};
pub use train::{fit_multinomial, train, train_on_features, Example, TrainOptions};
