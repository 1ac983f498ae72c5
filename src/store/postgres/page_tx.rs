//! A page's transaction begun together with its COPY. The driver's `Transaction` waits
//! for BEGIN's answer before anything else is sent: a round trip of its own per page, the
//! dearest one as the server has just gone idle after the previous commit.

use futures::FutureExt;
use tokio_postgres::{Client, CopyInSink, Error, Statement};

pub(super) struct PageTx<'c> {
    client: &'c Client,
    /// BEGIN was sent and neither COMMIT nor ROLLBACK yet.
    open: bool,
}

impl<'c> PageTx<'c> {
    pub(super) fn new(client: &'c Client) -> PageTx<'c> {
        PageTx {
            client,
            open: false,
        }
    }

    pub(super) fn client(&self) -> &'c Client {
        self.client
    }

    /// BEGIN, with the COPY `copy` sent right behind it. Only once BEGIN has succeeded is
    /// the sink handed out for rows; otherwise it is dropped before any row, which aborts
    /// the COPY, so no row can land outside the transaction.
    pub(super) async fn begin_copy<T>(&mut self, copy: &Statement) -> Result<CopyInSink<T>, Error>
    where
        T: bytes::Buf + 'static + Send,
    {
        self.open = true;
        let (begun, sink) = futures::join!(
            self.client.batch_execute("BEGIN"),
            self.client.copy_in(copy)
        );
        begun?;
        sink
    }

    pub(super) async fn commit(mut self) -> Result<(), Error> {
        self.open = false;
        self.client.batch_execute("COMMIT").await
    }
}

impl Drop for PageTx<'_> {
    /// An error or a declined page ends here without a commit. The ROLLBACK is queued on
    /// the connection ahead of anything sent later (one poll sends a request); its answer
    /// is not waited for, as the driver's own `Transaction` does.
    fn drop(&mut self) {
        if self.open {
            let _ = self.client.batch_execute("ROLLBACK").now_or_never();
        }
    }
}
