//! Record counts for Review's cost estimate and `syncdeck fields list`: one
//! `limits/recordCount` call fills the counts of the objects asked for.

use crate::model::OrgSchema;
use crate::salesforce::{self, Client};

/// Longest object list sent to `limits/recordCount`; longer lists ask for every object.
const RECORD_COUNT_LIST_BYTES: usize = 4_000;

/// Fill `schema`'s record counts of `objects` (one call; none when `objects` is empty). A
/// failure leaves the counts unknown: callers report it, it never blocks the schema.
pub(crate) async fn fill(
    client: &Client,
    schema: &mut OrgSchema,
    mut objects: Vec<String>,
) -> Result<(), salesforce::Error> {
    if objects.is_empty() {
        return Ok(());
    }
    // A long list would not fit the request URL: an empty one asks for every object.
    if objects.iter().map(|o| o.len() + 1).sum::<usize>() > RECORD_COUNT_LIST_BYTES {
        objects.clear();
    }
    let counts = client.record_count(&objects).await?;
    for count in counts.sobjects {
        if let Some(o) = schema.objects.iter_mut().find(|o| o.name == count.name) {
            o.record_count = Some(count.count);
        }
    }
    Ok(())
}
