//! support-ml-predict's model file (`--model FILE`): arbitrary bytes as a
//! model, and a model that loads predicting tickets, with and without the
//! load counts a ticket may carry. A bad file is an error naming what is
//! wrong, never a panic; a file that loads predicts every ticket.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use support_ml_predict::model::Model;
use support_ml_predict::{MlPredictConfig, Predictor};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::from_json("fuzz.model", data) else {
        return;
    };
    let predictor = Predictor::new(MlPredictConfig::default(), Some((model, "fuzz.model".into())), None);
    let tickets = [
        json!({"channel": "email", "category": "billing", "priority": "high", "created_at": "2026-11-24T09:30:00Z",
               "open_tickets": 12, "opened_last_day": 30}),
        json!({"category": {"name": "never seen"}, "created_at": "2026-11-24T23:59:00Z", "open_tickets": 1e300,
               "opened_last_day": -5}),
        json!({"number": "INC1", "opened_at": "2016-02-29 01:16", "category": "Category 55", "priority": "3 - Moderate"}),
    ];
    for ticket in tickets {
        let fields: Map<String, Value> = ticket.as_object().cloned().unwrap_or_default();
        let _ = predictor.predict(&fields);
    }
});
