//! Why the agent could not answer.

/// An answer could not be produced. Never carries order data, so it is safe to show.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the question is not valid: {0}")]
    BadInput(String),
    #[error("Picqer could not be reached for the order lookup: {0}")]
    Picqer(#[from] kade_picqer::PicqerError),
    #[error("the catalogue mirror could not be read: {0}")]
    Store(#[from] kade_store::StoreError),
    #[error("the language model endpoint failed: {0}")]
    Llm(String),
}
