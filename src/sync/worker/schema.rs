//! The org schema the worker publishes: describes through the cache, fields of objects
//! the operator opens, record counts for Review.

use super::*;

impl Worker {
    pub(super) async fn load_schema(&mut self, force: bool) {
        let (Some(client), Some(store)) = (self.client.clone(), self.store.clone()) else {
            self.event(
                EventLevel::Warn,
                "cannot load the schema: the source is not connected".into(),
            );
            return;
        };
        let now = self.now();
        let global = match describe_cache::global(&client, &store, now, force).await {
            Ok(g) => g,
            Err(e) => {
                self.event(
                    EventLevel::Error,
                    format!("schema could not be loaded: {e}"),
                );
                return;
            }
        };
        // Selected and on-demand objects get fields. Describes go out only while no run is
        // using the client (a composite describe among concurrent calls would blur quota
        // accounting); fields shown before stay until they can be fetched again.
        let mut wanted: BTreeSet<String> = self.source.objects.keys().cloned().collect();
        wanted.extend(self.on_demand.iter().cloned());
        let wanted: Vec<String> = wanted.into_iter().collect();
        let described = if self.running.is_none() {
            describe_cache::describes(&client, &store, &wanted, now, force)
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let described: Vec<_> = described.into_iter().filter_map(|(_, d)| d.ok()).collect();
        let mut schema = describe_cache::org_schema(&global, &described);
        if let Some(previous) = &self.schema {
            describe_cache::keep_known_fields(&mut schema, previous);
            if !force {
                describe_cache::keep_record_counts(&mut schema, previous);
            }
        }
        if self.running.is_none() {
            self.fill_record_counts(&client, &mut schema).await;
        }
        self.schema = Some(Arc::new(schema));
        self.event(
            EventLevel::Info,
            format!("schema loaded: {} objects", global.sobjects.len()),
        );
    }

    /// Remember `objects` as wanted and describe them now, or after the current run
    /// (see `load_schema` for why not during one). Without a schema yet, a full load
    /// includes them.
    pub(super) async fn describe_objects(&mut self, objects: Vec<String>) {
        let Some(schema) = self.schema.clone() else {
            self.on_demand.extend(objects);
            return self.load_schema(false).await;
        };
        for object in objects {
            if schema.objects.iter().any(|o| o.name == object) {
                self.on_demand.insert(object);
            } else {
                self.event(
                    EventLevel::Warn,
                    format!("cannot describe {object}: it is not a queryable object of this org; reload the schema if it was just created"),
                );
            }
        }
        if self.running.is_some() {
            self.event(
                EventLevel::Info,
                "requested fields will load when the current run finishes".into(),
            );
            return;
        }
        self.describe_on_demand().await;
    }

    /// Describe the on-demand objects the published schema has no fields for (one
    /// composite call per 25, none for cached describes) and publish the merged schema.
    pub(super) async fn describe_on_demand(&mut self) {
        let Some(schema) = self.schema.clone() else {
            return;
        };
        let missing: Vec<String> = schema
            .objects
            .iter()
            .filter(|o| o.fields.is_empty() && self.on_demand.contains(&o.name))
            .map(|o| o.name.clone())
            .collect();
        if missing.is_empty() {
            return;
        }
        let (Some(client), Some(store)) = (self.client.clone(), self.store.clone()) else {
            self.event(
                EventLevel::Warn,
                "cannot load fields: the source is not connected".into(),
            );
            return;
        };
        let now = self.now();
        let results = match describe_cache::describes(&client, &store, &missing, now, false).await {
            Ok(r) => r,
            Err(e) => {
                self.on_demand.retain(|o| !missing.contains(o));
                self.event(
                    EventLevel::Error,
                    format!(
                        "fields of {} could not be loaded: {e}; open the object again to retry",
                        missing.join(", ")
                    ),
                );
                let failed: Vec<(String, String)> =
                    missing.iter().map(|o| (o.clone(), e.to_string())).collect();
                self.schema = Some(Arc::new(describe_cache::with_load_errors(&schema, &failed)));
                return;
            }
        };
        let mut described = Vec::with_capacity(results.len());
        let mut failed = Vec::new();
        for (object, result) in results {
            match result {
                Ok(d) => described.push(d),
                Err(e) => {
                    self.on_demand.remove(&object);
                    self.event(
                        EventLevel::Warn,
                        format!("fields of {object} could not be loaded: {e}"),
                    );
                    failed.push((object, e.to_string()));
                }
            }
        }
        let mut merged = describe_cache::with_load_errors(
            &describe_cache::with_fields(&schema, &described),
            &failed,
        );
        self.fill_record_counts(&client, &mut merged).await;
        self.schema = Some(Arc::new(merged));
    }

    /// Review prices a backfill by record count: one `limits/recordCount` call covers every
    /// object whose count is not known yet, fields loaded or not (a preset may add objects
    /// never opened; a forced schema load refreshes them). A failure only leaves the counts
    /// unknown (the review says so), it never blocks the schema.
    pub(super) async fn fill_record_counts(
        &mut self,
        client: &Client,
        schema: &mut crate::model::OrgSchema,
    ) {
        let objects: Vec<String> = schema
            .objects
            .iter()
            .filter(|o| o.record_count.is_none())
            .map(|o| o.name.clone())
            .collect();
        if let Err(e) = record_counts::fill(client, schema, objects).await {
            self.event(
                EventLevel::Warn,
                format!("record counts could not be read ({e}); review shows them as unknown"),
            );
        }
    }
}
