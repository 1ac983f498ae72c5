//! A page of new records COPYed straight into the object table, converted and encoded
//! record by record while the COPY streams: the server inserts the start of the page
//! while the rest is still being encoded, instead of waiting for the whole page to be
//! converted first (see [`super::load`] for when a page goes this way).

use std::pin::pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures::SinkExt;
use tokio_postgres::types::{IsNull, ToSql, Type};

use super::StoreError;
use super::page_tx::PageTx;
use super::statements::Statements;
use super::types::{PgColumn, PgValue, column_value};
use crate::store::PageWrite;
use crate::store::columns::PageLayout;
use crate::store::types::quote_ident;

/// COPY data goes to the connection in parts of about this size: large enough that the
/// writes stay few (the driver's own writer hands over every 4 KiB), small enough that
/// the server starts inserting long before the page is encoded.
const CHUNK: usize = 64 * 1024;

/// The binary COPY header: signature, flags, no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Why a direct COPY did not load its page.
pub(super) enum DirectError {
    /// The page cannot go in this way (a stored or repeated Id, a decimal with no binary
    /// form): nothing was committed, the caller upserts it instead.
    Declined,
    Pg(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for DirectError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            DirectError::Declined
        } else {
            DirectError::Pg(e)
        }
    }
}

impl From<StoreError> for DirectError {
    fn from(e: StoreError) -> Self {
        DirectError::Store(e)
    }
}

/// Begin `tx` and COPY every upsert of `page` into `target` (the quoted object table), every column
/// given: a field a record lacks is NULL, as it would be for a new row inserted without
/// it. Returns the rows written. `fail_after` is the test hook of
/// [`crate::store::Store::fail_page_after`].
pub(super) async fn copy_new_rows(
    tx: &mut PageTx<'_>,
    statements: &mut Statements,
    target: &str,
    object: &str,
    page: &PageWrite<'_>,
    columns: &[PgColumn],
    fail_after: Option<usize>,
) -> Result<usize, DirectError> {
    let mut names = vec![quote_ident("Id")];
    names.extend(columns.iter().map(|c| quote_ident(&c.name)));
    // A table has at most 1 600 columns, so the count always fits.
    let fields = i16::try_from(names.len()).map_err(|_| DirectError::Declined)?;
    let copy = format!(
        "COPY {target} ({}) FROM STDIN (FORMAT binary)",
        names.join(", ")
    );
    let copy = statements.get(tx.client(), &copy).await?;
    let types: Vec<Type> = columns.iter().map(|c| c.ty.direct_wire()).collect();
    let layout = PageLayout::new(page.upserts, columns);
    let mut sink = pin!(tx.begin_copy::<Bytes>(&copy).await?);
    let mut buf = BytesMut::with_capacity(CHUNK + CHUNK / 4);
    buf.put_slice(HEADER);
    let mut written = 0usize;
    for record in page.upserts.iter() {
        if fail_after == Some(written) {
            return Err(StoreError::Injected.into());
        }
        let id = layout.id(object, record)?;
        buf.put_i16(fields);
        if !put_value(&mut buf, &PgValue::Text(id.into()), &Type::TEXT) {
            return Err(DirectError::Declined);
        }
        let mut next = 0;
        let mut declined = false;
        layout.values(object, id, record, columns, |index, v| {
            for _ in next..index {
                buf.put_i32(-1);
            }
            next = index + 1;
            let value = column_value(object, id, &columns[index], v)?;
            // A decimal without a binary form: the staging upsert's text cast decides
            // what it means.
            declined |= !put_value(&mut buf, &value, &types[index]);
            Ok(())
        })?;
        if declined {
            return Err(DirectError::Declined);
        }
        for _ in next..columns.len() {
            buf.put_i32(-1);
        }
        written += 1;
        if buf.len() >= CHUNK {
            sink.as_mut().send(buf.split().freeze()).await?;
        }
    }
    buf.put_i16(-1);
    sink.as_mut().send(buf.freeze()).await?;
    sink.as_mut().finish().await?;
    Ok(written)
}

/// One field: its length, then its binary form (`-1` and nothing for NULL). False when
/// the value has no binary form of that type.
fn put_value(buf: &mut BytesMut, value: &PgValue<'_>, ty: &Type) -> bool {
    let at = buf.len();
    buf.put_i32(-1);
    match value.to_sql_checked(ty, buf) {
        Ok(IsNull::Yes) => true,
        Ok(IsNull::No) => match i32::try_from(buf.len() - at - 4) {
            Ok(len) => {
                buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
                true
            }
            Err(_) => false,
        },
        Err(_) => false,
    }
}
