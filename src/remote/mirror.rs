//! The client's copy of the daemon's state: snapshots completed with their schemas and run
//! histories.
//!
//! Schemas and histories travel separately from snapshots (see `protocol`), so the mirror
//! holds a snapshot back until what it lists is fetched, then publishes it with
//! `SourceSnapshot::schema` and `history` filled in — exactly what the in-process engine
//! publishes, so code reading snapshots cannot tell local from attached.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::oneshot;

use super::protocol::ClientMessage;
use crate::model::{HistoryRun, OrgSchema, Snapshot};

pub(crate) type SchemaReply = oneshot::Sender<Option<Arc<OrgSchema>>>;

/// A source's generation with what came for it: its schema and its run history.
type Beside = (u64, Option<Arc<OrgSchema>>, Arc<Vec<HistoryRun>>);

#[derive(Default)]
pub(crate) struct Mirror {
    /// The newest snapshot received and not yet published, with its schema generations.
    pending: Option<(Snapshot, BTreeMap<String, u64>)>,
    /// Source → newest generation received, with its schema (`None` if the source has
    /// none or the daemon could not send it) and its run history.
    schemas: HashMap<String, Beside>,
    /// Source → (generation, request id) of the schema fetch in flight for completion.
    in_flight: HashMap<String, (u64, u64)>,
    /// Explicit `SchemaFetcher::fetch` calls awaiting their reply.
    waiters: HashMap<u64, SchemaReply>,
    last_request: u64,
}

impl Mirror {
    /// Take a snapshot from the daemon; returns the schema requests to send.
    pub(crate) fn on_snapshot(
        &mut self,
        snapshot: Snapshot,
        generations: BTreeMap<String, u64>,
    ) -> Vec<ClientMessage> {
        self.schemas
            .retain(|source, _| generations.contains_key(source));
        let mut requests = Vec::new();
        for (source, &generation) in &generations {
            let have = self
                .schemas
                .get(source)
                .is_some_and(|(g, _, _)| *g >= generation);
            let asked = self
                .in_flight
                .get(source)
                .is_some_and(|(g, _)| *g >= generation);
            if !have && !asked {
                let request = self.next_request();
                self.in_flight.insert(source.clone(), (generation, request));
                requests.push(ClientMessage::GetSchema {
                    request,
                    source: source.clone(),
                });
            }
        }
        self.pending = Some((snapshot, generations));
        requests
    }

    /// Take a schema reply, for completion or for an explicit fetch.
    pub(crate) fn on_schema(
        &mut self,
        request: u64,
        source: String,
        generation: Option<u64>,
        schema: Option<Arc<OrgSchema>>,
        history: Arc<Vec<HistoryRun>>,
    ) {
        if let Some(waiter) = self.waiters.remove(&request) {
            // The caller may have given up waiting; nothing to do then.
            let _ = waiter.send(schema.clone());
        }
        if self
            .in_flight
            .get(&source)
            .is_some_and(|(_, r)| *r == request)
        {
            self.in_flight.remove(&source);
        }
        let Some(generation) = generation else {
            return;
        };
        let newer = self
            .schemas
            .get(&source)
            .is_none_or(|(known, _, _)| generation > *known);
        if newer {
            self.schemas.insert(source, (generation, schema, history));
        }
    }

    /// Register an explicit fetch; returns the request to send.
    pub(crate) fn fetch(&mut self, source: String, reply: SchemaReply) -> ClientMessage {
        let request = self.next_request();
        self.waiters.insert(request, reply);
        ClientMessage::GetSchema { request, source }
    }

    /// The pending snapshot, schemas filled in, once every schema it lists has arrived.
    pub(crate) fn take_complete(&mut self) -> Option<Snapshot> {
        let (_, generations) = self.pending.as_ref()?;
        let complete = generations.iter().all(|(source, generation)| {
            self.schemas
                .get(source)
                .is_some_and(|(g, _, _)| g >= generation)
        });
        if !complete {
            return None;
        }
        let (mut snapshot, generations) = self.pending.take()?;
        for source in &mut snapshot.sources {
            let beside = generations
                .contains_key(&source.id)
                .then(|| self.schemas.get(&source.id))
                .flatten();
            source.schema = beside.and_then(|(_, schema, _)| schema.clone());
            source.history = beside.map(|(_, _, h)| h.clone()).unwrap_or_default();
        }
        Some(snapshot)
    }

    fn next_request(&mut self) -> u64 {
        self.last_request += 1;
        self.last_request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::test_support::{history, schema, snapshot};

    fn requested(messages: &[ClientMessage]) -> Vec<(u64, String)> {
        messages
            .iter()
            .map(|m| match m {
                ClientMessage::GetSchema { request, source } => (*request, source.clone()),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn snapshots_without_schemas_publish_at_once() {
        let mut mirror = Mirror::default();
        assert!(
            mirror
                .on_snapshot(snapshot(1, &["a"]), BTreeMap::new())
                .is_empty()
        );
        assert_eq!(mirror.take_complete().map(|s| s.version), Some(1));
        assert!(mirror.take_complete().is_none(), "published once");
    }

    #[test]
    fn a_snapshot_waits_for_its_schema_then_carries_it() {
        let mut mirror = Mirror::default();
        let gens = BTreeMap::from([("a".to_owned(), 5)]);
        let asks = requested(&mirror.on_snapshot(snapshot(1, &["a", "b"]), gens.clone()));
        assert_eq!(asks, vec![(1, "a".to_owned())]);
        assert!(mirror.take_complete().is_none());
        // A newer snapshot with the same generation does not ask again and replaces the old.
        assert!(
            mirror
                .on_snapshot(snapshot(2, &["a", "b"]), gens)
                .is_empty()
        );
        mirror.on_schema(1, "a".into(), Some(5), schema("Account"), Arc::default());
        let published = mirror.take_complete().unwrap();
        assert_eq!(published.version, 2);
        assert_eq!(published.sources[0].schema, schema("Account"));
        assert_eq!(published.sources[1].schema, None);
    }

    #[test]
    fn a_new_generation_is_fetched_and_a_dropped_schema_forgotten() {
        let mut mirror = Mirror::default();
        mirror.on_snapshot(snapshot(1, &["a"]), BTreeMap::from([("a".to_owned(), 1)]));
        mirror.on_schema(1, "a".into(), Some(1), schema("Account"), Arc::default());
        assert!(mirror.take_complete().is_some());
        let asks = mirror.on_snapshot(snapshot(2, &["a"]), BTreeMap::from([("a".to_owned(), 2)]));
        assert_eq!(requested(&asks), vec![(2, "a".to_owned())]);
        mirror.on_schema(2, "a".into(), Some(2), schema("Contact"), Arc::default());
        assert_eq!(
            mirror.take_complete().unwrap().sources[0].schema,
            schema("Contact")
        );
        assert!(
            mirror
                .on_snapshot(snapshot(3, &["a"]), BTreeMap::new())
                .is_empty()
        );
        assert_eq!(mirror.take_complete().unwrap().sources[0].schema, None);
    }

    #[test]
    fn a_history_arrives_beside_the_snapshot_and_is_filled_in() {
        let mut mirror = Mirror::default();
        let gens = BTreeMap::from([("a".to_owned(), 1)]);
        let asks = requested(&mirror.on_snapshot(snapshot(1, &["a", "b"]), gens));
        assert_eq!(asks, vec![(1, "a".to_owned())]);
        mirror.on_schema(1, "a".into(), Some(1), None, history(7));
        let published = mirror.take_complete().unwrap();
        assert_eq!(published.sources[0].history, history(7));
        assert_eq!(published.sources[0].schema, None);
        assert!(published.sources[1].history.is_empty());
        // Later snapshots of the same generation carry the history without asking again.
        let gens = BTreeMap::from([("a".to_owned(), 1)]);
        assert!(mirror.on_snapshot(snapshot(2, &["a"]), gens).is_empty());
        assert_eq!(
            mirror.take_complete().unwrap().sources[0].history,
            history(7)
        );
    }

    #[test]
    fn explicit_fetches_get_their_own_reply() {
        let mut mirror = Mirror::default();
        let (tx, mut rx) = oneshot::channel();
        let ClientMessage::GetSchema { request, source } = mirror.fetch("a".into(), tx) else {
            panic!("not a schema request");
        };
        assert_eq!(source, "a");
        mirror.on_schema(request, source, Some(4), schema("Lead"), Arc::default());
        assert_eq!(rx.try_recv().unwrap(), schema("Lead"));
    }
}
