//! Wakes projectors when the log changes: LISTEN on the channel every append notifies, reconnecting on failure.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use portal_commands::log::NOTIFY_CHANNEL;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// Starts listening in the background; the returned `Notify` is signalled on every commit to the log.
///
/// Notifications are only a hint to wake up early: runners also poll, so a lost notification delays, never loses.
pub fn spawn(config: Config) -> Arc<Notify> {
    let notify = Arc::new(Notify::new());
    let wake = Arc::clone(&notify);
    tokio::spawn(async move {
        loop {
            if let Err(error) = listen(&config, &wake).await {
                tracing::warn!(%error, "event listener disconnected; reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    notify
}

async fn listen(config: &Config, wake: &Notify) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let driver = tokio::spawn(stream.for_each(move |message| {
        if let Ok(AsyncMessage::Notification(_)) = message {
            let _ = sender.send(());
        }
        futures_util::future::ready(())
    }));
    client
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .await?;
    // Something may have been appended while we were not listening.
    wake.notify_waiters();
    while receiver.recv().await.is_some() {
        wake.notify_waiters();
    }
    drop(client);
    let _ = driver.await;
    Ok(())
}
