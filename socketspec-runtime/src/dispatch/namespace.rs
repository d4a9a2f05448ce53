//! [`Namespace`]: what the dispatch of one spec needs at run time, whatever
//! the app's type: its event table, validators, metrics and rooms.

use std::sync::Arc;

use super::event_table::EventTable;
use super::validate::Validators;
use crate::hub::Hub;
use crate::meta::AppMeta;
use crate::metrics::{EventMetrics, Metrics};
use crate::rooms::Rooms;

/// One spec's dispatch state.
pub(crate) struct Namespace {
    pub(crate) meta: &'static AppMeta,
    pub(crate) events: EventTable,
    pub(crate) validators: Validators,
    pub(crate) event_metrics: EventMetrics,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) rooms: Arc<Rooms>,
    /// The server's shared state (what `EventContext::server` shows).
    pub(crate) hub: Arc<Hub>,
}

impl Namespace {
    /// The namespace's name (`/`, `/ops`).
    pub(crate) fn name(&self) -> &'static str {
        self.meta.namespace
    }

    /// The name of event `index`.
    pub(crate) fn event_name(&self, index: usize) -> &'static str {
        self.meta.events.get(index).map_or("", |e| e.name)
    }
}
