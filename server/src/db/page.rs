//! One page of a console table as every paged route answers it: the rows of the page
//! asked for and how many match in all, counted under the same WHERE. Only the envelope:
//! what a page holds and how it is counted are the owning service's.

/// A page of rows and how many match in all.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub total: i64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<T>,
}
