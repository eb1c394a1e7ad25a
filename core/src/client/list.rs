//! Reading the reseller's enterprise list page by page, and finding an enterprise in it.

use super::http::Body;
use super::{Client, LIST_PAGE_SIZE, MAX_LIST_PAGES, check_id};
use crate::auth::TokenLevel;
use crate::config::Endpoint;
use crate::error::{Error, Result};
use crate::models::{EnterpriseSummary, decode_enterprise_list};
use tracing::Instrument as _;

impl Client {
    /// `GET /reseller/v3/getEnterprisesForReseller`: the reseller's enterprises, every page.
    ///
    /// The list's shape is ASSUMED (api-reference.md): a bare array is the whole list; a Spring
    /// page object (`{"content": [...], "number", "totalPages", "last"}`) is read page by page
    /// with `page=N&size=M` until its last page, at most [`MAX_LIST_PAGES`] pages (more is a
    /// `decode` error, as is a server that answers another page than the one asked for).
    pub async fn enterprises(&self, reseller_id: i64) -> Result<Vec<EnterpriseSummary>> {
        let mut all = Vec::new();
        self.enterprise_pages(reseller_id, |page| {
            all.extend(page);
            false
        })
        .await?;
        Ok(all)
    }

    /// Finds one of the reseller's enterprises by its exact name, reading pages until it is found.
    pub async fn find_enterprise(
        &self,
        reseller_id: i64,
        name: &str,
    ) -> Result<Option<EnterpriseSummary>> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("enterprise name must not be blank"));
        }
        let mut found = None;
        self.enterprise_pages(reseller_id, |page| {
            found = page.into_iter().find(|e| e.enterprise_name == name);
            found.is_some()
        })
        .await?;
        Ok(found)
    }

    /// Reads the enterprise list page by page, handing each to `take` until it returns true or
    /// the last page was read.
    async fn enterprise_pages(
        &self,
        reseller_id: i64,
        mut take: impl FnMut(Vec<EnterpriseSummary>) -> bool,
    ) -> Result<()> {
        check_id("reseller_id", reseller_id)?;
        for page in 0..MAX_LIST_PAGES {
            let query = [
                ("page", page.to_string()),
                ("size", LIST_PAGE_SIZE.to_string()),
            ];
            let span = tracing::debug_span!("ctt_call", endpoint = Endpoint::Enterprises.name());
            let answer = self
                .call_within_deadline(
                    Endpoint::Enterprises,
                    Some(reseller_id),
                    TokenLevel::Reseller,
                    Body::Empty,
                    &[],
                    &query,
                )
                .instrument(span)
                .await
                .map_err(|f| f.error)?;
            let paging = ListPaging::of(&answer.body);
            if let Some(number) = paging.number
                && number != i64::from(page)
            {
                return Err(Error::decode(format!(
                    "enterprise list answered page {number} when asked for page {page}: the server ignores the page parameter, so the list cannot be read whole"
                )));
            }
            let items = decode_enterprise_list(&answer.body)?;
            let empty = items.is_empty();
            if take(items) || empty || paging.is_last(page) {
                return Ok(());
            }
        }
        Err(Error::decode(format!(
            "enterprise list has more than {MAX_LIST_PAGES} pages of {LIST_PAGE_SIZE}; stopped reading"
        )))
    }
}

/// The paging fields of one enterprise-list answer (a Spring `Page`), where it has them.
#[derive(Debug, Default)]
struct ListPaging {
    /// The page's index, counted from 0.
    number: Option<i64>,
    total_pages: Option<i64>,
    last: Option<bool>,
}

impl ListPaging {
    fn of(body: &[u8]) -> ListPaging {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
        else {
            // A bare array (or a body the list decoder refuses): no paging.
            return ListPaging::default();
        };
        ListPaging {
            number: map.get("number").and_then(serde_json::Value::as_i64),
            total_pages: map.get("totalPages").and_then(serde_json::Value::as_i64),
            last: map.get("last").and_then(serde_json::Value::as_bool),
        }
    }

    /// True when `page` is the last: the answer says so, or it says nothing about more pages.
    fn is_last(&self, page: u32) -> bool {
        match (self.last, self.total_pages) {
            (Some(last), _) => last,
            (None, Some(total)) => i64::from(page) + 1 >= total,
            (None, None) => true,
        }
    }
}
