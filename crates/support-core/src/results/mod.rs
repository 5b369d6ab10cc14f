//! Every stream tool's typed result: what it adds to a ticket under its key,
//! and what a later tool reads back with [`Ticket::result`](crate::Ticket::result).
//! One definition per result, shared by the tool that writes it, the tools
//! that read it, the schemas and the store.

pub mod category;
pub mod escalation;
pub mod priority;
pub mod route;
pub mod sentiment;
pub mod tags;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use category::Category;
pub use escalation::Escalation;
pub use priority::Priority;
pub use route::Route;
pub use sentiment::Sentiment;
pub use tags::Tags;

/// A tool's result and the one key of the ticket it is stored under.
pub trait ToolResult: Serialize + DeserializeOwned {
    const KEY: &'static str;
}

/// What later tools read of a result: the fields they use, each optional and
/// borrowed from the record (see [`Ticket::reading`](crate::Ticket::reading)).
/// One per result, shared by every reader.
pub trait Reading<'a>: Deserialize<'a> {
    const KEY: &'static str;
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
