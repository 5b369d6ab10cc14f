//! Every stream tool's typed result: what it adds to a ticket under its key,
//! and what a later tool reads back with [`Ticket::result`](crate::Ticket::result).
//! One definition per result, shared by the tool that writes it, the tools
//! that read it, the schemas and the store.

pub mod answer;
pub mod category;
pub mod escalation;
pub mod priority;
pub mod route;
pub mod sentiment;
pub mod tags;

use std::any::Any;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use answer::Answer;
pub use category::Category;
pub use escalation::Escalation;
pub use priority::Priority;
pub use route::Route;
pub use sentiment::Sentiment;
pub use tags::Tags;

/// A tool's result and the one key of the ticket it is stored under.
pub trait ToolResult: Serialize + DeserializeOwned + Clone + Send + 'static {
    const KEY: &'static str;
}

/// What later tools read of a result: the fields they use, each optional and
/// borrowed from the record (see [`Ticket::reading`](crate::Ticket::reading)).
/// One per result, shared by every reader. In one process the reading is
/// taken from the typed result ([`Reading::of`]); across a pipe, from its JSON.
pub trait Reading<'a>: Deserialize<'a> {
    /// The result this reads.
    type Of: ToolResult;

    /// The reading of a result added in this process: what its JSON would give.
    fn of(result: &'a Self::Of) -> Self;
}

/// A result a stage added to the ticket in this process: kept typed for the
/// stages after it, and serialized once, when the record is written.
pub struct AddedResult {
    key: &'static str,
    value: Box<dyn Any + Send>,
    write: fn(&dyn Any, &mut Vec<u8>) -> serde_json::Result<()>,
}

impl AddedResult {
    pub fn new<T: Serialize + Send + 'static>(key: &'static str, value: T) -> Self {
        AddedResult {
            key,
            value: Box::new(value),
            write: |value, out| {
                let value = value
                    .downcast_ref::<T>()
                    .expect("an added result is written as the type it was added as");
                crate::json_out::write(value, out)
            },
        }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The result, if it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// Appends the result's compact JSON to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        (self.write)(self.value.as_ref(), out)
    }
}

impl fmt::Debug for AddedResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddedResult")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ToolResult for Sentiment {
    const KEY: &'static str = "sentiment";
}

impl ToolResult for Category {
    const KEY: &'static str = "category";
}

impl ToolResult for Tags {
    const KEY: &'static str = "tags";
}

impl ToolResult for Priority {
    const KEY: &'static str = "priority";
}

impl ToolResult for Route {
    const KEY: &'static str = "route";
}

impl ToolResult for Escalation {
    const KEY: &'static str = "escalation";
}
