//! A record of every `/api/v1` request, so tests can assert what a client actually sent
//! (e.g. "the retry resent the same offset") rather than what it meant to send.

use std::collections::VecDeque;

use serde::Serialize;

/// Request bodies are cut at this many bytes.
const BODY_LIMIT: usize = 4096;
/// Oldest entries are dropped beyond this many, so a long benchmark cannot exhaust memory.
const MAX_ENTRIES: usize = 50_000;

/// One request as the simulator saw it.
#[derive(Clone, Debug, Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// The request body (lossy UTF-8), truncated to about 4 KB.
    pub body: String,
    /// When the request arrived, in simulated time (`YYYY-MM-DD HH:MM:SS`).
    pub at: String,
}

#[derive(Default)]
pub struct Journal {
    next_seq: u64,
    entries: VecDeque<JournalEntry>,
}

impl Journal {
    pub fn record(&mut self, method: &str, path: &str, query: &str, status: u16, body: &[u8], at: String) {
        self.next_seq += 1;
        let cut = &body[..body.len().min(BODY_LIMIT)];
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(JournalEntry {
            seq: self.next_seq,
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            status,
            body: String::from_utf8_lossy(cut).into_owned(),
            at,
        });
    }

    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries.iter().cloned().collect()
    }

    /// Forgets the entries; sequence numbers keep counting so old and new entries never collide.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
