//! Offset pagination: Picqer returns bare arrays of at most 100 items and no total count.

use std::marker::PhantomData;

use futures_util::Stream;
use serde::de::DeserializeOwned;

use crate::error::PicqerError;
use kade_transport::Request;

use crate::transport::PicqerClient;

/// Picqer's fixed page size.
pub const PAGE_SIZE: usize = 100;

/// Walks a list endpoint page by page. The end is a page shorter than [`PAGE_SIZE`] (possibly
/// empty). [`Pager::offset`] is the resume point: store it, and [`Pager::starting_at`] continues an
/// interrupted sync where it stopped.
pub struct Pager<T> {
    client: PicqerClient,
    path: String,
    query: Vec<(String, String)>,
    offset: u64,
    done: bool,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    pub(crate) fn new(client: PicqerClient, path: impl Into<String>, query: Vec<(String, String)>) -> Self {
        Pager { client, path: path.into(), query, offset: 0, done: false, _item: PhantomData }
    }

    /// Continue from `offset` (a value previously read from [`Pager::offset`]).
    pub fn starting_at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The offset of the next page to fetch.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the last page has been read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fetches the next page; `None` once the list is exhausted.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, PicqerError> {
        if self.done {
            return Ok(None);
        }
        let mut query = self.query.clone();
        query.push(("offset".into(), self.offset.to_string()));
        let page: Vec<T> = self.client.send_json(Request::get(self.path.clone()).query(query)).await?;
        if page.len() < PAGE_SIZE {
            self.done = true;
        }
        self.offset += page.len() as u64;
        Ok(Some(page))
    }

    /// Every remaining item, in order.
    pub async fn collect_all(mut self) -> Result<Vec<T>, PicqerError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// The remaining items as a stream; it ends after the first short page, or after an error.
    pub fn into_stream(self) -> impl Stream<Item = Result<T, PicqerError>> {
        futures_util::stream::unfold(
            (self, std::collections::VecDeque::new(), false),
            |(mut pager, mut buf, failed)| async move {
                if failed {
                    return None;
                }
                loop {
                    if let Some(item) = buf.pop_front() {
                        return Some((Ok(item), (pager, buf, false)));
                    }
                    match pager.next_page().await {
                        Ok(Some(page)) => buf.extend(page),
                        Ok(None) => return None,
                        Err(e) => return Some((Err(e), (pager, buf, true))),
                    }
                }
            },
        )
    }
}
